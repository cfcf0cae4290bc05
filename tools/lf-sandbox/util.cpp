#include "util.hpp"

#include <lightfunnels/auth.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>
#include <new>
#include <stdexcept>

namespace sandbox {

std::string random_token(size_t nbytes) {
    std::vector<unsigned char> raw(nbytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
        throw std::runtime_error("the OpenSSL CSPRNG failed");
    std::string b64 = base64_encode(std::string(raw.begin(), raw.end()));
    OPENSSL_cleanse(raw.data(), raw.size());
    std::string out;
    out.reserve(b64.size());
    for (char c : b64) {
        if (c == '+')
            out += '-';
        else if (c == '/')
            out += '_';
        else if (c != '=')
            out += c;
    }
    OPENSSL_cleanse(&b64[0], b64.size());
    return out;
}

std::string sha256_hex(const std::string &s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 0xf];
    }
    return out;
}

bool secret_equal(const std::string &a, const std::string &b) {
    // Callers reject embedded NULs first, so c_str() is the whole value.
    return lf_state_equal(a.c_str(), b.c_str()) == 1;
}

std::string base64_encode(const std::string &raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(&out[0]),
                            reinterpret_cast<const unsigned char *>(raw.data()), static_cast<int>(raw.size()));
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
}

bool base64_decode(const std::string &b64, std::string &out) {
    out.clear();
    if (b64.size() % 4 != 0) return false;
    size_t pad = 0;
    for (size_t i = 0; i < b64.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(b64[i]);
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=') {
            if (i + 2 < b64.size()) return false;  // '=' only in the last two places
            ++pad;
        } else if (!alpha || pad > 0) {
            return false;
        }
    }
    if (b64.empty()) return true;
    std::string buf(b64.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(&buf[0]),
                            reinterpret_cast<const unsigned char *>(b64.data()), static_cast<int>(b64.size()));
    if (n < 0 || static_cast<size_t>(n) < pad) return false;
    buf.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts padding as zero bytes
    out.swap(buf);
    return true;
}

std::string pct_encode(const std::string &s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

std::string append_query(const std::string &uri, const std::vector<std::pair<std::string, std::string>> &params) {
    std::string out = uri;
    bool need_sep = true;
    char sep = '?';
    if (uri.find('?') != std::string::npos) {
        sep = '&';
        if (!uri.empty() && (uri.back() == '?' || uri.back() == '&')) need_sep = false;
    }
    for (const auto &p : params) {
        if (need_sep) out += sep;
        out += pct_encode(p.first);
        out += '=';
        out += pct_encode(p.second);
        need_sep = true;
        sep = '&';
    }
    return out;
}

std::string html_escape(const std::string &s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string log_safe(const std::string &s, size_t max) {
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        out += (c >= 0x21 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    return out;
}

bool has_control(const std::string &s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

bool is_utf8(const std::string &s) {
    size_t i = 0, n = s.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len;
        unsigned long cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

bool is_loopback_host(const std::string &host) {
    if (host == "localhost") return true;
    unsigned char buf[16];
    if (inet_pton(AF_INET, host.c_str(), buf) == 1) return buf[0] == 127;
    if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return std::memcmp(buf, one, 16) == 0;
    }
    return false;
}

// ---- JSON -----------------------------------------------------------------

// cJSON turns both "\u0000" and a malformed "\uZZZZ" into a NUL inside the
// string, which then reads as a truncated C string ("secret\uZZZZjunk" would
// compare equal to "secret"). Refuse such bodies, and raw NULs, up front.
static bool has_nul_or_bad_escape(const std::string &body) {
    for (size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\0') return true;
        if (body[i] == '\\' && i + 1 < body.size()) {
            if (body[i + 1] == 'u') {
                if (i + 6 > body.size()) return true;
                for (size_t k = i + 2; k < i + 6; ++k)
                    if (!std::isxdigit(static_cast<unsigned char>(body[k]))) return true;
                if (body.compare(i + 2, 4, "0000") == 0) return true;
            }
            ++i;  // skip the escaped character (handles "\\u0000" correctly)
        }
    }
    return false;
}

Json parse_json_object(const std::string &body, std::string &why) {
    if (has_nul_or_bad_escape(body)) {
        why = "the body contains a NUL character or a malformed \\u escape";
        return nullptr;
    }
    const char *end = nullptr;
    Json root(cJSON_ParseWithLengthOpts(body.data(), body.size(), &end, 0));
    if (!root) {
        why = "the body is not valid JSON";
        return nullptr;
    }
    for (const char *p = end; p && p < body.data() + body.size(); ++p) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
            why = "the body has data after the JSON value";
            return nullptr;
        }
    }
    if (!cJSON_IsObject(root.get())) {
        why = "the body is not a JSON object";
        return nullptr;
    }
    for (const cJSON *a = root->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && std::strcmp(a->string, b->string) == 0) {
                why = "the body repeats a key";
                return nullptr;
            }
    return root;
}

Field json_string(const cJSON *obj, const char *name, std::string &out) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!item || cJSON_IsNull(item)) return Field::missing;
    if (!cJSON_IsString(item) || !item->valuestring) return Field::wrong_type;
    out = item->valuestring;
    return Field::ok;
}

std::string json_print(const cJSON *obj) {
    char *s = cJSON_PrintUnformatted(obj);
    if (!s) throw std::bad_alloc();
    std::string out(s);
    cJSON_free(s);
    return out;
}

static Json new_object() {
    Json o(cJSON_CreateObject());
    if (!o) throw std::bad_alloc();
    return o;
}

std::string oauth_error_json(const char *error, const std::string &description) {
    Json o = new_object();
    if (!cJSON_AddStringToObject(o.get(), "error", error) ||
        !cJSON_AddStringToObject(o.get(), "error_description", description.c_str()))
        throw std::bad_alloc();
    return json_print(o.get());
}

std::string graphql_error_json(const std::string &message, const char *name, const char *key, const std::string &path) {
    Json o = new_object();
    cJSON *errors = cJSON_AddArrayToObject(o.get(), "errors");
    cJSON *e = cJSON_CreateObject();
    if (!errors || !e) throw std::bad_alloc();
    cJSON_AddItemToArray(errors, e);
    if (!cJSON_AddStringToObject(e, "message", message.c_str()) || !cJSON_AddStringToObject(e, "name", name) ||
        !cJSON_AddStringToObject(e, "key", key))
        throw std::bad_alloc();
    cJSON *where = cJSON_AddArrayToObject(e, "path");
    cJSON *step = path.empty() ? nullptr : cJSON_CreateString(path.c_str());
    if (!where || (!path.empty() && !step)) throw std::bad_alloc();
    if (step) cJSON_AddItemToArray(where, step);
    return json_print(o.get());
}

}  // namespace sandbox
