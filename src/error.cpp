#include "error.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace lf {

namespace {

// Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. Rejects
// overlong forms, surrogates and code points above U+10FFFF.
std::size_t utf8_len(const unsigned char *s, std::size_t n) noexcept {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    std::size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (std::size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

// A character a terminal acts on instead of printing: the C1 controls
// U+0080..U+009F (CSI, OSC and NEL among them, honoured by many terminals in
// their UTF-8 form) and the bidirectional marks, embeddings, overrides and
// isolates (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), which
// reorder the text shown around them. s holds one valid sequence of len bytes.
bool is_format_control(const unsigned char *s, std::size_t len) noexcept {
    if (len == 2) return (s[0] == 0xC2 && s[1] <= 0x9F) || (s[0] == 0xD8 && s[1] == 0x9C);
    if (len != 3 || s[0] != 0xE2) return false;
    if (s[1] == 0x80) return s[2] == 0x8E || s[2] == 0x8F || (s[2] >= 0xAA && s[2] <= 0xAE);
    return s[1] == 0x81 && s[2] >= 0xA6 && s[2] <= 0xA9;
}

}  // namespace

bool is_plain_text(std::string_view text) noexcept {
    const auto *s = reinterpret_cast<const unsigned char *>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        std::size_t len = utf8_len(s + i, text.size() - i);
        if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7F)) || is_format_control(s + i, len)) return false;
        i += len;
    }
    return true;
}

// Bytes from text[0] that a secret starting there covers: kMinRun when the
// window text[0..kMinRun) occurs in a long enough secret, the length of a
// short secret text begins with, 0 when neither. `last` is where the window
// one byte earlier was found: a secret echoed straight on continues there,
// so a long echo costs one comparison per byte, not a search.
std::size_t Redactor::cover(std::string_view text, Hit &last, std::size_t &budget) const noexcept {
    if (text.size() >= kMinRun && last.k < n_) {
        std::string_view secret = items_[last.k];
        std::size_t at = last.at + 1;
        if (at + kMinRun <= secret.size() && std::memcmp(secret.data() + at, text.data(), kMinRun) == 0) {
            last.at = at;
            return kMinRun;
        }
    }
    last.k = kMax;
    std::size_t covered = 0;
    for (std::size_t k = 0; k < n_; k++) {
        std::string_view secret = items_[k];
        if (secret.size() < kMinRun) {
            if (secret.size() > covered && text.substr(0, secret.size()) == secret) covered = secret.size();
            continue;
        }
        if (covered == kMinRun || text.size() < kMinRun) continue;
        if (budget < secret.size()) {
            budget = 0;
            return text.size();  // unknown from here on: withhold it
        }
        budget -= secret.size();
        std::size_t at = secret.find(text.substr(0, kMinRun));
        if (at != std::string_view::npos) {
            covered = kMinRun;
            last = Hit{k, at};
        }
    }
    return covered;
}

std::size_t Redactor::match(std::string_view text, std::size_t &budget) const noexcept {
    Hit last;
    std::size_t end = cover(text, last, budget);
    // A window that starts inside the run, or right where it ends, extends it.
    for (std::size_t q = 1; end && q <= end && q < text.size(); q++) {
        std::size_t more = cover(text.substr(q), last, budget);
        if (more && q + more > end) end = q + more;
    }
    return end;
}

void sanitize_copy(char *dst, std::size_t cap, std::string_view src, const Redactor *r) noexcept {
    static const char kMark[] = "[redacted]";
    if (cap == 0) return;
    std::size_t o = 0;
    const auto *s = reinterpret_cast<const unsigned char *>(src.data());
    std::size_t i = 0;
    std::size_t budget = Redactor::kSearchBudget;
    while (i < src.size()) {
        std::size_t secret = r ? r->match(src.substr(i), budget) : 0;
        if (secret) {
            std::size_t m = sizeof kMark - 1;
            if (o + m >= cap) m = cap - 1 - o;
            std::memcpy(dst + o, kMark, m);
            o += m;
            i += secret;
            if (o + 1 >= cap) break;
            continue;
        }
        std::size_t len = utf8_len(s + i, src.size() - i);
        // A run that starts inside this character leaves its head behind as
        // an invalid byte, so no byte of the run is copied.
        for (std::size_t q = 1; r && q < len; q++)
            if (r->match(src.substr(i + q), budget)) len = 0;
        bool control = (len == 1 && (s[i] < 0x20 || s[i] == 0x7F)) || is_format_control(s + i, len);
        bool keep = len && !control;
        std::size_t out_len = keep ? len : 1;
        if (o + out_len >= cap) break;
        if (keep) {
            std::memcpy(dst + o, s + i, len);
        } else {
            dst[o] = (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : '?';
        }
        i += len ? len : 1;
        o += out_len;
    }
    dst[o] = '\0';
}

Status fail(Error &e, Status s, const char *message) noexcept {
    e.status = s;
    sanitize_copy(e.message, sizeof e.message, message ? message : "");
    return s;
}

Status failf(Error &e, Status s, const char *fmt, ...) noexcept {
    char tmp[sizeof e.message];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return fail(e, s, tmp);
}

Status fail_server(Error &e, Status s, long http_status, std::string_view key, const char *prefix,
                   std::string_view server_text, const Redactor &r) noexcept {
    e.status = s;
    e.http_status = http_status;
    sanitize_copy(e.key, sizeof e.key, key, &r);
    int w = std::snprintf(e.message, sizeof e.message, "%s", prefix);
    std::size_t p = w < 0 ? 0 : static_cast<std::size_t>(w);
    if (p >= sizeof e.message) p = sizeof e.message - 1;
    if (p + 3 < sizeof e.message && !server_text.empty()) {
        e.message[p++] = ':';
        e.message[p++] = ' ';
        sanitize_copy(e.message + p, sizeof e.message - p, server_text, &r);
    }
    return s;
}

}  // namespace lf
