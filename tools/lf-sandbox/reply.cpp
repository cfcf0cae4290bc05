#include "reply.hpp"

#include "util.hpp"

#include <cstring>
#include <strings.h>

namespace sandbox {
namespace {

thread_local std::string t_log_client;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string form_decode(const std::string &s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        int hi = s[i] == '%' && i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (lo >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

}  // namespace

void no_store(httplib::Response &res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("Pragma", "no-cache");
}

void send_json(httplib::Response &res, int status, const std::string &body) {
    res.status = status;
    no_store(res);
    res.set_content(body, "application/json");
}

void send_token_error(httplib::Response &res, int status, const char *error, const std::string &description) {
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
        if (out) return false;
        out = it->second;
    }
    return true;
}

httplib::Params parse_form(const std::string &body) {
    httplib::Params form;
    size_t start = 0;
    while (start <= body.size()) {
        size_t end = body.find('&', start);
        if (end == std::string::npos) end = body.size();
        std::string pair = body.substr(start, end - start);
        if (!pair.empty()) {
            size_t eq = pair.find('=');
            form.emplace(form_decode(pair.substr(0, eq)),
                         eq == std::string::npos ? std::string() : form_decode(pair.substr(eq + 1)));
        }
        start = end + 1;
    }
    return form;
}

void note_client(const std::string &client_id) { t_log_client = client_id; }

std::string take_noted_client() {
    std::string id;
    id.swap(t_log_client);
    return id;
}

}  // namespace sandbox
