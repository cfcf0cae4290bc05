/* The non-blocking calls (lf_exchange_code_async, lf_graphql_async): many
 * calls at once on one handle's I/O thread, each completed exactly once with
 * its own result; deadlines, cancel flags and lf_auth_free with calls
 * pending; a code sent at most once; code_sent; trace lines; arguments
 * refused synchronously; callbacks that call the library; fork(). Every
 * wait is bounded (a condition variable with a deadline). */
#include "it_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_PATH "/oauth/access_token"
#define API_PATH "/api/v2"
#define MAX_CALLS 64
#define WAIT_MS 20000

/* ---- completions ---------------------------------------------------------------------- */

typedef struct call call;

typedef struct board {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int completed;
} board;

/* One async call's outcome, as its done callback saw it. */
struct call {
    board *b;
    int calls; /* how many times done ran */
    lf_status status;
    char token[160]; /* the token's value, "" when none */
    int had_response;
    long http_status;
    char body[256];
    lf_error err;
    pthread_t thread; /* the thread done ran on */
    /* For callbacks that call the library again. */
    lf_auth *a;
    const char *next_code;
    call *next;
    lf_status next_queued;
};

static void board_init(board *b) {
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &attr);
    pthread_condattr_destroy(&attr);
}

static void board_destroy(board *b) {
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

static void calls_init(board *b, call *c, int n) {
    memset(c, 0, sizeof *c * (size_t)n);
    for (int i = 0; i < n; i++) c[i].b = b;
}

static void record(call *c) {
    pthread_mutex_lock(&c->b->mu);
    c->b->completed++;
    pthread_cond_broadcast(&c->b->cv);
    pthread_mutex_unlock(&c->b->mu);
}

static void note(call *c, lf_status status, const lf_error *err) {
    c->calls++;
    c->status = status;
    c->thread = pthread_self();
    if (err) c->err = *err;
}

static void on_token(void *user, lf_status status, lf_token *token, const lf_error *err) {
    call *c = user;
    note(c, status, err);
    if (token) snprintf(c->token, sizeof c->token, "%s", lf_token_value(token));
    lf_token_free(token);
    record(c);
}

static void on_response(void *user, lf_status status, lf_response *r, const lf_error *err) {
    call *c = user;
    note(c, status, err);
    c->had_response = r != NULL;
    c->http_status = lf_response_http_status(r);
    snprintf(c->body, sizeof c->body, "%s", lf_response_body(r));
    lf_response_free(r);
    record(c);
}

/* Waits until n completions were recorded; 0 after timeout_ms. */
static int board_wait(board *b, int n, long timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&b->mu);
    int rc = 0;
    while (b->completed < n && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&b->cv, &b->mu, &until);
    int ok = b->completed >= n;
    pthread_mutex_unlock(&b->mu);
    return ok;
}

static int board_count(board *b) {
    pthread_mutex_lock(&b->mu);
    int n = b->completed;
    pthread_mutex_unlock(&b->mu);
    return n;
}

static void expect_completed(board *b, int n) {
    if (!board_wait(b, n, WAIT_MS)) fail_msg("only %d of %d calls completed within %d ms", board_count(b), n, WAIT_MS);
}

static void expect_call(const call *c, lf_status want, const char *what) {
    if (c->calls != 1) fail_msg("%s: done ran %d times", what, c->calls);
    it_expect_status(c->status, want, &c->err, what);
}

/* ---- servers -------------------------------------------------------------------------- */

/* The code of a JSON-body or form request, into out. */
static void code_of(const ts_request *r, char *out, size_t size) {
    out[0] = '\0';
    const char *body = ts_request_body(r);
    const char *k = strstr(body, "\"code\":\"");
    if (k) {
        k += 8;
        const char *e = strchr(k, '"');
        snprintf(out, size, "%.*s", e ? (int)(e - k) : 0, k);
        return;
    }
    ts_form_field(body, ts_request_body_len(r), "code", out, size);
}

/* A token derived from the code: "minted.<code>". */
static void mint(void *ctx, const ts_request *r, ts_reply *reply) {
    (void)ctx;
    char code[128];
    code_of(r, code, sizeof code);
    if (!code[0]) {
        ts_reply_status(reply, 400);
        ts_reply_text(reply, NULL, "{\"error\":\"invalid_request\"}");
        return;
    }
    ts_reply_status(reply, 200);
    ts_reply_printf(reply, NULL, "{\"access_token\":\"minted.%s\"}", code);
}

/* AUTO: Basic is accepted, a probe code is rejected as invalid_grant after
 * a delay (so that other calls find the probe under way), JSON bodies are
 * rejected as invalid_client. */
static void auto_server(void *ctx, const ts_request *r, ts_reply *reply) {
    (void)ctx;
    char code[128];
    code_of(r, code, sizeof code);
    if (!ts_request_header(r, "Authorization")) {
        ts_reply_status(reply, 401);
        ts_reply_text(reply, NULL, "{\"error\":\"invalid_client\"}");
    } else if (strncmp(code, "lf-auth-probe-", 14) == 0) {
        ts_reply_delay(reply, 300);
        ts_reply_status(reply, 400);
        ts_reply_text(reply, NULL, "{\"error\":\"invalid_grant\"}");
    } else {
        ts_reply_status(reply, 200);
        ts_reply_printf(reply, NULL, "{\"access_token\":\"minted.%s\"}", code);
    }
}

typedef it_fixture fixture;

static void auth_for(fixture *f, const char *token_url, const char *api_url, lf_client_auth mode, long timeout_ms) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, token_url, api_url, mode);
    if (timeout_ms) cfg.timeout_ms = timeout_ms;
    f->a = it_auth(&cfg);
}

static void minting_server(fixture *f, lf_client_auth mode) {
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    ts_server_set_handler(f->srv, mint, NULL);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), NULL, mode, 0);
}

static void silent_server(fixture *f) {
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    it_never_answer(f->srv);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), ts_server_url(f->srv, API_PATH), LF_CLIENT_AUTH_BASIC, 0);
}

/* Queues n exchanges of fresh random codes (written to codes) with done
 * recording into c. */
static void queue_exchanges(fixture *f, call *c, char (*codes)[48], int n) {
    for (int i = 0; i < n; i++) {
        ts_random_token(codes[i], sizeof codes[i], "code");
        IT_ASSERT_STATUS(lf_exchange_code_async(f->a, codes[i], NULL, on_token, &c[i]), LF_OK, NULL);
    }
}

static int calls(void) { return it_slow() ? 16 : MAX_CALLS; }

/* ---- tests ---------------------------------------------------------------------------- */

/* 64 exchanges queued at once on one handle: each completes once, on the
 * I/O thread (not the caller's), with the token minted for its own code. */
static void test_concurrent_exchanges_get_their_own_tokens(void **state) {
    fixture *f = *state;
    minting_server(f, LF_CLIENT_AUTH_BASIC);
    board b;
    board_init(&b);
    static call c[MAX_CALLS];
    static char codes[MAX_CALLS][48];
    int n = calls();
    calls_init(&b, c, n);
    long long t0 = ts_now_ms();
    queue_exchanges(f, c, codes, n);
    it_assert_faster_than(t0, 2000, "queuing the calls");
    expect_completed(&b, n);
    for (int i = 0; i < n; i++) {
        char want[96];
        snprintf(want, sizeof want, "minted.%.47s", codes[i]);
        expect_call(&c[i], LF_OK, "exchange");
        assert_string_equal(c[i].token, want);
        assert_false(pthread_equal(c[i].thread, pthread_self()));
    }
    assert_int_equal(ts_server_request_count(f->srv), n);
    board_destroy(&b);
}

static void test_graphql_async(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 200, NULL, "{\"data\":{\"account\":{\"id\":\"acct-42\"}}}");
    auth_for(f, NULL, ts_server_url(f->srv, API_PATH), LF_CLIENT_AUTH_BASIC, 0);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    IT_ASSERT_STATUS(
        lf_graphql_async(f->a, f->c.token, "query { account { id } }", "{\"x\":1}", NULL, on_response, &c[0]), LF_OK,
        NULL);
    expect_completed(&b, 1);
    expect_call(&c[0], LF_OK, "graphql");
    assert_true(c[0].had_response);
    assert_int_equal(c[0].http_status, 200);
    assert_non_null(strstr(c[0].body, "acct-42"));
    const ts_request *r = ts_server_request(f->srv, 0);
    assert_non_null(r);
    char bearer[128];
    snprintf(bearer, sizeof bearer, "Bearer %s", f->c.token);
    assert_string_equal(ts_request_header(r, "Authorization"), bearer);

    /* An errors answer: LF_E_API, and the response still comes to done. */
    ts_server_respond(f->srv, 200, NULL, "{\"errors\":[{\"message\":\"nope\",\"key\":\"bad\"}]}");
    IT_ASSERT_STATUS(lf_graphql_async(f->a, f->c.token, "query { x }", NULL, NULL, on_response, &c[1]), LF_OK, NULL);
    expect_completed(&b, 2);
    expect_call(&c[1], LF_E_API, "graphql errors");
    assert_true(c[1].had_response);
    assert_string_equal(c[1].err.key, "bad");
    it_assert_clean(&c[1].err, &f->c, "graphql errors");
    board_destroy(&b);
}

/* A server that never answers: each call ends at its own deadline, the
 * code maybe sent. */
static void test_deadline(void **state) {
    fixture *f = *state;
    silent_server(f);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    lf_code_sent sent = (lf_code_sent)77;
    lf_call_options o = it_call_options(400, NULL);
    o.code_sent = &sent;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, &o, on_token, &c[0]), LF_OK, NULL);
    lf_call_options g = it_call_options(600, NULL);
    IT_ASSERT_STATUS(lf_graphql_async(f->a, f->c.token, "query { x }", NULL, &g, on_response, &c[1]), LF_OK, NULL);
    expect_completed(&b, 2);
    it_assert_faster_than(t0, 3000, "two calls with 400 and 600 ms deadlines");
    expect_call(&c[0], LF_E_TIMEOUT, "exchange deadline");
    expect_call(&c[1], LF_E_TIMEOUT, "graphql deadline");
    assert_int_equal(sent, LF_CODE_MAYBE_SENT);
    assert_false(c[1].had_response);
    board_destroy(&b);
}

/* The caller's flag ends a call waiting for its answer within ~100 ms; the
 * other call on the handle goes on. */
static void test_cancel_flag(void **state) {
    fixture *f = *state;
    silent_server(f);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    int cancel = 0;
    lf_call_options o = it_call_options(0, &cancel);
    lf_call_options keep = it_call_options(5000, NULL);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, &o, on_token, &c[0]), LF_OK, NULL);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, "other-code", &keep, on_token, &c[1]), LF_OK, NULL);
    assert_true(ts_server_wait_requests(f->srv, 2, WAIT_MS));
    long long t0 = ts_now_ms();
    __atomic_store_n(&cancel, 1, __ATOMIC_RELEASE);
    expect_completed(&b, 1);
    it_assert_faster_than(t0, 1000, "cancelling");
    expect_call(&c[0], LF_E_CANCELLED, "cancelled exchange");
    assert_int_equal(c[1].calls, 0);
    lf_auth_free(f->a); /* ends the other call */
    f->a = NULL;
    expect_call(&c[1], LF_E_CANCELLED, "the other exchange, at lf_auth_free");
    board_destroy(&b);
}

/* A flag already set when the call is queued: nothing is sent, as with
 * the blocking call. A first call leaves a pooled plain-http connection, on
 * which a transfer's first step would send at once. */
static void test_cancelled_before_sending(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(NULL, TS_CERT_GOOD);
    assert_non_null(f->srv);
    ts_server_set_handler(f->srv, mint, NULL);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), ts_server_url(f->srv, API_PATH), LF_CLIENT_AUTH_BASIC, 0);
    board b;
    board_init(&b);
    call c[3];
    calls_init(&b, c, 3);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, "first-code", NULL, on_token, &c[2]), LF_OK, NULL);
    expect_completed(&b, 1);
    expect_call(&c[2], LF_OK, "the first exchange");
    int cancel = 1;
    lf_code_sent sent = (lf_code_sent)77;
    lf_call_options o = it_call_options(0, &cancel);
    o.code_sent = &sent;
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, &o, on_token, &c[0]), LF_OK, NULL);
    IT_ASSERT_STATUS(lf_graphql_async(f->a, f->c.token, "query { x }", NULL, &o, on_response, &c[1]), LF_OK, NULL);
    expect_completed(&b, 3);
    expect_call(&c[0], LF_E_CANCELLED, "exchange cancelled before sending");
    expect_call(&c[1], LF_E_CANCELLED, "graphql cancelled before sending");
    assert_int_equal(sent, LF_CODE_NOT_SENT);
    ts_sleep_ms(100);
    assert_int_equal(ts_server_request_count(f->srv), 1);
    board_destroy(&b);
}

/* lf_auth_free with calls pending: every done has run, with
 * LF_E_CANCELLED, before it returns. */
static void test_free_with_calls_pending(void **state) {
    fixture *f = *state;
    silent_server(f);
    board b;
    board_init(&b);
    call c[10];
    calls_init(&b, c, 10);
    for (int i = 0; i < 8; i++) {
        char code[32];
        snprintf(code, sizeof code, "pending-%d", i);
        IT_ASSERT_STATUS(lf_exchange_code_async(f->a, code, NULL, on_token, &c[i]), LF_OK, NULL);
    }
    for (int i = 8; i < 10; i++)
        IT_ASSERT_STATUS(lf_graphql_async(f->a, f->c.token, "query { x }", NULL, NULL, on_response, &c[i]), LF_OK,
                         NULL);
    assert_true(ts_server_wait_requests(f->srv, 4, WAIT_MS)); /* some are on the wire */
    lf_auth_free(f->a);
    f->a = NULL;
    assert_int_equal(board_count(&b), 10);
    for (int i = 0; i < 10; i++) {
        expect_call(&c[i], LF_E_CANCELLED, "pending call at lf_auth_free");
        assert_string_equal(c[i].token, "");
    }
    board_destroy(&b);
}

/* A pooled keep-alive connection that the server resets after reading the
 * second code: libcurl would re-send it on a new connection by itself (the
 * third step would answer it); the async path refuses, as the blocking one. */
static void test_code_sent_at_most_once(void **state) {
    static const char ok[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{\"access_token\":\"abcd\"}";
    fixture *f = *state;
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, ok, sizeof ok - 1, TS_RAW_KEEP);
    ts_raw_push(f->raw, 1, NULL, 0, TS_RAW_RESET);
    ts_raw_push(f->raw, 1, ok, sizeof ok - 1, TS_RAW_CLOSE);
    auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), NULL, LF_CLIENT_AUTH_BASIC, 5000);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, NULL, on_token, &c[0]), LF_OK, NULL);
    expect_completed(&b, 1);
    expect_call(&c[0], LF_OK, "first exchange");
    char code2[48];
    ts_random_token(code2, sizeof code2, "code2");
    lf_code_sent sent = LF_CODE_NOT_SENT;
    lf_call_options o = it_call_options(0, NULL);
    o.code_sent = &sent;
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, code2, &o, on_token, &c[1]), LF_OK, NULL);
    expect_completed(&b, 2);
    ts_sleep_ms(200); /* a re-send would have arrived by now */
    size_t seen = 0;
    for (size_t i = 0; i < ts_raw_request_count(f->raw); i++)
        seen += ts_mem_contains(ts_request_body(ts_raw_request(f->raw, i)),
                                ts_request_body_len(ts_raw_request(f->raw, i)), code2);
    if (seen != 1) fail_msg("the second code was sent %zu times", seen);
    expect_call(&c[1], LF_E_NETWORK, "exchange on a connection reset after the request");
    assert_int_equal(sent, LF_CODE_MAYBE_SENT);
    board_destroy(&b);
}

/* A port nothing listens on: a listener started and stopped. */
static int closed_port(void) {
    ts_raw *r = ts_raw_start();
    assert_non_null(r);
    int port = ts_raw_port(r);
    ts_raw_stop(r);
    return port;
}

static void test_code_sent_values(void **state) {
    fixture *f = *state;
    board b;
    board_init(&b);
    call c[3];
    calls_init(&b, c, 3);
    lf_code_sent sent[3] = {(lf_code_sent)77, (lf_code_sent)77, (lf_code_sent)77};
    lf_call_options o[3];
    for (int i = 0; i < 3; i++) {
        o[i] = it_call_options(0, NULL);
        o[i].code_sent = &sent[i];
    }
    minting_server(f, LF_CLIENT_AUTH_BASIC);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, &o[0], on_token, &c[0]), LF_OK, NULL);
    expect_completed(&b, 1);
    expect_call(&c[0], LF_OK, "accepted code");
    assert_int_equal(sent[0], LF_CODE_SENT);

    ts_server_set_handler(f->srv, NULL, NULL);
    ts_server_respond(f->srv, 400, NULL, "{\"error\":\"invalid_grant\"}");
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, &o[1], on_token, &c[1]), LF_OK, NULL);
    expect_completed(&b, 2);
    expect_call(&c[1], LF_E_INVALID_CODE, "rejected code");
    assert_int_equal(sent[1], LF_CODE_SENT);
    it_assert_clean(&c[1].err, &f->c, "rejected code");

    char url[96];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", closed_port(), TOKEN_PATH);
    lf_auth *refused = it_auth_at(&f->c, url, NULL, LF_CLIENT_AUTH_BASIC);
    IT_ASSERT_STATUS(lf_exchange_code_async(refused, f->c.code, &o[2], on_token, &c[2]), LF_OK, NULL);
    expect_completed(&b, 3);
    expect_call(&c[2], LF_E_NETWORK, "refused connection");
    assert_int_equal(sent[2], LF_CODE_NOT_SENT);
    lf_auth_free(refused);
    board_destroy(&b);
}

/* The socket inodes among this process's descriptors 0..1023, into
 * inodes[cap]; returns how many. readlink on /proc/self/fd/N opens no
 * descriptor, so sampling never takes a number the threads under test are
 * closing and reusing. */
static int own_sockets(unsigned long *inodes, int cap) {
    int n = 0;
    for (int fd = 0; fd < 1024 && n < cap; fd++) {
        char path[48], link[48];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(path, link, sizeof link - 1);
        if (len <= 0) continue;
        link[len] = '\0';
        if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1) n++;
    }
    return n;
}

/* Established client connections of this process to 127.0.0.1:port:
 * /proc/net/tcp lines with the port as the remote end, state 01, and an
 * inode among this process's sockets (the file lists every process's). */
static int connections_to(int port) {
    FILE *f = fopen("/proc/net/tcp", "r");
    assert_non_null(f);
    char line[512];
    enum { CAP = 256 };
    unsigned long candidates[CAP];
    int nc = 0;
    /* Each connection once, by its local port: the kernel writes the file in
     * pieces as sockets come and go, so one read may list a socket twice. */
    static unsigned char seen[65536];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 100000 && nc < CAP && fgets(line, sizeof line, f); i++) {
        unsigned loc_port = 0, rem_port = 0, st = 0;
        unsigned long inode = 0;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %x %*x:%*x %*x:%*x %*x %*u %*d %lu", &loc_port, &rem_port, &st, &inode) ==
                4 &&
            (int)rem_port == port && st == 0x01 && loc_port < sizeof seen && !seen[loc_port]) {
            seen[loc_port] = 1;
            candidates[nc++] = inode;
        }
    }
    fclose(f);
    if (nc == 0) return 0;
    static unsigned long own[1024];
    int no = own_sockets(own, 1024);
    int n = 0;
    for (int i = 0; i < nc; i++)
        for (int j = 0; j < no; j++)
            if (candidates[i] == own[j]) {
                n++;
                break;
            }
    return n;
}

/* A burst of calls shares a bounded number of connections (16 open at
 * once), reused as transfers end, instead of one per call: a thousand
 * calls at once must not mean a thousand connections to the platform. */
static void test_burst_shares_a_few_connections(void **state) {
    fixture *f = *state;
    minting_server(f, LF_CLIENT_AUTH_BASIC);
    enum { N = 40 };
    board b;
    board_init(&b);
    call c[N];
    char codes[N][48];
    calls_init(&b, c, N);
    queue_exchanges(f, c, codes, N);
    int peak = 0;
    for (int i = 0; i < 20000 && board_count(&b) < N; i++) {
        int open = connections_to(ts_server_port(f->srv));
        if (open > peak) peak = open;
        ts_sleep_ms(1);
    }
    expect_completed(&b, N);
    for (int i = 0; i < N; i++) expect_call(&c[i], LF_OK, "burst exchange");
    if (peak > 16) fail_msg("%d connections open at once for a burst of %d calls (want at most 16)", peak, N);
    assert_true(peak > 0); /* the sampling saw the connections */
    board_destroy(&b);
}

/* Calls beyond the connection limit wait inside the loop for a connection,
 * and their deadline holds there: against a server that never answers, all
 * of them end at their deadline, and those that never got a connection
 * (at least the 8 beyond the limit) report their code as not sent. */
static void test_calls_waiting_for_a_connection_keep_their_deadline(void **state) {
    fixture *f = *state;
    silent_server(f);
    enum { N = 24 };
    board b;
    board_init(&b);
    call c[N];
    lf_code_sent sent[N];
    calls_init(&b, c, N);
    long long t0 = ts_now_ms();
    for (int i = 0; i < N; i++) {
        char code[48];
        ts_random_token(code, sizeof code, "code");
        sent[i] = (lf_code_sent)77;
        lf_call_options o = it_call_options(600, NULL);
        o.code_sent = &sent[i];
        IT_ASSERT_STATUS(lf_exchange_code_async(f->a, code, &o, on_token, &c[i]), LF_OK, NULL);
    }
    expect_completed(&b, N);
    it_assert_faster_than(t0, 4000, "24 calls with a 600 ms deadline");
    int not_sent = 0;
    for (int i = 0; i < N; i++) {
        expect_call(&c[i], LF_E_TIMEOUT, "exchange waiting for a connection");
        assert_true(sent[i] == LF_CODE_NOT_SENT || sent[i] == LF_CODE_MAYBE_SENT);
        not_sent += sent[i] == LF_CODE_NOT_SENT;
    }
    assert_true(not_sent >= N - 16);
    board_destroy(&b);
}

/* AUTO on a fresh handle with many calls at once: one probe, run as a
 * request of one call while the others wait; then every real code once. */
static void test_auto_probes_once_for_concurrent_calls(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_set_handler(f->srv, auto_server, NULL);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_AUTO, 0);
    board b;
    board_init(&b);
    enum { N = 8 };
    call c[N];
    char codes[N][48];
    calls_init(&b, c, N);
    queue_exchanges(f, c, codes, N);
    expect_completed(&b, N);
    for (int i = 0; i < N; i++) {
        char want[96];
        snprintf(want, sizeof want, "minted.%.47s", codes[i]);
        expect_call(&c[i], LF_OK, "AUTO exchange");
        assert_string_equal(c[i].token, want);
    }
    size_t probes = 0;
    for (size_t i = 0; i < ts_server_request_count(f->srv); i++)
        probes += ts_request_contains(ts_server_request(f->srv, i), "lf-auth-probe-") != 0;
    assert_int_equal(probes, 1);
    assert_int_equal(ts_server_request_count(f->srv), N + 1);
    board_destroy(&b);
}

typedef struct trace_log {
    pthread_mutex_t mu;
    int events[64];
    int n;
} trace_log;

static void collect(void *user, int event, const char *line) {
    (void)line;
    trace_log *t = user;
    pthread_mutex_lock(&t->mu);
    if (t->n < 64) t->events[t->n++] = event;
    pthread_mutex_unlock(&t->mu);
}

static int traced(trace_log *t, int event) {
    pthread_mutex_lock(&t->mu);
    int found = 0;
    for (int i = 0; i < t->n; i++) found |= t->events[i] == event;
    pthread_mutex_unlock(&t->mu);
    return found;
}

/* An async transfer traces the lines a blocking one does, and the next
 * request to the same server reuses the connection. */
static void test_trace_lines(void **state) {
    fixture *f = *state;
    static trace_log log = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_set_handler(f->srv, mint, NULL);
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, TOKEN_PATH), ts_server_url(f->srv, API_PATH), LF_CLIENT_AUTH_BASIC);
    cfg.trace = collect;
    cfg.trace_user = &log;
    f->a = it_auth(&cfg);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, NULL, on_token, &c[0]), LF_OK, NULL);
    expect_completed(&b, 1);
    expect_call(&c[0], LF_OK, "traced exchange");
    assert_true(traced(&log, LF_TRACE_CONNECT));
    assert_true(traced(&log, LF_TRACE_TLS));
    assert_true(traced(&log, LF_TRACE_REQUEST));
    assert_true(traced(&log, LF_TRACE_RESPONSE));
    assert_false(traced(&log, LF_TRACE_ERROR));
    /* A failure traces the mapping chosen. */
    IT_ASSERT_STATUS(lf_graphql_async(f->a, f->c.token, "query { x }", NULL, NULL, on_response, &c[1]), LF_OK, NULL);
    expect_completed(&b, 2);
    expect_call(&c[1], LF_E_HTTP, "traced graphql (400 from the minting handler)");
    assert_true(traced(&log, LF_TRACE_ERROR));
    /* The second request went out on the loop's pooled connection. */
    assert_true(traced(&log, LF_TRACE_REUSE));
    assert_int_equal(ts_server_connection_count(f->srv), 1);
    /* A call refused at once traces its reason too, as a blocking one does. */
    pthread_mutex_lock(&log.mu);
    log.n = 0;
    pthread_mutex_unlock(&log.mu);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, "", NULL, on_token, &c[0]), LF_E_INVALID_ARGUMENT, NULL);
    assert_true(traced(&log, LF_TRACE_ERROR));
    board_destroy(&b);
}

/* Bad arguments come back at once; nothing is queued and done never runs. */
static void test_invalid_arguments_are_synchronous(void **state) {
    fixture *f = *state;
    minting_server(f, LF_CLIENT_AUTH_BASIC);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    char long_code[5000];
    memset(long_code, 'a', sizeof long_code - 1);
    long_code[sizeof long_code - 1] = '\0';
    lf_call_options bad_size = it_call_options(0, NULL);
    bad_size.struct_size = sizeof bad_size + 8;
    lf_call_options negative = it_call_options(-1, NULL);
    assert_int_equal(lf_exchange_code_async(NULL, "c", NULL, on_token, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_exchange_code_async(f->a, NULL, NULL, on_token, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_exchange_code_async(f->a, "c", NULL, NULL, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_exchange_code_async(f->a, "", NULL, on_token, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_exchange_code_async(f->a, long_code, NULL, on_token, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_exchange_code_async(f->a, "c", &bad_size, on_token, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_exchange_code_async(f->a, "c", &negative, on_token, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(NULL, "tok", "q", NULL, NULL, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, NULL, "q", NULL, NULL, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, "tok", NULL, NULL, NULL, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, "tok", "q", NULL, NULL, NULL, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, "bad token", "q", NULL, NULL, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, "tok", "", NULL, NULL, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, "tok", "q", "[1]", NULL, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_graphql_async(f->a, "tok", "q", NULL, &negative, on_response, &c[0]), LF_E_INVALID_ARGUMENT);
    /* A good call afterwards is the first and only completion. */
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, NULL, on_token, &c[1]), LF_OK, NULL);
    expect_completed(&b, 1);
    expect_call(&c[1], LF_OK, "the good call");
    ts_sleep_ms(100);
    assert_int_equal(board_count(&b), 1);
    assert_int_equal(c[0].calls, 0);
    assert_int_equal(ts_server_request_count(f->srv), 1);
    board_destroy(&b);
}

/* done queues the next exchange on the same handle, and reads its token. */
static void on_token_then_next(void *user, lf_status status, lf_token *token, const lf_error *err) {
    call *c = user;
    if (c->next) c->next_queued = lf_exchange_code_async(c->a, c->next_code, NULL, on_token, c->next);
    on_token(user, status, token, err);
}

static void test_done_may_call_the_library(void **state) {
    fixture *f = *state;
    minting_server(f, LF_CLIENT_AUTH_BASIC);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    c[0].a = f->a;
    c[0].next = &c[1];
    c[0].next_code = "second-code";
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, f->c.code, NULL, on_token_then_next, &c[0]), LF_OK, NULL);
    expect_completed(&b, 2);
    expect_call(&c[0], LF_OK, "first exchange");
    assert_int_equal(c[0].next_queued, LF_OK);
    expect_call(&c[1], LF_OK, "exchange queued from done");
    assert_string_equal(c[1].token, "minted.second-code");
    board_destroy(&b);
}

/* ---- allocation failures before queuing ------------------------------------------------ */

/* The library's allocator (main installs it): fails the n-th allocation the
 * armed thread makes, and only that thread's, so the I/O thread is never hit. */
static __thread long fail_countdown; /* 0: off */

static int must_fail(void) { return fail_countdown > 0 && --fail_countdown == 0; }
static void *t_alloc(void *ctx, size_t n) {
    (void)ctx;
    return must_fail() ? NULL : malloc(n);
}
static void *t_realloc(void *ctx, void *p, size_t n) {
    (void)ctx;
    return must_fail() ? NULL : realloc(p, n);
}
static void t_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

/* Each allocation an async call makes on the caller's thread fails once, on
 * a fresh handle (so the first call also starts the I/O thread): every such
 * call returns LF_E_NO_MEMORY at once and its done never runs; the handle
 * frees cleanly either way; once no allocation fails, the call is queued
 * and completes once. */
static void test_no_memory_before_queuing_is_synchronous(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    ts_server_set_handler(f->srv, mint, NULL);
    board b;
    board_init(&b);
    static call c[2][200];
    int refused[2] = {0, 0}, queued[2] = {0, 0};
    for (int kind = 0; kind < 2; kind++) {
        calls_init(&b, c[kind], 200);
        for (int n = 1; n < 200 && !queued[kind]; n++) {
            lf_auth *a = it_auth_at(&f->c, ts_server_url(f->srv, TOKEN_PATH), ts_server_url(f->srv, API_PATH),
                                    LF_CLIENT_AUTH_BASIC);
            fail_countdown = n;
            lf_status st = kind == 0 ? lf_exchange_code_async(a, f->c.code, NULL, on_token, &c[kind][n])
                                     : lf_graphql_async(a, f->c.token, "query { x }", "{\"v\":[1,2]}", NULL,
                                                        on_response, &c[kind][n]);
            int hit = fail_countdown == 0;
            fail_countdown = 0;
            if (st == LF_OK) {
                if (hit) fail_msg("call %d queued although its allocation %d failed", kind, n);
                queued[kind] = 1;
                expect_completed(&b, 1);
            } else {
                assert_int_equal(st, LF_E_NO_MEMORY);
                refused[kind]++;
            }
            lf_auth_free(a);
            if (st != LF_OK) assert_int_equal(c[kind][n].calls, 0);
        }
        assert_true(queued[kind]);
        assert_true(refused[kind] >= 3); /* the token or response, the call, the loop at least */
        pthread_mutex_lock(&b.mu);
        b.completed = 0;
        pthread_mutex_unlock(&b.mu);
    }
    int completions = 0;
    for (int kind = 0; kind < 2; kind++)
        for (int n = 0; n < 200; n++) completions += c[kind][n].calls;
    assert_int_equal(completions, 2);
    board_destroy(&b);
}

/* ---- fork ----------------------------------------------------------------------------- */

static int wait_child(pid_t pid, int *status) {
    for (int i = 0; i < 300; i++) { /* bounded: 30 s */
        if (waitpid(pid, status, WNOHANG) == pid) return 1;
        ts_sleep_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return 0;
}

/* The child's first async call starts its own I/O thread (the parent's does
 * not exist there); the parent's goes on. The child reports through a pipe:
 * its exit status may carry a memory checker's verdict on the parent's
 * threads it inherited. */
static void test_child_after_fork_gets_its_own_io_thread(void **state) {
    fixture *f = *state;
    minting_server(f, LF_CLIENT_AUTH_BASIC);
    board b;
    board_init(&b);
    call c[2];
    calls_init(&b, c, 2);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, "before-fork", NULL, on_token, &c[0]), LF_OK, NULL);
    expect_completed(&b, 1); /* the parent's I/O thread runs */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        board cb;
        board_init(&cb);
        call cc;
        calls_init(&cb, &cc, 1);
        char verdict = 'n';
        if (lf_exchange_code_async(f->a, "in-child", NULL, on_token, &cc) == LF_OK && board_wait(&cb, 1, 10000) &&
            cc.status == LF_OK && strcmp(cc.token, "minted.in-child") == 0)
            verdict = 'y';
        lf_auth_free(f->a);
        if (write(fds[1], &verdict, 1) != 1) _exit(3);
        _exit(0);
    }
    close(fds[1]);
    IT_ASSERT_STATUS(lf_exchange_code_async(f->a, "parent-after", NULL, on_token, &c[1]), LF_OK, NULL);
    expect_completed(&b, 2);
    expect_call(&c[1], LF_OK, "parent after fork");
    assert_string_equal(c[1].token, "minted.parent-after");
    char verdict = 0;
    ssize_t got = read(fds[0], &verdict, 1);
    close(fds[0]);
    int status = 0;
    assert_true(wait_child(pid, &status));
    if (got != 1 || verdict != 'y') fail_msg("the child's async exchange failed");
    board_destroy(&b);
}

static void free_from_done(void *user, lf_status status, lf_token *token, const lf_error *err) {
    (void)status;
    (void)err;
    lf_token_free(token);
    lf_auth_free(user);
}

/* lf_auth_free of the same handle from done: the process aborts with a
 * message naming the mistake (in a child). */
static void test_free_from_done_aborts(void **state) {
    fixture *f = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        char url[96];
        snprintf(url, sizeof url, "https://127.0.0.1:%d%s", closed_port(), TOKEN_PATH);
        lf_auth *a = it_auth_at(&f->c, url, NULL, LF_CLIENT_AUTH_BASIC);
        lf_exchange_code_async(a, "code", NULL, free_from_done, a);
        ts_sleep_ms(10000);
        _exit(0);
    }
    close(fds[1]);
    char out[1024] = {0};
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    close(fds[0]);
    int status = 0;
    assert_true(wait_child(pid, &status));
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) fail_msg("the child did not abort (status %d)", status);
    assert_non_null(strstr(out, "lf_auth_free() was called from a done callback"));
}

/* `async_test --no-fork` leaves out the fork() cases: the ThreadSanitizer run
 * (label threads, scripts/check-sanitizers.sh) uses it, because TSan cannot
 * follow a thread started in the child of a multi-threaded process (glibc
 * hands the child the stack, hence the pthread id, of a parent thread TSan
 * still counts as alive: "dup thread with used id"). */
int main(int argc, char **argv) {
    static const lf_allocator allocator = {t_alloc, t_realloc, t_free, NULL};
    if (lf_global_init(&allocator, 0) != LF_OK) return 1;
    const struct CMUnitTest tests[] = {
        IT_FIXTURE_TEST(test_concurrent_exchanges_get_their_own_tokens),
        IT_FIXTURE_TEST(test_graphql_async),
        IT_FIXTURE_TEST(test_deadline),
        IT_FIXTURE_TEST(test_cancel_flag),
        IT_FIXTURE_TEST(test_cancelled_before_sending),
        IT_FIXTURE_TEST(test_free_with_calls_pending),
        IT_FIXTURE_TEST(test_code_sent_at_most_once),
        IT_FIXTURE_TEST(test_code_sent_values),
        IT_FIXTURE_TEST(test_burst_shares_a_few_connections),
        IT_FIXTURE_TEST(test_calls_waiting_for_a_connection_keep_their_deadline),
        IT_FIXTURE_TEST(test_auto_probes_once_for_concurrent_calls),
        IT_FIXTURE_TEST(test_trace_lines),
        IT_FIXTURE_TEST(test_invalid_arguments_are_synchronous),
        IT_FIXTURE_TEST(test_done_may_call_the_library),
        IT_FIXTURE_TEST(test_no_memory_before_queuing_is_synchronous),
    };
    const struct CMUnitTest fork_tests[] = {
        IT_FIXTURE_TEST(test_child_after_fork_gets_its_own_io_thread),
        IT_FIXTURE_TEST(test_free_from_done_aborts),
    };
    int rc = cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
    if (argc > 1 && strcmp(argv[1], "--no-fork") == 0) return rc;
    return rc | cmocka_run_group_tests(fork_tests, it_group_setup, it_group_teardown);
}
