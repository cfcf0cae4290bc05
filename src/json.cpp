#include "json.hpp"

#include <cctype>
#include <cstring>

#include <cjson/cJSON.h>

namespace lf {

namespace {

// Byte classes for the pre-scan; every other byte needs no look.
enum : unsigned char { kPlain = 0, kQuote, kBackslash, kOpen, kClose, kNul };
struct ScanTable {
    unsigned char cls[256] = {};
    constexpr ScanTable() {
        cls[static_cast<unsigned char>('"')] = kQuote;
        cls[static_cast<unsigned char>('\\')] = kBackslash;
        cls[static_cast<unsigned char>('{')] = kOpen;
        cls[static_cast<unsigned char>('[')] = kOpen;
        cls[static_cast<unsigned char>('}')] = kClose;
        cls[static_cast<unsigned char>(']')] = kClose;
        cls[0] = kNul;
    }
};
constexpr ScanTable kScan;

// One pass over the raw text: nesting depth outside strings, and \u0000
// inside them. The real parse comes after, from cJSON.
JsonError prescan(std::string_view t, int max_depth) noexcept {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < t.size(); i++) {
        unsigned char cls = kScan.cls[static_cast<unsigned char>(t[i])];
        if (cls == kPlain) continue;
        if (in_string) {
            if (cls == kBackslash) {
                if (i + 1 >= t.size()) return JsonError::Syntax;
                char esc = t[i + 1];
                if (esc == 'u') {
                    // cJSON is lenient with bad \u escapes; we are not.
                    if (i + 5 >= t.size()) return JsonError::Syntax;
                    for (std::size_t k = i + 2; k < i + 6; k++)
                        if (!std::isxdigit(static_cast<unsigned char>(t[k]))) return JsonError::Syntax;
                    if (t.compare(i + 2, 4, "0000") == 0) return JsonError::NulEscape;
                    i += 5;
                    continue;
                }
                if (esc == '\0' || !std::strchr("\"\\/bfnrt", esc)) return JsonError::Syntax;
                i++;
            } else if (cls == kQuote) {
                in_string = false;
            } else if (cls == kNul) {
                return JsonError::NulEscape;
            }
            continue;
        }
        if (cls == kQuote) {
            in_string = true;
        } else if (cls == kOpen) {
            if (++depth > max_depth) return JsonError::TooDeep;
        } else if (cls == kClose) {
            depth--;
        } else if (cls == kNul) {
            return JsonError::Syntax;
        }
    }
    return JsonError::None;
}

void wipe_strings(cJSON *v) noexcept {
    for (; v; v = v->next) {
        if (v->valuestring) wipe(v->valuestring, std::strlen(v->valuestring));
        if (v->string) wipe(v->string, std::strlen(v->string));
        if (v->child) wipe_strings(v->child);
    }
}

}  // namespace

Json::~Json() { wipe_and_delete(root_); }

void wipe_and_delete(cJSON *root) noexcept {
    if (!root) return;
    wipe_strings(root);
    cJSON_Delete(root);
}

Json Json::parse(std::string_view text, int max_depth, JsonError *err) {
    *err = prescan(text, max_depth);
    if (*err != JsonError::None) return Json();
    const char *end = nullptr;
    dep::take_failure();
    cJSON *root = cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, 0);
    if (!root) {
        if (dep::take_failure()) throw std::bad_alloc();
        *err = JsonError::Syntax;
        return Json();
    }
    Json doc(root);
    // Nothing but whitespace may follow the value.
    for (const char *p = end; p < text.data() + text.size(); p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            *err = JsonError::Syntax;
            return Json();
        }
    }
    return doc;
}

const cJSON *member(const cJSON *object, const char *name, int *count) noexcept {
    const cJSON *found = nullptr;
    int n = 0;
    if (object && cJSON_IsObject(object)) {
        for (const cJSON *c = object->child; c; c = c->next) {
            if (c->string && std::strcmp(c->string, name) == 0) {
                if (!found) found = c;
                n++;
            }
        }
    }
    if (count) *count = n;
    return found;
}

bool is_object(const cJSON *v) noexcept { return v && cJSON_IsObject(v); }

std::string_view string_value(const cJSON *v) noexcept {
    if (!v || !cJSON_IsString(v) || !v->valuestring) return {};
    return v->valuestring;
}

void print(const cJSON *v, String &out) {
    // cJSON escapes at most 6 bytes per input byte; measure generously, print
    // into our own (wiping) buffer, then trim.
    std::size_t estimate = 64;
    struct Walk {
        static std::size_t size(const cJSON *n) noexcept {
            std::size_t s = 0;
            for (; n; n = n->next) {
                s += 16;
                if (n->string) s += 6 * std::strlen(n->string) + 4;
                if (n->valuestring) s += 6 * std::strlen(n->valuestring) + 4;
                if (cJSON_IsNumber(n)) s += 64;
                if (n->child) s += size(n->child);
            }
            return s;
        }
    };
    estimate += Walk::size(v);
    if (estimate > 0x7fffffff) throw std::bad_alloc();
    out.assign(estimate, '\0');
    if (!cJSON_PrintPreallocated(const_cast<cJSON *>(v), &out[0], static_cast<int>(estimate), 0)) {
        throw std::bad_alloc();
    }
    out.resize(std::strlen(out.c_str()));
}

// The same escapes cJSON's printer uses: '"', '\\' and the control
// characters; every other byte (UTF-8 included) is copied as it is.
namespace {
struct JsonEscapeTable {
    unsigned char extra[256] = {};  // bytes added by escaping each byte
    constexpr JsonEscapeTable() {
        for (int c = 0; c < 0x20; c++) extra[c] = 5;  // \u00XX
        for (char c : {'"', '\\', '\b', '\f', '\n', '\r', '\t'}) extra[static_cast<unsigned char>(c)] = 1;
    }
};
constexpr JsonEscapeTable kJsonEscape;
}  // namespace

std::size_t json_string_size(std::string_view v) noexcept {
    std::size_t n = 2 + v.size();
    for (char c : v) n += kJsonEscape.extra[static_cast<unsigned char>(c)];
    return n;
}

char *write_json_string(char *dst, std::string_view v) noexcept {
    static const char hex[] = "0123456789abcdef";
    *dst++ = '"';
    std::size_t run = 0;  // start of the bytes copied as they are
    for (std::size_t i = 0; i < v.size(); i++) {
        unsigned char c = static_cast<unsigned char>(v[i]);
        if (!kJsonEscape.extra[c]) continue;
        std::memcpy(dst, v.data() + run, i - run);
        dst += i - run;
        run = i + 1;
        *dst++ = '\\';
        switch (c) {
        case '"':
            *dst++ = '"';
            break;
        case '\\':
            *dst++ = '\\';
            break;
        case '\b':
            *dst++ = 'b';
            break;
        case '\f':
            *dst++ = 'f';
            break;
        case '\n':
            *dst++ = 'n';
            break;
        case '\r':
            *dst++ = 'r';
            break;
        case '\t':
            *dst++ = 't';
            break;
        default:
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 15];
        }
    }
    if (v.size() > run) {  // (an empty view may have a null data())
        std::memcpy(dst, v.data() + run, v.size() - run);
        dst += v.size() - run;
    }
    *dst++ = '"';
    return dst;
}

cJSON *new_object() {
    cJSON *o = cJSON_CreateObject();
    if (!o) throw std::bad_alloc();
    return o;
}

}  // namespace lf
