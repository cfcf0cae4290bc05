// The I/O loop of the async calls: one thread and one multi handle per
// handle (design in async.hpp).
#include "async.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "global.hpp"

namespace lf {

namespace {

constexpr int kTickMs = 100;  // cancel-flag latency bound, as the blocking path's
// With no call pending there is nothing to check: the loop sleeps until a
// call is queued (curl_multi_wakeup) or libcurl's own timers are due.
constexpr int kIdleMs = 60 * 1000;
constexpr std::size_t kMaxIdleSlots = 64;
// Connections the loop opens at most (all hosts together), and keeps. By
// default libcurl opens one per transfer in flight: a thousand calls at once
// meant a thousand connections to the platform, each idle one holding the
// server's resources afterwards. Beyond this many, a transfer waits inside
// libcurl for a connection to come free (within its own deadline; its code
// is not out yet) and then reuses it.
constexpr long kMaxConnections = 16;

// The status of the exception being handled: call only inside a catch block.
Status status_of_current_exception() noexcept {
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return Status::NoMemory;
    } catch (...) {
        return Status::Internal;
    }
}

}  // namespace

// A job on the I/O thread (nullptr once completed): its current transfer's
// slot (nullptr while it waits), its reserve (the loop's from the start)
// and the detail of its ending.
struct Active {
    Job *job = nullptr;
    Transport::Slot *slot = nullptr;
    Reserve *reserve = nullptr;
    Error e;
};

class Loop {
public:
    explicit Loop(const Transport &t) : transport_(t), process_(process_mark()) {
        multi_ = curl_multi_init();
        if (!multi_) throw std::bad_alloc();
        if (curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, kMaxConnections) != CURLM_OK ||
            curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, kMaxConnections) != CURLM_OK) {
            curl_multi_cleanup(multi_);
            throw std::bad_alloc();
        }
    }
    Loop(const Loop &) = delete;
    Loop &operator=(const Loop &) = delete;
    ~Loop() {
        for (Transport::Slot *s : idle_) Transport::free_slot(s);
        for (Reserve *r : spares_) reserve_release(r);
        curl_multi_cleanup(multi_);
    }

    void start() {
        thread_ = make<std::thread>([this] { run(); });
        id_ = thread_->get_id();
    }
    // Refused with Cancelled once stopping. A call queued by a done
    // callback (on the I/O thread itself) needs no wakeup: the loop looks
    // at the queue again before it sleeps.
    Status queue(Job *job, Error &e) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stopping_) return fail(e, Status::Cancelled, "the handle is being freed; the call was not queued");
            incoming_.push_back(job);  // may throw: then the job stays the caller's
        }
        if (on_own_thread())
            queued_here_ = true;
        else
            curl_multi_wakeup(multi_);
        return Status::Ok;
    }
    void stop_and_join() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stopping_ = true;
        }
        curl_multi_wakeup(multi_);
        thread_->join();
        destroy(thread_);
        thread_ = nullptr;
    }
    bool on_own_thread() const noexcept { return std::this_thread::get_id() == id_; }
    long process() const noexcept { return process_; }

private:
    void run() noexcept;
    bool take_incoming(Vector<Job *> &batch) noexcept;
    void start_job(Job *job) noexcept;
    void apply(Active *a, Job::Step step) noexcept;
    void send(Active *a);
    void end_transfer(Active *a, const Transport::Ending &end) noexcept;
    void complete(Active *a, Status s) noexcept;
    void perform() noexcept;
    void tick() noexcept;
    void cancel_all() noexcept;
    void sweep() noexcept;
    Transport::Slot *slot();
    void give_back(Transport::Slot *s) noexcept;
    void pool_reserves() noexcept;
    void trim_spares() noexcept;

    const Transport &transport_;
    CURLM *multi_ = nullptr;
    std::thread *thread_ = nullptr;
    std::thread::id id_;
    long process_;  // process_mark() of the process that started it
    std::mutex mu_;
    Vector<Job *> incoming_;  // under mu_
    bool stopping_ = false;   // under mu_
    // The I/O thread's own.
    bool queued_here_ = false;  // a done callback queued a call: do not sleep
    long long next_tick_ms_ = 0;
    Vector<Active *> active_;
    // The reserves of ended calls still needed in the pool (trim_spares),
    // and the pool in scope: room for both is taken when a job starts, so
    // neither grows on the way.
    Vector<Reserve *> spares_;
    Vector<Reserve *> reserves_;
    Vector<Transport::Slot *> idle_;
};

Transport::Slot *Loop::slot() {
    if (idle_.empty()) {
        idle_.reserve(kMaxIdleSlots);  // now, so that give_back never allocates
        return transport_.new_detached_slot();
    }
    Transport::Slot *s = idle_.back();
    idle_.pop_back();
    return s;
}

void Loop::give_back(Transport::Slot *s) noexcept {
    if (idle_.size() < kMaxIdleSlots && idle_.size() < idle_.capacity()) {
        idle_.push_back(s);
        return;
    }
    Transport::free_slot(s);
}

bool Loop::take_incoming(Vector<Job *> &batch) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(incoming_);
    return stopping_;
}

void Loop::complete(Active *a, Status s) noexcept {
    if (s != Status::Ok && !a->e.message[0]) fail(a->e, s, status_message(s));
    if (s != Status::Ok) a->e.status = s;
    if (a->reserve) {
        if (spares_.size() < spares_.capacity())
            spares_.push_back(a->reserve);
        else
            reserve_release(a->reserve);  // not reached: start_job took the room
        a->reserve = nullptr;
    }
    a->job->complete(s, a->e);
    destroy(a->job);
    a->job = nullptr;
}

// Sets the job's request going on this loop's multi handle.
void Loop::send(Active *a) {
    Transport::Slot *s = slot();
    Job &j = *a->job;
    try {
        transport_.prepare(s, j.request(), j.response());
        CURL *h = Transport::easy_of(s);
        curl_easy_setopt(h, CURLOPT_PRIVATE, static_cast<void *>(a));
        if (curl_multi_add_handle(multi_, h) != CURLM_OK) throw std::bad_alloc();
    } catch (...) {
        give_back(s);
        throw;
    }
    a->slot = s;
}

void Loop::apply(Active *a, Job::Step step) noexcept {
    try {
        switch (step) {
        case Job::Step::Send: {
            a->e = Error{};
            Status st = transport_.check_start(a->job->request(), a->e);
            if (st != Status::Ok) return apply(a, a->job->after(st, a->e));
            send(a);
            return;
        }
        case Job::Step::Wait:
            return;
        case Job::Step::Done:
            complete(a, a->job->result());
            return;
        }
    } catch (...) {
        a->e = Error{};
        complete(a, status_of_current_exception());
    }
}

void Loop::start_job(Job *job) noexcept {
    Active *a = nullptr;
    try {
        active_.reserve(active_.size() + 1);
        spares_.reserve(spares_.size() + active_.size() + 1);
        reserves_.reserve(spares_.size() + active_.size() + 1);
        a = make<Active>();
    } catch (...) {
        Error e;
        fail(e, Status::NoMemory, status_message(Status::NoMemory));
        job->complete(Status::NoMemory, e);
        destroy(job);
        return;
    }
    a->job = job;
    a->reserve = job->take_reserve();
    active_.push_back(a);
    Job::Step step;
    try {
        step = job->begin(a->e);
    } catch (...) {
        a->e = Error{};
        complete(a, status_of_current_exception());
        return;
    }
    apply(a, step);
}

// The transfer of `a` ended: the status the blocking path would return,
// then the job's next step.
void Loop::end_transfer(Active *a, const Transport::Ending &end) noexcept {
    Transport::Slot *s = a->slot;
    a->slot = nullptr;
    Job &j = *a->job;
    Job::Step step;
    try {
        pool_reserves();
        // Only the answer to an exchange's real code is parsed with the pool.
        ReserveScope scope(reserves_.data(), j.reads_with_reserve() ? reserves_.size() : 0);
        curl_multi_remove_handle(multi_, Transport::easy_of(s));
        Status st;
        try {
            st = transport_.finish(s, j.request(), end, j.response(), a->e);
        } catch (const std::bad_alloc &) {
            a->e = Error{};
            st = Status::NoMemory;
        }
        give_back(s);
        s = nullptr;
        step = j.after(st, a->e);
    } catch (...) {
        if (s) give_back(s);
        a->e = Error{};
        complete(a, status_of_current_exception());
        return;
    }
    apply(a, step);
}

// The pool in reserves_: the spares first, so that they drain and go, then
// the reserves of the calls in flight.
// libcurl reads every transfer's answer in the same step, and no allocation
// says which transfer it is for, so no call can keep its reserve to itself;
// each is sized for one call's worst case, and the pool keeps room for all
// of them (trim_spares).
void Loop::pool_reserves() noexcept {
    reserves_.clear();
    for (Reserve *r : spares_) reserves_.push_back(r);
    for (Active *a : active_)
        if (a->reserve) reserves_.push_back(a->reserve);
}

// Gives back the spares the pool can do without, the most drained first:
// each goes if the reserves left would still hold as much room as the
// calls in flight were given when they started (an untouched spare always
// goes, so without an allocation failure none is kept). An exchange whose
// reserve was drained by the others' answers can then still read its own,
// however many of them ended before it.
void Loop::trim_spares() noexcept {
    if (spares_.empty()) return;
    std::size_t room = 0, need = 0;
    for (Active *a : active_) {
        if (!a->reserve) continue;
        room += reserve_room(a->reserve);
        need += reserve_size(a->reserve);
    }
    for (Reserve *r : spares_) room += reserve_room(r);
    std::sort(spares_.begin(), spares_.end(),
              [](const Reserve *x, const Reserve *y) { return reserve_room(x) < reserve_room(y); });
    std::size_t k = 0;
    for (Reserve *r : spares_) {
        if (room - reserve_room(r) >= need) {
            room -= reserve_room(r);
            reserve_release(r);
        } else {
            spares_[k++] = r;
        }
    }
    spares_.resize(k);
}

// One step of every transfer, with the pool of reserves in scope.
void Loop::perform() noexcept {
    pool_reserves();
    CURLMcode rc;
    dep::take_failure();  // only failures of this step count when a transfer ends
    {
        ReserveScope scope(reserves_.data(), reserves_.size());
        int running = 0;
        rc = curl_multi_perform(multi_, &running);
    }
    if (rc != CURLM_OK) {
        // The multi handle itself failed: every transfer ends with it.
        Transport::Ending end;
        end.multi = rc;
        for (std::size_t i = 0; i < active_.size(); i++)
            if (active_[i]->slot) end_transfer(active_[i], end);
        return;
    }
    int queued = 0;
    while (CURLMsg *m = curl_multi_info_read(multi_, &queued)) {
        if (m->msg != CURLMSG_DONE) continue;
        void *p = nullptr;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
        Transport::Ending end;
        end.how = Transport::Ending::Done;
        end.result = m->data.result;
        if (p) end_transfer(static_cast<Active *>(p), end);
    }
}

// The checks of every tick: cancel flags and stalls of the transfers, and
// the jobs that wait (their flag and deadline).
void Loop::tick() noexcept {
    for (std::size_t i = 0; i < active_.size(); i++) {
        Active *a = active_[i];
        if (!a->job) continue;
        if (a->slot) {
            Transport::Ending end;
            end.how = transport_.interrupted(a->slot, a->job->request());
            if (end.how != Transport::Ending::Unfinished) end_transfer(a, end);
            continue;
        }
        Job::Step step;
        try {
            step = a->job->wait(a->e);
        } catch (...) {
            a->e = Error{};
            complete(a, Status::NoMemory);
            continue;
        }
        apply(a, step);
    }
}

void Loop::sweep() noexcept {
    std::size_t k = 0;
    for (Active *a : active_) {
        if (!a->job)
            destroy(a);
        else
            active_[k++] = a;
    }
    active_.resize(k);
    trim_spares();
}

// The handle is being freed: every pending job ends with Cancelled, its
// transfer concluded (and traced) like a cancelled blocking call's.
void Loop::cancel_all() noexcept {
    for (std::size_t i = 0; i < active_.size(); i++) {
        Active *a = active_[i];
        if (!a->job) continue;
        if (a->slot) {
            Transport::Slot *s = a->slot;
            a->slot = nullptr;
            curl_multi_remove_handle(multi_, Transport::easy_of(s));
            Transport::Ending end;
            end.how = Transport::Ending::Cancelled;
            try {
                transport_.finish(s, a->job->request(), end, a->job->response(), a->e);
            } catch (...) {
            }
            give_back(s);
        }
        a->e = Error{};
        fail(a->e, Status::Cancelled, "the handle was freed before the call ended");
        complete(a, Status::Cancelled);
    }
    sweep();
}

void Loop::run() noexcept {
    Vector<Job *> batch;
    for (;;) {
        bool stop = take_incoming(batch);
        for (Job *j : batch) start_job(j);
        batch.clear();
        if (stop) break;
        perform();
        long long now = monotonic_ms();
        if (now >= next_tick_ms_) {
            tick();
            next_tick_ms_ = now + kTickMs;
        }
        sweep();
        if (queued_here_) {
            queued_here_ = false;
            continue;
        }
        long wait = active_.empty() ? kIdleMs : static_cast<long>(next_tick_ms_ - now);
        curl_multi_poll(multi_, nullptr, 0, wait < 1 ? 1 : static_cast<int>(wait), nullptr);
    }
    cancel_all();
    // Queued between the last look and the stop flag: none (queue refuses
    // once stopping), but a job taken in the same pass is already active.
}

Loop *Async::current() {
    if (loop_ && loop_->process() != process_mark()) {
        abandoned_ = loop_;  // the parent's (see async.hpp)
        loop_ = nullptr;
    }
    return loop_;
}

Status Async::submit(Job *job, Error &e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!current()) {
        Loop *l = make<Loop>(transport_);
        try {
            l->start();
        } catch (const std::bad_alloc &) {
            destroy(l);
            throw;
        } catch (...) {
            destroy(l);
            return fail(e, Status::Internal, "could not start the handle's I/O thread");
        }
        loop_ = l;
    }
    return loop_->queue(job, e);
}

Async::~Async() {
    Loop *l;
    {
        std::lock_guard<std::mutex> lock(mu_);
        l = current();
    }
    if (!l) return;
    if (l->on_own_thread()) {
        std::fputs(
            "lightfunnels-auth: lf_auth_free() was called from a done callback of the same handle; "
            "that is not allowed (the handle's I/O thread cannot wait for itself). Aborting.\n",
            stderr);
        std::abort();
    }
    l->stop_and_join();
    destroy(l);
}

}  // namespace lf
