/* Transport failures: deadlines, cancellation, TLS verification, refused
 * connections, and that a code is never sent twice. */
#include "it_common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/oauth/access_token"

typedef it_fixture fixture;

/* Makes the test's handle for `url` (teardown frees it). */
static void auth_for(fixture *f, const char *url, long timeout_ms, const char *ca_file) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, url, NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.timeout_ms = timeout_ms;
    if (ca_file) cfg.ca_file = ca_file;
    assert_null(f->a);
    f->a = it_auth(&cfg);
}

static lf_status exchange(fixture *f, const char *code, const lf_call_options *o, lf_error *err) {
    lf_token *t = (lf_token *)f;
    lf_status st = lf_exchange_code_ex(f->a, code, o, &t, err);
    if (st == LF_OK) {
        assert_non_null(t);
        lf_token_free(t);
    } else {
        assert_null(t);
    }
    it_assert_clean(err, &f->c, "transport");
    return st;
}

/* One exchange of the fixture's code (options `o`, NULL: none) that must end
 * with `want` in less than limit_ms; returns the time it took. */
static long long exchange_ends_within(fixture *f, const lf_call_options *o, lf_status want, long long limit_ms,
                                      const char *what) {
    lf_error err;
    long long t0 = ts_now_ms();
    it_expect_status(exchange(f, f->c.code, o, &err), want, &err, what);
    long long took = ts_now_ms() - t0;
    it_assert_faster_than(t0, limit_ms, what);
    return took;
}

/* 1 when the body of request r carries `code`, else 0. */
static size_t body_carries(const ts_request *r, const char *code) {
    return (size_t)ts_mem_contains(ts_request_body(r), ts_request_body_len(r), code);
}

/* Number of requests recorded by the HTTPS server whose body carries `code`. */
static size_t code_sightings(ts_server *s, const char *code) {
    size_t n = 0;
    for (size_t i = 0; i < ts_server_request_count(s); i++) n += body_carries(ts_server_request(s, i), code);
    return n;
}

/* The same for the raw listener. */
static size_t raw_code_sightings(ts_raw *s, const char *code) {
    size_t n = 0;
    for (size_t i = 0; i < ts_raw_request_count(s); i++) n += body_carries(ts_raw_request(s, i), code);
    return n;
}

/* An HTTPS server that reads each request and never answers, and the
 * handle for it, whose own timeout is handle_timeout_ms. */
static void start_silent_server(fixture *f, long handle_timeout_ms) {
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    it_never_answer(f->srv);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), handle_timeout_ms, NULL);
}

/* A server (with this certificate) answering every request with the
 * fixture's token. */
static void start_token_server(fixture *f, ts_cert cert) {
    f->srv = ts_server_start(it_pki, cert);
    assert_non_null(f->srv);
    char body[128];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", f->c.token);
    ts_server_respond(f->srv, 200, NULL, body);
}

/* A plain-HTTP raw listener and a 5 s handle for it; the test queues the
 * listener's steps. */
static void start_raw_server(fixture *f) {
    f->raw = ts_raw_start();
    assert_non_null(f->raw);
    auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 5000, NULL);
}

/* ---- deadlines ------------------------------------------------------------------ */

static void test_stalled_server_times_out(void **state) {
    fixture *f = *state;
    /* Under valgrind the TLS handshake alone can take a second: give the
     * request time to reach the server before the deadline. */
    long timeout = it_slow() ? 6000 : 1500;
    start_silent_server(f, timeout);
    long long dt = exchange_ends_within(f, NULL, LF_E_TIMEOUT, timeout + 3500, "exchange with a stalled server");
    if (dt < timeout - 500) fail_msg("timed out after %lld ms, before the %ld ms deadline", dt, timeout);
    /* the request did reach the server, exactly once: no retry */
    assert_int_equal(ts_server_request_count(f->srv), 1);
    assert_int_equal(code_sightings(f->srv, f->c.code), 1);
    ts_sleep_ms(300);
    assert_int_equal(ts_server_request_count(f->srv), 1);
}

static void test_tls_never_starts_times_out(void **state) {
    fixture *f = *state;
    f->raw = ts_raw_start(); /* accepts, never says a word */
    assert_non_null(f->raw);
    auth_for(f, ts_raw_url(f->raw, "https", TOKEN_PATH), 1500, NULL);
    exchange_ends_within(f, NULL, LF_E_TIMEOUT, 5000, "exchange with a peer that never starts TLS");
}

static void test_call_timeout_smaller_than_handle_wins(void **state) {
    fixture *f = *state;
    start_silent_server(f, 30000);
    lf_call_options o = it_call_options(1000, NULL);
    exchange_ends_within(f, &o, LF_E_TIMEOUT, 5000, "1 s call timeout on a 30 s handle");
}

static void test_call_timeout_larger_than_handle_loses(void **state) {
    fixture *f = *state;
    start_silent_server(f, 1200);
    lf_call_options o = it_call_options(60000, NULL);
    exchange_ends_within(f, &o, LF_E_TIMEOUT, 5000, "60 s call timeout on a 1.2 s handle");
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
    start_silent_server(f, 30000);
    int flag = 0;
    lf_call_options o = it_call_options(0, &flag);
    canceller c = {&flag, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &c), 0);
    lf_error err;
    long long t0 = ts_now_ms();
    lf_status st = exchange(f, f->c.code, &o, &err);
    long long done = ts_now_ms();
    pthread_join(th, NULL);
    IT_ASSERT_STATUS(st, LF_E_CANCELLED, &err);
    assert_true(c.set_at > 0);
    assert_true(done - c.set_at < 1500);
    assert_true(done - t0 < 5000);
    assert_true(ts_server_request_count(f->srv) <= 1);
}

static void test_cancel_already_set(void **state) {
    fixture *f = *state;
    start_silent_server(f, 30000);
    int flag = 1;
    lf_call_options o = it_call_options(0, &flag);
    exchange_ends_within(f, &o, LF_E_CANCELLED, 1500, "exchange with the cancel flag already set");
}

/* ---- TLS ------------------------------------------------------------------------------ */

static void tls_fails(fixture *f, ts_cert cert, const char *ca_file) {
    start_token_server(f, cert);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, ca_file);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, f->c.code, NULL, &err), LF_E_TLS, &err);
    /* nothing readable reached the server */
    assert_int_equal(ts_server_request_count(f->srv), 0);
}

static void test_wrong_ca(void **state) { tls_fails(*state, TS_CERT_GOOD, ts_pki_wrong_ca_file(it_pki)); }
static void test_expired_cert(void **state) { tls_fails(*state, TS_CERT_EXPIRED, NULL); }
static void test_wrong_host(void **state) { tls_fails(*state, TS_CERT_WRONG_HOST, NULL); }
static void test_self_signed(void **state) { tls_fails(*state, TS_CERT_SELF_SIGNED, NULL); }

static void test_right_ca_works(void **state) {
    fixture *f = *state;
    start_token_server(f, TS_CERT_GOOD);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, f->c.code, NULL, &err), LF_OK, &err);
}

/* A ca_file that cannot be read: a TLS failure, nothing sent. */
static void test_missing_ca_file(void **state) { tls_fails(*state, TS_CERT_GOOD, "/nonexistent/lf-auth-test/ca.pem"); }

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

/* n exchanges on the test's handle started together from n threads; each
 * must end with `want`. */
static void exchange_in_parallel(fixture *f, int n, const char *tag, lf_status want) {
    par_call calls[3];
    pthread_t th[3];
    assert_true(n <= 3);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++) {
        calls[i].a = f->a;
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
    start_token_server(f, TS_CERT_GOOD);
    ts_server_respond_delay(f->srv, 1000);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    exchange_in_parallel(f, 3, "par", LF_OK);
    assert_true(ts_server_connection_count(f->srv) >= 3);
    assert_int_equal(ts_server_request_count(f->srv), 3);
}

/* With the wrong CA, calls made together from several threads (which take
 * new pooled connections when they overlap) are all refused, twice over,
 * and no request reaches the server. */
static void test_wrong_ca_parallel_calls(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    ts_server_respond(f->srv, 200, NULL, "{\"access_token\":\"never\"}");
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, ts_pki_wrong_ca_file(it_pki));
    exchange_in_parallel(f, 3, "wrongca", LF_E_TLS);
    exchange_in_parallel(f, 3, "wrongca-again", LF_E_TLS);
    assert_int_equal(ts_server_request_count(f->srv), 0);
}

/* The test server closes a keep-alive connection after 1 s idle (with a TLS
 * close_notify). An exchange after a longer pause must open a new connection
 * instead of failing on the stale one: the library never re-sends, so a
 * stale reuse would surface as LF_E_NETWORK. Each code is sent once. */
static void test_idle_connection_closed_by_server_is_not_a_failure(void **state) {
    fixture *f = *state;
    start_token_server(f, TS_CERT_GOOD);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    lf_error err;
    char second[64];
    snprintf(second, sizeof second, "%s-second", f->c.code);
    IT_ASSERT_STATUS(exchange(f, f->c.code, NULL, &err), LF_OK, &err);
    ts_sleep_ms(2500);
    IT_ASSERT_STATUS(exchange(f, second, NULL, &err), LF_OK, &err);
    assert_int_equal(ts_server_request_count(f->srv), 2);
    assert_int_equal(code_sightings(f->srv, second), 1);
}

/* ---- connection failures ---------------------------------------------------------------- */

static void test_connection_refused(void **state) {
    fixture *f = *state;
    ts_raw *r = ts_raw_start();
    assert_non_null(r);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", ts_raw_port(r), TOKEN_PATH);
    ts_raw_stop(r); /* the port is closed now */
    auth_for(f, url, 10000, NULL);
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(exchange(f, f->c.code, NULL, &err), LF_E_NETWORK, &err);
    it_assert_faster_than(t0, 5000, "exchange with a closed port");
    assert_int_equal(err.http_status, 0);
}

/* ---- never a second POST ------------------------------------------------------------------ */

static void test_no_retry_after_5xx(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    int codes[] = {500, 502, 503, 504};
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 10000, NULL);
    for (size_t i = 0; i < 4; i++) {
        ts_server_clear(f->srv);
        ts_server_respond(f->srv, codes[i], "text/plain", "try again");
        ts_server_respond_header(f->srv, "Retry-After", "1");
        lf_error err;
        IT_ASSERT_STATUS(exchange(f, f->c.code, NULL, &err), LF_E_HTTP, &err);
        assert_int_equal(err.http_status, codes[i]);
        ts_sleep_ms(100);
        assert_int_equal(ts_server_request_count(f->srv), 1);
    }
}

static const char ok_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{\"access_token\":\"abcd\"}";

/* The raw server reads the request and resets / closes the connection. A
 * third step answers normally so that a retry would be recorded. */
static void no_retry_after_drop(fixture *f, ts_raw_after how) {
    start_raw_server(f);
    ts_raw_push(f->raw, 1, NULL, 0, how);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_CLOSE);
    lf_error err;
    lf_status st = exchange(f, f->c.code, NULL, &err);
    ts_sleep_ms(200);
    assert_int_equal(raw_code_sightings(f->raw, f->c.code), 1);
    IT_ASSERT_STATUS(st, LF_E_NETWORK, &err);
}

static void test_no_retry_after_reset(void **state) { no_retry_after_drop(*state, TS_RAW_RESET); }
static void test_no_retry_after_close(void **state) { no_retry_after_drop(*state, TS_RAW_CLOSE); }

/* The trap: a pooled keep-alive connection that the server drops after
 * reading the second request. libcurl retries such requests on a fresh
 * connection by itself unless told not to; a code must still go out once. */
static void reused_connection_drop(fixture *f, ts_raw_after how) {
    start_raw_server(f);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_KEEP);
    ts_raw_push(f->raw, 1, NULL, 0, how);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_CLOSE);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, f->c.code, NULL, &err), LF_OK, &err);
    char code2[48];
    ts_random_token(code2, sizeof code2, "code2");
    lf_status st = exchange(f, code2, NULL, &err);
    ts_sleep_ms(200);
    size_t seen = raw_code_sightings(f->raw, code2);
    if (seen != 1)
        fail_msg(
            "second code sent %zu times over %zu connections (status %s): the library let the "
            "transport retry a request carrying a single-use code",
            seen, ts_raw_connection_count(f->raw), lf_status_name(st));
    IT_ASSERT_STATUS(st, LF_E_NETWORK, &err);
}

static void test_no_retry_on_reused_connection_reset(void **state) { reused_connection_drop(*state, TS_RAW_RESET); }
static void test_no_retry_on_reused_connection_close(void **state) { reused_connection_drop(*state, TS_RAW_CLOSE); }

static void test_truncated_body_is_not_a_token(void **state) {
    fixture *f = *state;
    static const char partial[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"access_token\":\"abcd\"}";
    start_raw_server(f);
    ts_raw_push(f->raw, 1, partial, sizeof partial - 1, TS_RAW_CLOSE);
    ts_raw_push(f->raw, 1, ok_response, sizeof ok_response - 1, TS_RAW_CLOSE);
    lf_error err;
    lf_status st = exchange(f, f->c.code, NULL, &err);
    assert_true(st == LF_E_NETWORK || st == LF_E_PROTOCOL);
    assert_int_equal(raw_code_sightings(f->raw, f->c.code), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IT_FIXTURE_TEST(test_stalled_server_times_out),
        IT_FIXTURE_TEST(test_tls_never_starts_times_out),
        IT_FIXTURE_TEST(test_call_timeout_smaller_than_handle_wins),
        IT_FIXTURE_TEST(test_call_timeout_larger_than_handle_loses),
        IT_FIXTURE_TEST(test_cancel_from_another_thread),
        IT_FIXTURE_TEST(test_cancel_already_set),
        IT_FIXTURE_TEST(test_wrong_ca),
        IT_FIXTURE_TEST(test_expired_cert),
        IT_FIXTURE_TEST(test_wrong_host),
        IT_FIXTURE_TEST(test_self_signed),
        IT_FIXTURE_TEST(test_right_ca_works),
        IT_FIXTURE_TEST(test_missing_ca_file),
        IT_FIXTURE_TEST(test_pool_grows_for_parallel_calls),
        IT_FIXTURE_TEST(test_wrong_ca_parallel_calls),
        IT_FIXTURE_TEST(test_idle_connection_closed_by_server_is_not_a_failure),
        IT_FIXTURE_TEST(test_connection_refused),
        IT_FIXTURE_TEST(test_no_retry_after_5xx),
        IT_FIXTURE_TEST(test_no_retry_after_reset),
        IT_FIXTURE_TEST(test_no_retry_after_close),
        IT_FIXTURE_TEST(test_no_retry_on_reused_connection_reset),
        IT_FIXTURE_TEST(test_no_retry_on_reused_connection_close),
        IT_FIXTURE_TEST(test_truncated_body_is_not_a_token),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
