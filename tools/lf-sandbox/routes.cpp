#include "routes.hpp"

#include "util.hpp"

#include <lightfunnels/auth.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace sandbox {
namespace {

// The client a request was about, for the log line. Set by the handlers;
// read and cleared by the logger, which cpp-httplib runs on the same thread
// right after the handler.
thread_local std::string t_log_client;

constexpr size_t kMaxState = 2048;
constexpr size_t kMaxScopes = 64;
constexpr size_t kMaxScopeLength = 64;

const char *kDenyDescription = "The merchant declined the authorization request";

// ---- small response helpers -------------------------------------------------

void no_store(httplib::Response &res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("Pragma", "no-cache");
}

void send_json(httplib::Response &res, int status, const std::string &body) {
    res.status = status;
    no_store(res);
    res.set_content(body, "application/json");
}

void send_html(httplib::Response &res, int status, const std::string &body) {
    res.status = status;
    no_store(res);
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content(body, "text/html; charset=utf-8");
}

const char *kStyle =
    "<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
    "main{max-width:34rem;margin:4rem auto;background:#fff;border-radius:8px;padding:2rem;"
    "box-shadow:0 1px 4px #0002}h1{font-size:1.4rem}ul{padding-left:1.2rem}"
    ".actions{display:flex;gap:1rem;margin-top:1.5rem}button{font-size:1rem;padding:.6rem 1.4rem;"
    "border-radius:6px;border:1px solid #888;cursor:pointer}#approve{background:#2563eb;color:#fff;"
    "border-color:#2563eb}.note{color:#666;font-size:.85rem}</style>";

void send_error_page(httplib::Response &res, int status, const std::string &message) {
    std::string body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<title>Authorization error</title>" +
                       std::string(kStyle) +
                       "</head><body><main><h1>Authorization error</h1><p id=\"error\">" +
                       html_escape(message) +
                       "</p><p class=\"note\">lf-sandbox: you were not redirected to the app."
                       "</p></main></body></html>\n";
    send_html(res, status, body);
}

void redirect(httplib::Response &res, const std::string &url) {
    no_store(res);
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_redirect(url, 302);
}

bool starts_with_ci(const std::string &s, const char *prefix) {
    size_t n = std::strlen(prefix);
    return s.size() >= n && strncasecmp(s.c_str(), prefix, n) == 0;
}

bool is_json_type(const httplib::Request &req) {
    return starts_with_ci(req.get_header_value("Content-Type"), "application/json");
}

// Exactly one value, or none: false for a repeated parameter.
bool single(const httplib::Params &params, const char *name, std::optional<std::string> &out) {
    auto range = params.equal_range(name);
    out.reset();
    for (auto it = range.first; it != range.second; ++it) {
        if (out)
            return false;
        out = it->second;
    }
    return true;
}

// ---- scopes ------------------------------------------------------------------

// Strict: the library sends a clean list ("a,b"); anything else is a bug to show.
bool parse_scopes(const std::string &scope, std::vector<std::string> &out) {
    out.clear();
    size_t start = 0;
    for (;;) {
        size_t comma = scope.find(',', start);
        std::string s = scope.substr(start, comma == std::string::npos ? std::string::npos
                                                                        : comma - start);
        if (s.empty() || s.size() > kMaxScopeLength)
            return false;
        for (unsigned char c : s)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                return false;
        bool dup = false;
        for (const auto &e : out)
            dup = dup || e == s;
        if (!dup)
            out.push_back(s);
        if (out.size() > kMaxScopes)
            return false;
        if (comma == std::string::npos)
            return true;
        start = comma + 1;
    }
}

const char *scope_description(const std::string &s) {
    static const struct {
        const char *name, *text;
    } known[] = {{"funnels", "View and manage your funnels and pages"},
                 {"orders", "View and manage orders"},
                 {"products", "View and manage products"},
                 {"analytics", "View analytics"},
                 {"customers", "View and manage customers"},
                 {"discounts", "View and manage discounts"},
                 {"contact_form_data", "View contact form submissions"},
                 {"settings", "View and manage store settings"}};
    for (const auto &k : known)
        if (s == k.name)
            return k.text;
    return "A scope the sandbox does not know (granted as named)";
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

// ---- consent -----------------------------------------------------------------

std::string hidden(const char *name, const std::string &value) {
    return std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" +
           html_escape(value) + "\">";
}

std::string consent_page(const Grant &g, const std::vector<std::string> &scopes,
                         const std::string &account_id, const std::string &nonce) {
    std::string fields = hidden("nonce", nonce) + hidden("client_id", g.client_id) +
                         hidden("redirect_uri", g.redirect_uri) + hidden("scope", g.scope);
    // The state is informational here (the server keeps its own copy); a value
    // a browser could not send back unchanged (not UTF-8, control characters)
    // is left out.
    if (g.state && is_utf8(*g.state) && !has_control(*g.state))
        fields += hidden("state", *g.state);
    std::string list;
    for (const auto &s : scopes)
        list += "<li class=\"scope\" data-scope=\"" + html_escape(s) + "\"><code>" + html_escape(s) +
                "</code> &mdash; " + html_escape(scope_description(s)) + "</li>\n";
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
           "<title>Authorize " +
           html_escape(g.client_id) + " &ndash; Lightfunnels sandbox</title>" + kStyle +
           "</head><body><main>\n<h1>Authorize <span id=\"client\">" + html_escape(g.client_id) +
           "</span></h1>\n<p>This app asks for access to the Lightfunnels account <strong>" +
           html_escape(account_id) + "</strong> with these permissions:</p>\n<ul id=\"scopes\">\n" +
           list + "</ul>\n<p class=\"note\">Whatever you decide, you will be sent back to <code>" +
           html_escape(g.redirect_uri) +
           "</code>.</p>\n<div class=\"actions\">\n"
           "<form method=\"post\" action=\"/admin/oauth/decision\">" +
           fields + hidden("decision", "approve") +
           "<button type=\"submit\" id=\"approve\">Approve</button></form>\n"
           "<form method=\"post\" action=\"/admin/oauth/decision\">" +
           fields + hidden("decision", "deny") +
           "<button type=\"submit\" id=\"deny\">Deny</button></form>\n"
           "</div>\n<p class=\"note\">lf-sandbox &mdash; a local test double, not Lightfunnels."
           "</p>\n</main></body></html>\n";
}

void redirect_with_code(Store &store, httplib::Response &res, const Grant &g) {
    std::string code = store.issue_code(g);
    if (code.empty()) {
        send_error_page(res, 503, "The sandbox holds too many unused codes; try again later.");
        return;
    }
    std::vector<std::pair<std::string, std::string>> q{{"code", code}};
    if (g.state)
        q.emplace_back("state", *g.state);
    redirect(res, append_query(g.redirect_uri, q));
}

void redirect_with_error(httplib::Response &res, const Grant &g, const char *error,
                         const std::string &description) {
    std::vector<std::pair<std::string, std::string>> q{{"error", error},
                                                       {"error_description", description}};
    if (g.state)
        q.emplace_back("state", *g.state);
    redirect(res, append_query(g.redirect_uri, q));
}

void handle_authorize(Store &store, const Options &opts, const httplib::Request &req,
                      httplib::Response &res) {
    std::optional<std::string> client_id, redirect_uri, scope, state;
    if (!single(req.params, "client_id", client_id) ||
        !single(req.params, "redirect_uri", redirect_uri) || !single(req.params, "scope", scope) ||
        !single(req.params, "state", state)) {
        send_error_page(res, 400, "A parameter (client_id, redirect_uri, scope or state) is repeated.");
        return;
    }
    if (!client_id || client_id->empty()) {
        send_error_page(res, 400, "The client_id parameter is missing.");
        return;
    }
    const ClientConfig *client = store.client(*client_id);
    if (!client) {
        send_error_page(res, 400, "Unknown client_id: " + *client_id);
        return;
    }
    t_log_client = client->id;
    if (!redirect_uri || redirect_uri->empty()) {
        send_error_page(res, 400, "The redirect_uri parameter is missing.");
        return;
    }
    bool allowed = false;
    for (const auto &u : client->redirect_uris)
        allowed = allowed || u == *redirect_uri; // exact match: no prefix, case or slash leniency
    if (!allowed) {
        send_error_page(res, 400,
                        "The redirect_uri is not whitelisted for this app: " + *redirect_uri);
        return;
    }
    // From here on the redirect URI is trusted: errors go back to the app (RFC 6749 4.1.2.1).
    Grant g{client->id, *redirect_uri, "", std::nullopt};
    if (state && state->size() > kMaxState) {
        redirect_with_error(res, g, "invalid_request", "state is longer than 2048 bytes");
        return;
    }
    g.state = state;
    std::vector<std::string> scopes;
    if (!scope || !parse_scopes(*scope, scopes)) {
        redirect_with_error(res, g, "invalid_scope",
                            "scope must be a comma-separated list of names matching [a-z0-9_]+");
        return;
    }
    g.scope = join(scopes);
    if (opts.auto_approve) {
        redirect_with_code(store, res, g);
        return;
    }
    std::string nonce = store.add_consent(g);
    if (nonce.empty()) {
        send_error_page(res, 503, "The sandbox holds too many open consent pages; try again later.");
        return;
    }
    send_html(res, 200, consent_page(g, scopes, client->account_id, nonce));
}

void handle_decision(Store &store, const httplib::Request &req, httplib::Response &res) {
    httplib::Params form;
    httplib::detail::parse_query_text(req.body, form);
    std::optional<std::string> nonce, decision, client_id, redirect_uri, scope, state;
    if (!single(form, "nonce", nonce) || !single(form, "decision", decision) ||
        !single(form, "client_id", client_id) || !single(form, "redirect_uri", redirect_uri) ||
        !single(form, "scope", scope) || !single(form, "state", state)) {
        send_error_page(res, 400, "A form field is repeated.");
        return;
    }
    if (!nonce || nonce->empty()) {
        send_error_page(res, 400, "The consent form has no nonce.");
        return;
    }
    std::optional<Grant> g = store.take_consent(*nonce); // one-time, whatever follows
    if (!g) {
        send_error_page(res, 400,
                        "This consent page is unknown, already used or expired. Start again from "
                        "the app.");
        return;
    }
    t_log_client = g->client_id;
    bool match = (!client_id || *client_id == g->client_id) &&
                 (!redirect_uri || *redirect_uri == g->redirect_uri) &&
                 (!scope || *scope == g->scope) && (!state || (g->state && *state == *g->state));
    if (!match) {
        send_error_page(res, 400, "The decision does not match the consent page it came from.");
        return;
    }
    if (decision && *decision == "approve")
        redirect_with_code(store, res, *g);
    else if (decision && *decision == "deny")
        redirect_with_error(res, *g, "access_denied", kDenyDescription);
    else
        send_error_page(res, 400, "The decision must be approve or deny.");
}

// ---- token endpoints --------------------------------------------------------------

const ClientConfig *authenticate(Store &store, const std::string &id, const std::string &secret) {
    static const std::string dummy = "lf-sandbox-no-such-client-secret";
    const ClientConfig *c = store.client(id);
    // Compare even for an unknown id, so timing does not tell which ids exist.
    bool ok = secret_equal(c ? c->secret : dummy, secret) && secret.find('\0') == std::string::npos;
    return c && ok ? c : nullptr;
}

void send_token_error(httplib::Response &res, int status, const char *error,
                      const std::string &description) {
    send_json(res, status, oauth_error_json(error, description));
}

void finish_exchange(Store &store, const ClientConfig &client, const std::string &code,
                     httplib::Response &res) {
    if (code.empty()) {
        send_token_error(res, 400, "invalid_request", "code is required");
        return;
    }
    std::string token;
    switch (store.redeem(code, client.id, token)) {
    case Redeem::ok: {
        Json o(cJSON_CreateObject());
        if (!o || !cJSON_AddStringToObject(o.get(), "access_token", token.c_str()))
            throw std::bad_alloc();
        send_json(res, 200, json_print(o.get()));
        return;
    }
    case Redeem::used:
        send_token_error(res, 400, "invalid_grant", "the authorization code was already used");
        return;
    case Redeem::expired:
        send_token_error(res, 400, "invalid_grant", "the authorization code has expired");
        return;
    case Redeem::other_client:
        send_token_error(res, 400, "invalid_grant",
                         "the authorization code was issued to another client");
        return;
    case Redeem::unknown:
        send_token_error(res, 400, "invalid_grant", "the authorization code is unknown");
        return;
    case Redeem::full:
        send_token_error(res, 503, "temporarily_unavailable", "the sandbox holds too many tokens");
        return;
    }
}

// POST /oauth/access_token: {"client_id","client_secret","code"} in a JSON body.
void handle_token_json(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::string why;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        // A non-JSON request (e.g. a Basic-auth form) carries no credentials this
        // endpoint understands: the client is not authenticated.
        if (is_json_type(req))
            send_token_error(res, 400, "invalid_request", why);
        else
            send_token_error(res, 401, "invalid_client",
                             "this endpoint takes client_id and client_secret in a JSON body");
        return;
    }
    std::string id, secret, code;
    Field fi = json_string(body.get(), "client_id", id);
    Field fs = json_string(body.get(), "client_secret", secret);
    Field fc = json_string(body.get(), "code", code);
    if (fi == Field::wrong_type || fs == Field::wrong_type || fc == Field::wrong_type) {
        send_token_error(res, 400, "invalid_request",
                         "client_id, client_secret and code must be strings");
        return;
    }
    t_log_client = id;
    if (id.empty() || secret.empty()) {
        send_token_error(res, 401, "invalid_client", "client_id and client_secret are required");
        return;
    }
    const ClientConfig *client = authenticate(store, id, secret);
    if (!client) {
        send_token_error(res, 401, "invalid_client", "client authentication failed");
        return;
    }
    finish_exchange(store, *client, code, res);
}

void basic_challenge(httplib::Response &res, const std::string &description) {
    res.set_header("WWW-Authenticate", "Basic realm=\"lf-sandbox\", charset=\"UTF-8\"");
    send_token_error(res, 401, "invalid_client", description);
}

// POST /api/access_token: Authorization: Basic base64(id:secret), code in a
// form or JSON body.
void handle_token_basic(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::string auth = req.get_header_value("Authorization");
    if (!starts_with_ci(auth, "Basic ")) {
        basic_challenge(res, "client authentication with HTTP Basic is required");
        return;
    }
    size_t p = 6;
    while (p < auth.size() && auth[p] == ' ')
        ++p;
    std::string decoded;
    if (!base64_decode(auth.substr(p), decoded)) {
        basic_challenge(res, "malformed Basic credentials");
        return;
    }
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) {
        basic_challenge(res, "malformed Basic credentials");
        return;
    }
    std::string id = decoded.substr(0, colon);
    std::string secret = decoded.substr(colon + 1);
    t_log_client = id;
    const ClientConfig *client = authenticate(store, id, secret);
    if (!client) {
        basic_challenge(res, "client authentication failed");
        return;
    }
    std::string code;
    size_t first = req.body.find_first_not_of(" \t\r\n");
    bool json = is_json_type(req) || (first != std::string::npos && req.body[first] == '{');
    if (json) {
        std::string why;
        Json body = parse_json_object(req.body, why);
        if (!body) {
            send_token_error(res, 400, "invalid_request", why);
            return;
        }
        if (json_string(body.get(), "code", code) == Field::wrong_type) {
            send_token_error(res, 400, "invalid_request", "code must be a string");
            return;
        }
    } else {
        httplib::Params form;
        httplib::detail::parse_query_text(req.body, form);
        std::optional<std::string> c;
        if (!single(form, "code", c)) {
            send_token_error(res, 400, "invalid_request", "code is repeated");
            return;
        }
        code = c.value_or("");
    }
    finish_exchange(store, *client, code, res);
}

// ---- GraphQL --------------------------------------------------------------------

void send_graphql_error(httplib::Response &res, int status, const std::string &message,
                        const char *name, const char *key) {
    send_json(res, status, graphql_error_json(message, name, key));
}

std::optional<TokenInfo> bearer(Store &store, const httplib::Request &req) {
    std::string auth = req.get_header_value("Authorization");
    if (!starts_with_ci(auth, "Bearer "))
        return std::nullopt;
    size_t p = 7;
    while (p < auth.size() && auth[p] == ' ')
        ++p;
    std::string token = auth.substr(p);
    if (token.empty())
        return std::nullopt;
    return store.token(token);
}

void handle_graphql(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::optional<TokenInfo> tok = bearer(store, req);
    if (!tok) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"lf-sandbox\", error=\"invalid_token\"");
        send_graphql_error(res, 401, "The access token is missing, unknown or revoked",
                           "UnauthorizedError", "unauthorized");
        return;
    }
    t_log_client = tok->client_id;
    std::string why, query;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        send_graphql_error(res, 400, why, "BadRequest", "bad_request");
        return;
    }
    if (json_string(body.get(), "query", query) != Field::ok) {
        send_graphql_error(res, 400, "the body needs a string \"query\"", "BadRequest",
                           "bad_request");
        return;
    }
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(body.get(), "variables");
    if (vars && !cJSON_IsObject(vars) && !cJSON_IsNull(vars)) {
        send_graphql_error(res, 400, "\"variables\" must be an object", "BadRequest",
                           "bad_request");
        return;
    }
    if (!is_account_id_query(query)) {
        send_graphql_error(res, 200,
                           "lf-sandbox only answers query { account { id } }", "UnsupportedQuery",
                           "unsupported_query");
        return;
    }
    Json o(cJSON_CreateObject());
    cJSON *data = o ? cJSON_AddObjectToObject(o.get(), "data") : nullptr;
    cJSON *account = data ? cJSON_AddObjectToObject(data, "account") : nullptr;
    if (!account || !cJSON_AddStringToObject(account, "id", tok->account_id.c_str()))
        throw std::bad_alloc();
    send_json(res, 200, json_print(o.get()));
}

// ---- sandbox controls ------------------------------------------------------------

void handle_revoke(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::string why, token;
    Json body = parse_json_object(req.body, why);
    if (!body || json_string(body.get(), "access_token", token) != Field::ok || token.empty()) {
        send_token_error(res, 400, "invalid_request",
                         body ? "the body needs a string \"access_token\"" : why);
        return;
    }
    if (auto info = store.token(token))
        t_log_client = info->client_id;
    bool revoked = store.revoke(token);
    send_json(res, revoked ? 200 : 404, revoked ? "{\"revoked\":true}" : "{\"revoked\":false}");
}

struct Target {
    bool https = false;
    std::string host;
    int port = 0;
    std::string path;
};

bool parse_target(const std::string &url, Target &t, std::string &why) {
    size_t rest;
    if (url.compare(0, 8, "https://") == 0) {
        t.https = true;
        rest = 8;
    } else if (url.compare(0, 7, "http://") == 0) {
        rest = 7;
    } else {
        why = "url must be http:// or https://";
        return false;
    }
    if (has_control(url) || url.find(' ') != std::string::npos || url.find('#') != std::string::npos) {
        why = "url must not contain spaces, control characters or a fragment";
        return false;
    }
    size_t end = url.find_first_of("/?", rest);
    std::string authority = url.substr(rest, end == std::string::npos ? std::string::npos : end - rest);
    t.path = end == std::string::npos ? "/" : url.substr(end);
    if (t.path[0] == '?')
        t.path = "/" + t.path;
    if (authority.find('@') != std::string::npos) {
        why = "url must not carry user info";
        return false;
    }
    std::string port;
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        if (close == std::string::npos) {
            why = "bad IPv6 literal in url";
            return false;
        }
        t.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                why = "bad url authority";
                return false;
            }
            port = authority.substr(close + 2);
        }
    } else {
        size_t colon = authority.find(':');
        t.host = authority.substr(0, colon);
        if (colon != std::string::npos)
            port = authority.substr(colon + 1);
    }
    if (!is_loopback_host(t.host)) {
        why = "refusing to deliver to a non-loopback host (only 127.0.0.0/8, [::1], localhost)";
        return false;
    }
    t.port = t.https ? 443 : 80;
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
            why = "bad port in url";
            return false;
        }
        t.port = std::stoi(port);
        if (t.port < 1 || t.port > 65535) {
            why = "bad port in url";
            return false;
        }
    }
    return true;
}

std::string webhook_payload(const ClientConfig &client) {
    char when[32];
    std::time_t now = std::time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    Json o(cJSON_CreateObject());
    if (!o)
        throw std::bad_alloc();
    cJSON *r = o.get();
    cJSON_AddStringToObject(r, "id", ("order_" + random_token(12)).c_str());
    cJSON_AddNumberToObject(r, "_id", 1001);
    cJSON_AddStringToObject(r, "name", "#1001");
    cJSON_AddStringToObject(r, "account_id", client.account_id.c_str());
    cJSON_AddStringToObject(r, "email", "buyer@example.com");
    cJSON_AddStringToObject(r, "currency", "USD");
    cJSON_AddNumberToObject(r, "subtotal", 49.9);
    cJSON_AddNumberToObject(r, "shipping", 10);
    cJSON_AddNumberToObject(r, "total", 59.9);
    cJSON_AddStringToObject(r, "financial_status", "paid");
    cJSON_AddStringToObject(r, "created_at", when);
    cJSON *customer = cJSON_AddObjectToObject(r, "customer");
    if (customer) {
        cJSON_AddStringToObject(customer, "id", "customer_1");
        cJSON_AddStringToObject(customer, "full_name", "Zo\xc3\xab Caf\xc3\xa9"); // raw UTF-8
    }
    cJSON *items = cJSON_AddArrayToObject(r, "items");
    cJSON *item = cJSON_CreateObject();
    if (items && item) {
        cJSON_AddItemToArray(items, item);
        cJSON_AddStringToObject(item, "id", "item_1");
        cJSON_AddStringToObject(item, "product_id", "product_1");
        cJSON_AddStringToObject(item, "title", "Sandbox T-shirt \xe2\x80\x94 \"blue\"");
        cJSON_AddNumberToObject(item, "price", 49.9);
        cJSON_AddNumberToObject(item, "quantity", 1);
    } else {
        cJSON_Delete(item);
    }
    return json_print(r);
}

std::string sign_webhook(const ClientConfig &client, const std::string &body) {
    static const char *const redirect[] = {"https://127.0.0.1/lf-sandbox"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = client.id.c_str();
    cfg.client_secret = client.secret.c_str();
    cfg.redirect_uris = redirect;
    cfg.redirect_uri_count = 1;
    lf_auth *auth = nullptr;
    lf_error err;
    lf_status st = lf_auth_new(&cfg, &auth, &err);
    if (st != LF_OK)
        throw std::runtime_error(std::string("lf_auth_new: ") + lf_status_name(st));
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    st = lf_webhook_sign(auth, body.data(), body.size(), sig, sizeof sig, nullptr);
    lf_auth_free(auth);
    if (st != LF_OK)
        throw std::runtime_error(std::string("lf_webhook_sign: ") + lf_status_name(st));
    return sig;
}

constexpr time_t kDeliveryConnectSeconds = 5;
constexpr time_t kDeliveryReadSeconds = 5;
constexpr std::chrono::seconds kDeliveryDeadline(10);

// Ends a delivery still running at its deadline. cpp-httplib's timeouts are
// per connect and per recv, so a target sending a header line every few
// seconds would otherwise hold this handler thread, and grow the headers,
// without end.
class Deadline {
public:
    Deadline(httplib::ClientImpl &cli, std::chrono::seconds limit)
        : cli_(cli), thread_([this, limit] { watch(limit); }) {}
    ~Deadline() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    Deadline(const Deadline &) = delete;
    Deadline &operator=(const Deadline &) = delete;

    bool expired() {
        std::lock_guard<std::mutex> lock(mu_);
        return expired_;
    }

private:
    void watch(std::chrono::seconds limit) {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, limit, [this] { return done_; }))
            return;
        expired_ = true;
        cli_.stop(); // made for this: shuts the socket down under the request in flight
    }

    httplib::ClientImpl &cli_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    bool expired_ = false;
    std::thread thread_; // last: starts once the members it uses exist
};

struct Delivery {
    int status = 0; // the target's answer; 0 when it gave none
    std::string error;
};

std::unique_ptr<httplib::ClientImpl> delivery_client(const Target &t, const std::string &ca_file) {
    std::unique_ptr<httplib::ClientImpl> cli;
    if (t.https) {
        auto ssl = std::make_unique<httplib::SSLClient>(t.host, t.port);
        if (!ca_file.empty())
            ssl->set_ca_cert_path(ca_file.c_str());
        ssl->enable_server_certificate_verification(true);
        cli = std::move(ssl);
    } else {
        cli = std::make_unique<httplib::ClientImpl>(t.host, t.port);
    }
    cli->set_connection_timeout(kDeliveryConnectSeconds);
    cli->set_read_timeout(kDeliveryReadSeconds);
    cli->set_write_timeout(kDeliveryReadSeconds);
    cli->set_follow_location(false); // a Location may name any host
    cli->set_keep_alive(false);
    return cli;
}

Delivery deliver(const Target &t, const std::string &ca_file, const httplib::Headers &headers,
                 const std::string &payload) {
    std::unique_ptr<httplib::ClientImpl> cli = delivery_client(t, ca_file);
    httplib::Request req;
    req.method = "POST";
    req.path = t.path;
    req.headers = headers;
    req.set_header("Content-Type", "application/json");
    req.body = payload;
    Delivery d;
    // The status is all the sandbox reports, so the body is never read: an
    // endless or trickled one cannot hold the delivery or fill memory.
    req.response_handler = [&d](const httplib::Response &r) {
        d.status = r.status;
        return false;
    };
    httplib::Response answer;
    httplib::Error err = httplib::Error::Success;
    bool ok, expired;
    {
        Deadline deadline(*cli, kDeliveryDeadline);
        ok = cli->send(req, answer, err);
        expired = deadline.expired();
    }
    if (ok) // no body to stop at (204): the handler was not called
        d.status = answer.status;
    if (d.status == 0)
        d.error = expired ? "the target did not answer within the 10 s deadline"
                          : httplib::to_string(err);
    return d;
}

// The host part of a Host header: "127.0.0.1:8080", "[::1]:8080", "localhost".
std::string host_of(const std::string &header) {
    if (!header.empty() && header[0] == '[') {
        size_t close = header.find(']');
        return close == std::string::npos ? "" : header.substr(1, close - 1);
    }
    return header.substr(0, header.find(':'));
}

void handle_webhook(Store &store, const httplib::Request &req, httplib::Response &res) {
    // Any web page can make a browser POST here. What passes is what a browser
    // sends only with the sandbox's consent: a JSON Content-Type needs a CORS
    // preflight (never granted: OPTIONS is 405 without CORS headers), and a
    // loopback Host shuts out a page that rebinds its own name to 127.0.0.1.
    if (!is_loopback_host(host_of(req.get_header_value("Host")))) {
        send_token_error(res, 403, "forbidden_host",
                         "the Host header must be 127.0.0.1, [::1] or localhost");
        return;
    }
    if (!is_json_type(req)) {
        send_token_error(res, 415, "invalid_request", "Content-Type must be application/json");
        return;
    }
    std::string why, client_id, url, ca_file;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        send_token_error(res, 400, "invalid_request", why);
        return;
    }
    if (json_string(body.get(), "client_id", client_id) != Field::ok ||
        json_string(body.get(), "url", url) != Field::ok ||
        json_string(body.get(), "ca_file", ca_file) == Field::wrong_type) {
        send_token_error(res, 400, "invalid_request",
                         "the body needs string \"client_id\" and \"url\" (and optional \"ca_file\")");
        return;
    }
    const ClientConfig *client = store.client(client_id);
    if (!client) {
        send_token_error(res, 404, "unknown_client", "no such client_id");
        return;
    }
    t_log_client = client->id;
    Target t;
    if (!parse_target(url, t, why)) {
        send_token_error(res, 400, "invalid_request", why);
        return;
    }
    if (!ca_file.empty() && !t.https) {
        send_token_error(res, 400, "invalid_request", "ca_file is only for https:// urls");
        return;
    }
    std::string payload = webhook_payload(*client);
    httplib::Headers headers{{"lightfunnels-hmac", sign_webhook(*client, payload)},
                             {"lightfunnels-topic", "order/confirmed"}};
    Delivery d = deliver(t, ca_file, headers, payload);
    Json o(cJSON_CreateObject());
    if (d.status == 0) {
        if (!o || !cJSON_AddFalseToObject(o.get(), "delivered") ||
            !cJSON_AddStringToObject(o.get(), "error", d.error.c_str()))
            throw std::bad_alloc();
        send_json(res, 502, json_print(o.get()));
        return;
    }
    if (!o || !cJSON_AddTrueToObject(o.get(), "delivered") ||
        !cJSON_AddNumberToObject(o.get(), "status", d.status))
        throw std::bad_alloc();
    send_json(res, 200, json_print(o.get()));
}

// ---- routing ------------------------------------------------------------------------

httplib::Server::Handler not_allowed(const char *allow) {
    return [allow](const httplib::Request &, httplib::Response &res) {
        res.set_header("Allow", allow);
        send_json(res, 405, oauth_error_json("method_not_allowed",
                                             std::string("allowed: ") + allow));
    };
}

enum class Method { get, post };

void route(httplib::Server &svr, const char *path, Method m, httplib::Server::Handler h) {
    httplib::Server::Handler wrong = not_allowed(m == Method::get ? "GET, HEAD" : "POST");
    svr.Get(path, m == Method::get ? h : wrong);
    svr.Post(path, m == Method::post ? h : wrong);
    svr.Put(path, wrong);
    svr.Patch(path, wrong);
    svr.Delete(path, wrong);
    svr.Options(path, wrong);
}

} // namespace

bool is_account_id_query(const std::string &query) {
    // GraphQL lexing, just enough: ignored tokens are whitespace, commas,
    // comments and a BOM; names are [_A-Za-z][_0-9A-Za-z]*; punctuators { }.
    std::vector<std::string> toks;
    size_t i = 0, n = query.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(query[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
            ++i;
        } else if (c == 0xEF && query.compare(i, 3, "\xEF\xBB\xBF") == 0) {
            i += 3;
        } else if (c == '#') {
            while (i < n && query[i] != '\n' && query[i] != '\r')
                ++i;
        } else if (c == '{' || c == '}') {
            toks.emplace_back(1, static_cast<char>(c));
            ++i;
        } else if (c == '_' || std::isalpha(c)) {
            size_t s = i;
            while (i < n && (query[i] == '_' || std::isalnum(static_cast<unsigned char>(query[i]))))
                ++i;
            toks.push_back(query.substr(s, i - s));
        } else {
            return false;
        }
        if (toks.size() > 8)
            return false;
    }
    static const std::vector<std::string> body{"{", "account", "{", "id", "}", "}"};
    if (toks == body)
        return true;
    if (toks.size() >= 7 && toks[0] == "query") {
        size_t skip = toks.size() == 8 && toks[1] != "{" ? 2 : 1; // optional operation name
        if (toks.size() - skip == body.size() && std::equal(body.begin(), body.end(), toks.begin() + static_cast<std::ptrdiff_t>(skip)))
            return true;
    }
    return false;
}

void install_routes(httplib::Server &svr, Store &store, const Options &opts) {
    route(svr, "/admin/oauth", Method::get,
          [&store, &opts](const httplib::Request &req, httplib::Response &res) {
              handle_authorize(store, opts, req, res);
          });
    route(svr, "/admin/oauth/decision", Method::post,
          [&store](const httplib::Request &req, httplib::Response &res) {
              handle_decision(store, req, res);
          });
    route(svr, "/oauth/access_token", Method::post,
          [&store](const httplib::Request &req, httplib::Response &res) {
              handle_token_json(store, req, res);
          });
    route(svr, "/api/access_token", Method::post,
          [&store](const httplib::Request &req, httplib::Response &res) {
              handle_token_basic(store, req, res);
          });
    route(svr, "/api/v2", Method::post,
          [&store](const httplib::Request &req, httplib::Response &res) {
              handle_graphql(store, req, res);
          });
    route(svr, "/_sandbox/revoke", Method::post,
          [&store](const httplib::Request &req, httplib::Response &res) {
              handle_revoke(store, req, res);
          });
    route(svr, "/_sandbox/webhook", Method::post,
          [&store](const httplib::Request &req, httplib::Response &res) {
              handle_webhook(store, req, res);
          });

    svr.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request &, httplib::Response &res) {
            if (!res.body.empty())
                return httplib::Server::HandlerResponse::Unhandled;
            const char *key = res.status == 404   ? "not_found"
                              : res.status == 413 ? "payload_too_large"
                                                  : "bad_request";
            send_json(res, res.status,
                      oauth_error_json(key, "HTTP " + std::to_string(res.status) +
                                                " (see docs/SANDBOX.md for the endpoints)"));
            return httplib::Server::HandlerResponse::Handled;
        }));
    svr.set_exception_handler(
        [](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
            std::string what = "internal error";
            try {
                if (ep)
                    std::rethrow_exception(ep);
            } catch (const std::exception &e) {
                what = e.what();
            } catch (...) {
            }
            std::fprintf(stderr, "lf-sandbox: internal error: %s\n", log_safe(what, 200).c_str());
            send_json(res, 500, oauth_error_json("server_error", "internal error"));
        });
    svr.set_logger([](const httplib::Request &req, const httplib::Response &res) {
        // Path only: the query of /admin/oauth carries state, bodies carry secrets.
        std::fprintf(stderr, "lf-sandbox: %s %s %d client_id=%s\n", log_safe(req.method, 16).c_str(),
                     log_safe(req.path, 120).c_str(), res.status,
                     t_log_client.empty() ? "-" : log_safe(t_log_client, 64).c_str());
        std::fflush(stderr);
        t_log_client.clear();
    });
}

} // namespace sandbox
