// The fault-injection listener, for faults cpp-httplib cannot produce
// (never-answering peers, RST, hand-written responses). Scripted by a queue
// of steps (one thread, connections handled in order) or by a Fault (one
// thread per connection, test_fault.cpp). Every wait polls the stop flag,
// and stop shuts every open connection down so no thread stays blocked.
#include "test_server.h"
#include "test_server_internal.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <strings.h>
#include <thread>
#include <vector>

namespace {
struct Step {
    bool read_request;
    std::string bytes;
    ts_raw_after after;
};
}  // namespace

struct ts_raw {
    int listen_fd = -1;
    int port = 0;
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::mutex mu;
    std::deque<Step> steps;
    std::deque<ts_request> requests;
    std::deque<std::string> urls;
    std::vector<int> held;  // stalled connections, closed at stop
    std::atomic<size_t> connections{0};

    std::unique_ptr<ts::Fault> fault;  // set: one Fault thread per connection
    std::vector<std::thread> workers;
    std::set<int> open_fds;  // of the Fault threads, shut down at stop
    std::condition_variable idle;
    std::condition_variable pushed;  // a step was pushed, or stopping

    void run();
    void run_fault();
    void serve_fault(int fd, int cid);
    bool wait_readable(int fd, long timeout_ms);
    bool read_request(int fd, std::string &pending);
    void send_all(int fd, const std::string &bytes);
};

bool ts_raw::wait_readable(int fd, long timeout_ms) {
    for (long waited = 0; waited < timeout_ms && !stopping; waited += 50) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, 50);
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
    return false;
}

static size_t parse_content_length(const std::string &head) {
    size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string::npos) {
        pos += 2;
        if (strncasecmp(head.c_str() + pos, "content-length:", 15) == 0)
            return static_cast<size_t>(std::strtoul(head.c_str() + pos + 15, nullptr, 10));
    }
    return 0;
}

bool ts_raw::read_request(int fd, std::string &pending) {
    char buf[16384];
    size_t header_end;
    while ((header_end = pending.find("\r\n\r\n")) == std::string::npos) {
        if (pending.size() > (1u << 20) || !wait_readable(fd, 10000)) return false;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        pending.append(buf, static_cast<size_t>(n));
    }
    std::string head = pending.substr(0, header_end);
    size_t body_len = parse_content_length(head);
    if (body_len > (8u << 20)) return false;
    while (pending.size() < header_end + 4 + body_len) {
        if (!wait_readable(fd, 10000)) return false;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        pending.append(buf, static_cast<size_t>(n));
    }
    ts_request rec;
    size_t line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    rec.method = line.substr(0, sp1);
    std::string target = sp1 != std::string::npos && sp2 > sp1 ? line.substr(sp1 + 1, sp2 - sp1 - 1) : "";
    size_t q = target.find('?');
    rec.path = target.substr(0, q);
    rec.query = q == std::string::npos ? "" : target.substr(q + 1);
    size_t pos = line_end;
    while (pos != std::string::npos && pos < head.size()) {
        pos += 2;
        size_t end = head.find("\r\n", pos);
        std::string h = head.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        size_t colon = h.find(':');
        if (colon != std::string::npos) {
            size_t v = colon + 1;
            while (v < h.size() && (h[v] == ' ' || h[v] == '\t')) v++;
            rec.headers.emplace_back(h.substr(0, colon), h.substr(v));
        }
        pos = end;
    }
    rec.body = pending.substr(header_end + 4, body_len);
    pending.erase(0, header_end + 4 + body_len);
    std::lock_guard<std::mutex> lock(mu);
    requests.push_back(std::move(rec));
    return true;
}

void ts_raw::send_all(int fd, const std::string &bytes) {
    size_t off = 0;
    while (off < bytes.size() && !stopping) {
        ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

void ts_raw::run() {
    while (!stopping) {
        if (!wait_readable(listen_fd, 200)) continue;
        int fd = accept(listen_fd, nullptr, nullptr);
        if (fd < 0) continue;
        ++connections;
        std::string pending;
        bool open = true;
        while (open && !stopping) {
            Step step;
            {
                std::lock_guard<std::mutex> lock(mu);
                if (steps.empty()) {
                    step = Step{false, "", TS_RAW_STALL};
                } else {
                    step = steps.front();
                    steps.pop_front();
                }
            }
            if (step.read_request && !read_request(fd, pending)) {
                close(fd);
                open = false;
                break;
            }
            send_all(fd, step.bytes);
            switch (step.after) {
            case TS_RAW_KEEP:
                break;
            case TS_RAW_CLOSE:
                shutdown(fd, SHUT_WR);
                close(fd);
                open = false;
                break;
            case TS_RAW_RESET: {
                struct linger lg = {1, 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                close(fd);
                open = false;
                break;
            }
            case TS_RAW_STALL: {
                std::lock_guard<std::mutex> lock(mu);
                held.push_back(fd);
                open = false;
                break;
            }
            case TS_RAW_WAIT: {
                std::unique_lock<std::mutex> lock(mu);
                pushed.wait_for(lock, std::chrono::seconds(30), [this] { return stopping || !steps.empty(); });
                break;
            }
            }
        }
    }
}

// A write to a connection the peer reset raises SIGPIPE in the writing
// thread; blocked here it stays with this thread (and dies with it), so a
// suite that checks its own SIGPIPE disposition sees only its own.
static void block_sigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void ts_raw::serve_fault(int fd, int cid) {
    block_sigpipe();
    fault->serve(fd, cid);
    {
        std::lock_guard<std::mutex> lock(mu);
        open_fds.erase(fd);
        close(fd);
    }
    fault->line("END " + std::to_string(cid));
    idle.notify_all();
}

void ts_raw::run_fault() {
    block_sigpipe();
    while (!stopping) {
        if (!wait_readable(listen_fd, 200)) continue;
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        int cid = static_cast<int>(++connections);
        fault->line("CONN " + std::to_string(cid));
        std::lock_guard<std::mutex> lock(mu);
        open_fds.insert(fd);
        workers.emplace_back([this, fd, cid] { serve_fault(fd, cid); });
    }
}

static ts_raw *listen_loopback(bool small_rcvbuf) {
    auto *r = new ts_raw;
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int rcvbuf = 16384;  // accepted sockets inherit it
    if (r->listen_fd < 0 ||
        (small_rcvbuf && setsockopt(r->listen_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) ||
        bind(r->listen_fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0 ||
        listen(r->listen_fd, 64) != 0 ||
        getsockname(r->listen_fd, reinterpret_cast<struct sockaddr *>(&addr), &len) != 0) {
        std::perror("raw listener");
        if (r->listen_fd >= 0) close(r->listen_fd);
        delete r;
        return nullptr;
    }
    r->port = ntohs(addr.sin_port);
    return r;
}

extern "C" ts_raw *ts_raw_start(void) {
    ts_raw *r = listen_loopback(false);
    if (r) r->thread = std::thread([r] { r->run(); });
    return r;
}

extern "C" ts_raw *ts_raw_start_fault(const ts_fault_config *cfg) {
    auto fault = std::make_unique<ts::Fault>(*cfg);
    if (!fault->init_tls()) {
        std::fprintf(stderr, "fault server: TLS setup failed\n");
        return nullptr;
    }
    ts_raw *r = listen_loopback(fault->small_rcvbuf());
    if (!r) return nullptr;
    fault->stopping = &r->stopping;
    fault->port = r->port;
    r->fault = std::move(fault);
    r->thread = std::thread([r] { r->run_fault(); });
    return r;
}

extern "C" void ts_raw_stop(ts_raw *r) {
    if (!r) return;
    {
        std::lock_guard<std::mutex> lock(r->mu);
        r->stopping = true;
    }
    r->pushed.notify_all();
    if (r->thread.joinable()) r->thread.join();
    {
        std::lock_guard<std::mutex> lock(r->mu);
        for (int fd : r->open_fds) shutdown(fd, SHUT_RDWR);
    }
    for (auto &w : r->workers) w.join();
    for (int fd : r->held) close(fd);
    close(r->listen_fd);
    delete r;
}

extern "C" int ts_raw_wait_idle(ts_raw *r, long timeout_ms) {
    std::unique_lock<std::mutex> lock(r->mu);
    return r->idle.wait_for(lock, std::chrono::milliseconds(timeout_ms), [r] { return r->open_fds.empty(); }) ? 1 : 0;
}

extern "C" char *ts_raw_record(ts_raw *r, size_t *len) {
    std::string rec = r->fault ? r->fault->snapshot() : std::string();
    char *out = static_cast<char *>(std::malloc(rec.size() + 1));
    if (!out) return nullptr;
    std::memcpy(out, rec.data(), rec.size());
    out[rec.size()] = '\0';
    if (len) *len = rec.size();
    return out;
}

extern "C" int ts_raw_port(const ts_raw *r) { return r ? r->port : 0; }

extern "C" const char *ts_raw_url(ts_raw *r, const char *scheme, const char *path) {
    std::lock_guard<std::mutex> lock(r->mu);
    r->urls.push_back(std::string(scheme) + "://127.0.0.1:" + std::to_string(r->port) + (path ? path : ""));
    return r->urls.back().c_str();
}

extern "C" void ts_raw_push(ts_raw *r, int read_request, const void *bytes, size_t len, ts_raw_after after) {
    {
        std::lock_guard<std::mutex> lock(r->mu);
        r->steps.push_back(Step{read_request != 0,
                                std::string(static_cast<const char *>(bytes ? bytes : ""), bytes ? len : 0), after});
    }
    r->pushed.notify_all();
}

extern "C" size_t ts_raw_connection_count(ts_raw *r) { return r->connections.load(); }

extern "C" size_t ts_raw_request_count(ts_raw *r) {
    std::lock_guard<std::mutex> lock(r->mu);
    return r->requests.size();
}

extern "C" const ts_request *ts_raw_request(ts_raw *r, size_t i) {
    std::lock_guard<std::mutex> lock(r->mu);
    return i < r->requests.size() ? &r->requests[i] : nullptr;
}

extern "C" int ts_raw_saw(ts_raw *r, const char *needle) {
    std::lock_guard<std::mutex> lock(r->mu);
    for (const auto &q : r->requests)
        if (ts::request_contains(q, needle)) return 1;
    return 0;
}
