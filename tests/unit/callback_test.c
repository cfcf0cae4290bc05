/*
 * lf_parse_callback(): the redirect the merchant comes back with.
 *  - input: a full URL, a query with or without '?', at most
 *    LF_MAX_CALLBACK_LENGTH bytes; the fragment is ignored;
 *  - '&' separates parameters; names are case-sensitive; unknown ones are
 *    ignored; a segment without '=' is a name with an empty value;
 *  - strict decoding: '+' is a space, %XX needs two hex digits, %00 is an
 *    error, decoded exactly once;
 *  - checks in order: (1) malformed escape / repeated code, state or error
 *    -> INVALID_ARGUMENT; (2) expected_state given and state missing or
 *    different -> STATE_MISMATCH; (3) error=... -> ACCESS_DENIED with
 *    err->key / err->message; (4) code missing, empty or with control
 *    characters -> INVALID_ARGUMENT;
 *  - err is reset at the start and filled on failure (err.status == return).
 */
#include "unit_support.h"

#define STATE "Yk3-unit_state_Q9zT"

/* Parses `input` and expects LF_OK with exactly `code`. */
static void expect_code_with(const lf_auth *a, const char *input, const char *expected_state, const char *code) {
    char buf[LF_MAX_CALLBACK_LENGTH + 1];
    size_t needed = 0;
    lf_error err;
    lf_status s;
    lf_garbage_fill(&err, sizeof err); /* garbage: must be reset */
    s = lf_parse_callback(a, input, expected_state, buf, sizeof buf, &needed, &err);
    if (s != LF_OK) {
        print_error("input \"%.200s\" (expected_state %s): %s (%s), expected LF_OK\n", input,
                    expected_state != NULL ? expected_state : "NULL", lf_status_name(s), err.message);
        fail();
    }
    if (strcmp(buf, code) != 0) {
        print_error("input \"%.200s\": code \"%s\", expected \"%s\"\n", input, buf, code);
        fail();
    }
    assert_int_equal(needed, strlen(code) + 1);
    /* reset on entry, untouched by success */
    assert_int_equal(err.status, LF_OK);
    assert_int_equal(err.http_status, 0);
    assert_int_equal(err.retry_after_s, 0);
    assert_string_equal(err.key, "");
    assert_string_equal(err.message, "");
    /* err NULL is allowed too */
    assert_status(lf_parse_callback(a, input, expected_state, buf, sizeof buf, NULL, NULL), LF_OK);
    assert_string_equal(buf, code);
}

static void expect_code(const char *input, const char *expected_state, const char *code) {
    expect_code_with(NULL, input, expected_state, code);
}

/* Parses `input` and expects failure `expected`, an empty buffer and a
 * filled error. Returns the error for further checks. */
static lf_error expect_fail(const char *input, const char *expected_state, lf_status expected) {
    char buf[64];
    lf_error err;
    lf_status s;
    lf_garbage_fill(&err, sizeof err);
    strcpy(buf, "junk");
    s = lf_parse_callback(NULL, input, expected_state, buf, sizeof buf, NULL, &err);
    if (s != expected) {
        print_error("input \"%.200s\" (expected_state %s): %s, expected %s\n", input,
                    expected_state != NULL ? expected_state : "NULL", lf_status_name(s), lf_status_name(expected));
        fail();
    }
    assert_string_equal(buf, "");
    assert_int_equal(err.status, expected);
    assert_int_equal(err.http_status, 0);
    assert_non_null(memchr(err.key, '\0', sizeof err.key));
    assert_non_null(memchr(err.message, '\0', sizeof err.message));
    assert_true(err.message[0] != '\0');
    lf_assert_text("err.message", err.message, sizeof err.message);
    /* err NULL is allowed too */
    assert_status(lf_parse_callback(NULL, input, expected_state, buf, sizeof buf, NULL, NULL), expected);
    return err;
}

/* ---- input shapes --------------------------------------------------------- */

static void test_full_url_bare_query_and_leading_question_mark(void **st) {
    (void)st;
    expect_code("https://app.example.test/oauth/callback?code=c0de&state=" STATE, STATE, "c0de");
    expect_code("http://127.0.0.1:8080/cb?code=c0de", NULL, "c0de");
    expect_code("?code=c0de&state=" STATE, STATE, "c0de");
    expect_code("code=c0de&state=" STATE, STATE, "c0de");
    expect_code("state=" STATE "&code=c0de", STATE, "c0de");
}

static void test_with_a_handle(void **st) {
    (void)st;
    lf_auth *a = unit_default_auth();
    expect_code_with(a, "https://app.example.test/oauth/callback?code=c0de&state=" STATE, STATE, "c0de");
    lf_auth_free(a);
}

static void test_fragment_ignored(void **st) {
    (void)st;
    expect_code("code=c0de#frag", NULL, "c0de");
    expect_code("https://app.example.test/cb?code=c0de&state=" STATE "#state=other&code=zzz", STATE, "c0de");
    expect_code("code=c0de#%ZZ%", NULL, "c0de"); /* the fragment is not decoded */
    expect_code("code=c0de#", NULL, "c0de");
}

/* A '?' after the '#' is part of the fragment, not the start of a query: a
 * code smuggled into the fragment must never replace or supply the code. */
static void test_question_mark_inside_fragment_is_not_a_query(void **st) {
    (void)st;
    expect_code("https://app.example.test/cb?code=c0de#?code=evil", NULL, "c0de");
    expect_code("code=c0de#x?code=evil", NULL, "c0de");
    expect_fail("https://app.example.test/cb#?code=c0de", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("https://app.example.test/cb#x?code=c0de", NULL, LF_E_INVALID_ARGUMENT);
}

static void test_unknown_parameters_ignored(void **st) {
    (void)st;
    expect_code("foo=bar&code=c0de&baz=&qux&scope=products,orders", NULL, "c0de");
    expect_code("x=1&x=2&x=3&code=c0de", NULL, "c0de"); /* repeats of unknown names are fine */
    expect_code("&&code=c0de&&", NULL, "c0de");
    expect_code("error_description=hello&code=c0de", NULL, "c0de"); /* no error= */
}

static void test_names_case_sensitive(void **st) {
    (void)st;
    expect_fail("Code=c0de", NULL, LF_E_INVALID_ARGUMENT); /* not a code */
    expect_code("code=c0de&CODE=x&Code=y", NULL, "c0de");  /* not a repeat */
    expect_fail("State=" STATE "&code=c0de", STATE, LF_E_STATE_MISMATCH);
    expect_code("code=c0de&ERROR=access_denied&Error=x", NULL, "c0de");
}

static void test_semicolon_is_not_a_separator(void **st) {
    (void)st;
    expect_code("code=c0de;state=" STATE, NULL, "c0de;state=" STATE);
    expect_fail("code=c0de;state=" STATE, STATE, LF_E_STATE_MISMATCH);
}

static void test_value_split_at_first_equals(void **st) {
    (void)st;
    expect_code("code==c0de", NULL, "=c0de");
    expect_code("code=a=b=c", NULL, "a=b=c");
}

/* ---- decoding ------------------------------------------------------------- */

static void test_decoding(void **st) {
    (void)st;
    expect_code("code=a+b", NULL, "a b");   /* '+' is a space */
    expect_code("code=a%2Bb", NULL, "a+b"); /* %2B is a plus */
    expect_code("code=a%2bb", NULL, "a+b"); /* lower-case hex */
    expect_code("code=%2541", NULL, "%41"); /* decoded exactly once */
    expect_code("code=%25", NULL, "%");
    expect_code("code=%C3%A9%E2%82%AC", NULL, "\xc3\xa9\xe2\x82\xac"); /* é€ */
    expect_code("code=a%26b%3Dc%23d", NULL, "a&b=c#d");
    expect_code("code=a%20b", NULL, "a b");
    expect_code("code=~-._", NULL, "~-._");
    expect_code("state=a+b%2Bc&code=c0de", "a b+c", "c0de"); /* state decoded before compare */
}

static void test_bad_escapes(void **st) {
    (void)st;
    static const char *const bad[] = {
        "code=%G1",        "code=%4",        "code=c0de%",        "code=%",          "code=%%41", "code=%4G",
        "code=%g0",        "code=% 1",       "code=c0de&state=%", "x=%zz&code=c0de", /* a malformed escape anywhere */
        "%zz=1&code=c0de", "code=c0de&x=%4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_fail(bad[i], NULL, LF_E_INVALID_ARGUMENT);
}

static void test_nul_escape_rejected(void **st) {
    (void)st;
    expect_fail("code=ab%00cd", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("code=%00", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("state=%00&code=c0de", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("x=%00&code=c0de", NULL, LF_E_INVALID_ARGUMENT);
}

static void test_control_characters_in_code_rejected(void **st) {
    (void)st;
    static const char *const bad[] = {
        "code=ab%01cd", "code=ab%09cd", "code=ab%0Acd",  "code=ab%0Dcd", "code=ab%1Fcd",
        "code=ab%7Fcd", "code=ab\tcd",  "code=ab\001cd", "code=%0D%0A",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_fail(bad[i], NULL, LF_E_INVALID_ARGUMENT);
}

/* ---- repeats, missing and empty code ------------------------------------ */

static void test_repeated_parameters_rejected(void **st) {
    (void)st;
    expect_fail("code=a&code=b", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("code=a&code=a", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("code=a&code=", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("code=a&code", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("code=a&state=" STATE "&state=" STATE, STATE, LF_E_INVALID_ARGUMENT);
    expect_fail("code=a&state=x&state=y", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("error=access_denied&error=access_denied&state=" STATE, STATE, LF_E_INVALID_ARGUMENT);
    expect_fail("error=a&error=b", NULL, LF_E_INVALID_ARGUMENT);
}

static void test_missing_or_empty_code(void **st) {
    (void)st;
    expect_fail("", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("?", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("#", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("https://app.example.test/oauth/callback", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("https://app.example.test/oauth/callback?", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("state=" STATE, STATE, LF_E_INVALID_ARGUMENT);
    expect_fail("code=", NULL, LF_E_INVALID_ARGUMENT);
    expect_fail("code=&state=" STATE, STATE, LF_E_INVALID_ARGUMENT);
    expect_fail("code", NULL, LF_E_INVALID_ARGUMENT);
    /* a segment without '=' is a name with an empty value */
    expect_fail("code&state=x", "x", LF_E_INVALID_ARGUMENT);
    expect_fail("code&state=x", NULL, LF_E_INVALID_ARGUMENT);
}

/* ---- length bound --------------------------------------------------------- */

/* "code=c0de&pad=xxxx..." of exactly `len` bytes. */
static char *padded_query(size_t len) {
    const char *head = "code=c0de&pad=";
    char *q = (char *)malloc(len + 1);
    assert_non_null(q);
    memcpy(q, head, strlen(head));
    memset(q + strlen(head), 'x', len - strlen(head));
    q[len] = '\0';
    return q;
}

static void test_length_bound(void **st) {
    (void)st;
    char *q = padded_query(LF_MAX_CALLBACK_LENGTH);
    expect_code(q, NULL, "c0de");
    free(q);
    q = padded_query(LF_MAX_CALLBACK_LENGTH + 1);
    expect_fail(q, NULL, LF_E_INVALID_ARGUMENT);
    free(q);
    q = padded_query(4 * LF_MAX_CALLBACK_LENGTH);
    expect_fail(q, NULL, LF_E_INVALID_ARGUMENT);
    free(q);
}

static void test_long_code_within_bound(void **st) {
    (void)st;
    /* a code filling the whole input: "code=" + 8187 bytes */
    size_t n = LF_MAX_CALLBACK_LENGTH - 5;
    char *q = (char *)malloc(LF_MAX_CALLBACK_LENGTH + 1);
    char *code = (char *)malloc(n + 1);
    assert_non_null(q);
    assert_non_null(code);
    memset(code, 'k', n);
    code[n] = '\0';
    strcpy(q, "code=");
    strcat(q, code);
    expect_code(q, NULL, code);
    free(q);
    free(code);
}

/* ---- state check ------------------------------------------------------------ */

static void test_state_matches(void **st) {
    (void)st;
    expect_code("code=c0de&state=" STATE, STATE, "c0de");
}

static void test_state_mismatch(void **st) {
    (void)st;
    expect_fail("code=c0de", STATE, LF_E_STATE_MISMATCH);                           /* missing */
    expect_fail("code=c0de&state=", STATE, LF_E_STATE_MISMATCH);                    /* empty */
    expect_fail("code=c0de&state", STATE, LF_E_STATE_MISMATCH);                     /* empty */
    expect_fail("code=c0de&state=Yk3-unit_state_Q9zX", STATE, LF_E_STATE_MISMATCH); /* last */
    expect_fail("code=c0de&state=Xk3-unit_state_Q9zT", STATE, LF_E_STATE_MISMATCH); /* first */
    expect_fail("code=c0de&state=Yk3-unit_state_Q9z", STATE, LF_E_STATE_MISMATCH);  /* prefix */
    expect_fail("code=c0de&state=" STATE "x", STATE, LF_E_STATE_MISMATCH);          /* extension */
    expect_fail("code=c0de&state=yk3-unit_state_q9zt", STATE, LF_E_STATE_MISMATCH); /* case */
    expect_fail("code=c0de&state=" STATE "%00", STATE, LF_E_INVALID_ARGUMENT);      /* NUL: (1) */
}

/* An empty expected state (a lost session) must not accept an empty one. */
static void test_empty_expected_state_never_matches(void **st) {
    (void)st;
    expect_fail("code=c0de&state=", "", LF_E_STATE_MISMATCH);
    expect_fail("code=c0de&state", "", LF_E_STATE_MISMATCH);
    expect_fail("code=c0de", "", LF_E_STATE_MISMATCH);
    expect_fail("code=c0de&state=x", "", LF_E_STATE_MISMATCH);
}

static void test_state_not_checked_when_expected_null(void **st) {
    (void)st;
    expect_code("code=c0de&state=anything", NULL, "c0de");
    expect_code("code=c0de", NULL, "c0de");
    expect_code("code=c0de&state=", NULL, "c0de");
}

static void test_check_order(void **st) {
    (void)st;
    /* (1) before (2): a malformed escape or a repeat wins over a bad state */
    expect_fail("code=%G1&state=wrong", STATE, LF_E_INVALID_ARGUMENT);
    expect_fail("code=a&code=b&state=wrong", STATE, LF_E_INVALID_ARGUMENT);
    /* (2) before (3): the state is checked BEFORE error= */
    expect_fail("error=access_denied&state=wrong", STATE, LF_E_STATE_MISMATCH);
    expect_fail("error=access_denied", STATE, LF_E_STATE_MISMATCH);
    /* (2) before (4) */
    expect_fail("state=wrong", STATE, LF_E_STATE_MISMATCH);
    expect_fail("code=&state=wrong", STATE, LF_E_STATE_MISMATCH);
    expect_fail("code=ab%01&state=wrong", STATE, LF_E_STATE_MISMATCH);
    /* (3) before (4) */
    expect_fail("error=access_denied&code=ab%01&state=" STATE, STATE, LF_E_ACCESS_DENIED);
    expect_fail("error=access_denied&state=" STATE, STATE, LF_E_ACCESS_DENIED);
    expect_fail("code=c0de&error=access_denied&state=" STATE, STATE, LF_E_ACCESS_DENIED);
}

/* ---- error= ------------------------------------------------------------------ */

static void test_access_denied_detail(void **st) {
    (void)st;
    lf_error err = expect_fail("error=access_denied&error_description=The+merchant+declined&state=" STATE, STATE,
                               LF_E_ACCESS_DENIED);
    assert_string_equal(err.key, "access_denied");
    assert_non_null(strstr(err.message, "The merchant declined"));

    err = expect_fail(
        "https://app.example.test/cb?error=access_denied&error_description="
        "The%20merchant%20declined",
        NULL, LF_E_ACCESS_DENIED);
    assert_string_equal(err.key, "access_denied");
    assert_non_null(strstr(err.message, "The merchant declined"));
}

static void test_any_error_value_is_access_denied(void **st) {
    (void)st;
    lf_error err = expect_fail("error=server_error&state=" STATE, STATE, LF_E_ACCESS_DENIED);
    assert_string_equal(err.key, "server_error");
    err = expect_fail("error=invalid_scope", NULL, LF_E_ACCESS_DENIED);
    assert_string_equal(err.key, "invalid_scope");
}

static void test_error_description_sanitised_and_bounded(void **st) {
    (void)st;
    char *q;
    size_t n = 2000, off;
    lf_error err = expect_fail("error=access_denied&error_description=line1%0D%0Aline2%1B%5B31m%FF%FE%00x", NULL,
                               LF_E_INVALID_ARGUMENT); /* %00 is malformed input: (1) */
    (void)err;
    err = expect_fail("error=access_denied&error_description=line1%0D%0Aline2%1B%5B31m%FF%FEend", NULL,
                      LF_E_ACCESS_DENIED);
    /* expect_fail checked: no control characters, valid UTF-8 */
    assert_null(strchr(err.message, '\r'));
    assert_null(strchr(err.message, '\n'));
    assert_string_equal(err.key, "access_denied");

    /* an over-long description is truncated, still NUL-terminated */
    q = (char *)malloc(n + 64);
    assert_non_null(q);
    strcpy(q, "error=access_denied&error_description=");
    off = strlen(q);
    for (size_t i = 0; i < n; i++) q[off + i] = (char)('a' + (char)(i % 26));
    q[off + n] = '\0';
    err = expect_fail(q, NULL, LF_E_ACCESS_DENIED);
    assert_true(strlen(err.message) < sizeof err.message);
    free(q);

    /* an over-long or multi-byte error key is truncated to valid UTF-8 */
    q = (char *)malloc(64 * 6 + 64);
    assert_non_null(q);
    strcpy(q, "error=");
    for (int i = 0; i < 64; i++) strcat(q, "%C3%A9"); /* 64 x é = 128 bytes */
    err = expect_fail(q, NULL, LF_E_ACCESS_DENIED);
    assert_true(strlen(err.key) < sizeof err.key);
    assert_true(strlen(err.key) > 0);
    lf_assert_text("err.key", err.key, sizeof err.key);
    free(q);
}

static void test_error_message_never_contains_the_code(void **st) {
    (void)st;
    lf_error err = expect_fail("code=unit-FAKE-code-SECRET-6b1f%01", NULL, LF_E_INVALID_ARGUMENT);
    assert_null(strstr(err.message, "unit-FAKE-code-SECRET-6b1f"));
    err = expect_fail("code=unit-FAKE-code-SECRET-6b1f&code=unit-FAKE-code-SECRET-6b1f", NULL, LF_E_INVALID_ARGUMENT);
    assert_null(strstr(err.message, "unit-FAKE-code-SECRET-6b1f"));
    err = expect_fail("code=unit-FAKE-code-SECRET-6b1f&error=access_denied", NULL, LF_E_ACCESS_DENIED);
    assert_null(strstr(err.message, "unit-FAKE-code-SECRET-6b1f"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_url_bare_query_and_leading_question_mark),
        cmocka_unit_test(test_with_a_handle),
        cmocka_unit_test(test_fragment_ignored),
        cmocka_unit_test(test_question_mark_inside_fragment_is_not_a_query),
        cmocka_unit_test(test_unknown_parameters_ignored),
        cmocka_unit_test(test_names_case_sensitive),
        cmocka_unit_test(test_semicolon_is_not_a_separator),
        cmocka_unit_test(test_value_split_at_first_equals),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_nul_escape_rejected),
        cmocka_unit_test(test_control_characters_in_code_rejected),
        cmocka_unit_test(test_repeated_parameters_rejected),
        cmocka_unit_test(test_missing_or_empty_code),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_long_code_within_bound),
        cmocka_unit_test(test_state_matches),
        cmocka_unit_test(test_state_mismatch),
        cmocka_unit_test(test_empty_expected_state_never_matches),
        cmocka_unit_test(test_state_not_checked_when_expected_null),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_access_denied_detail),
        cmocka_unit_test(test_any_error_value_is_access_denied),
        cmocka_unit_test(test_error_description_sanitised_and_bounded),
        cmocka_unit_test(test_error_message_never_contains_the_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
