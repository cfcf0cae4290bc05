/* How every kind of token-endpoint answer maps to a status and lf_error, and
 * that no error text ever carries the secret, the code or a token. */
#include "it_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_PATH "/oauth/access_token"

/* srv: the token endpoint under test; other: a redirect target that answers
 * with a token of its own and must never be reached. */
typedef it_two_servers fixture;

/* (Re)makes the test's handle for the token endpoint, with this response
 * cap (0: the library's default, 1 MiB). */
static void use_handle(fixture *f, size_t max_response_bytes) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_JSON_BODY);
    if (max_response_bytes) cfg.max_response_bytes = max_response_bytes;
    lf_auth_free(f->a);
    f->a = NULL; /* teardown frees f->a, even when it_auth() fails */
    f->a = it_auth(&cfg);
}

static int setup(void **state) {
    fixture *f = it_two_servers_new();
    ts_server_respond(f->other, 200, NULL, "{\"access_token\":\"stolen\"}");
    use_handle(f, 4096);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    it_two_servers_free(*state);
    return 0;
}

/* One exchange against the current reply; checks the status, that *out is
 * NULL on failure, the canaries, and that exactly one request was made. */
static lf_status run(fixture *f, lf_error *err) {
    lf_token *t = (lf_token *)f; /* must be overwritten */
    size_t before = ts_server_request_count(f->srv);
    lf_garbage_fill(err, sizeof *err);
    lf_status st = lf_exchange_code(f->a, f->c.code, &t, err);
    assert_int_equal(err->status, st);
    if (st == LF_OK) {
        assert_non_null(t);
        lf_token_free(t);
    } else {
        assert_null(t);
    }
    assert_int_equal(ts_server_request_count(f->srv), before + 1);
    it_assert_clean(err, &f->c, "exchange");
    assert_non_null(memchr(err->message, '\0', sizeof err->message));
    assert_non_null(memchr(err->key, '\0', sizeof err->key));
    return st;
}

static void respond(fixture *f, int status, const char *ct, const char *body) {
    ts_server_respond(f->srv, status, ct, body);
}

static void expect(fixture *f, int http, const char *ct, const char *body, lf_status want, const char *key) {
    lf_error err;
    respond(f, http, ct, body);
    lf_status st = run(f, &err);
    if (st != want)
        fail_msg("HTTP %d body %.80s: got %s want %s (message '%s')", http, body, lf_status_name(st),
                 lf_status_name(want), err.message);
    if (want != LF_OK) assert_int_equal(err.http_status, http);
    if (key) assert_string_equal(err.key, key);
}

/* ---- OAuth and Lightfunnels error bodies ---------------------------------- */

static void test_invalid_grant(void **state) {
    fixture *f = *state;
    char body[512];
    /* the server echoes the code and the secret: both must be redacted */
    snprintf(body, sizeof body,
             "{\"error\":\"invalid_grant\",\"error_description\":\"The code %s has expired (secret %s)\"}", f->c.code,
             f->c.secret);
    expect(f, 400, NULL, body, LF_E_INVALID_CODE, "invalid_grant");
    lf_error err;
    run(f, &err);
    assert_non_null(strstr(err.message, "has expired"));
    assert_int_equal(err.retry_after_s, 0);
}

static void test_invalid_client(void **state) {
    fixture *f = *state;
    expect(f, 401, NULL, "{\"error\":\"invalid_client\"}", LF_E_INVALID_CLIENT, "invalid_client");
    char body[512];
    snprintf(body, sizeof body,
             "{\"error\":\"invalid_client\",\"error_description\":\"client %s with secret %s unknown\"}",
             f->c.client_id, f->c.secret);
    expect(f, 401, NULL, body, LF_E_INVALID_CLIENT, "invalid_client");
}

static void test_lightfunnels_errors_body(void **state) {
    fixture *f = *state;
    char body[512];
    snprintf(body, sizeof body,
             "{\"errors\":[{\"message\":\"Authorization code %s is invalid\",\"name\":\"UserInputError\","
             "\"key\":\"invalid_grant\",\"path\":[\"accessToken\"]},"
             "{\"message\":\"second\",\"name\":\"X\",\"key\":\"other\",\"path\":[]}]}",
             f->c.code);
    expect(f, 400, NULL, body, LF_E_INVALID_CODE, "invalid_grant");
    lf_error err;
    run(f, &err);
    assert_non_null(strstr(err.message, "is invalid"));

    snprintf(body, sizeof body,
             "{\"errors\":[{\"message\":\"Client secret %s is wrong\",\"name\":\"AuthenticationError\","
             "\"key\":\"invalid_client\",\"path\":[]}]}",
             f->c.secret);
    expect(f, 401, NULL, body, LF_E_INVALID_CLIENT, "invalid_client");

    expect(f, 400, NULL,
           "{\"errors\":[{\"message\":\"Too many requests\",\"name\":\"RateLimit\",\"key\":\"rate_limit_reached\","
           "\"path\":[]}]}",
           LF_E_RATE_LIMITED, "rate_limit_reached");
}

static void test_rate_limited_retry_after(void **state) {
    fixture *f = *state;
    lf_error err;
    respond(f, 429, NULL, "{\"error\":\"slow_down\"}");
    ts_server_respond_header(f->srv, "Retry-After", "7");
    IT_ASSERT_STATUS(run(f, &err), LF_E_RATE_LIMITED, &err);
    assert_int_equal(err.http_status, 429);
    assert_int_equal(err.retry_after_s, 7);
}

static void test_rate_limited_retry_after_clamped(void **state) {
    fixture *f = *state;
    lf_error err;
    respond(f, 429, "text/plain", "slow down");
    ts_server_respond_header(f->srv, "Retry-After", "99999");
    IT_ASSERT_STATUS(run(f, &err), LF_E_RATE_LIMITED, &err);
    assert_int_equal(err.retry_after_s, 3600);
}

static void test_rate_limited_without_retry_after(void **state) {
    fixture *f = *state;
    lf_error err;
    respond(f, 429, NULL, "{}");
    IT_ASSERT_STATUS(run(f, &err), LF_E_RATE_LIMITED, &err);
    assert_int_equal(err.retry_after_s, 0);
}

static void test_html_502_and_500(void **state) {
    fixture *f = *state;
    expect(f, 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", LF_E_HTTP, NULL);
    expect(f, 500, NULL, "{\"error\":\"server_error\"}", LF_E_HTTP, NULL);
    expect(f, 404, "text/html", "<html>not found</html>", LF_E_HTTP, NULL);
}

/* ---- parts of a secret echoed in the middle of the text ------------------- */

#define BAD_CODE_PREFIX "token endpoint rejected the authorization code (HTTP 400): "

/* Fails when err.key or err.message holds any 8 consecutive bytes of
 * `secret` (the redaction rule: a run of 8 or more bytes that occurs in a
 * secret never reaches lf_error). */
static void assert_no_slice(const lf_error *err, const char *secret, const char *what) {
    size_t n = strlen(secret);
    for (size_t i = 0; i + 8 <= n; i++) {
        char w[9];
        memcpy(w, secret + i, 8);
        w[8] = '\0';
        if (strstr(err->message, w) || strstr(err->key, w))
            fail_msg("%s: err holds bytes %zu..%zu of a secret ('%s'): key '%s' message '%s'", what, i, i + 8, w,
                     err->key, err->message);
    }
}

/* `len` bytes of `s` from `from`, in a static buffer. */
static const char *slice(const char *s, size_t from, size_t len) {
    static char buf[4][256];
    static int next;
    char *b = buf[next++ % 4];
    assert_true(len < sizeof buf[0] && from + len <= strlen(s));
    memcpy(b, s + from, len);
    b[len] = '\0';
    return b;
}

/* 400 invalid_grant whose description is `desc`: LF_E_INVALID_CODE, no 8
 * bytes of the secret or the code in err, and the message is exactly the
 * prefix followed by `want`. */
static void expect_description(fixture *f, const char *desc, const char *want) {
    char body[1024];
    char msg[512];
    lf_error err;
    snprintf(body, sizeof body, "{\"error\":\"invalid_grant\",\"error_description\":\"%s\"}", desc);
    respond(f, 400, NULL, body);
    IT_ASSERT_STATUS(run(f, &err), LF_E_INVALID_CODE, &err);
    assert_string_equal(err.key, "invalid_grant");
    assert_no_slice(&err, f->c.secret, desc);
    assert_no_slice(&err, f->c.code, desc);
    snprintf(msg, sizeof msg, BAD_CODE_PREFIX "%s", want);
    if (strcmp(err.message, msg) != 0) fail_msg("description '%s':\n got  '%s'\n want '%s'", desc, err.message, msg);
}

static void test_code_part_echoed_mid_text(void **state) {
    fixture *f = *state;
    char desc[256];
    size_t n = strlen(f->c.code);
    snprintf(desc, sizeof desc, "code %s is unknown", slice(f->c.code, 0, n / 2));
    expect_description(f, desc, "code [redacted] is unknown");
    snprintf(desc, sizeof desc, "bad code '%s...' (truncated)", slice(f->c.code, 0, 10));
    expect_description(f, desc, "bad code '[redacted]...' (truncated)");
    snprintf(desc, sizeof desc, "code ...%s... is unknown", slice(f->c.code, 9, 20));
    expect_description(f, desc, "code ...[redacted]... is unknown");
    snprintf(desc, sizeof desc, "%s expired", slice(f->c.code, n - 12, 12));
    expect_description(f, desc, "[redacted] expired");
    /* twice, with text between */
    snprintf(desc, sizeof desc, "a %s b %s c", slice(f->c.code, 3, 9), slice(f->c.code, 30, 9));
    expect_description(f, desc, "a [redacted] b [redacted] c");
}

static void test_secret_part_echoed_mid_text(void **state) {
    fixture *f = *state;
    char desc[256];
    size_t n = strlen(f->c.secret);
    snprintf(desc, sizeof desc, "client secret %s rejected", slice(f->c.secret, 0, n / 2));
    expect_description(f, desc, "client secret [redacted] rejected");
    snprintf(desc, sizeof desc, "got %s from the client", slice(f->c.secret, 10, 20));
    expect_description(f, desc, "got [redacted] from the client");
    snprintf(desc, sizeof desc, "secret ends in %s, try again", slice(f->c.secret, n - 8, 8));
    expect_description(f, desc, "secret ends in [redacted], try again");
    /* a slice of the secret run into a slice of the code: one run */
    snprintf(desc, sizeof desc, "x %s%s y", slice(f->c.secret, 5, 15), slice(f->c.code, 20, 15));
    expect_description(f, desc, "x [redacted] y");
}

/* The error key too: 401 with a piece of the secret as the OAuth error. */
static void test_secret_part_in_error_key(void **state) {
    fixture *f = *state;
    char body[512];
    lf_error err;
    snprintf(body, sizeof body, "{\"error\":\"e_%s_x\",\"error_description\":\"for %s!\"}", slice(f->c.secret, 4, 16),
             slice(f->c.code, 12, 16));
    respond(f, 401, NULL, body);
    IT_ASSERT_STATUS(run(f, &err), LF_E_INVALID_CLIENT, &err);
    assert_no_slice(&err, f->c.secret, "key");
    assert_no_slice(&err, f->c.code, "key");
    assert_string_equal(err.key, "e_[redacted]_x");
    assert_non_null(strstr(err.message, ": for [redacted]!"));
}

/* Fewer than 8 bytes of a secret are ordinary text; 8 are not. */
static void test_seven_bytes_kept_eight_redacted(void **state) {
    fixture *f = *state;
    char desc[256], want[256];
    const char *seven = slice(f->c.code, 20, 7);
    snprintf(desc, sizeof desc, "ref %s ok", seven);
    snprintf(want, sizeof want, "ref %s ok", seven);
    expect_description(f, desc, want);
    snprintf(desc, sizeof desc, "ref %s ok", slice(f->c.code, 20, 8));
    expect_description(f, desc, "ref [redacted] ok");
}

/* Text without a secret comes through unchanged, even where it shares a few
 * bytes with one ("code" begins the code, "sec" the secret). */
static void test_ordinary_text_unchanged(void **state) {
    fixture *f = *state;
    static const char *const texts[] = {
        "The authorization code has expired; request a new one",
        "invalid_grant: code expired, secret rotated, client_id mismatch",
        "Le code d'autorisation a expir\303\251 (r\303\251essayez)",
        "0123456789abcdef is not a valid code",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) expect_description(f, texts[i], texts[i]);
}

/* A code shorter than 8 bytes is redacted only whole. */
static void test_short_code_redacted_only_whole(void **state) {
    fixture *f = *state;
    lf_error err;
    lf_token *t = NULL;
    respond(f, 400, NULL, "{\"error\":\"invalid_grant\",\"error_description\":\"code Q7x2Kp unknown, Q7x2 too\"}");
    IT_ASSERT_STATUS(lf_exchange_code(f->a, "Q7x2Kp", &t, &err), LF_E_INVALID_CODE, &err);
    assert_null(t);
    assert_string_equal(err.message, BAD_CODE_PREFIX "code [redacted] unknown, Q7x2 too");
}

/* The longest secret the configuration takes (8 KiB), with a 4000-byte slice
 * of it echoed in the middle: one "[redacted]", and quickly. */
static void test_long_secret_slice_echoed(void **state) {
    fixture *f = *state;
    enum { N = 8192 };
    static char secret[N + 1];
    static char body[N + 256];
    ts_random_token(secret, sizeof secret, "long");
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.client_secret = secret;
    lf_auth_free(f->a);
    f->a = NULL;
    f->a = it_auth(&cfg);
    snprintf(body, sizeof body, "{\"error\":\"invalid_grant\",\"error_description\":\"start %.*s end\"}", 4000,
             secret + 2000);
    respond(f, 400, NULL, body);
    lf_error err;
    lf_token *t = NULL;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(lf_exchange_code(f->a, f->c.code, &t, &err), LF_E_INVALID_CODE, &err);
    it_assert_faster_than(t0, 5000, "an exchange whose error echoes 4000 bytes of an 8 KiB secret");
    assert_no_slice(&err, secret, "long secret");
    assert_string_equal(err.message, BAD_CODE_PREFIX "start [redacted] end");
}

/* ---- 200 answers without a usable token ------------------------------------ */

static void test_200_without_valid_token(void **state) {
    fixture *f = *state;
    char body[512];
    const char *bodies[] = {
        "<html>hello</html>",
        "",
        "[\"abc\"]",
        "\"abcdef\"",
        "42",
        "null",
        "{\"token\":\"abc\"}",
        "{\"access_token\":\"\"}",
        "{\"access_token\":12345}",
        "{\"access_token\":null}",
        "{\"access_token\":true}",
        "{\"access_token\":{\"v\":\"abc\"}}",
        "{\"access_token\":[\"abc\"]}",
        "{\"access_token\":\"ab\\u0001cd\"}",
        "{\"access_token\":\"ab\\ncd\"}",
        "{\"access_token\":\"ab cd\"}",
        "{\"access_token\":\"ab\\u0000cd\"}",
        "{\"access_token\":\"abc\\u00e9\"}",
        "{\"access_token\":\"abc\"} trailing",
        "{\"access_token\":\"abc\"",
        "{\"Access_Token\":\"abcdef\"}",
        "{\"ACCESS_TOKEN\":\"abcdef\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        lf_error err;
        respond(f, 200, NULL, bodies[i]);
        lf_status st = run(f, &err);
        if (st != LF_E_PROTOCOL)
            fail_msg("body #%zu '%s': got %s, want LF_E_PROTOCOL", i, bodies[i], lf_status_name(st));
        assert_int_equal(err.http_status, 200);
    }
    /* canary tokens that are rejected must not be echoed either */
    for (int i = 0; i < 4; i++) {
        lf_error err;
        const char *t = f->c.token;
        switch (i) {
        case 0:
            snprintf(body, sizeof body, "{\"access_token\":\"%s\\u0000x\"}", t);
            break;
        case 1:
            snprintf(body, sizeof body, "{\"access_token\":\"%s\\r\\nX-Injected: 1\"}", t);
            break;
        case 2:
            snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"access_token\":\"%s\"}", t, t);
            break;
        default:
            snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"access_token\":\"other\"}", t);
            break;
        }
        respond(f, 200, NULL, body);
        lf_status st = run(f, &err);
        if (st != LF_E_PROTOCOL) fail_msg("body '%s': got %s, want LF_E_PROTOCOL", body, lf_status_name(st));
    }
}

static void test_case_variant_ignored_next_to_real_token(void **state) {
    fixture *f = *state;
    char body[512];
    snprintf(body, sizeof body, "{\"Access_Token\":\"decoy\",\"access_token\":\"%s\",\"ACCESS_TOKEN\":\"x\"}",
             f->c.token);
    respond(f, 200, NULL, body);
    lf_token *t = NULL;
    lf_error err;
    IT_ASSERT_STATUS(lf_exchange_code(f->a, f->c.code, &t, &err), LF_OK, &err);
    assert_string_equal(lf_token_value(t), f->c.token);
    lf_token_free(t);
}

static char *token_body(size_t token_len, char **token_out) {
    char *tok = malloc(token_len + 1);
    assert_non_null(tok);
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
    for (size_t i = 0; i < token_len; i++) tok[i] = alpha[(i * 7 + 3) % (sizeof alpha - 1)];
    tok[token_len] = '\0';
    char *body = malloc(token_len + 64);
    assert_non_null(body);
    snprintf(body, token_len + 64, "{\"access_token\":\"%s\"}", tok);
    *token_out = tok;
    return body;
}

/* An answer whose token has token_len characters: LF_E_PROTOCOL. */
static void token_of_length_refused(fixture *f, size_t token_len) {
    char *tok;
    char *body = token_body(token_len, &tok);
    respond(f, 200, NULL, body);
    lf_error err;
    char what[64];
    snprintf(what, sizeof what, "token of %zu characters", token_len);
    it_expect_status(run(f, &err), LF_E_PROTOCOL, &err, what);
    free(body);
    free(tok);
}

static void test_token_length_boundaries(void **state) {
    fixture *f = *state;
    use_handle(f, 0); /* a larger response cap so only the token limit matters */

    char *tok;
    char *body = token_body(LF_MAX_TOKEN_LENGTH, &tok);
    respond(f, 200, NULL, body);
    lf_token *t = NULL;
    lf_error err;
    IT_ASSERT_STATUS(lf_exchange_code(f->a, f->c.code, &t, &err), LF_OK, &err);
    assert_int_equal(strlen(lf_token_value(t)), LF_MAX_TOKEN_LENGTH);
    assert_string_equal(lf_token_value(t), tok);
    lf_token_free(t);
    free(body);
    free(tok);

    token_of_length_refused(f, LF_MAX_TOKEN_LENGTH + 1);

    /* padding '=' at the end is part of b64token */
    char padded[128];
    snprintf(padded, sizeof padded, "{\"access_token\":\"%s==\"}", f->c.token);
    respond(f, 200, NULL, padded);
    IT_ASSERT_STATUS(lf_exchange_code(f->a, f->c.code, &t, &err), LF_OK, &err);
    lf_token_free(t);
    /* '=' in the middle is not */
    snprintf(padded, sizeof padded, "{\"access_token\":\"ab=%s\"}", f->c.token);
    respond(f, 200, NULL, padded);
    IT_ASSERT_STATUS(run(f, &err), LF_E_PROTOCOL, &err);
}

static char *nested(int depth, const char *inner_token) {
    size_t n = (size_t)depth * 8 + 128;
    char *b = malloc(n);
    assert_non_null(b);
    size_t o = 0;
    o += (size_t)snprintf(b + o, n - o, "{\"access_token\":\"%s\",\"x\":", inner_token);
    for (int i = 0; i < depth - 1; i++) b[o++] = '[';
    for (int i = 0; i < depth - 1; i++) b[o++] = ']';
    b[o++] = '}';
    b[o] = '\0';
    return b;
}

static void test_deep_nesting(void **state) {
    fixture *f = *state;
    lf_error err;
    use_handle(f, 0);
    /* total depth 3 (object + two arrays): fine */
    char *b = nested(3, f->c.token);
    respond(f, 200, NULL, b);
    IT_ASSERT_STATUS(run(f, &err), LF_OK, &err);
    free(b);
    int deep[] = {9, 10, 64, 1000, 20000};
    for (size_t i = 0; i < sizeof deep / sizeof deep[0]; i++) {
        b = nested(deep[i], f->c.token);
        respond(f, 200, NULL, b);
        lf_status st = run(f, &err);
        if (st != LF_E_PROTOCOL) fail_msg("depth %d: got %s", deep[i], lf_status_name(st));
        free(b);
    }
}

/* ---- size caps ------------------------------------------------------------------ */

static void test_response_too_large(void **state) {
    fixture *f = *state;
    lf_error err;
    long long t0 = ts_now_ms();
    respond(f, 200, NULL, "");
    ts_server_respond_filler(f->srv, 1u << 20, 1);
    IT_ASSERT_STATUS(run(f, &err), LF_E_RESPONSE_TOO_LARGE, &err);
    respond(f, 200, NULL, "");
    ts_server_respond_filler(f->srv, 1u << 20, 0);
    IT_ASSERT_STATUS(run(f, &err), LF_E_RESPONSE_TOO_LARGE, &err);
    /* an error status with a huge body is still bounded */
    respond(f, 500, NULL, "");
    ts_server_respond_filler(f->srv, 1u << 20, 1);
    lf_status st = run(f, &err);
    assert_true(st == LF_E_RESPONSE_TOO_LARGE || st == LF_E_HTTP);
    it_assert_faster_than(t0, 15000, "three exchanges answered with 1 MiB");
}

/* The token endpoint's answer is read up to 64 KiB even when
 * max_response_bytes is larger (everything reading it needs is reserved
 * before the code is sent): exactly 64 KiB is accepted, one byte more is
 * LF_E_RESPONSE_TOO_LARGE (so is a 200,000-character token, which 1.0
 * refused as LF_E_PROTOCOL after reading it). */
static void test_token_answer_cap(void **state) {
    fixture *f = *state;
    use_handle(f, 0); /* max_response_bytes well above 64 KiB */
    const size_t cap = 64 * 1024;
    char *body = malloc(cap + 2);
    assert_non_null(body);
    for (size_t want = cap; want <= cap + 1; want++) {
        size_t o = (size_t)snprintf(body, cap + 2, "{\"access_token\":\"%s\",\"pad\":\"", f->c.token);
        while (o < want - 2) body[o++] = 'x';
        memcpy(body + o, "\"}", 3);
        respond(f, 200, NULL, body);
        lf_token *t = NULL;
        lf_error err;
        lf_status st = lf_exchange_code(f->a, f->c.code, &t, &err);
        IT_ASSERT_STATUS(st, want == cap ? LF_OK : LF_E_RESPONSE_TOO_LARGE, &err);
        if (t) assert_string_equal(lf_token_value(t), f->c.token);
        lf_token_free(t);
    }
    free(body);
    char *tok;
    body = token_body(200000, &tok);
    respond(f, 200, NULL, body);
    lf_error err;
    IT_ASSERT_STATUS(run(f, &err), LF_E_RESPONSE_TOO_LARGE, &err);
    free(body);
    free(tok);
}

/* A body of exactly max_response_bytes is accepted; one byte more is not. */
static void test_response_size_boundary(void **state) {
    fixture *f = *state;
    char *body = malloc(4098);
    assert_non_null(body);
    for (size_t want = 4096; want <= 4097; want++) {
        int head = snprintf(body, 4098, "{\"access_token\":\"%s\",\"pad\":\"", f->c.token);
        size_t o = (size_t)head;
        while (o < want - 2) body[o++] = 'p';
        body[o++] = '"';
        body[o++] = '}';
        body[o] = '\0';
        assert_int_equal(strlen(body), want);
        respond(f, 200, NULL, body);
        lf_error err;
        lf_status st = run(f, &err);
        if (want == 4096)
            IT_ASSERT_STATUS(st, LF_OK, &err);
        else
            IT_ASSERT_STATUS(st, LF_E_RESPONSE_TOO_LARGE, &err);
    }
    free(body);
}

/* ---- redirects ---------------------------------------------------------------------- */

static void test_redirect_not_followed(void **state) {
    fixture *f = *state;
    int codes[] = {301, 302, 303, 307, 308};
    const char *target = ts_server_url(f->other, TOKEN_PATH);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        lf_error err;
        respond(f, codes[i], NULL, "{}");
        ts_server_respond_header(f->srv, "Location", target);
        lf_status st = run(f, &err);
        if (st != LF_E_HTTP) fail_msg("%d: got %s", codes[i], lf_status_name(st));
        assert_int_equal(err.http_status, codes[i]);
    }
    assert_int_equal(ts_server_request_count(f->other), 0);
    assert_int_equal(ts_server_connection_count(f->other), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invalid_grant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lightfunnels_errors_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_part_echoed_mid_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_part_echoed_mid_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_part_in_error_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seven_bytes_kept_eight_redacted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordinary_text_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_code_redacted_only_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_secret_slice_echoed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_retry_after_clamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_without_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_502_and_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_200_without_valid_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_variant_ignored_next_to_real_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_length_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_size_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_answer_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
