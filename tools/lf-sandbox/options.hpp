// Command line and --config parsing.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sandbox {

struct ClientConfig {
    std::string id;
    std::string secret;
    std::string account_id;  // empty: the global --account-id
    std::vector<std::string> redirect_uris;
};

struct Options {
    std::string listen_host = "127.0.0.1";  // "127.0.0.1" or "::1"
    int listen_port = 0;
    std::string tls_self_signed_dir;
    std::string tls_cert;
    std::string tls_key;
    std::vector<ClientConfig> clients;  // merged by id, account ids resolved
    std::string account_id = "acct_sandbox";
    bool auto_approve = false;
    bool exit_with_parent = false;
    long code_ttl_s = 600;
};

enum class ParseResult { run, help, version, error };

// Parses argv. On ParseResult::error `err` says why (never containing a secret).
ParseResult parse_options(int argc, char **argv, Options &opts, std::string &err);

void print_usage(std::FILE *out);

}  // namespace sandbox
