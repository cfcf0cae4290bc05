/* Header macros and the loaded library agree on the version. */
#include <lightfunnels/auth.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void header_and_library_agree(void **state) {
    (void)state;
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", LF_AUTH_VERSION_MAJOR, LF_AUTH_VERSION_MINOR,
             LF_AUTH_VERSION_PATCH);
    assert_string_equal(expected, LF_AUTH_VERSION_STRING);
    assert_string_equal(lf_version(), LF_AUTH_VERSION_STRING);
    assert_int_equal(LF_AUTH_VERSION_NUMBER,
                     LF_AUTH_VERSION_MAJOR * 10000 + LF_AUTH_VERSION_MINOR * 100 + LF_AUTH_VERSION_PATCH);
    assert_true(LF_AUTH_VERSION_CHECK(1, 0, 0));
    assert_false(LF_AUTH_VERSION_CHECK(LF_AUTH_VERSION_MAJOR + 1, 0, 0));
}

static void frozen_layouts(void **state) {
    (void)state;
    /* lf_error and lf_allocator never change within version 1. */
    assert_int_equal(offsetof(lf_error, status), 0);
    assert_int_equal(offsetof(lf_error, http_status), sizeof(long));
    assert_int_equal(offsetof(lf_error, retry_after_s), 2 * sizeof(long));
    assert_int_equal(offsetof(lf_error, key), 3 * sizeof(long));
    assert_int_equal(offsetof(lf_error, message), 3 * sizeof(long) + 64);
    assert_int_equal(offsetof(lf_allocator, ctx), 3 * sizeof(void (*)(void)));
    assert_int_equal(offsetof(lf_auth_config, struct_size), 0);
    assert_int_equal(offsetof(lf_call_options, struct_size), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_library_agree),
        cmocka_unit_test(frozen_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
