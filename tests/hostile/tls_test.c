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

/* Runs the call against the server on slot 0, which must refuse it before
 * any request: `expected` within bound_s, err clean, nothing sent (bytes
 * other than a request allowed with allow_raw). */
static void expect_refused(hs_case *c, lf_status expected, double bound_s, int allow_raw) {
    hs_run(c, 0);
    print_message("      %s: %s\n", lf_status_name(c->status), c->err.message);
    hs_assert_status(c, expected);
    hs_assert_elapsed_below(c, bound_s);
    hs_assert_err_clean(c, NULL);
    assert_nothing_sent(c, allow_raw);
}

/* Control: the same PKI with the right certificate works, so the failures
 * below are the certificate's fault, not the harness's. */
static void good_certificate_ok(void **state) {
    hs_case *c = *state;
    hs_expect_token(c, "ok", hs_token_body(c, ""));
}

/* A plain HTTP server on the port of an https URL: the ClientHello gets an
 * HTTP 400 back, OpenSSL reports "wrong version number" (libcurl
 * CURLE_SSL_CONNECT_ERROR), the library says LF_E_TLS. */
static void plain_http_server_for_https_url(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, NULL, "http-on-tls", NULL), 0);
    expect_refused(c, LF_E_TLS, HS_TIME_BOUND_S(c), 1); /* it did receive the ClientHello */
}

/* A token endpoint with the certificate DIR/<cert>.pem: the handshake fails,
 * no byte after it. */
static void bad_certificate(hs_case *c, const char *cert) {
    assert_int_equal(hs_start(c, 0, cert, "ok", "--body-file", hs_token_body(c, ""), NULL), 0);
    expect_refused(c, LF_E_TLS, HS_TIME_BOUND_S(c), 0);
}

static void expired_certificate(void **state) { bad_certificate(*state, "expired"); }
static void self_signed_certificate(void **state) { bad_certificate(*state, "selfsigned"); }
static void wrong_host_certificate(void **state) { bad_certificate(*state, "wronghost"); }

/* With the system trust store (ca_file NULL, the production default) the
 * self-signed certificate and the test CA's certificate are both refused. */
static void bad_certificate_for_system_store(hs_case *c, const char *cert) {
    c->system_store = 1;
    bad_certificate(c, cert);
}

static void self_signed_against_system_store(void **state) { bad_certificate_for_system_store(*state, "selfsigned"); }
static void test_ca_not_in_system_store(void **state) { bad_certificate_for_system_store(*state, "server"); }

/* TCP accepted, the server never answers the ClientHello: the connect
 * timeout (which covers the handshake) ends the call within bound_s. */
static void handshake_never_starts(hs_case *c, double bound_s) {
    assert_int_equal(hs_start(c, 0, "server", "tls-never", NULL), 0);
    expect_refused(c, LF_E_TIMEOUT, bound_s, 1);
}

static void tls_handshake_never_starts(void **state) {
    hs_case *c = *state;
    handshake_never_starts(c, (double)c->connect_timeout_ms / 1000.0 + 2.0);
}

/* The same with a long connect timeout: the whole-request timeout bounds it. */
static void tls_handshake_never_starts_total_bound(void **state) {
    hs_case *c = *state;
    c->connect_timeout_ms = 60000;
    handshake_never_starts(c, HS_TIME_BOUND_S(c));
}

#define T(fn) HS_TEST(fn)

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
    return hs_run_suite("hostile_tls", tests);
}
