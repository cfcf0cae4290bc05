// Non-blocking calls (lf_exchange_code_async, lf_graphql_async).
//
// Design. Each handle gets one library I/O thread, started by its first
// async call, that drives every pending async request of that handle through
// ONE libcurl multi handle: curl_multi_poll waits for sockets at most 100 ms
// at a time, and curl_multi_wakeup cuts the wait short when a call is queued
// or the handle is freed. A call is a Job (job.hpp): a short sequence of
// requests (an exchange with AUTO not yet learned probes first, then sends
// the real code) whose steps the I/O thread runs one after another, never
// blocking. The blocking exchange runs the very same steps.
//
// Each request is set up, checked and concluded by the blocking path's own
// code (Transport::prepare, interrupted, finish): the same easy-handle
// options, size caps, pre-request guard (a request is never sent twice, so a
// code is sent at most once), stall limit, cancel flag (read every tick, at
// most ~100 ms apart), deadline (CURLOPT_TIMEOUT_MS) and mapping of the
// ending to a status. The easy handles are the I/O thread's own (a detached
// slot each); their connections live in the loop's multi handle.
//
// AUTO never blocks the I/O thread: an exchange that finds the style
// unlearned takes the handle's probe and sends the probes as its own first
// requests, then the real code. One that finds another call (blocking or
// not) probing waits without a request, asked again every tick (its
// deadline and cancel flag hold) until the style is learned, or the probe
// ends without an answer and it takes the probe itself.
//
// Memory. Everything the answer needs (the token's room, the answer buffer,
// the reserve for hooked dependencies) is allocated by the caller's thread
// before the job is queued: a failure there is LF_E_NO_MEMORY, synchronous,
// done never called. On the I/O thread, the reserves of all calls in flight
// form one pool, in scope during a transfer step and while the answer to
// an exchange's real code is read: libcurl reads every answer in one
// curl_multi_perform, and an allocation does not say which transfer it is
// for, so an answer may take from any call's reserve. Each call therefore
// brings room for its own transfer (a GraphQL call and an AUTO probe too),
// and the pool keeps, as a whole, the room of every call in flight: an
// ended call's reserve stays in it while the others' reserves alone would
// hold less room than all of them were made with (Loop::trim_spares).
//
// Lifetime. Each job's done callback runs exactly once, on the I/O thread.
// Freeing the handle stops the loop: every pending job completes with
// LF_E_CANCELLED, then the thread is joined, before lf_auth_free returns.
// lf_auth_free from a done callback (on the I/O thread itself) would wait for
// itself: it is detected and aborts the process with a message. A call
// queued by a done callback while the handle is being freed fails at once
// with LF_E_CANCELLED (done not called).
//
// fork(). The child has no I/O thread: the parent's loop (its multi handle,
// its connections, its jobs, its mutex that a parent thread may have held)
// is abandoned untouched in the child, and the child's first async call
// starts a new loop. Jobs pending in the parent complete in the parent only.
#pragma once

#include <mutex>

#include "error.hpp"
#include "http.hpp"
#include "job.hpp"

namespace lf {

class Loop;

// A handle's I/O thread and its queue. Destroying it completes every
// pending job with Cancelled and joins the thread.
class Async {
public:
    explicit Async(const Transport &t) noexcept : transport_(t) {}
    Async(const Async &) = delete;
    Async &operator=(const Async &) = delete;
    ~Async();

    // Queues `job`, starting the I/O thread on first use. Ok: the loop owns
    // the job and will complete it. Otherwise the job stays the caller's,
    // untouched (Cancelled while the handle is being freed; NoMemory;
    // Internal when no thread could be started).
    Status submit(Job *job, Error &e);

private:
    Loop *current();  // under mu_; nullptr if none in this process

    const Transport &transport_;
    std::mutex mu_;
    Loop *loop_ = nullptr;
    // In a child process: the parent's loop, never touched (kept reachable
    // only, for memory checkers).
    Loop *abandoned_ = nullptr;
};

}  // namespace lf
