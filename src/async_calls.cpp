// The steps of the async calls: the exchange (AUTO probes first when the
// style is not learned yet) and the GraphQL call. Each step is the blocking
// call's own code (exchange.cpp, graphql.cpp), cut where it would wait.
#include "async.hpp"

#include "global.hpp"

namespace lf {

AsyncExchange::AsyncExchange(const Client &c, std::string_view code, const CallOptions &opts, Token &token)
    : c_(c), code_(code), opts_(c.started(opts)), token_(token) {
    cancel = opts.cancel;
    // Taken before the code can go out, as send_code does: the token's and
    // the answer's room, and the reserve for hooked dependencies.
    token_.reserve();
    c.answer_rooms_.take(cr_.resp.body);
    cr_.rooms = &c.answer_rooms_;
    if (dependencies_hooked()) {
        reserve_ = reserve_new(kTokenAnswerReserve);
        if (!reserve_) throw std::bad_alloc();
    }
}

AsyncExchange::~AsyncExchange() {
    end_probe();
    reserve_release(reserve_);
}

void AsyncExchange::end_probe() noexcept {
    if (!probing_) return;
    probing_ = false;
    c_.end_probe();
}

Job::Step AsyncExchange::begin(Error &e) {
    if (c_.auth_ != ClientAuth::Auto) {
        chosen_ = {c_.auth_, c_.auth_ == ClientAuth::Basic ? &c_.token_basic_ : &c_.token_json_};
        return send_real();
    }
    return resolve(e);
}

// AUTO: the learned style, or this job's own probe, or a wait for another
// call's probe.
Job::Step AsyncExchange::resolve(Error &e) {
    int learned = c_.auto_choice_.load(std::memory_order_acquire);
    if (learned >= 0) {
        chosen_ = c_.auto_attempts_[learned];
        c_.trace_learned(chosen_);
        return send_real();
    }
    if (!c_.claim_probe()) return Step::Wait;
    probing_ = true;
    if (c_.auto_choice_.load(std::memory_order_acquire) >= 0) {  // learned meanwhile
        end_probe();
        return resolve(e);
    }
    if (!Client::make_probe(probe_code_)) {
        end_probe();
        return finish(fail(e, Status::Internal, "the CSPRNG failed"));
    }
    probe_ = 0;
    return send_probe();
}

Job::Step AsyncExchange::wait(Error &e) {
    if (opts_.cancel && __atomic_load_n(opts_.cancel, __ATOMIC_ACQUIRE))
        return finish(
            fail(e, Status::Cancelled, "cancelled while waiting for another call's AUTO probe; the code was not sent"));
    if (monotonic_ms() >= opts_.deadline_ms)
        return finish(
            fail(e, Status::Timeout, "timed out waiting for another call's AUTO probe; the code was not sent"));
    return resolve(e);
}

Job::Step AsyncExchange::send_probe() {
    c_.trace_probe(probe_);
    c_.code_request(c_.auto_attempts_[probe_], probe_code_, opts_, nullptr, cr_);
    return Step::Send;
}

Job::Step AsyncExchange::send_real() {
    c_.code_request(chosen_, code_.view(), opts_, &sent_, cr_);
    return Step::Send;
}

Job::Step AsyncExchange::after(Status s, Error &e) {
    if (!probing_) {
        if (s != Status::Ok) return finish(s);
        return finish(c_.read_code_answer(cr_.resp, code_.view(), token_, e));
    }
    Error pe = e;
    e = Error{};
    if (s == Status::Ok) {
        Token scratch;
        s = c_.read_code_answer(cr_.resp, probe_code_, scratch, pe);
    }
    switch (c_.judge_probe_answer(probe_, s, pe, last_, chosen_, e)) {
    case Client::ProbeStep::Chosen:
        end_probe();
        e = Error{};
        return send_real();
    case Client::ProbeStep::Next:
        if (++probe_ < c_.auto_attempt_count_) return send_probe();
        end_probe();
        return finish(c_.no_style_accepted(last_, e));
    case Client::ProbeStep::Failed:
        break;
    }
    end_probe();
    return finish(e.status);
}

Status AsyncGraphql::prepare(std::string_view token, const char *query, const char *variables_json,
                             const CallOptions &opts, Error &e) {
    cancel = opts.cancel;
    token_.str().assign(token.data(), token.size());
    return c_.api_request(token_.view(), query, variables_json, c_.started(opts), ar_, e);
}

Job::Step AsyncGraphql::begin(Error &) { return Step::Send; }

Job::Step AsyncGraphql::after(Status s, Error &e) {
    if (s != Status::Ok) return finish(s);
    got_ = true;
    return finish(c_.read_api_answer(ar_.resp, token_.view(), out_, e));
}

}  // namespace lf
