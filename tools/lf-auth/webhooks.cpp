// lf-auth webhooks create|list|delete: the app's webhook registrations
// through lf_graphql. createWebhook and deleteWebhook are the platform's
// documented mutations; the list query is lf-sandbox's own (the platform's
// docs give none). User input only ever travels in "variables".
#include "cli.hpp"
#include "commands.hpp"

#include "../common/event_types.hpp"

#include <cjson/cJSON.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace lfcli {

namespace {

const char kGroupUsage[] =
    "usage: lf-auth webhooks create (--token-env VAR | --token-file FILE | --token-stdin)\n"
    "                               --type TYPE --url URL [--settings JSON] [options]\n"
    "       lf-auth webhooks list   (--token-env VAR | --token-file FILE | --token-stdin) [options]\n"
    "       lf-auth webhooks delete (--token-env VAR | --token-file FILE | --token-stdin) --id ID [options]\n"
    "\n"
    "The app's webhooks on the account the token belongs to, through the GraphQL\n"
    "API: createWebhook and deleteWebhook as the platform documents them; list\n"
    "uses a query only lf-sandbox has (the platform's docs give no list query).\n"
    "\n"
    "  lf-auth webhooks ACTION --help   the options of one action\n"
    "\n";

const char kCreateHead[] =
    "usage: lf-auth webhooks create (--token-env VAR | --token-file FILE | --token-stdin)\n"
    "                               --type TYPE --url URL [--settings JSON] [options]\n"
    "\n"
    "Registers a webhook with the createWebhook mutation and prints its id\n"
    "(with --json: {\"ok\":true,\"webhook\":{\"id\",\"type\",\"url\",\"settings\",\"version\"}}).\n"
    "  --type TYPE               the event; the Lightfunnels docs list\n";
const char kCreateTail[] =
    "                            Another name is sent as given (the platform decides) with a\n"
    "                            warning: most likely a typo.\n"
    "  --url URL                 where the events are POSTed (check them with webhook-verify)\n"
    "  --settings JSON           the WebhookSettings object, default {}\n"
    "                            (e.g. {\"segments_uids\":[\"..\"]})\n"
    "A refusal (unknown type, duplicate, a URL the server does not take) exits 26\n"
    "(LF_E_API) with the server's key and message.\n"
    "\n";

// The create usage, with the documented event types four to a line.
const char *create_usage() {
    static const std::string usage = [] {
        std::string u = kCreateHead;
        int on_line = 0;
        for (const char *t : lf_tools::kEventTypes) {
            u += on_line == 0 ? "                            " : " ";
            u += t;
            if (++on_line == 4) {
                u += '\n';
                on_line = 0;
            }
        }
        if (on_line) u += '\n';
        return u + kCreateTail;
    }();
    return usage.c_str();
}

const char kListUsage[] =
    "usage: lf-auth webhooks list (--token-env VAR | --token-file FILE | --token-stdin) [options]\n"
    "\n"
    "Prints the token's webhooks, one line each: id, type and url separated by tabs\n"
    "(with --json: {\"ok\":true,\"webhooks\":[{\"id\",\"type\",\"url\",\"settings\",\"version\"},..]}).\n"
    "The platform's docs give no list query: query { webhooks { .. } } is\n"
    "lf-sandbox's own, so the real API may refuse it (exit 26, LF_E_API); keep the\n"
    "ids that create prints. Tabs and newlines inside a value are shown as '?';\n"
    "on a terminal, so are the characters graphql replaces there.\n"
    "\n";

const char kDeleteUsage[] =
    "usage: lf-auth webhooks delete (--token-env VAR | --token-file FILE | --token-stdin) --id ID\n"
    "                               [options]\n"
    "\n"
    "Removes a webhook with the deleteWebhook mutation and prints the deleted id\n"
    "(with --json: {\"ok\":true,\"deleted\":ID}). An id the install does not have\n"
    "exits 26 (LF_E_API).\n"
    "\n";

const char kCreateQuery[] =
    "mutation($node: WebhookInput!) { createWebhook(node: $node) { id type url settings version } }";
const char kListQuery[] = "query { webhooks { id type url settings version } }";
const char kDeleteQuery[] = "mutation($id: ID!) { deleteWebhook(id: $id) }";

using Json = std::unique_ptr<cJSON, void (*)(cJSON *)>;

Json own(cJSON *j) {
    if (j == nullptr) throw LocalError{"out of memory"};
    return Json(j, cJSON_Delete);
}

struct WebhookArgs {
    Common c;
    SecretSource token_src;
    std::string type, url, settings = "{}", id;
};

// False when --help was asked for (and printed). `extra` registers the
// action's own options.
bool parse_args(const Args &args, const char *usage, WebhookArgs &a, const std::function<void(Parser &)> &extra) {
    Parser p;
    add_common_options(p, a.c, kApi | kTransport);
    p.secret("token", "access token", a.token_src);
    extra(p);
    if (!p.parse(args)) {
        print_help(usage, false, true);
        return false;
    }
    return true;
}

// A name outside the documented list is most likely a typo the platform's
// refusal would not explain; new types may appear, so it is sent anyway.
void warn_undocumented_type(const std::string &type) {
    if (lf_tools::is_event_type(type)) return;
    std::fprintf(stderr,
                 "lf-auth: warning: '%s' is not an event type the Lightfunnels docs list (see lf-auth webhooks "
                 "create --help): a typo? Sending it anyway.\n",
                 terminal_safe(type).c_str());
    std::fflush(stderr);
}

// {"node":{"type":..,"url":..,"settings":{..}}}; throws UsageError when
// --settings is not a JSON object.
Json create_variables(const WebhookArgs &a) {
    Json settings(cJSON_ParseWithLength(a.settings.data(), a.settings.size()), cJSON_Delete);
    if (!cJSON_IsObject(settings.get())) throw UsageError{"--settings must be a JSON object, e.g. {}"};
    Json vars = own(cJSON_CreateObject());
    cJSON *node = cJSON_AddObjectToObject(vars.get(), "node");
    if (node == nullptr || cJSON_AddStringToObject(node, "type", a.type.c_str()) == nullptr ||
        cJSON_AddStringToObject(node, "url", a.url.c_str()) == nullptr)
        throw LocalError{"out of memory"};
    cJSON_AddItemToObject(node, "settings", settings.release());
    return vars;
}

// The answer's data.<field>, kept alive by `root`; null after the failure
// was reported, its exit status in `exit_status`.
struct Reply {
    Json root{nullptr, cJSON_Delete};
    const cJSON *field = nullptr;
    int exit_status = kExitOk;
};

// A 2xx answer without the field asked for: not the API this tool speaks.
int report_protocol(const Common &c, const char *what, const char *field) {
    lf_error e{};
    e.status = LF_E_PROTOCOL;
    std::snprintf(e.message, sizeof e.message, "the answer has no data.%s of the expected type", field);
    return report_failure(c, what, LF_E_PROTOCOL, &e);
}

Reply call(const WebhookArgs &a, Secret &token, const char *what, const char *query, const cJSON *vars,
           const char *field, cJSON_bool (*expected)(const cJSON *)) {
    Reply r;
    std::unique_ptr<char, void (*)(void *)> vars_text(vars ? cJSON_PrintUnformatted(vars) : nullptr, cJSON_free);
    if (vars != nullptr && vars_text == nullptr) throw LocalError{"out of memory"};
    lf_error err;
    Client client;
    lf_status s = client.open(a.c, false, false, &err);
    if (s != LF_OK) {
        r.exit_status = report_failure(a.c, "client configuration", s, &err);
        return r;
    }
    std::string url = effective_api_url(a.c);
    progress(a.c, "asking %s: %s", url.empty() ? "the Lightfunnels API" : url.c_str(), what);
    lf_response *resp = nullptr;
    s = lf_graphql(client.get(), token.c_str(), query, vars_text.get(), &resp, &err);
    token.wipe();
    std::string body(lf_response_body(resp), lf_response_body_length(resp));
    lf_response_free(resp);
    if (s != LF_OK) {
        r.exit_status = report_failure(a.c, what, s, &err);
        return r;
    }
    r.root.reset(cJSON_ParseWithLength(body.data(), body.size()));
    r.field = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r.root.get(), "data"), field);
    if (!expected(r.field)) r.exit_status = report_protocol(a.c, what, field);
    return r;
}

// A value the server sent, as one field of one output line: tabs and line
// breaks never split it, and on a terminal it cannot drive the terminal.
std::string field_text(const char *value, bool for_terminal) {
    std::string s = value != nullptr ? value : "";
    for (char &ch : s)
        if (ch == '\t' || ch == '\n' || ch == '\r') ch = '?';
    return for_terminal ? terminal_safe(s) : s;
}

std::string member_text(const cJSON *obj, const char *name, bool for_terminal) {
    return field_text(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name)), for_terminal);
}

cJSON_bool is_webhook(const cJSON *j) {
    return cJSON_IsObject(j) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "id"));
}

int run_create(const Args &args) {
    WebhookArgs a;
    if (!parse_args(args, create_usage(), a, [&a](Parser &p) {
            p.option("type", [&a](const std::string &v) { a.type = v; });
            p.option("url", [&a](const std::string &v) { a.url = v; });
            p.option("settings", [&a](const std::string &v) { a.settings = v; });
        }))
        return kExitOk;
    if (a.type.empty()) throw UsageError{"create needs --type TYPE (see lf-auth webhooks create --help)"};
    if (a.url.empty()) throw UsageError{"create needs --url URL"};
    Json vars = create_variables(a);
    Secret token;
    read_secret(a.token_src, token);
    warn_undocumented_type(a.type);
    Reply r = call(a, token, "createWebhook", kCreateQuery, vars.get(), "createWebhook", is_webhook);
    if (r.exit_status != kExitOk) return r.exit_status;
    const bool for_terminal = stdout_is_terminal();
    if (a.c.json) {
        cJSON *o = json_ok();
        cJSON_AddItemToObject(o, "webhook", cJSON_Duplicate(r.field, true));
        emit_json(o, for_terminal);
    } else {
        std::printf("%s\n", member_text(r.field, "id", for_terminal).c_str());
    }
    return kExitOk;
}

cJSON_bool is_webhook_list(const cJSON *j) {
    if (!cJSON_IsArray(j)) return false;
    const cJSON *w = nullptr;
    cJSON_ArrayForEach(w, j) {
        if (!is_webhook(w)) return false;
    }
    return true;
}

int run_list(const Args &args) {
    WebhookArgs a;
    if (!parse_args(args, kListUsage, a, [](Parser &) {})) return kExitOk;
    Secret token;
    read_secret(a.token_src, token);
    Reply r = call(a, token, "webhooks", kListQuery, nullptr, "webhooks", is_webhook_list);
    if (r.exit_status != kExitOk) return r.exit_status;
    const bool for_terminal = stdout_is_terminal();
    if (a.c.json) {
        cJSON *o = json_ok();
        cJSON_AddItemToObject(o, "webhooks", cJSON_Duplicate(r.field, true));
        emit_json(o, for_terminal);
        return kExitOk;
    }
    const cJSON *w = nullptr;
    cJSON_ArrayForEach(w, r.field) {
        std::printf("%s\t%s\t%s\n", member_text(w, "id", for_terminal).c_str(),
                    member_text(w, "type", for_terminal).c_str(), member_text(w, "url", for_terminal).c_str());
    }
    std::fflush(stdout);
    return kExitOk;
}

int run_delete(const Args &args) {
    WebhookArgs a;
    if (!parse_args(args, kDeleteUsage, a,
                    [&a](Parser &p) { p.option("id", [&a](const std::string &v) { a.id = v; }); }))
        return kExitOk;
    if (a.id.empty()) throw UsageError{"delete needs --id ID (the id create printed)"};
    Json vars = own(cJSON_CreateObject());
    if (cJSON_AddStringToObject(vars.get(), "id", a.id.c_str()) == nullptr) throw LocalError{"out of memory"};
    Secret token;
    read_secret(a.token_src, token);
    Reply r = call(a, token, "deleteWebhook", kDeleteQuery, vars.get(), "deleteWebhook", cJSON_IsString);
    if (r.exit_status != kExitOk) return r.exit_status;
    const bool for_terminal = stdout_is_terminal();
    if (a.c.json) {
        cJSON *o = json_ok();
        cJSON_AddItemToObject(o, "deleted", cJSON_Duplicate(r.field, false));
        emit_json(o, for_terminal);
    } else {
        std::printf("%s\n", field_text(cJSON_GetStringValue(r.field), for_terminal).c_str());
    }
    return kExitOk;
}

void print_group_help() {
    std::fputs(kGroupUsage, stdout);
    std::fputs(exit_help(), stdout);
}

}  // namespace

int cmd_webhooks(const Args &args) {
    if (args.empty()) throw UsageError{"give an action: create, list or delete (see lf-auth webhooks --help)"};
    const std::string &action = args[0];
    if (action == "--help" || action == "-h" || action == "help") {
        print_group_help();
        return kExitOk;
    }
    const Args rest(args.begin() + 1, args.end());
    if (action == "create") return run_create(rest);
    if (action == "list") return run_list(rest);
    if (action == "delete") return run_delete(rest);
    // Never echoed: it could be a pasted secret.
    throw UsageError{"unknown action: give create, list or delete (see lf-auth webhooks --help)"};
}

}  // namespace lfcli
