// Shared helpers for the libFuzzer targets: a property check that aborts
// with a message, input splitting, and independent reference checks (UTF-8,
// control characters, secrets) written without the library's own helpers so
// that a bug there cannot hide itself.
#pragma once

#include <cjson/cJSON.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace fz {

[[noreturn]] inline void fail(const char *file, int line, const char *what, const std::string &detail) {
    std::fprintf(stderr, "\n*** PROPERTY VIOLATED at %s:%d: %s\n", file, line, what);
    if (!detail.empty()) std::fprintf(stderr, "*** detail: %s\n", detail.c_str());
    std::fflush(stderr);
    std::abort();
}

// Printable rendering of arbitrary bytes for failure messages.
inline std::string show(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            char tmp[8];
            std::snprintf(tmp, sizeof tmp, "\\x%02X", c);
            out += tmp;
        }
    }
    return out + "\"";
}

#define FZ_CHECK(cond, detail)                                        \
    do {                                                              \
        if (!(cond)) ::fz::fail(__FILE__, __LINE__, #cond, (detail)); \
    } while (0)

// Splits data at `sep` into at most `max_fields` fields; the last field
// keeps the rest (separators included).
inline std::vector<std::string_view> split(std::string_view data, char sep, std::size_t max_fields) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < max_fields) {
        std::size_t p = data.find(sep);
        if (p == std::string_view::npos) break;
        out.push_back(data.substr(0, p));
        data.remove_prefix(p + 1);
    }
    out.push_back(data);
    return out;
}

// Length (1..4) of the strict UTF-8 sequence at s[i], its code point in cp;
// 0 when invalid: overlong, a surrogate, above U+10FFFF or cut short.
inline std::size_t utf8_at(std::string_view s, std::size_t i, unsigned long &cp) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    unsigned char c = p[i];
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    std::size_t len;
    unsigned long min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; k++) {
        if ((p[i + k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

inline bool valid_utf8(std::string_view s) {
    unsigned long cp;
    for (std::size_t i = 0, len; i < s.size(); i += len)
        if ((len = utf8_at(s, i, cp)) == 0) return false;
    return true;
}

// What the contract keeps out of lf_error's text: a character a terminal acts
// on or that reorders what it shows. C0 controls, DEL, the C1 controls
// U+0080..U+009F (CSI, OSC, NEL: honoured by many terminals and log viewers
// in their UTF-8 form) and the bidirectional marks, embeddings, overrides and
// isolates.
inline bool terminal_control(unsigned long cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Decodes code points rather than matching the library's byte patterns. An
// invalid byte counts only when it is a C0 control or DEL (valid_utf8 judges
// the rest).
inline bool has_control(std::string_view s) {
    unsigned long cp;
    for (std::size_t i = 0, len; i < s.size(); i += len) {
        len = utf8_at(s, i, cp);
        if (len == 0) {
            len = 1;
            cp = static_cast<unsigned char>(s[i]);
            if (cp >= 0x80) continue;
        }
        if (terminal_control(cp)) return true;
    }
    return false;
}

// A fixed-size char field: NUL-terminated inside its bounds.
template <std::size_t N>
inline std::string_view field(const char (&f)[N]) {
    const void *nul = std::memchr(f, '\0', N);
    FZ_CHECK(nul != nullptr, "field is not NUL-terminated within its bounds");
    return std::string_view(f, static_cast<std::size_t>(static_cast<const char *>(nul) - f));
}

// The text a server may send back, as the error fields should show it:
// valid UTF-8, no control or bidirectional formatting characters.
template <std::size_t N>
inline std::string_view check_text_field(const char (&f)[N], const char *name) {
    std::string_view v = field(f);
    FZ_CHECK(valid_utf8(v), std::string(name) + " is not valid UTF-8: " + show(v));
    FZ_CHECK(!has_control(v), std::string(name) + " contains a control character: " + show(v));
    return v;
}

// A secret of the realistic shape the redaction property is about: 8..128
// bytes of printable ASCII without space, '?', '[' and ']' (the characters
// the sanitiser itself writes), with at least one upper-case letter, one
// lower-case letter and one digit (so it cannot be a word of the library's
// own fixed texts, like "endpoint" or "HTTP 400").
inline bool realistic_secret(std::string_view s) {
    if (s.size() < 8 || s.size() > 128) return false;
    bool up = false, low = false, dig = false;
    for (unsigned char c : s) {
        if (c <= 0x20 || c >= 0x7F || c == '?' || c == '[' || c == ']') return false;
        up |= c >= 'A' && c <= 'Z';
        low |= c >= 'a' && c <= 'z';
        dig |= c >= '0' && c <= '9';
    }
    return up && low && dig;
}

inline void check_no_secret(std::string_view text, std::string_view secret, const char *where) {
    if (secret.empty()) return;
    FZ_CHECK(text.find(secret) == std::string_view::npos,
             std::string(where) + " contains the secret " + show(secret) + ": " + show(text));
}

// The redaction rule of the contract: text gives a secret away when 8
// consecutive bytes of it occur anywhere inside the secret, or, for a secret
// shorter than 8 bytes, when the whole secret occurs in it.
constexpr std::size_t kSecretRun = 8;

inline bool shares_secret_run(std::string_view text, std::string_view secret) {
    if (secret.empty()) return false;
    if (secret.size() < kSecretRun) return text.find(secret) != std::string_view::npos;
    for (std::size_t i = 0; i + kSecretRun <= text.size(); i++)
        if (secret.find(text.substr(i, kSecretRun)) != std::string_view::npos) return true;
    return false;
}

// For text the library copied from a server (not its own fixed words, which
// an 8-byte window of a secret may spell): no run of the secret survives.
// The "[redacted]" marks are set aside first, the last one possibly cut short
// by truncation, as a secret may contain the word "redacted".
inline void check_no_secret_run(std::string_view text, std::string_view secret, const char *where) {
    static constexpr std::string_view kMark = "[redacted]";
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t at = rest.find(kMark);
        std::string_view piece = rest.substr(0, at);
        if (at == std::string_view::npos) {
            std::size_t open = piece.rfind('[');
            if (open != std::string_view::npos && kMark.substr(0, piece.size() - open) == piece.substr(open))
                piece = piece.substr(0, open);
        }
        FZ_CHECK(!shares_secret_run(piece, secret),
                 std::string(where) + " contains 8 bytes of the secret " + show(secret) + ": " + show(text));
        rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + kMark.size());
    }
}

// JSON string-body forms a server could echo a secret in.
inline std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

inline std::string json_unicode_escape(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        char tmp[8];
        std::snprintf(tmp, sizeof tmp, "\\u%04X", c);
        out += tmp;
    }
    return out;
}

// Replaces the markers a seed or the fuzzer placed in a body: @S / @C (the
// secret / the code, JSON-escaped), @s / @c (the same as \u00XX escapes),
// @T (the secret's first 8 bytes: a secret cut off by the end of a string),
// @M (8 bytes from inside the secret, past its first: a slice of it).
inline std::string splice(std::string_view body, std::string_view secret, std::string_view code) {
    std::string out;
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); i++) {
        if (body[i] == '@' && i + 1 < body.size()) {
            char m = body[i + 1];
            if (m == 'S') {
                out += json_escape(secret);
                i++;
                continue;
            }
            if (m == 'C') {
                out += json_escape(code);
                i++;
                continue;
            }
            if (m == 's') {
                out += json_unicode_escape(secret);
                i++;
                continue;
            }
            if (m == 'c') {
                out += json_unicode_escape(code);
                i++;
                continue;
            }
            if (m == 'T') {
                out += json_escape(secret.substr(0, 8));
                i++;
                continue;
            }
            if (m == 'M') {
                out += json_escape(secret.substr(1, 8));
                i++;
                continue;
            }
        }
        out.push_back(body[i]);
    }
    return out;
}

// Nesting depth outside strings and whether a \u0000 escape occurs inside
// one, computed independently of the library's pre-scan.
struct JsonShape {
    int max_depth = 0;
    bool nul_escape = false;
    // An escape JSON does not have: '\' followed by anything but one of
    // "\/bfnrtu, or \u not followed by four hex digits (cJSON decodes
    // such a \u as U+0000 and silently truncates the string there).
    bool bad_escape = false;
};

inline bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

inline JsonShape json_shape(std::string_view t) {
    JsonShape r;
    int depth = 0;
    bool in_str = false;
    for (std::size_t i = 0; i < t.size(); i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\' && i + 1 < t.size()) {
                char n = t[i + 1];
                if (n == 'u') {
                    std::string_view hex = t.substr(i + 2, 4);
                    if (hex == "0000") r.nul_escape = true;
                    bool ok = hex.size() == 4;
                    for (char h : hex) ok = ok && is_hex(h);
                    if (!ok) r.bad_escape = true;
                } else if (!std::strchr("\"\\/bfnrt", n) || n == '\0') {
                    r.bad_escape = true;
                }
                i++;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > r.max_depth) r.max_depth = depth;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return r;
}

// LF_FUZZ_SKIP_KNOWN=1 turns off the checks for library bugs already
// reported and still open (listed in docs/TESTING.md), so that a long run
// can explore past them. ctest never sets it.
inline bool skip_known() {
    static const bool on = [] {
        const char *v = std::getenv("LF_FUZZ_SKIP_KNOWN");
        return v && *v == '1';
    }();
    return on;
}

// Whether a member reports errors as the contract reads it: `error` when
// not null; `errors` when neither null nor an empty array.
inline bool reports_error(const cJSON *error, const cJSON *errors) {
    bool e1 = error && !cJSON_IsNull(error);
    bool e2 = errors && !cJSON_IsNull(errors) && !(cJSON_IsArray(errors) && cJSON_GetArraySize(errors) == 0);
    return e1 || e2;
}

// Leading decimal number of at most `digits` digits, or `dflt`.
inline long leading_number(std::string_view &s, int digits, long dflt) {
    long v = 0;
    int n = 0;
    while (n < digits && !s.empty() && s.front() >= '0' && s.front() <= '9') {
        v = v * 10 + (s.front() - '0');
        s.remove_prefix(1);
        n++;
    }
    return n ? v : dflt;
}

}  // namespace fz

namespace fz {

// The input layout of the server-response targets:
//   "STATUS [RETRY [SECRET [CODE]]]\n" BODY
// STATUS: up to 3 digits (default 200); RETRY: up to 4 digits, clamped to
// [0, 3600] as the transport would; SECRET and CODE: used when they have a
// realistic shape (see realistic_secret), else fixed canaries. BODY gets the
// @S/@C/@s/@c/@T/@M markers replaced (see splice).
struct ServerInput {
    long status = 200;
    long retry = 0;
    std::string secret = "Sx9secretCANARYq7Z";
    std::string code = "Cd0codeCANARYw3K";
    std::string body;
};

inline ServerInput server_input(std::string_view data) {
    ServerInput in;
    std::size_t nl = data.find('\n');
    std::string_view ctl = nl == std::string_view::npos ? std::string_view() : data.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? data : data.substr(nl + 1);
    auto parts = split(ctl, ' ', 4);
    if (!parts.empty()) {
        std::string_view p = parts[0];
        in.status = leading_number(p, 3, 200);
    }
    if (parts.size() > 1) {
        std::string_view p = parts[1];
        long r = leading_number(p, 4, 0);
        in.retry = r > 3600 ? 3600 : r;
    }
    if (parts.size() > 2 && realistic_secret(parts[2])) in.secret.assign(parts[2]);
    if (parts.size() > 3 && realistic_secret(parts[3])) in.code.assign(parts[3]);
    in.body = splice(body, in.secret, in.code);
    return in;
}

}  // namespace fz
