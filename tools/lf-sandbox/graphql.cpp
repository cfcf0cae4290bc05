// The GraphQL endpoint: POST /api/v2 with a bearer token. It answers
// account { id } (what the library asks), the webhook mutations of
// webhooks.mdx (createWebhook, deleteWebhook) and a webhooks list (a sandbox
// invention: the docs give no query for it). Anything else is an
// UnsupportedQuery error, never a guess.
#include "endpoints.hpp"

#include "delivery.hpp"
#include "events.hpp"
#include "gql_parse.hpp"
#include "reply.hpp"
#include "util.hpp"

#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sandbox {
namespace {

// Ends the request with {"errors":[..]} (HTTP 200, as GraphQL answers).
struct Failure {
    std::string message;
    const char *name;
    const char *key;
    std::string path;
};

[[noreturn]] void invalid(const std::string &message) {
    throw Failure{message, "GraphQLError", "graphql_validation", ""};
}

[[noreturn]] void unsupported(const std::string &message) {
    throw Failure{message + " (lf-sandbox answers account { id }, webhooks, createWebhook and deleteWebhook)",
                  "UnsupportedQuery", "unsupported_query", ""};
}

[[noreturn]] void reported(const std::string &message, const char *key, const std::string &path) {
    throw Failure{message, "ReportedError", key, path};
}

void send_graphql_error(httplib::Response &res, int status, const std::string &message, const char *name,
                        const char *key, const std::string &path = "") {
    send_json(res, status, graphql_error_json(message, name, key, path));
}

std::optional<TokenInfo> bearer(Store &store, const httplib::Request &req) {
    std::string auth = req.get_header_value("Authorization");
    if (!starts_with_ci(auth, "Bearer ")) return std::nullopt;
    size_t p = 7;
    while (p < auth.size() && auth[p] == ' ') ++p;
    std::string token = auth.substr(p);
    if (token.empty()) return std::nullopt;
    return store.token(token);
}

template <typename T>
T *need(T *p) {
    if (!p) throw std::bad_alloc();
    return p;
}

// ---- variables and arguments -------------------------------------------------------

const std::set<std::string> kKnownTypes{"ID",           "String",          "Int",           "Float", "Boolean",
                                        "WebhookInput", "WebhookSettings", "WebhookVersion"};

std::string base_type(const gql::TypeRef &t) { return t.item ? base_type(*t.item) : t.name; }

// The operation's variables from the request's "variables": defaults
// applied, non-null ones required. Undeclared variables are not copied, so
// using one fails.
Json coerce_variables(const gql::Operation &op, const cJSON *given) {
    Json out(need(cJSON_CreateObject()));
    for (const auto &def : op.variables) {
        if (!kKnownTypes.count(base_type(def.type)))
            invalid("variable $" + def.name + ": unknown type " + def.type.spelling());
        const cJSON *v = given ? cJSON_GetObjectItemCaseSensitive(given, def.name.c_str()) : nullptr;
        Json value;
        std::string why;
        if (v)
            value.reset(need(cJSON_Duplicate(v, 1)));
        else if (def.has_default)
            value = gql::to_json(def.default_value, nullptr, why);
        else
            value.reset(need(cJSON_CreateNull()));
        if (def.type.non_null && cJSON_IsNull(value.get()))
            invalid("variable $" + def.name + " of type " + def.type.spelling() + " needs a value");
        cJSON_AddItemToObject(out.get(), def.name.c_str(), value.release());
    }
    return out;
}

struct Call {
    const gql::Operation &op;
    const cJSON *vars;
    const gql::Field &field;
};

const gql::VariableDef *find_variable(const gql::Operation &op, const std::string &name) {
    for (const auto &d : op.variables)
        if (d.name == name) return &d;
    return nullptr;
}

// The one argument `name` of type `type` ("WebhookInput!") the field takes,
// as JSON. Other arguments, a missing one, or a variable declared with
// another type are validation errors.
Json argument(const Call &c, const char *name, const char *type) {
    const gql::Value *given = nullptr;
    for (const auto &a : c.field.args) {
        if (a.first != name) invalid(c.field.name + " has no argument \"" + a.first + "\"");
        given = &a.second;
    }
    if (!given) invalid(c.field.name + " needs the argument " + name + ": " + type);
    if (given->kind == gql::Value::Kind::variable) {
        const gql::VariableDef *def = find_variable(c.op, given->text);
        if (!def) invalid("variable $" + given->text + " is used but not defined by the operation");
        if (def->type.spelling() != type)
            invalid("variable $" + def->name + " of type " + def->type.spelling() + " cannot be " + c.field.name + "(" +
                    name + ":), which takes " + type);
    }
    std::string why;
    Json value = gql::to_json(*given, c.vars, why);
    if (!value) invalid(why);
    if (cJSON_IsNull(value.get())) invalid(c.field.name + "(" + name + ":) may not be null");
    return value;
}

void no_arguments(const gql::Field &f) {
    if (!f.args.empty()) invalid(f.name + " takes no arguments");
}

// ---- selections -------------------------------------------------------------------

void leaf(const gql::Field &f) {
    if (f.has_selections) invalid(f.name + " is a scalar: it takes no selection set");
}

const std::vector<gql::Field> &object_selections(const gql::Field &f) {
    if (!f.has_selections) invalid(f.name + " is an object: select its fields, e.g. " + f.name + " { id }");
    std::set<std::string> keys;
    for (const auto &s : f.selections)
        if (!keys.insert(s.alias).second) invalid("the response key \"" + s.alias + "\" is selected twice");
    return f.selections;
}

void add_string(cJSON *o, const std::string &key, const std::string &value) {
    need(cJSON_AddStringToObject(o, key.c_str(), value.c_str()));
}

Json account_object(const gql::Field &f, const TokenInfo &tok) {
    Json o(need(cJSON_CreateObject()));
    for (const auto &s : object_selections(f)) {
        leaf(s);
        no_arguments(s);
        if (s.name == "id")
            add_string(o.get(), s.alias, tok.account_id);
        else if (s.name == "__typename")
            add_string(o.get(), s.alias, "Account");
        else
            unsupported("Account." + s.name + " is not in the sandbox");
    }
    return o;
}

// Checks a Webhook selection before anything is changed.
void check_webhook_selection(const gql::Field &f) {
    static const std::set<std::string> known{"id", "type", "url", "settings", "version", "__typename"};
    for (const auto &s : object_selections(f)) {
        leaf(s);
        no_arguments(s);
        if (!known.count(s.name)) unsupported("Webhook." + s.name + " is not in the sandbox");
    }
}

Json webhook_object(const gql::Field &f, const Webhook &w) {
    Json o(need(cJSON_CreateObject()));
    for (const auto &s : f.selections) {
        const std::string &k = s.alias;
        if (s.name == "id") add_string(o.get(), k, w.id);
        if (s.name == "type") add_string(o.get(), k, w.type);
        if (s.name == "url") add_string(o.get(), k, w.url);
        if (s.name == "__typename") add_string(o.get(), k, "Webhook");
        if (s.name == "settings") cJSON_AddItemToObject(o.get(), k.c_str(), need(cJSON_Parse(w.settings.c_str())));
        if (s.name == "version") {
            if (w.version.empty())
                need(cJSON_AddNullToObject(o.get(), k.c_str()));
            else
                add_string(o.get(), k, w.version);
        }
    }
    return o;
}

// ---- WebhookInput --------------------------------------------------------------------

// A String field: a JSON string, not an enum literal.
std::string input_string(const cJSON *node, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, name);
    if (!cJSON_IsString(v)) invalid(std::string("WebhookInput.") + name + " must be a String");
    return v->valuestring;
}

// WebhookSettings (webhooks.mdx): {segments_uids?: string[]}.
std::string input_settings(const cJSON *node) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(node, "settings");
    if (!cJSON_IsObject(s)) invalid("WebhookInput.settings (WebhookSettings!) must be an object, e.g. {}");
    const cJSON *m;
    cJSON_ArrayForEach(m, s) {
        bool ok = std::string(m->string) == "segments_uids" && (cJSON_IsArray(m) || cJSON_IsNull(m));
        const cJSON *uid;
        if (ok && cJSON_IsArray(m)) cJSON_ArrayForEach(uid, m) ok = ok && cJSON_IsString(uid);
        if (!ok) invalid("WebhookSettings has only segments_uids, an array of strings");
    }
    char *text = need(cJSON_PrintUnformatted(s));
    std::string out(text);
    cJSON_free(text);
    return out;
}

// WebhookVersion: the enum literal v1 or v2, or the same as a string in variables.
std::string input_version(const cJSON *node) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, "version");
    if (!v || cJSON_IsNull(v)) return "";
    std::string s = cJSON_IsRaw(v) || cJSON_IsString(v) ? v->valuestring : "";
    if (s != "v1" && s != "v2") invalid("WebhookInput.version must be v1 or v2");
    return s;
}

Webhook webhook_input(const cJSON *node, const TokenInfo &tok, const std::string &path) {
    if (!cJSON_IsObject(node)) invalid("createWebhook(node:) must be a WebhookInput object");
    static const std::set<std::string> fields{"type", "url", "settings", "version"};
    const cJSON *m;
    cJSON_ArrayForEach(m, node) {
        if (!fields.count(m->string)) invalid(std::string("WebhookInput has no field \"") + m->string + "\"");
    }
    Webhook w;
    w.client_id = tok.client_id;
    w.account_id = tok.account_id;
    w.type = input_string(node, "type");
    w.url = input_string(node, "url");
    w.settings = input_settings(node);
    w.version = input_version(node);
    if (!is_event_type(w.type))
        reported("\"" + log_safe(w.type, 64) + "\" is not an event type of the platform's docs (webhooks.mdx)",
                 "webhooks_invalid_type", path);
    Target target;
    std::string why;
    if (!parse_target(w.url, target, why)) reported("url: " + why, "webhooks_invalid_url", path);
    return w;
}

// ---- execution ----------------------------------------------------------------------

// One root field, checked completely before any of the operation runs.
struct Step {
    enum class Kind { typename_, account, list, create, remove } kind;
    const gql::Field *field;
    Webhook input;   // create
    std::string id;  // remove
};

Step plan_query_field(const gql::Field &f) {
    if (f.name == "__typename") {
        leaf(f);
        return Step{Step::Kind::typename_, &f, {}, {}};
    }
    no_arguments(f);
    if (f.name == "account") {
        object_selections(f);
        return Step{Step::Kind::account, &f, {}, {}};
    }
    if (f.name == "webhooks") {
        check_webhook_selection(f);
        return Step{Step::Kind::list, &f, {}, {}};
    }
    unsupported("Query." + f.name + " is not in the sandbox");
}

Step plan_mutation_field(const Call &c, const TokenInfo &tok) {
    const gql::Field &f = c.field;
    if (f.name == "__typename") {
        leaf(f);
        return Step{Step::Kind::typename_, &f, {}, {}};
    }
    if (f.name == "createWebhook") {
        Json node = argument(c, "node", "WebhookInput!");
        check_webhook_selection(f);
        return Step{Step::Kind::create, &f, webhook_input(node.get(), tok, f.alias), {}};
    }
    if (f.name == "deleteWebhook") {
        Json id = argument(c, "id", "ID!");
        leaf(f);
        if (!cJSON_IsString(id.get())) invalid("deleteWebhook(id:) must be an ID (a string)");
        return Step{Step::Kind::remove, &f, {}, id->valuestring};
    }
    unsupported("Mutation." + f.name + " is not in the sandbox");
}

void run_step(Step &s, Store &store, const TokenInfo &tok, const std::string &op_kind, cJSON *data) {
    const std::string &key = s.field->alias;
    switch (s.kind) {
    case Step::Kind::typename_:
        add_string(data, key, op_kind == "mutation" ? "Mutation" : "Query");
        return;
    case Step::Kind::account:
        cJSON_AddItemToObject(data, key.c_str(), account_object(*s.field, tok).release());
        return;
    case Step::Kind::list: {
        cJSON *list = need(cJSON_AddArrayToObject(data, key.c_str()));
        for (const Webhook &w : store.webhooks(tok.client_id, tok.account_id))
            cJSON_AddItemToArray(list, webhook_object(*s.field, w).release());
        return;
    }
    case Step::Kind::create:
        switch (store.add_webhook(s.input)) {
        case AddWebhook::ok:
            cJSON_AddItemToObject(data, key.c_str(), webhook_object(*s.field, s.input).release());
            return;
        case AddWebhook::duplicate:
            reported("a webhook of this type to this url already exists", "webhooks_duplicated", key);
        case AddWebhook::full:
            reported(
                "the sandbox holds " + std::to_string(Store::kMaxWebhooksPerInstall) + " webhooks per install at most",
                "webhooks_limit", key);
        }
        return;
    case Step::Kind::remove:
        if (!store.delete_webhook(tok.client_id, tok.account_id, s.id))
            reported("no webhook with this id", "webhooks_not_found", key);
        add_string(data, key, s.id);
        return;
    }
}

// {"data":{..}} for `op`, or a Failure.
std::string execute(Store &store, const TokenInfo &tok, const gql::Operation &op, const cJSON *given_vars) {
    if (op.kind == "subscription") unsupported("subscriptions are not in the sandbox");
    Json vars = coerce_variables(op, given_vars);
    std::set<std::string> keys;
    std::vector<Step> steps;
    for (const auto &f : op.selections) {
        if (!keys.insert(f.alias).second) invalid("the response key \"" + f.alias + "\" is selected twice");
        steps.push_back(op.kind == "mutation" ? plan_mutation_field(Call{op, vars.get(), f}, tok)
                                              : plan_query_field(f));
    }
    Json o(need(cJSON_CreateObject()));
    cJSON *data = need(cJSON_AddObjectToObject(o.get(), "data"));
    for (auto &s : steps) run_step(s, store, tok, op.kind, data);  // in order, as GraphQL runs mutations
    return json_print(o.get());
}

}  // namespace

void handle_graphql(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::optional<TokenInfo> tok = bearer(store, req);
    if (!tok) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"lf-sandbox\", error=\"invalid_token\"");
        send_graphql_error(res, 401, "The access token is missing, unknown or revoked", "UnauthorizedError",
                           "unauthorized");
        return;
    }
    note_client(tok->client_id);
    std::string why, query;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        send_graphql_error(res, 400, why, "BadRequest", "bad_request");
        return;
    }
    if (json_string(body.get(), "query", query) != Field::ok) {
        send_graphql_error(res, 400, "the body needs a string \"query\"", "BadRequest", "bad_request");
        return;
    }
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(body.get(), "variables");
    if (vars && !cJSON_IsObject(vars) && !cJSON_IsNull(vars)) {
        send_graphql_error(res, 400, "\"variables\" must be an object", "BadRequest", "bad_request");
        return;
    }
    gql::Operation op;
    if (!gql::parse(query, op, why)) {
        send_graphql_error(res, 200, "syntax error: " + why, "GraphQLError", "graphql_syntax");
        return;
    }
    try {
        send_json(res, 200, execute(store, *tok, op, cJSON_IsObject(vars) ? vars : nullptr));
    } catch (const Failure &f) {
        send_graphql_error(res, 200, f.message, f.name, f.key, f.path);
    }
}

}  // namespace sandbox
