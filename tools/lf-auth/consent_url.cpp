// lf-auth consent-url: the consent-screen URL, with a fresh state unless one
// is given (or a sealed one, --sealed). Only --sealed needs the client secret.
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>

#include <cstdio>

namespace lfcli {

namespace {

const char kUsage[] =
    "usage: lf-auth consent-url --client-id ID --redirect-uri URI --scope LIST\n"
    "                          [--state STATE | --no-state | --sealed [--binding-env VAR]]\n"
    "                          [--sandbox URL | --authorize-url URL]\n"
    "\n"
    "Prints the consent-screen URL on stdout. Without --state a fresh state\n"
    "(256 random bits) is generated and printed on stderr as LF_AUTH_STATE=...;\n"
    "check it later with `lf-auth callback --state STATE`. No client secret is\n"
    "needed, except with --sealed.\n"
    "  --client-id ID            the app's client id\n"
    "  --redirect-uri URI        must be whitelisted for the app (exact match)\n"
    "  --scope LIST              comma-separated scopes, e.g. products,orders\n"
    "  --state STATE             use this state instead of a fresh one\n"
    "  --no-state                omit the state (not recommended)\n"
    "  --sealed                  a signed, expiring state (lf_state_seal) that any server of the\n"
    "                            app can check with `lf-auth callback --sealed`, nothing stored;\n"
    "                            needs --client-secret-env VAR (or -file, -stdin)\n"
    "  --binding-env VAR         bind the sealed state to the session id in $VAR (never argv);\n"
    "                            without it the state is unbound (weaker)\n"
    "  --sandbox URL             authorize at URL/admin/oauth (an lf-sandbox)\n"
    "  --authorize-url URL       default https://app.lightfunnels.com/admin/oauth\n"
    "\n";

struct ConsentArgs {
    Common c;
    std::string scope, state, binding_env;
    bool no_state = false;
    bool sealed = false;
};

// False when --help was asked for (and printed).
bool parse_args(const Args &args, ConsentArgs &a) {
    Parser p;
    add_common_options(p, a.c, kClient | kRedirect | kAuthorize | kTransport);
    p.option("scope", [&a](const std::string &v) { a.scope = v; });
    p.option("state", [&a](const std::string &v) { a.state = v; });
    p.flag("no-state", [&a]() { a.no_state = true; });
    p.flag("sealed", [&a]() { a.sealed = true; });
    p.option("binding-env", [&a](const std::string &v) {
        if (v.empty()) throw UsageError{"empty variable name"};
        a.binding_env = v;
    });
    if (!p.parse(args)) {
        print_help(kUsage, true, false);
        return false;
    }
    if (a.scope.empty()) throw UsageError{"--scope is required (e.g. --scope products,orders)"};
    if (a.no_state && !a.state.empty()) throw UsageError{"--state and --no-state exclude each other"};
    if (a.sealed && (a.no_state || !a.state.empty()))
        throw UsageError{"--sealed makes the state: it excludes --state and --no-state"};
    if (!a.binding_env.empty() && !a.sealed) throw UsageError{"--binding-env binds a sealed state: add --sealed"};
    if (a.c.redirect_uris.empty()) throw UsageError{"--redirect-uri is required"};
    return true;
}

void print_url(const ConsentArgs &a, const char *state, const std::vector<char> &url) {
    const std::string &redirect = a.c.redirect_uris.front();
    if (a.c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "url", url.data());
        if (state != nullptr)
            cJSON_AddStringToObject(o, "state", state);
        else
            cJSON_AddNullToObject(o, "state");
        cJSON_AddStringToObject(o, "redirect_uri", redirect.c_str());
        emit_json(o);
    } else {
        if (state != nullptr && !a.c.quiet) std::fprintf(stderr, "LF_AUTH_STATE=%s\n", state);
        std::printf("%s\n", url.data());
    }
}

// A state sealed by the client's key, bound to $binding_env when given.
lf_status seal_state(const lf_auth *a, const std::string &binding_env, std::string &state) {
    std::string binding = binding_env.empty() ? std::string() : read_binding(binding_env);
    char buf[LF_SEALED_STATE_BUFFER_SIZE];
    lf_status s = lf_state_seal(a, binding.c_str(), buf, sizeof buf, nullptr);
    if (s == LF_OK) state = buf;
    return s;
}

}  // namespace

int cmd_consent_url(const Args &args) {
    ConsentArgs a;
    if (!parse_args(args, a)) return kExitOk;
    const Common &c = a.c;
    if (!a.no_state && !a.sealed && a.state.empty()) {
        char buf[LF_STATE_BUFFER_SIZE];
        lf_status s = lf_state_generate(buf, sizeof buf);
        if (s != LF_OK) return report_failure(c, "state generation", s, nullptr);
        a.state = buf;
    }
    lf_error err;
    Client client;
    lf_status s = client.open(c, true, a.sealed, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    if (a.sealed && (s = seal_state(client.get(), a.binding_env, a.state)) != LF_OK)
        return report_failure(c, "sealed state", s, nullptr);
    const char *state = a.no_state ? nullptr : a.state.c_str();
    std::vector<char> url;
    s = consent_url(client.get(), c.redirect_uris.front(), a.scope, state, url);
    if (s != LF_OK) return report_failure(c, "consent URL", s, nullptr);
    print_url(a, state, url);
    return kExitOk;
}

}  // namespace lfcli
