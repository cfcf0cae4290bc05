// URLs: percent-encoding into caller buffers, strict form decoding, and the
// transport-security check applied to every configured URL.
#pragma once

#include <cstddef>
#include <string_view>

#include "alloc.hpp"
#include "error.hpp"

namespace lf {

// Writes into a caller buffer (buf, size) while counting the bytes needed,
// so one pass both measures and fills. Never writes at or past `size`.
class OutBuf {
public:
    OutBuf(char *buf, std::size_t size) noexcept : buf_(buf), size_(buf ? size : 0) {}
    void put(char c) noexcept {
        if (n_ + 1 < size_) buf_[n_] = c;
        n_++;
    }
    void put(std::string_view s) noexcept;
    // Everything but A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex).
    void put_encoded(std::string_view s) noexcept;
    std::size_t needed() const noexcept { return n_ + 1; }
    // NUL-terminates; on overflow leaves "" and returns false.
    bool finish() noexcept;

private:
    char *buf_;
    std::size_t size_;
    std::size_t n_ = 0;
};

bool is_unreserved(unsigned char c) noexcept;
void append_encoded(String &out, std::string_view s);  // same alphabet as OutBuf

// Strict application/x-www-form-urlencoded decoding: '+' is a space, %XX
// needs two hex digits, %00 is refused. Returns false for a bad escape;
// *len receives the decoded length.
bool form_decoded_length(std::string_view enc, std::size_t *len) noexcept;
// Decodes a value form_decoded_length accepted; out needs that many bytes.
void form_decode(std::string_view enc, char *out) noexcept;

struct UrlFacts {
    bool loopback = false;  // host is 127.0.0.0/8, ::1 or localhost
    bool https = false;
};

// Absolute http(s) URL without user info (and, unless allowed, without a
// fragment); plain http only to a loopback host.
// InvalidArgument for a malformed URL, InsecureTransport for a scheme or
// host that would leak credentials.
Status check_url(const char *url, const char *what, bool allow_fragment, UrlFacts &facts, Error &e);

}  // namespace lf
