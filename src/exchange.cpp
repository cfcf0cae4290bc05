// The code exchange: building the request in each client-auth style,
// learning the style for AUTO without risking the real code, and mapping
// the token endpoint's answer.
#include <chrono>
#include <cstdio>
#include <cstring>

#include "client.hpp"
#include "global.hpp"
#include "json.hpp"
#include "token_response.hpp"
#include "url.hpp"

namespace lf {

// The request that sends `code` in style a.style; room for the whole answer
// is taken here, before the code can go out.
void Client::code_request(const Attempt &a, std::string_view code, const CallOptions &opts, Sent *sent,
                          CodeRequest &out) const {
    HttpRequest &req = out.req;
    req.url = a.endpoint->url.c_str();
    req.allow_http = a.endpoint->allow_http;
    req.loopback = a.endpoint->loopback;
    req.deadline_ms = opts.deadline_ms;
    req.cancel = opts.cancel;
    req.what = "token endpoint";
    req.sent = sent;
    String &b = out.body.str();
    if (a.style == ClientAuth::JsonBody) {
        // Written directly, not through a cJSON tree: one buffer, sized once
        // (and no copies of the secret in cJSON's strings to wipe after).
        // Everything up to the code was escaped by the constructor.
        std::string_view prefix = json_prefix_.view();
        b.resize(prefix.size() + json_string_size(code) + 1);
        std::memcpy(&b[0], prefix.data(), prefix.size());
        char *p = write_json_string(&b[prefix.size()], code);
        *p = '}';
        req.headers = json_headers_.get();
    } else {
        b.reserve(5 + 3 * code.size());
        b.assign("code=");
        append_encoded(b, code);
        req.headers = &basic_line_;
    }
    req.body = out.body.view();
    if (!out.rooms) {
        answer_rooms_.take(out.resp.body);
        out.rooms = &answer_rooms_;
    }
    req.max_body = token_answer_max_;
}

Status Client::read_code_answer(const HttpResponse &resp, std::string_view code, Token &token, Error &e) const {
    Redactor r;
    r.add(secret_.view());
    r.add(previous_secret_.view());
    r.add(code);
    r.add(basic_credentials());
    return read_token_response(resp, r, token, e);
}

Status Client::send_code(const Attempt &a, std::string_view code, const CallOptions &opts, Sent *sent, Token &token,
                         Error &e) const {
    // Everything reading the answer needs is taken before the code is spent:
    // the body's room, and (when libcurl and cJSON allocate through our
    // hooks) a reserve for them. The token's room is the caller's.
    CodeRequest cr;
    code_request(a, code, opts, sent, cr);
    struct Owned {
        Reserve *r;
        ~Owned() { reserve_release(r); }
    } reserve{dependencies_hooked() ? reserve_new(kTokenAnswerReserve) : nullptr};
    if (dependencies_hooked() && !reserve.r) throw std::bad_alloc();
    ReserveScope scope(reserve.r);
    Status s = transport_.post(cr.req, cr.resp, e);
    if (s != Status::Ok) return s;
    return read_code_answer(cr.resp, code, token, e);
}

namespace {

// A code no server can have issued: 'lf-auth-probe-' + 128 random bits.
bool make_probe_code(char (&probe)[64]) noexcept {
    unsigned char rnd[16];
    if (!random_bytes(rnd, sizeof rnd)) return false;
    static const char hex[] = "0123456789abcdef";
    std::size_t p = std::strlen(std::strcpy(probe, "lf-auth-probe-"));
    for (unsigned char b : rnd) {
        probe[p++] = hex[b >> 4];
        probe[p++] = hex[b & 15];
    }
    probe[p] = '\0';
    return true;
}

enum class ProbeVerdict { Accepted, Rejected, Failed };

// What the answer to a probe says about the style it used. The HTTP status
// decides first: 401 and 403 (and invalid_client in any body) mean the
// client was rejected in that style, whatever the message says. Only a code
// rejected by a server that got past authentication proves the style.
ProbeVerdict judge_probe(Status s, const Error &pe) noexcept {
    long st = pe.http_status;
    bool client_rejected = st == 401 || st == 403 || std::strcmp(pe.key, "invalid_client") == 0;
    if (s == Status::InvalidCode && !client_rejected) return ProbeVerdict::Accepted;
    if (s == Status::InvalidClient || s == Status::InvalidCode || client_rejected) return ProbeVerdict::Rejected;
    if (s == Status::Http && (st == 400 || st == 404 || st == 405 || st == 415)) return ProbeVerdict::Rejected;
    return ProbeVerdict::Failed;
}

const char *style_name(ClientAuth style) noexcept {
    return style == ClientAuth::Basic ? "BASIC" : style == ClientAuth::JsonBody ? "JSON_BODY" : "AUTO";
}

const char *verdict_name(ProbeVerdict v) noexcept {
    return v == ProbeVerdict::Accepted   ? "the client is accepted in this style"
           : v == ProbeVerdict::Rejected ? "this style is rejected"
                                         : "no verdict (the probe failed)";
}

}  // namespace

bool Client::make_probe(char (&probe)[64]) noexcept { return make_probe_code(probe); }

// What probe i's answer means: a style chosen (Ok), the next style to try
// (Unfinished: `last` keeps this answer), or the call's failure.
Client::ProbeStep Client::judge_probe_answer(int i, Status s, const Error &pe, Error &last, Attempt &chosen,
                                             Error &e) const {
    const Attempt &at = auto_attempts_[i];
    if (s == Status::Ok) {
        fail(e, Status::Protocol,
             "token endpoint accepted a deliberately invalid probe code; refusing to send the real code");
        return ProbeStep::Failed;
    }
    ProbeVerdict v = judge_probe(s, pe);
    tracer_.line(LF_TRACE_AUTO, "AUTO: %s answered %s (HTTP %ld, key \"%s\"): %s", style_name(at.style), status_name(s),
                 pe.http_status, pe.key, verdict_name(v));
    switch (v) {
    case ProbeVerdict::Accepted:
        auto_choice_.store(i, std::memory_order_release);
        chosen = auto_attempts_[i];
        tracer_.line(LF_TRACE_AUTO, "AUTO: chose %s at %s for the life of this handle; sending the real code",
                     style_name(at.style), at.endpoint->url.c_str());
        return ProbeStep::Chosen;
    case ProbeVerdict::Rejected:
        last = pe;
        return ProbeStep::Next;
    case ProbeVerdict::Failed:
        break;
    }
    e = pe;
    e.status = s;
    return ProbeStep::Failed;
}

void Client::trace_probe(int i) const noexcept {
    const Attempt &at = auto_attempts_[i];
    tracer_.line(LF_TRACE_AUTO, "AUTO: probing %s at %s with a deliberately invalid code", style_name(at.style),
                 at.endpoint->url.c_str());
}

Status Client::no_style_accepted(Error &last, Error &e) const {
    tracer_.line(LF_TRACE_AUTO, "AUTO: no style was accepted; the real code was not sent");
    e = last;
    e.retry_after_s = 0;
    return fail(
        e, Status::InvalidClient,
        "no client-authentication style was accepted by the token endpoint (AUTO probe); the code was not sent");
}

Status Client::probe_styles(const CallOptions &opts, Attempt &chosen, Error &e) const {
    char probe[64];
    if (!make_probe_code(probe)) return fail(e, Status::Internal, "the CSPRNG failed");
    Error last;
    for (int i = 0; i < auto_attempt_count_; i++) {
        Token scratch;
        Error pe;
        trace_probe(i);
        Status s = send_code(auto_attempts_[i], probe, opts, nullptr, scratch, pe);
        switch (judge_probe_answer(i, s, pe, last, chosen, e)) {
        case ProbeStep::Chosen:
            return Status::Ok;
        case ProbeStep::Next:
            continue;
        case ProbeStep::Failed:
            return e.status;
        }
    }
    return no_style_accepted(last, e);
}

bool Client::claim_probe() const {
    std::lock_guard<std::mutex> lock(auto_mu_);
    if (auto_probing_) return false;
    auto_probing_ = true;
    return true;
}

void Client::end_probe() const noexcept {
    {
        std::lock_guard<std::mutex> l(auto_mu_);
        auto_probing_ = false;
    }
    auto_cv_.notify_all();
}

void Client::trace_learned(const Attempt &chosen) const noexcept {
    tracer_.line(LF_TRACE_AUTO, "AUTO: using %s at %s (learned by an earlier probe)", style_name(chosen.style),
                 chosen.endpoint->url.c_str());
}

// One thread probes at a time, without holding the lock over the network;
// the others wait for its answer, each within its own deadline and cancel
// flag. A probe that ends without an answer caches nothing: the next
// caller probes again.
Status Client::resolve_auto(const CallOptions &opts, Attempt &chosen, Error &e) const {
    int c = auto_choice_.load(std::memory_order_acquire);
    if (c < 0) {
        std::unique_lock<std::mutex> lock(auto_mu_);
        while (auto_probing_ && auto_choice_.load(std::memory_order_acquire) < 0) {
            if (opts.cancel && __atomic_load_n(opts.cancel, __ATOMIC_ACQUIRE))
                return fail(e, Status::Cancelled,
                            "cancelled while waiting for another call's AUTO probe; the code was not sent");
            long long left = opts.deadline_ms - monotonic_ms();
            if (left <= 0)
                return fail(e, Status::Timeout,
                            "timed out waiting for another call's AUTO probe; the code was not sent");
            auto_cv_.wait_for(lock, std::chrono::milliseconds(left < 100 ? left : 100));
        }
        c = auto_choice_.load(std::memory_order_acquire);
        if (c < 0) {
            auto_probing_ = true;
            lock.unlock();
            struct Done {
                const Client *self;
                ~Done() { self->end_probe(); }
            } done{this};
            return probe_styles(opts, chosen, e);
        }
    }
    chosen = auto_attempts_[c];
    trace_learned(chosen);
    return Status::Ok;
}

Status Client::exchange(std::string_view code, const CallOptions &call_opts, Token &out, Error &e) const {
    CallOptions opts = started(call_opts);
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
