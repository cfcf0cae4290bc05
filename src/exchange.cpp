// The code exchange: building the request in each client-auth style,
// learning the style for AUTO without risking the real code, and mapping
// the token endpoint's answer.
#include <cstdio>
#include <cstring>

#include <cjson/cJSON.h>

#include "client.hpp"
#include "json.hpp"
#include "token_response.hpp"
#include "url.hpp"

namespace lf {

namespace {

constexpr int kTokenJsonDepth = 8;

enum class Verdict { Other, BadCode, BadClient };

// What the error says, by its key first, then its message.
Verdict read_verdict(const ServerError &se) noexcept {
    std::string_view k = se.key;
    if (k == "invalid_grant" || contains_nocase(k, "code")) return Verdict::BadCode;
    if (k == "invalid_client" || k == "unauthorized_client" || contains_nocase(k, "client") ||
        contains_nocase(k, "secret") || contains_nocase(k, "credential"))
        return Verdict::BadClient;
    if (!k.empty() && k != "invalid_request" && k != "unauthorized" && k != "forbidden") return Verdict::Other;
    std::string_view m = se.message;
    if (contains_nocase(m, "code") || contains_nocase(m, "grant")) return Verdict::BadCode;
    if (contains_nocase(m, "client") || contains_nocase(m, "secret") || contains_nocase(m, "credential"))
        return Verdict::BadClient;
    return Verdict::Other;
}

Status token_error(const HttpResponse &resp, const cJSON *root, const Redactor &r, Error &e) {
    long st = resp.status;
    ServerError se = server_error(root);
    e.retry_after_s = resp.retry_after_s;
    char prefix[128];
    Status s;
    if (st == 429 || se.key == "rate_limit_reached") {
        s = Status::RateLimited;
        std::snprintf(prefix, sizeof prefix, "token endpoint rate-limited the request (HTTP %ld)", st);
    } else if (st >= 300 && st < 400) {
        s = Status::Http;
        std::snprintf(prefix, sizeof prefix, "token endpoint answered with a redirect (HTTP %ld), not followed", st);
    } else if (st == 400 || st == 401 || st == 403 || (st >= 200 && st < 300)) {
        Verdict v = read_verdict(se);
        if (v == Verdict::Other && (st == 401 || st == 403)) v = Verdict::BadClient;
        if (v == Verdict::BadCode) {
            s = Status::InvalidCode;
            std::snprintf(prefix, sizeof prefix, "token endpoint rejected the authorization code (HTTP %ld)", st);
        } else if (v == Verdict::BadClient) {
            s = Status::InvalidClient;
            std::snprintf(prefix, sizeof prefix, "token endpoint rejected the client credentials (HTTP %ld)", st);
        } else if (st >= 200 && st < 300) {
            s = Status::Protocol;
            std::snprintf(prefix, sizeof prefix, "token endpoint returned an error in a success response (HTTP %ld)",
                          st);
        } else {
            s = Status::Http;
            std::snprintf(prefix, sizeof prefix, "token endpoint returned HTTP %ld", st);
        }
    } else {
        s = Status::Http;
        std::snprintf(prefix, sizeof prefix, "token endpoint returned HTTP %ld%s", st,
                      root ? "" : " with a body that is not JSON");
    }
    return fail_server(e, s, st, se.key, prefix, se.message, r);
}

Status read_token(const HttpResponse &resp, const Redactor &r, Token &token, Error &e) {
    JsonError je = JsonError::None;
    Json doc = Json::parse(resp.body, kTokenJsonDepth, &je);
    if (je == JsonError::NoMemory) throw std::bad_alloc();
    bool success = resp.status >= 200 && resp.status < 300;
    if (!success || server_error(doc.get()).present) return token_error(resp, doc.get(), r, e);

    e.http_status = resp.status;
    if (!is_object(doc.get())) {
        const char *why = je == JsonError::TooDeep     ? "nested too deeply"
                          : je == JsonError::NulEscape ? "contains a \\u0000 escape"
                          : doc.get()                  ? "not a JSON object"
                                                       : "not valid JSON";
        return failf(e, Status::Protocol, "token endpoint: the response body is %s (HTTP %ld)", why, resp.status);
    }
    int count = 0;
    const cJSON *t = member(doc.get(), "access_token", &count);
    if (count == 0) return fail(e, Status::Protocol, "token endpoint: the response has no access_token");
    if (count > 1) return fail(e, Status::Protocol, "token endpoint: the response has more than one access_token");
    if (!cJSON_IsString(t) || !t->valuestring)
        return fail(e, Status::Protocol, "token endpoint: access_token is not a string");
    std::string_view value = t->valuestring;
    if (value.empty()) return fail(e, Status::Protocol, "token endpoint: access_token is empty");
    if (value.size() > kMaxTokenLength)
        return failf(e, Status::Protocol, "token endpoint: access_token is longer than %zu bytes", kMaxTokenLength);
    if (!is_b64token(value))
        return fail(e, Status::Protocol, "token endpoint: access_token contains characters outside RFC 6750 b64token");
    // The caller reserved room for the longest token, so this cannot allocate
    // and the token (the code is spent by now) cannot be lost to an OOM.
    token.value.str().assign(value.data(), value.size());
    e.http_status = 0;
    return Status::Ok;
}

}  // namespace

Status Client::send_code(const Attempt &a, std::string_view code, const CallOptions &opts, Token &token,
                         Error &e) const {
    SecretString body;
    HttpRequest req;
    req.url = a.endpoint->url.c_str();
    req.allow_http = a.endpoint->allow_http;
    req.timeout_ms = call_timeout(opts);
    req.cancel = opts.cancel;
    req.what = "token endpoint";
    if (a.style == ClientAuth::JsonBody) {
        Json doc(new_object());
        add_string(doc.get(), "client_id", client_id_);
        add_string(doc.get(), "client_secret", secret_.view());
        add_string(doc.get(), "code", code);
        print(doc.get(), body.str());
        req.headers = json_headers_;
    } else {
        body.str().reserve(5 + 3 * code.size());
        body.str().assign("code=");
        append_encoded(body.str(), code);
        req.headers = form_headers_;
    }
    req.body = body.view();

    // Room for a typical answer is taken before the code is spent.
    HttpResponse resp;
    resp.body.reserve(response_reserve_);
    Status s = transport_.post(req, resp, e);
    if (s != Status::Ok) return s;

    Redactor r;
    r.add(secret_.view());
    r.add(previous_secret_.view());
    r.add(code);
    return read_token(resp, r, token, e);
}

Status Client::resolve_auto(const CallOptions &opts, Attempt &chosen, Error &e) const {
    int c = auto_choice_.load(std::memory_order_acquire);
    if (c >= 0) {
        chosen = auto_attempts_[c];
        return Status::Ok;
    }
    // One thread probes; the others wait for its answer.
    std::lock_guard<std::mutex> lock(auto_mu_);
    c = auto_choice_.load(std::memory_order_acquire);
    if (c >= 0) {
        chosen = auto_attempts_[c];
        return Status::Ok;
    }
    // A code no server can have issued: 'lf-auth-probe-' + 128 random bits.
    unsigned char rnd[16];
    if (!random_bytes(rnd, sizeof rnd)) return fail(e, Status::Internal, "the CSPRNG failed");
    char probe[64] = "lf-auth-probe-";
    std::size_t p = std::strlen(probe);
    for (unsigned char b : rnd) {
        static const char hex[] = "0123456789abcdef";
        probe[p++] = hex[b >> 4];
        probe[p++] = hex[b & 15];
    }
    probe[p] = '\0';

    Error last;
    for (int i = 0; i < auto_attempt_count_; i++) {
        Token scratch;
        Error pe;
        Status s = send_code(auto_attempts_[i], probe, opts, scratch, pe);
        if (s == Status::InvalidCode) {  // the client got past authentication
            auto_choice_.store(i, std::memory_order_release);
            chosen = auto_attempts_[i];
            return Status::Ok;
        }
        bool rejected = s == Status::InvalidClient ||
                        (s == Status::Http && (pe.http_status == 400 || pe.http_status == 401 ||
                                               pe.http_status == 403 || pe.http_status == 404 ||
                                               pe.http_status == 405 || pe.http_status == 415));
        if (s == Status::Ok) {
            return fail(e, Status::Protocol,
                        "token endpoint accepted a deliberately invalid probe code; refusing to send the real code");
        }
        if (!rejected) {
            e = pe;
            return s;
        }
        last = pe;
    }
    e = last;
    e.retry_after_s = 0;
    return fail(e, Status::InvalidClient,
                "no client-authentication style was accepted by the token endpoint (AUTO probe); the code was not sent");
}

Status Client::exchange(std::string_view code, const CallOptions &opts, Token &out, Error &e) const {
    if (code.empty()) return fail(e, Status::InvalidArgument, "the authorization code is empty");
    if (code.size() > kMaxCodeLength) return fail(e, Status::InvalidArgument, "the authorization code is too long");
    Attempt a{auth_, auth_ == ClientAuth::Basic ? &token_basic_ : &token_json_};
    if (auth_ == ClientAuth::Auto) {
        Status s = resolve_auto(opts, a, e);
        if (s != Status::Ok) return s;
    }
    return send_code(a, code, opts, out, e);
}

}  // namespace lf
