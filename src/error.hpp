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
    char key[LF_ERROR_KEY_SIZE] = {};          // the sizes of lf_error's
    char message[LF_ERROR_MESSAGE_SIZE] = {};  // (frozen layout)
};

// Up to eight secrets that must never appear in an error, and the rule that
// keeps them out: every run of kMinRun (8) or more consecutive bytes of the
// text that also occurs anywhere inside a secret is replaced, wherever it
// stands, so a server that echoes the first half of the code, the tail of
// the secret or a slice from its middle gives nothing away. A secret shorter
// than kMinRun counts only where it appears whole. Shorter runs are kept: a
// few bytes in common with a secret are what ordinary words have ("code",
// "sec"), while eight bytes of a random secret do not turn up in a server's
// own words by chance. Runs that overlap or touch are one run, one
// "[redacted]". The union of such runs is the union of the 8-byte windows of
// the text found in a secret, which is what match() looks up.
//
// Cost, with no allocation: a window is searched for in every secret,
// O(total secret bytes) per text position, for the positions the 256-byte
// output consumes; inside a run, a window that continues the previous one's
// place in the secret (a straight echo) costs one comparison. A hostile text
// that keeps a run going with windows from all over the secrets (or huge
// secrets) is bounded by a search budget per sanitize_copy call
// (kSearchBudget secret bytes searched): once it is spent, the rest of the
// text counts as secret and is withheld behind one "[redacted]".
class Redactor {
public:
    static constexpr std::size_t kMinRun = 8;
    static constexpr std::size_t kSearchBudget = std::size_t{16} << 20;

    void add(std::string_view secret) noexcept {
        if (!secret.empty() && n_ < kMax) items_[n_++] = secret;
    }
    // Length of the redacted run that starts at text[0], 0 if none; charges
    // the bytes searched to `budget` (text.size() once it is spent).
    std::size_t match(std::string_view text, std::size_t &budget) const noexcept;

private:
    static constexpr std::size_t kMax = 8;
    struct Hit {
        std::size_t k = kMax;  // kMax: none
        std::size_t at = 0;
    };
    std::size_t cover(std::string_view text, Hit &last, std::size_t &budget) const noexcept;

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

// Valid UTF-8 with nothing a terminal acts on: no C0 control, DEL, C1
// control or bidirectional formatting character (what sanitize_copy replaces).
bool is_plain_text(std::string_view text) noexcept;

// Copies src into dst[cap] as sanitised UTF-8, every secret of `r` replaced
// by "[redacted]" (see Redactor). '?' replaces each invalid byte, each C0
// control but TAB, LF and CR (which become a space), DEL, each C1 control
// (U+0080..U+009F) and each bidirectional mark, embedding, override or isolate
// (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069): a terminal that
// prints the text must neither act on it nor show it reordered. The output
// is truncated on a character boundary and NUL-terminated.
void sanitize_copy(char *dst, std::size_t cap, std::string_view src, const Redactor *r = nullptr) noexcept;

}  // namespace lf
