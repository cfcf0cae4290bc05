#include "client.hpp"

#include <cstring>

#include "json.hpp"
#include "url.hpp"

namespace lf {

namespace {

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

TransportConfig transport_config(const ClientOptions &o, const Tracer *tracer) {
    TransportConfig t;
    t.tracer = tracer;
    t.ca_file = o.ca_file;
    t.connect_timeout_ms = o.connect_timeout_ms;
    t.stall_timeout_ms = o.stall_timeout_ms;
    t.max_response_bytes = o.max_response_bytes;
    return t;
}

bool too_long(const char *s) noexcept { return s && std::strlen(s) > kMaxConfigString; }

Status check_settings(const ClientOptions &o, Error &e) {
    if (!o.client_id || !*o.client_id) return fail(e, Status::InvalidArgument, "client_id is required");
    if (!o.client_secret || !*o.client_secret) return fail(e, Status::InvalidArgument, "client_secret is required");
    const char *strings[] = {o.client_id,     o.client_secret, o.previous_client_secret,
                             o.authorize_url, o.token_url,     o.api_url,
                             o.ca_file,       o.user_agent};
    for (const char *s : strings)
        if (too_long(s)) return fail(e, Status::InvalidArgument, "a configuration string is longer than 8192 bytes");
    if (o.client_auth != ClientAuth::JsonBody && o.client_auth != ClientAuth::Basic &&
        o.client_auth != ClientAuth::Auto)
        return fail(e, Status::InvalidArgument, "client_auth is not a known lf_client_auth value");
    if (o.client_auth == ClientAuth::Basic && std::strchr(o.client_id, ':'))
        return fail(e, Status::InvalidArgument, "client_id contains ':', which HTTP Basic cannot carry");
    if (o.connect_timeout_ms <= 0 || o.timeout_ms <= 0 || o.stall_timeout_ms <= 0)
        return fail(e, Status::InvalidArgument, "timeouts must be greater than zero");
    if (o.max_response_bytes == 0)
        return fail(e, Status::InvalidArgument, "max_response_bytes must be greater than zero");
    if (o.user_agent)
        for (const char *p = o.user_agent; *p; p++)
            if (static_cast<unsigned char>(*p) < 0x20 || *p == 0x7F)
                return fail(e, Status::InvalidArgument, "user_agent contains a control character");
    return Status::Ok;
}

Status check_redirect_uris(const ClientOptions &o, Error &e) {
    // No redirect URI at all is a handle for webhooks and the API only.
    if (o.redirect_uri_count && !o.redirect_uris)
        return fail(e, Status::InvalidArgument, "redirect_uris is NULL but redirect_uri_count is not 0");
    UrlFacts facts;
    for (std::size_t i = 0; i < o.redirect_uri_count; i++) {
        if (!o.redirect_uris[i]) return fail(e, Status::InvalidArgument, "a redirect URI is NULL");
        if (too_long(o.redirect_uris[i])) return fail(e, Status::InvalidArgument, "a redirect URI is too long");
        Status s = check_url(o.redirect_uris[i], "redirect URI", facts, e);
        if (s != Status::Ok) return s;
    }
    return Status::Ok;
}

Status check_endpoints(const ClientOptions &o, Error &e) {
    struct {
        const char *url;
        const char *what;
    } endpoints[] = {{o.authorize_url, "authorize_url"}, {o.token_url, "token_url"}, {o.api_url, "api_url"}};
    UrlFacts facts;
    for (const auto &ep : endpoints) {
        if (!ep.url) continue;
        Status s = check_url(ep.url, ep.what, facts, e);
        if (s != Status::Ok) return s;
    }
    return Status::Ok;
}

}  // namespace

Status Client::validate(const ClientOptions &o, Error &e) {
    Status s = check_settings(o, e);
    if (s == Status::Ok) s = check_redirect_uris(o, e);
    if (s == Status::Ok) s = check_endpoints(o, e);
    return s;
}

Client::Client(const ClientOptions &o)
    : client_id_(o.client_id),
      secret_(o.client_secret),
      auth_(o.client_auth),
      basic_possible_(std::strchr(o.client_id, ':') == nullptr),
      timeout_ms_(o.timeout_ms),
      token_answer_max_(o.max_response_bytes < kMaxTokenAnswer ? o.max_response_bytes : kMaxTokenAnswer),
      tracer_(o.trace, o.trace_user),
      transport_(transport_config(o, &tracer_)) {
    init_consent(o);
    init_endpoints(o);
    init_secrets(o);
    build_basic_header();
    build_json_prefix();
    build_header_lists(o);
    plan_auto();
    Redactor r;
    r.add(secret_.view());
    r.add(previous_secret_.view());
    r.add(basic_credentials());
    tracer_.set_secrets(r);
}

void Client::init_endpoints(const ClientOptions &o) {
    Error ignored;  // validate() has accepted every URL already
    UrlFacts facts;
    auto set_endpoint = [&](Endpoint &ep, const char *url) {
        ep.url.assign(url);
        check_url(url, "endpoint", facts, ignored);
        ep.allow_http = !facts.https;
        ep.loopback = facts.loopback;
    };
    set_endpoint(token_json_, o.token_url ? o.token_url : kDefaultTokenJson);
    set_endpoint(token_basic_, o.token_url ? o.token_url : kDefaultTokenBasic);
    set_endpoint(api_, o.api_url ? o.api_url : kDefaultApi);
}

void Client::init_secrets(const ClientOptions &o) {
    if (o.previous_client_secret) previous_secret_.str().assign(o.previous_client_secret);
    if (!mac_.init(secret_.view())) throw std::bad_alloc();
    if (!previous_secret_.empty() && !previous_mac_.init(previous_secret_.view())) throw std::bad_alloc();
    if (!sealer_.init(client_id_, secret_.view(), previous_secret_.view())) throw std::bad_alloc();
}

// Basic credentials: base64(id ":" secret) exactly, with no URL-escaping
// first (escaping would corrupt secrets containing '=', '/', '!').
void Client::build_basic_header() {
    if (!basic_possible_) return;
    SecretString pair;
    pair.str().reserve(client_id_.size() + 1 + secret_.size());
    pair.str().append(client_id_).append(1, ':').append(secret_.str());
    String &h = basic_header_.str();
    h.assign(kBasicPrefix.data(), kBasicPrefix.size());
    std::size_t prefix = h.size();
    h.resize(prefix + base64_len(pair.size()) + 1);
    std::size_t n = base64_encode(reinterpret_cast<const unsigned char *>(pair.str().data()), pair.size(), &h[prefix]);
    h.resize(prefix + n);
}

// The JSON body up to the code, escaped once: per exchange only the code is
// (exchange.cpp).
void Client::build_json_prefix() {
    if (auth_ == ClientAuth::Basic) return;
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

// Built once per handle; libcurl only reads them. The User-Agent is a fixed
// line here rather than CURLOPT_USERAGENT, which libcurl would format again
// for every request. The Basic credentials are not appended (HeaderList says
// why): their line is a node of ours in front of the form headers.
void Client::build_header_lists(const ClientOptions &o) {
    String user_agent("User-Agent: ");
    user_agent.append(o.user_agent ? o.user_agent : kDefaultUserAgent);
    auto build = [&user_agent](HeaderList &l, const char *content_type) {
        l.append(user_agent.c_str());
        l.append(content_type);
        l.append("Accept: application/json");
        l.append("Expect:");
        l.append(kNoAcceptEncoding);
    };
    build(json_headers_, "Content-Type: application/json");
    build(form_headers_, "Content-Type: application/x-www-form-urlencoded");
    basic_line_ = curl_slist{&basic_header_.str()[0], form_headers_.get()};
}

// AUTO tries the newer Basic style first, then the documented JSON body.
void Client::plan_auto() noexcept {
    if (basic_possible_) auto_attempts_[auto_attempt_count_++] = {ClientAuth::Basic, &token_basic_};
    auto_attempts_[auto_attempt_count_++] = {ClientAuth::JsonBody, &token_json_};
}

std::string_view Client::basic_credentials() const noexcept {
    std::string_view h = basic_header_.view();
    return h.size() > kBasicPrefix.size() ? h.substr(kBasicPrefix.size()) : std::string_view();
}

CallOptions Client::started(const CallOptions &opts) const noexcept {
    CallOptions o = opts;
    long t = opts.timeout_ms > 0 && opts.timeout_ms < timeout_ms_ ? opts.timeout_ms : timeout_ms_;
    o.deadline_ms = monotonic_ms() + t;
    return o;
}

}  // namespace lf
