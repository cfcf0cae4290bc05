// lf-auth callback: checks a redirect URL's state and prints the
// authorization code it carries. The URL is read like a secret.
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>

#include <cstdio>
#include <string.h>

namespace lfcli {

namespace {

const char kUsage[] =
    "usage: lf-auth callback (--url-stdin | --url-env VAR | --url-file FILE)\n"
    "                       (--state STATE | --no-state-check)\n"
    "\n"
    "Parses the URL (or bare query) the merchant was redirected to, checks that\n"
    "its state equals STATE (constant-time), and prints the authorization code on\n"
    "stdout. The URL carries the code, so it is never read from the command line.\n"
    "A declined consent (error=access_denied) exits 17 (LF_E_ACCESS_DENIED),\n"
    "a missing or different state 15 (LF_E_STATE_MISMATCH).\n"
    "\n";

struct CallbackArgs {
    Common c;
    std::string state;
    bool no_check = false;
    SecretSource url_src;
};

// False when --help was asked for (and printed).
bool parse_args(const Args &args, CallbackArgs &a) {
    Parser p;
    add_common_options(p, a.c, 0);
    p.secret("url", "redirect URL", a.url_src);
    p.option("state", [&a](const std::string &v) {
        if (v.empty()) throw UsageError{"--state is empty"};
        a.state = v;
    });
    p.flag("no-state-check", [&a]() { a.no_check = true; });
    if (!p.parse(args)) {
        print_help(kUsage, false, false);
        return false;
    }
    if (a.state.empty() && !a.no_check) throw UsageError{"--state is required (or --no-state-check, not recommended)"};
    if (!a.state.empty() && a.no_check) throw UsageError{"--state and --no-state-check exclude each other"};
    return true;
}

}  // namespace

int cmd_callback(const Args &args) {
    CallbackArgs a;
    if (!parse_args(args, a)) return kExitOk;
    const Common &c = a.c;
    Secret url;
    read_secret(a.url_src, url);
    lf_error err;
    std::vector<char> code(256);
    lf_status s = parse_callback(nullptr, url.c_str(), a.no_check ? nullptr : a.state.c_str(), code, &err);
    if (s != LF_OK) {
        explicit_bzero(code.data(), code.size());
        return report_failure(c, "callback", s, &err);
    }
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "code", code.data());
        emit_json(o);
    } else {
        std::printf("%s\n", code.data());
        std::fflush(stdout);
    }
    explicit_bzero(code.data(), code.size());
    return kExitOk;
}

}  // namespace lfcli
