/*
 * LF_STATUS_MAP is the one list of statuses: every entry is an enumerator
 * with that number, lf_status_name() spells it "LF_<NAME>" and
 * lf_status_message() returns its message; the values run from 0 without a
 * gap, and the first value after them is unknown. The sizes of lf_error's
 * strings are published as LF_ERROR_KEY_SIZE and LF_ERROR_MESSAGE_SIZE.
 */
#include "unit_support.h"

typedef struct map_row {
    lf_status enumerator;
    unsigned value;
    const char *name;
    const char *message;
} map_row;

#define ROW(name, value, message) {LF_##name, value, "LF_" #name, message},
static const map_row k_map[] = {LF_STATUS_MAP(ROW)};
#undef ROW
#define NMAP (sizeof k_map / sizeof k_map[0])

static void test_every_entry_is_the_enumerator_of_that_value(void **st) {
    (void)st;
    for (size_t i = 0; i < NMAP; i++) {
        if ((unsigned)k_map[i].enumerator != k_map[i].value) {
            print_error("%s is %u, the map says %u\n", k_map[i].name, (unsigned)k_map[i].enumerator, k_map[i].value);
            fail();
        }
    }
}

static void test_values_run_from_zero_without_a_gap(void **st) {
    (void)st;
    for (size_t i = 0; i < NMAP; i++) assert_int_equal(k_map[i].value, i);
    assert_int_equal(k_map[0].enumerator, LF_OK);
}

static void test_names_are_the_map_names(void **st) {
    (void)st;
    for (size_t i = 0; i < NMAP; i++) assert_string_equal(lf_status_name(k_map[i].enumerator), k_map[i].name);
}

static void test_messages_are_the_map_messages(void **st) {
    (void)st;
    for (size_t i = 0; i < NMAP; i++) assert_string_equal(lf_status_message(k_map[i].enumerator), k_map[i].message);
}

static void test_the_value_after_the_map_is_unknown(void **st) {
    (void)st;
    lf_status next = (lf_status)NMAP;
    const char *m = lf_status_message(next);
    assert_string_equal(lf_status_name(next), "LF_E_UNKNOWN");
    assert_non_null(m);
    assert_true(strlen(m) > 0);
    for (size_t i = 0; i < NMAP; i++) assert_string_not_equal(m, k_map[i].message);
}

static void test_error_string_sizes_are_published(void **st) {
    (void)st;
    lf_error err;
    assert_int_equal(LF_ERROR_KEY_SIZE, 64);
    assert_int_equal(LF_ERROR_MESSAGE_SIZE, 256);
    assert_int_equal(sizeof err.key, LF_ERROR_KEY_SIZE);
    assert_int_equal(sizeof err.message, LF_ERROR_MESSAGE_SIZE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_entry_is_the_enumerator_of_that_value),
        cmocka_unit_test(test_values_run_from_zero_without_a_gap),
        cmocka_unit_test(test_names_are_the_map_names),
        cmocka_unit_test(test_messages_are_the_map_messages),
        cmocka_unit_test(test_the_value_after_the_map_is_unknown),
        cmocka_unit_test(test_error_string_sizes_are_published),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
