// Scripted loopback HTTPS/HTTP server on cpp-httplib, plus small helpers.
#include "test_server.h"
#include "test_server_internal.hpp"

#include <httplib.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <strings.h>
#include <thread>
#include <time.h>

namespace {

struct Reply {
    int status = 404;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body = "{}";
    bool chunked = false;
    long delay_ms = 0;
    size_t filler = 0;
    bool filler_set = false;
};

// Counts accepted connections and hands them to a normal thread pool.
class CountingQueue : public httplib::TaskQueue {
public:
    CountingQueue(std::atomic<size_t> &count, size_t threads) : count_(count), pool_(threads) {}
    void enqueue(std::function<void()> fn) override {
        ++count_;
        pool_.enqueue(std::move(fn));
    }
    void shutdown() override { pool_.shutdown(); }

private:
    std::atomic<size_t> &count_;
    httplib::ThreadPool pool_;
};

}  // namespace

struct ts_reply {
    Reply r;
};

struct ts_server {
    std::unique_ptr<httplib::Server> svr;
    bool tls = false;
    int port = 0;
    std::thread thread;

    std::mutex mu;
    std::condition_variable cv;  // signalled on new requests and on stop
    bool stopping = false;
    Reply reply;
    ts_handler handler = nullptr;
    void *handler_ctx = nullptr;
    std::deque<ts_request> requests;
    std::deque<std::string> urls;
    std::atomic<size_t> connections{0};

    void handle(const httplib::Request &req, httplib::Response &res);
};

void ts_server::handle(const httplib::Request &req, httplib::Response &res) {
    ts_request rec;
    rec.method = req.method;
    {
        std::string target = req.target;
        size_t q = target.find('?');
        rec.path = q == std::string::npos ? target : target.substr(0, q);
        rec.query = q == std::string::npos ? "" : target.substr(q + 1);
    }
    for (const auto &h : req.headers) rec.headers.emplace_back(h.first, h.second);
    rec.body = req.body;

    ts_reply out;
    ts_handler h;
    void *ctx;
    const ts_request *stored;
    {
        std::lock_guard<std::mutex> lock(mu);
        requests.push_back(std::move(rec));
        stored = &requests.back();
        out.r = reply;
        h = handler;
        ctx = handler_ctx;
    }
    cv.notify_all();
    if (h) h(ctx, stored, &out);

    const Reply &r = out.r;
    if (r.delay_ms != 0) {
        std::unique_lock<std::mutex> lock(mu);
        if (r.delay_ms < 0) {
            cv.wait(lock, [&] { return stopping; });
        } else {
            cv.wait_for(lock, std::chrono::milliseconds(r.delay_ms), [&] { return stopping; });
        }
        if (stopping) {
            res.status = 503;
            return;
        }
    }
    res.status = r.status;
    for (const auto &hv : r.headers) res.set_header(hv.first, hv.second);
    if (r.filler_set) {
        size_t total = r.filler;
        if (r.chunked) {
            res.set_chunked_content_provider(r.content_type, [total](size_t offset, httplib::DataSink &sink) {
                static const std::string block(16384, 'x');
                if (offset >= total) {
                    sink.done();
                    return true;
                }
                size_t n = std::min(block.size(), total - offset);
                return sink.write(block.data(), n);
            });
        } else {
            res.set_content_provider(total, r.content_type, [](size_t, size_t length, httplib::DataSink &sink) {
                static const std::string block(16384, 'x');
                return sink.write(block.data(), std::min(block.size(), length));
            });
        }
    } else if (r.chunked) {
        auto body = std::make_shared<std::string>(r.body);
        res.set_chunked_content_provider(r.content_type, [body](size_t offset, httplib::DataSink &sink) {
            if (offset >= body->size()) {
                sink.done();
                return true;
            }
            // Several small chunks so the framing is exercised.
            size_t n = std::min<size_t>(7, body->size() - offset);
            return sink.write(body->data() + offset, n);
        });
    } else {
        res.set_content(r.body, r.content_type);
    }
}

extern "C" ts_server *ts_server_start(const ts_pki *pki, ts_cert cert) {
    auto s = std::make_unique<ts_server>();
    if (pki) {
        X509 *x = nullptr;
        EVP_PKEY *k = nullptr;
        if (!ts::pki_server_cert(pki, cert, &x, &k)) return nullptr;
        s->svr = std::make_unique<httplib::SSLServer>(x, k);
        s->tls = true;
    } else {
        s->svr = std::make_unique<httplib::Server>();
    }
    if (!s->svr->is_valid()) {
        std::fprintf(stderr, "test server: invalid server (TLS setup failed)\n");
        return nullptr;
    }
    ts_server *raw = s.get();
    s->svr->new_task_queue = [raw] { return new CountingQueue(raw->connections, 8); };
    s->svr->set_keep_alive_timeout(1);
    s->svr->set_read_timeout(5, 0);
    s->svr->set_write_timeout(5, 0);
    s->svr->set_payload_max_length(8u << 20);
    auto handler = [raw](const httplib::Request &req, httplib::Response &res) { raw->handle(req, res); };
    for (const char *m : {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
        std::string method = m;
        if (method == "GET")
            s->svr->Get(".*", handler);
        else if (method == "POST")
            s->svr->Post(".*", handler);
        else if (method == "PUT")
            s->svr->Put(".*", handler);
        else if (method == "DELETE")
            s->svr->Delete(".*", handler);
        else if (method == "PATCH")
            s->svr->Patch(".*", handler);
        else
            s->svr->Options(".*", handler);
    }
    s->port = s->svr->bind_to_any_port("127.0.0.1");
    if (s->port <= 0) {
        std::fprintf(stderr, "test server: bind failed\n");
        return nullptr;
    }
    s->thread = std::thread([raw] { raw->svr->listen_after_bind(); });
    // Wait (bounded) until the accept loop runs.
    for (int i = 0; i < 500 && !s->svr->is_running(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return s.release();
}

extern "C" void ts_server_stop(ts_server *s) {
    if (!s) return;
    {
        std::lock_guard<std::mutex> lock(s->mu);
        s->stopping = true;
    }
    s->cv.notify_all();
    s->svr->stop();
    if (s->thread.joinable()) s->thread.join();
    s->svr.reset();
    delete s;
}

extern "C" int ts_server_port(const ts_server *s) { return s ? s->port : 0; }

extern "C" const char *ts_server_url(ts_server *s, const char *path) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->urls.push_back(std::string(s->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(s->port) +
                      (path ? path : ""));
    return s->urls.back().c_str();
}

extern "C" void ts_server_respond(ts_server *s, int status, const char *content_type, const char *body) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->reply.status = status;
    s->reply.content_type = content_type ? content_type : "application/json";
    s->reply.body = body ? body : "";
    s->reply.headers.clear();
    s->reply.filler_set = false;
    s->reply.chunked = false;
    s->reply.delay_ms = 0;
}

extern "C" void ts_server_respond_header(ts_server *s, const char *name, const char *value) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->reply.headers.emplace_back(name, value);
}

extern "C" void ts_server_respond_filler(ts_server *s, size_t n, int chunked) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->reply.filler = n;
    s->reply.filler_set = true;
    s->reply.chunked = chunked != 0;
}

extern "C" void ts_server_respond_delay(ts_server *s, long ms) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->reply.delay_ms = ms;
}

extern "C" void ts_server_set_handler(ts_server *s, ts_handler handler, void *ctx) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->handler = handler;
    s->handler_ctx = ctx;
}

extern "C" size_t ts_server_request_count(ts_server *s) {
    std::lock_guard<std::mutex> lock(s->mu);
    return s->requests.size();
}

extern "C" size_t ts_server_request_count_path(ts_server *s, const char *path) {
    std::lock_guard<std::mutex> lock(s->mu);
    size_t n = 0;
    for (const auto &r : s->requests) n += r.path == path;
    return n;
}

extern "C" size_t ts_server_connection_count(ts_server *s) { return s->connections.load(); }

extern "C" const ts_request *ts_server_request(ts_server *s, size_t i) {
    std::lock_guard<std::mutex> lock(s->mu);
    return i < s->requests.size() ? &s->requests[i] : nullptr;
}

extern "C" int ts_server_saw(ts_server *s, const char *needle) {
    std::lock_guard<std::mutex> lock(s->mu);
    for (const auto &r : s->requests)
        if (ts::request_contains(r, needle)) return 1;
    return 0;
}

extern "C" void ts_server_clear(ts_server *s) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->requests.clear();
    s->connections = 0;
}

extern "C" int ts_server_wait_requests(ts_server *s, size_t n, long timeout_ms) {
    std::unique_lock<std::mutex> lock(s->mu);
    return s->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return s->requests.size() >= n; }) ? 1 : 0;
}

// ---- replies ---------------------------------------------------------------

extern "C" void ts_reply_status(ts_reply *r, int status) { r->r.status = status; }
extern "C" void ts_reply_header(ts_reply *r, const char *name, const char *value) {
    r->r.headers.emplace_back(name, value);
}
extern "C" void ts_reply_body(ts_reply *r, const char *content_type, const void *body, size_t len) {
    if (content_type) r->r.content_type = content_type;
    r->r.body.assign(static_cast<const char *>(body), len);
    r->r.filler_set = false;
}
extern "C" void ts_reply_text(ts_reply *r, const char *content_type, const char *body) {
    ts_reply_body(r, content_type, body, std::strlen(body));
}
extern "C" void ts_reply_printf(ts_reply *r, const char *content_type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    if (n > 0) std::vsnprintf(&s[0], s.size() + 1, fmt, ap2);
    va_end(ap2);
    ts_reply_body(r, content_type, s.data(), s.size());
}
extern "C" void ts_reply_filler(ts_reply *r, size_t n, int chunked) {
    r->r.filler = n;
    r->r.filler_set = true;
    r->r.chunked = chunked != 0;
}
extern "C" void ts_reply_chunked(ts_reply *r, int chunked) { r->r.chunked = chunked != 0; }
extern "C" void ts_reply_delay(ts_reply *r, long ms) { r->r.delay_ms = ms; }

// ---- requests ---------------------------------------------------------------

extern "C" const char *ts_request_method(const ts_request *r) { return r->method.c_str(); }
extern "C" const char *ts_request_path(const ts_request *r) { return r->path.c_str(); }
extern "C" const char *ts_request_query(const ts_request *r) { return r->query.c_str(); }
extern "C" const char *ts_request_header(const ts_request *r, const char *name) {
    for (const auto &h : r->headers)
        if (strcasecmp(h.first.c_str(), name) == 0) return h.second.c_str();
    return nullptr;
}
extern "C" size_t ts_request_header_count(const ts_request *r, const char *name) {
    size_t n = 0;
    for (const auto &h : r->headers) n += strcasecmp(h.first.c_str(), name) == 0;
    return n;
}
extern "C" int ts_request_contains(const ts_request *r, const char *needle) {
    return ts::request_contains(*r, needle) ? 1 : 0;
}
extern "C" const char *ts_request_body(const ts_request *r) { return r->body.c_str(); }
extern "C" size_t ts_request_body_len(const ts_request *r) { return r->body.size(); }

namespace ts {
bool request_contains(const ts_request &r, const char *needle) {
    if (r.path.find(needle) != std::string::npos || r.query.find(needle) != std::string::npos ||
        r.body.find(needle) != std::string::npos)
        return true;
    for (const auto &h : r.headers)
        if (h.first.find(needle) != std::string::npos || h.second.find(needle) != std::string::npos) return true;
    return false;
}
}  // namespace ts

// ---- helpers -----------------------------------------------------------------

extern "C" void ts_random_token(char *buf, size_t size, const char *prefix) {
    static const char hex[] = "0123456789abcdef";
    if (!buf || size == 0) return;
    size_t p = prefix ? std::min(std::strlen(prefix), size - 1) : 0;
    std::memcpy(buf, prefix, p);
    for (size_t i = p; i + 1 < size; i++) {
        unsigned char b = 0;
        if (RAND_bytes(&b, 1) != 1) b = static_cast<unsigned char>(std::rand());
        buf[i] = hex[b & 15];
    }
    buf[size - 1] = '\0';
}

extern "C" long long ts_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

extern "C" void ts_sleep_ms(long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

extern "C" long ts_base64_decode(const char *in, char *out, size_t size) {
    size_t len = std::strlen(in);
    if (len % 4 != 0) return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = in[i + j];
            if (c == '=' && i + 4 == len && j >= 2) {
                v[j] = 0;
                pad++;
            } else {
                if (pad) return -1;
                v[j] = b64val(c);
                if (v[j] < 0) return -1;
            }
        }
        unsigned long n = (static_cast<unsigned long>(v[0]) << 18) | (static_cast<unsigned long>(v[1]) << 12) |
                          (static_cast<unsigned long>(v[2]) << 6) | static_cast<unsigned long>(v[3]);
        unsigned char bytes[3] = {static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 8),
                                  static_cast<unsigned char>(n)};
        for (int j = 0; j < 3 - pad; j++) {
            if (o < size) out[o] = static_cast<char>(bytes[j]);
            o++;
        }
    }
    if (o < size) out[o] = '\0';
    return static_cast<long>(o);
}

extern "C" char *ts_base64_encode(const void *in, size_t len, char *out, size_t size) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = static_cast<const unsigned char *>(in);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long n = static_cast<unsigned long>(p[i]) << 16;
        if (i + 1 < len) n |= static_cast<unsigned long>(p[i + 1]) << 8;
        if (i + 2 < len) n |= p[i + 2];
        char q[4] = {tbl[(n >> 18) & 63], tbl[(n >> 12) & 63], i + 1 < len ? tbl[(n >> 6) & 63] : '=',
                     i + 2 < len ? tbl[n & 63] : '='};
        for (char c : q)
            if (o + 1 < size) out[o++] = c;
    }
    if (size) out[o] = '\0';
    return out;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

extern "C" long ts_form_decode(const char *in, size_t in_len, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < in_len; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= in_len) return -1;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 < size) out[o] = c;
        o++;
    }
    if (size) out[o < size ? o : size - 1] = '\0';
    return static_cast<long>(o);
}

extern "C" int ts_form_field(const char *body, size_t len, const char *name, char *out, size_t size) {
    int count = 0;
    size_t nlen = std::strlen(name);
    size_t i = 0;
    if (size) out[0] = '\0';
    while (i <= len) {
        size_t end = i;
        while (end < len && body[end] != '&') end++;
        const char *seg = body + i;
        size_t seg_len = end - i;
        if (seg_len > nlen && std::memcmp(seg, name, nlen) == 0 && seg[nlen] == '=') {
            if (count == 0) ts_form_decode(seg + nlen + 1, seg_len - nlen - 1, out, size);
            count++;
        } else if (seg_len == nlen && std::memcmp(seg, name, nlen) == 0) {
            count++;
        }
        i = end + 1;
    }
    return count;
}

extern "C" int ts_mem_contains(const void *hay, size_t hay_len, const char *needle) {
    size_t n = std::strlen(needle);
    if (n == 0) return 1;
    if (hay_len < n) return 0;
    const char *h = static_cast<const char *>(hay);
    for (size_t i = 0; i + n <= hay_len; i++)
        if (h[i] == needle[0] && std::memcmp(h + i, needle, n) == 0) return 1;
    return 0;
}
