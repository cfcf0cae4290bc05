// lf-auth: the help texts the subcommands share.
#include "cli.hpp"

#include <cstdio>

namespace lfcli {

namespace {

const char kEndpointHelp[] =
    "Endpoints and transport:\n"
    "  --sandbox URL             use an lf-sandbox at URL for the authorize, token and API URLs\n"
    "  --authorize-url URL       default https://app.lightfunnels.com/admin/oauth\n"
    "  --token-url URL           default: the library's for --client-auth (basic:\n"
    "                            https://api.lightfunnels.com/api/access_token, json:\n"
    "                            https://api.lightfunnels.com/oauth/access_token, auto: probe both)\n"
    "  --api-url URL             default https://services.lightfunnels.com/api/v2\n"
    "  --client-auth basic|json|auto   token-endpoint authentication (default basic)\n"
    "                            basic: HTTP Basic, the platform's documented method;\n"
    "                            json: the earlier JSON body; auto: probe with an invalid code\n"
    "  --ca-file FILE            trust these CA certificates instead of the system store\n"
    "  --timeout-ms N            whole-request timeout (default 30000)\n"
    "  --connect-timeout-ms N    connect timeout (default 10000)\n"
    "  --user-agent TEXT         default lightfunnels-auth/<version>\n"
    "  --trace                   the library's trace on stderr: connections, TLS, requests,\n"
    "                            answers, AUTO decisions, error mapping (secrets masked)\n";

const char kOutputHelp[] =
    "Output:\n"
    "  --json                    one JSON object on stdout\n"
    "  --quiet                   no progress messages on stderr\n"
    "  --help                    this help\n";

}  // namespace

const char *client_help() {
    return "Client:\n"
           "  --client-id ID\n"
           "  --client-secret-env VAR | --client-secret-file FILE | --client-secret-stdin\n";
}

void print_help(const char *usage, bool client, bool endpoints) {
    std::fputs(usage, stdout);
    if (client) std::fputs(client_help(), stdout);
    if (endpoints) std::fputs(kEndpointHelp, stdout);
    std::fputs(kOutputHelp, stdout);
    std::fputc('\n', stdout);
    std::fputs(exit_help(), stdout);
}

const char *exit_help() {
    return "Exit status:\n"
           "  0        success (webhook-verify: the signature matches)\n"
           "  1        local failure (file I/O, the login listener, an existing --save file)\n"
           "  2        usage error (bad option, missing input, a secret on the command line)\n"
           "  10+N     the library returned lf_status N, e.g. 15 LF_E_STATE_MISMATCH,\n"
           "           17 LF_E_ACCESS_DENIED, 19 LF_E_TIMEOUT, 23 LF_E_INVALID_CODE,\n"
           "           24 LF_E_INVALID_CLIENT, 25 LF_E_UNAUTHORIZED, 26 LF_E_API,\n"
           "           29 LF_E_SIGNATURE_MISMATCH (see lf-auth(1) for the full table)\n";
}

}  // namespace lfcli
