/* Transport failures: deadlines, cancellation, TLS verification, refused
 * connections, and that a code is never sent twice. */
#include "it_common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/oauth/access_token"

typedef struct fixture {
    ts_server *srv;
    ts_raw *raw;
    it_creds c;
} fixture;

static int setup(void **state) {
    fixture *f = test_calloc(1, sizeof *f);
    it_creds_make(&f->c);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    ts_server_stop(f->srv);
    ts_raw_stop(f->raw);
    test_free(f);
    return 0;
}

static lf_auth *auth_for(fixture *f, const char *url, long timeout_ms, const char *ca_file) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, url, NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.timeout_ms = timeout_ms;
    if (ca_file) cfg.ca_file = ca_file;
    return it_auth(&cfg);
}

static lf_status exchange(fixture *f, lf_auth *a, const char *code, const lf_call_options *o, lf_error *err) {
    lf_token *t = (lf_token *)f;
    lf_status st = lf_exchange_code_ex(a, code, o, &t, err);
    if (st == LF_OK) {
        assert_non_null(t);
        lf_token_free(t);
    } else {
        assert_null(t);
    }
    it_assert_clean(err, &f->c, "transport");
    return st;
}

/* Number of recorded requests (HTTPS server) whose body carries `code`. */
static size_t code_sightings(ts_server *s, const char *code) {
    size_t n = 0;
    for (size_t i = 0; i < ts_server_request_count(s); i++) {
        const ts_request *r = ts_server_request(s, i);
        n += (size_t)ts_mem_contains(ts_request_body(r), ts_request_body_len(r), code);
    }
    return n;
}

static size_t raw_code_sightings(ts_raw *s, const char *code) {
    size_t n = 0;
    for (size_t i = 0; i < ts_raw_request_count(s); i++) {
        const ts_request *r = ts_raw_request(s, i);
        n += (size_t)ts_mem_contains(ts_request_body(r), ts_request_body_len(r), code);
    }
    return n;
}

/* ---- deadlines ------------------------------------------------------------------ */

static void test_stalled_server_times_out(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 200, NULL, "{}");
    ts_server_respond_delay(f->srv, -1); /* reads the request, never answers */
    /* Under valgrind the TLS handshake alone can take a second: give the
     * request time to reach the server before the deadline. */
    long timeout = it_slow() ? 6000 : 1500;
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), timeout, NULL);
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_E_TIMEOUT, &err);
    long long dt = ts_now_ms() - t0;
    assert_true(dt >= timeout - 500);
    assert_true(dt < timeout + 3500);
    /* the request did reach the server, exactly once: no retry */
    assert_int_equal(ts_server_request_count(f->srv), 1);
    assert_int_equal(code_sightings(f->srv, f->c.code), 1);
    ts_sleep_ms(300);
    assert_int_equal(ts_server_request_count(f->srv), 1);
    lf_auth_free(a);
}

static void test_tls_never_starts_times_out(void **state) {
    fixture *f = *state;
    f->raw = ts_raw_start(); /* accepts, never says a word */
    assert_non_null(f->raw);
    lf_auth *a = auth_for(f, ts_raw_url(f->raw, "https", TOKEN_PATH), 1500, NULL);
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_E_TIMEOUT, &err);
    assert_true(ts_now_ms() - t0 < 5000);
    lf_auth_free(a);
}

static void test_call_timeout_smaller_than_handle_wins(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 200, NULL, "{}");
    ts_server_respond_delay(f->srv, -1);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 30000, NULL);
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);
    o.timeout_ms = 1000;
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, &o, &err), LF_E_TIMEOUT, &err);
    assert_true(ts_now_ms() - t0 < 5000);
    lf_auth_free(a);
}

static void test_call_timeout_larger_than_handle_loses(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 200, NULL, "{}");
    ts_server_respond_delay(f->srv, -1);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 1200, NULL);
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);
    o.timeout_ms = 60000;
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, &o, &err), LF_E_TIMEOUT, &err);
    assert_true(ts_now_ms() - t0 < 5000);
    lf_auth_free(a);
}

/* ---- cancellation ------------------------------------------------------------------ */

typedef struct canceller {
    int *flag;
    long long set_at;
} canceller;

static void *cancel_later(void *arg) {
    canceller *c = arg;
    ts_sleep_ms(200);
    c->set_at = ts_now_ms();
    __atomic_store_n(c->flag, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_cancel_from_another_thread(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 200, NULL, "{}");
    ts_server_respond_delay(f->srv, -1);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 30000, NULL);
    int flag = 0;
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);
    o.cancel = &flag;
    canceller c = {&flag, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &c), 0);
    lf_error err;
    long long t0 = ts_now_ms();
    lf_status st = exchange(f, a, f->c.code, &o, &err);
    long long done = ts_now_ms();
    pthread_join(th, NULL);
    IT_ASSERT_STATUS(st, LF_E_CANCELLED, &err);
    assert_true(c.set_at > 0);
    assert_true(done - c.set_at < 1500);
    assert_true(done - t0 < 5000);
    assert_true(ts_server_request_count(f->srv) <= 1);
    lf_auth_free(a);
}

static void test_cancel_already_set(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 200, NULL, "{}");
    ts_server_respond_delay(f->srv, -1);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 30000, NULL);
    int flag = 1;
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);
    o.cancel = &flag;
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, &o, &err), LF_E_CANCELLED, &err);
    assert_true(ts_now_ms() - t0 < 1500);
    lf_auth_free(a);
}

/* A server answering every request with the fixture's token. */
static void start_token_server(fixture *f) {
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    char body[128];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", f->c.token);
    ts_server_respond(f->srv, 200, NULL, body);
}

/* ---- TLS ------------------------------------------------------------------------------ */

static void tls_fails(fixture *f, ts_cert cert, const char *ca_file) {
    f->srv = ts_server_start(it_pki, cert);
    assert_non_null(f->srv);
    char body[128];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", f->c.token);
    ts_server_respond(f->srv, 200, NULL, body);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, ca_file);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_E_TLS, &err);
    /* nothing readable reached the server */
    assert_int_equal(ts_server_request_count(f->srv), 0);
    lf_auth_free(a);
}

static void test_wrong_ca(void **state) { tls_fails(*state, TS_CERT_GOOD, ts_pki_wrong_ca_file(it_pki)); }
static void test_expired_cert(void **state) { tls_fails(*state, TS_CERT_EXPIRED, NULL); }
static void test_wrong_host(void **state) { tls_fails(*state, TS_CERT_WRONG_HOST, NULL); }
static void test_self_signed(void **state) { tls_fails(*state, TS_CERT_SELF_SIGNED, NULL); }

static void test_right_ca_works(void **state) {
    fixture *f = *state;
    start_token_server(f);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_OK, &err);
    lf_auth_free(a);
}

/* A ca_file that cannot be read: a TLS failure, nothing sent. */
static void test_missing_ca_file(void **state) {
    tls_fails(*state, TS_CERT_GOOD, "/nonexistent/lf-auth-test/ca.pem");
}

/* Several exchanges on one handle at the same moment. */
typedef struct {
    lf_auth *a;
    char code[256]; /* a fixture code, a tag and a number */
    lf_status st;
    pthread_barrier_t *start;
} par_call;

static void *par_exchange(void *p) {
    par_call *c = p;
    pthread_barrier_wait(c->start); /* all calls begin together */
    lf_token *t = NULL;
    lf_error err;
    c->st = lf_exchange_code(c->a, c->code, &t, &err);
    if (c->st != LF_OK) fprintf(stderr, "par_exchange: %s: %s\n", lf_status_name(c->st), err.message);
    lf_token_free(t);
    return NULL;
}

/* n exchanges started together from n threads; each must end with `want`. */
static void exchange_in_parallel(fixture *f, lf_auth *a, int n, const char *tag, lf_status want) {
    par_call calls[3];
    pthread_t th[3];
    assert_true(n <= 3);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++) {
        calls[i].a = a;
        calls[i].start = &start;
        snprintf(calls[i].code, sizeof calls[i].code, "%s-%s%d", f->c.code, tag, i);
        calls[i].st = LF_E_INTERNAL;
        assert_int_equal(pthread_create(&th[i], NULL, par_exchange, &calls[i]), 0);
    }
    for (int i = 0; i < n; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < n; i++) assert_int_equal(calls[i].st, want);
}

/* Three exchanges in flight at once on one handle (the server answers
 * slowly, so they overlap): the pool grows to three connections, each
 * verified, and all three succeed. */
static void test_pool_grows_for_parallel_calls(void **state) {
    fixture *f = *state;
    start_token_server(f);
    ts_server_respond_delay(f->srv, 1000);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    exchange_in_parallel(f, a, 3, "par", LF_OK);
    assert_true(ts_server_connection_count(f->srv) >= 3);
    assert_int_equal(ts_server_request_count(f->srv), 3);
    lf_auth_free(a);
}

/* With the wrong CA, calls made together from several threads (which take
 * new pooled connections when they overlap) are all refused, twice over,
 * and no request reaches the server. */
static void test_wrong_ca_parallel_calls(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    ts_server_respond(f->srv, 200, NULL, "{\"access_token\":\"never\"}");
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, ts_pki_wrong_ca_file(it_pki));
    exchange_in_parallel(f, a, 3, "wrongca", LF_E_TLS);
    exchange_in_parallel(f, a, 3, "wrongca-again", LF_E_TLS);
    assert_int_equal(ts_server_request_count(f->srv), 0);
    lf_auth_free(a);
}

/* The test server closes a keep-alive connection after 1 s idle (with a TLS
 * close_notify). An exchange after a longer pause must open a new connection
 * instead of failing on the stale one: the library never re-sends, so a
 * stale reuse would surface as LF_E_NETWORK. Each code is sent once. */
static void test_idle_connection_closed_by_server_is_not_a_failure(void **state) {
    fixture *f = *state;
    start_token_server(f);
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    lf_error err;
    char second[64];
    snprintf(second, sizeof second, "%s-second", f->c.code);
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_OK, &err);
    ts_sleep_ms(2500);
    IT_ASSERT_STATUS(exchange(f, a, second, NULL, &err), LF_OK, &err);
    assert_int_equal(ts_server_request_count(f->srv), 2);
    assert_int_equal(code_sightings(f->srv, second), 1);
    lf_auth_free(a);
}

/* ---- connection failures ---------------------------------------------------------------- */

static void test_connection_refused(void **state) {
    fixture *f = *state;
    ts_raw *r = ts_raw_start();
    assert_non_null(r);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", ts_raw_port(r), TOKEN_PATH);
    ts_raw_stop(r); /* the port is closed now */
    lf_auth *a = auth_for(f, url, 10000, NULL);
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_E_NETWORK, &err);
    assert_true(ts_now_ms() - t0 < 5000);
    assert_int_equal(err.http_status, 0);
    lf_auth_free(a);
}

/* ---- never a second POST ------------------------------------------------------------------ */

static void test_no_retry_after_5xx(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    int codes[] = {500, 502, 503, 504};
    lf_auth *a = auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    for (size_t i = 0; i < 4; i++) {
        ts_server_clear(f->srv);
        ts_server_respond(f->srv, codes[i], "text/plain", "try again");
        ts_server_respond_header(f->srv, "Retry-After", "1");
        lf_error err;
        IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_E_HTTP, &err);
        assert_int_equal(err.http_status, codes[i]);
        ts_sleep_ms(100);
        assert_int_equal(ts_server_request_count(f->srv), 1);
    }
    lf_auth_free(a);
}

static const char ok_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{\"access_token\":\"abcd\"}";

/* The raw server reads the request and resets / closes the connection. A
 * third step answers normally so that a retry would be recorded. */
static void no_retry_after_drop(fixture *f, ts_raw_after how) {
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, NULL, 0, how);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_CLOSE);
    lf_auth *a = auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 5000, NULL);
    lf_error err;
    lf_status st = exchange(f, a, f->c.code, NULL, &err);
    ts_sleep_ms(200);
    assert_int_equal(raw_code_sightings(f->raw, f->c.code), 1);
    IT_ASSERT_STATUS(st, LF_E_NETWORK, &err);
    lf_auth_free(a);
}

static void test_no_retry_after_reset(void **state) { no_retry_after_drop(*state, TS_RAW_RESET); }
static void test_no_retry_after_close(void **state) { no_retry_after_drop(*state, TS_RAW_CLOSE); }

/* The trap: a pooled keep-alive connection that the server drops after
 * reading the second request. libcurl retries such requests on a fresh
 * connection by itself unless told not to; a code must still go out once. */
static void reused_connection_drop(fixture *f, ts_raw_after how) {
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_KEEP);
    ts_raw_push(f->raw, 1, NULL, 0, how);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_CLOSE);
    lf_auth *a = auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 5000, NULL);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, a, f->c.code, NULL, &err), LF_OK, &err);
    char code2[48];
    ts_random_token(code2, sizeof code2, "code2");
    lf_status st = exchange(f, a, code2, NULL, &err);
    ts_sleep_ms(200);
    size_t seen = raw_code_sightings(f->raw, code2);
    if (seen != 1)
        fail_msg("second code sent %zu times over %zu connections (status %s): the library let the "
                 "transport retry a request carrying a single-use code",
                 seen, ts_raw_connection_count(f->raw), lf_status_name(st));
    IT_ASSERT_STATUS(st, LF_E_NETWORK, &err);
    lf_auth_free(a);
}

static void test_no_retry_on_reused_connection_reset(void **state) {
    reused_connection_drop(*state, TS_RAW_RESET);
}
static void test_no_retry_on_reused_connection_close(void **state) {
    reused_connection_drop(*state, TS_RAW_CLOSE);
}

static void test_truncated_body_is_not_a_token(void **state) {
    fixture *f = *state;
    static const char partial[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"access_token\":\"abcd\"}";
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, partial, sizeof partial - 1, TS_RAW_CLOSE);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_CLOSE);
    lf_auth *a = auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 5000, NULL);
    lf_error err;
    lf_status st = exchange(f, a, f->c.code, NULL, &err);
    assert_true(st == LF_E_NETWORK || st == LF_E_PROTOCOL);
    assert_int_equal(raw_code_sightings(f->raw, f->c.code), 1);
    lf_auth_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stalled_server_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_never_starts_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_timeout_smaller_than_handle_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_timeout_larger_than_handle_loses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_from_another_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_already_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_cert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_signed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_right_ca_works, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_ca_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_grows_for_parallel_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_ca_parallel_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_connection_closed_by_server_is_not_a_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_after_5xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_after_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_on_reused_connection_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_on_reused_connection_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_body_is_not_a_token, setup, teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
