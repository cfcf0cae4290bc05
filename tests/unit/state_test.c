/*
 * lf_state_generate(): 256 CSPRNG bits as base64url without padding, i.e.
 * 43 characters of [A-Za-z0-9_-] + NUL; size must be >= LF_STATE_BUFFER_SIZE.
 * lf_state_equal(): 1 when equal, 0 when not or when either is NULL.
 */
#include "unit_support.h"

#define DRAWS 10000

static int is_b64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void test_shape(void **st) {
    (void)st;
    char buf[LF_STATE_BUFFER_SIZE + 8];
    assert_int_equal(LF_STATE_BUFFER_SIZE, 44);
    unit_guard_fill(buf, sizeof buf);
    assert_status(lf_state_generate(buf, LF_STATE_BUFFER_SIZE), LF_OK);
    assert_int_equal(buf[43], '\0');
    assert_int_equal(strlen(buf), 43);
    for (size_t i = 0; i < 43; i++) {
        if (!is_b64url(buf[i])) {
            print_error("state char %zu is 0x%02x, not base64url\n", i, (unsigned)(unsigned char)buf[i]);
            fail();
        }
    }
    unit_assert_guard(buf, LF_STATE_BUFFER_SIZE, sizeof buf);
}

static int cmp_state(const void *x, const void *y) { return memcmp(x, y, LF_STATE_BUFFER_SIZE); }

/* 10000 draws: all well-formed, no duplicate, and together they use the
 * whole 64-character alphabet (a hex or base64-with-padding encoder, or a
 * constant, would not). */
static void test_many_draws_unique(void **st) {
    (void)st;
    char(*states)[LF_STATE_BUFFER_SIZE] = calloc(DRAWS, LF_STATE_BUFFER_SIZE);
    int seen[256] = {0};
    int distinct = 0;
    assert_non_null(states);
    for (size_t i = 0; i < DRAWS; i++) {
        assert_status(lf_state_generate(states[i], LF_STATE_BUFFER_SIZE), LF_OK);
        assert_int_equal(strlen(states[i]), 43);
        for (size_t k = 0; k < 43; k++) {
            assert_true(is_b64url(states[i][k]));
            seen[(unsigned char)states[i][k]] = 1;
        }
    }
    for (int c = 0; c < 256; c++) distinct += seen[c];
    assert_int_equal(distinct, 64);
    qsort(states, DRAWS, LF_STATE_BUFFER_SIZE, cmp_state);
    for (size_t i = 1; i < DRAWS; i++) {
        if (memcmp(states[i - 1], states[i], LF_STATE_BUFFER_SIZE) == 0) {
            print_error("duplicate state %s\n", states[i]);
            fail();
        }
    }
    free(states);
}

static void test_buffer_rules(void **st) {
    (void)st;
    char buf[LF_STATE_BUFFER_SIZE + 16];
    for (size_t size = 1; size < LF_STATE_BUFFER_SIZE; size++) {
        unit_guard_fill(buf, sizeof buf);
        assert_status(lf_state_generate(buf, size), LF_E_BUFFER_TOO_SMALL);
        assert_int_equal(buf[0], '\0');
        unit_assert_guard(buf, size, sizeof buf);
    }
    unit_guard_fill(buf, sizeof buf);
    assert_status(lf_state_generate(buf, sizeof buf), LF_OK);
    assert_int_equal(strlen(buf), 43);
    assert_status(lf_state_generate(NULL, LF_STATE_BUFFER_SIZE), LF_E_INVALID_ARGUMENT);
    assert_status(lf_state_generate(NULL, 0), LF_E_INVALID_ARGUMENT);
}

/* A generated state survives the consent URL and callback round trip. */
static void test_generated_state_round_trips_through_callback(void **st) {
    (void)st;
    char state[LF_STATE_BUFFER_SIZE];
    char query[256];
    char code[64];
    assert_status(lf_state_generate(state, sizeof state), LF_OK);
    snprintf(query, sizeof query, "code=c0de&state=%s", state);
    assert_status(lf_parse_callback(NULL, query, state, code, sizeof code, NULL, NULL), LF_OK);
    assert_string_equal(code, "c0de");
}

static void test_equal(void **st) {
    (void)st;
    char a[LF_STATE_BUFFER_SIZE], b[LF_STATE_BUFFER_SIZE];
    assert_status(lf_state_generate(a, sizeof a), LF_OK);
    memcpy(b, a, sizeof a);
    assert_int_equal(lf_state_equal(a, b), 1);
    assert_int_equal(lf_state_equal(a, a), 1);
    assert_int_equal(lf_state_equal("abc", "abc"), 1);
    assert_int_equal(lf_state_equal("", ""), 1);
}

static void test_not_equal(void **st) {
    (void)st;
    char a[LF_STATE_BUFFER_SIZE], b[LF_STATE_BUFFER_SIZE];
    assert_status(lf_state_generate(a, sizeof a), LF_OK);
    memcpy(b, a, sizeof a);
    b[0] = (char)(b[0] == 'A' ? 'B' : 'A'); /* differ first */
    assert_int_equal(lf_state_equal(a, b), 0);
    memcpy(b, a, sizeof a);
    b[42] = (char)(b[42] == 'A' ? 'B' : 'A'); /* differ last */
    assert_int_equal(lf_state_equal(a, b), 0);

    assert_int_equal(lf_state_equal("abcdef", "abcdeg"), 0);
    assert_int_equal(lf_state_equal("abcdef", "abcde"), 0); /* prefix */
    assert_int_equal(lf_state_equal("abcde", "abcdef"), 0); /* extension */
    assert_int_equal(lf_state_equal("", "a"), 0);
    assert_int_equal(lf_state_equal("a", ""), 0);
    assert_int_equal(lf_state_equal("abc", "ABC"), 0);
}

static void test_nulls(void **st) {
    (void)st;
    assert_int_equal(lf_state_equal(NULL, "abc"), 0);
    assert_int_equal(lf_state_equal("abc", NULL), 0);
    assert_int_equal(lf_state_equal(NULL, NULL), 0);
    assert_int_equal(lf_state_equal(NULL, ""), 0);
    assert_int_equal(lf_state_equal("", NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),        cmocka_unit_test(test_many_draws_unique),
        cmocka_unit_test(test_buffer_rules), cmocka_unit_test(test_generated_state_round_trips_through_callback),
        cmocka_unit_test(test_equal),        cmocka_unit_test(test_not_equal),
        cmocka_unit_test(test_nulls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
