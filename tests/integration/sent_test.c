/* "Was the code sent?": every way an exchange can end tells, through
 * lf_call_options.code_sent, whether the code can have reached the server;
 * plus what the transport does once a request is out (stall limit, answers
 * that are not HTTP). */
#include "it_common.h"

#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/oauth/access_token"
/* Written by nothing: shows that code_sent was left alone. */
#define UNTOUCHED ((lf_code_sent)77)

typedef it_fixture fixture;

/* The fixture's handle for `url`; stall_ms 0 keeps the default. */
static void auth_for(fixture *f, const char *url, long timeout_ms, long stall_ms, const char *ca_file) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, url, NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.timeout_ms = timeout_ms;
    if (stall_ms) cfg.stall_timeout_ms = stall_ms;
    if (ca_file) cfg.ca_file = ca_file;
    f->a = it_auth(&cfg);
}

/* One exchange of the fixture's code that must end with `want` and report
 * `sent`; returns the milliseconds it took. */
static long long exchange_expect(fixture *f, const int *cancel, lf_status want, lf_code_sent sent) {
    lf_code_sent got = UNTOUCHED;
    lf_call_options o = it_call_options(0, cancel);
    o.code_sent = &got;
    lf_token *t = NULL;
    lf_error err;
    long long t0 = ts_now_ms();
    lf_status st = lf_exchange_code_ex(f->a, f->c.code, &o, &t, &err);
    long long took = ts_now_ms() - t0;
    lf_token_free(t);
    it_expect_status(st, want, &err, "exchange");
    it_assert_clean(&err, &f->c, "sent");
    if (got != sent) fail_msg("code_sent %d, want %d (status %s)", (int)got, (int)sent, lf_status_name(st));
    return took;
}

/* A port nothing listens on: a listener started and stopped. */
static int closed_port(void) {
    ts_raw *r = ts_raw_start();
    assert_non_null(r);
    int port = ts_raw_port(r);
    ts_raw_stop(r);
    return port;
}

static void test_success_reports_sent(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    char body[128];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", f->c.token);
    ts_server_respond(f->srv, 200, NULL, body);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 5000, 0, NULL);
    exchange_expect(f, NULL, LF_OK, LF_CODE_SENT);
}

static void test_rejected_code_reports_sent(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 400, NULL, "{\"error\":\"invalid_grant\"}");
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 5000, 0, NULL);
    exchange_expect(f, NULL, LF_E_INVALID_CODE, LF_CODE_SENT);
}

static void test_refused_connection_reports_not_sent(void **state) {
    fixture *f = *state;
    char url[96];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", closed_port(), TOKEN_PATH);
    auth_for(f, url, 5000, 0, NULL);
    exchange_expect(f, NULL, LF_E_NETWORK, LF_CODE_NOT_SENT);
}

static void test_untrusted_certificate_reports_not_sent(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 5000, 0, ts_pki_wrong_ca_file(it_pki));
    exchange_expect(f, NULL, LF_E_TLS, LF_CODE_NOT_SENT);
    assert_int_equal(ts_server_request_count(f->srv), 0);
}

static void test_peer_that_never_speaks_tls_times_out_not_sent(void **state) {
    fixture *f = *state;
    f->raw = ts_raw_start(); /* accepts, never answers the ClientHello */
    auth_for(f, ts_raw_url(f->raw, "https", TOKEN_PATH), 1500, 0, NULL);
    exchange_expect(f, NULL, LF_E_TIMEOUT, LF_CODE_NOT_SENT);
}

static void test_reset_after_the_request_reports_maybe_sent(void **state) {
    fixture *f = *state;
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, NULL, 0, TS_RAW_RESET);
    auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 5000, 0, NULL);
    exchange_expect(f, NULL, LF_E_NETWORK, LF_CODE_MAYBE_SENT);
    assert_int_equal(ts_raw_request_count(f->raw), 1);
    assert_true(ts_raw_saw(f->raw, f->c.code));
}

static void test_timeout_after_the_request_reports_maybe_sent(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    it_never_answer(f->srv);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 800, 0, NULL);
    exchange_expect(f, NULL, LF_E_TIMEOUT, LF_CODE_MAYBE_SENT);
}

static void test_cancel_before_sending_reports_not_sent(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 5000, 0, NULL);
    int cancel = 1;
    exchange_expect(f, &cancel, LF_E_CANCELLED, LF_CODE_NOT_SENT);
    assert_int_equal(ts_server_request_count(f->srv), 0);
}

static void test_bad_argument_reports_not_sent(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 5000, 0, NULL);
    lf_code_sent got = UNTOUCHED;
    lf_call_options o = it_call_options(0, NULL);
    o.code_sent = &got;
    lf_token *t = NULL;
    assert_int_equal(lf_exchange_code_ex(f->a, "", &o, &t, NULL), LF_E_INVALID_ARGUMENT);
    assert_int_equal(got, LF_CODE_NOT_SENT);
}

/* A 1.0 caller's lf_call_options ends before code_sent: nothing is written
 * past its struct_size. */
static void test_old_call_options_are_not_written_past(void **state) {
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    ts_server_respond(f->srv, 400, NULL, "{\"error\":\"invalid_grant\"}");
    auth_for(f, ts_server_url(f->srv, TOKEN_PATH), 5000, 0, NULL);
    lf_code_sent got = UNTOUCHED;
    lf_call_options o;
    memset(&o, 0, sizeof o);
    lf_call_options_init(&o, offsetof(lf_call_options, code_sent));
    o.code_sent = &got; /* beyond struct_size: must be ignored */
    lf_token *t = NULL;
    assert_int_equal(lf_exchange_code_ex(f->a, f->c.code, &o, &t, NULL), LF_E_INVALID_CODE);
    assert_int_equal(got, UNTOUCHED);
}

/* A server that sends part of its answer and then nothing: the stall limit
 * ends the call long before the whole-request timeout. */
static void test_stalled_answer_ends_at_the_stall_limit(void **state) {
    fixture *f = *state;
    f->raw = ts_raw_start();
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"acc";
    ts_raw_push(f->raw, 1, head, sizeof head - 1, TS_RAW_STALL);
    auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 20000, 1000, NULL);
    long long took = exchange_expect(f, NULL, LF_E_TIMEOUT, LF_CODE_MAYBE_SENT);
    if (took > 4000) fail_msg("stalled answer took %lld ms; the stall limit is 1 s, the timeout 20 s", took);
}

static void test_stall_timeout_must_be_positive(void **state) {
    fixture *f = *state;
    lf_auth_config cfg;
    it_config(&cfg, &f->c, "https://127.0.0.1:9/token", NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.stall_timeout_ms = 0;
    lf_auth *a = NULL;
    assert_int_equal(lf_auth_new(&cfg, &a, NULL), LF_E_INVALID_ARGUMENT);
    assert_null(a);
}

/* Answers that are not HTTP/1.x come from a broken server, not from an
 * insecure URL. */
static void not_http(fixture *f, const char *answer) {
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, answer, strlen(answer), TS_RAW_CLOSE);
    auth_for(f, ts_raw_url(f->raw, "http", TOKEN_PATH), 5000, 0, NULL);
    exchange_expect(f, NULL, LF_E_PROTOCOL, LF_CODE_MAYBE_SENT);
}

static void test_http09_answer_is_a_protocol_error(void **state) {
    not_http(*state, "{\"access_token\":\"planted\"}\n");
}

static void test_garbage_status_line_is_a_protocol_error(void **state) {
    not_http(*state, "HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
}

int main(void) {
#define T(fn) IT_FIXTURE_TEST(fn)
    const struct CMUnitTest tests[] = {
        T(test_success_reports_sent),
        T(test_rejected_code_reports_sent),
        T(test_refused_connection_reports_not_sent),
        T(test_untrusted_certificate_reports_not_sent),
        T(test_peer_that_never_speaks_tls_times_out_not_sent),
        T(test_reset_after_the_request_reports_maybe_sent),
        T(test_timeout_after_the_request_reports_maybe_sent),
        T(test_cancel_before_sending_reports_not_sent),
        T(test_bad_argument_reports_not_sent),
        T(test_old_call_options_are_not_written_past),
        T(test_stalled_answer_ends_at_the_stall_limit),
        T(test_stall_timeout_must_be_positive),
        T(test_http09_answer_is_a_protocol_error),
        T(test_garbage_status_line_is_a_protocol_error),
    };
#undef T
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
