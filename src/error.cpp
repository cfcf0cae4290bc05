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
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
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

std::size_t Redactor::match(std::string_view src) const noexcept {
    for (std::size_t k = 0; k < n_; k++) {
        std::string_view secret = items_[k];
        if (src.size() >= secret.size()) {
            if (std::memcmp(src.data(), secret.data(), secret.size()) == 0) return secret.size();
        } else if (src.size() >= 8 && std::memcmp(src.data(), secret.data(), src.size()) == 0) {
            return src.size();
        }
    }
    return 0;
}

void sanitize_copy(char *dst, std::size_t cap, std::string_view src, const Redactor *r) noexcept {
    static const char kMark[] = "[redacted]";
    if (cap == 0) return;
    std::size_t o = 0;
    const auto *s = reinterpret_cast<const unsigned char *>(src.data());
    std::size_t i = 0;
    while (i < src.size()) {
        std::size_t secret = r ? r->match(src.substr(i)) : 0;
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
