/* LF_CLIENT_AUTH_AUTO: the style is learned with a probe carrying an invalid
 * code, and the real code goes out exactly once, in the learned style. */
#include "it_common.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/token"
#define MAX_CODES 16

typedef struct model {
    pthread_mutex_t mu;
    int accept_basic;
    int accept_json;
    int reject_status; /* for the style not accepted: 401 (invalid_client), 403, 404 or 405 */
    int fail_500;
    const char *reject_body; /* NULL: invalid_client for 401, {} otherwise */
    long probe_delay_ms;     /* how long probes wait for their answer */
    const it_creds *c;
    char codes[MAX_CODES][64]; /* the real codes this server honours */
    size_t ncodes;
} model;

typedef struct fixture {
    ts_server *srv;
    it_creds c;
    model m;
    lf_auth *a;
} fixture;

/* What a request looks like from the server's side. */
typedef struct seen {
    int basic_ok;  /* Authorization: Basic with the right id:secret */
    int json_ok;   /* JSON body with the right client_id/client_secret */
    int has_basic; /* any Authorization header */
    int is_json;
    int is_form;
    char code[256];
} seen;

static void inspect(const ts_request *r, const it_creds *c, seen *s) {
    memset(s, 0, sizeof *s);
    const char *auth = ts_request_header(r, "Authorization");
    const char *ct = ts_request_header(r, "Content-Type");
    s->has_basic = auth != NULL;
    if (auth && strncmp(auth, "Basic ", 6) == 0) {
        char dec[256], want[256];
        snprintf(want, sizeof want, "%s:%s", c->client_id, c->secret);
        s->basic_ok = ts_base64_decode(auth + 6, dec, sizeof dec) > 0 && strcmp(dec, want) == 0;
    }
    s->is_json = ct && strncmp(ct, "application/json", 16) == 0;
    s->is_form = ct && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0;
    if (s->is_json) {
        cJSON *root = cJSON_ParseWithLength(ts_request_body(r), ts_request_body_len(r));
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "client_id");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, "client_secret");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
        s->json_ok = cJSON_IsString(id) && cJSON_IsString(sec) && strcmp(id->valuestring, c->client_id) == 0 &&
                     strcmp(sec->valuestring, c->secret) == 0;
        if (cJSON_IsString(code)) snprintf(s->code, sizeof s->code, "%s", code->valuestring);
        cJSON_Delete(root);
    } else if (s->is_form) {
        ts_form_field(ts_request_body(r), ts_request_body_len(r), "code", s->code, sizeof s->code);
    }
}

static void handler(void *ctx, const ts_request *r, ts_reply *reply) {
    model *m = ctx;
    seen s;
    inspect(r, m->c, &s);
    pthread_mutex_lock(&m->mu);
    if (m->fail_500) {
        pthread_mutex_unlock(&m->mu);
        ts_reply_status(reply, 500);
        ts_reply_text(reply, "text/plain", "internal error");
        return;
    }
    int ok = (s.basic_ok && m->accept_basic && !s.json_ok) || (s.json_ok && m->accept_json && !s.has_basic);
    int known = 0;
    for (size_t i = 0; i < m->ncodes; i++) known |= strcmp(m->codes[i], s.code) == 0;
    int reject = m->reject_status;
    const char *reject_body = m->reject_body;
    if (strncmp(s.code, "lf-auth-probe-", 14) == 0 && m->probe_delay_ms) ts_reply_delay(reply, m->probe_delay_ms);
    pthread_mutex_unlock(&m->mu);
    if (!ok) {
        ts_reply_status(reply, reject);
        if (!reject_body) reject_body = reject == 401 ? "{\"error\":\"invalid_client\"}" : "{}";
        ts_reply_text(reply, NULL, reject_body);
    } else if (known) {
        ts_reply_status(reply, 200);
        ts_reply_printf(reply, NULL, "{\"access_token\":\"tok-%s\"}", s.code);
    } else {
        ts_reply_status(reply, 400);
        ts_reply_text(reply, NULL, "{\"error\":\"invalid_grant\",\"error_description\":\"unknown code\"}");
    }
}

static void add_code(fixture *f, const char *code) {
    pthread_mutex_lock(&f->m.mu);
    assert_true(f->m.ncodes < MAX_CODES);
    snprintf(f->m.codes[f->m.ncodes++], 64, "%s", code);
    pthread_mutex_unlock(&f->m.mu);
}

static int setup(void **state) {
    fixture *f = test_calloc(1, sizeof *f);
    it_creds_make(&f->c);
    pthread_mutex_init(&f->m.mu, NULL);
    f->m.c = &f->c;
    f->m.reject_status = 401;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    ts_server_set_handler(f->srv, handler, &f->m);
    f->a = it_auth_at(&f->c, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_AUTO);
    add_code(f, f->c.code);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    lf_auth_free(f->a);
    ts_server_stop(f->srv);
    pthread_mutex_destroy(&f->m.mu);
    test_free(f);
    return 0;
}

/* Requests carrying `code`; *last_idx receives the index of the last one. */
static size_t sightings(fixture *f, const char *code, size_t *last_idx) {
    size_t n = 0;
    for (size_t i = 0; i < ts_server_request_count(f->srv); i++) {
        const ts_request *r = ts_server_request(f->srv, i);
        if (ts_request_contains(r, code)) {
            n++;
            if (last_idx) *last_idx = i;
        }
    }
    return n;
}

static lf_status exchange(fixture *f, const char *code, lf_error *err, char *token_out, size_t size) {
    lf_token *t = NULL;
    lf_status st = lf_exchange_code(f->a, code, &t, err);
    if (st == LF_OK) {
        snprintf(token_out, size, "%s", lf_token_value(t));
        lf_token_free(t);
    } else {
        assert_null(t);
    }
    it_assert_clean(err, &f->c, "auto");
    return st;
}

static void expect_token(const char *got, const char *code) {
    char want[128];
    snprintf(want, sizeof want, "tok-%s", code);
    assert_string_equal(got, want);
}

/* An exchange of `code` that must succeed with the server's token for it. */
static void exchange_ok(fixture *f, const char *code) {
    lf_error err;
    char tok[256];
    char what[96];
    snprintf(what, sizeof what, "exchange of %.60s", code);
    it_expect_status(exchange(f, code, &err, tok, sizeof tok), LF_OK, &err, what);
    expect_token(tok, code);
}

/* A new code the server honours (written to code), exchanged with
 * exchange_ok(). */
static void exchange_new_code(fixture *f, char *code, size_t size) {
    ts_random_token(code, size, "code");
    add_code(f, code);
    exchange_ok(f, code);
}

/* `code` reached the server exactly once: that request is inspected into
 * *s and its index returned. */
static size_t sent_once(fixture *f, const char *code, seen *s) {
    size_t idx = 0;
    size_t n = sightings(f, code, &idx);
    if (n != 1) fail_msg("code %.60s reached the server %zu times, want once", code, n);
    inspect(ts_server_request(f->srv, idx), &f->c, s);
    return idx;
}

/* The handle's first exchange, of the fixture's code: it succeeds and the
 * code goes out once, as the last request (after any probes). */
static size_t first_exchange(fixture *f, seen *s) {
    exchange_ok(f, f->c.code);
    size_t idx = sent_once(f, f->c.code, s);
    assert_int_equal(idx, ts_server_request_count(f->srv) - 1);
    return idx;
}

static void test_basic_only_server(void **state) {
    fixture *f = *state;
    f->m.accept_basic = 1;
    seen s;
    size_t idx = first_exchange(f, &s);
    assert_true(s.basic_ok);
    assert_true(s.is_form);
    const ts_request *r = ts_server_request(f->srv, idx);
    assert_false(ts_mem_contains(ts_request_body(r), ts_request_body_len(r), "client_secret"));
    /* at least one probe went before */
    assert_true(idx >= 1);

    /* learned: the next exchanges go straight out in Basic style */
    size_t before = ts_server_request_count(f->srv);
    for (int i = 0; i < 3; i++) {
        char code2[48];
        exchange_new_code(f, code2, sizeof code2);
        assert_int_equal(ts_server_request_count(f->srv), before + 1 + (size_t)i);
        inspect(ts_server_request(f->srv, before + (size_t)i), &f->c, &s);
        assert_true(s.basic_ok);
        assert_string_equal(s.code, code2);
    }
}

/* A server that takes JSON-body credentials only and refuses Basic ones with
 * HTTP reject_status. */
static void json_only(fixture *f, int reject_status) {
    f->m.accept_json = 1;
    f->m.reject_status = reject_status;
    seen s;
    size_t idx = first_exchange(f, &s);
    assert_true(s.json_ok);
    assert_false(s.has_basic);
    /* a Basic probe was refused before the JSON style was picked */
    assert_true(idx >= 2);

    size_t before = ts_server_request_count(f->srv);
    char code2[48];
    exchange_new_code(f, code2, sizeof code2);
    assert_int_equal(ts_server_request_count(f->srv), before + 1);
}

static void test_json_only_server(void **state) { json_only(*state, 401); }
static void test_json_only_server_basic_404(void **state) { json_only(*state, 404); }
static void test_json_only_server_basic_405(void **state) { json_only(*state, 405); }
static void test_json_only_server_basic_403(void **state) { json_only(*state, 403); }

/* A 401 whose message also names the code still rejects the client in that
 * style: the status decides, not the words. */
static void test_json_only_server_basic_401_naming_the_code(void **state) {
    fixture *f = *state;
    f->m.reject_body =
        "{\"error\":\"unauthorized\",\"message\":\"authorization code exchange requires valid "
        "client credentials\"}";
    json_only(f, 401);
}

static void test_json_only_server_basic_403_invalid_grant(void **state) {
    fixture *f = *state;
    f->m.reject_body = "{\"error\":\"invalid_grant\"}";
    json_only(f, 403);
}

typedef struct prober {
    fixture *f;
    lf_status st;
} prober;

static void *first_use(void *arg) {
    prober *p = arg;
    lf_token *t = NULL;
    p->st = lf_exchange_code(p->f->a, p->f->c.code, &t, NULL);
    lf_token_free(t);
    return NULL;
}

/* While one call probes (its probes answered after 3 s), a second call
 * with a 300 ms timeout, or a set cancel flag, ends on its own terms, and
 * its code is never sent. */
static void waiting_caller(fixture *f, long timeout_ms, int cancelled, lf_status want) {
    f->m.accept_json = 1;
    f->m.probe_delay_ms = 3000;
    prober p = {f, LF_E_INTERNAL};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, first_use, &p), 0);
    assert_true(ts_server_wait_requests(f->srv, 1, 5000)); /* the probe is out */

    char code[48];
    ts_random_token(code, sizeof code, "waiter");
    add_code(f, code);
    int cancel = cancelled;
    lf_code_sent sent = LF_CODE_SENT;
    lf_call_options o = it_call_options(timeout_ms, &cancel);
    o.code_sent = &sent;
    lf_token *t = NULL;
    lf_error err;
    long long t0 = ts_now_ms();
    lf_status st = lf_exchange_code_ex(f->a, code, &o, &t, &err);
    it_assert_faster_than(t0, 1500, "a call waiting for another call's probe");
    IT_ASSERT_STATUS(st, want, &err);
    assert_null(t);
    assert_int_equal(sent, LF_CODE_NOT_SENT);

    pthread_join(th, NULL);
    IT_ASSERT_STATUS(p.st, LF_OK, (lf_error *)NULL);
    assert_int_equal(sightings(f, code, NULL), 0);
}

static void test_waiting_caller_keeps_its_own_timeout(void **state) { waiting_caller(*state, 300, 0, LF_E_TIMEOUT); }

static void test_waiting_caller_keeps_its_own_cancel_flag(void **state) {
    waiting_caller(*state, 0, 1, LF_E_CANCELLED);
}

/* The call's timeout bounds the probes and the real request together, not
 * each request on its own: with every probe answered after 900 ms, a 1000 ms
 * call gives up during its second probe, and its code never goes out. */
static void test_timeout_bounds_the_probes_and_the_code_together(void **state) {
    fixture *f = *state;
    f->m.accept_json = 1; /* the Basic probe is refused, the JSON one accepted */
    f->m.probe_delay_ms = 900;
    lf_code_sent sent = LF_CODE_SENT;
    lf_call_options o = it_call_options(1000, NULL);
    o.code_sent = &sent;
    lf_token *t = NULL;
    lf_error err;
    long long t0 = ts_now_ms();
    lf_status st = lf_exchange_code_ex(f->a, f->c.code, &o, &t, &err);
    it_assert_faster_than(t0, 1600, "an AUTO exchange with a 1000 ms timeout");
    IT_ASSERT_STATUS(st, LF_E_TIMEOUT, &err);
    assert_null(t);
    assert_int_equal(sent, LF_CODE_NOT_SENT);
    assert_false(ts_server_saw(f->srv, f->c.code));
}

static void test_both_reject_client(void **state) {
    fixture *f = *state;
    for (int round = 0; round < 2; round++) {
        lf_error err;
        char tok[256];
        IT_ASSERT_STATUS(exchange(f, f->c.code, &err, tok, sizeof tok), LF_E_INVALID_CLIENT, &err);
        assert_int_equal(sightings(f, f->c.code, NULL), 0);
        assert_true(ts_server_request_count(f->srv) >= 1);
    }
    assert_false(ts_server_saw(f->srv, f->c.code));
}

static void test_probe_hits_500(void **state) {
    fixture *f = *state;
    f->m.accept_basic = 1;
    f->m.fail_500 = 1;
    lf_error err;
    char tok[256];
    IT_ASSERT_STATUS(exchange(f, f->c.code, &err, tok, sizeof tok), LF_E_HTTP, &err);
    assert_int_equal(err.http_status, 500);
    assert_false(ts_server_saw(f->srv, f->c.code));
    size_t probes = ts_server_request_count(f->srv);
    assert_true(probes >= 1);

    /* nothing was cached: once the server recovers, a new probe runs */
    pthread_mutex_lock(&f->m.mu);
    f->m.fail_500 = 0;
    pthread_mutex_unlock(&f->m.mu);
    exchange_ok(f, f->c.code);
    assert_true(ts_server_request_count(f->srv) >= probes + 2);
    assert_int_equal(sightings(f, f->c.code, NULL), 1);
}

typedef struct racer {
    fixture *f;
    char code[48];
    lf_status st;
    char tok[256];
} racer;

static void *race(void *arg) {
    racer *r = arg;
    lf_token *t = NULL;
    lf_error err;
    r->st = lf_exchange_code(r->f->a, r->code, &t, &err);
    if (t) snprintf(r->tok, sizeof r->tok, "%s", lf_token_value(t));
    lf_token_free(t);
    return NULL;
}

/* Several threads make the handle's first exchange at once: whatever the
 * probing does, each real code reaches the server exactly once. */
static void test_concurrent_first_use(void **state) {
    fixture *f = *state;
    f->m.accept_json = 1;
    racer rs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        rs[i].f = f;
        ts_random_token(rs[i].code, sizeof rs[i].code, "code");
        add_code(f, rs[i].code);
        rs[i].tok[0] = '\0';
    }
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, race, &rs[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        IT_ASSERT_STATUS(rs[i].st, LF_OK, (lf_error *)NULL);
        expect_token(rs[i].tok, rs[i].code);
        seen s;
        sent_once(f, rs[i].code, &s);
        assert_true(s.json_ok);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_only_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_only_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_only_server_basic_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_only_server_basic_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_only_server_basic_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_only_server_basic_401_naming_the_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_only_server_basic_403_invalid_grant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_caller_keeps_its_own_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_caller_keeps_its_own_cancel_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_bounds_the_probes_and_the_code_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_reject_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_hits_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_use, setup, teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
