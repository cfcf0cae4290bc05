/*
 * Helpers of the unit suites (tests/unit) on top of the shared test-support
 * layer (tests/support/lf_test.h). Header-only, all `static inline` so a
 * suite that does not use a helper gets no warning.
 *
 * Everything here is written against the public C API only, and the
 * percent-decoder is deliberately independent of the library's own code: it
 * is the "standard decoder" the consent-URL contract talks about.
 */
#ifndef LF_UNIT_SUPPORT_H
#define LF_UNIT_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lightfunnels/auth.h>

#include "lf_test.h"

/* ---- fake credentials (unique canaries, never real) ---------------------- */

#define UNIT_CLIENT_ID "unit-client-id-7d3a51"
#define UNIT_CLIENT_SECRET "unit-FAKE-secret-not-real-4c1e9b77d20a"
#define UNIT_PREVIOUS_SECRET "unit-FAKE-previous-secret-not-real-a93f05e2"
#define UNIT_UNRELATED_SECRET "unit-FAKE-unrelated-secret-not-real-0d6b81c4"
#define UNIT_REDIRECT_URI "https://app.example.test/oauth/callback"
#define UNIT_DEFAULT_AUTHORIZE_URL "https://app.lightfunnels.com/admin/oauth"
/* Nothing listens on port 1: a call that reached the network would fail with
 * LF_E_NETWORK, so an LF_E_INVALID_ARGUMENT proves the call stopped first. */
#define UNIT_DEAD_TOKEN_URL "http://127.0.0.1:1/oauth/access_token"
#define UNIT_DEAD_API_URL "http://127.0.0.1:1/api/v2"

/* ---- statuses and guard bytes: the shared layer (tests/support/lf_test.h),
 * under the names the unit suites use ---------------------------------- */

#define assert_status(expr, expected) lf_assert_status(expr, expected)
#define assert_status_either(expr, e1, e2) lf_assert_status_either(expr, e1, e2)

#define UNIT_GUARD LF_TEST_GUARD

static inline void unit_guard_fill(void *p, size_t n) { lf_guard_fill(p, n); }

/* Asserts every byte in [from, to) still holds the guard pattern. */
static inline void unit_assert_guard(const void *p, size_t from, size_t to) { lf_assert_guard(p, from, to); }

/* ---- configuration helpers ----------------------------------------------- */

static const char *const unit_default_uris[] = {UNIT_REDIRECT_URI};

/* A valid configuration with fake credentials and one redirect URI. */
static inline void unit_config(lf_auth_config *cfg) {
    lf_auth_config_init(cfg, sizeof *cfg);
    cfg->client_id = UNIT_CLIENT_ID;
    cfg->client_secret = UNIT_CLIENT_SECRET;
    cfg->redirect_uris = unit_default_uris;
    cfg->redirect_uri_count = 1;
}

/* lf_auth_new() that must succeed. */
static inline lf_auth *unit_new(const lf_auth_config *cfg) {
    lf_auth *a = NULL;
    lf_error err;
    lf_status s = lf_auth_new(cfg, &a, &err);
    if (s != LF_OK) {
        print_error("lf_auth_new: %s: %s\n", lf_status_name(s), err.message);
        fail();
    }
    assert_non_null(a);
    return a;
}

/* The default handle: fake credentials, UNIT_REDIRECT_URI, dead token/api URLs
 * (so any accidental network use fails fast and visibly). */
static inline lf_auth *unit_default_auth(void) {
    lf_auth_config cfg;
    unit_config(&cfg);
    cfg.token_url = UNIT_DEAD_TOKEN_URL;
    cfg.api_url = UNIT_DEAD_API_URL;
    return unit_new(&cfg);
}

/* One default handle shared by the tests of a suite, as a CMocka group
 * fixture:
 *   return cmocka_run_group_tests(tests, unit_group_setup, unit_group_teardown);
 * and the tests use g_auth. */
static lf_auth *g_auth;

static inline int unit_group_setup(void **st) {
    (void)st;
    g_auth = unit_default_auth();
    return g_auth != NULL ? 0 : -1;
}

static inline int unit_group_teardown(void **st) {
    (void)st;
    lf_auth_free(g_auth);
    g_auth = NULL;
    return 0;
}

/* ---- an independent, strict percent-decoder ------------------------------ */

static inline int unit_hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static inline int unit_is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Decodes n bytes of a percent-encoded value into a malloc'd NUL-terminated
 * string (*out_len gets the decoded length, which may include NULs).
 * Strict: every byte must be unreserved (A-Z a-z 0-9 - . _ ~), a byte listed
 * in `extra_literal`, or a %XX escape with two hex digits. Anything else —
 * a raw '+', space, '&', '#', a non-ASCII byte, a broken escape — makes it
 * return NULL, because the contract says all of those are percent-encoded. */
static inline char *unit_pct_decode(const char *s, size_t n, const char *extra_literal, size_t *out_len) {
    char *out = (char *)malloc(n + 1);
    size_t o = 0;
    if (out == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n) { /* needs s[i+1] and s[i+2] */
                free(out);
                return NULL;
            }
            hi = unit_hexval(s[i + 1]);
            lo = unit_hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (unit_is_unreserved(c) ||
                   (c != '\0' && extra_literal != NULL && strchr(extra_literal, (int)c) != NULL)) {
            out[o++] = (char)c;
        } else {
            free(out);
            return NULL;
        }
    }
    out[o] = '\0';
    if (out_len != NULL) *out_len = o;
    return out;
}

/* ---- a tiny query splitter for the consent URL --------------------------- */

#define UNIT_MAX_PARAMS 16

typedef struct unit_param {
    char name[64];
    const char *raw; /* points into the URL */
    size_t raw_len;
} unit_param;

typedef struct unit_query {
    size_t count;
    unit_param p[UNIT_MAX_PARAMS];
} unit_query;

/* Splits "name=value&name=value" (no '?', no '#') into raw pieces. Fails the
 * test on a segment without '=' or with a name that is not [a-z_]+. */
static inline void unit_split_query(const char *q, unit_query *out) {
    memset(out, 0, sizeof *out);
    while (*q != '\0') {
        const char *amp = strchr(q, '&');
        size_t seg = amp != NULL ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', seg);
        size_t nlen;
        assert_non_null(eq);
        nlen = (size_t)(eq - q);
        assert_true(nlen > 0 && nlen < sizeof out->p[0].name);
        assert_true(out->count < UNIT_MAX_PARAMS);
        for (size_t i = 0; i < nlen; i++) assert_true((q[i] >= 'a' && q[i] <= 'z') || q[i] == '_');
        memcpy(out->p[out->count].name, q, nlen);
        out->p[out->count].name[nlen] = '\0';
        out->p[out->count].raw = eq + 1;
        out->p[out->count].raw_len = seg - nlen - 1;
        out->count++;
        q += seg;
        if (*q == '&') {
            q++;
            assert_true(*q != '\0'); /* no trailing '&' */
        }
    }
}

/* The raw (still encoded) value of a parameter that must occur exactly once. */
static inline const unit_param *unit_query_get(const unit_query *q, const char *name) {
    const unit_param *found = NULL;
    for (size_t i = 0; i < q->count; i++) {
        if (strcmp(q->p[i].name, name) == 0) {
            assert_null(found); /* exactly once */
            found = &q->p[i];
        }
    }
    return found;
}

/* Decodes a parameter strictly and compares it with the expected bytes. */
static inline void unit_assert_param_decodes_to(const unit_query *q, const char *name, const char *expected) {
    const unit_param *p = unit_query_get(q, name);
    size_t len = 0;
    char *dec;
    if (p == NULL) {
        print_error("parameter %s missing from the consent URL\n", name);
        fail();
    }
    dec = unit_pct_decode(p->raw, p->raw_len, NULL, &len);
    if (dec == NULL) {
        print_error("parameter %s is not strictly percent-encoded: %.*s\n", name, (int)p->raw_len, p->raw);
        fail();
    }
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(dec, expected, len);
    free(dec);
}

#endif /* LF_UNIT_SUPPORT_H */
