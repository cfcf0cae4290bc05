#include "http.hpp"

#include "global.hpp"
#include "trust.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

namespace lf {

int load_cancel(const int *flag) noexcept { return flag ? __atomic_load_n(flag, __ATOMIC_ACQUIRE) : 0; }

long long monotonic_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
constexpr long kPollMs = 100;  // cancellation latency bound
constexpr std::size_t kMaxIdleSlots = 32;

struct Sink {
    String *body = nullptr;
    std::size_t max_body = 0;
    std::size_t header_bytes = 0;
    bool body_too_large = false;
    bool headers_too_large = false;
    bool no_memory = false;
    // The first Content-Length of the current response (-1: none yet), and
    // whether a later one differed (RFC 9112 6.3: unrecoverable; libcurl
    // 7.88 silently takes the last one).
    long long content_length = -1;
    bool length_conflict = false;
};

// "Content-Length: <digits>" (name case-insensitive, optional spaces); -1 when
// the line is another header or the value is not plain digits.
long long content_length_of(const char *p, size_t n) noexcept {
    static const char name[] = "content-length:";
    constexpr size_t k = sizeof name - 1;
    if (n < k) return -1;
    for (size_t i = 0; i < k; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != name[i]) return -1;
    }
    size_t i = k;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
    long long v = 0;
    size_t digits = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9' && digits < 18; i++, digits++) v = v * 10 + (p[i] - '0');
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    return digits && i == n ? v : -1;
}

extern "C" size_t lf_on_body(char *p, size_t size, size_t n, void *ud) {
    auto *s = static_cast<Sink *>(ud);
    size_t total = size * n;
    if (total > s->max_body - s->body->size()) {
        s->body_too_large = true;
        return 0;
    }
    try {
        s->body->append(p, total);
    } catch (...) {
        s->no_memory = true;
        return 0;
    }
    return total;
}

// libcurl calls the pre-request callback before it sends a request; it
// calls it again when it silently re-sends one on a fresh connection (which
// it does when a reused connection dies after the request went out). The
// second call is refused, so a single-use code is never sent twice.
struct Guard {
    int sends = 0;
    Sent *sent = nullptr;  // the request's
    // Tracing only: the connection the request went out on, noted while it
    // is certainly alive (the TLS object is gone once libcurl closes it).
    CURL *trace_easy = nullptr;  // nullptr: not tracing
    char tls[96] = {};
};

// "TLSv1.3, TLS_AES_256_GCM_SHA384, session resumed" of the connection the
// request is about to go out on.
void note_tls(Guard &g) noexcept {
    const curl_tlssessioninfo *ti = nullptr;
    if (curl_easy_getinfo(g.trace_easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti || !ti->internals ||
        ti->backend != CURLSSLBACKEND_OPENSSL)
        return;
    auto *ssl = static_cast<SSL *>(ti->internals);
    std::snprintf(g.tls, sizeof g.tls, "%s, %s, %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
                  SSL_session_reused(ssl) ? "TLS session resumed" : "full handshake");
}

void mark_sent(Sent *sent, Sent to) noexcept {
    if (sent && static_cast<int>(*sent) < static_cast<int>(to)) *sent = to;
}

extern "C" int lf_on_prereq(void *ud, char *, char *, int, int) {
    auto *g = static_cast<Guard *>(ud);
    if (++g->sends > 1) return CURL_PREREQFUNC_ABORT;
    mark_sent(g->sent, Sent::Maybe);  // from here on the request may reach the server
    if (g->trace_easy) note_tls(*g);
    return CURL_PREREQFUNC_OK;
}

extern "C" size_t lf_on_header(char *p, size_t size, size_t n, void *ud) {
    auto *s = static_cast<Sink *>(ud);
    size_t total = size * n;
    s->header_bytes += total;
    if (s->header_bytes > kMaxHeaderBytes) {
        s->headers_too_large = true;
        return 0;
    }
    if (total >= 5 && std::memcmp(p, "HTTP/", 5) == 0) s->content_length = -1;  // a new response's head
    long long length = content_length_of(p, total);
    if (length >= 0) {
        if (s->content_length >= 0 && s->content_length != length) {
            s->length_conflict = true;
            return 0;
        }
        s->content_length = length;
    }
    return total;
}

Status map_curl(CURLcode rc, const Sink &sink, const Guard &guard, const char *errbuf, const char *what, Error &e) {
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    bool dep_oom = dep::take_failure();
    // libcurl 7.88 reports a header line over its 100 KiB limit as
    // CURLE_OUT_OF_MEMORY, without a message. Once headers have started to
    // arrive, that is the server's doing: with hooked dependencies we know
    // whether an allocation really failed; without, a giant header line is
    // far likelier than the C heap running out at that very moment.
    if (rc == CURLE_OUT_OF_MEMORY && !dep_oom && !sink.no_memory && sink.header_bytes > 0)
        return failf(e, Status::ResponseTooLarge, "%s: a response header line is too large", what);
    if (sink.no_memory || rc == CURLE_OUT_OF_MEMORY || dep_oom) throw std::bad_alloc();
    if (sink.body_too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return failf(e, Status::ResponseTooLarge, "%s: response body exceeds %zu bytes", what, sink.max_body);
    if (sink.length_conflict)
        return failf(e, Status::Protocol, "%s: malformed HTTP response (conflicting Content-Length headers)", what);
    if (sink.headers_too_large)
        return failf(e, Status::ResponseTooLarge, "%s: response headers exceed %zu bytes", what, kMaxHeaderBytes);
    if (rc == CURLE_ABORTED_BY_CALLBACK && guard.sends > 1)
        return failf(e, Status::Network,
                     "%s: the connection closed after the request was sent; not re-sent (it may have been received)",
                     what);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return failf(e, Status::Timeout, "%s: timed out (%s)", what, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CLIENTCERT:
        return failf(e, Status::Tls, "%s: TLS failure (%s)", what, detail);
    // Every URL was checked for its scheme before anything was sent and
    // redirects are never followed, so here libcurl means the answer: an
    // HTTP/0.9 reply or a status line that is not HTTP/1.x.
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        return failf(e, Status::Protocol, "%s: malformed HTTP response (%s)", what, detail);
    default:
        return failf(e, Status::Network, "%s: network error (%s)", what, detail);
    }
}

template <class T>
void setopt(CURL *h, CURLoption opt, T value) {
    CURLcode rc = curl_easy_setopt(h, opt, value);
    if (rc == CURLE_OUT_OF_MEMORY) throw std::bad_alloc();
    if (rc != CURLE_OK) throw std::runtime_error(curl_easy_strerror(rc));
}

// What a slot's TLS contexts trust: the process-wide store for ca_file
// (trust.hpp), installed by libcurl's SSL_CTX callback at each new
// connection, so a changed file is seen by the next connection.
struct Trust {
    const char *ca_file = nullptr;  // the Transport's; nullptr: system store
    bool no_memory = false;
    char why[320] = {};  // why the CA file could not be used
};

extern "C" CURLcode lf_on_ssl_ctx(CURL *, void *ssl_ctx, void *ud) {
    auto *t = static_cast<Trust *>(ud);
    // libcurl installs a key-logging callback when SSLKEYLOGFILE is set; the
    // keys of connections that carry secrets are never written anywhere.
    SSL_CTX_set_keylog_callback(static_cast<SSL_CTX *>(ssl_ctx), nullptr);
    X509_STORE *store = nullptr;
    switch (trust::acquire(t->ca_file, &store, t->why, sizeof t->why)) {
    case trust::Result::Ok:
        SSL_CTX_set_cert_store(static_cast<SSL_CTX *>(ssl_ctx), store);  // takes the reference
        return CURLE_OK;
    case trust::Result::NoSource:
        return CURLE_OK;  // libcurl has no CA location either: nothing verifies, as before
    case trust::Result::NoMemory:
        t->no_memory = true;
        return CURLE_OUT_OF_MEMORY;
    case trust::Result::Failed:
        break;
    }
    return CURLE_SSL_CACERT_BADFILE;
}

// What the TLS connections of a slot trust: the process-wide store
// installed by lf_on_ssl_ctx, or, with a TLS backend that has no SSL_CTX
// callback, the file handed to libcurl.
void set_trust(CURL *h, Trust &t, const String &ca_file) {
    t.ca_file = ca_file.empty() ? nullptr : ca_file.c_str();
    if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, lf_on_ssl_ctx) == CURLE_OK) {
        // The callback installs the only anchors. libcurl loads nothing
        // itself, and keeps no per-multi copy of the store that would
        // outlive a change of the file.
        setopt(h, CURLOPT_SSL_CTX_DATA, static_cast<void *>(&t));
        setopt(h, CURLOPT_CAINFO, static_cast<const char *>(nullptr));
        setopt(h, CURLOPT_CAPATH, static_cast<const char *>(nullptr));
#if LIBCURL_VERSION_NUM >= 0x075700
        // libcurl 7.87+ keeps the store it verified with per multi handle;
        // an older libcurl (at run time) has no such cache to turn off.
        if (curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, 0L) == CURLE_OUT_OF_MEMORY) throw std::bad_alloc();
#endif
    } else if (!ca_file.empty()) {
        // A libcurl without the callback (another TLS backend) loads the
        // file itself. Only these anchors: without clearing CAPATH, it
        // would also trust the system directory next to the given bundle.
        setopt(h, CURLOPT_CAINFO, ca_file.c_str());
        setopt(h, CURLOPT_CAPATH, static_cast<const char *>(nullptr));
    }
}

// A request whose connection moves no byte either way for the stall limit
// is given up on, long before the whole-request timeout: the server stalls.
// (libcurl's low-speed limit averages over its last five seconds, so it
// fires seconds late.) Connecting and the TLS handshake are the connect
// timeout's: the watch starts when the request starts to go out.
class StallWatch {
public:
    explicit StallWatch(long limit_ms) noexcept : limit_ms_(limit_ms) {}
    bool stalled(CURL *h, const Sink &sink, const Guard &guard) noexcept {
        if (guard.sends == 0) return false;
        curl_off_t up = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
        unsigned long long moved = sink.header_bytes + sink.body->size() + static_cast<unsigned long long>(up);
        long long now = monotonic_ms();
        if (since_ < 0 || moved != moved_) {
            moved_ = moved;
            since_ = now;
            return false;
        }
        return now - since_ >= limit_ms_;
    }

private:
    long limit_ms_;
    unsigned long long moved_ = 0;
    long long since_ = -1;
};

}  // namespace

void HeaderList::append(const char *line) {
    curl_slist *grown = curl_slist_append(head_, line);
    if (!grown) throw std::bad_alloc();
    head_ = grown;
}

struct Transport::ShareLocks {
    std::mutex m[CURL_LOCK_DATA_LAST];
};

namespace {
extern "C" void lf_share_lock(CURL *, curl_lock_data data, curl_lock_access, void *ud) {
    static_cast<std::mutex *>(ud)[data].lock();
}
extern "C" void lf_share_unlock(CURL *, curl_lock_data data, void *ud) { static_cast<std::mutex *>(ud)[data].unlock(); }
}  // namespace

// The sockets a slot's connections use, so that a child process can let go
// of the ones it inherited without touching them (see adopt_after_fork).
struct Sockets {
    static constexpr int kMax = 8;  // above the connection cache's limit + 1
    curl_socket_t fd[kMax];
    Sockets() noexcept {
        for (curl_socket_t &f : fd) f = CURL_SOCKET_BAD;
    }
};

// ud is nullptr for a detached slot: its connections live in another
// thread's multi handle, which a child process abandons whole.
extern "C" curl_socket_t lf_open_socket(void *ud, curlsocktype, struct curl_sockaddr *a) {
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd == CURL_SOCKET_BAD || !ud) return fd;
    auto *s = static_cast<Sockets *>(ud);
    for (curl_socket_t &f : s->fd) {
        if (f == CURL_SOCKET_BAD) {
            f = fd;
            return fd;
        }
    }
    close(fd);  // cannot happen with the cache limit below; refuse rather than lose track
    return CURL_SOCKET_BAD;
}

extern "C" int lf_close_socket(void *ud, curl_socket_t fd) {
    if (ud)
        for (curl_socket_t &f : static_cast<Sockets *>(ud)->fd)
            if (f == fd) f = CURL_SOCKET_BAD;
    return close(fd);
}

constexpr long kMaxCachedConnections = 4;
static_assert(kMaxCachedConnections + 1 < Sockets::kMax, "room for the cached connections and a new one");

struct Transport::Slot {
    CURLM *multi = nullptr;  // nullptr: a detached slot
    CURL *easy = nullptr;
    int protocols = 0;  // 1: https only, 2: http and https
    int no_proxy = -1;  // 1: proxies off (loopback), 0: the environment's
    Sink sink;
    Guard guard;
    Trust trust;
    Sockets sockets;
    StallWatch watch{0};  // the current request's
    char errbuf[CURL_ERROR_SIZE] = {};
    // Tracing: the previous request of this slot, to say why its connection
    // was not reused.
    const char *last_url = nullptr;
    long long last_done_ms = 0;
};

Transport::Transport(const TransportConfig &cfg)
    : ca_file_(cfg.ca_file ? cfg.ca_file : ""),
      connect_timeout_ms_(cfg.connect_timeout_ms),
      stall_timeout_ms_(cfg.stall_timeout_ms),
      max_response_bytes_(cfg.max_response_bytes),
      tracer_(cfg.tracer),
      process_(process_mark()) {
    make_share();
}

// A new share handle (one DNS cache, one TLS-session cache) for the slots
// made from now on. The previous one, if any, is left to its slots.
void Transport::make_share() const {
    ShareLocks *locks = make<ShareLocks>();
    CURLSH *sh = curl_share_init();
    if (!sh) {
        destroy(locks);
        throw std::bad_alloc();
    }
    if (curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, lf_share_lock) != CURLSHE_OK ||
        curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, lf_share_unlock) != CURLSHE_OK ||
        curl_share_setopt(sh, CURLSHOPT_USERDATA, locks->m) != CURLSHE_OK ||
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        curl_share_cleanup(sh);
        destroy(locks);
        throw std::bad_alloc();
    }
    share_ = sh;
    locks_ = locks;
}

Transport::~Transport() {
    bool inherited = process_mark() != process_;  // freed in a child process: see adopt_after_fork
    for (Slot *s : idle_) {
        if (inherited) let_go_of_sockets(s);
        free_slot(s);
    }
    idle_.clear();
    curl_share_cleanup(static_cast<CURLSH *>(share_));
    destroy(locks_);
}

void Transport::free_slot(Slot *s) noexcept {
    if (!s) return;
    if (s->easy) curl_easy_cleanup(s->easy);
    if (s->multi) curl_multi_cleanup(s->multi);
    destroy(s);
}

Transport::Slot *Transport::new_slot(bool own_multi) const {
    Slot *s = make<Slot>();
    try {
        s->easy = curl_easy_init();
        if (!s->easy) throw std::bad_alloc();
        if (own_multi) {
            s->multi = curl_multi_init();
            if (!s->multi) throw std::bad_alloc();
            if (curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, kMaxCachedConnections) == CURLM_OUT_OF_MEMORY)
                throw std::bad_alloc();
        }
        CURL *h = s->easy;
        void *sockets = own_multi ? static_cast<void *>(&s->sockets) : nullptr;
        setopt(h, CURLOPT_OPENSOCKETFUNCTION, lf_open_socket);
        setopt(h, CURLOPT_OPENSOCKETDATA, sockets);
        setopt(h, CURLOPT_CLOSESOCKETFUNCTION, lf_close_socket);
        setopt(h, CURLOPT_CLOSESOCKETDATA, sockets);
        setopt(h, CURLOPT_NOSIGNAL, 1L);
        setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // never: requests carry credentials
        setopt(h, CURLOPT_PROTOCOLS_STR, "https");
        s->protocols = 1;
        setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
        set_trust(h, s->trust, ca_file_);
        setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms_);
        setopt(h, CURLOPT_SHARE, static_cast<CURLSH *>(share_));
        // Decode a compressed answer (decoded bytes still count against the
        // cap). The client's header lists remove the Accept-Encoding line
        // this would add, so servers are not invited to compress.
        setopt(h, CURLOPT_ACCEPT_ENCODING, "");
        setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        // Reuse only connections idle for less than a second. A server may
        // close an idle keep-alive connection at any moment; libcurl 7.88
        // takes one whose TLS close_notify is already waiting for alive, and
        // the request sent on it fails after it went out. The library never
        // re-sends (the pre-request guard below), so such a failure would
        // reach the caller: better a new connection (with a resumed TLS
        // session from the shared cache) than a spent code.
        setopt(h, CURLOPT_MAXAGE_CONN, 0L);
        setopt(h, CURLOPT_WRITEFUNCTION, lf_on_body);
        setopt(h, CURLOPT_HEADERFUNCTION, lf_on_header);
        setopt(h, CURLOPT_WRITEDATA, &s->sink);
        setopt(h, CURLOPT_HEADERDATA, &s->sink);
        setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
        setopt(h, CURLOPT_PREREQFUNCTION, lf_on_prereq);
        setopt(h, CURLOPT_PREREQDATA, &s->guard);
        // libcurl 7.88 can double-free a TLS session on an allocation failure
        // inside its session cache; only reachable with hooked dependencies.
        if (dependencies_hooked()) setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    } catch (...) {
        free_slot(s);
        throw;
    }
    return s;
}

namespace {
// The slot this thread used last, on any Transport. Only ever compared with
// the pointers in a Transport's own idle list, never dereferenced, so a stale
// value (its Transport gone) is harmless.
thread_local const void *t_last_slot = nullptr;
}  // namespace

// A thread gets back the slot it used last when it is idle: its connection,
// TLS state and buffers are still in this core's caches. Handing slots round
// between threads (a plain LIFO does, when two threads alternate) made every
// exchange on two threads pay for cache misses on another core's TLS state.
Transport::Slot *Transport::acquire() const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (process_mark() != process_) adopt_after_fork();
        if (!idle_.empty()) {
            std::size_t i = idle_.size() - 1;
            for (std::size_t k = 0; k < idle_.size(); k++) {
                if (idle_[k] == t_last_slot) {
                    i = k;
                    break;
                }
            }
            Slot *s = idle_[i];
            idle_[i] = idle_.back();
            idle_.pop_back();
            return s;
        }
        // Reserve room now, so release() never has to allocate.
        idle_.reserve(idle_.size() + 1 > kMaxIdleSlots ? idle_.size() + 1 : kMaxIdleSlots);
    }
    return new_slot(true);
}

Transport::Slot *Transport::new_detached_slot() const {
    std::lock_guard<std::mutex> lock(mu_);  // the share may be replaced after fork()
    if (process_mark() != process_) adopt_after_fork();
    return new_slot(false);
}

CURL *Transport::easy_of(const Slot *s) noexcept { return s->easy; }

void Transport::let_go_of_sockets(Slot *s) noexcept {
    for (curl_socket_t fd : s->sockets.fd) {
        if (fd == CURL_SOCKET_BAD) continue;
        int blank = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (blank >= 0) {
            dup3(blank, fd, O_CLOEXEC);
            close(blank);
        }
    }
}

// In a child process after fork(): the pooled connections are the
// parent's, still open in the parent. Closing them the usual way would read
// from and write a TLS close_notify to the parent's sockets, so each socket
// is first replaced (dup3) by a fresh, unconnected one; libcurl's cleanup
// then fails harmlessly on that and closes it. The share (DNS and TLS-session
// caches, and locks a parent thread may have held) is replaced too. Slots
// other parent threads were using at the fork are not in this process's
// pool any more: they are left alone.
void Transport::adopt_after_fork() const {
    for (Slot *s : idle_) {
        let_go_of_sockets(s);
        free_slot(s);
    }
    idle_.clear();
    void *old_share = share_;
    ShareLocks *old_locks = locks_;
    make_share();
    // Still in use when another parent thread had a slot out at the fork:
    // then it stays (with those slots, which this process never sees again).
    if (curl_share_cleanup(static_cast<CURLSH *>(old_share)) == CURLSHE_OK) destroy(old_locks);
    process_ = process_mark();
}

void Transport::release(Slot *s) const noexcept {
    t_last_slot = s;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (idle_.size() < idle_.capacity() && idle_.size() < kMaxIdleSlots) {
            idle_.push_back(s);
            return;
        }
    }
    free_slot(s);
}

// Points the slot's handle at this request: limits, protocols, proxy use,
// the body and headers (both the caller's, borrowed until the transfer ends).
void Transport::prepare(Slot *s, const HttpRequest &req, HttpResponse &resp) const {
    CURL *h = s->easy;
    resp.status = 0;
    resp.retry_after_s = 0;
    if (resp.body.size() > resp.reached) resp.reached = resp.body.size();
    resp.body.clear();
    s->sink = Sink{};
    s->sink.body = &resp.body;
    s->sink.max_body = req.max_body && req.max_body < max_response_bytes_ ? req.max_body : max_response_bytes_;
    // An honest Content-Length over the cap is refused before the body
    // arrives; the write callback enforces the cap for every other answer.
    setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(s->sink.max_body));
    s->errbuf[0] = '\0';
    s->trust.why[0] = '\0';
    s->trust.no_memory = false;

    int want = req.allow_http ? 2 : 1;
    if (s->protocols != want) {
        setopt(h, CURLOPT_PROTOCOLS_STR, want == 2 ? "http,https" : "https");
        s->protocols = want;
    }
    // Plain http is allowed only because it stays on this machine: a
    // loopback request never goes through a proxy (an empty CURLOPT_PROXY
    // also overrides http_proxy, ALL_PROXY and friends). Other https URLs
    // honour the environment's proxy, which tunnels TLS with CONNECT.
    int no_proxy = req.loopback ? 1 : 0;
    if (s->no_proxy != no_proxy) {
        setopt(h, CURLOPT_PROXY, no_proxy ? "" : static_cast<const char *>(nullptr));
        s->no_proxy = no_proxy;
    }
    setopt(h, CURLOPT_URL, req.url);
    s->guard = Guard{};
    s->guard.sent = req.sent;
    if (tracer_ && tracer_->on()) s->guard.trace_easy = h;
    // POSTFIELDS, not a read callback: libcurl then sends headers and a small
    // body in one write (one TLS record). The buffer is the caller's, wiped by it.
    setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    // libcurl's option takes a non-const list, and only reads it.
    setopt(h, CURLOPT_HTTPHEADER, const_cast<curl_slist *>(req.headers));
    // At least 1: 0 would mean no limit. check_start() refused a request
    // whose deadline had passed.
    long long left = req.deadline_ms - monotonic_ms();
    setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left < 1 ? 1 : left > 0x7fffffff ? 0x7fffffff : left));
    s->watch = StallWatch(stall_timeout_ms_);
}

Transport::Ending::How Transport::interrupted(Slot *s, const HttpRequest &req) const noexcept {
    if (load_cancel(req.cancel)) return Ending::Cancelled;
    if (s->watch.stalled(s->easy, s->sink, s->guard)) return Ending::Stalled;
    return Ending::Unfinished;
}

// Runs the transfer to its end: libcurl's result, or the caller's cancel
// flag, or the stall limit. Bounded: libcurl ends the transfer at
// CURLOPT_TIMEOUT_MS, and the flag and the stall are checked at least every
// kPollMs.
Transport::Ending Transport::drive(Slot *s, const HttpRequest &req) const {
    CURL *h = s->easy;
    Ending end;
    for (;;) {
        int running = 0;
        end.multi = curl_multi_perform(s->multi, &running);
        if (end.multi != CURLM_OK) return end;
        int queued = 0;
        while (CURLMsg *m = curl_multi_info_read(s->multi, &queued)) {
            if (m->msg == CURLMSG_DONE && m->easy_handle == h) {
                end.result = m->data.result;
                end.how = Ending::Done;
            }
        }
        if (end.how == Ending::Done || running == 0) return end;
        end.how = interrupted(s, req);
        if (end.how != Ending::Unfinished) return end;
        curl_multi_poll(s->multi, nullptr, 0, kPollMs, nullptr);
    }
}

Status Transport::check_start(const HttpRequest &req, Error &e) const noexcept {
    if (load_cancel(req.cancel)) return failf(e, Status::Cancelled, "%s: cancelled before sending", req.what);
    // The call's earlier requests (AUTO probes) may have used up its time.
    if (monotonic_ms() >= req.deadline_ms) return failf(e, Status::Timeout, "%s: timed out before sending", req.what);
    return Status::Ok;
}

Status Transport::post(const HttpRequest &req, HttpResponse &resp, Error &e) const {
    Status st = check_start(req, e);
    if (st != Status::Ok) return st;
    Slot *s = acquire();
    struct Releaser {
        const Transport *t;
        Slot *s;
        ~Releaser() { t->release(s); }
    } releaser{this, s};
    prepare(s, req, resp);

    CURL *h = s->easy;
    dep::take_failure();  // only failures of this transfer count below
    if (curl_multi_add_handle(s->multi, h) != CURLM_OK) throw std::bad_alloc();
    Ending end = drive(s, req);
    curl_multi_remove_handle(s->multi, h);
    return finish(s, req, end, resp, e);
}

// Nothing of the request stays pointed at: its body and headers are the caller's.
Status Transport::finish(Slot *s, const HttpRequest &req, const Ending &end, HttpResponse &resp, Error &e) const {
    setopt(s->easy, CURLOPT_HTTPHEADER, static_cast<curl_slist *>(nullptr));
    setopt(s->easy, CURLOPT_POSTFIELDS, static_cast<const char *>(nullptr));
    Status st = conclude(s, req, end, resp, e);
    if (tracer_ && tracer_->on()) trace_transfer(s, req, st, e);
    return st;
}

namespace {

// "https://host:port" of a URL: its scheme and authority.
std::string_view origin_of(const char *url) noexcept {
    std::string_view u = url ? url : "";
    std::size_t start = u.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    return u.substr(0, u.find_first_of("/?#", start));
}

// Why this transfer needed a new connection, judging by the slot's previous one.
const char *why_new(const char *last_url, long long idle_ms, const char *url) noexcept {
    if (!last_url) return "no pooled connection yet";
    if (origin_of(last_url) != origin_of(url)) return "the pooled connection is to another server";
    if (idle_ms >= 1000) return "the pooled connection was idle for 1 s or more (such are not reused)";
    return "the pooled connection was closed (by the server, or after a failed request)";
}

double ms_of(CURL *h, CURLINFO what) noexcept {
    curl_off_t us = 0;
    return curl_easy_getinfo(h, what, &us) == CURLE_OK ? static_cast<double>(us) / 1000.0 : 0.0;
}

}  // namespace

// The trace lines of one transfer: connection, TLS, request, answer or the
// refusal to send it again. Only what libcurl measured and the request's URL
// without its query: no header, no body.
void Transport::trace_transfer(Slot *s, const HttpRequest &req, Status st, const Error &e) const noexcept {
    CURL *h = s->easy;
    long long now = monotonic_ms();
    char url[256];
    url_for_trace(req.url, url, sizeof url);
    const char *ip = nullptr;
    long port = 0, connects = 0;
    if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || !ip) ip = "";
    curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    bool sent = s->guard.sends > 0;
    long long idle = s->last_url ? now - s->last_done_ms : 0;
    if (connects > 0) {
        tracer_->line(LF_TRACE_CONNECT, "new connection for %s to %s port %ld: %s; connected in %.1f ms", url, ip, port,
                      why_new(s->last_url, idle, req.url), ms_of(h, CURLINFO_CONNECT_TIME_T));
        if (s->guard.tls[0])
            tracer_->line(LF_TRACE_TLS, "%s; handshake done at %.1f ms", s->guard.tls,
                          ms_of(h, CURLINFO_APPCONNECT_TIME_T));
    } else if (sent) {
        tracer_->line(LF_TRACE_REUSE, "reused the pooled connection for %s to %s port %ld (idle %lld ms)", url, ip,
                      port, idle);
    }
    if (sent) tracer_->line(LF_TRACE_REQUEST, "POST %s, %zu bytes of body", url, req.body.size());
    if (st == Status::Ok) {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_off_t got = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &got);
        tracer_->line(LF_TRACE_RESPONSE, "HTTP %ld from %s, %lld bytes of body, %.1f ms in all", code, url,
                      static_cast<long long>(got), ms_of(h, CURLINFO_TOTAL_TIME_T));
    } else if (sent) {
        tracer_->line(LF_TRACE_NO_RETRY,
                      "%s after the request to %s went out (%s); not sent again: it may have "
                      "reached the server",
                      status_name(st), url, e.message);
    }
    s->last_url = req.url;
    s->last_done_ms = now;
}

// What the transfer's end means for the caller.
Status Transport::conclude(Slot *s, const HttpRequest &req, const Ending &end, HttpResponse &resp, Error &e) const {
    if (end.multi == CURLM_OUT_OF_MEMORY) throw std::bad_alloc();
    if (end.multi != CURLM_OK) return failf(e, Status::Internal, "%s: %s", req.what, curl_multi_strerror(end.multi));
    switch (end.how) {
    case Ending::Cancelled:
        return failf(e, Status::Cancelled, "%s: cancelled", req.what);
    case Ending::Stalled:
        return failf(e, Status::Timeout, "%s: timed out (no data for %ld ms)", req.what, stall_timeout_ms_);
    case Ending::Unfinished:
        return failf(e, Status::Internal, "%s: transfer ended without a result", req.what);
    case Ending::Done:
        break;
    }
    if (end.result != CURLE_OK) {
        if (s->trust.no_memory) throw std::bad_alloc();
        return map_curl(end.result, s->sink, s->guard, s->trust.why[0] ? s->trust.why : s->errbuf, req.what, e);
    }
    mark_sent(req.sent, Sent::Yes);
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_off_t retry = 0;
    if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry) != CURLE_OK || retry < 0) retry = 0;
    resp.status = code;
    resp.retry_after_s = retry > 3600 ? 3600 : static_cast<long>(retry);
    return Status::Ok;
}

}  // namespace lf
