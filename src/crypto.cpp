// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but shipped; they
// are the way to keep HMAC key schedules without EVP's per-call costs.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto.hpp"

#include "alloc.hpp"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace lf {

namespace {
constexpr std::size_t kBlock = 64;  // SHA-256 block size

SHA256_CTX *state(unsigned char *bytes) noexcept { return reinterpret_cast<SHA256_CTX *>(bytes); }
const SHA256_CTX *state(const unsigned char *bytes) noexcept {
    return reinterpret_cast<const SHA256_CTX *>(bytes);
}
}  // namespace

HmacKey::~HmacKey() {
    wipe(inner_, sizeof inner_);
    wipe(outer_, sizeof outer_);
}

bool HmacKey::init(std::string_view key) noexcept {
    unsigned char k[kBlock] = {};
    if (key.size() > kBlock) {
        if (!SHA256(reinterpret_cast<const unsigned char *>(key.data()), key.size(), k)) return false;
    } else {
        std::memcpy(k, key.data(), key.size());
    }
    unsigned char ipad[kBlock], opad[kBlock];
    for (std::size_t i = 0; i < kBlock; i++) {
        ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
        opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
    }
    static_assert(sizeof(SHA256_CTX) <= kStateSize && alignof(SHA256_CTX) <= 8, "HmacKey state size");
    bool ok = SHA256_Init(state(inner_)) && SHA256_Update(state(inner_), ipad, kBlock) &&
              SHA256_Init(state(outer_)) && SHA256_Update(state(outer_), opad, kBlock);
    wipe(k, sizeof k);
    wipe(ipad, sizeof ipad);
    wipe(opad, sizeof opad);
    ready_ = ok;
    return ok;
}

bool HmacKey::sign(const void *data, std::size_t len, unsigned char out[kMacSize]) const noexcept {
    if (!ready_) return false;
    SHA256_CTX c = *state(inner_);
    unsigned char inner_hash[kMacSize];
    bool ok = SHA256_Update(&c, data, len) && SHA256_Final(inner_hash, &c);
    c = *state(outer_);
    ok = ok && SHA256_Update(&c, inner_hash, sizeof inner_hash) && SHA256_Final(out, &c);
    wipe(&c, sizeof c);
    wipe(inner_hash, sizeof inner_hash);
    return ok;
}

bool HmacKey::sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept {
    unsigned char mac[kMacSize];
    if (!sign(data, len, mac)) return false;
    base64_encode(mac, sizeof mac, out);
    wipe(mac, sizeof mac);
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
