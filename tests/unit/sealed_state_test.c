/*
 * Signed, expiring state (1.1): lf_state_seal(), lf_state_open(),
 * lf_parse_callback_sealed(), LF_SEALED_STATE_BUFFER_SIZE.
 *
 * States with chosen issue times are built here from the format documented
 * in docs/SECURITY.md ("Sealed state"), with OpenSSL's HKDF and HMAC: that
 * proves the documented format is what the library does, with no test hook
 * in the public API.
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "unit_support.h"

#define SEALED_LEN (LF_SEALED_STATE_BUFFER_SIZE - 1)
#define MAX_AGE 600L
#define SESSION "session-5b0e1c7d"

static int is_b64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static lf_auth *auth_with(const char *client_id, const char *secret, const char *previous) {
    lf_auth_config cfg;
    unit_config(&cfg);
    cfg.client_id = client_id;
    cfg.client_secret = secret;
    cfg.previous_client_secret = previous;
    cfg.token_url = UNIT_DEAD_TOKEN_URL;
    cfg.api_url = UNIT_DEAD_API_URL;
    return unit_new(&cfg);
}

static void seal(const lf_auth *a, const char *binding, char out[LF_SEALED_STATE_BUFFER_SIZE]) {
    assert_status(lf_state_seal(a, binding, out, LF_SEALED_STATE_BUFFER_SIZE, NULL), LF_OK);
}

/* ---- the documented format, rebuilt with OpenSSL ------------------------- */

/* key = HKDF-SHA256(ikm = client_secret, no salt, info = label, 32 bytes) */
static void derive_key(const char *secret, unsigned char key[32]) {
    static const char label[] = "lightfunnels-auth sealed state v1";
    size_t n = 32;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    assert_non_null(c);
    assert_int_equal(EVP_PKEY_derive_init(c), 1);
    assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(c, (const unsigned char *)secret, (int)strlen(secret)), 1);
    assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)label, (int)strlen(label)), 1);
    assert_int_equal(EVP_PKEY_derive(c, key, &n), 1);
    assert_int_equal(n, 32);
    EVP_PKEY_CTX_free(c);
}

static void put_be64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* state = base64url(version | time(8, BE) | random(16) | MAC(32)), no '=';
 * MAC = HMAC-SHA256(key, version | time | random | len64(client_id) |
 * client_id | len64(binding) | binding), lengths 8 bytes big-endian. */
static void craft(const char *client_id, const char *secret, const char *binding, unsigned version, int64_t issued,
                  char out[LF_SEALED_STATE_BUFFER_SIZE]) {
    unsigned char raw[57], key[32], msg[512], b64[80];
    size_t id_len = strlen(client_id), b_len = strlen(binding), m = 0;
    unsigned mac_len = 0;
    raw[0] = (unsigned char)version;
    put_be64(raw + 1, (uint64_t)issued);
    assert_int_equal(RAND_bytes(raw + 9, 16), 1);
    memcpy(msg, raw, 25), m = 25;
    put_be64(msg + m, id_len), m += 8;
    memcpy(msg + m, client_id, id_len), m += id_len;
    put_be64(msg + m, b_len), m += 8;
    memcpy(msg + m, binding, b_len), m += b_len;
    derive_key(secret, key);
    assert_non_null(HMAC(EVP_sha256(), key, 32, msg, m, raw + 25, &mac_len));
    assert_int_equal(mac_len, 32);
    assert_int_equal(EVP_EncodeBlock(b64, raw, 57), SEALED_LEN);
    for (size_t i = 0; i < SEALED_LEN; i++) out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[SEALED_LEN] = '\0';
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

/* ---- seal --------------------------------------------------------------- */

static void test_sealed_state_is_url_safe_and_fresh(void **st) {
    (void)st;
    char a[LF_SEALED_STATE_BUFFER_SIZE + 8], b[LF_SEALED_STATE_BUFFER_SIZE];
    unit_guard_fill(a, sizeof a);
    assert_status(lf_state_seal(g_auth, SESSION, a, LF_SEALED_STATE_BUFFER_SIZE, NULL), LF_OK);
    unit_assert_guard(a, LF_SEALED_STATE_BUFFER_SIZE, sizeof a);
    assert_int_equal(strlen(a), SEALED_LEN);
    for (size_t i = 0; i < SEALED_LEN; i++) assert_true(is_b64url(a[i]));
    seal(g_auth, SESSION, b);
    assert_string_not_equal(a, b); /* random part */
}

static void test_round_trip(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    lf_error err;
    seal(g_auth, SESSION, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, &err), LF_OK);
    assert_status(err.status, LF_OK);
    /* opening does not consume it (see the header: single use is the app's) */
    assert_status(lf_state_open(g_auth, s, SESSION, 1, NULL), LF_OK);
}

/* The documented format is the library's: a state built here opens there,
 * and the library's own state has the documented version byte 1. */
static void test_documented_format_opens(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, now_s(), s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_OK);
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, "", 1, now_s(), s);
    assert_status(lf_state_open(g_auth, s, NULL, MAX_AGE, NULL), LF_OK);
    seal(g_auth, NULL, s);
    assert_true(s[0] == 'A' && s[1] >= 'Q' && s[1] <= 'T'); /* 0x01 then 2 bits of the time */
}

/* Every single-character change of a state is refused as a mismatch (never
 * as expired): each position, several substitutions. 57 bytes encode to
 * exactly 76 characters, so no character has spare bits. */
static void test_every_single_change_is_refused(void **st) {
    (void)st;
    static const char subs[] = "AZaz09-_";
    char s[LF_SEALED_STATE_BUFFER_SIZE], t[LF_SEALED_STATE_BUFFER_SIZE];
    seal(g_auth, SESSION, s);
    for (size_t i = 0; i < SEALED_LEN; i++) {
        for (size_t k = 0; k < sizeof subs - 1; k++) {
            if (s[i] == subs[k]) continue;
            memcpy(t, s, sizeof t);
            t[i] = subs[k];
            lf_status got = lf_state_open(g_auth, t, SESSION, MAX_AGE, NULL);
            if (got != LF_E_STATE_MISMATCH) {
                print_error("position %zu: '%c' -> '%c' gave %s\n", i, s[i], subs[k], lf_status_name(got));
                fail();
            }
        }
        /* a bit flip that stays in the alphabet: the neighbouring letter */
        memcpy(t, s, sizeof t);
        t[i] = (char)(s[i] == 'a' ? 'b' : 'a');
        assert_status(lf_state_open(g_auth, t, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    }
}

static void test_malformed_is_mismatch(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE], t[LF_SEALED_STATE_BUFFER_SIZE + 2];
    lf_error err;
    seal(g_auth, SESSION, s);
    assert_status(lf_state_open(g_auth, "", SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    /* one character short, one too many */
    memcpy(t, s, SEALED_LEN - 1), t[SEALED_LEN - 1] = '\0';
    assert_status(lf_state_open(g_auth, t, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    snprintf(t, sizeof t, "%sA", s);
    assert_status(lf_state_open(g_auth, t, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    /* the standard alphabet, padding, whitespace */
    for (size_t i = 0; i < 4; i++) {
        static const char bad[] = "+/= ";
        memcpy(t, s, sizeof s);
        t[SEALED_LEN / 2] = bad[i];
        assert_status(lf_state_open(g_auth, t, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    }
    /* an unknown version, correctly MACed */
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 2, now_s(), s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, &err), LF_E_STATE_MISMATCH);
    assert_status(err.status, LF_E_STATE_MISMATCH);
    assert_true(err.message[0] != '\0');
    /* a state of lf_state_generate() is not a sealed one */
    assert_status(lf_state_generate(t, sizeof t), LF_OK);
    assert_status(lf_state_open(g_auth, t, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
}

/* ---- binding and client -------------------------------------------------- */

static void test_wrong_binding_is_mismatch(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    seal(g_auth, SESSION, s);
    assert_status(lf_state_open(g_auth, s, "session-other", MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    assert_status(lf_state_open(g_auth, s, SESSION "x", MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    assert_status(lf_state_open(g_auth, s, "", MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    assert_status(lf_state_open(g_auth, s, NULL, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    seal(g_auth, NULL, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
}

static void test_null_binding_is_empty_binding(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    seal(g_auth, NULL, s);
    assert_status(lf_state_open(g_auth, s, "", MAX_AGE, NULL), LF_OK);
    assert_status(lf_state_open(g_auth, s, NULL, MAX_AGE, NULL), LF_OK);
    seal(g_auth, "", s);
    assert_status(lf_state_open(g_auth, s, NULL, MAX_AGE, NULL), LF_OK);
}

/* The client id and the binding are length-prefixed in the MAC: moving a
 * byte from one to the other changes it. */
static void test_fields_cannot_slide(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    lf_auth *shorter = auth_with("unit-client-id-7d3a5", UNIT_CLIENT_SECRET, NULL);
    seal(g_auth, "x", s); /* id "...7d3a51", binding "x" */
    assert_status(lf_state_open(shorter, s, "1x", MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    lf_auth_free(shorter);
}

static void test_other_client_is_mismatch(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    lf_auth *other_id = auth_with("unit-other-client-id", UNIT_CLIENT_SECRET, NULL);
    lf_auth *other_secret = auth_with(UNIT_CLIENT_ID, UNIT_UNRELATED_SECRET, NULL);
    lf_auth *same = auth_with(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, NULL);
    seal(g_auth, SESSION, s);
    assert_status(lf_state_open(other_id, s, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    assert_status(lf_state_open(other_secret, s, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    /* another handle of the same client (another server of a fleet) opens it */
    assert_status(lf_state_open(same, s, SESSION, MAX_AGE, NULL), LF_OK);
    lf_auth_free(other_id);
    lf_auth_free(other_secret);
    lf_auth_free(same);
}

/* The key comes from the secret through HKDF: the webhook key (the secret
 * itself) does not seal states. */
static void test_webhook_key_does_not_seal(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    unsigned char raw[57], msg[128], b64[80];
    unsigned mac_len = 0;
    size_t m = 0, id_len = strlen(UNIT_CLIENT_ID);
    raw[0] = 1;
    put_be64(raw + 1, (uint64_t)now_s());
    memset(raw + 9, 7, 16);
    memcpy(msg, raw, 25), m = 25;
    put_be64(msg + m, id_len), m += 8;
    memcpy(msg + m, UNIT_CLIENT_ID, id_len), m += id_len;
    put_be64(msg + m, 0), m += 8;
    assert_non_null(
        HMAC(EVP_sha256(), UNIT_CLIENT_SECRET, (int)strlen(UNIT_CLIENT_SECRET), msg, m, raw + 25, &mac_len));
    assert_int_equal(EVP_EncodeBlock(b64, raw, 57), SEALED_LEN);
    for (size_t i = 0; i < SEALED_LEN; i++) s[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    s[SEALED_LEN] = '\0';
    assert_status(lf_state_open(g_auth, s, NULL, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
}

static void test_rotation_previous_secret_opens(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE], t[LF_SEALED_STATE_BUFFER_SIZE];
    lf_auth *before = auth_with(UNIT_CLIENT_ID, UNIT_PREVIOUS_SECRET, NULL);
    lf_auth *rotated = auth_with(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, UNIT_PREVIOUS_SECRET);
    lf_auth *after = auth_with(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, NULL);
    seal(before, SESSION, s);
    assert_status(lf_state_open(rotated, s, SESSION, MAX_AGE, NULL), LF_OK);
    assert_status(lf_state_open(after, s, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    seal(rotated, SESSION, t); /* new states use the new secret */
    assert_status(lf_state_open(after, t, SESSION, MAX_AGE, NULL), LF_OK);
    assert_status(lf_state_open(before, t, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    /* the previous secret keeps its binding */
    assert_status(lf_state_open(rotated, s, "session-other", MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    lf_auth_free(before);
    lf_auth_free(rotated);
    lf_auth_free(after);
}

/* ---- time ---------------------------------------------------------------- */

static void test_expired(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    lf_error err;
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, now_s() - 3600, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, &err), LF_E_STATE_EXPIRED);
    assert_status(err.status, LF_E_STATE_EXPIRED);
    assert_true(err.message[0] != '\0');
    assert_status(lf_state_open(g_auth, s, SESSION, 7200, NULL), LF_OK);
    /* the MAC before the time: an expired state of another binding or
     * client is a mismatch */
    assert_status(lf_state_open(g_auth, s, "session-other", MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    craft(UNIT_CLIENT_ID, UNIT_UNRELATED_SECRET, SESSION, 1, now_s() - 3600, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_E_STATE_MISMATCH);
    /* long ago, and before 1970 */
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, 0, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_E_STATE_EXPIRED);
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, -5, s);
    assert_status(lf_state_open(g_auth, s, SESSION, 0x7fffffffL, NULL), LF_E_STATE_EXPIRED);
}

static void test_issued_in_the_future(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, now_s() + 3600, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_E_STATE_EXPIRED);
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, INT64_MAX, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_E_STATE_EXPIRED);
    /* within the 60 s allowed for clock skew */
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, now_s() + 30, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_OK);
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, now_s() + 120, s);
    assert_status(lf_state_open(g_auth, s, SESSION, MAX_AGE, NULL), LF_E_STATE_EXPIRED);
}

/* One real wait: a state opens at once with max_age_s = 1 and is expired
 * 2.x seconds later (whole seconds: 3 s of wall time cover any rounding). */
static void test_real_wait_expires(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE];
    seal(g_auth, SESSION, s);
    assert_status(lf_state_open(g_auth, s, SESSION, 1, NULL), LF_OK);
    struct timespec d = {3, 0};
    while (nanosleep(&d, &d) != 0) {
    }
    assert_status(lf_state_open(g_auth, s, SESSION, 1, NULL), LF_E_STATE_EXPIRED);
    assert_status(lf_state_open(g_auth, s, SESSION, 60, NULL), LF_OK);
}

/* ---- arguments and buffers ------------------------------------------------ */

static void test_max_age_must_be_positive(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE], code[32];
    lf_error err;
    seal(g_auth, SESSION, s);
    assert_status(lf_state_open(g_auth, s, SESSION, 0, &err), LF_E_INVALID_ARGUMENT);
    assert_status(err.status, LF_E_INVALID_ARGUMENT);
    assert_status(lf_state_open(g_auth, s, SESSION, -1, NULL), LF_E_INVALID_ARGUMENT);
    assert_status(lf_state_open(g_auth, "garbage", SESSION, 0, NULL), LF_E_INVALID_ARGUMENT);
    assert_status(lf_parse_callback_sealed(g_auth, "code=c", SESSION, 0, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
}

static void test_null_arguments(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE], code[32];
    seal(g_auth, NULL, s);
    assert_status(lf_state_seal(NULL, NULL, s, sizeof s, NULL), LF_E_INVALID_ARGUMENT);
    assert_int_equal(s[0], '\0');
    assert_status(lf_state_open(NULL, "x", NULL, MAX_AGE, NULL), LF_E_INVALID_ARGUMENT);
    assert_status(lf_state_open(g_auth, NULL, NULL, MAX_AGE, NULL), LF_E_INVALID_ARGUMENT);
    memset(code, 'x', sizeof code);
    assert_status(lf_parse_callback_sealed(NULL, "code=c", NULL, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
    assert_int_equal(code[0], '\0');
    assert_status(lf_parse_callback_sealed(g_auth, NULL, NULL, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
}

static void test_seal_buffer_convention(void **st) {
    (void)st;
    char buf[LF_SEALED_STATE_BUFFER_SIZE + 16];
    size_t needed = 0;
    assert_int_equal(LF_SEALED_STATE_BUFFER_SIZE, 77);
    assert_status(lf_state_seal(g_auth, SESSION, NULL, 0, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, LF_SEALED_STATE_BUFFER_SIZE);
    assert_status(lf_state_seal(g_auth, SESSION, NULL, 0, NULL), LF_E_BUFFER_TOO_SMALL);
    assert_status(lf_state_seal(g_auth, SESSION, NULL, 10, &needed), LF_E_INVALID_ARGUMENT);
    for (size_t size = 1; size < LF_SEALED_STATE_BUFFER_SIZE; size++) {
        needed = 0;
        unit_guard_fill(buf, sizeof buf);
        assert_status(lf_state_seal(g_auth, SESSION, buf, size, &needed), LF_E_BUFFER_TOO_SMALL);
        assert_int_equal(needed, LF_SEALED_STATE_BUFFER_SIZE);
        assert_int_equal(buf[0], '\0');
        unit_assert_guard(buf, size, sizeof buf);
    }
    needed = 0;
    unit_guard_fill(buf, sizeof buf);
    assert_status(lf_state_seal(g_auth, SESSION, buf, sizeof buf, &needed), LF_OK);
    assert_int_equal(needed, LF_SEALED_STATE_BUFFER_SIZE);
    assert_int_equal(strlen(buf), SEALED_LEN);
    unit_assert_guard(buf, LF_SEALED_STATE_BUFFER_SIZE, sizeof buf);
}

/* ---- lf_parse_callback_sealed -------------------------------------------- */

static void callback_url(char *url, size_t n, const char *extra, const char *state) {
    snprintf(url, n, UNIT_REDIRECT_URI "?%s%sstate=%s", extra, extra[0] ? "&" : "", state);
}

static void test_callback_happy_path(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE], url[512], code[32];
    size_t needed = 0;
    lf_error err;
    seal(g_auth, SESSION, s);
    callback_url(url, sizeof url, "code=c0de%2Bx", s);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, &needed, &err), LF_OK);
    assert_string_equal(code, "c0de+x");
    assert_int_equal(needed, 7);
    assert_status(err.status, LF_OK);
    /* a bare query, state first; the state percent-encoded still opens */
    char q[256];
    snprintf(q, sizeof q, "state=%.10s%%%02X%s&code=abc", s, (unsigned)(unsigned char)s[10], s + 11);
    assert_status(lf_parse_callback_sealed(g_auth, q, SESSION, MAX_AGE, code, sizeof code, NULL, NULL), LF_OK);
    assert_string_equal(code, "abc");
    /* the buffer convention of lf_parse_callback */
    needed = 0;
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, NULL, 0, &needed, NULL),
                  LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, 7);
    unit_guard_fill(code, sizeof code);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, 6, &needed, NULL),
                  LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(code[0], '\0');
    unit_assert_guard(code, 6, sizeof code);
}

static void test_callback_refusals(void **st) {
    (void)st;
    char s[LF_SEALED_STATE_BUFFER_SIZE], old[LF_SEALED_STATE_BUFFER_SIZE], url[512], code[32];
    lf_error err;
    seal(g_auth, SESSION, s);
    craft(UNIT_CLIENT_ID, UNIT_CLIENT_SECRET, SESSION, 1, now_s() - 3600, old);

    /* no state at all, or an empty one */
    assert_status(lf_parse_callback_sealed(g_auth, "code=abc", SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_STATE_MISMATCH);
    assert_status(lf_parse_callback_sealed(g_auth, "code=abc&state=", SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_STATE_MISMATCH);
    /* another binding; an altered state */
    callback_url(url, sizeof url, "code=abc", s);
    assert_status(lf_parse_callback_sealed(g_auth, url, "session-other", MAX_AGE, code, sizeof code, NULL, &err),
                  LF_E_STATE_MISMATCH);
    assert_status(err.status, LF_E_STATE_MISMATCH);
    assert_int_equal(code[0], '\0');
    url[strlen(url) - 1] ^= 1;
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_STATE_MISMATCH);
    /* expired */
    callback_url(url, sizeof url, "code=abc", old);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, &err),
                  LF_E_STATE_EXPIRED);
    assert_status(err.status, LF_E_STATE_EXPIRED);
    /* the state is checked before error=: a forged or expired state with
     * error=access_denied is still a state failure */
    callback_url(url, sizeof url, "error=access_denied", old);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_STATE_EXPIRED);
    callback_url(url, sizeof url, "error=access_denied", s);
    assert_status(lf_parse_callback_sealed(g_auth, url, "session-other", MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_STATE_MISMATCH);
    /* a good state with error=access_denied: the merchant declined */
    callback_url(url, sizeof url, "error=access_denied&error_description=No+thanks", s);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, &err),
                  LF_E_ACCESS_DENIED);
    assert_string_equal(err.key, "access_denied");
    assert_non_null(strstr(err.message, "No thanks"));
    /* a good state, no code or an empty one */
    callback_url(url, sizeof url, "foo=bar", s);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
    callback_url(url, sizeof url, "code=", s);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
    /* malformed escapes and repeated parameters come first */
    callback_url(url, sizeof url, "code=a%zz", old);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
    snprintf(url, sizeof url, "code=a&state=%s&state=%s", s, s);
    assert_status(lf_parse_callback_sealed(g_auth, url, SESSION, MAX_AGE, code, sizeof code, NULL, NULL),
                  LF_E_INVALID_ARGUMENT);
    /* a sealed state is not accepted by the plain check against another value */
    callback_url(url, sizeof url, "code=abc", s);
    assert_status(lf_parse_callback(g_auth, url, "something-else", code, sizeof code, NULL, NULL), LF_E_STATE_MISMATCH);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_state_is_url_safe_and_fresh),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_documented_format_opens),
        cmocka_unit_test(test_every_single_change_is_refused),
        cmocka_unit_test(test_malformed_is_mismatch),
        cmocka_unit_test(test_wrong_binding_is_mismatch),
        cmocka_unit_test(test_null_binding_is_empty_binding),
        cmocka_unit_test(test_fields_cannot_slide),
        cmocka_unit_test(test_other_client_is_mismatch),
        cmocka_unit_test(test_webhook_key_does_not_seal),
        cmocka_unit_test(test_rotation_previous_secret_opens),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_issued_in_the_future),
        cmocka_unit_test(test_real_wait_expires),
        cmocka_unit_test(test_max_age_must_be_positive),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_seal_buffer_convention),
        cmocka_unit_test(test_callback_happy_path),
        cmocka_unit_test(test_callback_refusals),
    };
    return cmocka_run_group_tests(tests, unit_group_setup, unit_group_teardown);
}
