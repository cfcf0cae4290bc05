/* Hostile-server suite, TLS: a plain-HTTP server behind an https URL,
 * expired / self-signed / wrong-host certificates, a handshake that never
 * starts (RELIABILITY.md §3 A 4, 14-17). In every failure the code and the
 * secret must never reach the server: a failed handshake leaves no request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hostile_support.h"

#define TIME_BOUND_S(c) ((double)(c)->timeout_ms / 1000.0 + 2.0)
#define TOKEN_PATH "/oauth/access_token"

static const char *token_body(const hs_case *c) {
    static char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", c->token);
    return hs_write_file("body", body, strlen(body));
}

static void run(hs_case *c) {
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    hs_exchange(c);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
}

/* Nothing readable reached the server: no HTTP request, and neither the
 * code nor the secret (nor the Basic form) anywhere in what it received. */
static void assert_nothing_sent(const hs_case *c, int allow_raw) {
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    int leaked = hs_record_has(&r, c->code) || hs_record_has(&r, c->secret) || hs_record_has(&r, c->basic);
    if (r.requests != 0 || leaked || (!allow_raw && r.received != 0)) {
        print_error("server received %d requests, %zu bytes, secret/code present: %d\n", r.requests,
                    r.received, leaked);
        hs_record_free(&r);
        fail();
    }
    assert_true(r.conns >= 1); /* the client did connect: the failure is the TLS layer */
    hs_record_free(&r);
}

/* Control: the same PKI with the right certificate works, so the failures
 * below are the certificate's fault, not the harness's. */
static void good_certificate_ok(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "ok", "--body-file", token_body(c), NULL), 0);
    run(c);
    hs_assert_status(c, LF_OK);
    assert_string_equal(lf_token_value(c->tok), c->token);
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    assert_int_equal(r.posts, 1);
    assert_int_equal(hs_record_blobs_with(&r, c->code), 1);
    hs_record_free(&r);
}

/* A plain HTTP server on the port of an https URL: the ClientHello gets an
 * HTTP 400 back, OpenSSL reports "wrong version number" (libcurl
 * CURLE_SSL_CONNECT_ERROR), the library says LF_E_TLS. */
static void plain_http_server_for_https_url(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, NULL, "http-on-tls", NULL), 0);
    run(c);
    hs_assert_status(c, LF_E_TLS);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_nothing_sent(c, 1); /* it did receive the ClientHello */
}

static void bad_certificate(hs_case *c, const char *cert) {
    assert_int_equal(hs_start(c, 0, cert, "ok", "--body-file", token_body(c), NULL), 0);
    run(c);
    print_message("      %s: %s\n", lf_status_name(c->status), c->err.message);
    hs_assert_status(c, LF_E_TLS);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_nothing_sent(c, 0);
}

static void expired_certificate(void **state) { bad_certificate(*state, "expired"); }
static void self_signed_certificate(void **state) { bad_certificate(*state, "selfsigned"); }
static void wrong_host_certificate(void **state) { bad_certificate(*state, "wronghost"); }

/* With the system trust store (ca_file NULL, the production default) the
 * self-signed certificate and the test CA's certificate are both refused. */
static void self_signed_against_system_store(void **state) {
    hs_case *c = *state;
    c->system_store = 1;
    bad_certificate(c, "selfsigned");
}

static void test_ca_not_in_system_store(void **state) {
    hs_case *c = *state;
    c->system_store = 1;
    bad_certificate(c, "server");
}

/* TCP accepted, the server never answers the ClientHello: the connect
 * timeout (which covers the handshake) ends the call. */
static void tls_handshake_never_starts(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "tls-never", NULL), 0);
    run(c);
    hs_assert_status(c, LF_E_TIMEOUT);
    hs_assert_elapsed_below(c, (double)c->connect_timeout_ms / 1000.0 + 2.0);
    hs_assert_err_clean(c, NULL);
    assert_nothing_sent(c, 1);
}

/* The same with a long connect timeout: the whole-request timeout bounds it. */
static void tls_handshake_never_starts_total_bound(void **state) {
    hs_case *c = *state;
    c->connect_timeout_ms = 60000;
    assert_int_equal(hs_start(c, 0, "server", "tls-never", NULL), 0);
    run(c);
    hs_assert_status(c, LF_E_TIMEOUT);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_nothing_sent(c, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, hs_case_setup, hs_case_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(good_certificate_ok),
        T(plain_http_server_for_https_url),
        T(expired_certificate),
        T(self_signed_certificate),
        T(wrong_host_certificate),
        T(self_signed_against_system_store),
        T(test_ca_not_in_system_store),
        T(tls_handshake_never_starts),
        T(tls_handshake_never_starts_total_bound),
    };
    int rc = 1;
    if (hs_suite_setup() == 0) rc = cmocka_run_group_tests_name("hostile_tls", tests, NULL, NULL);
    hs_suite_teardown();
    return rc;
}
