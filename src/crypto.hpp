// OpenSSL, for everything cryptographic: HMAC-SHA256, the CSPRNG, base64,
// constant-time comparison. Public, non-deprecated OpenSSL 3 API only.
#pragma once

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <string_view>

#include <openssl/types.h>

namespace lf {

constexpr std::size_t kMacSize = 32;       // HMAC-SHA256
constexpr std::size_t kMacBase64Len = 44;  // base64 of 32 bytes, with one '='

// HMAC-SHA256 with one key, through OpenSSL's EVP_MAC. The key is set once,
// in a context that is never updated afterwards. Each MAC is computed on a
// spare context re-initialised with that key after its last use, or, while
// another thread holds the spare (or where OpenSSL cannot restart a MAC), on
// a duplicate of the keyed one (the key is processed again by neither), so
// one HmacKey serves any number of threads at once without a lock. OpenSSL
// cleanses the key when a context is freed.
class HmacKey {
public:
    HmacKey() = default;
    HmacKey(const HmacKey &) = delete;
    HmacKey &operator=(const HmacKey &) = delete;
    ~HmacKey();
    bool init(std::string_view key) noexcept;  // once; false if OpenSSL fails
    bool ready() const noexcept { return keyed_ != nullptr; }
    // The MAC of the concatenation of parts, without copying them together.
    bool sign_parts(std::initializer_list<std::string_view> parts, unsigned char out[kMacSize]) const noexcept;
    // base64 of the MAC into out[kMacBase64Len + 1].
    bool sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept;
    // Whether sig is the canonical base64 of the MAC of data without its
    // '=' (43 characters), compared in constant time. *ok is false only if
    // OpenSSL failed.
    bool matches(const void *data, std::size_t len, std::string_view sig, bool *ok) const noexcept;

private:
    static bool restarts() noexcept;
    EVP_MAC_CTX *start() const noexcept;
    bool finish(EVP_MAC_CTX *c, unsigned char out[kMacSize]) const noexcept;

    EVP_MAC_CTX *keyed_ = nullptr;
    mutable std::atomic<EVP_MAC_CTX *> spare_{nullptr};  // keyed, ready for update
};

bool random_bytes(void *buf, std::size_t n) noexcept;
// Standard base64 with padding; out needs 4 * ceil(n / 3) + 1 bytes.
std::size_t base64_encode(const unsigned char *in, std::size_t n, char *out) noexcept;
// Decodes standard base64 of a multiple of 3 bytes (no padding): n must be a
// multiple of 4 and every character in the alphabet (the caller checks);
// out needs 3 * n / 4 bytes. Returns the bytes written, 0 on failure.
std::size_t base64_decode(const char *in, std::size_t n, unsigned char *out) noexcept;
// HKDF-SHA256 (RFC 5869) with an empty salt: n bytes of key from ikm, bound
// to the label `info`. False if OpenSSL fails.
bool hkdf_sha256(std::string_view ikm, std::string_view info, unsigned char *out, std::size_t n) noexcept;
inline constexpr std::size_t base64_len(std::size_t n) { return 4 * ((n + 2) / 3); }
// Constant-time equality of n bytes (CRYPTO_memcmp).
bool ct_equal(const void *a, const void *b, std::size_t n) noexcept;

}  // namespace lf
