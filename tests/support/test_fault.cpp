// The misbehaviours of the fault-injection listener (ts_raw_start_fault):
// one connection at a time per thread, over TLS (OpenSSL, a certificate of
// the test PKI) or plain TCP, answering every request the way its mode says
// and recording what arrived. The listener itself (accept loop, threads,
// stop) is test_raw.cpp's.
#include "test_server.h"
#include "test_server_internal.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <strings.h>
#include <thread>
#include <vector>

namespace ts {
namespace {

const long kReadTimeoutMs = 15000;
const size_t kMaxRequest = 1u << 20;
const long kLifetimeMs = 120000;  // no connection outlives this, whatever its mode

const char *reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

std::string gzip(const std::string &prefix, size_t spaces, const std::string &suffix) {
    z_stream z;
    std::memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK) return std::string();
    std::string out;
    std::vector<unsigned char> buf(1 << 16);
    auto feed = [&](const std::string &in, int flush) {
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        do {
            z.next_out = buf.data();
            z.avail_out = static_cast<uInt>(buf.size());
            deflate(&z, flush);
            out.append(reinterpret_cast<char *>(buf.data()), buf.size() - z.avail_out);
        } while (z.avail_out == 0);
    };
    feed(prefix, Z_NO_FLUSH);
    const std::string block(1 << 20, ' ');
    for (size_t left = spaces; left > 0;) {
        size_t n = std::min(left, block.size());
        feed(block.substr(0, n), Z_NO_FLUSH);
        left -= n;
    }
    feed(suffix, Z_FINISH);
    deflateEnd(&z);
    return out;
}

// OpenSSL's reason for the last error as its mnemonic ("unsupported
// protocol" -> UNSUPPORTED_PROTOCOL), the form the tests look for.
std::string ssl_reason() {
    unsigned long e = ERR_peek_last_error();
    const char *text = e ? ERR_reason_error_string(e) : nullptr;
    ERR_clear_error();
    if (!text) return "SSLError";
    std::string r(text);
    for (char &ch : r) ch = ch == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return r;
}

}  // namespace

// One accepted connection, TLS or not.
struct FaultConn {
    int fd;
    int cid;
    SSL *ssl = nullptr;
};

Fault::Fault(const ts_fault_config &c) : pki(c.pki), cert(c.cert), tls_version(c.tls_version) {
    mode = c.mode ? c.mode : "ok";
    status = c.status ? c.status : 200;
    content_type = c.content_type ? c.content_type : "application/json";
    body.assign(c.body ? c.body : "", c.body ? c.body_len : 0);
    headers = c.headers ? c.headers : "";
    location = c.location ? c.location : "";
    code = c.code ? c.code : "";
    token = c.token ? c.token : "";
    auto_accept = c.auto_accept ? c.auto_accept : "both";
    content_lengths = c.content_lengths ? c.content_lengths : "";
    size = c.size ? c.size : (64u << 20);
    interval_ms = c.interval_ms ? c.interval_ms : 500;
    rate = c.rate ? c.rate : 2048;
    started = std::chrono::steady_clock::now();
    if (mode == "gzip") gz = gzip(body, 0, "");
    if (mode == "gzip-bomb") gz = gzip("{\"access_token\":\"x\"", size, "}");
}

Fault::~Fault() {
    if (ctx) SSL_CTX_free(ctx);
}

bool Fault::init_tls() {
    if (!pki) return true;
    X509 *x509 = nullptr;
    EVP_PKEY *key = nullptr;
    if (!pki_server_cert(pki, cert, &x509, &key)) return false;
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate(ctx, x509) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) return false;
    if (tls_version == 10 || tls_version == 11) {
        // Only that version, so a client that refuses it has nothing to fall
        // back to; Debian's OpenSSL offers it only at security level 0.
        int v = tls_version == 10 ? TLS1_VERSION : TLS1_1_VERSION;
        if (SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1 || SSL_CTX_set_min_proto_version(ctx, v) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, v) != 1)
            return false;
    }
    return true;
}

bool Fault::small_rcvbuf() const { return mode == "rst-while-receiving"; }

bool Fault::past_deadline() const {
    return stopping->load() || std::chrono::steady_clock::now() - started > std::chrono::milliseconds(kLifetimeMs);
}

void Fault::nap(long ms) const {
    for (long waited = 0; waited < ms && !stopping->load(); waited += 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10L, ms - waited)));
}

// ---- the record (format in test_server.h) --------------------------------

void Fault::line(const std::string &text) {
    std::lock_guard<std::mutex> lock(mu);
    record += text + "\n";
}

void Fault::blob(const char *tag, int cid, const std::string &data) {
    std::lock_guard<std::mutex> lock(mu);
    record += std::string(tag) + " " + std::to_string(cid) + " " + std::to_string(data.size()) + "\n" + data + "\n";
}

std::string Fault::snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return record;
}

// ---- connection I/O --------------------------------------------------------

// Waits until fd is readable (or TLS has buffered bytes), the timeout
// passes or the listener stops.
bool Fault::readable(FaultConn &c, long timeout_ms) const {
    if (c.ssl && SSL_pending(c.ssl) > 0) return true;
    for (long waited = 0; waited < timeout_ms && !stopping->load(); waited += 100) {
        struct pollfd p = {c.fd, POLLIN, 0};
        int rc = poll(&p, 1, 100);
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
    return false;
}

// One read of what is there: > 0 bytes, 0 when the peer is gone or the
// read failed, -1 when TLS consumed a record without application data.
long Fault::read_now(FaultConn &c, char *buf, size_t n) const {
    if (c.ssl) {
        int r = SSL_read(c.ssl, buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
        if (r > 0) return r;
        return SSL_get_error(c.ssl, r) == SSL_ERROR_WANT_READ ? -1 : 0;
    }
    ssize_t r = recv(c.fd, buf, n, 0);
    return r > 0 ? static_cast<long>(r) : 0;
}

// Up to n bytes; 0 when the peer is gone, the read failed or timed out.
size_t Fault::recv_some(FaultConn &c, char *buf, size_t n, long timeout_ms) const {
    for (;;) {
        if (!readable(c, timeout_ms)) return 0;
        long r = read_now(c, buf, n);
        if (r >= 0) return static_cast<size_t>(r);
    }
}

bool Fault::send_all(FaultConn &c, const std::string &data) const {
    size_t off = 0;
    while (off < data.size()) {
        if (stopping->load()) return false;
        size_t n = std::min<size_t>(data.size() - off, 1 << 20);
        if (c.ssl) {
            int w = SSL_write(c.ssl, data.data() + off, static_cast<int>(n));
            if (w <= 0) return false;
            off += static_cast<size_t>(w);
        } else {
            ssize_t w = send(c.fd, data.data() + off, n, MSG_NOSIGNAL);
            if (w <= 0) return false;
            off += static_cast<size_t>(w);
        }
    }
    return true;
}

// Reads (and drops) until the peer closes or the lifetime ends.
void Fault::wait_peer_gone(FaultConn &c) const {
    char buf[4096];
    while (!past_deadline()) {
        if (readable(c, 250) && read_now(c, buf, sizeof buf) == 0) return;
    }
}

// The close that follows sends RST instead of FIN.
void Fault::arm_reset(FaultConn &c) {
    struct linger lg = {1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

// ---- requests ----------------------------------------------------------------

bool Fault::read_request(FaultConn &c, std::string &head, std::string &rest) {
    std::string buf;
    char chunk[65536];
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos && buf.size() <= kMaxRequest) {
        size_t n = recv_some(c, chunk, sizeof chunk, kReadTimeoutMs);
        if (n == 0) break;
        buf.append(chunk, n);
    }
    if (end == std::string::npos) {
        if (!buf.empty()) blob("RAW", c.cid, buf);
        return false;
    }
    head = buf.substr(0, end);
    rest = buf.substr(end + 4);
    size_t length = 0;
    for (size_t pos = head.find("\r\n"); pos != std::string::npos; pos = head.find("\r\n", pos + 2)) {
        const char *h = head.c_str() + pos + 2;
        if (strncasecmp(h, "content-length:", 15) == 0)
            length = std::min<size_t>(std::strtoul(h + 15, nullptr, 10), kMaxRequest);
        if (strncasecmp(h, "expect:", 7) == 0 && strstr(h, "100-continue") &&
            !send_all(c, "HTTP/1.1 100 Continue\r\n\r\n"))
            return false;
    }
    while (rest.size() < length) {
        size_t n = recv_some(c, chunk, sizeof chunk, kReadTimeoutMs);
        if (n == 0) break;
        rest.append(chunk, n);
    }
    blob("REQ", c.cid, head + "\r\n\r\n" + rest);
    return true;
}

// ---- responses ----------------------------------------------------------------

// The response head: status line, Content-Type, Connection: close, the
// framing asked for (content_length < 0: none), `extra` and the configured
// headers (each "Name: value\r\n").
std::string Fault::head(int st, const std::string &extra, long long content_length, bool chunked) const {
    std::string h = "HTTP/1.1 " + std::to_string(st) + " " + reason_phrase(st) + "\r\n";
    h += "Content-Type: " + content_type + "\r\nConnection: close\r\n";
    if (content_length >= 0) h += "Content-Length: " + std::to_string(content_length) + "\r\n";
    if (chunked) h += "Transfer-Encoding: chunked\r\n";
    return h + extra + headers + "\r\n";
}

static std::string chunk_of(const std::string &piece) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    return size + piece + "\r\n";
}

// `total` bytes of `fill`, as chunks or raw; records what was sent.
void Fault::stream(FaultConn &c, size_t total, bool chunked, char fill) {
    const std::string block(16384, fill);
    size_t sent = 0;
    bool ok = true;
    while (ok && sent < total && !past_deadline()) {
        size_t n = std::min(block.size(), total - sent);
        ok = send_all(c, chunked ? chunk_of(block.substr(0, n)) : block.substr(0, n));
        if (ok) sent += n;
    }
    if (ok && chunked && sent >= total) send_all(c, "0\r\n\r\n");
    line("SENT " + std::to_string(c.cid) + " " + std::to_string(sent));
}

void Fault::slowloris(FaultConn &c) {
    std::string h = head(status, "X-Slow: \r\n", -1, false);
    h.resize(h.size() - 4);  // never ends: no blank line, the last header unfinished
    size_t i = 0;
    while (!past_deadline()) {
        std::string b = i < h.size() ? h.substr(i, 1) : "a";
        i++;
        if (!send_all(c, b)) break;
        nap(interval_ms);
    }
    line("SENT " + std::to_string(c.cid) + " " + std::to_string(i));
}

void Fault::headers_forever(FaultConn &c) {
    size_t sent = 0;
    if (send_all(c, "HTTP/1.1 200 OK\r\n")) {
        for (size_t n = 0; sent < size && !past_deadline(); n++) {
            std::string l = "X-Fill-" + std::to_string(n) + ": " + std::string(100, 'h') + "\r\n";
            if (!send_all(c, l)) break;
            sent += l.size();
        }
    }
    line("SENT " + std::to_string(c.cid) + " " + std::to_string(sent));
}

void Fault::trickle(FaultConn &c) {
    size_t sent = 0;
    if (send_all(c, head(status, "", -1, true))) {
        const std::string piece(static_cast<size_t>(std::max(1L, rate / 10)), ' ');
        while (!past_deadline() && send_all(c, chunk_of(piece))) {
            sent += piece.size();
            nap(100);
        }
    }
    line("SENT " + std::to_string(c.cid) + " " + std::to_string(sent));
}

// Half the body after a head announcing all of it, then RST or FIN.
void Fault::break_mid_body(FaultConn &c, bool reset) {
    size_t half = std::max<size_t>(1, body.size() / 2);
    send_all(c, head(status, "", static_cast<long long>(body.size()), false) + body.substr(0, half));
    nap(200);  // let the half body arrive before the close
    if (reset)
        arm_reset(c);
    else
        shutdown(c.fd, SHUT_RDWR);
}

// A token endpoint for AUTO client-auth probes: the configured code gets a
// token, any other code invalid_grant, a style not accepted invalid_client.
void Fault::answer_auto(FaultConn &c, const std::string &req_head, const std::string &req_body) {
    std::string lower(req_head);
    for (char &ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string style = lower.find("\r\nauthorization: basic ") != std::string::npos ? "basic" : "json";
    int st;
    std::string b;
    if (auto_accept == "none" || (auto_accept != "both" && style != auto_accept)) {
        st = 401;
        b = "{\"error\":\"invalid_client\",\"error_description\":\"client authentication failed\"}";
    } else if (!code.empty() && req_body.find(code) != std::string::npos) {
        st = 200;
        b = "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\"}";
    } else {
        st = 400;
        b = "{\"error\":\"invalid_grant\",\"error_description\":\"unknown authorization code\"}";
    }
    send_all(c, head(st, "", static_cast<long long>(b.size()), false) + b);
}

void Fault::respond(FaultConn &c, const std::string &req_head, const std::string &req_body) {
    const long long len = static_cast<long long>(body.size());
    if (mode == "ok") {
        send_all(c, head(status, "", len, false) + body);
    } else if (mode == "chunked") {
        std::string out = head(status, "", -1, true);
        for (size_t i = 0; i < body.size(); i += 7) out += chunk_of(body.substr(i, 7));
        send_all(c, out + "0\r\n\r\n");
    } else if (mode == "gzip" || mode == "gzip-bomb") {
        send_all(c, head(status, "Content-Encoding: gzip\r\n", static_cast<long long>(gz.size()), false) + gz);
        if (mode == "gzip-bomb") line("SENT " + std::to_string(c.cid) + " " + std::to_string(gz.size()));
    } else if (mode == "big") {
        if (send_all(c, head(status, "", static_cast<long long>(size), false))) stream(c, size, false, ' ');
    } else if (mode == "body-forever") {
        if (send_all(c, head(status, "", -1, true))) stream(c, size, true, ' ');
    } else if (mode == "chunk-badhex") {
        send_all(c, head(status, "", -1, true) + "zz\r\n" + body + "\r\n0\r\n\r\n");
    } else if (mode == "chunk-overflow") {
        send_all(c, head(status, "", -1, true) + "ffffffffffffffffff\r\n" + body + "\r\n0\r\n\r\n");
    } else if (mode == "slowloris") {
        slowloris(c);
    } else if (mode == "headers-forever") {
        headers_forever(c);
    } else if (mode == "header-line-huge") {
        if (send_all(c, "HTTP/1.1 200 OK\r\nX-Big: ")) stream(c, size, false, 'h');
    } else if (mode == "trickle") {
        trickle(c);
    } else if (mode == "cl-shorter") {
        send_all(c, head(status, "", std::max(0LL, len - 5), false) + body);
    } else if (mode == "stall") {
        wait_peer_gone(c);
    } else if (mode == "stall-headers") {
        if (send_all(c, head(status, "", 200, false))) wait_peer_gone(c);
    } else if (mode == "rst-mid-body" || mode == "fin-mid-body") {
        break_mid_body(c, mode == "rst-mid-body");
    } else if (mode == "close-before-response") {
        shutdown(c.fd, SHUT_RDWR);
    } else if (mode == "cl-list") {
        std::string lengths;
        for (size_t pos = 0; pos <= content_lengths.size();) {
            size_t comma = std::min(content_lengths.find(',', pos), content_lengths.size());
            std::string v = content_lengths.substr(pos, comma - pos);
            if (!v.empty()) lengths += "Content-Length: " + v + "\r\n";
            pos = comma + 1;
        }
        send_all(c, head(status, lengths, -1, false) + body);
    } else if (mode == "redirect") {
        std::string loc = location;
        size_t p = loc.find("{port}");
        if (p != std::string::npos) loc.replace(p, 6, std::to_string(port));
        send_all(c, head(status, "Location: " + loc + "\r\n", len, false) + body);
    } else if (mode == "auto") {
        answer_auto(c, req_head, req_body);
    } else {
        std::fprintf(stderr, "fault server: unknown mode %s\n", mode.c_str());
    }
}

// ---- modes below HTTP ---------------------------------------------------------

// Accepts TCP, never answers (nor starts) the TLS handshake.
void Fault::never_speak(FaultConn &c) {
    std::string data;
    char buf[4096];
    while (!past_deadline()) {
        if (!readable(c, 250)) continue;
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    if (!data.empty()) blob("RAW", c.cid, data);
}

// Reads one whole TLS record (the ClientHello: a 5-byte header and its
// length) and resets before answering.
void Fault::reset_after_client_hello(FaultConn &c) {
    std::string data;
    char buf[65536];
    while (data.size() < 5 || data.size() < 5 + ((static_cast<size_t>(static_cast<unsigned char>(data[3])) << 8) |
                                                 static_cast<unsigned char>(data[4]))) {
        size_t n = recv_some(c, buf, sizeof buf, 3000);
        if (n == 0) break;
        data.append(buf, n);
    }
    if (!data.empty()) blob("RAW", c.cid, data);
    arm_reset(c);
}

// Plain HTTP on the port of an https URL: the ClientHello gets a 400 page.
void Fault::http_on_tls(FaultConn &c) {
    char buf[65536];
    size_t n = recv_some(c, buf, sizeof buf, 3000);
    if (n) blob("RAW", c.cid, std::string(buf, n));
    const std::string page = "<html><body>400 plain HTTP</body></html>";
    send_all(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(page.size()) + "\r\n\r\n" + page);
}

// Reads `size` bytes of what the client sends, lets it fill the (small)
// buffers and block in send, then resets.
void Fault::reset_while_receiving(FaultConn &c) {
    std::string data;
    char buf[65536];
    while (data.size() < size) {
        size_t n = recv_some(c, buf, std::min(sizeof buf, size - data.size()), kReadTimeoutMs);
        if (n == 0) break;
        data.append(buf, n);
    }
    blob("RAW", c.cid, data);
    nap(interval_ms);
    arm_reset(c);
}

bool Fault::handshake(FaultConn &c) {
    c.ssl = SSL_new(ctx);
    if (c.ssl && SSL_set_fd(c.ssl, c.fd) == 1) {
        // A blocking accept, bounded by the socket's receive timeout.
        struct timeval tv = {kReadTimeoutMs / 1000, 0};
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (SSL_accept(c.ssl) == 1) return true;
    }
    line("TLSFAIL " + std::to_string(c.cid) + " " + ssl_reason());
    return false;
}

void Fault::serve(int fd, int cid) {
    FaultConn c{fd, cid};
    struct timeval tv = {kReadTimeoutMs / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (mode == "tls-never") {
        never_speak(c);
    } else if (mode == "tls-rst-after-hello") {
        reset_after_client_hello(c);
    } else if (mode == "http-on-tls") {
        http_on_tls(c);
    } else if (!ctx || handshake(c)) {
        std::string req_head, req_body;
        if (mode == "rst-while-receiving")
            reset_while_receiving(c);
        else if (read_request(c, req_head, req_body))
            respond(c, req_head, req_body);
    }
    // No close_notify: the peer sees the TCP close (FIN, or RST when armed).
    SSL_free(c.ssl);
    ERR_clear_error();
}

}  // namespace ts
