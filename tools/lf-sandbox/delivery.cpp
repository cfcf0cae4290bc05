#include "delivery.hpp"

#include "util.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace sandbox {
namespace {

// Splits "https://" or "http://" off `url`: `rest` is where the authority starts.
bool read_scheme(const std::string &url, Target &t, size_t &rest, std::string &why) {
    if (url.compare(0, 8, "https://") == 0) {
        t.https = true;
        rest = 8;
    } else if (url.compare(0, 7, "http://") == 0) {
        rest = 7;
    } else {
        why = "url must be http:// or https://";
        return false;
    }
    return true;
}

// "host", "host:port", "[v6]" or "[v6]:port"; `port` stays empty when absent.
bool split_authority(const std::string &authority, Target &t, std::string &port, std::string &why) {
    if (authority.find('@') != std::string::npos) {
        why = "url must not carry user info";
        return false;
    }
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        if (close == std::string::npos) {
            why = "bad IPv6 literal in url";
            return false;
        }
        t.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                why = "bad url authority";
                return false;
            }
            port = authority.substr(close + 2);
        }
    } else {
        size_t colon = authority.find(':');
        t.host = authority.substr(0, colon);
        if (colon != std::string::npos) port = authority.substr(colon + 1);
    }
    return true;
}

// The scheme's port when `port` is empty, else 1-65535 in decimal.
bool read_port(const std::string &port, Target &t, std::string &why) {
    t.port = t.https ? 443 : 80;
    if (port.empty()) return true;
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
        why = "bad port in url";
        return false;
    }
    t.port = std::stoi(port);
    if (t.port < 1 || t.port > 65535) {
        why = "bad port in url";
        return false;
    }
    return true;
}

constexpr time_t kDeliveryConnectSeconds = 5;
constexpr time_t kDeliveryReadSeconds = 5;
constexpr std::chrono::seconds kDeliveryDeadline(10);

// Ends a delivery still running at its deadline. cpp-httplib's timeouts are
// per connect and per recv, so a target sending a header line every few
// seconds would otherwise hold this handler thread, and grow the headers,
// without end.
class Deadline {
public:
    Deadline(httplib::ClientImpl &cli, std::chrono::seconds limit)
        : cli_(cli), thread_([this, limit] { watch(limit); }) {}
    ~Deadline() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    Deadline(const Deadline &) = delete;
    Deadline &operator=(const Deadline &) = delete;

    bool expired() {
        std::lock_guard<std::mutex> lock(mu_);
        return expired_;
    }

private:
    void watch(std::chrono::seconds limit) {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
        expired_ = true;
        cli_.stop();  // made for this: shuts the socket down under the request in flight
    }

    httplib::ClientImpl &cli_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    bool expired_ = false;
    std::thread thread_;  // last: starts once the members it uses exist
};

std::unique_ptr<httplib::ClientImpl> delivery_client(const Target &t, const std::string &ca_file) {
    std::unique_ptr<httplib::ClientImpl> cli;
    if (t.https) {
        auto ssl = std::make_unique<httplib::SSLClient>(t.host, t.port);
        if (!ca_file.empty()) ssl->set_ca_cert_path(ca_file.c_str());
        ssl->enable_server_certificate_verification(true);
        cli = std::move(ssl);
    } else {
        cli = std::make_unique<httplib::ClientImpl>(t.host, t.port);
    }
    cli->set_connection_timeout(kDeliveryConnectSeconds);
    cli->set_read_timeout(kDeliveryReadSeconds);
    cli->set_write_timeout(kDeliveryReadSeconds);
    cli->set_follow_location(false);  // a Location may name any host
    cli->set_keep_alive(false);
    return cli;
}

}  // namespace

bool parse_target(const std::string &url, Target &t, std::string &why) {
    size_t rest;
    if (!read_scheme(url, t, rest, why)) return false;
    if (has_control(url) || url.find(' ') != std::string::npos || url.find('#') != std::string::npos) {
        why = "url must not contain spaces, control characters or a fragment";
        return false;
    }
    size_t end = url.find_first_of("/?", rest);
    std::string authority = url.substr(rest, end == std::string::npos ? std::string::npos : end - rest);
    t.path = end == std::string::npos ? "/" : url.substr(end);
    if (t.path[0] == '?') t.path = "/" + t.path;
    std::string port;
    if (!split_authority(authority, t, port, why)) return false;
    if (!is_loopback_host(t.host)) {
        why = "refusing to deliver to a non-loopback host (only 127.0.0.0/8, [::1], localhost)";
        return false;
    }
    return read_port(port, t, why);
}

Delivery deliver(const Target &t, const std::string &ca_file, const httplib::Headers &headers,
                 const std::string &payload) {
    std::unique_ptr<httplib::ClientImpl> cli = delivery_client(t, ca_file);
    httplib::Request req;
    req.method = "POST";
    req.path = t.path;
    req.headers = headers;
    req.set_header("Content-Type", "application/json");
    req.body = payload;
    Delivery d;
    // The status is all the sandbox reports, so the body is never read: an
    // endless or trickled one cannot hold the delivery or fill memory.
    req.response_handler = [&d](const httplib::Response &r) {
        d.status = r.status;
        return false;
    };
    httplib::Response answer;
    httplib::Error err = httplib::Error::Success;
    bool ok, expired;
    {
        Deadline deadline(*cli, kDeliveryDeadline);
        ok = cli->send(req, answer, err);
        expired = deadline.expired();
    }
    if (ok)  // no body to stop at (204): the handler was not called
        d.status = answer.status;
    if (d.status == 0)
        d.error = expired ? "the target did not answer within the 10 s deadline" : httplib::to_string(err);
    return d;
}

}  // namespace sandbox
