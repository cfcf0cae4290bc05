/* Hostile-server suite, single-use code safety (issue 5) and the transport
 * side of secret hygiene.
 *
 * An authorization code is single-use: the library must never send it
 * twice. After a failure that may have reached the server (5xx, 429,
 * timeout, reset, close, cancel) the server must have seen exactly one POST
 * carrying the code. LF_CLIENT_AUTH_AUTO learns the client-auth style with
 * probes carrying an invalid code: the real code appears in exactly one
 * request, and in none when the probes fail. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hostile_support.h"

static const char *token_body(const hs_case *c) { return hs_token_body(c, ""); }

static const char *server_error_body(void) { return "{\"error\":\"server_error\"}"; }

/* The server on slot 0 saw `requests` requests (all POSTs), `with_code` of them carrying the code. */
static void assert_requests(const hs_case *c, int requests, int with_code) {
    hs_assert_requests(c, 0, requests, with_code);
}

/* Starts `mode` (with the NULL-terminated extra arguments) on slot 0, runs
 * the call and checks its failure: `expected`, with that HTTP status unless
 * http_status is 0, no token, within T, err clean, and one request that
 * carried the real code `with_code` times (1; 0 when an AUTO probe failed). */
static void expect_failurev(hs_case *c, lf_status expected, long http_status, int with_code, const char *mode,
                            va_list ap) {
    assert_int_equal(hs_startv(c, 0, "server", mode, ap), 0);
    hs_run(c, 0);
    hs_assert_status(c, expected);
    assert_null(c->tok);
    if (http_status) assert_int_equal(c->err.http_status, http_status);
    hs_assert_elapsed_below(c, HS_TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_requests(c, 1, with_code);
}

/* ------------------------------------------ failures after the code was sent */

/* The code was sent once and the call failed: it is not sent again. */
HS_SENTINEL static void expect_not_retried(hs_case *c, lf_status expected, long http_status, const char *mode, ...) {
    va_list ap;
    va_start(ap, mode);
    expect_failurev(c, expected, http_status, 1, mode, ap);
    va_end(ap);
}

static void status_not_retried(hs_case *c, int status, lf_status expected) {
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    expect_not_retried(c, expected, status, "ok", "--status", st, "--body", server_error_body(), "--header",
                       "Retry-After: 1", NULL);
}

static void http_500_not_retried(void **state) { status_not_retried(*state, 500, LF_E_HTTP); }
static void http_502_not_retried(void **state) { status_not_retried(*state, 502, LF_E_HTTP); }
static void http_503_not_retried(void **state) { status_not_retried(*state, 503, LF_E_HTTP); }
static void http_504_not_retried(void **state) { status_not_retried(*state, 504, LF_E_HTTP); }
static void http_429_not_retried(void **state) { status_not_retried(*state, 429, LF_E_RATE_LIMITED); }

static void mode_not_retried(hs_case *c, const char *mode, lf_status expected) {
    expect_not_retried(c, expected, 0, mode, "--body", token_body(c), NULL);
}

static void timeout_not_retried(void **state) { mode_not_retried(*state, "stall", LF_E_TIMEOUT); }
static void timeout_after_headers_not_retried(void **state) { mode_not_retried(*state, "stall-headers", LF_E_TIMEOUT); }
static void reset_not_retried(void **state) { mode_not_retried(*state, "rst-mid-body", LF_E_NETWORK); }
static void fin_not_retried(void **state) { mode_not_retried(*state, "fin-mid-body", LF_E_NETWORK); }
static void close_not_retried(void **state) { mode_not_retried(*state, "close-before-response", LF_E_NETWORK); }

/* Cancelled while the server stalls: LF_E_CANCELLED, still exactly one POST. */
typedef struct {
    int *flag;
    long delay_ms;
} canceller;

static void *cancel_later(void *arg) {
    canceller *k = arg;
    struct timespec ts = {k->delay_ms / 1000, (k->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    __atomic_store_n(k->flag, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void cancel_not_retried(void **state) {
    hs_case *c = *state;
    c->timeout_ms = 20000;
    assert_int_equal(hs_start(c, 0, "server", "stall", NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, HS_TOKEN_PATH), LF_OK);
    int flag = 0;
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);
    o.cancel = &flag;
    canceller k = {&flag, 800};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &k), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    c->status = lf_exchange_code_ex(c->auth, c->code, &o, &c->tok, &c->err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    c->elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_CANCELLED);
    hs_assert_elapsed_below(c, 0.8 + 2.0); /* ~100 ms after the flag, generous on a loaded machine */
    hs_assert_err_clean(c, NULL);
    assert_requests(c, 1, 1);
}

/* ------------------------------------------------------------------- AUTO */

static void start_auto(hs_case *c, const char *accept) {
    assert_int_equal(
        hs_start(c, 0, "server", "auto", "--code", c->code, "--token", c->token, "--auto-accept", accept, NULL), 0);
}

/* AUTO against `auto --auto-accept accept`: LF_OK with the case token,
 * `requests` requests in all, the real code in exactly one, and that one
 * contains `needle` (how the real code travelled). */
static void expect_auto_ok(hs_case *c, const char *accept, int requests, const char *needle) {
    c->client_auth = LF_CLIENT_AUTH_AUTO;
    start_auto(c, accept);
    hs_run(c, 0);
    hs_assert_got_token(c);
    assert_requests(c, requests, 1);
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    int with_needle = hs_record_blobs_with_both(&r, c->code, needle);
    hs_record_free(&r);
    if (with_needle != 1) {
        print_error("the request with the real code does not contain \"%s\"\n", needle);
        fail();
    }
}

/* Both styles accepted: the Basic probe (first) is answered invalid_grant,
 * the real code goes once, with Basic. */
static void auto_basic_accepted(void **state) {
    hs_case *c = *state;
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n", c->basic);
    expect_auto_ok(c, "both", 2, auth);
}

/* Only JSON accepted: Basic probe 401 invalid_client, JSON probe
 * invalid_grant, then the real code once, in a JSON body. */
static void auto_json_only(void **state) { expect_auto_ok(*state, "json", 3, "Content-Type: application/json"); }

static void auto_basic_only(void **state) { expect_auto_ok(*state, "basic", 2, "application/x-www-form-urlencoded"); }

/* The learned style is cached: a second exchange sends no probe. */
static void auto_second_exchange_no_probe(void **state) {
    hs_case *c = *state;
    c->client_auth = LF_CLIENT_AUTH_AUTO;
    start_auto(c, "json");
    assert_int_equal(hs_client(c, "https", c->servers[0].port, HS_TOKEN_PATH), LF_OK);
    hs_exchange(c);
    hs_assert_status(c, LF_OK);
    char first_code[HS_CANARY_SIZE];
    memcpy(first_code, c->code, sizeof first_code);
    hs_canary(c->code, sizeof c->code, "hs-code2-"); /* unknown to the server: invalid_grant */
    hs_exchange(c);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_INVALID_CODE);
    hs_assert_err_clean(c, first_code, NULL);
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    int first = hs_record_blobs_with(&r, first_code), second = hs_record_blobs_with(&r, c->code);
    int requests = r.requests;
    hs_record_free(&r);
    if (requests != 4 || first != 1 || second != 1) {
        print_error("%d requests, first code in %d, second in %d; expected 4 (2 probes + 2), 1, 1\n", requests, first,
                    second);
        fail();
    }
}

/* A probe that fails for another reason ends the call: the real code is never sent. */
HS_SENTINEL static void expect_probe_failure(hs_case *c, lf_status expected, long http_status, const char *mode, ...) {
    c->client_auth = LF_CLIENT_AUTH_AUTO;
    va_list ap;
    va_start(ap, mode);
    expect_failurev(c, expected, http_status, 0, mode, ap);
    va_end(ap);
}

static void auto_probe_500_code_not_sent(void **state) {
    expect_probe_failure(*state, LF_E_HTTP, 500, "ok", "--status", "500", "--body", server_error_body(), NULL);
}

static void auto_probe_timeout_code_not_sent(void **state) {
    expect_probe_failure(*state, LF_E_TIMEOUT, 0, "stall", NULL);
}

static void auto_probe_reset_code_not_sent(void **state) {
    hs_case *c = *state;
    expect_probe_failure(c, LF_E_NETWORK, 0, "rst-mid-body", "--body", token_body(c), NULL);
}

static void auto_no_style_accepted(void **state) {
    hs_case *c = *state;
    c->client_auth = LF_CLIENT_AUTH_AUTO;
    start_auto(c, "none");
    hs_run(c, 0);
    hs_assert_status(c, LF_E_INVALID_CLIENT);
    hs_assert_err_clean(c, NULL);
    assert_requests(c, 2, 0);
}

/* A server that "accepts" the deliberately invalid probe is not trusted with the real code. */
static void auto_probe_accepted_code_not_sent(void **state) {
    hs_case *c = *state;
    expect_probe_failure(c, LF_E_PROTOCOL, 0, "ok", "--body", token_body(c), NULL);
}

/* A redirect answering the probe: not followed, code not sent. */
static void auto_probe_redirect_code_not_sent(void **state) {
    expect_probe_failure(*state, LF_E_HTTP, 307, "redirect", "--status", "307", "--location",
                         "https://127.0.0.1:{port}/api/access_token", NULL);
}

/* ------------------------------------------- secret hygiene on the wire */

/* BASIC: the secret travels only inside the Basic credentials, never raw. */
static void basic_secret_only_in_authorization(void **state) {
    hs_case *c = *state;
    c->client_auth = LF_CLIENT_AUTH_BASIC;
    hs_expect_token(c, "ok", token_body(c));
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    char auth[256];
    snprintf(auth, sizeof auth, "\r\nAuthorization: Basic %s\r\n", c->basic);
    int has_auth = hs_record_blobs_with(&r, auth), raw = hs_record_has(&r, c->secret);
    hs_record_free(&r);
    assert_int_equal(has_auth, 1);
    assert_false(raw);
}

/* JSON_BODY: no Authorization header at all; secret once, in the body. */
static void json_secret_only_in_body(void **state) {
    hs_case *c = *state;
    hs_expect_token(c, "ok", token_body(c));
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    int with_secret = hs_record_blobs_with(&r, c->secret);
    int basic = hs_record_has(&r, c->basic);
    int authz = hs_record_blobs_with(&r, "\r\nAuthorization:") + hs_record_blobs_with(&r, "\r\nauthorization:");
    hs_record_free(&r);
    assert_int_equal(with_secret, 1);
    assert_false(basic);
    assert_int_equal(authz, 0);
}

/* --------------------------------------------------------------------- main */

#define T(fn) HS_TEST(fn)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(http_500_not_retried),
        T(http_502_not_retried),
        T(http_503_not_retried),
        T(http_504_not_retried),
        T(http_429_not_retried),
        T(timeout_not_retried),
        T(timeout_after_headers_not_retried),
        T(reset_not_retried),
        T(fin_not_retried),
        T(close_not_retried),
        T(cancel_not_retried),
        T(auto_basic_accepted),
        T(auto_json_only),
        T(auto_basic_only),
        T(auto_second_exchange_no_probe),
        T(auto_probe_500_code_not_sent),
        T(auto_probe_timeout_code_not_sent),
        T(auto_probe_reset_code_not_sent),
        T(auto_no_style_accepted),
        T(auto_probe_accepted_code_not_sent),
        T(auto_probe_redirect_code_not_sent),
        T(basic_secret_only_in_authorization),
        T(json_secret_only_in_body),
    };
    return hs_run_suite("hostile_code_safety", tests);
}
