// The code exchange: building the request in each client-auth style,
// learning the style for AUTO without risking the real code, and mapping
// the token endpoint's answer.
#include <chrono>
#include <cstring>

#include "global.hpp"
#include "job.hpp"
#include "json.hpp"
#include "token_response.hpp"
#include "url.hpp"

namespace lf {

// Points `out` at sending `code` in style a.style.
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

void Client::wait_for_probe(const CallOptions &opts) const {
    long long left = opts.deadline_ms - monotonic_ms();
    if (left <= 0 || load_cancel(opts.cancel)) return;
    std::unique_lock<std::mutex> lock(auto_mu_);
    auto_cv_.wait_for(lock, std::chrono::milliseconds(left < 100 ? left : 100), [this] { return !auto_probing_; });
}

// The blocking exchange: the job's steps, run on the caller's thread, with
// the reserve in scope as the async loop has its pool: during every
// transfer, and while the answer to the real code is read.
Status Client::exchange(std::string_view code, const CallOptions &opts, Token &out, Error &e) const {
    if (code.empty()) return fail(e, Status::InvalidArgument, "the authorization code is empty");
    if (code.size() > kMaxCodeLength) return fail(e, Status::InvalidArgument, "the authorization code is too long");
    ExchangeJob job(*this, code, false, opts, out);
    struct Owned {
        Reserve *r;
        ~Owned() { reserve_release(r); }
    } reserve{job.take_reserve()};
    Job::Step step = job.begin(e);
    for (;;) {  // at most one request per style, then the code; waits end by the deadline
        switch (step) {
        case Job::Step::Send: {
            Status s;
            {
                ReserveScope scope(reserve.r);
                s = transport_.post(job.request(), job.response(), e);
            }
            ReserveScope scope(job.reads_with_reserve() ? reserve.r : nullptr);
            step = job.after(s, e);
            break;
        }
        case Job::Step::Wait:
            wait_for_probe(job.options());
            step = job.wait(e);
            break;
        case Job::Step::Done:
            return job.result();
        }
    }
}

ExchangeJob::ExchangeJob(const Client &c, std::string_view code, bool copy_code, const CallOptions &opts, Token &token)
    : c_(c), opts_(c.started(opts)), token_(token), cr_(c.answer_rooms_) {
    if (copy_code) {
        copy_.str().assign(code.data(), code.size());
        code = copy_.view();
    }
    code_ = code;
    // Taken before the code can go out: the token's room (the answer's was
    // taken by cr_), and the reserve for hooked dependencies.
    token_.reserve();
    if (dependencies_hooked()) {
        // An AUTO exchange may probe first: libcurl reads a probe's answer
        // with the reserves in scope too (the async loop cannot tell the
        // transfers apart), so there is room for each probe's transfer.
        std::size_t size = kTokenAnswerReserve;
        if (c.auth_ == ClientAuth::Auto && c.auto_choice_.load(std::memory_order_acquire) < 0)
            size += c.auto_attempt_count_ * kTransferReserve;
        reserve_ = reserve_new(size);
        if (!reserve_) throw std::bad_alloc();
    }
}

ExchangeJob::~ExchangeJob() { end_probe(); }

void ExchangeJob::end_probe() noexcept {
    if (!probing_) return;
    probing_ = false;
    c_.end_probe();
}

Job::Step ExchangeJob::begin(Error &e) {
    if (c_.auth_ != ClientAuth::Auto) {
        chosen_ = {c_.auth_, c_.auth_ == ClientAuth::Basic ? &c_.token_basic_ : &c_.token_json_};
        return send_real();
    }
    return resolve(e);
}

// AUTO: the learned style, or this job's own probe, or a wait for another
// call's probe. One call probes at a time, without holding a lock over the
// network; a probe that ends without an answer caches nothing, and the next
// call probes again.
Job::Step ExchangeJob::resolve(Error &e) {
    int learned = c_.auto_choice_.load(std::memory_order_acquire);
    if (learned >= 0) {
        chosen_ = c_.auto_attempts_[learned];
        c_.tracer_.line(LF_TRACE_AUTO, "AUTO: using %s at %s (learned by an earlier probe)", style_name(chosen_.style),
                        chosen_.endpoint->url.c_str());
        return send_real();
    }
    if (!c_.claim_probe()) return Step::Wait;
    probing_ = true;
    if (c_.auto_choice_.load(std::memory_order_acquire) >= 0) {  // learned meanwhile
        end_probe();
        return resolve(e);
    }
    if (!make_probe_code(probe_code_)) {
        end_probe();
        return finish(fail(e, Status::Internal, "the CSPRNG failed"));
    }
    probe_ = 0;
    return send_probe();
}

// Waiting for another call's probe, within this call's deadline and cancel flag.
Job::Step ExchangeJob::wait(Error &e) {
    if (load_cancel(opts_.cancel))
        return finish(
            fail(e, Status::Cancelled, "cancelled while waiting for another call's AUTO probe; the code was not sent"));
    if (monotonic_ms() >= opts_.deadline_ms)
        return finish(
            fail(e, Status::Timeout, "timed out waiting for another call's AUTO probe; the code was not sent"));
    return resolve(e);
}

Job::Step ExchangeJob::send_probe() {
    const Attempt &at = c_.auto_attempts_[probe_];
    c_.tracer_.line(LF_TRACE_AUTO, "AUTO: probing %s at %s with a deliberately invalid code", style_name(at.style),
                    at.endpoint->url.c_str());
    c_.code_request(at, probe_code_, opts_, nullptr, cr_);
    return Step::Send;
}

Job::Step ExchangeJob::send_real() {
    c_.code_request(chosen_, code_, opts_, opts_.code_sent ? opts_.code_sent : &sent_, cr_);
    return Step::Send;
}

Job::Step ExchangeJob::after(Status s, Error &e) {
    if (!probing_) {
        if (s != Status::Ok) return finish(s);
        return finish(c_.read_code_answer(cr_.resp, code_, token_, e));
    }
    Error pe = e;
    e = Error{};
    if (s == Status::Ok) {
        Token scratch;
        s = c_.read_code_answer(cr_.resp, probe_code_, scratch, pe);
    }
    switch (judge(s, pe, e)) {
    case Verdict::Chosen:
        end_probe();
        return send_real();
    case Verdict::Next:
        if (++probe_ < c_.auto_attempt_count_) return send_probe();
        end_probe();
        c_.tracer_.line(LF_TRACE_AUTO, "AUTO: no style was accepted; the real code was not sent");
        e = pe;
        e.retry_after_s = 0;
        return finish(fail(
            e, Status::InvalidClient,
            "no client-authentication style was accepted by the token endpoint (AUTO probe); the code was not sent"));
    case Verdict::Failed:
        break;
    }
    end_probe();
    return finish(e.status);
}

// What the probe's answer (s, pe) means: its style chosen for the life of
// the handle, the next style to try, or the call's failure (in e).
ExchangeJob::Verdict ExchangeJob::judge(Status s, const Error &pe, Error &e) {
    const Attempt &at = c_.auto_attempts_[probe_];
    if (s == Status::Ok) {
        fail(e, Status::Protocol,
             "token endpoint accepted a deliberately invalid probe code; refusing to send the real code");
        return Verdict::Failed;
    }
    ProbeVerdict v = judge_probe(s, pe);
    c_.tracer_.line(LF_TRACE_AUTO, "AUTO: %s answered %s (HTTP %ld, key \"%s\"): %s", style_name(at.style),
                    status_name(s), pe.http_status, pe.key, verdict_name(v));
    switch (v) {
    case ProbeVerdict::Accepted:
        c_.auto_choice_.store(probe_, std::memory_order_release);
        chosen_ = at;
        c_.tracer_.line(LF_TRACE_AUTO, "AUTO: chose %s at %s for the life of this handle; sending the real code",
                        style_name(at.style), at.endpoint->url.c_str());
        return Verdict::Chosen;
    case ProbeVerdict::Rejected:
        return Verdict::Next;
    case ProbeVerdict::Failed:
        break;
    }
    e = pe;
    e.status = s;
    return Verdict::Failed;
}

}  // namespace lf
