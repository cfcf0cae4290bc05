// lf-auth graphql: one query with an access token; the response body is
// printed whatever the outcome, made harmless when stdout is a terminal.
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>

#include <cstdio>

namespace lfcli {

namespace {

const char kUsage[] =
    "usage: lf-auth graphql (--token-env VAR | --token-file FILE | --token-stdin)\n"
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
    "\n";

constexpr size_t kMaxInput = 1 << 20;

struct GraphqlArgs {
    Common c;
    SecretSource token_src;
    std::string query, query_file, variables, variables_file;
    bool raw = false;
};

// False when --help was asked for (and printed).
bool parse_args(const Args &args, GraphqlArgs &a) {
    Parser p;
    add_common_options(p, a.c, kApi | kTransport);
    p.secret("token", "access token", a.token_src);
    p.flag("raw", [&a]() { a.raw = true; });
    p.option("query", [&a](const std::string &v) { a.query = v; });
    p.option("query-file", [&a](const std::string &v) { a.query_file = v; });
    p.option("variables", [&a](const std::string &v) { a.variables = v; });
    p.option("variables-file", [&a](const std::string &v) { a.variables_file = v; });
    if (!p.parse(args)) {
        print_help(kUsage, false, true);
        return false;
    }
    if (a.query.empty() == a.query_file.empty()) throw UsageError{"give exactly one of --query and --query-file"};
    if (!a.variables.empty() && !a.variables_file.empty())
        throw UsageError{"give at most one of --variables and --variables-file"};
    int from_stdin = (a.token_src.kind == SecretSource::Stdin) + (a.query_file == "-") + (a.variables_file == "-");
    if (from_stdin > 1) throw UsageError{"only one input can come from stdin"};
    return true;
}

// What the API answered.
struct Answer {
    lf_status status = LF_OK;
    lf_error err{};
    long http = 0;
    std::string body;
};

Answer ask(const lf_auth *auth, Secret &token, const GraphqlArgs &a) {
    Answer r;
    lf_response *resp = nullptr;
    r.status = lf_graphql(auth, token.c_str(), a.query.c_str(), a.variables.empty() ? nullptr : a.variables.c_str(),
                          &resp, &r.err);
    token.wipe();
    r.body.assign(lf_response_body(resp), lf_response_body_length(resp));
    r.http = lf_response_http_status(resp);
    lf_response_free(resp);
    return r;
}

// {"ok":..,"http_status":..,"body":<JSON, or the text when it is not JSON>,
// "error":{..} on failure}; the failure also goes to stderr as text.
int print_json(const Common &c, const Answer &r, bool for_terminal) {
    cJSON *o = cJSON_CreateObject();
    if (o == nullptr) throw LocalError{"out of memory"};
    cJSON_AddBoolToObject(o, "ok", r.status == LF_OK);
    cJSON_AddNumberToObject(o, "http_status", static_cast<double>(r.http));
    cJSON *parsed = r.body.empty() ? nullptr : cJSON_ParseWithLength(r.body.data(), r.body.size());
    if (parsed != nullptr)
        cJSON_AddItemToObject(o, "body", parsed);
    else
        cJSON_AddStringToObject(o, "body", r.body.c_str());
    if (r.status != LF_OK) add_error_object(o, "graphql", r.status, &r.err);
    emit_json(o, for_terminal);
    if (r.status == LF_OK) return kExitOk;
    Common text_only = c;
    text_only.json = false;
    return report_failure(text_only, "graphql", r.status, &r.err);
}

// The body as it came (made terminal-safe when asked), ending in a newline.
int print_text(const Common &c, Answer &r, bool for_terminal) {
    if (for_terminal) r.body = terminal_safe(r.body);
    if (!r.body.empty()) {
        std::fwrite(r.body.data(), 1, r.body.size(), stdout);
        if (r.body.back() != '\n') std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    if (r.status != LF_OK) return report_failure(c, "graphql", r.status, &r.err);
    return kExitOk;
}

}  // namespace

int cmd_graphql(const Args &args) {
    GraphqlArgs a;
    if (!parse_args(args, a)) return kExitOk;
    Secret token;
    read_secret(a.token_src, token);
    if (!a.query_file.empty()) a.query = read_file_bytes(a.query_file, kMaxInput, "query");
    if (!a.variables_file.empty()) a.variables = read_file_bytes(a.variables_file, kMaxInput, "variables");
    lf_error err;
    Client client;
    lf_status s = client.open(a.c, false, false, &err);
    if (s != LF_OK) return report_failure(a.c, "client configuration", s, &err);
    Answer r = ask(client.get(), token, a);
    // The body is the server's: on a terminal it must not be able to move the
    // cursor, rewrite the title, hide text or reorder it.
    const bool for_terminal = !a.raw && stdout_is_terminal();
    return a.c.json ? print_json(a.c, r, for_terminal) : print_text(a.c, r, for_terminal);
}

}  // namespace lfcli
