/* Hostile-server suite, responses: bodies that are not what a token
 * endpoint should send (RELIABILITY.md §3 B 22-33), Retry-After handling
 * (B 27) and servers that echo secrets back in their error text. Every
 * response arrives intact over TLS; only its content is hostile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hostile_support.h"

#define TIME_BOUND_S(c) ((double)(c)->timeout_ms / 1000.0 + 2.0)
#define TOKEN_PATH "/oauth/access_token"

/* Serves `body` (len bytes) with `status` and an optional extra header, runs
 * one exchange, stops the server and checks it saw exactly one POST. */
static void serve(hs_case *c, int status, const char *ctype, const void *body, size_t len,
                  const char *header) {
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    const char *file = hs_write_file("body", body, len);
    const char *ct = ctype ? ctype : "application/json";
    if (header)
        assert_int_equal(hs_start(c, 0, "server", "ok", "--status", st, "--content-type", ct, "--body-file",
                                  file, "--header", header, NULL),
                         0);
    else
        assert_int_equal(
            hs_start(c, 0, "server", "ok", "--status", st, "--content-type", ct, "--body-file", file, NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    hs_exchange(c);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    if (r.posts != 1 || hs_record_blobs_with(&r, c->code) != 1) {
        print_error("server saw %d POSTs, expected exactly 1 carrying the code\n", r.posts);
        hs_record_free(&r);
        fail();
    }
    hs_record_free(&r);
}

static void serve_text(hs_case *c, int status, const char *body) {
    serve(c, status, NULL, body, strlen(body), NULL);
}

/* A 200 whose body must be refused as LF_E_PROTOCOL, no token handed out. */
static void expect_protocol(hs_case *c, const char *body) {
    serve_text(c, 200, body);
    hs_assert_status(c, LF_E_PROTOCOL);
    assert_null(c->tok);
    hs_assert_err_clean(c, NULL);
}

/* --------------------------------------------------------- not JSON at all */

static const char kHtml[] =
    "<!DOCTYPE html><html><head><title>Oops</title></head><body><h1>Something went wrong</h1>"
    "<p>Please try again later.</p></body></html>";

static void html_200(void **state) {
    hs_case *c = *state;
    serve(c, 200, "text/html", kHtml, strlen(kHtml), NULL);
    hs_assert_status(c, LF_E_PROTOCOL);
    assert_null(c->tok);
    hs_assert_err_clean(c, NULL);
}

static void html_502(void **state) {
    hs_case *c = *state;
    serve(c, 502, "text/html", kHtml, strlen(kHtml), NULL);
    hs_assert_status(c, LF_E_HTTP);
    assert_int_equal(c->err.http_status, 502);
    hs_assert_err_clean(c, NULL);
}

static void empty_body_200(void **state) { expect_protocol(*state, ""); }
static void json_array(void **state) { expect_protocol(*state, "[{\"access_token\":\"abc\"}]"); }
static void json_string(void **state) { expect_protocol(*state, "\"access_token\""); }
static void json_number(void **state) { expect_protocol(*state, "42"); }
static void trailing_garbage(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}x", c->token);
    expect_protocol(c, body);
}
static void two_documents(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}{\"access_token\":\"%s\"}", c->token, c->token);
    expect_protocol(c, body);
}
static void truncated_json(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"", c->token);
    expect_protocol(c, body);
}

/* ------------------------------------------------------------ access_token */

static void token_missing(void **state) { expect_protocol(*state, "{\"token_type\":\"bearer\"}"); }
static void token_empty(void **state) { expect_protocol(*state, "{\"access_token\":\"\"}"); }
static void token_number(void **state) { expect_protocol(*state, "{\"access_token\":12345}"); }
static void token_null(void **state) { expect_protocol(*state, "{\"access_token\":null}"); }
static void token_bool(void **state) { expect_protocol(*state, "{\"access_token\":true}"); }
static void token_object(void **state) { expect_protocol(*state, "{\"access_token\":{\"value\":\"abc\"}}"); }
static void token_array(void **state) { expect_protocol(*state, "{\"access_token\":[\"abc\"]}"); }

static void token_with(hs_case *c, const char *middle) {
    char body[512];
    snprintf(body, sizeof body, "{\"access_token\":\"%.20s%s%s\"}", c->token, middle, c->token + 20);
    expect_protocol(c, body);
}

static void token_crlf(void **state) { token_with(*state, "\\r\\n"); }
static void token_crlf_header_injection(void **state) { token_with(*state, "\\r\\nX-Injected: 1"); }
static void token_space(void **state) { token_with(*state, " "); }
static void token_tab(void **state) { token_with(*state, "\\t"); }
static void token_nul_escape(void **state) { token_with(*state, "\\u0000"); }
/* cJSON decodes an invalid \uZZZZ escape to U+0000: must not yield the prefix. */
static void token_invalid_escape(void **state) { token_with(*state, "\\uZZZZ"); }
static void token_lone_surrogate(void **state) { token_with(*state, "\\ud800"); }
static void token_non_ascii(void **state) { token_with(*state, "\\u00e9"); }
static void token_quote(void **state) { token_with(*state, "\\\""); }
static void token_padding_inside(void **state) { token_with(*state, "=="); }

static char *token_of_length(size_t n) {
    char *t = malloc(n + 1);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++) t[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"[i % 66];
    t[n] = '\0';
    return t;
}

static void token_at_limit(hs_case *c, size_t n, int accepted) {
    char *t = token_of_length(n);
    size_t blen = n + 64;
    char *body = malloc(blen);
    assert_non_null(body);
    snprintf(body, blen, "{\"access_token\":\"%s\"}", t);
    serve_text(c, 200, body);
    if (accepted) {
        hs_assert_status(c, LF_OK);
        assert_non_null(c->tok);
        assert_string_equal(lf_token_value(c->tok), t);
    } else {
        hs_assert_status(c, LF_E_PROTOCOL);
        assert_null(c->tok);
        hs_assert_err_clean(c, t, NULL);
    }
    free(body);
    free(t);
}

static void token_4096_accepted(void **state) { token_at_limit(*state, LF_MAX_TOKEN_LENGTH, 1); }
static void token_4097_rejected(void **state) { token_at_limit(*state, LF_MAX_TOKEN_LENGTH + 1, 0); }
static void token_60000_rejected(void **state) { token_at_limit(*state, 60000, 0); }

static void token_duplicated(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"access_token\":\"other-token\"}", c->token);
    expect_protocol(c, body);
}

static void token_duplicated_same_value(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"access_token\":\"%s\"}", c->token, c->token);
    expect_protocol(c, body);
}

static void token_case_variant_only(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"Access_Token\":\"%s\",\"ACCESS_TOKEN\":\"%s\"}", c->token, c->token);
    expect_protocol(c, body);
}

/* A valid token next to a case variant: the exact key wins, the variant is ignored. */
static void token_with_case_variant_sibling(void **state) {
    hs_case *c = *state;
    char body[256];
    snprintf(body, sizeof body, "{\"Access_Token\":\"decoy\",\"access_token\":\"%s\"}", c->token);
    serve_text(c, 200, body);
    hs_assert_status(c, LF_OK);
    assert_string_equal(lf_token_value(c->tok), c->token);
}

/* ----------------------------------------------------------------- nesting */

/* {"access_token":"T","x":<depth-1 nested arrays>}: total depth `depth`. */
static void nested(hs_case *c, int depth, lf_status expected) {
    size_t blen = (size_t)depth * 2 + 256;
    char *body = malloc(blen);
    assert_non_null(body);
    int n = snprintf(body, blen, "{\"access_token\":\"%s\",\"x\":", c->token);
    for (int i = 1; i < depth; i++) body[n++] = '[';
    body[n++] = '0';
    for (int i = 1; i < depth; i++) body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    serve_text(c, 200, body);
    free(body);
    hs_assert_status(c, expected);
    if (expected == LF_OK) assert_string_equal(lf_token_value(c->tok), c->token);
    else hs_assert_err_clean(c, NULL);
}

static void nesting_8_accepted(void **state) { nested(*state, 8, LF_OK); }
static void nesting_9_rejected(void **state) { nested(*state, 9, LF_E_PROTOCOL); }
static void nesting_1000_rejected(void **state) { nested(*state, 1000, LF_E_PROTOCOL); }

static void nesting_objects_9_rejected(void **state) {
    hs_case *c = *state;
    char body[512];
    snprintf(body, sizeof body,
             "{\"access_token\":\"%s\",\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}", c->token);
    expect_protocol(c, body);
}

/* Brackets inside strings are not nesting. */
static void brackets_in_strings_accepted(void **state) {
    hs_case *c = *state;
    char body[512];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"note\":\"[[[[[[[[[[{{{{{{{{{{\"}", c->token);
    serve_text(c, 200, body);
    hs_assert_status(c, LF_OK);
    assert_string_equal(lf_token_value(c->tok), c->token);
}

/* ----------------------------------------------------------- error bodies */

static void invalid_utf8_in_error_description(void **state) {
    hs_case *c = *state;
    static const char body[] =
        "{\"error\":\"invalid_grant\",\"error_description\":\"bad \xff\xfe bytes, overlong \xc0\xaf, "
        "surrogate \xed\xa0\x80, truncated \xe2\x82, ok \xc3\xa9 done\"}";
    serve(c, 400, NULL, body, sizeof body - 1, NULL);
    hs_assert_status(c, LF_E_INVALID_CODE);
    assert_int_equal(c->err.http_status, 400);
    assert_string_equal(c->err.key, "invalid_grant");
    assert_true(hs_utf8_valid(c->err.message));
    assert_non_null(strstr(c->err.message, "done")); /* the description is kept, sanitised */
    hs_assert_err_clean(c, NULL);
}

static void invalid_utf8_in_error_key(void **state) {
    hs_case *c = *state;
    static const char body[] = "{\"error\":\"weird\xff\xc0key\",\"error_description\":\"x\"}";
    serve(c, 400, NULL, body, sizeof body - 1, NULL);
    hs_assert_status(c, LF_E_HTTP);
    assert_true(hs_utf8_valid(c->err.key));
    hs_assert_err_clean(c, NULL);
}

static void control_chars_in_error_description(void **state) {
    hs_case *c = *state;
    serve_text(c, 400,
               "{\"error\":\"invalid_grant\",\"error_description\":\"line1\\r\\nSet-Cookie: x=1\\u001b[31m\\u0007\"}");
    hs_assert_status(c, LF_E_INVALID_CODE);
    hs_assert_err_clean(c, NULL); /* also: no control characters */
}

/* ------------------------------------------------------------- Retry-After */

static void retry_after_500_seconds(void **state) {
    hs_case *c = *state;
    serve(c, 500, NULL, "{\"error\":\"server_error\"}", 24, "Retry-After: 120");
    hs_assert_status(c, LF_E_HTTP);
    assert_int_equal(c->err.http_status, 500);
    assert_int_equal(c->err.retry_after_s, 120);
    hs_assert_err_clean(c, NULL);
}

static void retry_after_429_clamped(void **state) {
    hs_case *c = *state;
    serve(c, 429, NULL, "{\"error\":\"rate_limit_reached\"}", 30, "Retry-After: 99999");
    hs_assert_status(c, LF_E_RATE_LIMITED);
    assert_int_equal(c->err.http_status, 429);
    assert_int_equal(c->err.retry_after_s, 3600);
    hs_assert_err_clean(c, NULL);
}

static void retry_after_429_http_date(void **state) {
    hs_case *c = *state;
    char header[96];
    time_t when = time(NULL) + 600;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(header, sizeof header, "Retry-After: %a, %d %b %Y %H:%M:%S GMT", &tm);
    serve(c, 429, NULL, "{}", 2, header);
    hs_assert_status(c, LF_E_RATE_LIMITED);
    print_message("      %s -> retry_after_s %ld\n", header, c->err.retry_after_s);
    /* ~600 s minus however long the machine took; never outside the clamp. */
    assert_in_range(c->err.retry_after_s, 300, 3600);
    hs_assert_err_clean(c, NULL);
}

static void retry_after_503_garbage(void **state) {
    hs_case *c = *state;
    serve(c, 503, NULL, "{}", 2, "Retry-After: soon-ish, maybe");
    hs_assert_status(c, LF_E_HTTP);
    assert_int_equal(c->err.http_status, 503);
    assert_int_equal(c->err.retry_after_s, 0);
}

static void retry_after_429_negative(void **state) {
    hs_case *c = *state;
    serve(c, 429, NULL, "{}", 2, "Retry-After: -5");
    hs_assert_status(c, LF_E_RATE_LIMITED);
    assert_int_equal(c->err.retry_after_s, 0);
}

static void retry_after_429_huge(void **state) {
    hs_case *c = *state;
    serve(c, 429, NULL, "{}", 2, "Retry-After: 1000000000000000000000000000000");
    hs_assert_status(c, LF_E_RATE_LIMITED);
    assert_in_range(c->err.retry_after_s, 0, 3600);
}

/* --------------------------------------------------------- echoed secrets */

/* 400 invalid_grant whose description echoes `echo` (printf with %s = ...). */
static void echo_in_description(hs_case *c, const char *echo) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"error\":\"invalid_grant\",\"error_description\":\"request was: %s (rejected)\"}", echo);
    serve_text(c, 400, body);
    hs_assert_status(c, LF_E_INVALID_CODE);
    print_message("      err.message: %s\n", c->err.message);
    hs_assert_err_clean(c, NULL);
}

static void echo_code(void **state) {
    hs_case *c = *state;
    echo_in_description(c, c->code);
}

static void echo_secret(void **state) {
    hs_case *c = *state;
    echo_in_description(c, c->secret);
}

static void echo_secret_basic_form(void **state) {
    hs_case *c = *state;
    char echo[300];
    snprintf(echo, sizeof echo, "Authorization: Basic %s", c->basic);
    echo_in_description(c, echo);
}

static void echo_id_colon_secret(void **state) {
    hs_case *c = *state;
    char echo[300];
    snprintf(echo, sizeof echo, "%s:%s", c->client_id, c->secret);
    echo_in_description(c, echo);
}

static void echo_code_json_escaped(void **state) {
    hs_case *c = *state;
    /* "\u0068s-code-..." decodes to the code itself. */
    char echo[300];
    snprintf(echo, sizeof echo, "\\u%04x%s", (unsigned)c->code[0], c->code + 1);
    echo_in_description(c, echo);
}

/* The server sends a token in the same answer and echoes it in the text. */
static void echo_token_sent_in_same_response(void **state) {
    hs_case *c = *state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"access_token\":\"%s\",\"error\":\"invalid_grant\",\"error_description\":\"token %s already issued\"}",
             c->token, c->token);
    serve_text(c, 400, body);
    hs_assert_status(c, LF_E_INVALID_CODE);
    assert_null(c->tok);
    print_message("      err.message: %s\n", c->err.message);
    hs_assert_err_clean(c, NULL);
}

static void echo_in_error_key(void **state) {
    hs_case *c = *state;
    char body[1024];
    snprintf(body, sizeof body, "{\"error\":\"%s\",\"error_description\":\"%s\"}", c->secret, c->code);
    serve_text(c, 401, body);
    print_message("      err.key: %s\n      err.message: %s\n", c->err.key, c->err.message);
    hs_assert_status(c, LF_E_INVALID_CLIENT);
    hs_assert_err_clean(c, NULL);
}

/* The secret placed so that it straddles the end of err.message: no prefix
 * of it may survive the truncation. */
static void echo_secret_at_truncation_boundary(void **state) {
    hs_case *c = *state;
    static const int pads[] = {150, 170, 180, 185, 190, 195, 200, 230};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
        char echo[512];
        memset(echo, 'p', (size_t)pads[i]);
        snprintf(echo + pads[i], sizeof echo - (size_t)pads[i], "%s", c->secret);
        echo_in_description(c, echo);
    }
}

static void echo_code_in_html_502(void **state) {
    hs_case *c = *state;
    char body[1024];
    snprintf(body, sizeof body, "<html><body>upstream failed for code=%s secret=%s</body></html>", c->code,
             c->secret);
    serve(c, 502, "text/html", body, strlen(body), NULL);
    hs_assert_status(c, LF_E_HTTP);
    hs_assert_err_clean(c, NULL);
}

/* --------------------------------------------------------------------- main */

#define T(fn) cmocka_unit_test_setup_teardown(fn, hs_case_setup, hs_case_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(html_200),
        T(html_502),
        T(empty_body_200),
        T(json_array),
        T(json_string),
        T(json_number),
        T(trailing_garbage),
        T(two_documents),
        T(truncated_json),
        T(token_missing),
        T(token_empty),
        T(token_number),
        T(token_null),
        T(token_bool),
        T(token_object),
        T(token_array),
        T(token_crlf),
        T(token_crlf_header_injection),
        T(token_space),
        T(token_tab),
        T(token_nul_escape),
        T(token_invalid_escape),
        T(token_lone_surrogate),
        T(token_non_ascii),
        T(token_quote),
        T(token_padding_inside),
        T(token_4096_accepted),
        T(token_4097_rejected),
        T(token_60000_rejected),
        T(token_duplicated),
        T(token_duplicated_same_value),
        T(token_case_variant_only),
        T(token_with_case_variant_sibling),
        T(nesting_8_accepted),
        T(nesting_9_rejected),
        T(nesting_1000_rejected),
        T(nesting_objects_9_rejected),
        T(brackets_in_strings_accepted),
        T(invalid_utf8_in_error_description),
        T(invalid_utf8_in_error_key),
        T(control_chars_in_error_description),
        T(retry_after_500_seconds),
        T(retry_after_429_clamped),
        T(retry_after_429_http_date),
        T(retry_after_503_garbage),
        T(retry_after_429_negative),
        T(retry_after_429_huge),
        T(echo_code),
        T(echo_secret),
        T(echo_secret_basic_form),
        T(echo_id_colon_secret),
        T(echo_code_json_escaped),
        T(echo_token_sent_in_same_response),
        T(echo_in_error_key),
        T(echo_secret_at_truncation_boundary),
        T(echo_code_in_html_502),
    };
    int rc = 1;
    if (hs_suite_setup() == 0) rc = cmocka_run_group_tests_name("hostile_response", tests, NULL, NULL);
    hs_suite_teardown();
    return rc;
}
