// OpenSSL, for everything cryptographic: HMAC-SHA256, the CSPRNG, base64,
// constant-time comparison.
#pragma once

#include <cstddef>
#include <string_view>

namespace lf {

constexpr std::size_t kMacSize = 32;       // HMAC-SHA256
constexpr std::size_t kMacBase64Len = 44;  // base64 of 32 bytes, with one '='

// HMAC-SHA256 (RFC 2104) with the key processed once: the SHA-256 states
// after absorbing key^ipad and key^opad are kept, and every signature starts
// from copies of them on the stack. No lock, no allocation and no EVP
// dispatch per call, so one key serves any number of threads at the speed of
// OpenSSL's SHA-256 block function. Checked against OpenSSL's own HMAC
// (openssl dgst -hmac) by the webhook tests, for short and long keys.
class HmacKey {
public:
    HmacKey() = default;
    HmacKey(const HmacKey &) = delete;
    HmacKey &operator=(const HmacKey &) = delete;
    ~HmacKey();
    bool init(std::string_view key) noexcept;  // false if OpenSSL fails
    bool ready() const noexcept { return ready_; }
    bool sign(const void *data, std::size_t len, unsigned char out[kMacSize]) const noexcept;
    // base64 of the MAC into out[kMacBase64Len + 1].
    bool sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept;
    // Whether the MAC of data is want, compared in constant time. *ok is
    // false only if OpenSSL failed.
    bool verify(const void *data, std::size_t len, const unsigned char want[kMacSize], bool *ok) const noexcept;

private:
    // Two SHA256_CTX (OpenSSL's low-level API is deprecated in 3.0, so its
    // header stays inside crypto.cpp, which checks that they fit).
    static constexpr std::size_t kStateSize = 112;
    alignas(8) unsigned char inner_[kStateSize] = {};
    alignas(8) unsigned char outer_[kStateSize] = {};
    bool ready_ = false;
};

bool random_bytes(void *buf, std::size_t n) noexcept;
// Standard base64 with padding; out needs 4 * ceil(n / 3) + 1 bytes.
std::size_t base64_encode(const unsigned char *in, std::size_t n, char *out) noexcept;
inline constexpr std::size_t base64_len(std::size_t n) { return 4 * ((n + 2) / 3); }
// Decodes the 43 significant characters of the canonical standard base64
// of a MAC (RFC 4648 4; the '=' is the caller's). False for any other
// character or length, or when the last character carries bits past the
// 256th, so exactly one string decodes to each MAC. The input is public,
// and nothing is indexed by the MAC we computed. out holds garbage when it
// returns false. On x86-64 CPUs with SSSE3 it runs base64_decode_mac_ssse3,
// elsewhere base64_decode_mac_portable; both accept exactly the same
// strings and give the same bytes (tests/unit/base64_mac_test.cpp compares
// them on every single-byte change of many encodings).
bool base64_decode_mac(std::string_view s, unsigned char out[kMacSize]) noexcept;
// Table-driven, one pass (about 15 ns).
bool base64_decode_mac_portable(std::string_view s, unsigned char out[kMacSize]) noexcept;
// Three 16-byte vectors (about 4 ns). Only where ssse3_available().
bool base64_decode_mac_ssse3(std::string_view s, unsigned char out[kMacSize]) noexcept;
bool ssse3_available() noexcept;
// Constant-time equality of n bytes; n must be a multiple of 16. It is
// OpenSSL's CRYPTO_memcmp called per 16 bytes: its x86-64 code compares 16
// bytes as two words but any other length byte by byte (here 48 bytes took
// 5 ns in three calls, 20 ns in one).
constexpr std::size_t kCtChunk = 16;
bool ct_equal(const void *a, const void *b, std::size_t n) noexcept;

}  // namespace lf
