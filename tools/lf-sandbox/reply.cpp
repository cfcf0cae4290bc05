#include "reply.hpp"

#include "util.hpp"

#include <cstring>
#include <strings.h>

namespace sandbox {
namespace {

thread_local std::string t_log_client;

} // namespace

void no_store(httplib::Response &res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("Pragma", "no-cache");
}

void send_json(httplib::Response &res, int status, const std::string &body) {
    res.status = status;
    no_store(res);
    res.set_content(body, "application/json");
}

void send_token_error(httplib::Response &res, int status, const char *error,
                      const std::string &description) {
    send_json(res, status, oauth_error_json(error, description));
}

bool starts_with_ci(const std::string &s, const char *prefix) {
    size_t n = std::strlen(prefix);
    return s.size() >= n && strncasecmp(s.c_str(), prefix, n) == 0;
}

bool is_json_type(const httplib::Request &req) {
    return starts_with_ci(req.get_header_value("Content-Type"), "application/json");
}

bool single(const httplib::Params &params, const char *name, std::optional<std::string> &out) {
    auto range = params.equal_range(name);
    out.reset();
    for (auto it = range.first; it != range.second; ++it) {
        if (out)
            return false;
        out = it->second;
    }
    return true;
}

void note_client(const std::string &client_id) { t_log_client = client_id; }

std::string take_noted_client() {
    std::string id;
    id.swap(t_log_client);
    return id;
}

} // namespace sandbox
