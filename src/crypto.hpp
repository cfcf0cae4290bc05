// OpenSSL, for everything cryptographic: HMAC-SHA256, the CSPRNG, base64,
// constant-time comparison.
#pragma once

#include <cstddef>
#include <mutex>
#include <string_view>

#include "alloc.hpp"

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace lf {

constexpr std::size_t kMacSize = 32;            // HMAC-SHA256
constexpr std::size_t kMacBase64Len = 44;       // base64 of 32 bytes, with one '='

// An HMAC-SHA256 key schedule computed once. sign() runs on a spare context
// re-initialised from the stored key schedule (no key processing, no
// allocation once warm); spares are kept for reuse, so one key serves any
// number of threads.
class HmacKey {
public:
    HmacKey() = default;
    HmacKey(const HmacKey &) = delete;
    HmacKey &operator=(const HmacKey &) = delete;
    ~HmacKey();
    bool init(std::string_view key);  // false on failure (allocation or OpenSSL)
    bool ready() const noexcept { return ctx_ != nullptr; }
    bool sign(const void *data, std::size_t len, unsigned char out[kMacSize]) const noexcept;
    // base64 of the MAC into out[kMacBase64Len + 1].
    bool sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept;

private:
    EVP_MAC_CTX *take() const noexcept;
    void give(EVP_MAC_CTX *c) const noexcept;

    EVP_MAC_CTX *ctx_ = nullptr;  // keyed master, never used directly
    mutable std::mutex mu_;
    mutable Vector<EVP_MAC_CTX *> spare_;
};

bool random_bytes(void *buf, std::size_t n) noexcept;
// Standard base64 with padding; out needs 4 * ceil(n / 3) + 1 bytes.
std::size_t base64_encode(const unsigned char *in, std::size_t n, char *out) noexcept;
inline constexpr std::size_t base64_len(std::size_t n) { return 4 * ((n + 2) / 3); }
bool ct_equal(const void *a, const void *b, std::size_t n) noexcept;

}  // namespace lf
