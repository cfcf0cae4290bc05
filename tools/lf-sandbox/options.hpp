// Command line and --config parsing.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace sandbox {

struct ClientConfig {
    std::string id;
    std::string secret;
    std::string account_id;  // empty: the global --account-id
    std::vector<std::string> redirect_uris;
    std::string app_url;  // what the admin page embeds; empty: no admin page
};

struct Options {
    std::string listen_host = "127.0.0.1";  // "127.0.0.1" or "::1"
    int listen_port = 0;
    std::string tls_self_signed_dir;
    std::string tls_cert;
    std::string tls_key;
    std::vector<ClientConfig> clients;                          // merged by id, account ids and app URLs resolved
    std::vector<std::pair<std::string, std::string>> app_urls;  // --app-url ID:URL, in order
    std::string account_id = "acct_sandbox";
    bool auto_approve = false;
    bool exit_with_parent = false;
    long code_ttl_s = 600;
};

enum class ParseResult { run, help, version, error };

// Parses argv. On ParseResult::error `err` says why (never containing a secret).
ParseResult parse_options(int argc, char **argv, Options &opts, std::string &err);

void print_usage(std::FILE *out);

// The port an http(s) URL names (the scheme's default when none) when its
// host is a loopback one (127.0.0.0/8, [::1], localhost); 0 otherwise. An
// app URL on the sandbox's own port would be the sandbox itself: the same
// origin, which the admin page must not embed.
int loopback_port(const std::string &url);

}  // namespace sandbox
