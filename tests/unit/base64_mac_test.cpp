/*
 * The header decoders behind lf_webhook_verify (src/crypto.cpp):
 * base64_decode_mac_portable (table-driven) and base64_decode_mac_ssse3
 * (vectors, x86-64 with SSSE3), and base64_decode_mac, which picks one.
 *
 * Each is checked against a reference written here, bit by bit from
 * RFC 4648, and against encodings made by OpenSSL (EVP_EncodeBlock):
 *  - every MAC of a seeded sample, and the all-zero / all-one / one-bit
 *    MACs, decodes to itself;
 *  - every single-byte change (all 256 values, at each of the 43 places)
 *    of 48 encodings is accepted or refused exactly as the reference says,
 *    with the same bytes when accepted; this covers every character outside
 *    the alphabet, '=', NUL, bytes >= 0x80, and the last character's 2
 *    unused bits;
 *  - random strings mixing the alphabet with its neighbours ('@', '[', '`',
 *    '{', ':', '-', '_', ...);
 *  - any length but 43 is refused;
 *  - each decoder reads only the 43 bytes it is given: every input lives in
 *    a heap block of exactly 43 bytes, so ASan and valgrind catch a read
 *    past it.
 * On a CPU without SSSE3 the vector decoder is skipped, not called.
 */
#include <csetjmp>
#include <cstdarg>
#include <cstddef>

extern "C" {  // cmocka.h declares its functions without C linkage for C++
#include <cmocka.h>
}

#include <openssl/evp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "crypto.hpp"

namespace {

constexpr std::size_t kLen = 43;
const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 4648 section 4, bit by bit: 43 characters carry 258 bits, the last 2
// of which must be zero.
bool reference_decode(const unsigned char *s, std::size_t n, unsigned char out[32]) {
    if (n != kLen) return false;
    std::memset(out, 0, 32);
    for (std::size_t i = 0; i < n; i++) {
        const char *at = s[i] ? std::strchr(kAlphabet, s[i]) : nullptr;
        if (!at) return false;
        unsigned v = static_cast<unsigned>(at - kAlphabet);
        for (int b = 5; b >= 0; b--) {
            std::size_t bit = i * 6 + static_cast<std::size_t>(5 - b);
            if (!((v >> b) & 1)) continue;
            if (bit >= 256) return false;
            out[bit / 8] = static_cast<unsigned char>(out[bit / 8] | 0x80u >> (bit % 8));
        }
    }
    return true;
}

std::uint64_t g_rng = 0x9e3779b97f4a7c15u;
std::uint64_t next_random() {  // splitmix64: fixed seed, same sample every run
    std::uint64_t z = (g_rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void random_mac(unsigned char mac[32]) {
    for (int i = 0; i < 32; i += 8) {
        std::uint64_t r = next_random();
        std::memcpy(mac + i, &r, 8);
    }
}

// OpenSSL's encoding without its '='.
void encode(const unsigned char mac[32], char out[kLen]) {
    unsigned char b64[45];
    assert_int_equal(EVP_EncodeBlock(b64, mac, 32), 44);
    assert_int_equal(b64[43], '=');
    std::memcpy(out, b64, kLen);
}

using Decoder = bool (*)(std::string_view, unsigned char *) noexcept;
struct Named {
    const char *name;
    Decoder fn;
};

// The decoders this CPU can run.
std::size_t decoders(Named out[3]) {
    std::size_t n = 0;
    out[n++] = {"portable", lf::base64_decode_mac_portable};
    if (lf::ssse3_available()) out[n++] = {"ssse3", lf::base64_decode_mac_ssse3};
    out[n++] = {"dispatch", lf::base64_decode_mac};
    return n;
}

// Runs every decoder on s (copied into a block of exactly n bytes) and
// checks it against the reference.
void check(const unsigned char *s, std::size_t n) {
    unsigned char want[32];
    bool ok = reference_decode(s, n, want);
    Named d[3];
    std::size_t count = decoders(d);
    for (std::size_t k = 0; k < count; k++) {
        auto *copy = static_cast<unsigned char *>(std::malloc(n ? n : 1));
        assert_non_null(copy);
        if (n) std::memcpy(copy, s, n);
        unsigned char got[32];
        bool r = d[k].fn(std::string_view(reinterpret_cast<const char *>(copy), n), got);
        std::free(copy);
        if (r != ok || (ok && std::memcmp(got, want, 32) != 0)) {
            std::fprintf(stderr, "%s decoder: %s, reference: %s, for %zu bytes:", d[k].name,
                         r ? "accepted" : "refused", ok ? "accepted" : "refused", n);
            for (std::size_t i = 0; i < n; i++) std::fprintf(stderr, " %02x", s[i]);
            std::fprintf(stderr, "\n");
            fail();
        }
    }
}

void test_openssl_encodings_decode_to_themselves(void **) {
    unsigned char mac[32];
    char s[kLen];
    for (int i = 0; i < 4096; i++) {
        random_mac(mac);
        encode(mac, s);
        check(reinterpret_cast<unsigned char *>(s), kLen);
        unsigned char got[32];
        assert_true(lf::base64_decode_mac(std::string_view(s, kLen), got));
        assert_memory_equal(got, mac, 32);
    }
    for (int fill : {0x00, 0xff}) {
        std::memset(mac, fill, 32);
        encode(mac, s);
        check(reinterpret_cast<unsigned char *>(s), kLen);
    }
    for (int bit = 0; bit < 256; bit++) {
        std::memset(mac, 0, 32);
        mac[bit / 8] = static_cast<unsigned char>(0x80u >> (bit % 8));
        encode(mac, s);
        check(reinterpret_cast<unsigned char *>(s), kLen);
    }
}

void test_every_single_byte_change(void **) {
    unsigned char mac[32];
    char base[kLen];
    for (int sample = 0; sample < 48; sample++) {
        random_mac(mac);
        encode(mac, base);
        for (std::size_t pos = 0; pos < kLen; pos++) {
            for (int byte = 0; byte < 256; byte++) {
                unsigned char s[kLen];
                std::memcpy(s, base, kLen);
                s[pos] = static_cast<unsigned char>(byte);
                check(s, kLen);
            }
        }
    }
}

void test_random_strings_near_the_alphabet(void **) {
    // The alphabet (twice, so most strings are mostly valid) and the bytes
    // next to each of its ranges, plus '=', '-', '_', NUL and high bytes.
    static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                               "@[`{:*,.=-_ \x7f\x80\xc1\xff";
    const std::size_t pool_len = sizeof pool;  // includes the NUL
    for (int i = 0; i < 50000; i++) {
        unsigned char s[kLen];
        // One string in four has a single stray byte at most, so accepted
        // strings are common too.
        bool clean = i % 4 == 0;
        for (std::size_t j = 0; j < kLen; j++) {
            std::size_t limit = clean ? 64 : pool_len;
            s[j] = static_cast<unsigned char>(pool[next_random() % limit]);
        }
        if (clean) s[kLen - 1] = static_cast<unsigned char>(kAlphabet[(next_random() % 16) * 4]);  // low 2 bits 0
        check(s, kLen);
    }
}

void test_any_other_length_is_refused(void **) {
    unsigned char mac[32];
    char s[kLen];
    random_mac(mac);
    encode(mac, s);
    unsigned char longer[100];
    for (std::size_t i = 0; i < sizeof longer; i++) longer[i] = static_cast<unsigned char>(s[i % kLen]);
    for (std::size_t n = 0; n <= sizeof longer; n++) {
        if (n == kLen) continue;
        check(longer, n);  // the reference refuses every length but 43
    }
    // With its '=' (44 characters) it is the caller's job to strip it.
    unsigned char padded[kLen + 1];
    std::memcpy(padded, s, kLen);
    padded[kLen] = '=';
    check(padded, sizeof padded);
}

}  // namespace

int main(void) {
    std::fprintf(stderr, "vector decoder: %s\n", lf::ssse3_available() ? "SSSE3, tested" : "not on this CPU");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_encodings_decode_to_themselves),
        cmocka_unit_test(test_every_single_byte_change),
        cmocka_unit_test(test_random_strings_near_the_alphabet),
        cmocka_unit_test(test_any_other_length_is_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
