// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but shipped; they
// are the way to keep HMAC key schedules without EVP's per-call costs.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto.hpp"

#include "alloc.hpp"

#include <cstdint>
#include <cstring>

#include <endian.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <tmmintrin.h>
#endif

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

namespace {
// htobe*: one bswap and one store each (a byte loop gets vectorised into
// a long shuffle by GCC).
void store_be32(unsigned char *p, std::uint32_t v) noexcept {
    v = htobe32(v);
    std::memcpy(p, &v, sizeof v);
}
void store_be64(unsigned char *p, std::uint64_t v) noexcept {
    v = htobe64(v);
    std::memcpy(p, &v, sizeof v);
}
void digest_of(const SHA256_CTX &c, unsigned char *out) noexcept {
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, c.h[i]);
}
}  // namespace

// SHA-256's closing padding (FIPS 180-4 5.1.1) is built here on the stack
// and fed to SHA256_Transform, and the digest read from the state words,
// rather than going through SHA256_Final: that copies the tail into the
// context, cleanses it and formats the digest byte by byte, twice per
// MAC. The key block was whole, so the inner state starts with no
// buffered bytes and every whole block of the body goes straight to the
// block function. Checked against OpenSSL's HMAC for every length from 0
// to 300 and at random by fuzz_webhook.
bool HmacKey::sign(const void *data, std::size_t len, unsigned char out[kMacSize]) const noexcept {
    if (!ready_) return false;
    const auto *p = static_cast<const unsigned char *>(data);
    // Of the context only h, the chaining state, ever holds key-derived
    // bytes: whole blocks bypass its buffer, which stays as SHA256_Init
    // left it. So h is what gets wiped, as are the inner digest's bytes
    // in block; zeroing whole structures here costs a rep stos each.
    SHA256_CTX c = *state(inner_);
    std::size_t whole = len - len % kBlock;
    if (whole && !SHA256_Update(&c, p, whole)) {
        wipe(c.h, sizeof c.h);
        return false;
    }
    alignas(16) unsigned char block[2 * kBlock];
    std::size_t tail = len - whole;
    std::size_t padded = tail + 1 + 8 <= kBlock ? kBlock : 2 * kBlock;  // 0x80, then the bit length
    std::memset(block, 0, kBlock);
    if (padded > kBlock) std::memset(block + kBlock, 0, kBlock);
    if (tail) std::memcpy(block, p + whole, tail);
    block[tail] = 0x80;
    store_be64(block + padded - 8, (static_cast<std::uint64_t>(len) + kBlock) * 8);
    SHA256_Transform(&c, block);
    if (padded > kBlock) SHA256_Transform(&c, block + kBlock);
    // Outer hash: one block holding the inner digest and its padding.
    digest_of(c, block);
    block[kMacSize] = 0x80;
    std::memset(block + kMacSize + 1, 0, kBlock - kMacSize - 1 - 8);
    store_be64(block + kBlock - 8, (kBlock + kMacSize) * 8);
    std::memcpy(c.h, state(outer_)->h, sizeof c.h);
    SHA256_Transform(&c, block);
    digest_of(c, out);
    wipe(c.h, sizeof c.h);
    wipe(block, kMacSize);
    return true;
}

bool HmacKey::sign_base64(const void *data, std::size_t len, char out[kMacBase64Len + 1]) const noexcept {
    unsigned char mac[kMacSize];
    if (!sign(data, len, mac)) return false;
    base64_encode(mac, sizeof mac, out);
    wipe(mac, sizeof mac);
    return true;
}

bool HmacKey::verify(const void *data, std::size_t len, const unsigned char want[kMacSize], bool *ok) const noexcept {
    unsigned char mac[kMacSize];
    *ok = sign(data, len, mac);
    bool match = *ok && ct_equal(mac, want, kMacSize);
    wipe(mac, sizeof mac);
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

namespace {
struct Base64DecodeTable {
    static constexpr unsigned char kInvalid = 0xff;
    unsigned char value[256] = {};
    constexpr Base64DecodeTable() {
        const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (unsigned char &v : value) v = kInvalid;
        for (unsigned i = 0; i < 64; i++) value[static_cast<unsigned char>(alphabet[i])] = static_cast<unsigned char>(i);
    }
};
constexpr Base64DecodeTable kBase64;
}  // namespace

bool base64_decode_mac_portable(std::string_view s, unsigned char out[kMacSize]) noexcept {
    static_assert(kMacSize == 32 && kMacBase64Len - 1 == 43, "10 groups of 4 characters, then 3");
    if (s.size() != kMacBase64Len - 1) return false;
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const unsigned char *v = kBase64.value;
    std::uint32_t bad = 0;  // collects kInvalid's high bits
    for (int g = 0; g < 10; g++, p += 4, out += 3) {
        std::uint32_t a = v[p[0]], b = v[p[1]], c = v[p[2]], d = v[p[3]];
        bad |= a | b | c | d;
        std::uint32_t bits = a << 18 | b << 12 | c << 6 | d;
        out[0] = static_cast<unsigned char>(bits >> 16);
        out[1] = static_cast<unsigned char>(bits >> 8);
        out[2] = static_cast<unsigned char>(bits);
    }
    std::uint32_t a = v[p[0]], b = v[p[1]], c = v[p[2]];
    bad |= a | b | c | (c & 0x03) << 6;  // c's low 2 bits would be past the 256th
    std::uint32_t bits = a << 10 | b << 4 | c >> 2;
    out[0] = static_cast<unsigned char>(bits >> 8);
    out[1] = static_cast<unsigned char>(bits);
    return (bad & 0xc0) == 0;
}

// The vector decode. Why it exists: inside a 1 KiB verify the table-driven
// decode cost about 35 ns (15 ns alone), this one about 5 ns; see
// docs/BENCHMARKS.md. It reads the header in place: copying it into a
// padded buffer first made it as slow as the table (the 16-byte loads
// could not be served from the narrower stores just made).
//
// Per 16 characters: the high and low nibble of each byte index two
// 16-entry tables of class bits (pshufb); a byte is outside the alphabet
// exactly when the two entries share a bit. Classes by high nibble:
//   1: 0x0_, 0x1_, 0x8_..0xF_  every low nibble is outside
//   2: 0x2_                    all but '+' (B) and '/' (F)
//   4: 0x3_                    A..F (digits are 0..9)
//   8: 0x4_, 0x6_              0 ('@', '`')
//  16: 0x5_, 0x7_              B..F ('[', '{' and after)
// The value is the byte plus an offset chosen by its high nibble ('/' moves
// to the unused slot 1). pmaddubsw and pmaddwd then join 4 six-bit values
// into 24 bits per 32-bit lane, and pshufb keeps 3 bytes of each lane in
// big-endian order: 12 bytes per vector.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LF_BASE64_SSSE3 1
namespace {
__attribute__((target("ssse3"))) inline __m128i decode16(__m128i x, __m128i &bad) noexcept {
    const __m128i class_of_hi = _mm_setr_epi8(1, 1, 2, 4, 8, 16, 8, 16, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m128i outside_lo = _mm_setr_epi8(1 | 2 | 8, 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2,
                                             1 | 2, 1 | 2 | 4, 1 | 4 | 16, 1 | 2 | 4 | 16, 1 | 2 | 4 | 16,
                                             1 | 2 | 4 | 16, 1 | 4 | 16);
    const __m128i offset = _mm_setr_epi8(0, 63 - '/', 62 - '+', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a', 0, 0,
                                         0, 0, 0, 0, 0, 0);
    const __m128i nibble = _mm_set1_epi8(0x0f);
    __m128i hi = _mm_and_si128(_mm_srli_epi32(x, 4), nibble);
    __m128i lo = _mm_and_si128(x, nibble);
    bad = _mm_or_si128(bad, _mm_and_si128(_mm_shuffle_epi8(outside_lo, lo), _mm_shuffle_epi8(class_of_hi, hi)));
    __m128i slash = _mm_cmpeq_epi8(x, _mm_set1_epi8('/'));  // -1: slot 2 becomes slot 1
    __m128i v = _mm_add_epi8(x, _mm_shuffle_epi8(offset, _mm_add_epi8(hi, slash)));
    __m128i pairs = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));    // a*64 + b, c*64 + d
    __m128i lanes = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));   // (a*64 + b)*4096 + c*64 + d
    return _mm_shuffle_epi8(lanes, _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
}
}  // namespace

__attribute__((target("ssse3"))) bool base64_decode_mac_ssse3(std::string_view s,
                                                                unsigned char out[kMacSize]) noexcept {
    if (s.size() != kMacBase64Len - 1) return false;
    const char *p = s.data();
    // Reads exactly the 43 characters: 0..15, 16..31, and 27..42 moved down
    // by 5 with 'A' (zero bits) after them.
    __m128i bad = _mm_setzero_si128();
    __m128i a = decode16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), bad);
    __m128i b = decode16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16)), bad);
    __m128i t = _mm_srli_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 27)), 5);
    t = _mm_or_si128(t, _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'A', 'A', 'A', 'A', 'A'));
    __m128i c = decode16(t, bad);
    // Bytes 0..11 of a, 12..23 of b, 24..31 of c; c's byte 8 (the 33rd)
    // holds the last character's 2 low bits, which must be zero.
    __m128i first = _mm_or_si128(a, _mm_slli_si128(b, 12));
    __m128i second = _mm_or_si128(_mm_srli_si128(b, 4), _mm_slli_si128(c, 8));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out), first);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 16), second);
    int outside = _mm_movemask_epi8(_mm_cmpeq_epi8(bad, _mm_setzero_si128())) ^ 0xffff;
    return (outside | (_mm_extract_epi16(c, 4) & 0xff)) == 0;
}

bool ssse3_available() noexcept {
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("ssse3") != 0;
    }();
    return has;
}
#else
bool base64_decode_mac_ssse3(std::string_view, unsigned char *) noexcept { return false; }
bool ssse3_available() noexcept { return false; }
#endif

bool base64_decode_mac(std::string_view s, unsigned char out[kMacSize]) noexcept {
#ifdef LF_BASE64_SSSE3
    if (ssse3_available()) return base64_decode_mac_ssse3(s, out);
#endif
    return base64_decode_mac_portable(s, out);
}

bool ct_equal(const void *a, const void *b, std::size_t n) noexcept {
    const auto *x = static_cast<const unsigned char *>(a);
    const auto *y = static_cast<const unsigned char *>(b);
    int diff = n % kCtChunk;  // a misuse never compares equal
    for (std::size_t i = 0; i + kCtChunk <= n; i += kCtChunk) diff |= CRYPTO_memcmp(x + i, y + i, kCtChunk);
    return diff == 0;
}

}  // namespace lf
