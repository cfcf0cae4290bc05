/* Hostile-server suite, responses: bodies that are not what a token
 * endpoint should send (malformed JSON, tokens of the wrong type, size or
 * alphabet, too deep nesting), Retry-After handling and servers that echo secrets back in their error text. Every
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

/* Serves `body` with `status`, content type `ctype` (NULL: JSON) and an
 * optional extra header, runs one call, stops the server and checks the time
 * bound and that it saw exactly one POST, carrying the code. */
static void serve(hs_case *c, int status, const char *ctype, const char *header, const char *body) {
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    const char *ct = ctype ? ctype : "application/json";
    /* Without a header the argument list ends where "--header" would be. */
    assert_int_equal(hs_start(c, 0, "server", "ok", "--status", st, "--content-type", ct, "--body", body,
                              header ? "--header" : NULL, header, NULL),
                     0);
    hs_run(c, 0);
    hs_assert_elapsed_below(c, HS_TIME_BOUND_S(c));
    hs_assert_requests(c, 0, 1, 1);
}

/* Copies the template `tpl` into out, replacing $TOKEN, $CODE, $SECRET, $ID
 * and $BASIC with the case's canaries. */
static void expand(const hs_case *c, const char *tpl, char *out, size_t size) {
    static const char *const names[] = {"$TOKEN", "$CODE", "$SECRET", "$ID", "$BASIC"};
    const char *const values[] = {c->token, c->code, c->secret, c->client_id, c->basic};
    size_t n = 0;
    while (*tpl) {
        const char *piece = tpl;
        size_t plen = 1, skip = 1;
        for (size_t v = 0; v < sizeof names / sizeof names[0]; v++) {
            if (!strncmp(tpl, names[v], strlen(names[v]))) {
                piece = values[v];
                plen = strlen(piece);
                skip = strlen(names[v]);
                break;
            }
        }
        assert_true(n + plen < size);
        memcpy(out + n, piece, plen);
        n += plen;
        tpl += skip;
    }
    out[n] = '\0';
}

/* serve() with the template `tpl` (see expand) as the body, no extra header. */
static void serve_template(hs_case *c, int status, const char *ctype, const char *tpl) {
    char body[2048];
    expand(c, tpl, body, sizeof body);
    serve(c, status, ctype, NULL, body);
}

/* The call failed with `expected` (and the HTTP status `status`, unless 200),
 * no token, err clean. */
static void assert_failed(const hs_case *c, int status, lf_status expected) {
    hs_assert_status(c, expected);
    if (status != 200) assert_int_equal(c->err.http_status, status);
    assert_null(c->tok);
    hs_assert_err_clean(c, NULL);
}

/* Serves the template `tpl` with `status` and content type `ctype` (NULL:
 * JSON); the call must fail (see assert_failed). */
static void expect_error(hs_case *c, int status, const char *ctype, const char *tpl, lf_status expected) {
    serve_template(c, status, ctype, tpl);
    assert_failed(c, status, expected);
}

/* A 200 whose body must be refused as LF_E_PROTOCOL, no token handed out. */
static void expect_protocol(hs_case *c, const char *tpl) { expect_error(c, 200, NULL, tpl, LF_E_PROTOCOL); }

/* A 200 whose body (a template) carries the case token, which is accepted. */
static void expect_token(hs_case *c, const char *tpl) {
    serve_template(c, 200, NULL, tpl);
    hs_assert_got_token(c);
}

/* --------------------------------------------------------- not JSON at all */

static const char kHtml[] =
    "<!DOCTYPE html><html><head><title>Oops</title></head><body><h1>Something went wrong</h1>"
    "<p>Please try again later.</p></body></html>";

static void html_200(void **state) { expect_error(*state, 200, "text/html", kHtml, LF_E_PROTOCOL); }
static void html_502(void **state) { expect_error(*state, 502, "text/html", kHtml, LF_E_HTTP); }

static void empty_body_200(void **state) { expect_protocol(*state, ""); }
static void json_array(void **state) { expect_protocol(*state, "[{\"access_token\":\"abc\"}]"); }
static void json_string(void **state) { expect_protocol(*state, "\"access_token\""); }
static void json_number(void **state) { expect_protocol(*state, "42"); }
static void trailing_garbage(void **state) { expect_protocol(*state, "{\"access_token\":\"$TOKEN\"}x"); }
static void two_documents(void **state) {
    expect_protocol(*state, "{\"access_token\":\"$TOKEN\"}{\"access_token\":\"$TOKEN\"}");
}
static void truncated_json(void **state) { expect_protocol(*state, "{\"access_token\":\"$TOKEN\""); }

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
    static const char b64token[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
    for (size_t i = 0; i < n; i++) t[i] = b64token[i % 66];
    t[n] = '\0';
    return t;
}

static void token_at_limit(hs_case *c, size_t n, int accepted) {
    char *t = token_of_length(n);
    size_t blen = n + 64;
    char *body = malloc(blen);
    assert_non_null(body);
    snprintf(body, blen, "{\"access_token\":\"%s\"}", t);
    serve(c, 200, NULL, NULL, body);
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
    expect_protocol(*state, "{\"access_token\":\"$TOKEN\",\"access_token\":\"other-token\"}");
}

static void token_duplicated_same_value(void **state) {
    expect_protocol(*state, "{\"access_token\":\"$TOKEN\",\"access_token\":\"$TOKEN\"}");
}

static void token_case_variant_only(void **state) {
    expect_protocol(*state, "{\"Access_Token\":\"$TOKEN\",\"ACCESS_TOKEN\":\"$TOKEN\"}");
}

/* A valid token next to a case variant: the exact key wins, the variant is ignored. */
static void token_with_case_variant_sibling(void **state) {
    expect_token(*state, "{\"Access_Token\":\"decoy\",\"access_token\":\"$TOKEN\"}");
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
    serve(c, 200, NULL, NULL, body);
    free(body);
    hs_assert_status(c, expected);
    if (expected == LF_OK)
        assert_string_equal(lf_token_value(c->tok), c->token);
    else
        hs_assert_err_clean(c, NULL);
}

static void nesting_8_accepted(void **state) { nested(*state, 8, LF_OK); }
static void nesting_9_rejected(void **state) { nested(*state, 9, LF_E_PROTOCOL); }
static void nesting_1000_rejected(void **state) { nested(*state, 1000, LF_E_PROTOCOL); }

static void nesting_objects_9_rejected(void **state) {
    expect_protocol(*state,
                    "{\"access_token\":\"$TOKEN\","
                    "\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}");
}

/* Brackets inside strings are not nesting. */
static void brackets_in_strings_accepted(void **state) {
    expect_token(*state, "{\"access_token\":\"$TOKEN\",\"note\":\"[[[[[[[[[[{{{{{{{{{{\"}");
}

/* ----------------------------------------------------------- error bodies */

static void invalid_utf8_in_error_description(void **state) {
    hs_case *c = *state;
    expect_error(c, 400, NULL,
                 "{\"error\":\"invalid_grant\",\"error_description\":\"bad \xff\xfe bytes, overlong \xc0\xaf, "
                 "surrogate \xed\xa0\x80, truncated \xe2\x82, ok \xc3\xa9 done\"}",
                 LF_E_INVALID_CODE);
    assert_string_equal(c->err.key, "invalid_grant");
    assert_true(lf_utf8_valid(c->err.message));
    assert_non_null(strstr(c->err.message, "done")); /* the description is kept, sanitised */
}

static void invalid_utf8_in_error_key(void **state) {
    hs_case *c = *state;
    expect_error(c, 400, NULL, "{\"error\":\"weird\xff\xc0key\",\"error_description\":\"x\"}", LF_E_HTTP);
    assert_true(lf_utf8_valid(c->err.key));
}

static void control_chars_in_error_description(void **state) {
    /* err clean also means: no control characters */
    expect_error(*state, 400, NULL,
                 "{\"error\":\"invalid_grant\",\"error_description\":\"line1\\r\\nSet-Cookie: x=1\\u001b[31m\\u0007\"}",
                 LF_E_INVALID_CODE);
}

/* ------------------------------------------------------------- Retry-After */

/* Serves `body` with `status` and the Retry-After `header`: the call fails
 * with `expected` (see assert_failed) and retry_after_s in [lo, hi]. */
static void expect_retry_after(hs_case *c, int status, const char *body, const char *header, lf_status expected,
                               long lo, long hi) {
    serve(c, status, NULL, header, body);
    assert_failed(c, status, expected);
    print_message("      %s -> retry_after_s %ld\n", header, c->err.retry_after_s);
    assert_in_range(c->err.retry_after_s, lo, hi);
}

static void retry_after_500_seconds(void **state) {
    expect_retry_after(*state, 500, "{\"error\":\"server_error\"}", "Retry-After: 120", LF_E_HTTP, 120, 120);
}

static void retry_after_429_clamped(void **state) {
    expect_retry_after(*state, 429, "{\"error\":\"rate_limit_reached\"}", "Retry-After: 99999", LF_E_RATE_LIMITED, 3600,
                       3600);
}

static void retry_after_429_http_date(void **state) {
    char header[96];
    time_t when = time(NULL) + 600;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(header, sizeof header, "Retry-After: %a, %d %b %Y %H:%M:%S GMT", &tm);
    /* ~600 s minus however long the machine took; never outside the clamp. */
    expect_retry_after(*state, 429, "{}", header, LF_E_RATE_LIMITED, 300, 3600);
}

static void retry_after_503_garbage(void **state) {
    expect_retry_after(*state, 503, "{}", "Retry-After: soon-ish, maybe", LF_E_HTTP, 0, 0);
}

static void retry_after_429_negative(void **state) {
    expect_retry_after(*state, 429, "{}", "Retry-After: -5", LF_E_RATE_LIMITED, 0, 0);
}

static void retry_after_429_huge(void **state) {
    expect_retry_after(*state, 429, "{}", "Retry-After: 1000000000000000000000000000000", LF_E_RATE_LIMITED, 0, 3600);
}

/* --------------------------------------------------------- echoed secrets */

/* A failing answer (template `tpl`, see expand) that repeats secrets:
 * `expected`, and err clean, so none of them survives in err. */
static void expect_redacted(hs_case *c, int status, const char *ctype, const char *tpl, lf_status expected) {
    expect_error(c, status, ctype, tpl, expected);
    print_message("      err.key: %s\n      err.message: %s\n", c->err.key, c->err.message);
}

/* 400 invalid_grant whose description echoes `echo` (a template). */
static void echo_in_description(hs_case *c, const char *echo) {
    char tpl[1024];
    snprintf(tpl, sizeof tpl, "{\"error\":\"invalid_grant\",\"error_description\":\"request was: %s (rejected)\"}",
             echo);
    expect_redacted(c, 400, NULL, tpl, LF_E_INVALID_CODE);
}

static void echo_code(void **state) { echo_in_description(*state, "$CODE"); }
static void echo_secret(void **state) { echo_in_description(*state, "$SECRET"); }
static void echo_secret_basic_form(void **state) { echo_in_description(*state, "Authorization: Basic $BASIC"); }
static void echo_id_colon_secret(void **state) { echo_in_description(*state, "$ID:$SECRET"); }

static void echo_code_json_escaped(void **state) {
    hs_case *c = *state;
    /* "\u0068s-code-..." decodes to the code itself. */
    char echo[300];
    snprintf(echo, sizeof echo, "\\u%04x%s", (unsigned)c->code[0], c->code + 1);
    echo_in_description(c, echo);
}

/* The server sends a token in the same answer and echoes it in the text. */
static void echo_token_sent_in_same_response(void **state) {
    expect_redacted(*state, 400, NULL,
                    "{\"access_token\":\"$TOKEN\",\"error\":\"invalid_grant\",\"error_description\":\"token $TOKEN "
                    "already issued\"}",
                    LF_E_INVALID_CODE);
}

static void echo_in_error_key(void **state) {
    expect_redacted(*state, 401, NULL, "{\"error\":\"$SECRET\",\"error_description\":\"$CODE\"}", LF_E_INVALID_CLIENT);
}

/* The secret placed so that it straddles the end of err.message: no prefix
 * of it may survive the truncation. */
static void echo_secret_at_truncation_boundary(void **state) {
    hs_case *c = *state;
    static const int pads[] = {150, 170, 180, 185, 190, 195, 200, 230};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
        char echo[512];
        memset(echo, 'p', (size_t)pads[i]);
        snprintf(echo + pads[i], sizeof echo - (size_t)pads[i], "$SECRET");
        print_message("      %d bytes of padding before the secret\n", pads[i]);
        echo_in_description(c, echo);
    }
}

static void echo_code_in_html_502(void **state) {
    expect_redacted(*state, 502, "text/html", "<html><body>upstream failed for code=$CODE secret=$SECRET</body></html>",
                    LF_E_HTTP);
}

/* --------------------------------------------------------------------- main */

#define T(fn) HS_TEST(fn)

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
    return hs_run_suite("hostile_response", tests);
}
