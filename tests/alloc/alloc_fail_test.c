/* Allocation-failure sweeps (SQLite/libuv style): for N = 1, 2, ... fail the
 * N-th allocation of one operation (transient: only that one; persistent:
 * that one and every later one) until the operation succeeds. Every run must
 * return LF_E_NO_MEMORY or LF_OK, leave *out NULL on failure, and give back
 * every block it took. The number of failure points per operation is
 * printed.
 *
 * Built twice: flags 0 (the library's own allocations), and with -DROUTE_DEPS
 * (LF_INIT_HOOK_DEPENDENCIES: libcurl's and cJSON's allocations fail too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lightfunnels/auth.h>

#include "counting_alloc.h"
#include "lf_test.h"

#ifdef ROUTE_DEPS
#define INIT_FLAGS LF_INIT_HOOK_DEPENDENCIES
#else
#define INIT_FLAGS 0u
#endif

#define MAX_N 2000
#define REDIRECT "https://app.example.test/cb"

static ts_pki *pki;
static ts_server *srv;
static char client_id[40], secret[80], token[64];
static const char *const uris[] = {REDIRECT};

/* A valid token answer of about 60 KiB: more than any small reservation,
 * and cJSON allocates for its members (a hundred small ones, one large)
 * after the code was spent. */
static char large_answer[60 * 1024];

static void make_large_answer(void) {
    size_t n = (size_t)snprintf(large_answer, sizeof large_answer, "{\"access_token\":\"%s\",\"scope\":[", token);
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(large_answer + n, sizeof large_answer - n, "\"s%d\",", i);
    n += (size_t)snprintf(large_answer + n - 1, sizeof large_answer - n + 1, "],\"padding\":\"") - 1;
    memset(large_answer + n, 'x', sizeof large_answer - n - 3);
    memcpy(large_answer + sizeof large_answer - 3, "\"}", 3);
}

/* Header lines in a "many-headers-" answer: about 60 KiB of them, under the
 * library's 64 KiB limit, and libcurl keeps each (its header API) in a block
 * of its own: over a megabyte of small allocations per answer. */
#define MANY_HEADERS 12000

/* The worst answer a token endpoint may send within the library's limits:
 * header lines of 5 bytes ("h: " and CRLF) up to just under the 64 KiB
 * header limit, each a block of libcurl's, and a body just under the 64 KiB
 * answer limit that is a token and an array of one-digit numbers, a cJSON
 * node for every 2 bytes. Both are live while the answer is parsed.
 * Measured by lowering the reserve until this failed: 4,541 KiB of the
 * 5,632 KiB reserve are needed, 3,616 KiB with 1,000 header lines instead:
 * 80 bytes per line. Denser header blocks: see
 * test_async_worst_answer_bare_lf_headers. */
#define WORST_HEADERS 12900
static char worst_answer[63 * 1024];

static void make_worst_answer(void) {
    size_t n = (size_t)snprintf(worst_answer, sizeof worst_answer, "{\"access_token\":\"%s\",\"n\":[1", token);
    while (n + 5 < sizeof worst_answer) {
        memcpy(worst_answer + n, ",1", 2);
        n += 2;
    }
    memcpy(worst_answer + n, "]}", 3);
}

/* The "many-headers-" answers wait until the test has armed the allocator,
 * and the "many-headers-last-" ones until it releases them too: `released`
 * is 0 (none), 1 (the first) or 2 (all). At most 10 s. */
static pthread_mutex_t release_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t release_cv = PTHREAD_COND_INITIALIZER;
static int released;

static void wait_for_release(int level) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&release_mu);
    while (released < level)
        if (pthread_cond_timedwait(&release_cv, &release_mu, &until) != 0) break;
    pthread_mutex_unlock(&release_mu);
}

static void handler(void *ctx, const ts_request *r, ts_reply *reply) {
    (void)ctx;
    if (strcmp(ts_request_path(r), "/token") == 0 && ts_request_contains(r, "lf-auth-probe-")) {
        /* AUTO's probe: a bad code, in a style this server takes */
        ts_reply_status(reply, 400);
        ts_reply_text(reply, NULL, "{\"error\":\"invalid_grant\"}");
        return;
    }
    ts_reply_status(reply, 200);
    if (ts_request_contains(r, "worst-answer-")) { /* a code: the largest answer a token endpoint may send */
        for (int i = 0; i < WORST_HEADERS; i++) ts_reply_header(reply, "h", "");
        wait_for_release(1);
        ts_reply_text(reply, NULL, worst_answer);
    } else if (ts_request_contains(r, "many-headers-")) { /* a code, or a GraphQL query */
        for (int i = 0; i < MANY_HEADERS; i++) ts_reply_header(reply, "h", "");
        wait_for_release(ts_request_contains(r, "many-headers-last-") ? 2 : 1);
        ts_reply_printf(reply, NULL, "{\"access_token\":\"%s\"}", token);
    } else if (strcmp(ts_request_path(r), "/token") == 0 && ts_request_contains(r, "large-"))
        ts_reply_text(reply, NULL, large_answer);
    else if (strcmp(ts_request_path(r), "/token") == 0)
        ts_reply_printf(reply, NULL, "{\"access_token\":\"%s\"}", token);
    else
        ts_reply_text(reply, NULL, "{\"data\":{\"account\":{\"id\":\"acc_1\"}}}");
}

/* The style of the handles made from now on (test_sweep_exchange_auto). */
static lf_client_auth client_auth = LF_CLIENT_AUTH_BASIC;

static void config(lf_auth_config *cfg) {
    lf_auth_config_init(cfg, sizeof *cfg);
    cfg->client_id = client_id;
    cfg->client_secret = secret;
    cfg->previous_client_secret = "previous-secret-for-rotation";
    cfg->redirect_uris = uris;
    cfg->redirect_uri_count = 1;
    cfg->token_url = ts_server_url(srv, "/token");
    cfg->api_url = ts_server_url(srv, "/api/v2");
    cfg->ca_file = ts_pki_ca_file(pki);
    cfg->timeout_ms = 20000;
    cfg->client_auth = client_auth;
}

/* One sweep. `op` runs the operation once and returns its status; `undo`
 * releases what a successful run produced. `setup`/`teardown` (may be NULL)
 * run outside the armed window around each run: the handle ops get a fresh
 * handle per run, so that "every block given back" can be checked exactly
 * even though a handle pools connections. Returns the failure points. */
typedef lf_status (*op_fn)(void *ctx);
typedef void (*undo_fn)(void *ctx);

/* Set by the exchange operations: the code the last run sent, so the sweep
 * can tell "out of memory before sending" from "the code was spent and the
 * token lost" (the second must never happen). */
static char last_code[48];

static long sweep(const char *name, void (*setup_fn)(void *), op_fn op, undo_fn undo, void (*teardown_fn)(void *),
                  void *ctx, int persistent) {
    long points = 0, wrong = 0, leaked = 0;
    char wrong_list[512] = "";
    const char *mode = persistent ? "persistent" : "transient";
    last_code[0] = '\0';
    for (long n = 1; n <= MAX_N; n++) {
        size_t live0 = ca_live();
        if (setup_fn) setup_fn(ctx);
        ca_fail_at(n, persistent);
        lf_status st = op(ctx);
        long failed = ca_failures_since_arm();
        ca_fail_at(0, 0);
        if (st == LF_OK) undo(ctx);
        if (teardown_fn) teardown_fn(ctx);
        if (st != LF_OK && st != LF_E_NO_MEMORY) {
            /* keep sweeping so the report lists every such point */
            if (wrong++ < 8)
                snprintf(wrong_list + strlen(wrong_list), sizeof wrong_list - strlen(wrong_list), " N=%ld:%s", n,
                         lf_status_name(st));
            points++;
            if (ca_live() != live0) leaked++;
            continue;
        }
        if (st == LF_E_NO_MEMORY && failed == 0)
            fail_msg("%s: N=%ld: LF_E_NO_MEMORY without a failed allocation", name, n);
        if (st == LF_E_NO_MEMORY && last_code[0] && ts_server_saw(srv, last_code))
            fail_msg("%s: N=%ld (%s): LF_E_NO_MEMORY after the code reached the server: the token is lost", name, n,
                     mode);
        last_code[0] = '\0';
        if (ca_live() != live0)
            fail_msg("%s: N=%ld (%s, %s): %ld blocks not given back", name, n, mode, lf_status_name(st),
                     (long)ca_live() - (long)live0);
        if (st == LF_OK && failed == 0) {
            printf("# %-24s %-10s %ld failure points\n", name, mode, points);
            if (wrong)
                fail_msg(
                    "%s (%s): %ld of %ld failure points returned neither LF_E_NO_MEMORY nor LF_OK "
                    "(%ld of them also leaked):%s%s",
                    name, mode, wrong, points, leaked, wrong_list, wrong > 8 ? " ..." : "");
            return points;
        }
        points++; /* a NO_MEMORY, or a failure in an optional path that still succeeded */
    }
    fail_msg("%s: still failing after %d allocations", name, MAX_N);
    return -1;
}

/* ---- lf_auth_new ---- */
typedef struct new_ctx {
    lf_auth *a;
} new_ctx;

static lf_status op_new(void *p) {
    new_ctx *c = p;
    lf_auth_config cfg;
    config(&cfg);
    lf_error err;
    c->a = (lf_auth *)&cfg;
    lf_status st = lf_auth_new(&cfg, &c->a, &err);
    if (st != LF_OK) assert_null(c->a);
    assert_int_equal(err.status, st);
    return st;
}
static void undo_new(void *p) {
    new_ctx *c = p;
    lf_auth_free(c->a);
    c->a = NULL;
}

static void test_sweep_auth_new(void **state) {
    (void)state;
    new_ctx c = {NULL};
    assert_true(sweep("lf_auth_new", NULL, op_new, undo_new, NULL, &c, 0) > 0);
    assert_true(sweep("lf_auth_new", NULL, op_new, undo_new, NULL, &c, 1) > 0);
}

/* ---- operations on a handle ---- */
typedef struct handle_ctx {
    lf_auth *a;
    lf_token *t;
    lf_response *r;
    int counter;
} handle_ctx;

static lf_status op_consent(void *p) {
    handle_ctx *c = p;
    char url[1024], st_buf[LF_STATE_BUFFER_SIZE];
    lf_status st = lf_state_generate(st_buf, sizeof st_buf);
    if (st != LF_OK) return st;
    return lf_consent_url(c->a, REDIRECT, "orders, products,orders", st_buf, url, sizeof url, NULL);
}

static lf_status op_callback(void *p) {
    handle_ctx *c = p;
    char code[64];
    lf_error err;
    return lf_parse_callback(c->a, "https://app.example.test/cb?code=abc%2Bdef&state=s1", "s1", code, sizeof code, NULL,
                             &err);
}

static lf_status op_verify(void *p) {
    handle_ctx *c = p;
    const char body[] = "{\"event\":\"checkout\"}";
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    lf_status st = lf_webhook_sign(c->a, body, sizeof body - 1, sig, sizeof sig, NULL);
    if (st != LF_OK) return st;
    st = lf_webhook_verify(c->a, body, sizeof body - 1, sig);
    if (st != LF_OK) return st;
    /* a mismatch has to be found without memory trouble too */
    st = lf_webhook_verify(c->a, body, sizeof body - 2, sig);
    if (st == LF_E_SIGNATURE_MISMATCH) return LF_OK;
    return st == LF_OK ? LF_E_INTERNAL : st;
}

static lf_status exchange_as(handle_ctx *c, const char *prefix) {
    snprintf(last_code, sizeof last_code, "%s%d-%lld", prefix, ++c->counter, ts_now_ms());
    lf_error err;
    c->t = (lf_token *)c;
    lf_status st = lf_exchange_code(c->a, last_code, &c->t, &err);
    if (st != LF_OK) {
        assert_null(c->t);
    } else {
        assert_string_equal(lf_token_value(c->t), token);
    }
    return st;
}

static lf_status op_exchange(void *p) { return exchange_as(p, "code-"); }
static lf_status op_exchange_large(void *p) { return exchange_as(p, "large-"); }

static lf_status op_graphql(void *p) {
    handle_ctx *c = p;
    lf_error err;
    c->r = NULL;
    lf_status st = lf_graphql(c->a, token, "query { account { id } }", "{\"a\":[1,2]}", &c->r, &err);
    if (st != LF_OK) {
        lf_response_free(c->r); /* may be set when a response was received */
        c->r = NULL;
    }
    return st;
}

/* ---- the async calls: the same sweeps, the result taken from done ---- */
typedef struct async_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    lf_status st;
    lf_token *t;
    lf_response *r;
    char message[256]; /* err->message when not LF_OK */
} async_wait;

static void on_token(void *user, lf_status st, lf_token *t, const lf_error *err) {
    async_wait *w = user;
    pthread_mutex_lock(&w->mu);
    if (st != LF_OK && err) snprintf(w->message, sizeof w->message, "%s", err->message);
    w->st = st;
    w->t = t;
    w->done++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void on_response(void *user, lf_status st, lf_response *r, const lf_error *err) {
    (void)err;
    async_wait *w = user;
    pthread_mutex_lock(&w->mu);
    w->st = st;
    w->r = r;
    w->done++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* The status done reported (bounded wait: 30 s), or the synchronous one. */
static lf_status await(async_wait *w, lf_status queued) {
    if (queued != LF_OK) return queued;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0) break;
    int done = w->done;
    lf_status st = w->st;
    pthread_mutex_unlock(&w->mu);
    if (done != 1) fail_msg("done was called %d times (want exactly once, within 30 s)", done);
    return st;
}

static async_wait *new_wait(void) {
    static async_wait w;
    memset(&w, 0, sizeof w);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    return &w;
}

static lf_status op_exchange_async(void *p) {
    handle_ctx *c = p;
    snprintf(last_code, sizeof last_code, "async-%d-%lld", ++c->counter, ts_now_ms());
    async_wait *w = new_wait();
    lf_status st = await(w, lf_exchange_code_async(c->a, last_code, NULL, on_token, w));
    c->t = w->t;
    if (st != LF_OK) {
        assert_null(c->t);
    } else {
        assert_string_equal(lf_token_value(c->t), token);
    }
    return st;
}

static lf_status op_graphql_async(void *p) {
    handle_ctx *c = p;
    async_wait *w = new_wait();
    lf_status st =
        await(w, lf_graphql_async(c->a, token, "query { account { id } }", "{\"a\":[1,2]}", NULL, on_response, w));
    c->r = w->r;
    if (st != LF_OK) {
        lf_response_free(c->r); /* may be set when a response was received */
        c->r = NULL;
    }
    return st;
}

static void undo_nothing(void *p) { (void)p; }
static void undo_token(void *p) {
    handle_ctx *c = p;
    lf_token_free(c->t);
    c->t = NULL;
}
static void undo_response(void *p) {
    handle_ctx *c = p;
    lf_response_free(c->r);
    c->r = NULL;
}

static lf_auth *live_handle;
static lf_auth *new_handle(void);

static int free_handle(void **state) {
    (void)state;
    ca_fail_at(0, 0);
    lf_auth_free(live_handle);
    live_handle = NULL;
    return 0;
}

static lf_auth *new_handle(void) {
    lf_auth_config cfg;
    config(&cfg);
    lf_auth *a = NULL;
    lf_error err;
    lf_assert_status_err(lf_auth_new(&cfg, &a, &err), LF_OK, &err);
    live_handle = a;
    return a;
}

/* The header promises these never allocate: with every allocation failing
 * they must still succeed, having asked for nothing. */
static void test_never_allocating_calls(void **state) {
    (void)state;
    handle_ctx c = {new_handle(), NULL, NULL, 0};
    ca_fail_at(1, 1);
    lf_status st1 = op_consent(&c);
    lf_status st2 = op_callback(&c);
    long requested = ca_requests_since_arm();
    ca_fail_at(0, 0);
    lf_assert_status(st1, LF_OK);
    lf_assert_status(st2, LF_OK);
    assert_int_equal(requested, 0);
}

static void fresh_handle(void *p) {
    handle_ctx *c = p;
    c->a = new_handle();
}

static void drop_handle(void *p) {
    handle_ctx *c = p;
    lf_auth_free(c->a);
    c->a = NULL;
    live_handle = NULL;
}

static void test_sweep_webhook(void **state) {
    (void)state;
    handle_ctx c = {NULL, NULL, NULL, 0};
    long t = sweep("lf_webhook_sign+verify", fresh_handle, op_verify, undo_nothing, drop_handle, &c, 0);
    long p = sweep("lf_webhook_sign+verify", fresh_handle, op_verify, undo_nothing, drop_handle, &c, 1);
    assert_true(t >= 0 && p >= 0);
}

static void test_sweep_exchange(void **state) {
    (void)state;
    handle_ctx c = {NULL, NULL, NULL, 0};
    assert_true(sweep("lf_exchange_code", fresh_handle, op_exchange, undo_token, drop_handle, &c, 0) > 0);
    assert_true(sweep("lf_exchange_code", fresh_handle, op_exchange, undo_token, drop_handle, &c, 1) > 0);
    assert_true(
        sweep("lf_exchange_code (60 KiB answer)", fresh_handle, op_exchange_large, undo_token, drop_handle, &c, 0) > 0);
    assert_true(
        sweep("lf_exchange_code (60 KiB answer)", fresh_handle, op_exchange_large, undo_token, drop_handle, &c, 1) > 0);
    /* a handle that saw allocation failures keeps working */
    c.a = new_handle();
    for (long n = 1; n <= 5; n++) {
        ca_fail_at(n, 0);
        if (op_exchange(&c) == LF_OK) undo_token(&c);
        ca_fail_at(0, 0);
    }
    lf_assert_status(op_exchange(&c), LF_OK);
    undo_token(&c);
}

static void test_sweep_graphql(void **state) {
    (void)state;
    handle_ctx c = {NULL, NULL, NULL, 0};
    assert_true(sweep("lf_graphql", fresh_handle, op_graphql, undo_response, drop_handle, &c, 0) > 0);
    assert_true(sweep("lf_graphql", fresh_handle, op_graphql, undo_response, drop_handle, &c, 1) > 0);
}

/* The async calls allocate on the caller's thread before queuing and on the
 * handle's I/O thread after: both sides fail in turn. The handle (and its
 * I/O thread) is made and freed around each run, so every block is back by
 * the time the sweep counts. */
static void test_sweep_async(void **state) {
    (void)state;
    handle_ctx c = {NULL, NULL, NULL, 0};
    assert_true(sweep("lf_exchange_code_async", fresh_handle, op_exchange_async, undo_token, drop_handle, &c, 0) > 0);
    assert_true(sweep("lf_exchange_code_async", fresh_handle, op_exchange_async, undo_token, drop_handle, &c, 1) > 0);
    assert_true(sweep("lf_graphql_async", fresh_handle, op_graphql_async, undo_response, drop_handle, &c, 0) > 0);
    assert_true(sweep("lf_graphql_async", fresh_handle, op_graphql_async, undo_response, drop_handle, &c, 1) > 0);
}

/* AUTO, on a fresh handle each run: a probe, then the real code, on the
 * blocking and on the async path. A failure anywhere in the probe or after
 * it must end as LF_E_NO_MEMORY with the code unsent, or with the token. */
static void test_sweep_exchange_auto(void **state) {
    (void)state;
    handle_ctx c = {NULL, NULL, NULL, 0};
    client_auth = LF_CLIENT_AUTH_AUTO;
    for (int persistent = 0; persistent <= 1; persistent++) {
        /* each sweep must really have probed: its runs were AUTO ones */
        ts_server_clear(srv);
        assert_true(
            sweep("lf_exchange_code (AUTO)", fresh_handle, op_exchange, undo_token, drop_handle, &c, persistent) > 0);
        assert_true(ts_server_saw(srv, "lf-auth-probe-"));
        ts_server_clear(srv);
        assert_true(sweep("lf_exchange_code_async (AUTO)", fresh_handle, op_exchange_async, undo_token, drop_handle, &c,
                          persistent) > 0);
        assert_true(ts_server_saw(srv, "lf-auth-probe-"));
    }
}

/* Teardown of test_sweep_exchange_auto, also when it failed half-way. */
static int basic_again(void **state) {
    client_auth = LF_CLIENT_AUTH_BASIC;
    return free_handle(state);
}

#ifdef ROUTE_DEPS
static void release_answers(int level) {
    pthread_mutex_lock(&release_mu);
    released = level;
    pthread_cond_broadcast(&release_cv);
    pthread_mutex_unlock(&release_mu);
}

#define CONCURRENT 8 /* the test server's worker threads: all answered at once */
/* Several exchanges in flight on one handle, every allocation failing from
 * the moment all their codes reached the server: every one still ends
 * LF_OK. libcurl allocates over a megabyte per answer here, and no
 * allocation says which transfer it is for, so the answers read in one step
 * take from any exchange's reserve. With `first_last`, exchange 0's answer
 * comes only after the others have ended: it must still find the room its
 * reserve had when its code went out, though the others' answers took from
 * that reserve and their own left with them. */
static void run_answers_under_oom(int first_last) {
    lf_auth *a = new_handle();
    size_t before = ts_server_request_count(srv);
    release_answers(0);
    async_wait w[CONCURRENT];
    char codes[CONCURRENT][48];
    for (int i = 0; i < CONCURRENT; i++) {
        memset(&w[i], 0, sizeof w[i]);
        pthread_mutex_init(&w[i].mu, NULL);
        pthread_cond_init(&w[i].cv, NULL);
        const char *kind = first_last && i == 0 ? "many-headers-last" : "many-headers";
        snprintf(codes[i], sizeof codes[i], "%s-%d-%lld", kind, i, ts_now_ms());
        lf_assert_status(lf_exchange_code_async(a, codes[i], NULL, on_token, &w[i]), LF_OK);
    }
    assert_true(ts_server_wait_requests(srv, before + CONCURRENT, 10000));
    ca_fail_at(1, 1);
    release_answers(1);
    lf_status st[CONCURRENT];
    for (int i = first_last ? 1 : 0; i < CONCURRENT; i++) st[i] = await(&w[i], LF_OK);
    long last_failed = 0; /* while exchange 0's own answer was read */
    if (first_last) {
        long before_last = ca_failures_since_arm();
        release_answers(2);
        st[0] = await(&w[0], LF_OK);
        last_failed = ca_failures_since_arm() - before_last;
    }
    long failed = ca_failures_since_arm();
    ca_fail_at(0, 0);
    int bad = -1;
    for (int i = 0; i < CONCURRENT; i++) {
        if (st[i] != LF_OK && bad < 0) bad = i;
        if (st[i] == LF_OK) assert_string_equal(lf_token_value(w[i].t), token);
        lf_token_free(w[i].t);
        pthread_mutex_destroy(&w[i].mu);
        pthread_cond_destroy(&w[i].cv);
    }
    assert_true(failed > 0); /* the answers were read with the allocator refusing */
    if (first_last) assert_true(last_failed > 0);
    if (bad >= 0) fail_msg("exchange %d: %s: %s", bad, lf_status_name(st[bad]), w[bad].message);
}

/* An exchange and GraphQL calls in flight on one handle, every allocation
 * failing from the moment all requests reached the server. The GraphQL
 * answers (12,000 headers each: over a megabyte of libcurl's allocations
 * apiece) are read in the same steps as the exchange's, so they too take
 * from the pool; they must leave the exchange the room its answer needs,
 * which comes last. */
static void test_async_graphql_leaves_the_exchange_its_room(void **state) {
    (void)state;
    lf_auth *a = new_handle();
    size_t before = ts_server_request_count(srv);
    release_answers(0);
    async_wait w[CONCURRENT];
    for (int i = 0; i < CONCURRENT; i++) {
        memset(&w[i], 0, sizeof w[i]);
        pthread_mutex_init(&w[i].mu, NULL);
        pthread_cond_init(&w[i].cv, NULL);
    }
    char code[48];
    snprintf(code, sizeof code, "many-headers-last-%lld", ts_now_ms());
    lf_assert_status(lf_exchange_code_async(a, code, NULL, on_token, &w[0]), LF_OK);
    for (int i = 1; i < CONCURRENT; i++)
        lf_assert_status(lf_graphql_async(a, token, "query { many-headers- }", NULL, NULL, on_response, &w[i]), LF_OK);
    assert_true(ts_server_wait_requests(srv, before + CONCURRENT, 10000));
    ca_fail_at(1, 1);
    release_answers(1);
    for (int i = 1; i < CONCURRENT; i++) {
        await(&w[i], LF_OK); /* LF_OK or LF_E_NO_MEMORY: only the exchange is at stake */
        lf_response_free(w[i].r);
    }
    long before_last = ca_failures_since_arm();
    release_answers(2);
    lf_status st = await(&w[0], LF_OK);
    long last_failed = ca_failures_since_arm() - before_last;
    ca_fail_at(0, 0);
    if (st == LF_OK) assert_string_equal(lf_token_value(w[0].t), token);
    lf_token_free(w[0].t);
    for (int i = 0; i < CONCURRENT; i++) {
        pthread_mutex_destroy(&w[i].mu);
        pthread_cond_destroy(&w[i].cv);
    }
    assert_true(last_failed > 0); /* the exchange's answer was read with the allocator refusing */
    if (st != LF_OK) fail_msg("the exchange: %s: %s", lf_status_name(st), w[0].message);
}

/* One exchange whose answer is the worst a token endpoint may send (see
 * worst_answer), read with every allocation failing from the moment its
 * code reached the server: the exchange's reserve alone must hold libcurl's
 * header blocks and cJSON's nodes together, and the token comes back. The
 * blocking call runs on a thread of its own (worst_blocking), the async one
 * on the handle's I/O thread; the test thread arms the allocator.
 * The answer comes from the test server, or with `raw` from that listener,
 * which was told to wait (TS_RAW_WAIT) and is given `answer` once armed. */
typedef struct worst_call {
    lf_auth *a;
    char code[48];
    async_wait w;
} worst_call;

static void *worst_blocking(void *p) {
    worst_call *c = p;
    lf_error err;
    lf_token *t = NULL;
    lf_status st = lf_exchange_code(c->a, c->code, &t, &err);
    on_token(&c->w, st, t, &err);
    return NULL;
}

static void run_worst_answer(int async, ts_raw *raw, const char *answer, size_t len) {
    worst_call c;
    memset(&c, 0, sizeof c);
    if (raw) {
        lf_auth_config cfg;
        config(&cfg);
        cfg.token_url = ts_raw_url(raw, "http", "/token");
        lf_error err;
        lf_assert_status_err(lf_auth_new(&cfg, &c.a, &err), LF_OK, &err);
        live_handle = c.a;
    } else {
        c.a = new_handle();
    }
    pthread_mutex_init(&c.w.mu, NULL);
    pthread_cond_init(&c.w.cv, NULL);
    snprintf(c.code, sizeof c.code, "worst-answer-%lld", ts_now_ms());
    size_t before = ts_server_request_count(srv);
    release_answers(0);
    pthread_t thread;
    if (async)
        lf_assert_status(lf_exchange_code_async(c.a, c.code, NULL, on_token, &c.w), LF_OK);
    else
        assert_int_equal(pthread_create(&thread, NULL, worst_blocking, &c), 0);
    if (raw) {
        long long until = ts_now_ms() + 10000;
        while (ts_raw_request_count(raw) < 1 && ts_now_ms() < until) ts_sleep_ms(5);
        assert_int_equal(ts_raw_request_count(raw), 1);
    } else {
        assert_true(ts_server_wait_requests(srv, before + 1, 10000));
    }
    ca_fail_at(1, 1);
    if (raw)
        ts_raw_push(raw, 0, answer, len, TS_RAW_CLOSE);
    else
        release_answers(1);
    lf_status st = await(&c.w, LF_OK);
    long failed = ca_failures_since_arm();
    ca_fail_at(0, 0);
    if (!async) pthread_join(thread, NULL);
    if (st == LF_OK) assert_string_equal(lf_token_value(c.w.t), token);
    lf_token_free(c.w.t);
    pthread_mutex_destroy(&c.w.mu);
    pthread_cond_destroy(&c.w.cv);
    assert_true(failed > 0); /* the answer was read with the allocator refusing */
    if (st != LF_OK) fail_msg("the exchange: %s: %s", lf_status_name(st), c.w.message);
}

/* The same with the densest header block there is, which cpp-httplib
 * cannot send: bare "h:" LF lines up to the 64 KiB header limit, about
 * 21,800 of them, from a raw listener over plain HTTP to 127.0.0.1. It
 * holds the answer until the allocator is armed (TS_RAW_WAIT). Measured:
 * 5,228 KiB of the 5,632 KiB reserve are needed (it fails at 5,212). */
#define BARE_LF_HEADERS 21800

static void test_async_worst_answer_bare_lf_headers(void **state) {
    (void)state;
    size_t body_len = strlen(worst_answer);
    size_t cap = 200 + 3 * BARE_LF_HEADERS + body_len;
    char *answer = malloc(cap);
    assert_non_null(answer);
    size_t n = (size_t)snprintf(answer, cap,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                                "Connection: close\r\n",
                                body_len);
    for (int i = 0; i < BARE_LF_HEADERS; i++, n += 3) memcpy(answer + n, "h:\n", 3);
    memcpy(answer + n, "\r\n", 2);
    memcpy(answer + n + 2, worst_answer, body_len);
    n += 2 + body_len;
    ts_raw *raw = ts_raw_start();
    assert_non_null(raw);
    ts_raw_push(raw, 1, NULL, 0, TS_RAW_WAIT);
    run_worst_answer(1, raw, answer, n);
    free_handle(state); /* before the listener its URL belongs to */
    ts_raw_stop(raw);
    free(answer);
}

static void test_worst_answer_fits_the_reserve(void **state) {
    (void)state;
    run_worst_answer(0, NULL, NULL, 0);
}

static void test_async_worst_answer_fits_the_reserve(void **state) {
    (void)state;
    run_worst_answer(1, NULL, NULL, 0);
}

static void test_async_answers_read_with_the_reserves_pooled(void **state) {
    (void)state;
    run_answers_under_oom(0);
}

static void test_async_last_answer_keeps_its_room(void **state) {
    (void)state;
    run_answers_under_oom(1);
}
#endif

static void test_balanced_at_cleanup(void **state) {
    (void)state;
    ts_server_stop(srv);
    srv = NULL;
    lf_global_cleanup();
    if (ca_live() != 0) fail_msg("%zu blocks live after lf_global_cleanup()", ca_live());
    if (ca_canary_hits())
        fail_msg("%zu released blocks still held the secret or the token: first %s", ca_canary_hits(), ca_first_hit());
}

int main(void) {
    if (lf_global_init(ca_allocator(), INIT_FLAGS) != LF_OK) return 1;
    char r[40];
    ts_random_token(client_id, sizeof client_id, "cid");
    ts_random_token(r, sizeof r, "");
    snprintf(secret, sizeof secret, "sec%.16s=/!:%s", r, r + 16);
    ts_random_token(token, sizeof token, "tok");
    make_large_answer();
    make_worst_answer();
    static const char *canaries[3];
    canaries[0] = secret;
    canaries[1] = token;
    ca_set_canaries(canaries);
    pki = ts_pki_create();
    if (!pki) return 1;
    srv = ts_server_start(pki, TS_CERT_GOOD);
    if (!srv) return 1;
    ts_server_set_handler(srv, handler, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_auth_new),
        cmocka_unit_test_teardown(test_never_allocating_calls, free_handle),
        cmocka_unit_test_teardown(test_sweep_webhook, free_handle),
        cmocka_unit_test_teardown(test_sweep_exchange, free_handle),
        cmocka_unit_test_teardown(test_sweep_exchange_auto, basic_again),
        cmocka_unit_test_teardown(test_sweep_graphql, free_handle),
        cmocka_unit_test_teardown(test_sweep_async, free_handle),
#ifdef ROUTE_DEPS
        cmocka_unit_test_teardown(test_async_answers_read_with_the_reserves_pooled, free_handle),
        cmocka_unit_test_teardown(test_async_last_answer_keeps_its_room, free_handle),
        cmocka_unit_test_teardown(test_async_graphql_leaves_the_exchange_its_room, free_handle),
        cmocka_unit_test_teardown(test_worst_answer_fits_the_reserve, free_handle),
        cmocka_unit_test_teardown(test_async_worst_answer_fits_the_reserve, free_handle),
        cmocka_unit_test_teardown(test_async_worst_answer_bare_lf_headers, free_handle),
#endif
        cmocka_unit_test(test_balanced_at_cleanup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ts_server_stop(srv);
    ts_pki_free(pki);
    return rc;
}
