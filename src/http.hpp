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

#include "alloc.hpp"
#include "error.hpp"

struct curl_slist;

namespace lf {

struct TransportConfig {
    const char *ca_file = nullptr;   // nullptr: system store
    long connect_timeout_ms = 10000;
    std::size_t max_response_bytes = 1 << 20;
};

struct HttpRequest {
    const char *url = nullptr;
    bool allow_http = false;              // the URL is plain http to loopback
    std::string_view body;
    const curl_slist *headers = nullptr;  // borrowed, read-only
    long timeout_ms = 30000;
    const int *cancel = nullptr;
    const char *what = "server";          // for messages: "token endpoint", "API"
};

struct HttpResponse {
    long status = 0;
    long retry_after_s = 0;  // clamped to [0, 3600]
    String body;
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

private:
    struct Slot;
    Slot *acquire() const;
    void release(Slot *s) const noexcept;
    Slot *new_slot() const;
    static void free_slot(Slot *s) noexcept;

    String ca_file_;
    long connect_timeout_ms_;
    std::size_t max_response_bytes_;
    void *share_ = nullptr;  // CURLSH
    struct ShareLocks;
    ShareLocks *locks_ = nullptr;
    mutable std::mutex mu_;
    mutable Vector<Slot *> idle_;
};

}  // namespace lf
