#include "crypto.hpp"

#include "alloc.hpp"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace lf {

HmacKey::~HmacKey() {
    EVP_MAC_CTX_free(spare_.load(std::memory_order_acquire));
    EVP_MAC_CTX_free(keyed_);
}

bool HmacKey::init(std::string_view key) noexcept {
    EVP_MAC *mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest[] = OSSL_DIGEST_NAME_SHA2_256;
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (!c || !EVP_MAC_init(c, reinterpret_cast<const unsigned char *>(key.data()), key.size(), params)) {
        EVP_MAC_CTX_free(c);
        return false;
    }
    keyed_ = c;
    return true;
}

// Whether EVP_MAC_init with a NULL key restarts an HMAC with the same key, as
// OpenSSL documents (EVP_MAC(3), life_cycle-mac(7)). HMAC in OpenSSL 3.0.0 to
// 3.0.2 (and FIPS providers built from them) accepts that call and does
// nothing (openssl/openssl#17811): a context re-used there would give wrong
// MACs. Checked once per process on a throwaway key: a MAC, a restart, the
// same MAC again. Should OpenSSL fail during the check, no context is re-used
// either (slower, still correct).
bool HmacKey::restarts() noexcept {
    static const bool yes = [] {
        static const unsigned char msg[] = "probe";
        auto mac = [](EVP_MAC_CTX *c, unsigned char out[kMacSize]) {
            std::size_t n = 0;
            return EVP_MAC_update(c, msg, sizeof msg - 1) && EVP_MAC_final(c, out, &n, kMacSize) && n == kMacSize;
        };
        HmacKey probe;
        EVP_MAC_CTX *c = probe.init("lightfunnels-auth restart probe") ? EVP_MAC_CTX_dup(probe.keyed_) : nullptr;
        unsigned char once[kMacSize], again[kMacSize];
        bool ok = c && mac(c, once) && EVP_MAC_init(c, nullptr, 0, nullptr) && mac(c, again) &&
                  std::memcmp(once, again, kMacSize) == 0;
        EVP_MAC_CTX_free(c);
        return ok;
    }();
    return yes;
}

// The spare when it is free, else a duplicate of the keyed context: the
// cheapest public routes (docs/BENCHMARKS.md), neither processes the key.
EVP_MAC_CTX *HmacKey::start() const noexcept {
    if (!keyed_) return nullptr;
    EVP_MAC_CTX *c = spare_.exchange(nullptr, std::memory_order_acquire);
    return c ? c : EVP_MAC_CTX_dup(keyed_);
}

// Where restarts() holds, EVP_MAC_init with a NULL key restarts the MAC with
// the same key (webhook_test checks it against HMAC() over hundreds of MACs
// on one handle, and its .mac_restart_noop rerun the fallback where that call
// does nothing). It also replaces the digest state that held this MAC, so a
// parked spare holds nothing the keyed context does not. One spare at most:
// a context that finds the slot taken is freed.
bool HmacKey::finish(EVP_MAC_CTX *c, unsigned char out[kMacSize]) const noexcept {
    std::size_t n = 0;
    bool ok = EVP_MAC_final(c, out, &n, kMacSize) && n == kMacSize;
    EVP_MAC_CTX *none = nullptr;
    if (!restarts() || !EVP_MAC_init(c, nullptr, 0, nullptr) ||
        !spare_.compare_exchange_strong(none, c, std::memory_order_acq_rel))
        EVP_MAC_CTX_free(c);
    return ok;
}

bool HmacKey::sign_parts(std::initializer_list<std::string_view> parts, unsigned char out[kMacSize]) const noexcept {
    EVP_MAC_CTX *c = start();
    bool ok = c != nullptr;
    for (std::string_view p : parts)
        ok = ok && EVP_MAC_update(c, reinterpret_cast<const unsigned char *>(p.data()), p.size());
    return c && finish(c, out) && ok;
}

bool HmacKey::sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept {
    unsigned char mac[kMacSize];
    bool ok = sign_parts({std::string_view(static_cast<const char *>(data), len)}, mac) &&
              base64_encode(mac, sizeof mac, out) == kMacBase64Len;
    wipe(mac, sizeof mac);
    return ok;
}

// Each MAC has exactly one base64 encoding, so comparing encodings is
// comparing MACs, and the header never needs decoding.
bool HmacKey::matches(const void *data, std::size_t len, std::string_view sig, bool *ok) const noexcept {
    char mine[kMacBase64Len + 1];
    *ok = sign_base64(data, len, mine);
    bool match = *ok && sig.size() == kMacBase64Len - 1 && ct_equal(mine, sig.data(), sig.size());
    wipe(mine, sizeof mine);  // the MAC of a body whose header was wrong
    return match;
}

bool random_bytes(void *buf, std::size_t n) noexcept {
    return n <= 0x7fffffff && RAND_bytes(static_cast<unsigned char *>(buf), static_cast<int>(n)) == 1;
}

std::size_t base64_encode(const unsigned char *in, std::size_t n, char *out) noexcept {
    // EVP_EncodeBlock takes an int length; callers encode small values.
    int w = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out), in, static_cast<int>(n));
    return w < 0 ? 0 : static_cast<std::size_t>(w);
}

std::size_t base64_decode(const char *in, std::size_t n, unsigned char *out) noexcept {
    if (n % 4 != 0 || n > 0x7fffffff) return 0;
    int w = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char *>(in), static_cast<int>(n));
    return w < 0 ? 0 : static_cast<std::size_t>(w);
}

bool hkdf_sha256(std::string_view ikm, std::string_view info, unsigned char *out, std::size_t n) noexcept {
    EVP_KDF *kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
    EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
    EVP_KDF_free(kdf);  // the context holds its own reference
    char digest[] = OSSL_DIGEST_NAME_SHA2_256;
    // OSSL_PARAM takes non-const pointers; OpenSSL only reads these.
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char *>(ikm.data()), ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char *>(info.data()), info.size()),
        OSSL_PARAM_construct_end()};
    bool ok = c && EVP_KDF_derive(c, out, n, params) == 1;
    EVP_KDF_CTX_free(c);
    return ok;
}

bool ct_equal(const void *a, const void *b, std::size_t n) noexcept { return CRYPTO_memcmp(a, b, n) == 0; }

}  // namespace lf
