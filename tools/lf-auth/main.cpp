// lf-auth: command-line front end for the Lightfunnels app-authorization flow,
// built on the public C API of lightfunnels-auth only.
#include "cli.hpp"

#include <cjson/cJSON.h>

#include <cstdio>
#include <cstring>
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
    "\n"
    "  lf-auth SUBCOMMAND --help   options of one subcommand\n"
    "  lf-auth --version           versions of lf-auth and of the loaded library\n"
    "\n"
    "Secrets (client secret, authorization code, access token, redirect URL) are\n"
    "never taken from the command line: use --X-env VAR, --X-file FILE or --X-stdin.\n"
    "Progress and errors go to stderr, results to stdout; --json prints one JSON\n"
    "object on stdout: {\"ok\":true,...} or {\"ok\":false,\"error\":{...}}.\n"
    "\n";

const char kEndpointHelp[] =
    "Endpoints and transport:\n"
    "  --sandbox URL             use an lf-sandbox at URL for the authorize, token and API URLs\n"
    "  --authorize-url URL       default https://app.lightfunnels.com/admin/oauth\n"
    "  --token-url URL           default: the library's for --client-auth (json:\n"
    "                            https://api.lightfunnels.com/oauth/access_token, basic:\n"
    "                            https://api.lightfunnels.com/api/access_token, auto: probe both)\n"
    "  --api-url URL             default https://services.lightfunnels.com/api/v2\n"
    "  --client-auth json|basic|auto   token-endpoint authentication (default json)\n"
    "  --ca-file FILE            trust these CA certificates instead of the system store\n"
    "  --timeout-ms N            whole-request timeout (default 30000)\n"
    "  --connect-timeout-ms N    connect timeout (default 10000)\n"
    "  --user-agent TEXT         default lightfunnels-auth/<version>\n";

const char kOutputHelp[] =
    "Output:\n"
    "  --json                    one JSON object on stdout\n"
    "  --quiet                   no progress messages on stderr\n"
    "  --help                    this help\n";

void print_help(const char *usage, bool client, bool endpoints) {
    std::fputs(usage, stdout);
    if (client)
        std::fputs("Client:\n"
                   "  --client-id ID\n"
                   "  --client-secret-env VAR | --client-secret-file FILE | --client-secret-stdin\n",
                   stdout);
    if (endpoints) std::fputs(kEndpointHelp, stdout);
    std::fputs(kOutputHelp, stdout);
    std::fputc('\n', stdout);
    std::fputs(exit_help(), stdout);
}

std::string first_redirect(const Common &c) {
    if (c.redirect_uris.empty()) throw UsageError{"--redirect-uri is required"};
    return c.redirect_uris.front();
}

// ---- consent-url ------------------------------------------------------------

int cmd_consent_url(const std::vector<std::string> &args) {
    Common c;
    Parser p;
    std::string scope, state;
    bool no_state = false;
    add_common_options(p, c, kClient | kRedirect | kAuthorize | kTransport);
    p.option("scope", [&](const std::string &v) { scope = v; });
    p.option("state", [&](const std::string &v) { state = v; });
    p.flag("no-state", [&]() { no_state = true; });
    if (!p.parse(args)) {
        print_help("usage: lf-auth consent-url --client-id ID --redirect-uri URI --scope LIST\n"
                   "                          [--state STATE | --no-state] [--sandbox URL | --authorize-url URL]\n"
                   "\n"
                   "Prints the consent-screen URL on stdout. Without --state a fresh state\n"
                   "(256 random bits) is generated and printed on stderr as LF_AUTH_STATE=...;\n"
                   "check it later with `lf-auth callback --state STATE`. No client secret is needed.\n"
                   "  --client-id ID            the app's client id\n"
                   "  --redirect-uri URI        must be whitelisted for the app (exact match)\n"
                   "  --scope LIST              comma-separated scopes, e.g. products,orders\n"
                   "  --state STATE             use this state instead of a fresh one\n"
                   "  --no-state                omit the state (not recommended)\n"
                   "  --sandbox URL             authorize at URL/admin/oauth (an lf-sandbox)\n"
                   "  --authorize-url URL       default https://app.lightfunnels.com/admin/oauth\n"
                   "\n",
                   false, false);
        return kExitOk;
    }
    if (scope.empty()) throw UsageError{"--scope is required (e.g. --scope products,orders)"};
    if (no_state && !state.empty()) throw UsageError{"--state and --no-state exclude each other"};
    std::string redirect = first_redirect(c);
    if (!no_state && state.empty()) {
        char buf[LF_STATE_BUFFER_SIZE];
        lf_status s = lf_state_generate(buf, sizeof buf);
        if (s != LF_OK) return report_failure(c, "state generation", s, nullptr);
        state = buf;
    }
    lf_error err;
    Client client;
    lf_status s = client.open(c, true, false, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    size_t needed = 0;
    const char *st = no_state ? nullptr : state.c_str();
    s = lf_consent_url(client.get(), redirect.c_str(), scope.c_str(), st, nullptr, 0, &needed);
    if (s != LF_E_BUFFER_TOO_SMALL) return report_failure(c, "consent URL", s == LF_OK ? LF_E_INTERNAL : s, nullptr);
    std::vector<char> url(needed);
    s = lf_consent_url(client.get(), redirect.c_str(), scope.c_str(), st, url.data(), url.size(), &needed);
    if (s != LF_OK) return report_failure(c, "consent URL", s, nullptr);
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "url", url.data());
        if (st != nullptr) cJSON_AddStringToObject(o, "state", st);
        else cJSON_AddNullToObject(o, "state");
        cJSON_AddStringToObject(o, "redirect_uri", redirect.c_str());
        emit_json(o);
    } else {
        if (st != nullptr && !c.quiet) std::fprintf(stderr, "LF_AUTH_STATE=%s\n", st);
        std::printf("%s\n", url.data());
    }
    return kExitOk;
}

// ---- callback -------------------------------------------------------------------

int cmd_callback(const std::vector<std::string> &args) {
    Common c;
    Parser p;
    std::string state;
    bool no_check = false;
    SecretSource url_src;
    add_common_options(p, c, 0);
    p.secret("url", "redirect URL", url_src);
    p.option("state", [&](const std::string &v) {
        if (v.empty()) throw UsageError{"--state is empty"};
        state = v;
    });
    p.flag("no-state-check", [&]() { no_check = true; });
    if (!p.parse(args)) {
        print_help("usage: lf-auth callback (--url-stdin | --url-env VAR | --url-file FILE)\n"
                   "                       (--state STATE | --no-state-check)\n"
                   "\n"
                   "Parses the URL (or bare query) the merchant was redirected to, checks that\n"
                   "its state equals STATE (constant-time), and prints the authorization code on\n"
                   "stdout. The URL carries the code, so it is never read from the command line.\n"
                   "A declined consent (error=access_denied) exits 17 (LF_E_ACCESS_DENIED),\n"
                   "a missing or different state 15 (LF_E_STATE_MISMATCH).\n"
                   "\n",
                   false, false);
        return kExitOk;
    }
    if (state.empty() && !no_check) throw UsageError{"--state is required (or --no-state-check, not recommended)"};
    if (!state.empty() && no_check) throw UsageError{"--state and --no-state-check exclude each other"};
    Secret url;
    read_secret(url_src, url);
    size_t needed = 0;
    lf_error err;
    const char *expected = no_check ? nullptr : state.c_str();
    std::vector<char> code(256);
    lf_status s = lf_parse_callback(nullptr, url.c_str(), expected, code.data(), code.size(), &needed, &err);
    if (s == LF_E_BUFFER_TOO_SMALL) {
        code.assign(needed, '\0');
        s = lf_parse_callback(nullptr, url.c_str(), expected, code.data(), code.size(), &needed, &err);
    }
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

// ---- exchange ------------------------------------------------------------------

int cmd_exchange(const std::vector<std::string> &args) {
    Common c;
    Parser p;
    SecretSource code_src;
    std::string save;
    bool force = false;
    add_common_options(p, c, kClient | kRedirect | kToken | kTransport);
    p.secret("code", "authorization code", code_src);
    p.option("save", [&](const std::string &v) { save = v; });
    p.flag("force", [&]() { force = true; });
    if (!p.parse(args)) {
        print_help("usage: lf-auth exchange --client-id ID (--client-secret-env VAR | ...)\n"
                   "                       (--code-env VAR | --code-file FILE | --code-stdin)\n"
                   "                       [--save FILE [--force]] [endpoint options]\n"
                   "\n"
                   "Exchanges a single-use authorization code for the permanent access token and\n"
                   "prints the token on stdout, or writes it to FILE (mode 0600; an existing FILE\n"
                   "is refused unless --force). If FILE cannot be put in place at the end, the\n"
                   "token is kept in another 0600 file named on stderr (exit 1). A failure after\n"
                   "the request was sent (network, timeout, 5xx) may have spent the code: start\n"
                   "the flow again.\n"
                   "\n",
                   true, true);
        return kExitOk;
    }
    if (force && save.empty()) throw UsageError{"--force only applies to --save"};
    if (c.secret_src.kind == SecretSource::Stdin && code_src.kind == SecretSource::Stdin)
        throw UsageError{"only one input can come from stdin"};
    Secret code;
    read_secret(code_src, code);
    SaveFile out;
    if (!save.empty()) out.prepare(save, force);
    lf_error err;
    Client client;
    lf_status s = client.open(c, true, true, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    std::string url = effective_token_url(c);
    progress(c, "exchanging the authorization code at %s", url.empty() ? "the Lightfunnels token endpoint" : url.c_str());
    lf_token *tok = nullptr;
    s = lf_exchange_code(client.get(), code.c_str(), &tok, &err);
    code.wipe();
    if (s != LF_OK) return report_failure(c, "exchange", s, &err);
    deliver_token(c, tok, out, nullptr);
    return kExitOk;
}

// ---- account ----------------------------------------------------------------------

int cmd_account(const std::vector<std::string> &args) {
    Common c;
    Parser p;
    SecretSource token_src;
    add_common_options(p, c, kApi | kTransport);
    p.secret("token", "access token", token_src);
    if (!p.parse(args)) {
        print_help("usage: lf-auth account (--token-env VAR | --token-file FILE | --token-stdin)\n"
                   "                      [--sandbox URL | --api-url URL] [options]\n"
                   "\n"
                   "Asks the API which account the token belongs to (query { account { id } })\n"
                   "and prints the id. A rejected or revoked token exits 25 (LF_E_UNAUTHORIZED).\n"
                   "\n",
                   false, true);
        return kExitOk;
    }
    Secret token;
    read_secret(token_src, token);
    lf_error err;
    Client client;
    lf_status s = client.open(c, false, false, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    std::string url = effective_api_url(c);
    progress(c, "asking %s for the account", url.empty() ? "the Lightfunnels API" : url.c_str());
    size_t needed = 0;
    std::vector<char> id(128);
    s = lf_account_id(client.get(), token.c_str(), id.data(), id.size(), &needed, &err);
    if (s == LF_E_BUFFER_TOO_SMALL) {
        id.assign(needed, '\0');
        s = lf_account_id(client.get(), token.c_str(), id.data(), id.size(), &needed, &err);
    }
    if (s != LF_OK) return report_failure(c, "account", s, &err);
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "account_id", id.data());
        emit_json(o);
    } else {
        std::printf("%s\n", id.data());
    }
    return kExitOk;
}

// ---- graphql ---------------------------------------------------------------------

int cmd_graphql(const std::vector<std::string> &args) {
    Common c;
    Parser p;
    SecretSource token_src;
    std::string query, query_file, variables, variables_file;
    bool raw = false;
    add_common_options(p, c, kApi | kTransport);
    p.secret("token", "access token", token_src);
    p.flag("raw", [&]() { raw = true; });
    p.option("query", [&](const std::string &v) { query = v; });
    p.option("query-file", [&](const std::string &v) { query_file = v; });
    p.option("variables", [&](const std::string &v) { variables = v; });
    p.option("variables-file", [&](const std::string &v) { variables_file = v; });
    if (!p.parse(args)) {
        print_help("usage: lf-auth graphql (--token-env VAR | --token-file FILE | --token-stdin)\n"
                   "                      (--query QUERY | --query-file FILE)\n"
                   "                      [--variables JSON | --variables-file FILE] [--raw] [options]\n"
                   "\n"
                   "POSTs the query to the API with the token and prints the response body on\n"
                   "stdout (also for GraphQL errors, exit 26 LF_E_API, and HTTP errors with a body).\n"
                   "With --json: {\"ok\":..,\"http_status\":..,\"body\":<the response as JSON>}.\n"
                   "On a terminal, control characters (C0 but newline and tab, DEL, C1), bidi\n"
                   "overrides and isolates, and bytes that are not UTF-8 are shown as '?';\n"
                   "elsewhere the body is written byte for byte.\n"
                   "  --raw                     the exact bytes on a terminal too\n"
                   "\n",
                   false, true);
        return kExitOk;
    }
    if (query.empty() == query_file.empty()) throw UsageError{"give exactly one of --query and --query-file"};
    if (!variables.empty() && !variables_file.empty())
        throw UsageError{"give at most one of --variables and --variables-file"};
    int from_stdin = (token_src.kind == SecretSource::Stdin) + (query_file == "-") + (variables_file == "-");
    if (from_stdin > 1) throw UsageError{"only one input can come from stdin"};
    Secret token;
    read_secret(token_src, token);
    if (!query_file.empty()) query = read_file_bytes(query_file, 1 << 20, "query");
    if (!variables_file.empty()) variables = read_file_bytes(variables_file, 1 << 20, "variables");
    lf_error err;
    Client client;
    lf_status s = client.open(c, false, false, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    lf_response *resp = nullptr;
    s = lf_graphql(client.get(), token.c_str(), query.c_str(), variables.empty() ? nullptr : variables.c_str(), &resp,
                   &err);
    token.wipe();
    std::string body(lf_response_body(resp), lf_response_body_length(resp));
    long http = lf_response_http_status(resp);
    lf_response_free(resp);
    // The body is the server's: on a terminal it must not be able to move the
    // cursor, rewrite the title, hide text or reorder it.
    const bool for_terminal = !raw && stdout_is_terminal();
    if (c.json) {
        cJSON *o = cJSON_CreateObject();
        if (o == nullptr) throw LocalError{"out of memory"};
        cJSON_AddBoolToObject(o, "ok", s == LF_OK);
        cJSON_AddNumberToObject(o, "http_status", static_cast<double>(http));
        cJSON *parsed = body.empty() ? nullptr : cJSON_ParseWithLength(body.data(), body.size());
        if (parsed != nullptr) cJSON_AddItemToObject(o, "body", parsed);
        else cJSON_AddStringToObject(o, "body", body.c_str());
        if (s != LF_OK) {
            cJSON *e = cJSON_AddObjectToObject(o, "error");
            cJSON_AddStringToObject(e, "operation", "graphql");
            cJSON_AddStringToObject(e, "status", lf_status_name(s));
            cJSON_AddNumberToObject(e, "code", static_cast<double>(s));
            cJSON_AddNumberToObject(e, "exit", exit_for(s));
            cJSON_AddNumberToObject(e, "http_status", static_cast<double>(err.http_status));
            cJSON_AddNumberToObject(e, "retry_after_s", static_cast<double>(err.retry_after_s));
            cJSON_AddStringToObject(e, "key", err.key);
            cJSON_AddStringToObject(e, "message", err.message[0] ? err.message : lf_status_message(s));
        }
        emit_json(o, for_terminal);
        if (s != LF_OK) {
            Common quiet_text = c;
            quiet_text.json = false;
            return report_failure(quiet_text, "graphql", s, &err);
        }
        return kExitOk;
    }
    if (for_terminal) body = terminal_safe(body);
    if (!body.empty()) {
        std::fwrite(body.data(), 1, body.size(), stdout);
        if (body.back() != '\n') std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    if (s != LF_OK) return report_failure(c, "graphql", s, &err);
    return kExitOk;
}

// ---- webhooks ----------------------------------------------------------------------

constexpr size_t kMaxBody = 64u << 20;

int cmd_webhook(const std::vector<std::string> &args, bool verify) {
    Common c;
    Parser p;
    std::string body_file = "-", signature;
    bool have_signature = false;
    add_common_options(p, c, kClient | (verify ? kPrevious : 0u));
    p.option("body-file", [&](const std::string &v) {
        if (v.empty()) throw UsageError{"--body-file is empty"};
        body_file = v;
    });
    if (verify)
        p.option("signature", [&](const std::string &v) {
            signature = v;
            have_signature = true;
        });
    if (!p.parse(args)) {
        if (verify)
            print_help("usage: lf-auth webhook-verify --signature HMAC [--body-file FILE]\n"
                       "                             (--client-secret-env VAR | ...)\n"
                       "                             [--previous-client-secret-env VAR | ...]\n"
                       "\n"
                       "Checks the lightfunnels-hmac header value HMAC against the exact bytes of\n"
                       "the body (FILE, or stdin when absent or \"-\"). Exit 0 and \"valid\" when it\n"
                       "matches (the current or the previous secret), 29 LF_E_SIGNATURE_MISMATCH\n"
                       "and \"invalid\" otherwise. There is no timestamp: deduplicate events.\n"
                       "\n",
                       true, false);
        else
            print_help("usage: lf-auth webhook-sign [--body-file FILE] (--client-secret-env VAR | ...)\n"
                       "\n"
                       "Prints base64(HMAC-SHA256(client secret, body)), the lightfunnels-hmac\n"
                       "header value, for the exact bytes of FILE (stdin when absent or \"-\").\n"
                       "\n",
                       true, false);
        return kExitOk;
    }
    if (verify && !have_signature) throw UsageError{"--signature is required"};
    int from_stdin = (c.secret_src.kind == SecretSource::Stdin) +
                     (c.previous_secret_src.kind == SecretSource::Stdin) + (body_file == "-");
    if (from_stdin > 1) throw UsageError{"only one input can come from stdin (use --body-file FILE)"};
    lf_error err;
    Client client;
    lf_status s = client.open(c, false, true, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    std::string body = read_file_bytes(body_file, kMaxBody, "body");
    if (verify) {
        s = lf_webhook_verify(client.get(), body.data(), body.size(), signature.c_str());
        if (s == LF_E_SIGNATURE_MISMATCH) {
            if (c.json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddFalseToObject(o, "ok");
                cJSON_AddFalseToObject(o, "valid");
                cJSON *e = cJSON_AddObjectToObject(o, "error");
                cJSON_AddStringToObject(e, "operation", "webhook-verify");
                cJSON_AddStringToObject(e, "status", lf_status_name(s));
                cJSON_AddNumberToObject(e, "code", static_cast<double>(s));
                cJSON_AddNumberToObject(e, "exit", exit_for(s));
                emit_json(o);
            } else {
                std::printf("invalid\n");
            }
            return exit_for(s);
        }
        if (s != LF_OK) return report_failure(c, "webhook-verify", s, nullptr);
        if (c.json) {
            cJSON *o = json_ok();
            cJSON_AddTrueToObject(o, "valid");
            emit_json(o);
        } else {
            std::printf("valid\n");
        }
        return kExitOk;
    }
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    s = lf_webhook_sign(client.get(), body.data(), body.size(), sig, sizeof sig, nullptr);
    if (s != LF_OK) return report_failure(c, "webhook-sign", s, nullptr);
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "signature", sig);
        cJSON_AddStringToObject(o, "header", "lightfunnels-hmac");
        emit_json(o);
    } else {
        std::printf("%s\n", sig);
    }
    return kExitOk;
}

int run(const std::string &sub, const std::vector<std::string> &args) {
    if (sub == "login") return cmd_login(args);
    if (sub == "consent-url") return cmd_consent_url(args);
    if (sub == "callback") return cmd_callback(args);
    if (sub == "exchange") return cmd_exchange(args);
    if (sub == "account") return cmd_account(args);
    if (sub == "graphql") return cmd_graphql(args);
    if (sub == "webhook-sign") return cmd_webhook(args, false);
    if (sub == "webhook-verify") return cmd_webhook(args, true);
    throw UsageError{"unknown subcommand (see lf-auth --help)"};
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

}  // namespace

int main(int argc, char **argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fputs(kMainHelp, stderr);
        std::fputs(exit_help(), stderr);
        return kExitUsage;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        if (args[0] == "help" && args.size() > 1) {
            std::string sub = args[1];
            try {
                return run(sub, {"--help"});
            } catch (const UsageError &e) {
                std::fprintf(stderr, "lf-auth: %s\n", e.message.c_str());
                return kExitUsage;
            }
        }
        std::fputs(kMainHelp, stdout);
        std::fputs(exit_help(), stdout);
        return kExitOk;
    }
    if (args[0] == "--version") {
        std::printf("lf-auth %s (library %s)\n", LF_AUTH_VERSION_STRING, lf_version());
        return kExitOk;
    }
    std::string sub = args[0];
    args.erase(args.begin());
    bool json = false;
    for (const std::string &a : args)
        if (a == "--json") json = true;
    static const char *const known[] = {"login",   "consent-url", "callback",     "exchange",
                                        "account", "graphql",     "webhook-sign", "webhook-verify"};
    bool is_known = false;
    for (const char *k : known)
        if (sub == k) is_known = true;
    if (!is_known) sub = "";  // never echo an unknown word: it could be a pasted secret
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
