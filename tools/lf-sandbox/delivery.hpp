// Webhook delivery: the one request the sandbox sends out, to a loopback
// target only, bounded in time and never reading the answer's body.
#pragma once

#include <httplib.h>

#include <string>

namespace sandbox {

struct Target {
    bool https = false;
    std::string host;
    int port = 0;
    std::string path;
};

// Parses an http:// or https:// URL to a loopback host (127.0.0.0/8, [::1],
// localhost). False with `why` set for anything else, user info, a fragment,
// spaces or control characters.
bool parse_target(const std::string &url, Target &t, std::string &why);

struct Delivery {
    int status = 0;  // the target's answer; 0 when it gave none
    std::string error;
};

// POSTs `payload` (application/json) with `headers` to `t`, trusting
// `ca_file` (when not empty) for https. Follows no redirect; gives up after
// 5 s to connect or read and 10 s in all.
Delivery deliver(const Target &t, const std::string &ca_file, const httplib::Headers &headers,
                 const std::string &payload);

}  // namespace sandbox
