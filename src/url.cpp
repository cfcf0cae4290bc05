#include "url.hpp"

#include <cstring>
#include <strings.h>

#include <arpa/inet.h>
#include <curl/curl.h>

namespace lf {

namespace {
const char kHex[] = "0123456789ABCDEF";

int hex_value(unsigned char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RAII over libcurl's URL API; parts it hands out are released with it.
class CurlUrl {
public:
    CurlUrl() : h_(curl_url()) {}
    CurlUrl(const CurlUrl &) = delete;
    CurlUrl &operator=(const CurlUrl &) = delete;
    ~CurlUrl() {
        for (int i = 0; i < n_; i++) curl_free(parts_[i]);
        curl_url_cleanup(h_);
    }
    CURLU *handle() const noexcept { return h_; }
    // The part, or nullptr when absent; *oom is set on allocation failure.
    const char *get(CURLUPart part, bool *oom) {
        char *p = nullptr;
        CURLUcode rc = curl_url_get(h_, part, &p, 0);
        if (rc == CURLUE_OUT_OF_MEMORY) *oom = true;
        if (rc != CURLUE_OK || n_ == 4) {
            curl_free(p);
            return nullptr;
        }
        parts_[n_++] = p;
        return p;
    }

private:
    CURLU *h_;
    char *parts_[4] = {};
    int n_ = 0;
};

bool is_loopback_host(const char *host) noexcept {
    if (strcasecmp(host, "localhost") == 0) return true;
    if (std::strcmp(host, "[::1]") == 0) return true;
    unsigned char v4[4];
    if (inet_pton(AF_INET, host, v4) == 1) return v4[0] == 127;
    return false;
}
}  // namespace

// RFC 3986 unreserved characters: A-Z a-z 0-9 - . _ ~
constexpr struct UnreservedTable {
    bool v[256];
    constexpr UnreservedTable() : v() {
        for (int c = 0; c < 256; c++)
            v[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                   c == '_' || c == '~';
    }
} kUnreserved;

void put_encoded(OutBuf &out, std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t run = i;
        while (run < s.size() && kUnreserved.v[static_cast<unsigned char>(s[run])]) run++;
        if (run > i) {
            out.put(s.substr(i, run - i));
            i = run;
            continue;
        }
        auto c = static_cast<unsigned char>(s[i++]);
        char esc[3] = {'%', kHex[c >> 4], kHex[c & 15]};
        out.put(std::string_view(esc, 3));
    }
}

void append_encoded(String &out, std::string_view s) {
    for (unsigned char c : s) {
        if (kUnreserved.v[c]) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
}

bool form_decoded_length(std::string_view enc, std::size_t *len) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < enc.size(); i++, n++) {
        if (enc[i] != '%') continue;
        if (i + 2 >= enc.size()) return false;
        int hi = hex_value(static_cast<unsigned char>(enc[i + 1]));
        int lo = hex_value(static_cast<unsigned char>(enc[i + 2]));
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
        i += 2;
    }
    *len = n;
    return true;
}

void form_decode(std::string_view enc, char *out) noexcept {
    std::size_t o = 0;
    for (std::size_t i = 0; i < enc.size(); i++) {
        char c = enc[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            out[o++] = static_cast<char>(hex_value(static_cast<unsigned char>(enc[i + 1])) * 16 +
                                         hex_value(static_cast<unsigned char>(enc[i + 2])));
            i += 2;
        } else {
            out[o++] = c;
        }
    }
}

Status check_url(const char *url, const char *what, UrlFacts &facts, Error &e) {
    if (!url || !*url) return failf(e, Status::InvalidArgument, "%s is empty", what);
    for (const char *p = url; *p; p++) {
        auto c = static_cast<unsigned char>(*p);
        if (c <= 0x20 || c == 0x7F)
            return failf(e, Status::InvalidArgument, "%s contains a space or control character", what);
    }
    CurlUrl u;
    if (!u.handle()) throw std::bad_alloc();
    CURLUcode rc = curl_url_set(u.handle(), CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc == CURLUE_OUT_OF_MEMORY) throw std::bad_alloc();
    if (rc != CURLUE_OK)
        return failf(e, Status::InvalidArgument, "%s is not an absolute URL (%s)", what, curl_url_strerror(rc));
    bool oom = false;
    const char *scheme = u.get(CURLUPART_SCHEME, &oom);
    const char *host = u.get(CURLUPART_HOST, &oom);
    const char *user = u.get(CURLUPART_USER, &oom);
    const char *fragment = u.get(CURLUPART_FRAGMENT, &oom);
    if (oom) throw std::bad_alloc();
    if (!scheme) return failf(e, Status::InvalidArgument, "%s has no scheme", what);
    facts.https = strcasecmp(scheme, "https") == 0;
    if (!facts.https && strcasecmp(scheme, "http") != 0)
        return failf(e, Status::InsecureTransport, "%s must use https (scheme \"%s\" refused)", what, scheme);
    // libcurl tolerates "https:///path"; an authority must follow "//".
    const char *sep = std::strstr(url, "://");
    if (!sep || sep[3] == '/' || !host || !*host) return failf(e, Status::InvalidArgument, "%s has no host", what);
    if (user) return failf(e, Status::InvalidArgument, "%s must not contain user information", what);
    if (fragment) return failf(e, Status::InvalidArgument, "%s must not contain a fragment", what);
    facts.loopback = is_loopback_host(host);
    if (facts.https) return Status::Ok;
    if (!facts.loopback)
        return failf(e, Status::InsecureTransport, "%s must use https: plain http is allowed only to loopback hosts",
                     what);
    return Status::Ok;
}

}  // namespace lf
