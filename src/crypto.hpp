// OpenSSL, for everything cryptographic: HMAC-SHA256, the CSPRNG, base64,
// constant-time comparison.
#pragma once

#include <cstddef>
#include <string_view>

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace lf {

constexpr std::size_t kMacSize = 32;            // HMAC-SHA256
constexpr std::size_t kMacBase64Len = 44;       // base64 of 32 bytes, with one '='

// An HMAC-SHA256 key schedule computed once; sign() duplicates it per call,
// so one key serves any number of threads.
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
    EVP_MAC_CTX *ctx_ = nullptr;
};

bool random_bytes(void *buf, std::size_t n) noexcept;
// Standard base64 with padding; out needs 4 * ceil(n / 3) + 1 bytes.
std::size_t base64_encode(const unsigned char *in, std::size_t n, char *out) noexcept;
inline constexpr std::size_t base64_len(std::size_t n) { return 4 * ((n + 2) / 3); }
bool ct_equal(const void *a, const void *b, std::size_t n) noexcept;

}  // namespace lf
