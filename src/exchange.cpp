// The code exchange: building the request in each client-auth style,
// learning the style for AUTO without risking the real code, and mapping
// the token endpoint's answer.
#include <cstdio>
#include <cstring>

#include "client.hpp"
#include "json.hpp"
#include "token_response.hpp"
#include "url.hpp"

namespace lf {

Status Client::send_code(const Attempt &a, std::string_view code, const CallOptions &opts, Sent *sent, Token &token,
                         Error &e) const {
    SecretString body;
    HttpRequest req;
    req.url = a.endpoint->url.c_str();
    req.allow_http = a.endpoint->allow_http;
    req.loopback = a.endpoint->loopback;
    req.timeout_ms = call_timeout(opts);
    req.cancel = opts.cancel;
    req.what = "token endpoint";
    req.sent = sent;
    if (a.style == ClientAuth::JsonBody) {
        // Written directly, not through a cJSON tree: one buffer, sized once
        // (and no copies of the secret in cJSON's strings to wipe after).
        // Everything up to the code was escaped by the constructor.
        std::string_view prefix = json_prefix_.view();
        String &b = body.str();
        b.resize(prefix.size() + json_string_size(code) + 1);
        std::memcpy(&b[0], prefix.data(), prefix.size());
        char *p = write_json_string(&b[prefix.size()], code);
        *p = '}';
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
    r.add(basic_credentials());
    return read_token_response(resp, r, token, e);
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
        Status s = send_code(auto_attempts_[i], probe, opts, nullptr, scratch, pe);
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
    return send_code(a, code, opts, opts.code_sent, out, e);
}

}  // namespace lf
