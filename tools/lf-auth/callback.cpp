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
    "                       (--state STATE | --no-state-check |\n"
    "                        --sealed --max-age S [--binding-env VAR] --client-id ID\n"
    "                        --client-secret-env VAR [--previous-client-secret-env VAR])\n"
    "\n"
    "Parses the URL (or bare query) the merchant was redirected to, checks that\n"
    "its state equals STATE (constant-time), and prints the authorization code on\n"
    "stdout. The URL carries the code, so it is never read from the command line.\n"
    "A declined consent (error=access_denied) exits 17 (LF_E_ACCESS_DENIED),\n"
    "a missing or different state 15 (LF_E_STATE_MISMATCH).\n"
    "  --sealed                  the state was made by `consent-url --sealed`: open it with the\n"
    "                            client's key (lf_parse_callback_sealed) instead of comparing;\n"
    "                            older than --max-age S seconds (or more than 60 s in the\n"
    "                            future) exits 16 (LF_E_STATE_EXPIRED); a state sealed under\n"
    "                            --previous-client-secret-* still opens\n"
    "  --binding-env VAR         the session id the state was bound to, from $VAR (never argv)\n"
    "\n";

struct CallbackArgs {
    Common c;
    std::string state, binding_env;
    bool no_check = false;
    bool sealed = false;
    long max_age_s = 0;
    SecretSource url_src;
};

// The mode options exclude each other; --max-age and --binding-env belong to
// --sealed.
void check_modes(const CallbackArgs &a) {
    int modes = !a.state.empty() + a.no_check + a.sealed;
    if (modes == 0) throw UsageError{"--state is required (or --sealed, or --no-state-check, not recommended)"};
    if (modes > 1) throw UsageError{"--state, --sealed and --no-state-check exclude each other"};
    if (a.sealed && a.max_age_s == 0) throw UsageError{"--sealed needs --max-age S (seconds)"};
    if (!a.sealed && (a.max_age_s != 0 || !a.binding_env.empty()))
        throw UsageError{"--max-age and --binding-env belong to --sealed"};
}

// False when --help was asked for (and printed).
bool parse_args(const Args &args, CallbackArgs &a) {
    Parser p;
    add_common_options(p, a.c, kClient | kPrevious);
    p.secret("url", "redirect URL", a.url_src);
    p.option("state", [&a](const std::string &v) {
        if (v.empty()) throw UsageError{"--state is empty"};
        a.state = v;
    });
    p.flag("no-state-check", [&a]() { a.no_check = true; });
    p.flag("sealed", [&a]() { a.sealed = true; });
    p.option("max-age", [&a](const std::string &v) { a.max_age_s = parse_positive_long("--max-age", v); });
    p.option("binding-env", [&a](const std::string &v) {
        if (v.empty()) throw UsageError{"empty variable name"};
        a.binding_env = v;
    });
    if (!p.parse(args)) {
        print_help(kUsage, false, false);
        return false;
    }
    check_modes(a);
    return true;
}

// lf_parse_callback_sealed into `code`, grown once if the code does not fit.
lf_status parse_sealed(const CallbackArgs &a, const char *url, std::vector<char> &code, lf_error *err) {
    // A handle without redirect URIs takes no callback. The URL's own
    // redirect URI is not compared with the list, so any allowed one does.
    Common c = a.c;
    c.redirect_uris.assign(1, "http://127.0.0.1/callback");
    Client client;
    lf_status s = client.open(c, true, true, err);
    if (s != LF_OK) return s;
    std::string binding = a.binding_env.empty() ? std::string() : read_binding(a.binding_env);
    size_t needed = 0;
    s = lf_parse_callback_sealed(client.get(), url, binding.c_str(), a.max_age_s, code.data(), code.size(), &needed,
                                 err);
    if (s == LF_E_BUFFER_TOO_SMALL && needed > code.size()) {
        code.resize(needed);
        s = lf_parse_callback_sealed(client.get(), url, binding.c_str(), a.max_age_s, code.data(), code.size(), &needed,
                                     err);
    }
    return s;
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
    lf_status s = a.sealed ? parse_sealed(a, url.c_str(), code, &err)
                           : parse_callback(nullptr, url.c_str(), a.no_check ? nullptr : a.state.c_str(), code, &err);
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
