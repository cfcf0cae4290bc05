/*
 * The test-support layer every C suite shares (unit, integration, alloc,
 * hostile, abi): one way to assert a status, one guard-byte convention, and
 * (through test_server.h, linked from lf_test_server) the loopback servers
 * and the test PKI. Header-only here, all `static inline`, so a suite that
 * uses nothing of it gets no warning and needs no extra library.
 *
 * Include it after <cmocka.h>'s prerequisites are met; it includes
 * <cmocka.h> itself.
 */
#ifndef LF_TEST_H
#define LF_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <lightfunnels/auth.h>

#include "test_server.h"

/* ---- statuses ------------------------------------------------------------ */

/* Prints why a status assertion failed and fails the test: the expression
 * (or what the caller names), where (file NULL: not printed), both status
 * names, and what the library said in `err` (NULL: nothing). */
static inline void lf_test_status_failed(const char *expr, lf_status got, const char *want, const lf_error *err,
                                         const char *file, int line) {
    if (file != NULL) print_error("%s:%d: ", file, line);
    print_error("%s\n  returned %s (%u), expected %s\n", expr, lf_status_name(got), (unsigned)got, want);
    if (err != NULL)
        print_error("  err: status %s, http_status %ld, key \"%.*s\", message \"%.*s\"\n", lf_status_name(err->status),
                    err->http_status, (int)sizeof err->key, err->key, (int)sizeof err->message, err->message);
    fail();
}

/* Asserts that `expr` returns `expected`; on a failure `errp` (an
 * const lf_error *, may be NULL) is printed too. Where the call failed as
 * expected, err->status must agree with what it returned. */
#define lf_assert_status_err(expr, expected, errp)                                                                 \
    do {                                                                                                           \
        lf_status lf_t_got_ = (expr);                                                                              \
        lf_status lf_t_want_ = (expected);                                                                         \
        const lf_error *lf_t_err_ = (errp);                                                                        \
        if (lf_t_got_ != lf_t_want_)                                                                               \
            lf_test_status_failed(#expr, lf_t_got_, lf_status_name(lf_t_want_), lf_t_err_, __FILE__, __LINE__);    \
        if (lf_t_want_ != LF_OK && lf_t_err_ != NULL && lf_t_err_->status != lf_t_want_)                           \
            lf_test_status_failed(#expr " (err.status)", lf_t_err_->status, lf_status_name(lf_t_want_), lf_t_err_, \
                                  __FILE__, __LINE__);                                                             \
    } while (0)

/* The same for calls that have no lf_error. */
#define lf_assert_status(expr, expected) lf_assert_status_err(expr, expected, (const lf_error *)NULL)

/* Either of two statuses (only where the header allows both). */
#define lf_assert_status_either(expr, e1, e2)                                                            \
    do {                                                                                                 \
        lf_status lf_t_got_ = (expr);                                                                    \
        if (lf_t_got_ != (e1) && lf_t_got_ != (e2)) {                                                    \
            char lf_t_want_[128];                                                                        \
            snprintf(lf_t_want_, sizeof lf_t_want_, "%s or %s", lf_status_name(e1), lf_status_name(e2)); \
            lf_test_status_failed(#expr, lf_t_got_, lf_t_want_, NULL, __FILE__, __LINE__);               \
        }                                                                                                \
    } while (0)

/* ---- guard bytes and garbage --------------------------------------------- */

/* Bytes around (or past the end of) an output buffer that no call may write. */
#define LF_TEST_GUARD 0xA5
/* What an lf_error (or any out-parameter) is filled with before a call that
 * must overwrite it, so a stale value cannot pass for the call's. */
#define LF_TEST_GARBAGE 0x5A

static inline void lf_guard_fill(void *p, size_t n) { memset(p, LF_TEST_GUARD, n); }

/* Asserts every byte in [from, to) of p still holds LF_TEST_GUARD. */
static inline void lf_assert_guard(const void *p, size_t from, size_t to) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = from; i < to; i++) {
        if (b[i] != LF_TEST_GUARD) {
            print_error("guard byte %zu of [%zu, %zu) overwritten (0x%02x)\n", i, from, to, (unsigned)b[i]);
            fail();
        }
    }
}

static inline void lf_garbage_fill(void *p, size_t n) { memset(p, LF_TEST_GARBAGE, n); }

#endif /* LF_TEST_H */
