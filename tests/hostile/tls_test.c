/* Hostile-server suite, TLS: a plain-HTTP server behind an https URL,
 * expired / self-signed / wrong-host certificates, a handshake that never
 * starts, servers that speak only TLS 1.0 or 1.1, a reset in the middle of
 * the handshake. In every failure the code and the
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
        print_error("server received %d requests, %zu bytes, secret/code present: %d\n", r.requests, r.received,
                    leaked);
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
    assert_int_equal(hs_start(c, 0, cert, "ok", "--body", hs_token_body(c, ""), NULL), 0);
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

/* ------------------------------------------------------ legacy TLS versions */

/* A server that speaks only TLS `version` ("1.0"/"1.1"). Control first: on
 * the same server, `openssl s_client <flag>` (a client that offers that
 * version) completes the handshake and gets its request through, so the
 * server really speaks it. Then the library's call: refused with LF_E_TLS,
 * and the server's record shows why: its handshake failed with
 * UNSUPPORTED_PROTOCOL, i.e. the ClientHello offered no version the server
 * speaks (it answered with a protocol_version alert). A client that offered
 * the legacy version and gave up later (Debian's OpenSSL refuses TLS 1.1's
 * SHA-1 signatures at security level 2) would show an alert from the client
 * instead (TLSV1_ALERT_INTERNAL_ERROR), and one that accepted it a request.
 * Neither the code nor the secret reaches the server. */
static void legacy_tls_refused(hs_case *c, const char *version, const char *s_client_flag, const char *protocol) {
    assert_int_equal(hs_start(c, 0, "server", "ok", "--tls-version", version, "--body", hs_token_body(c, ""), NULL), 0);
    char out[16384];
    int rc = hs_openssl_client(c, 0, "POST /probe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", out,
                               sizeof out, s_client_flag, NULL);
    /* (it exits 1 anyway: the server closes without a close_notify) */
    char want[64];
    snprintf(want, sizeof want, "Protocol  : %s\n", protocol);
    if (rc < 0 || !strstr(out, want) || !strstr(out, "\nHTTP/1.1 200 OK")) {
        print_error("control: openssl s_client %s (exit %d) did not speak %s to the server:\n%s\n", s_client_flag, rc,
                    protocol, out);
        fail();
    }

    hs_run(c, 0);
    print_message("      %s: %s\n", lf_status_name(c->status), c->err.message);
    hs_assert_status(c, LF_E_TLS);
    hs_assert_elapsed_below(c, HS_TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);

    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    int leaked = hs_record_has(&r, c->code) || hs_record_has(&r, c->secret) || hs_record_has(&r, c->basic);
    /* connection 1: the control's request; connection 2: the library's */
    int refused = hs_record_has(&r, "\nTLSFAIL 2 UNSUPPORTED_PROTOCOL\n");
    if (r.conns != 2 || r.requests != 1 || r.tls_failures != 1 || !refused || leaked) {
        print_error(
            "server (TLS %s only): %d connections, %d requests, %d TLS failures, refused for the version: "
            "%d, secret/code present: %d; record:\n%.*s\n",
            version, r.conns, r.requests, r.tls_failures, refused, leaked, (int)r.len, r.data);
        hs_record_free(&r);
        fail();
    }
    hs_record_free(&r);
}

static void tls10_only_server_refused(void **state) { legacy_tls_refused(*state, "1.0", "-tls1", "TLSv1"); }
static void tls11_only_server_refused(void **state) { legacy_tls_refused(*state, "1.1", "-tls1_1", "TLSv1.1"); }

/* ------------------------------------------------- reset during the handshake */

/* The server reads the whole ClientHello and resets (RST) without a byte of
 * answer. LF_E_TLS, not LF_E_NETWORK: libcurl 7.88 reports the ECONNRESET
 * read inside SSL_connect as CURLE_SSL_CONNECT_ERROR (its message: "Recv
 * failure: Connection reset by peer"), which the library maps to LF_E_TLS.
 * Either way the failure is in the handshake, so the code was not sent
 * (safe to retry). The server received the
 * ClientHello (a TLS handshake record) and nothing else. */
static void tls_reset_after_client_hello_is_tls_error(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, NULL, "tls-rst-after-hello", NULL), 0);
    expect_refused(c, LF_E_TLS, HS_TIME_BOUND_S(c), 1);
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    /* one RAW blob: a handshake record (0x16 0x03 ..), i.e. the ClientHello */
    const char *blob = r.data ? strstr(r.data, "RAW 1 ") : NULL;
    const char *bytes = blob ? strchr(blob, '\n') : NULL;
    int hello = bytes && (size_t)(bytes + 3 - r.data) <= r.len && bytes[1] == 0x16 && bytes[2] == 0x03;
    if (r.raw_chunks != 1 || !hello) {
        print_error("expected exactly the ClientHello before the reset: %d RAW blobs, handshake record: %d\n",
                    r.raw_chunks, hello);
        hs_record_free(&r);
        fail();
    }
    hs_record_free(&r);
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
        T(tls10_only_server_refused),
        T(tls11_only_server_refused),
        T(tls_reset_after_client_hello_is_tls_error),
    };
    return hs_run_suite("hostile_tls", tests);
}
