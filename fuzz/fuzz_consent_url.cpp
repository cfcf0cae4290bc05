// F4: consent-URL building from arbitrary inputs, decoded back with a
// strict decoder of our own.
//
// Input: CLIENT_ID '\0' PATH '\0' SCOPES [ '\0' STATE [ '\0' FLAGS ] ]
//   redirect URI = scheme://host/PATH (PATH without spaces, controls, '#');
//   FLAGS byte: bits 0-1 host, bit 2 plain http for loopback hosts,
//   bits 3-4 authorize_url. No STATE field: state = NULL.
//
// Properties: status as predicted by a reference scope normaliser; on
// LF_OK the URL is <authorize_url><?|&>client_id=..&redirect_uri=..&scope=..
// [&state=..] with nothing else, every value canonically percent-encoded
// (only A-Z a-z 0-9 - . _ ~ unescaped, %XX upper-case, and only for bytes
// that needed it), decoding to exactly client_id, the redirect URI and the
// state; scope equal to the normalised list; only URL-safe ASCII; size
// query, exact and one-short buffers agree; a redirect URI differing by one
// byte is refused with an empty buffer.
#include <lightfunnels/auth.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_common.hpp"

namespace {

const char *const kHosts[] = {"app.example.test", "127.0.0.1:8443", "localhost:3000", "[::1]:9000"};
const char *const kAuthorize[] = {nullptr, "https://auth.example.test/oauth/authorize",
                                  "https://auth.example.test/authorize?tenant=a%20b", "http://127.0.0.1:8080/oauth?"};
const char kDefaultAuthorize[] = "https://app.lightfunnels.com/admin/oauth";

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

// Canonical percent-decoding: fails on anything a correct encoder of the
// documented alphabet would not have produced.
bool strict_decode(std::string_view in, std::string &out) {
    static const char hex[] = "0123456789ABCDEF";
    out.clear();
    for (std::size_t i = 0; i < in.size(); i++) {
        unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const char *h = std::strchr(hex, in[i + 1]);
            const char *l = std::strchr(hex, in[i + 2]);
            if (!h || !l || !*h || !*l) return false;
            unsigned char v = static_cast<unsigned char>((h - hex) * 16 + (l - hex));
            if (unreserved(v)) return false;  // escaped without need
            out.push_back(static_cast<char>(v));
            i += 2;
        } else if (unreserved(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            return false;
        }
    }
    return true;
}

// The documented normalisation; false when a scope is bad or none remains.
bool normalise_scopes(std::string_view list, std::string &out) {
    std::vector<std::string> seen;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (true) {
        std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && space(item.front())) item.remove_prefix(1);
        while (!item.empty() && space(item.back())) item.remove_suffix(1);
        if (!item.empty()) {
            for (char c : item)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
            bool dup = false;
            for (const auto &s : seen) dup = dup || s == item;
            if (!dup) seen.emplace_back(item);
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    out.clear();
    for (std::size_t i = 0; i < seen.size(); i++) out += (i ? "," : "") + seen[i];
    return !seen.empty();
}

struct Built {
    lf_status status;
    std::string url;
};

// One call with an exact-size heap buffer pre-filled with 'X'.
Built build(lf_auth *a, const std::string &uri, const std::string &scopes, const char *state, std::size_t size,
            std::size_t *needed) {
    std::unique_ptr<char[]> buf(size ? new char[size] : nullptr);
    if (size) std::memset(buf.get(), 'X', size);
    lf_status st = lf_consent_url(a, uri.c_str(), scopes.c_str(), state, buf.get(), size, needed);
    Built b{st, {}};
    if (st == LF_OK) {
        FZ_CHECK(std::memchr(buf.get(), '\0', size) != nullptr, "URL not NUL-terminated within size");
        b.url.assign(buf.get());
    } else if (size) {
        FZ_CHECK(buf[0] == '\0', std::string("buffer not emptied on ") + lf_status_name(st));
    }
    return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    auto f = fz::split(std::string_view(reinterpret_cast<const char *>(data), size), '\0', 5);
    if (f.size() < 3) return 0;
    std::string client_id = f[0].empty() ? "fuzz-client" : std::string(f[0]);
    std::string path;
    bool safe_path = true;  // only characters every URL parser accepts in a path
    for (unsigned char c : f[1]) {
        if (c <= 0x20 || c == 0x7F || c == '#') continue;
        safe_path = safe_path && (unreserved(c) || std::strchr("/?=&", c));
        path.push_back(static_cast<char>(c));
    }
    std::string scopes(f[2]);
    std::string state_storage;
    const char *state = nullptr;
    if (f.size() > 3) {
        state_storage.assign(f[3]);
        state = state_storage.c_str();
    }
    unsigned flags = f.size() > 4 && !f[4].empty() ? static_cast<unsigned char>(f[4][0]) : 0;
    unsigned host_i = flags & 3;
    bool http = (flags & 4) && host_i != 0;
    const char *authorize = kAuthorize[(flags >> 3) & 3];
    std::string uri = std::string(http ? "http://" : "https://") + kHosts[host_i] + "/" + path;

    // lf_auth is immutable: keep the last one while client_id, URI and
    // authorize URL stay the same (mutations mostly touch scopes and state).
    static std::string c_id, c_uri;
    static const char *c_authorize = nullptr;
    static lf_auth *cached = nullptr;
    static const char *const other_uri = "https://other.example.test/cb";
    if (!cached || c_id != client_id || c_uri != uri || c_authorize != authorize) {
        lf_auth_free(cached);
        cached = nullptr;
        const char *uris[] = {other_uri, uri.c_str()};
        lf_auth_config cfg;
        lf_auth_config_init(&cfg, sizeof cfg);
        cfg.client_id = client_id.c_str();
        cfg.client_secret = "Sx9secretCANARYq7Z";
        cfg.redirect_uris = uris;
        cfg.redirect_uri_count = 2;
        cfg.authorize_url = authorize;
        // Any client id, ':' included: HTTP Basic (the default) refuses a ':'
        // it cannot carry, the JSON body does not, and the consent URL must
        // encode it either way.
        cfg.client_auth = LF_CLIENT_AUTH_JSON_BODY;
        lf_error err;
        lf_status st = lf_auth_new(&cfg, &cached, &err);
        if (st != LF_OK) {
            FZ_CHECK(cached == nullptr, "*out not NULL on failure");
            FZ_CHECK(client_id.size() > 8192 || uri.size() > 8192 || !safe_path,
                     std::string("valid configuration refused: ") + lf_status_name(st) + " " + err.message + " uri " +
                         fz::show(uri));
            return 0;
        }
        c_id = client_id;
        c_uri = uri;
        c_authorize = authorize;
    }
    lf_auth *a = cached;

    std::string want_scope;
    bool scopes_ok = normalise_scopes(scopes, want_scope);
    bool state_ok = !state || *state;
    lf_status expect = scopes_ok && state_ok ? LF_OK : LF_E_INVALID_ARGUMENT;

    std::size_t needed = 0;
    Built q = build(a, uri, scopes, state, 0, &needed);
    // A generous buffer (the size query's answer plus slack).
    std::size_t generous = (q.status == LF_E_BUFFER_TOO_SMALL ? needed : 0) + 17;
    Built big = build(a, uri, scopes, state, generous, &needed);
    // (The implementation also refuses a scope list over 4096 bytes, which the
    // header does not document; that is tolerated here.)
    FZ_CHECK(big.status == expect || (scopes.size() > 4096 && big.status == LF_E_INVALID_ARGUMENT),
             std::string("status ") + lf_status_name(big.status) + ", expected " + lf_status_name(expect) +
                 " for scopes " + fz::show(scopes) + (state ? " state " + fz::show(state) : " no state"));
    if (big.status == LF_OK) {
        FZ_CHECK(q.status == LF_E_BUFFER_TOO_SMALL, "size query did not say too small");
        FZ_CHECK(needed == big.url.size() + 1, "needed != strlen + 1");
        std::size_t n2 = 0;
        Built exact = build(a, uri, scopes, state, needed, &n2);
        FZ_CHECK(exact.status == LF_OK && exact.url == big.url && n2 == needed, "exact-size buffer differs");
        Built shrt = build(a, uri, scopes, state, needed - 1, &n2);
        FZ_CHECK(shrt.status == LF_E_BUFFER_TOO_SMALL && n2 == needed, "one-short buffer not too small");

        // ---- decode ----------------------------------------------------------
        const std::string &url = big.url;
        std::string base = authorize ? authorize : kDefaultAuthorize;
        std::string prefix = base;
        if (base.find('?') == std::string::npos)
            prefix += '?';
        else if (base.back() != '?' && base.back() != '&')
            prefix += '&';
        FZ_CHECK(url.compare(0, prefix.size(), prefix) == 0, "URL does not start with " + prefix + ": " + url);
        std::string_view rest = std::string_view(url).substr(prefix.size());
        for (unsigned char c : rest)
            FZ_CHECK(unreserved(c) || c == '%' || c == '&' || c == '=' || c == ',',
                     "unsafe character in the query: " + fz::show(url));
        auto params = fz::split(rest, '&', 100);
        const char *names[] = {"client_id", "redirect_uri", "scope", "state"};
        std::size_t want_n = state ? 4 : 3;
        FZ_CHECK(params.size() == want_n, "parameter count " + std::to_string(params.size()) + " in " + url);
        std::string values[4];
        for (std::size_t i = 0; i < want_n; i++) {
            std::string_view p = params[i];
            std::size_t eq = p.find('=');
            FZ_CHECK(eq != std::string_view::npos && p.substr(0, eq) == names[i],
                     "parameter " + std::string(names[i]) + " missing in order: " + url);
            std::string_view v = p.substr(eq + 1);
            if (i == 2) {
                values[i].assign(v);
            } else {
                FZ_CHECK(strict_decode(v, values[i]),
                         std::string("non-canonical encoding of ") + names[i] + ": " + url);
            }
        }
        FZ_CHECK(values[0] == client_id, "client_id does not round-trip");
        FZ_CHECK(values[1] == uri, "redirect_uri does not round-trip: " + fz::show(values[1]));
        FZ_CHECK(values[2] == want_scope, "scope " + values[2] + " != normalised " + want_scope);
        if (state) FZ_CHECK(values[3] == state, "state does not round-trip");
    } else {
        FZ_CHECK(q.status == big.status, "size query status differs from the real call");
    }

    // A redirect URI one byte off is never allowed.
    std::string off = uri + "x";
    std::size_t n3 = 0;
    Built bad = build(a, off, "read_orders", nullptr, 256, &n3);
    FZ_CHECK(bad.status == LF_E_REDIRECT_URI_NOT_ALLOWED,
             std::string("off-by-one URI gave ") + lf_status_name(bad.status));
    if (uri.size() > 9) {
        std::string cut = uri.substr(0, uri.size() - 1);
        if (cut != other_uri) {
            bad = build(a, cut, "read_orders", nullptr, 256, &n3);
            FZ_CHECK(bad.status == LF_E_REDIRECT_URI_NOT_ALLOWED, "truncated URI allowed");
        }
    }
    return 0;
}
