// Internal glue between the test-support translation units (not for suites).
#pragma once

#include "test_server.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct ts_request {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

namespace ts {
// Borrowed pointers into the PKI (valid until ts_pki_free).
bool pki_server_cert(const ts_pki *pki, ts_cert which, X509 **cert, EVP_PKEY **key);
bool request_contains(const ts_request &r, const char *needle);

struct FaultConn;

// What a fault listener does with each connection (test_fault.cpp). The
// listener (test_raw.cpp) records CONN and END and calls serve() on a thread
// of its own per connection; serve() never closes fd.
class Fault {
public:
    explicit Fault(const ts_fault_config &cfg);
    ~Fault();
    Fault(const Fault &) = delete;
    Fault &operator=(const Fault &) = delete;

    bool init_tls();            // false: the certificate or TLS setup failed
    bool small_rcvbuf() const;  // the listening socket wants a small SO_RCVBUF
    void serve(int fd, int cid);
    void line(const std::string &text);
    std::string snapshot();

    const std::atomic<bool> *stopping = nullptr;  // the listener's stop flag
    int port = 0;

private:
    bool past_deadline() const;
    void nap(long ms) const;
    void blob(const char *tag, int cid, const std::string &data);
    bool readable(FaultConn &c, long timeout_ms) const;
    long read_now(FaultConn &c, char *buf, size_t n) const;
    size_t recv_some(FaultConn &c, char *buf, size_t n, long timeout_ms) const;
    bool send_all(FaultConn &c, const std::string &data) const;
    void wait_peer_gone(FaultConn &c) const;
    static void arm_reset(FaultConn &c);
    bool handshake(FaultConn &c);
    bool read_request(FaultConn &c, std::string &head, std::string &rest);
    std::string head(int status, const std::string &extra, long long content_length, bool chunked) const;
    void respond(FaultConn &c, const std::string &req_head, const std::string &req_body);
    void stream(FaultConn &c, size_t total, bool chunked, char fill);
    void slowloris(FaultConn &c);
    void headers_forever(FaultConn &c);
    void trickle(FaultConn &c);
    void break_mid_body(FaultConn &c, bool reset);
    void answer_auto(FaultConn &c, const std::string &req_head, const std::string &req_body);
    void never_speak(FaultConn &c);
    void reset_after_client_hello(FaultConn &c);
    void http_on_tls(FaultConn &c);
    void reset_while_receiving(FaultConn &c);

    const ts_pki *pki;  // the config's strings are copied below, not kept
    ts_cert cert;
    int tls_version;
    std::string mode, content_type, body, headers, location, code, token, auto_accept, content_lengths;
    std::string gz;  // the gzip modes' body, compressed once at start
    int status;
    size_t size;
    long interval_ms, rate;
    std::chrono::steady_clock::time_point started;
    SSL_CTX *ctx = nullptr;
    std::mutex mu;
    std::string record;
};
}  // namespace ts
