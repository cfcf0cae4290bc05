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

/* ---- what an lf_error may say ------------------------------------------- */

/* 1 when s is valid UTF-8 (no overlongs, surrogates, nothing > U+10FFFF). */
static inline int lf_utf8_valid(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned char b = *s;
        size_t len;
        uint32_t cp;
        if (b < 0x80) {
            s++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
            cp = b & 0x1Fu;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            cp = b & 0x0Fu;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            cp = b & 0x07u;
        } else {
            return 0;
        }
        for (size_t i = 1; i < len; i++) {
            if ((s[i] & 0xC0) != 0x80) return 0; /* also catches the NUL */
            cp = (cp << 6) | (s[i] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += len;
    }
    return 1;
}

/* Asserts that a text field of `size` bytes is NUL-terminated inside its
 * array, valid UTF-8 and free of control characters. */
static inline void lf_assert_text(const char *name, const char *field, size_t size) {
    if (!memchr(field, '\0', size)) {
        print_error("%s is not NUL-terminated\n", name);
        fail();
    }
    if (!lf_utf8_valid(field)) {
        print_error("%s is not valid UTF-8\n", name);
        fail();
    }
    for (const unsigned char *p = (const unsigned char *)field; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            print_error("%s contains control character 0x%02x\n", name, *p);
            fail();
        }
    }
}

/* Asserts that err->key and err->message are clean text (lf_assert_text). */
static inline void lf_assert_err_text(const lf_error *err) {
    lf_assert_text("err.key", err->key, sizeof err->key);
    lf_assert_text("err.message", err->message, sizeof err->message);
}

/* Asserts that `field` holds no 8-byte run of `secret`, wherever in the
 * secret the run starts (the promise of lf_error in the header); a secret
 * shorter than 8 bytes must not occur whole. `what` names the secret. */
static inline void lf_assert_no_secret_in(const char *name, const char *field, const char *what, const char *secret) {
    enum { w = 8 };
    size_t n = strlen(secret);
    if (n < w) {
        if (n > 0 && strstr(field, secret)) {
            print_error("%s contains the %s: \"%s\"\n", name, what, field);
            fail();
        }
        return;
    }
    char win[w + 1];
    for (size_t i = 0; i + w <= n; i++) {
        memcpy(win, secret + i, w);
        win[w] = '\0';
        if (strstr(field, win)) {
            print_error("%s contains a piece of the %s (\"%s\"): \"%s\"\n", name, what, win, field);
            fail();
        }
    }
}

/* The same for both text fields of an lf_error. */
static inline void lf_assert_no_secret_in_err(const lf_error *err, const char *what, const char *secret) {
    lf_assert_no_secret_in("err.key", err->key, what, secret);
    lf_assert_no_secret_in("err.message", err->message, what, secret);
}

#endif /* LF_TEST_H */
