// lf-auth: command-line front end for the Lightfunnels app-authorization flow,
// built on the public C API of lightfunnels-auth only. This file dispatches
// to the subcommands (commands.hpp) and reports what they throw.
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

using namespace lfcli;

namespace {

const char kMainHelp[] =
    "usage: lf-auth SUBCOMMAND [--options]\n"
    "\n"
    "The Lightfunnels app-authorization (OAuth2) flow from the command line.\n"
    "\n"
    "Subcommands:\n"
    "  login           run the whole flow: consent URL, loopback redirect listener, token\n"
    "  consent-url     print the consent-screen URL (and the state it carries)\n"
    "  callback        check a redirect URL's state and print the authorization code\n"
    "  exchange        exchange an authorization code for the access token\n"
    "  account         print the account id a token belongs to\n"
    "  graphql         send a GraphQL query with a token, print the response body\n"
    "  webhook-sign    print the lightfunnels-hmac header value for a body\n"
    "  webhook-verify  check a webhook body against its lightfunnels-hmac header\n"
    "  webhooks        create, list and delete the app's webhooks (GraphQL API)\n"
    "\n"
    "  lf-auth SUBCOMMAND --help   options of one subcommand\n"
    "  lf-auth --version           versions of lf-auth and of the loaded library\n"
    "\n"
    "Secrets (client secret, authorization code, access token, redirect URL) are\n"
    "never taken from the command line: use --X-env VAR, --X-file FILE or --X-stdin.\n"
    "Progress and errors go to stderr, results to stdout; --json prints one JSON\n"
    "object on stdout: {\"ok\":true,...} or {\"ok\":false,\"error\":{...}}.\n"
    "\n";

struct Command {
    const char *name;
    int (*run)(const Args &args);
};

const Command kCommands[] = {{"login", cmd_login},
                             {"consent-url", cmd_consent_url},
                             {"callback", cmd_callback},
                             {"exchange", cmd_exchange},
                             {"account", cmd_account},
                             {"graphql", cmd_graphql},
                             {"webhook-sign", cmd_webhook_sign},
                             {"webhook-verify", cmd_webhook_verify},
                             {"webhooks", cmd_webhooks}};

const Command *find_command(const std::string &name) {
    for (const Command &c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

int run(const std::string &sub, const Args &args) {
    const Command *cmd = find_command(sub);
    if (cmd == nullptr) throw UsageError{"unknown subcommand (see lf-auth --help)"};
    return cmd->run(args);
}

int fail_local(const std::string &sub, const char *kind, const std::string &msg, int code, bool json,
               const std::string &token_file = std::string()) {
    std::fprintf(stderr, "lf-auth%s%s: %s\n", sub.empty() ? "" : " ", sub.c_str(), msg.c_str());
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (o == nullptr) return code;
        cJSON_AddFalseToObject(o, "ok");
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "operation", sub.c_str());
        cJSON_AddStringToObject(e, "status", kind);
        cJSON_AddNumberToObject(e, "exit", code);
        cJSON_AddStringToObject(e, "message", msg.c_str());
        if (!token_file.empty()) cJSON_AddStringToObject(e, "token_file", token_file.c_str());
        try {
            emit_json(o);
        } catch (...) {
        }
    }
    return code;
}

// lf-auth, lf-auth --help | -h | help [SUBCOMMAND], lf-auth --version: the
// exit status, or -1 when args[0] is none of these.
int answer_top_level(const Args &args) {
    if (args.empty()) {
        std::fputs(kMainHelp, stderr);
        std::fputs(exit_help(), stderr);
        return kExitUsage;
    }
    if (args[0] == "help" && args.size() > 1) {
        try {
            return run(args[1], {"--help"});
        } catch (const UsageError &e) {
            std::fprintf(stderr, "lf-auth: %s\n", e.message.c_str());
            return kExitUsage;
        }
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(kMainHelp, stdout);
        std::fputs(exit_help(), stdout);
        return kExitOk;
    }
    if (args[0] == "--version") {
        std::printf("lf-auth %s (library %s)\n", LF_AUTH_VERSION_STRING, lf_version());
        return kExitOk;
    }
    return -1;
}

}  // namespace

int main(int argc, char **argv) {
    Args args(argv + 1, argv + argc);
    int status = answer_top_level(args);
    if (status >= 0) return status;
    // Never echo an unknown word in messages: it could be a pasted secret.
    std::string sub = find_command(args[0]) != nullptr ? args[0] : "";
    args.erase(args.begin());
    bool json = false;
    for (const std::string &a : args)
        if (a == "--json") json = true;
    try {
        return run(sub, args);
    } catch (const UsageError &e) {
        return fail_local(sub, "usage", e.message, kExitUsage, json);
    } catch (const LocalError &e) {
        return fail_local(sub, "local", e.message, kExitLocal, json, e.token_file);
    } catch (const std::exception &e) {
        return fail_local(sub, "local", e.what(), kExitLocal, json);
    }
}
