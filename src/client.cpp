#include "client.hpp"

#include <cstring>

#include "buffer.hpp"
#include "json.hpp"
#include "url.hpp"

namespace lf {

namespace {

const char kDefaultAuthorize[] = "https://app.lightfunnels.com/admin/oauth";
const char kDefaultTokenJson[] = "https://api.lightfunnels.com/oauth/access_token";
const char kDefaultTokenBasic[] = "https://api.lightfunnels.com/api/access_token";
const char kDefaultApi[] = "https://services.lightfunnels.com/api/v2";
const char kDefaultUserAgent[] = "lightfunnels-auth/" LF_VERSION_TEXT;
// The transport turns on libcurl's content decoding (CURLOPT_ACCEPT_ENCODING),
// so an answer a server compresses anyway is still read. The header that
// option would add is removed here: the answers are a few hundred bytes, not
// worth compressing, and libcurl 7.88 formats that header byte by byte for
// every request (about 9,000 instructions of a warm exchange).
const char kNoAcceptEncoding[] = "Accept-Encoding:";
constexpr std::string_view kBasicPrefix = "Authorization: Basic ";

constexpr std::size_t kMaxConfigString = 8192;

TransportConfig transport_config(const ClientOptions &o) {
    TransportConfig t;
    t.ca_file = o.ca_file;
    t.connect_timeout_ms = o.connect_timeout_ms;
    t.stall_timeout_ms = o.stall_timeout_ms;
    t.max_response_bytes = o.max_response_bytes;
    return t;
}

bool too_long(const char *s) noexcept { return s && std::strlen(s) > kMaxConfigString; }

char *header_text(const char *s) noexcept { return const_cast<char *>(s); }

}  // namespace

Status Client::validate(const ClientOptions &o, Error &e) {
    if (!o.client_id || !*o.client_id) return fail(e, Status::InvalidArgument, "client_id is required");
    if (!o.client_secret || !*o.client_secret)
        return fail(e, Status::InvalidArgument, "client_secret is required");
    const char *strings[] = {o.client_id, o.client_secret, o.previous_client_secret, o.authorize_url,
                             o.token_url, o.api_url, o.ca_file, o.user_agent};
    for (const char *s : strings)
        if (too_long(s)) return fail(e, Status::InvalidArgument, "a configuration string is longer than 8192 bytes");
    if (o.client_auth != ClientAuth::JsonBody && o.client_auth != ClientAuth::Basic &&
        o.client_auth != ClientAuth::Auto)
        return fail(e, Status::InvalidArgument, "client_auth is not a known lf_client_auth value");
    if (o.client_auth == ClientAuth::Basic && std::strchr(o.client_id, ':'))
        return fail(e, Status::InvalidArgument, "client_id contains ':', which HTTP Basic cannot carry");
    if (o.connect_timeout_ms <= 0 || o.timeout_ms <= 0 || o.stall_timeout_ms <= 0)
        return fail(e, Status::InvalidArgument, "timeouts must be greater than zero");
    if (o.max_response_bytes == 0) return fail(e, Status::InvalidArgument, "max_response_bytes must be greater than zero");
    if (o.user_agent)
        for (const char *p = o.user_agent; *p; p++)
            if (static_cast<unsigned char>(*p) < 0x20 || *p == 0x7F)
                return fail(e, Status::InvalidArgument, "user_agent contains a control character");
    if (o.redirect_uri_count == 0 || !o.redirect_uris)
        return fail(e, Status::InvalidArgument, "at least one redirect URI is required");
    UrlFacts facts;
    for (std::size_t i = 0; i < o.redirect_uri_count; i++) {
        if (!o.redirect_uris[i]) return fail(e, Status::InvalidArgument, "a redirect URI is NULL");
        if (too_long(o.redirect_uris[i])) return fail(e, Status::InvalidArgument, "a redirect URI is too long");
        Status s = check_url(o.redirect_uris[i], "redirect URI", false, facts, e);
        if (s != Status::Ok) return s;
    }
    struct {
        const char *url;
        const char *what;
    } endpoints[] = {{o.authorize_url, "authorize_url"}, {o.token_url, "token_url"}, {o.api_url, "api_url"}};
    for (const auto &ep : endpoints) {
        if (!ep.url) continue;
        Status s = check_url(ep.url, ep.what, false, facts, e);
        if (s != Status::Ok) return s;
    }
    return Status::Ok;
}

Client::Client(const ClientOptions &o)
    : client_id_(o.client_id),
      secret_(o.client_secret),
      auth_(o.client_auth),
      basic_possible_(std::strchr(o.client_id, ':') == nullptr),
      timeout_ms_(o.timeout_ms),
      token_answer_max_(o.max_response_bytes < kMaxTokenAnswer ? o.max_response_bytes : kMaxTokenAnswer),
      transport_(transport_config(o)) {
    if (o.previous_client_secret) previous_secret_.str().assign(o.previous_client_secret);

    Error ignored;  // validate() has accepted every URL already
    UrlFacts facts;
    redirect_uris_.reserve(o.redirect_uri_count);
    for (std::size_t i = 0; i < o.redirect_uri_count; i++) {
        RedirectUri r;
        r.raw.assign(o.redirect_uris[i]);
        append_encoded(r.encoded, r.raw);
        redirect_uris_.push_back(std::move(r));
    }

    const char *authorize = o.authorize_url ? o.authorize_url : kDefaultAuthorize;
    consent_prefix_.assign(authorize);
    char last = consent_prefix_.back();
    if (std::strchr(authorize, '?'))
        consent_prefix_.append(last == '?' || last == '&' ? "" : "&");
    else
        consent_prefix_.push_back('?');
    consent_prefix_.append("client_id=");
    append_encoded(consent_prefix_, client_id_);
    consent_prefix_.append("&redirect_uri=");

    auto set_endpoint = [&](Endpoint &ep, const char *url) {
        ep.url.assign(url);
        check_url(url, "endpoint", false, facts, ignored);
        ep.allow_http = !facts.https;
        ep.loopback = facts.loopback;
    };
    set_endpoint(token_json_, o.token_url ? o.token_url : kDefaultTokenJson);
    set_endpoint(token_basic_, o.token_url ? o.token_url : kDefaultTokenBasic);
    set_endpoint(api_, o.api_url ? o.api_url : kDefaultApi);

    if (!mac_.init(secret_.view())) throw std::bad_alloc();
    if (!previous_secret_.empty() && !previous_mac_.init(previous_secret_.view())) throw std::bad_alloc();

    // Basic credentials: base64(id ":" secret) exactly, with no URL-escaping
    // first (escaping would corrupt secrets containing '=', '/', '!').
    if (basic_possible_) {
        SecretString pair;
        pair.str().reserve(client_id_.size() + 1 + secret_.size());
        pair.str().append(client_id_).append(1, ':').append(secret_.str());
        String &h = basic_header_.str();
        h.assign(kBasicPrefix.data(), kBasicPrefix.size());
        std::size_t prefix = h.size();
        h.resize(prefix + base64_len(pair.size()) + 1);
        std::size_t n = base64_encode(reinterpret_cast<const unsigned char *>(pair.str().data()), pair.size(),
                                      &h[prefix]);
        h.resize(prefix + n);
    }

    // The JSON body up to the code, escaped once: per exchange only the code
    // is (exchange.cpp).
    if (auth_ != ClientAuth::Basic) {
        static constexpr std::string_view k1 = "{\"client_id\":", k2 = ",\"client_secret\":", k3 = ",\"code\":";
        String &b = json_prefix_.str();
        b.resize(k1.size() + json_string_size(client_id_) + k2.size() + json_string_size(secret_.view()) + k3.size());
        char *p = &b[0];
        auto put = [&p](std::string_view t) {
            std::memcpy(p, t.data(), t.size());
            p += t.size();
        };
        put(k1);
        p = write_json_string(p, client_id_);
        put(k2);
        p = write_json_string(p, secret_.view());
        put(k3);
    }

    // Header lists live in the object: libcurl only reads them, and nothing
    // secret is ever copied into libcurl-owned list memory.
    // The User-Agent is a fixed line here rather than CURLOPT_USERAGENT,
    // which libcurl would format again for every request.
    user_agent_header_.assign("User-Agent: ").append(o.user_agent ? o.user_agent : kDefaultUserAgent);
    json_headers_[0] = {&user_agent_header_[0], &json_headers_[1]};
    json_headers_[1] = {header_text("Content-Type: application/json"), &json_headers_[2]};
    json_headers_[2] = {header_text("Accept: application/json"), &json_headers_[3]};
    json_headers_[3] = {header_text("Expect:"), &json_headers_[4]};
    json_headers_[4] = {header_text(kNoAcceptEncoding), nullptr};
    form_headers_[0] = {&basic_header_.str()[0], &form_headers_[1]};
    form_headers_[1] = {&user_agent_header_[0], &form_headers_[2]};
    form_headers_[2] = {header_text("Content-Type: application/x-www-form-urlencoded"), &form_headers_[3]};
    form_headers_[3] = {header_text("Accept: application/json"), &form_headers_[4]};
    form_headers_[4] = {header_text("Expect:"), &form_headers_[5]};
    form_headers_[5] = {header_text(kNoAcceptEncoding), nullptr};

    // AUTO tries the newer Basic style first, then the documented JSON body.
    if (basic_possible_) auto_attempts_[auto_attempt_count_++] = {ClientAuth::Basic, &token_basic_};
    auto_attempts_[auto_attempt_count_++] = {ClientAuth::JsonBody, &token_json_};
}

std::string_view Client::basic_credentials() const noexcept {
    std::string_view h = basic_header_.view();
    return h.size() > kBasicPrefix.size() ? h.substr(kBasicPrefix.size()) : std::string_view();
}

long Client::call_timeout(const CallOptions &opts) const noexcept {
    return opts.timeout_ms > 0 && opts.timeout_ms < timeout_ms_ ? opts.timeout_ms : timeout_ms_;
}

// ---- consent URL --------------------------------------------------------------

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool valid_scope(std::string_view s) noexcept {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return !s.empty();
}

// Calls f(scope) for each scope in list order, trimmed, empties skipped.
template <class F>
void each_scope(std::string_view list, F f) {
    while (true) {
        std::size_t comma = list.find(',');
        std::string_view item = trim(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

constexpr std::size_t kMaxScopes = 4096;

// Writes the normalised scope list; false when a scope is malformed or none
// remains.
bool write_scopes(OutBuf &out, std::string_view list) noexcept {
    if (list.size() > kMaxScopes) return false;
    bool ok = true;
    std::size_t written = 0;
    std::size_t index = 0;
    each_scope(list, [&](std::string_view s) {
        std::size_t my_index = index++;
        if (!valid_scope(s)) {
            ok = false;
            return;
        }
        // A duplicate of an earlier scope is dropped (first one keeps its place).
        bool duplicate = false;
        std::size_t j = 0;
        each_scope(list, [&](std::string_view earlier) {
            if (j++ < my_index && earlier == s) duplicate = true;
        });
        if (duplicate) return;
        if (written++) out.put(',');
        out.put(s);
    });
    return ok && written > 0;
}

}  // namespace

Status Client::consent_url(const char *redirect_uri, const char *scopes, const char *state, char *buf,
                           std::size_t size, std::size_t *needed) const noexcept {
    if (!buf && size) return Status::InvalidArgument;
    if (!redirect_uri || !scopes) return blank(buf, size, Status::InvalidArgument);
    if (state && !*state) return blank(buf, size, Status::InvalidArgument);
    std::size_t len = std::strlen(redirect_uri);
    const RedirectUri *match = nullptr;
    for (const RedirectUri &r : redirect_uris_) {
        if (r.raw.size() == len && std::memcmp(r.raw.data(), redirect_uri, len) == 0) {
            match = &r;
            break;
        }
    }
    if (!match) return blank(buf, size, Status::RedirectUriNotAllowed);

    OutBuf out(buf, size);
    out.put(consent_prefix_);
    out.put(match->encoded);
    out.put("&scope=");
    if (!write_scopes(out, scopes)) return blank(buf, size, Status::InvalidArgument);
    if (state) {
        out.put("&state=");
        put_encoded(out, state);
    }
    if (needed) *needed = out.needed();
    return out.finish() ? Status::Ok : Status::BufferTooSmall;
}

}  // namespace lf
