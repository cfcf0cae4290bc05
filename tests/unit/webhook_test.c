/*
 * Webhooks: `lightfunnels-hmac` = base64(HMAC-SHA256(key = client_secret,
 * message = raw body bytes)).
 *  - lf_webhook_sign writes the canonical 44-character value;
 *  - lf_webhook_verify accepts it with or without '=' padding and with
 *    surrounding spaces/tabs; anything else (other characters, url-safe
 *    alphabet, hex, prefixes, internal whitespace, CR/LF, wrong length,
 *    empty) is LF_E_SIGNATURE_MISMATCH; a NULL header is
 *    LF_E_INVALID_ARGUMENT; signatures made with previous_client_secret are
 *    accepted too.
 *
 * The expected values below were computed independently of the library, at
 * authoring time, with OpenSSL's command line:
 *   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
 * and cross-checked with Python:
 *   base64.b64encode(hmac.new(SECRET, BODY, hashlib.sha256).digest())
 */
#include "unit_support.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* SECRET = UNIT_CLIENT_SECRET = "unit-FAKE-secret-not-real-4c1e9b77d20a" */
#define SIG_EMPTY "eR0ROuC6GVWEdktq9ab104HqxokIWaqnx45nzcN8nRQ=" /* BODY = "" */
#define BODY_ORDER "{\"id\":1,\"event\":\"order.created\"}"
#define SIG_ORDER "6BRuh1TGtj9oNRABAODnGvWeRpAH0NMh0Co4ofUU/88="
#define BODY_HELLO "hello world"
#define SIG_HELLO "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8="
/* hex of the same HMAC: python3 ... .hexdigest() */
#define HEX_HELLO "832aeda1008ee7ede86c612088e2d4e889decd0c92eff67751685a89cd69124f"
#define SIG_HELLO_URLSAFE "gyrtoQCO5-3obGEgiOLU6InezQyS7_Z3UWhaic1pEk8="
/* BODY = "abc" 0x00 "def" (7 bytes): printf 'abc\0def' | openssl dgst ... */
static const char BODY_NUL[7] = {'a', 'b', 'c', '\0', 'd', 'e', 'f'};
#define SIG_NUL "hVk7qCou3p2ycqvmGU8PToeSPYoyvj7WIE/9JtHnxJ8="
/* BODY = 1 MiB, byte i = (i * 7 + 3) % 251, computed with
 *   python3 -c "import hmac,hashlib,base64; b=bytes(((i*7+3)%251) for i in range(1<<20));
 *   print(base64.b64encode(hmac.new(SECRET,b,hashlib.sha256).digest()).decode())" */
#define SIG_MIB "XC9k9fe2ex5ABsdDUK6StKw0NKZMyM8qyhmbplGIgPI="
/* BODY_ORDER signed with UNIT_PREVIOUS_SECRET and UNIT_UNRELATED_SECRET */
#define SIG_ORDER_PREVIOUS "YWdNpBnxkzhnT3z+c/oyJZ+jfO3OAWRolRjLLzdcNyg="
#define SIG_ORDER_UNRELATED "l8Z4urL+1qminnXbhY8LlKFLfJrdwYrnsolcaT7qsHo="

#define MIB (1u << 20)

static unsigned char *mib_body(void) {
    unsigned char *b = (unsigned char *)malloc(MIB);
    assert_non_null(b);
    for (size_t i = 0; i < MIB; i++) b[i] = (unsigned char)((i * 7 + 3) % 251);
    return b;
}

static void assert_sign(const lf_auth *a, const void *body, size_t len, const char *expected) {
    char buf[LF_SIGNATURE_BUFFER_SIZE];
    size_t needed = 0;
    assert_status(lf_webhook_sign(a, body, len, buf, sizeof buf, &needed), LF_OK);
    assert_string_equal(buf, expected);
    assert_int_equal(needed, 45);
}

static void assert_verify(const void *body, size_t len, const char *header, lf_status expected) {
    lf_status s = lf_webhook_verify(g_auth, body, len, header);
    if (s != expected) {
        print_error("verify(header \"%s\", %zu-byte body): %s, expected %s\n", header != NULL ? header : "(null)", len,
                    lf_status_name(s), lf_status_name(expected));
        fail();
    }
}

/* ---- signing gives the vectors ------------------------------------------- */

static void test_sign_vectors(void **st) {
    (void)st;
    unsigned char *mib = mib_body();
    assert_sign(g_auth, "", 0, SIG_EMPTY);
    assert_sign(g_auth, NULL, 0, SIG_EMPTY); /* body NULL is allowed when len is 0 */
    assert_sign(g_auth, BODY_ORDER, strlen(BODY_ORDER), SIG_ORDER);
    assert_sign(g_auth, BODY_HELLO, strlen(BODY_HELLO), SIG_HELLO);
    assert_sign(g_auth, BODY_NUL, sizeof BODY_NUL, SIG_NUL);
    assert_sign(g_auth, mib, MIB, SIG_MIB);
    free(mib);
}

/* ---- verify accepts ------------------------------------------------------- */

static void test_verify_accepts_vectors(void **st) {
    (void)st;
    unsigned char *mib = mib_body();
    assert_verify("", 0, SIG_EMPTY, LF_OK);
    assert_verify(NULL, 0, SIG_EMPTY, LF_OK);
    assert_verify(BODY_ORDER, strlen(BODY_ORDER), SIG_ORDER, LF_OK);
    assert_verify(BODY_HELLO, strlen(BODY_HELLO), SIG_HELLO, LF_OK);
    assert_verify(BODY_NUL, sizeof BODY_NUL, SIG_NUL, LF_OK);
    assert_verify(mib, MIB, SIG_MIB, LF_OK);
    free(mib);
}

static void test_verify_accepts_without_padding(void **st) {
    (void)st;
    char unpadded[44];
    memcpy(unpadded, SIG_HELLO, 43);
    unpadded[43] = '\0';
    assert_verify(BODY_HELLO, strlen(BODY_HELLO), unpadded, LF_OK);
}

static void test_verify_accepts_surrounding_spaces_and_tabs(void **st) {
    (void)st;
    const size_t n = strlen(BODY_HELLO);
    assert_verify(BODY_HELLO, n, " " SIG_HELLO, LF_OK);
    assert_verify(BODY_HELLO, n, SIG_HELLO " ", LF_OK);
    assert_verify(BODY_HELLO, n, "\t" SIG_HELLO "\t", LF_OK);
    assert_verify(BODY_HELLO, n, " \t  " SIG_HELLO " \t ", LF_OK);
    assert_verify(BODY_HELLO, n, "  gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8\t", LF_OK);
}

/* The header's accepted shapes are decided by its length after trimming SP
 * and HTAB: 44 characters ending in '=', or 43; each is then compared with
 * the canonical encoding as a whole. Lengths 43, 44 and 45 around those. */
static void test_verify_header_lengths_after_trimming(void **st) {
    (void)st;
    const size_t n = strlen(BODY_HELLO);
    char unpadded[44];
    memcpy(unpadded, SIG_HELLO, 43);
    unpadded[43] = '\0';
    static const struct {
        const char *header;
        lf_status want;
    } cases[] = {
        /* '=' removed, spaces/tabs around */
        {" \t gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8 \t ", LF_OK},
        {"\tgyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8", LF_OK},
        {"gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8  ", LF_OK},
        /* 45 characters: only with a space or tab around the 44 is it one */
        {" " SIG_HELLO, LF_OK},
        {SIG_HELLO "\t", LF_OK},
        {SIG_HELLO "=", LF_E_SIGNATURE_MISMATCH},
        {SIG_HELLO "A", LF_E_SIGNATURE_MISMATCH},
        {"=" SIG_HELLO, LF_E_SIGNATURE_MISMATCH},
        {"A" SIG_HELLO, LF_E_SIGNATURE_MISMATCH},
        {"gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8 =", LF_E_SIGNATURE_MISMATCH},
        {" gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8 =\t", LF_E_SIGNATURE_MISMATCH},
        /* 44 characters not ending in '=' */
        {"gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8A", LF_E_SIGNATURE_MISMATCH},
        {"AgyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8", LF_E_SIGNATURE_MISMATCH},
        /* 43 characters ending in '=': a data character is missing */
        {"yrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8=", LF_E_SIGNATURE_MISMATCH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_verify(BODY_HELLO, n, cases[i].header, cases[i].want);
    assert_verify(BODY_HELLO, n, unpadded, LF_OK);
    /* the same shapes for an empty body's signature */
    assert_verify("", 0, "\t eR0ROuC6GVWEdktq9ab104HqxokIWaqnx45nzcN8nRQ ", LF_OK);
    assert_verify("", 0, SIG_EMPTY "=", LF_E_SIGNATURE_MISMATCH);
}

/* ---- verify rejects ------------------------------------------------------- */

/* Every single-byte change of the signature, at every position, to every
 * other byte value but NUL (which would shorten the C string): characters
 * outside the alphabet, '=', url-safe '-' and '_', bytes >= 0x80, and
 * changes of only the 2 unused low bits of the last data character (e.g.
 * '8' -> '9'): only the canonical encoding matches. */
static void test_verify_rejects_every_changed_character(void **st) {
    (void)st;
    const size_t n = strlen(BODY_HELLO);
    for (size_t i = 0; i < 44; i++) {
        for (int byte = 1; byte < 256; byte++) {
            char sig[45];
            memcpy(sig, SIG_HELLO, sizeof sig);
            if ((unsigned char)sig[i] == byte) continue;
            sig[i] = (char)byte;
            /* a space or tab in the last place is trailing whitespace: the
             * unpadded signature, which is accepted */
            lf_status want = i == 43 && (byte == ' ' || byte == '\t') ? LF_OK : LF_E_SIGNATURE_MISMATCH;
            assert_verify(BODY_HELLO, n, sig, want);
        }
    }
    /* non-canonical last data character: '8' (111100) -> '9' (111101)
     * differs only in the 2 unused low bits */
    assert_verify(BODY_HELLO, n, "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk9=", LF_E_SIGNATURE_MISMATCH);
}

static void test_verify_rejects_changed_body(void **st) {
    (void)st;
    unsigned char *mib = mib_body();
    char body[64];
    const size_t n = strlen(BODY_ORDER);
    /* every single byte of the body flipped in one bit */
    for (size_t i = 0; i < n; i++) {
        memcpy(body, BODY_ORDER, n);
        body[i] = (char)(body[i] ^ 0x01);
        assert_verify(body, n, SIG_ORDER, LF_E_SIGNATURE_MISMATCH);
    }
    memcpy(body, BODY_ORDER, n);
    assert_verify(body, n - 1, SIG_ORDER, LF_E_SIGNATURE_MISMATCH); /* one byte shorter */
    body[n] = ' ';
    assert_verify(body, n + 1, SIG_ORDER, LF_E_SIGNATURE_MISMATCH); /* one byte longer */
    /* the embedded NUL counts: the first 3 bytes are not the body */
    assert_verify(BODY_NUL, 3, SIG_NUL, LF_E_SIGNATURE_MISMATCH);
    /* 1 MiB with its last byte changed */
    mib[MIB - 1] ^= 0x80;
    assert_verify(mib, MIB, SIG_MIB, LF_E_SIGNATURE_MISMATCH);
    assert_verify(mib, MIB - 1, SIG_MIB, LF_E_SIGNATURE_MISMATCH);
    free(mib);
}

static void test_verify_rejects_other_encodings_and_shapes(void **st) {
    (void)st;
    static const char *const bad[] = {
        SIG_HELLO_URLSAFE,                             /* url-safe alphabet */
        "gyrtoQCO5-3obGEgiOLU6InezQyS7_Z3UWhaic1pEk8", /* url-safe, unpadded */
        HEX_HELLO,                                     /* hex */
        "sha256=" SIG_HELLO,                           /* prefix */
        "sha256=" HEX_HELLO,
        "hmac " SIG_HELLO,
        "gyrtoQCO5+3obGEgiOLU6 InezQyS7/Z3UWhaic1pEk8=",  /* internal space */
        "gyrtoQCO5+3obGEgiOLU6\tInezQyS7/Z3UWhaic1pEk8=", /* internal tab */
        SIG_HELLO "\r\n",                                 /* CR/LF are not spaces/tabs */
        SIG_HELLO "\n",
        "\r\n" SIG_HELLO,
        "gyrtoQCO5+3obGEgiOLU6\r\nInezQyS7/Z3UWhaic1pEk8=",
        "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk=",   /* 43 chars: a data char lost */
        SIG_HELLO "A",                                   /* 45 chars */
        SIG_HELLO "=",                                   /* 45 chars: extra padding */
        "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pE",     /* 42 chars */
        "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8==", /* double padding */
        "GYRTOQCO5+3OBGEGIOLU6INEZQYS7/Z3UWHAIC1PEK8=",  /* case changed */
        SIG_HELLO SIG_HELLO,                             /* twice */
        "=" SIG_HELLO,
        "\"" SIG_HELLO "\"", /* quoted */
        "",                  /* empty */
        " ",
        "\t \t",
        "=",
        "\xc3\xa9" SIG_HELLO, /* non-ASCII prefix */
        SIG_HELLO "\xc2\xa0", /* no-break space is not a space */
        "\v" SIG_HELLO,       /* vertical tab is not a tab */
    };
    const size_t n = strlen(BODY_HELLO);
    char *huge;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_verify(BODY_HELLO, n, bad[i], LF_E_SIGNATURE_MISMATCH);
    /* a 64 KiB header of base64 characters */
    huge = (char *)malloc(65537);
    assert_non_null(huge);
    memset(huge, 'A', 65536);
    huge[65536] = '\0';
    assert_verify(BODY_HELLO, n, huge, LF_E_SIGNATURE_MISMATCH);
    memcpy(huge, SIG_HELLO, 44); /* right prefix, long tail */
    assert_verify(BODY_HELLO, n, huge, LF_E_SIGNATURE_MISMATCH);
    free(huge);
}

static void test_verify_null_header_is_invalid_argument(void **st) {
    (void)st;
    assert_verify(BODY_HELLO, strlen(BODY_HELLO), NULL, LF_E_INVALID_ARGUMENT);
    assert_verify(NULL, 5, SIG_HELLO, LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_verify(NULL, BODY_HELLO, strlen(BODY_HELLO), SIG_HELLO), LF_E_INVALID_ARGUMENT);
}

static void test_signature_of_another_body_rejected(void **st) {
    (void)st;
    assert_verify(BODY_ORDER, strlen(BODY_ORDER), SIG_HELLO, LF_E_SIGNATURE_MISMATCH);
    assert_verify("", 0, SIG_HELLO, LF_E_SIGNATURE_MISMATCH);
    assert_verify(BODY_HELLO, strlen(BODY_HELLO), SIG_EMPTY, LF_E_SIGNATURE_MISMATCH);
}

/* ---- secret rotation ------------------------------------------------------- */

static void test_previous_secret_accepted_unrelated_rejected(void **st) {
    (void)st;
    lf_auth_config cfg;
    lf_auth *rotated;
    const size_t n = strlen(BODY_ORDER);
    unit_config(&cfg);
    cfg.previous_client_secret = UNIT_PREVIOUS_SECRET;
    rotated = unit_new(&cfg);
    assert_status(lf_webhook_verify(rotated, BODY_ORDER, n, SIG_ORDER), LF_OK);
    assert_status(lf_webhook_verify(rotated, BODY_ORDER, n, SIG_ORDER_PREVIOUS), LF_OK);
    assert_status(lf_webhook_verify(rotated, BODY_ORDER, n, " YWdNpBnxkzhnT3z+c/oyJZ+jfO3OAWRolRjLLzdcNyg"), LF_OK);
    assert_status(lf_webhook_verify(rotated, BODY_ORDER, n, SIG_ORDER_UNRELATED), LF_E_SIGNATURE_MISMATCH);
    assert_status(lf_webhook_verify(rotated, BODY_HELLO, strlen(BODY_HELLO), SIG_ORDER_PREVIOUS),
                  LF_E_SIGNATURE_MISMATCH);
    /* signing always uses the current secret */
    assert_sign(rotated, BODY_ORDER, n, SIG_ORDER);
    lf_auth_free(rotated);

    /* without a previous secret, the previous signature is refused */
    assert_status(lf_webhook_verify(g_auth, BODY_ORDER, n, SIG_ORDER_PREVIOUS), LF_E_SIGNATURE_MISMATCH);
    assert_status(lf_webhook_verify(g_auth, BODY_ORDER, n, SIG_ORDER_UNRELATED), LF_E_SIGNATURE_MISMATCH);
}

static void test_other_handle_secret(void **st) {
    (void)st;
    lf_auth_config cfg;
    lf_auth *other;
    unit_config(&cfg);
    cfg.client_secret = UNIT_UNRELATED_SECRET;
    other = unit_new(&cfg);
    assert_sign(other, BODY_ORDER, strlen(BODY_ORDER), SIG_ORDER_UNRELATED);
    assert_status(lf_webhook_verify(other, BODY_ORDER, strlen(BODY_ORDER), SIG_ORDER), LF_E_SIGNATURE_MISMATCH);
    lf_auth_free(other);
}

/* Keys at and past the SHA-256 block size (64 bytes), where HMAC first
 * hashes the key. Expected values computed with:
 *   printf '{"event":"order/confirmed"}' | openssl dgst -sha256 -hmac KEY -binary | base64 */
static void test_block_sized_and_long_secrets(void **st) {
    static const struct {
        size_t key_len;
        const char *fill;
        const char *sig;
    } cases[] = {
        {64, "k", "V6Qv5+/NsXQQArM2SdMYfYC7A78Tn9SwKBLQpYCL670="},
        {65, "k", "QhQCU5s3O9R3275s4zodqzXIsnaGJqGB5caxjNNFsHk="},
    };
    static const char body[] = "{\"event\":\"order/confirmed\"}";
    char key[128];
    size_t i;
    (void)st;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_auth_config cfg;
        lf_auth *a;
        memset(key, cases[i].fill[0], cases[i].key_len);
        key[cases[i].key_len] = '\0';
        unit_config(&cfg);
        cfg.client_secret = key;
        a = unit_new(&cfg);
        assert_sign(a, body, strlen(body), cases[i].sig);
        assert_status(lf_webhook_verify(a, body, strlen(body), cases[i].sig), LF_OK);
        lf_auth_free(a);
    }
    {
        /* "unit-FAKE-long-secret-" followed by 78 'x': 100 bytes. */
        lf_auth_config cfg;
        lf_auth *a;
        memcpy(key, "unit-FAKE-long-secret-", 22);
        memset(key + 22, 'x', 78);
        key[100] = '\0';
        unit_config(&cfg);
        cfg.client_secret = key;
        a = unit_new(&cfg);
        assert_sign(a, body, strlen(body), "8i0k00AEOMNibk9mX9noquiAF510Z6gEuTiKiEFNlzA=");
        lf_auth_free(a);
    }
}

static void test_sign_then_verify_round_trip(void **st) {
    (void)st;
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    unsigned char body[257];
    for (size_t len = 0; len < sizeof body; len += 17) {
        for (size_t i = 0; i < len; i++) body[i] = (unsigned char)(i * 31 + len);
        assert_status(lf_webhook_sign(g_auth, body, len, sig, sizeof sig, NULL), LF_OK);
        assert_int_equal(strlen(sig), 44);
        assert_int_equal(sig[43], '=');
        assert_status(lf_webhook_verify(g_auth, body, len, sig), LF_OK);
    }
}

/* Every body length where SHA-256's closing padding changes shape (the
 * 0x80 byte and the 8-byte length fit in the last block up to 55 bytes of
 * tail, need a second block from 56 to 63) is checked against OpenSSL's
 * own HMAC: lengths 0 to 300, and around 1 KiB and 4 KiB. */
static void test_sign_matches_openssl_at_every_padding_boundary(void **st) {
    static const size_t extra[] = {1007, 1008, 1015, 1016, 1023, 1024, 1025, 4095, 4096, 4151, 4152};
    unsigned char body[4200];
    size_t i, len, n;
    (void)st;
    for (i = 0; i < sizeof body; i++) body[i] = (unsigned char)(i * 131 + 7);
    for (n = 0; n < 301 + sizeof extra / sizeof extra[0]; n++) {
        char got[LF_SIGNATURE_BUFFER_SIZE];
        unsigned char mac[EVP_MAX_MD_SIZE], want[64];
        unsigned int mac_len = 0;
        len = n < 301 ? n : extra[n - 301];
        assert_non_null(
            HMAC(EVP_sha256(), UNIT_CLIENT_SECRET, (int)strlen(UNIT_CLIENT_SECRET), body, len, mac, &mac_len));
        assert_int_equal(mac_len, 32);
        assert_int_equal(EVP_EncodeBlock(want, mac, 32), 44);
        assert_status(lf_webhook_sign(g_auth, body, len, got, sizeof got, NULL), LF_OK);
        if (strcmp(got, (const char *)want) != 0) {
            print_error("%zu-byte body: signed %s, OpenSSL says %s\n", len, got, (const char *)want);
            fail();
        }
        assert_status(lf_webhook_verify(g_auth, body, len, (const char *)want), LF_OK);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vectors),
        cmocka_unit_test(test_verify_accepts_vectors),
        cmocka_unit_test(test_verify_accepts_without_padding),
        cmocka_unit_test(test_verify_accepts_surrounding_spaces_and_tabs),
        cmocka_unit_test(test_verify_header_lengths_after_trimming),
        cmocka_unit_test(test_verify_rejects_every_changed_character),
        cmocka_unit_test(test_verify_rejects_changed_body),
        cmocka_unit_test(test_verify_rejects_other_encodings_and_shapes),
        cmocka_unit_test(test_verify_null_header_is_invalid_argument),
        cmocka_unit_test(test_signature_of_another_body_rejected),
        cmocka_unit_test(test_previous_secret_accepted_unrelated_rejected),
        cmocka_unit_test(test_other_handle_secret),
        cmocka_unit_test(test_block_sized_and_long_secrets),
        cmocka_unit_test(test_sign_then_verify_round_trip),
        cmocka_unit_test(test_sign_matches_openssl_at_every_padding_boundary),
    };
    return cmocka_run_group_tests(tests, unit_group_setup, unit_group_teardown);
}
