// Failure detail, filled without allocating. Everything that reaches
// `message` or `key` is sanitised (valid UTF-8, no C0 or C1 control
// characters, no bidirectional formatting characters), truncated on a
// character boundary, and scrubbed of the secrets a Redactor names (client
// secret, code, token), however a server echoed them.
#pragma once

#include <cstddef>
#include <string_view>

#include "status.hpp"

namespace lf {

struct Error {
    Status status = Status::Ok;
    long http_status = 0;
    long retry_after_s = 0;
    char key[64] = {};
    char message[256] = {};
};

// Up to eight secrets that must never appear in an error.
class Redactor {
public:
    void add(std::string_view secret) noexcept {
        if (!secret.empty() && n_ < kMax) items_[n_++] = secret;
    }
    // Length of the secret that starts at src[0], 0 if none. A secret cut
    // off by the end of src counts when at least 8 bytes of it are there.
    std::size_t match(std::string_view src) const noexcept;

private:
    static constexpr std::size_t kMax = 8;
    std::string_view items_[kMax];
    std::size_t n_ = 0;
};

// Sets status and a fixed message (no secrets in it by construction).
Status fail(Error &e, Status s, const char *message) noexcept;
// printf-style; arguments must not be secrets.
Status failf(Error &e, Status s, const char *fmt, ...) noexcept __attribute__((format(printf, 3, 4)));
// "<prefix>: <server text>", server text sanitised and redacted.
Status fail_server(Error &e, Status s, long http_status, std::string_view key, const char *prefix,
                   std::string_view server_text, const Redactor &r) noexcept;

// Copies src into dst[cap] as sanitised UTF-8, every secret of `r` replaced
// by "[redacted]" (see Redactor). '?' replaces each invalid byte, each C0
// control but TAB, LF and CR (which become a space), DEL, each C1 control
// (U+0080..U+009F) and each bidirectional mark, embedding, override or isolate
// (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069): a terminal that
// prints the text must neither act on it nor show it reordered. The output
// is truncated on a character boundary and NUL-terminated.
void sanitize_copy(char *dst, std::size_t cap, std::string_view src,
                   const Redactor *r = nullptr) noexcept;

}  // namespace lf
