// A call as a short sequence of requests, cut where it would wait: the
// exchange (AUTO probes first while the style is not learned, then the real
// code) and the GraphQL call. The async calls run their jobs on the handle's
// I/O thread (async.cpp); the blocking exchange runs its job on the
// caller's thread (exchange.cpp), so AUTO has one implementation. The
// blocking GraphQL call, one request, uses the same two halves as its job.
#pragma once

#include <string_view>
#include <utility>

#include "alloc.hpp"
#include "client.hpp"
#include "error.hpp"
#include "http.hpp"

namespace lf {

// A job's steps; complete() is the async calls' done callback (the C
// boundary's), called exactly once, last, by the I/O loop, which destroys
// the job right after it. The blocking exchange reads result() instead.
class Job {
public:
    enum class Step {
        Send,  // send request() (set up, answer into response())
        Wait,  // nothing to send yet: ask wait() again at the next tick
        Done   // finished with result()
    };
    Job() = default;
    Job(const Job &) = delete;
    Job &operator=(const Job &) = delete;
    virtual ~Job() { reserve_release(reserve_); }

    virtual Step begin(Error &e) = 0;
    // After a transfer ended with s (Ok: a complete answer in response()).
    virtual Step after(Status s, Error &e) = 0;
    virtual Step wait(Error &e) { return finish(fail(e, Status::Internal, "job waits without a reason")); }
    virtual HttpRequest &request() noexcept = 0;
    virtual HttpResponse &response() noexcept = 0;
    // The memory set aside for reading this job's answer (hooked
    // dependencies), if any: the caller (the driver) owns it from then on.
    Reserve *take_reserve() noexcept { return std::exchange(reserve_, nullptr); }
    // Whether after() may draw on reserves: for the answer to an exchange's
    // real code, spent by then. Other answers (a probe's too) are parsed
    // without them.
    virtual bool reads_with_reserve() const noexcept { return false; }
    virtual void complete(Status, const Error &) noexcept {}

    Status result() const noexcept { return result_; }

protected:
    Step finish(Status s) noexcept {
        result_ = s;
        return Step::Done;
    }
    Reserve *reserve_ = nullptr;  // set by the constructor or prepare()

private:
    Status result_ = Status::Internal;
};

// The exchange's steps (exchange.cpp). The token's room, the answer buffer
// and the reserve are taken by the constructor, on the caller's thread,
// before the code can go out.
class ExchangeJob : public Job {
public:
    // Throws std::bad_alloc. `code` was checked (non-empty, not too long).
    // opts.code_sent, if set, follows the real code (else sent() does).
    // With copy_code (an async call) the job keeps a copy of the code;
    // otherwise (the blocking call) it borrows the caller's.
    ExchangeJob(const Client &c, std::string_view code, bool copy_code, const CallOptions &opts, Token &token);
    ~ExchangeJob() override;

    Step begin(Error &e) override;
    Step after(Status s, Error &e) override;
    Step wait(Error &e) override;
    HttpRequest &request() noexcept override { return cr_.req; }
    HttpResponse &response() noexcept override { return cr_.resp; }
    bool reads_with_reserve() const noexcept override { return !probing_; }
    const CallOptions &options() const noexcept { return opts_; }

protected:
    Sent sent() const noexcept { return sent_; }
    std::string_view code() const noexcept { return code_; }

private:
    using Attempt = Client::Attempt;
    enum class Verdict { Chosen, Next, Failed };
    Step resolve(Error &e);
    Step send_probe();
    Step send_real();
    Verdict judge(Status s, const Error &pe, Error &e);
    void end_probe() noexcept;

    const Client &c_;
    SecretString copy_;      // the code, when copied
    std::string_view code_;  // the code: copy_ or the caller's
    CallOptions opts_;
    Token &token_;
    Sent sent_ = Sent::No;
    Client::CodeRequest cr_;
    Attempt chosen_{};
    bool probing_ = false;  // this job holds the handle's AUTO probe
    int probe_ = 0;         // the style being probed
    char probe_code_[64] = {};
};

// The GraphQL call's steps (graphql.cpp): the request is built (and
// checked) with prepare(), on the caller's thread. With hooked dependencies
// it also takes a reserve for libcurl's part in reading the answer: the I/O
// loop reads every answer with all reserves in scope, so a GraphQL answer
// brings its own room instead of taking an exchange's.
class GraphqlJob : public Job {
public:
    explicit GraphqlJob(const Client &c, Response &out) noexcept : c_(c), out_(out) {}
    // The request, as the blocking call checks and builds it. Throws std::bad_alloc.
    Status prepare(std::string_view token, const char *query, const char *variables_json, const CallOptions &opts,
                   Error &e);

    Step begin(Error &e) override;
    Step after(Status s, Error &e) override;
    HttpRequest &request() noexcept override { return ar_.req; }
    HttpResponse &response() noexcept override { return ar_.resp; }

protected:
    bool got_response() const noexcept { return got_; }
    std::string_view token() const noexcept { return token_.view(); }

private:
    const Client &c_;
    Response &out_;
    SecretString token_;
    Client::ApiRequest ar_;
    bool got_ = false;
};

}  // namespace lf
