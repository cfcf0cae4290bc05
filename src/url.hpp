// URLs: percent-encoding into caller buffers and strings, strict form
// decoding, and the transport-security check applied to every configured URL.
#pragma once

#include <cstddef>
#include <string_view>

#include "alloc.hpp"
#include "buffer.hpp"
#include "error.hpp"

namespace lf {

// Appends s to out percent-encoded: everything but A-Z a-z 0-9 - . _ ~
// becomes %XX (upper-case hex).
void put_encoded(OutBuf &out, std::string_view s) noexcept;
void append_encoded(String &out, std::string_view s);  // the same, into a String

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

// Absolute http(s) URL without user info or fragment; plain http only to a
// loopback host.
// InvalidArgument for a malformed URL, InsecureTransport for a scheme or
// host that would leak credentials.
Status check_url(const char *url, const char *what, UrlFacts &facts, Error &e);

}  // namespace lf
