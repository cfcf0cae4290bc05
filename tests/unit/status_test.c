/*
 * Status codes are ABI: their numbers never change. lf_status_name() returns
 * the enumerator's own spelling ("LF_E_TIMEOUT"), "LF_E_UNKNOWN" for an
 * unknown value; lf_status_message() a non-empty sentence, distinct per
 * status; neither ever returns NULL. lf_version() is the header's version.
 */
#include "unit_support.h"

typedef struct status_row {
    lf_status value;
    unsigned number;
    const char *name;
} status_row;

#define ROW(e, n) \
    { e, n, #e }

/* The numbers are pinned here by hand: a renumbering fails this test. */
static const status_row k_rows[] = {
    ROW(LF_OK, 0),
    ROW(LF_E_INVALID_ARGUMENT, 1),
    ROW(LF_E_BUFFER_TOO_SMALL, 2),
    ROW(LF_E_NO_MEMORY, 3),
    ROW(LF_E_REDIRECT_URI_NOT_ALLOWED, 4),
    ROW(LF_E_STATE_MISMATCH, 5),
    ROW(LF_E_STATE_EXPIRED, 6),
    ROW(LF_E_ACCESS_DENIED, 7),
    ROW(LF_E_NETWORK, 8),
    ROW(LF_E_TIMEOUT, 9),
    ROW(LF_E_TLS, 10),
    ROW(LF_E_INSECURE_TRANSPORT, 11),
    ROW(LF_E_HTTP, 12),
    ROW(LF_E_INVALID_CODE, 13),
    ROW(LF_E_INVALID_CLIENT, 14),
    ROW(LF_E_UNAUTHORIZED, 15),
    ROW(LF_E_API, 16),
    ROW(LF_E_PROTOCOL, 17),
    ROW(LF_E_RESPONSE_TOO_LARGE, 18),
    ROW(LF_E_SIGNATURE_MISMATCH, 19),
    ROW(LF_E_CANCELLED, 20),
    ROW(LF_E_RATE_LIMITED, 21),
    ROW(LF_E_INTERNAL, 22),
};
#define NROWS (sizeof k_rows / sizeof k_rows[0])

static void test_numeric_values_pinned(void **st) {
    (void)st;
    for (size_t i = 0; i < NROWS; i++) {
        if ((unsigned)k_rows[i].value != k_rows[i].number) {
            print_error("%s is %u, pinned %u\n", k_rows[i].name, (unsigned)k_rows[i].value, k_rows[i].number);
            fail();
        }
        /* contiguous from 0 to 22 in 1.0.0 */
        assert_int_equal(k_rows[i].number, i);
    }
    assert_int_equal(NROWS, 23);
    /* no negative values: the enum is an unsigned type on GCC/Clang */
    assert_true((lf_status)-1 > LF_OK);
}

static void test_names_are_enumerator_spellings(void **st) {
    (void)st;
    for (size_t i = 0; i < NROWS; i++) {
        const char *name = lf_status_name(k_rows[i].value);
        assert_non_null(name);
        if (strcmp(name, k_rows[i].name) != 0) {
            print_error("lf_status_name(%u) = \"%s\", expected \"%s\"\n", k_rows[i].number, name, k_rows[i].name);
            fail();
        }
    }
    assert_string_equal(lf_status_name(LF_E_TIMEOUT), "LF_E_TIMEOUT");
}

static void test_messages_non_empty_and_distinct(void **st) {
    (void)st;
    for (size_t i = 0; i < NROWS; i++) {
        const char *m = lf_status_message(k_rows[i].value);
        assert_non_null(m);
        assert_true(strlen(m) > 0);
        /* a short sentence, plain printable ASCII or UTF-8, no newline */
        assert_null(strchr(m, '\n'));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(m, lf_status_message(k_rows[j].value)) == 0) {
                print_error("%s and %s share the message \"%s\"\n", k_rows[i].name, k_rows[j].name, m);
                fail();
            }
        }
    }
}

static void test_unknown_values(void **st) {
    (void)st;
    const lf_status unknown[] = {(lf_status)23, (lf_status)999, (lf_status)0x7fffffff, (lf_status)-1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *m = lf_status_message(unknown[i]);
        assert_string_equal(lf_status_name(unknown[i]), "LF_E_UNKNOWN");
        assert_non_null(m);
        assert_true(strlen(m) > 0);
    }
}

static void test_static_storage(void **st) {
    (void)st;
    /* the same pointer every time: static strings, nothing to free */
    assert_ptr_equal(lf_status_name(LF_E_TLS), lf_status_name(LF_E_TLS));
    assert_ptr_equal(lf_status_message(LF_E_TLS), lf_status_message(LF_E_TLS));
    assert_ptr_equal(lf_version(), lf_version());
}

static void test_version(void **st) {
    (void)st;
    char expect[32];
    assert_non_null(lf_version());
    assert_string_equal(lf_version(), LF_AUTH_VERSION_STRING);
    snprintf(expect, sizeof expect, "%d.%d.%d", LF_AUTH_VERSION_MAJOR, LF_AUTH_VERSION_MINOR, LF_AUTH_VERSION_PATCH);
    assert_string_equal(LF_AUTH_VERSION_STRING, expect);
    assert_int_equal(LF_AUTH_VERSION_NUMBER,
                     LF_AUTH_VERSION_MAJOR * 10000 + LF_AUTH_VERSION_MINOR * 100 + LF_AUTH_VERSION_PATCH);
    assert_true(LF_AUTH_VERSION_CHECK(1, 0, 0));
    assert_false(LF_AUTH_VERSION_CHECK(LF_AUTH_VERSION_MAJOR + 1, 0, 0));
}

/* Published bounds are part of the contract too. */
static void test_bounds(void **st) {
    (void)st;
    assert_int_equal(LF_STATE_BUFFER_SIZE, 44);
    assert_int_equal(LF_SIGNATURE_BUFFER_SIZE, 45);
    assert_int_equal(LF_MAX_TOKEN_LENGTH, 4096);
    assert_int_equal(LF_MAX_CALLBACK_LENGTH, 8192);
    assert_int_equal(LF_CLIENT_AUTH_JSON_BODY, 0);
    assert_int_equal(LF_CLIENT_AUTH_BASIC, 1);
    assert_int_equal(LF_CLIENT_AUTH_AUTO, 2);
    assert_int_equal(LF_INIT_HOOK_DEPENDENCIES, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_values_pinned),
        cmocka_unit_test(test_names_are_enumerator_spellings),
        cmocka_unit_test(test_messages_non_empty_and_distinct),
        cmocka_unit_test(test_unknown_values),
        cmocka_unit_test(test_static_storage),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
