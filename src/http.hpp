// HTTP over libcurl: POST only, TLS verification always on, redirects never
// followed, no retries, size caps enforced in our own callbacks, deadlines
// and cancellation checked at least every 100 ms.
//
// A Transport keeps a pool of (multi, easy) pairs: each pair owns its
// connection cache, so a pair taken from the pool reuses a live TLS
// connection; a share handle gives all pairs one DNS cache and one TLS
// session cache. Every new connection verifies with the process-wide trust
// store for the CA file (trust.hpp), installed by an SSL_CTX callback.
#pragma once

#include <cstddef>
#include <mutex>
#include <string_view>

#include <curl/curl.h>

#include "alloc.hpp"
#include "error.hpp"
#include "trace.hpp"

namespace lf {

struct TransportConfig {
    const char *ca_file = nullptr;  // nullptr: system store
    long connect_timeout_ms = 10000;
    long stall_timeout_ms = 10000;  // under 1 byte/s for this long: Timeout
    std::size_t max_response_bytes = 1 << 20;
    const Tracer *tracer = nullptr;  // the handle's; outlives the Transport
};

// Milliseconds on a monotonic clock (steady_clock), for deadlines.
long long monotonic_ms() noexcept;
// The caller's cancel flag (nullptr: none), read with acquire ordering.
int load_cancel(const int *flag) noexcept;

// Whether a request can have reached the server (lf_code_sent).
enum class Sent { No = 0, Maybe = 1, Yes = 2 };

// A request header list made with curl_slist_append (libcurl's copies of the
// lines), freed with its owner. Lines carrying a secret are not appended:
// libcurl would free its copy unwiped. Such a line is a node of the caller's
// own, over wiping memory, put in front of a list (Client, graphql.cpp).
class HeaderList {
public:
    HeaderList() = default;
    HeaderList(const HeaderList &) = delete;
    HeaderList &operator=(const HeaderList &) = delete;
    ~HeaderList() { curl_slist_free_all(head_); }
    void append(const char *line);  // throws std::bad_alloc
    curl_slist *get() const noexcept { return head_; }

private:
    curl_slist *head_ = nullptr;
};

struct HttpRequest {
    const char *url = nullptr;
    bool allow_http = false;  // the URL is plain http to loopback
    bool loopback = false;    // the host is loopback: never use a proxy
    std::string_view body;
    const curl_slist *headers = nullptr;  // borrowed, read-only
    long long deadline_ms = 0;            // on monotonic_ms()'s clock: the request ends there at the latest
    const int *cancel = nullptr;
    const char *what = "server";  // for messages: "token endpoint", "API"
    std::size_t max_body = 0;     // 0: the transport's max_response_bytes
    Sent *sent = nullptr;         // optional: raised to Maybe as the request goes out,
                                  // to Yes when a complete answer arrived
};

struct HttpResponse {
    long status = 0;
    long retry_after_s = 0;  // clamped to [0, 3600]
    String body;
    std::size_t reached = 0;  // the most bytes body held before it was last cleared
};

class Transport {
public:
    explicit Transport(const TransportConfig &cfg);  // throws std::bad_alloc
    Transport(const Transport &) = delete;
    Transport &operator=(const Transport &) = delete;
    ~Transport();

    // Ok when a complete HTTP response arrived (any status); otherwise the
    // transport failure (Network, Timeout, Tls, ResponseTooLarge, Cancelled,
    // NoMemory, InsecureTransport, Internal) with e filled.
    Status post(const HttpRequest &req, HttpResponse &resp, Error &e) const;

    // The same request run on another thread's multi handle (async.cpp): a
    // slot set up, checked and concluded by the very code post() uses, whose
    // easy handle the caller adds to its own multi. Not pooled: its
    // connections live in the caller's multi.
    struct Slot;
    // How a transfer ended: libcurl's result, or the cancel flag or the stall limit.
    struct Ending {
        enum How { Unfinished, Done, Cancelled, Stalled } how = Unfinished;
        CURLcode result = CURLE_OK;  // libcurl's, when Done
        CURLMcode multi = CURLM_OK;  // a failure of the multi interface itself
    };
    Slot *new_detached_slot() const;  // throws std::bad_alloc
    static void free_slot(Slot *s) noexcept;
    static CURL *easy_of(const Slot *s) noexcept;
    // Cancelled (nothing sent) when the request's flag is set already.
    Status check_start(const HttpRequest &req, Error &e) const noexcept;
    // Points the slot at the request (borrowed until finish()).
    void prepare(Slot *s, const HttpRequest &req, HttpResponse &resp) const;
    // Cancelled or Stalled when the transfer must end now, else Unfinished.
    // Call at least every 100 ms while it runs.
    Ending::How interrupted(Slot *s, const HttpRequest &req) const noexcept;
    // After the easy handle left its multi: the caller's status, traced.
    Status finish(Slot *s, const HttpRequest &req, const Ending &end, HttpResponse &resp, Error &e) const;

private:
    Slot *acquire() const;
    Ending drive(Slot *s, const HttpRequest &req) const;
    Status conclude(Slot *s, const HttpRequest &req, const Ending &end, HttpResponse &resp, Error &e) const;
    void adopt_after_fork() const;  // under mu_
    void make_share() const;
    void release(Slot *s) const noexcept;
    Slot *new_slot(bool own_multi) const;
    static void let_go_of_sockets(Slot *s) noexcept;
    void trace_transfer(Slot *s, const HttpRequest &req, Status st, const Error &e) const noexcept;

    String ca_file_;
    long connect_timeout_ms_;
    long stall_timeout_ms_;
    std::size_t max_response_bytes_;
    const Tracer *tracer_;
    struct ShareLocks;
    // The share for new slots (CURLSH) and its locks; replaced in a child
    // process after fork() (under mu_), so mutable.
    mutable void *share_ = nullptr;
    mutable ShareLocks *locks_ = nullptr;
    mutable std::mutex mu_;
    mutable Vector<Slot *> idle_;
    mutable long process_;  // the process the pool belongs to (process_mark())
};

}  // namespace lf
