#include "crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace lf {

namespace {
constexpr std::size_t kMaxSpare = 16;
}

HmacKey::~HmacKey() {
    for (EVP_MAC_CTX *c : spare_) EVP_MAC_CTX_free(c);
    EVP_MAC_CTX_free(ctx_);
}

EVP_MAC_CTX *HmacKey::take() const noexcept {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!spare_.empty()) {
            EVP_MAC_CTX *c = spare_.back();
            spare_.pop_back();
            // A NULL key re-initialises from the stored key schedule.
            if (EVP_MAC_init(c, nullptr, 0, nullptr)) return c;
            EVP_MAC_CTX_free(c);
        }
    }
    return EVP_MAC_CTX_dup(ctx_);
}

void HmacKey::give(EVP_MAC_CTX *c) const noexcept {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (spare_.size() < spare_.capacity()) {
            spare_.push_back(c);
            return;
        }
    }
    EVP_MAC_CTX_free(c);
}

bool HmacKey::init(std::string_view key) {
    spare_.reserve(kMaxSpare);  // first, so give() never allocates (may throw)
    EVP_MAC *mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) return false;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    if (!ctx) return false;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(ctx, reinterpret_cast<const unsigned char *>(key.data()), key.size(), params)) {
        EVP_MAC_CTX_free(ctx);
        return false;
    }
    EVP_MAC_CTX_free(ctx_);
    ctx_ = ctx;
    return true;
}

bool HmacKey::sign(const void *data, std::size_t len, unsigned char out[kMacSize]) const noexcept {
    if (!ctx_) return false;
    EVP_MAC_CTX *c = take();
    if (!c) return false;
    std::size_t out_len = 0;
    bool ok = EVP_MAC_update(c, static_cast<const unsigned char *>(data), len) &&
              EVP_MAC_final(c, out, &out_len, kMacSize) && out_len == kMacSize;
    if (ok)
        give(c);
    else
        EVP_MAC_CTX_free(c);
    return ok;
}

bool HmacKey::sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept {
    unsigned char mac[kMacSize];
    if (!sign(data, len, mac)) return false;
    base64_encode(mac, sizeof mac, out);
    OPENSSL_cleanse(mac, sizeof mac);
    return true;
}

bool random_bytes(void *buf, std::size_t n) noexcept {
    return n <= 0x7fffffff && RAND_bytes(static_cast<unsigned char *>(buf), static_cast<int>(n)) == 1;
}

std::size_t base64_encode(const unsigned char *in, std::size_t n, char *out) noexcept {
    // EVP_EncodeBlock takes an int length; callers encode small values.
    int w = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out), in, static_cast<int>(n));
    return w < 0 ? 0 : static_cast<std::size_t>(w);
}

bool ct_equal(const void *a, const void *b, std::size_t n) noexcept {
    return CRYPTO_memcmp(a, b, n) == 0;
}

}  // namespace lf
