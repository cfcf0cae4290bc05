/*
 * The caller-buffer convention (header, convention 3) on every function
 * that writes a deterministic output without the network:
 *   lf_consent_url, lf_parse_callback, lf_webhook_sign, lf_state_generate.
 *  - (NULL, 0) is a size query: LF_E_BUFFER_TOO_SMALL with *needed set;
 *  - `needed` may be NULL; it counts the NUL;
 *  - a short buffer: LF_E_BUFFER_TOO_SMALL, buf[0] == '\0', nothing written
 *    at or past buf[size] (checked with 0xA5 guard bytes);
 *  - exact size and larger sizes succeed;
 *  - on any failure buf is a valid empty string when size > 0;
 *  - buf NULL with size > 0 is LF_E_INVALID_ARGUMENT.
 */
#include "unit_support.h"

typedef lf_status (*buf_fn)(char *buf, size_t size, size_t *needed);

#define CALLBACK_CODE "unit-FAKE-code-91c2d7"
/* base64(HMAC-SHA256(UNIT_CLIENT_SECRET, "hello world")), computed with
 *   printf '%s' 'hello world' | openssl dgst -sha256 \
 *     -hmac 'unit-FAKE-secret-not-real-4c1e9b77d20a' -binary | base64   */
#define HELLO_SIG "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8="

static lf_status call_consent(char *buf, size_t size, size_t *needed) {
    return lf_consent_url(g_auth, UNIT_REDIRECT_URI, "products,orders", "st8", buf, size, needed);
}

static lf_status call_consent_bad_redirect(char *buf, size_t size, size_t *needed) {
    return lf_consent_url(g_auth, "https://evil.example.test/cb", "products", "st8", buf, size, needed);
}

static lf_status call_consent_bad_scope(char *buf, size_t size, size_t *needed) {
    return lf_consent_url(g_auth, UNIT_REDIRECT_URI, "Products", "st8", buf, size, needed);
}

static lf_status call_callback(char *buf, size_t size, size_t *needed) {
    return lf_parse_callback(g_auth, "https://app.example.test/oauth/callback?code=" CALLBACK_CODE "&state=st8", "st8",
                             buf, size, needed, NULL);
}

static lf_status call_callback_state_mismatch(char *buf, size_t size, size_t *needed) {
    return lf_parse_callback(g_auth, "code=" CALLBACK_CODE "&state=other", "st8", buf, size, needed, NULL);
}

static lf_status call_callback_denied(char *buf, size_t size, size_t *needed) {
    return lf_parse_callback(g_auth, "error=access_denied&state=st8", "st8", buf, size, needed, NULL);
}

static lf_status call_sign(char *buf, size_t size, size_t *needed) {
    return lf_webhook_sign(g_auth, "hello world", 11, buf, size, needed);
}

static lf_status call_sign_null_auth(char *buf, size_t size, size_t *needed) {
    return lf_webhook_sign(NULL, "hello world", 11, buf, size, needed);
}

static lf_status call_sign_null_body(char *buf, size_t size, size_t *needed) {
    return lf_webhook_sign(g_auth, NULL, 11, buf, size, needed);
}

/* The whole convention for one function whose output is `expected`. */
static void check_convention(buf_fn fn, const char *expected) {
    const size_t len = strlen(expected);
    const size_t want = len + 1;
    const size_t cap = want + 64;
    char *buf = (char *)malloc(cap);
    size_t needed;
    assert_non_null(buf);

    /* size query */
    needed = 0;
    assert_status(fn(NULL, 0, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, want);
    assert_status(fn(NULL, 0, NULL), LF_E_BUFFER_TOO_SMALL);

    /* every short size, 1 .. want-1 */
    for (size_t size = 1; size < want; size++) {
        unit_guard_fill(buf, cap);
        needed = 0;
        assert_status(fn(buf, size, &needed), LF_E_BUFFER_TOO_SMALL);
        assert_int_equal(needed, want);
        assert_int_equal(buf[0], '\0');
        unit_assert_guard(buf, size, cap);
        /* needed NULL on a short buffer */
        unit_guard_fill(buf, cap);
        assert_status(fn(buf, size, NULL), LF_E_BUFFER_TOO_SMALL);
        assert_int_equal(buf[0], '\0');
        unit_assert_guard(buf, size, cap);
    }

    /* a non-NULL buffer of size 0: nothing written at all */
    unit_guard_fill(buf, cap);
    needed = 0;
    assert_status(fn(buf, 0, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, want);
    unit_assert_guard(buf, 0, cap);

    /* exact size */
    unit_guard_fill(buf, cap);
    needed = 0;
    assert_status(fn(buf, want, &needed), LF_OK);
    assert_int_equal(needed, want);
    assert_string_equal(buf, expected);
    unit_assert_guard(buf, want, cap);

    /* larger sizes, with and without needed */
    for (size_t extra = 1; extra <= 32; extra *= 2) {
        unit_guard_fill(buf, cap);
        needed = 0;
        assert_status(fn(buf, want + extra, &needed), LF_OK);
        assert_int_equal(needed, want);
        assert_string_equal(buf, expected);
        unit_assert_guard(buf, want + extra, cap);
        unit_guard_fill(buf, cap);
        assert_status(fn(buf, want + extra, NULL), LF_OK);
        assert_string_equal(buf, expected);
    }

    /* buf NULL with size > 0 */
    assert_status(fn(NULL, want, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(fn(NULL, 1, NULL), LF_E_INVALID_ARGUMENT);
    free(buf);
}

/* A failing call leaves an empty string and respects size. */
static void check_failure_leaves_empty(buf_fn fn, lf_status expected) {
    char buf[600];
    const size_t sizes[] = {1, 2, 45, 300};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unit_guard_fill(buf, sizeof buf);
        assert_status(fn(buf, sizes[i], NULL), expected);
        assert_int_equal(buf[0], '\0');
        unit_assert_guard(buf, sizes[i], sizeof buf);
    }
}

static void test_consent_url_convention(void **st) {
    (void)st;
    char url[1024];
    /* The expected text comes from one successful call; its content is the
     * business of consent_url_test. */
    assert_status(call_consent(url, sizeof url, NULL), LF_OK);
    assert_true(strlen(url) > 40);
    check_convention(call_consent, url);
    check_failure_leaves_empty(call_consent_bad_redirect, LF_E_REDIRECT_URI_NOT_ALLOWED);
    check_failure_leaves_empty(call_consent_bad_scope, LF_E_INVALID_ARGUMENT);
}

static void test_parse_callback_convention(void **st) {
    (void)st;
    check_convention(call_callback, CALLBACK_CODE);
    check_failure_leaves_empty(call_callback_state_mismatch, LF_E_STATE_MISMATCH);
    check_failure_leaves_empty(call_callback_denied, LF_E_ACCESS_DENIED);
}

static void test_parse_callback_size_query_fills_error(void **st) {
    (void)st;
    lf_error err;
    size_t needed = 0;
    lf_garbage_fill(&err, sizeof err);
    assert_status(lf_parse_callback(g_auth, "code=" CALLBACK_CODE, NULL, NULL, 0, &needed, &err),
                  LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, strlen(CALLBACK_CODE) + 1);
    assert_int_equal(err.status, LF_E_BUFFER_TOO_SMALL);
    /* The code itself never shows up in the error message. */
    assert_null(strstr(err.message, CALLBACK_CODE));
}

static void test_webhook_sign_convention(void **st) {
    (void)st;
    check_convention(call_sign, HELLO_SIG);
    check_failure_leaves_empty(call_sign_null_auth, LF_E_INVALID_ARGUMENT);
    check_failure_leaves_empty(call_sign_null_body, LF_E_INVALID_ARGUMENT);
}

static void test_webhook_sign_fits_the_published_bound(void **st) {
    (void)st;
    char buf[LF_SIGNATURE_BUFFER_SIZE];
    size_t needed = 0;
    assert_int_equal(LF_SIGNATURE_BUFFER_SIZE, 45);
    assert_status(lf_webhook_sign(g_auth, "", 0, buf, sizeof buf, &needed), LF_OK);
    assert_int_equal(needed, LF_SIGNATURE_BUFFER_SIZE);
}

/* lf_state_generate has no `needed`: its size is the published bound, and
 * its doc makes a NULL buf LF_E_INVALID_ARGUMENT (even with size 0). */
static void test_state_generate_convention(void **st) {
    (void)st;
    char buf[LF_STATE_BUFFER_SIZE + 64];
    for (size_t size = 1; size < LF_STATE_BUFFER_SIZE; size++) {
        unit_guard_fill(buf, sizeof buf);
        assert_status(lf_state_generate(buf, size), LF_E_BUFFER_TOO_SMALL);
        assert_int_equal(buf[0], '\0');
        unit_assert_guard(buf, size, sizeof buf);
    }
    unit_guard_fill(buf, sizeof buf);
    assert_status(lf_state_generate(buf, 0), LF_E_BUFFER_TOO_SMALL);
    unit_assert_guard(buf, 0, sizeof buf);

    unit_guard_fill(buf, sizeof buf);
    assert_status(lf_state_generate(buf, LF_STATE_BUFFER_SIZE), LF_OK);
    assert_int_equal(strlen(buf), LF_STATE_BUFFER_SIZE - 1);
    unit_assert_guard(buf, LF_STATE_BUFFER_SIZE, sizeof buf);

    unit_guard_fill(buf, sizeof buf);
    assert_status(lf_state_generate(buf, LF_STATE_BUFFER_SIZE + 10), LF_OK);
    assert_int_equal(strlen(buf), LF_STATE_BUFFER_SIZE - 1);
    unit_assert_guard(buf, LF_STATE_BUFFER_SIZE + 10, sizeof buf);

    assert_status(lf_state_generate(NULL, 0), LF_E_INVALID_ARGUMENT);
    assert_status(lf_state_generate(NULL, LF_STATE_BUFFER_SIZE), LF_E_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consent_url_convention),
        cmocka_unit_test(test_parse_callback_convention),
        cmocka_unit_test(test_parse_callback_size_query_fills_error),
        cmocka_unit_test(test_webhook_sign_convention),
        cmocka_unit_test(test_webhook_sign_fits_the_published_bound),
        cmocka_unit_test(test_state_generate_convention),
    };
    return cmocka_run_group_tests(tests, unit_group_setup, unit_group_teardown);
}
