#include "vault.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_SIZE 12
#define TAG_SIZE 16
#define SEALED_PREFIX "v1."

static const char HEX[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[in[i] >> 4];
        out[2 * i + 1] = HEX[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int from_hex(const char *in, size_t n, unsigned char *out) {
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(in[2 * i]), lo = hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* A separate key per purpose, so a session MAC can never be confused with
 * anything the token cipher produces. */
static int derive(const unsigned char *master, const char *label, unsigned char *out) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, VAULT_KEY_SIZE),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label, strlen(label)),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_KDF_derive(ctx, out, VAULT_KEY_SIZE, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

static int fingerprint(const unsigned char *key, char *out) {
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_Digest(key, VAULT_KEY_SIZE, md, &n, EVP_sha256(), NULL) != 1) return -1;
    to_hex(md, (VAULT_KEY_ID_SIZE - 1) / 2, out);
    return 0;
}

int vault_init_hex(vault *v, const char *hex) {
    memset(v, 0, sizeof *v);
    while (*hex == ' ' || *hex == '\t' || *hex == '\n' || *hex == '\r') hex++;
    size_t n = strlen(hex);
    while (n > 0 && (hex[n - 1] == ' ' || hex[n - 1] == '\t' || hex[n - 1] == '\n' || hex[n - 1] == '\r')) n--;
    if (n != 2 * VAULT_KEY_SIZE || from_hex(hex, VAULT_KEY_SIZE, v->key) != 0) return -1;
    unsigned char token_key[VAULT_KEY_SIZE];
    int rc = derive(v->key, "lf-example-app token v1", token_key) == 0 &&
                     derive(v->key, "lf-example-app session v1", v->mac_key) == 0 && fingerprint(v->key, v->key_id) == 0
                 ? 0
                 : -1;
    memcpy(v->key, token_key, sizeof token_key);
    OPENSSL_cleanse(token_key, sizeof token_key);
    return rc;
}

void vault_wipe(vault *v) { OPENSSL_cleanse(v, sizeof *v); }

static int gcm(int encrypt, const unsigned char *key, const unsigned char *nonce, const char *aad,
               const unsigned char *in, int len, unsigned char *out, unsigned char *tag) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    int ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, encrypt) == 1 &&
             EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_CipherUpdate(c, out, &n, in, len) == 1 &&
             (encrypt || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, tag) == 1) &&
             EVP_CipherFinal_ex(c, out + n, &fin) == 1 &&
             (!encrypt || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int vault_seal(const vault *v, const char *account, const char *token, char **out) {
    *out = NULL;
    size_t len = strlen(token);
    if (len > 65536) return -1;
    size_t raw_len = NONCE_SIZE + len + TAG_SIZE;
    unsigned char *raw = malloc(raw_len);
    char *text = malloc(sizeof SEALED_PREFIX + 2 * raw_len);
    int rc = -1;
    /* A random 96-bit nonce per seal: GCM's limit (2^32 seals per key) is far
     * above the number of installs an app sees before it rotates the key. */
    if (raw && text && RAND_bytes(raw, NONCE_SIZE) == 1 &&
        gcm(1, v->key, raw, account, (const unsigned char *)token, (int)len, raw + NONCE_SIZE,
            raw + NONCE_SIZE + len) == 0) {
        memcpy(text, SEALED_PREFIX, sizeof SEALED_PREFIX - 1);
        to_hex(raw, raw_len, text + sizeof SEALED_PREFIX - 1);
        *out = text;
        text = NULL;
        rc = 0;
    }
    if (raw) OPENSSL_cleanse(raw, raw_len);
    free(raw);
    free(text);
    return rc;
}

int vault_open(const vault *v, const char *account, const char *sealed, char **out) {
    *out = NULL;
    size_t prefix = sizeof SEALED_PREFIX - 1, hex_len = strlen(sealed);
    if (hex_len < prefix || memcmp(sealed, SEALED_PREFIX, prefix) != 0) return -1;
    hex_len -= prefix;
    if (hex_len % 2 != 0 || hex_len / 2 < NONCE_SIZE + TAG_SIZE || hex_len / 2 > 65536 + NONCE_SIZE + TAG_SIZE)
        return -1;
    size_t raw_len = hex_len / 2, len = raw_len - NONCE_SIZE - TAG_SIZE;
    unsigned char *raw = malloc(raw_len);
    char *plain = malloc(len + 1);
    int rc = -1;
    if (raw && plain && from_hex(sealed + prefix, raw_len, raw) == 0 &&
        gcm(0, v->key, raw, account, raw + NONCE_SIZE, (int)len, (unsigned char *)plain, raw + NONCE_SIZE + len) == 0) {
        plain[len] = '\0';
        if (strlen(plain) == len) {
            *out = plain;
            plain = NULL;
            rc = 0;
        }
    }
    if (plain) OPENSSL_cleanse(plain, len + 1);
    free(plain);
    free(raw);
    return rc;
}

static int session_mac(const vault *v, const char *payload, size_t len, char *hex) {
    unsigned char md[32];
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), v->mac_key, VAULT_KEY_SIZE, (const unsigned char *)payload, len, md, &n)) return -1;
    to_hex(md, sizeof md, hex);
    return 0;
}

int vault_session_make(const vault *v, const char *account, long long expires, char *buf, size_t size) {
    char mac[65];
    int n = snprintf(buf, size, "%s.%lld", account, expires);
    if (n < 0 || (size_t)n + 66 > size || session_mac(v, buf, (size_t)n, mac) != 0) return -1;
    snprintf(buf + n, size - (size_t)n, ".%s", mac);
    return 0;
}

int vault_session_check(const vault *v, const char *value, long long now, char *account, size_t size) {
    const char *mac_dot = strrchr(value, '.');
    if (!mac_dot || strlen(mac_dot + 1) != 64) return -1;
    char mac[65];
    size_t payload_len = (size_t)(mac_dot - value);
    if (session_mac(v, value, payload_len, mac) != 0 || CRYPTO_memcmp(mac, mac_dot + 1, 64) != 0) return -1;
    const char *exp_dot = memchr(value, '.', payload_len);
    while (exp_dot && memchr(exp_dot + 1, '.', (size_t)(mac_dot - exp_dot - 1)))
        exp_dot = memchr(exp_dot + 1, '.', (size_t)(mac_dot - exp_dot - 1));
    if (!exp_dot || (size_t)(exp_dot - value) + 1 > size) return -1;
    char *end = NULL;
    long long expires = strtoll(exp_dot + 1, &end, 10);
    if (end != mac_dot || expires < now) return -1;
    memcpy(account, value, (size_t)(exp_dot - value));
    account[exp_dot - value] = '\0';
    return 0;
}
