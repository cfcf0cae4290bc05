// The consent endpoints: GET /admin/oauth checks the app's request and shows
// the consent page (or, with --auto-approve, redirects with a code at once);
// POST /admin/oauth/decision takes the page's Approve or Deny.
#include "endpoints.hpp"

#include "reply.hpp"
#include "util.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sandbox {
namespace {

constexpr size_t kMaxState = 2048;
constexpr size_t kMaxScopes = 64;
constexpr size_t kMaxScopeLength = 64;

const char *kDenyDescription = "The merchant declined the authorization request";

// ---- pages and redirects ---------------------------------------------------------

void send_html(httplib::Response &res, int status, const std::string &body) {
    res.status = status;
    no_store(res);
    // The admin page (same origin) frames the app, which navigates its own
    // frame here to ask for consent, as apps do inside the Lightfunnels
    // admin (embedded-apps.mdx); no other site may frame it.
    res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'");
    res.set_header("X-Frame-Options", "SAMEORIGIN");
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
    std::string body =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Authorization error</title>" +
        std::string(kStyle) + "</head><body><main><h1>Authorization error</h1><p id=\"error\">" + html_escape(message) +
        "</p><p class=\"note\">lf-sandbox: you were not redirected to the app."
        "</p></main></body></html>\n";
    send_html(res, status, body);
}

void redirect(httplib::Response &res, const std::string &url) {
    no_store(res);
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_redirect(url, 302);
}
// ---- scopes ------------------------------------------------------------------

// Strict: the library sends a clean list ("a,b"); anything else is a bug to show.
bool parse_scopes(const std::string &scope, std::vector<std::string> &out) {
    out.clear();
    size_t start = 0;
    for (;;) {
        size_t comma = scope.find(',', start);
        std::string s = scope.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (s.empty() || s.size() > kMaxScopeLength) return false;
        for (unsigned char c : s)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
        bool dup = false;
        for (const auto &e : out) dup = dup || e == s;
        if (!dup) out.push_back(s);
        if (out.size() > kMaxScopes) return false;
        if (comma == std::string::npos) return true;
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
        if (s == k.name) return k.text;
    return "A scope the sandbox does not know (granted as named)";
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

// ---- consent ---------------------------------------------------------------------

std::string hidden(const char *name, const std::string &value) {
    return std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" + html_escape(value) + "\">";
}

std::string consent_page(const Grant &g, const std::vector<std::string> &scopes, const std::string &account_id,
                         const std::string &nonce) {
    std::string fields = hidden("nonce", nonce) + hidden("client_id", g.client_id) +
                         hidden("redirect_uri", g.redirect_uri) + hidden("scope", g.scope);
    // The state is informational here (the server keeps its own copy); a value
    // a browser could not send back unchanged (not UTF-8, control characters)
    // is left out.
    if (g.state && is_utf8(*g.state) && !has_control(*g.state)) fields += hidden("state", *g.state);
    std::string list;
    for (const auto &s : scopes)
        list += "<li class=\"scope\" data-scope=\"" + html_escape(s) + "\"><code>" + html_escape(s) +
                "</code> &mdash; " + html_escape(scope_description(s)) + "</li>\n";
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
           "<title>Authorize " +
           html_escape(g.client_id) + " &ndash; Lightfunnels sandbox</title>" + kStyle +
           "</head><body><main>\n<h1>Authorize <span id=\"client\">" + html_escape(g.client_id) +
           "</span></h1>\n<p>This app asks for access to the Lightfunnels account <strong>" + html_escape(account_id) +
           "</strong> with these permissions:</p>\n<ul id=\"scopes\">\n" + list +
           "</ul>\n<p class=\"note\">Whatever you decide, you will be sent back to <code>" +
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
    if (g.state) q.emplace_back("state", *g.state);
    redirect(res, append_query(g.redirect_uri, q));
}

void redirect_with_error(httplib::Response &res, const Grant &g, const char *error, const std::string &description) {
    std::vector<std::pair<std::string, std::string>> q{{"error", error}, {"error_description", description}};
    if (g.state) q.emplace_back("state", *g.state);
    redirect(res, append_query(g.redirect_uri, q));
}

// The parameters of GET /admin/oauth, each present at most once.
struct AuthorizeQuery {
    std::optional<std::string> client_id, redirect_uri, scope, state;
};

bool read_authorize_query(const httplib::Params &params, AuthorizeQuery &q) {
    return single(params, "client_id", q.client_id) && single(params, "redirect_uri", q.redirect_uri) &&
           single(params, "scope", q.scope) && single(params, "state", q.state);
}

// The client, once its redirect URI is known to be one of its own; until then
// every error is a page here, never a redirect. Null when a page was sent.
const ClientConfig *trusted_client(Store &store, const AuthorizeQuery &q, httplib::Response &res) {
    if (!q.client_id || q.client_id->empty()) {
        send_error_page(res, 400, "The client_id parameter is missing.");
        return nullptr;
    }
    const ClientConfig *client = store.client(*q.client_id);
    if (!client) {
        send_error_page(res, 400, "Unknown client_id: " + *q.client_id);
        return nullptr;
    }
    note_client(client->id);
    if (!q.redirect_uri || q.redirect_uri->empty()) {
        send_error_page(res, 400, "The redirect_uri parameter is missing.");
        return nullptr;
    }
    bool allowed = false;
    for (const auto &u : client->redirect_uris)
        allowed = allowed || u == *q.redirect_uri;  // exact match: no prefix, case or slash leniency
    if (!allowed) {
        send_error_page(res, 400, "The redirect_uri is not whitelisted for this app: " + *q.redirect_uri);
        return nullptr;
    }
    return client;
}

// Fills in the state and scopes of `g`. The redirect URI is trusted by now:
// errors go back to the app (RFC 6749 4.1.2.1). False when a redirect was sent.
bool complete_grant(const AuthorizeQuery &q, Grant &g, std::vector<std::string> &scopes, httplib::Response &res) {
    if (q.state && q.state->size() > kMaxState) {
        redirect_with_error(res, g, "invalid_request", "state is longer than 2048 bytes");
        return false;
    }
    g.state = q.state;
    if (!q.scope || !parse_scopes(*q.scope, scopes)) {
        redirect_with_error(res, g, "invalid_scope",
                            "scope must be a comma-separated list of names matching [a-z0-9_]+");
        return false;
    }
    g.scope = join(scopes);
    return true;
}

}  // namespace

void handle_authorize(Store &store, const Options &opts, const httplib::Request &req, httplib::Response &res) {
    AuthorizeQuery q;
    if (!read_authorize_query(req.params, q)) {
        send_error_page(res, 400, "A parameter (client_id, redirect_uri, scope or state) is repeated.");
        return;
    }
    const ClientConfig *client = trusted_client(store, q, res);
    if (!client) return;
    Grant g{client->id, *q.redirect_uri, "", std::nullopt};
    std::vector<std::string> scopes;
    if (!complete_grant(q, g, scopes, res)) return;
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
    httplib::Params form = parse_form(req.body);
    std::optional<std::string> nonce, decision, client_id, redirect_uri, scope, state;
    if (!single(form, "nonce", nonce) || !single(form, "decision", decision) || !single(form, "client_id", client_id) ||
        !single(form, "redirect_uri", redirect_uri) || !single(form, "scope", scope) || !single(form, "state", state)) {
        send_error_page(res, 400, "A form field is repeated.");
        return;
    }
    if (!nonce || nonce->empty()) {
        send_error_page(res, 400, "The consent form has no nonce.");
        return;
    }
    std::optional<Grant> g = store.take_consent(*nonce);  // one-time, whatever follows
    if (!g) {
        send_error_page(res, 400,
                        "This consent page is unknown, already used or expired. Start again from "
                        "the app.");
        return;
    }
    note_client(g->client_id);
    bool match = (!client_id || *client_id == g->client_id) && (!redirect_uri || *redirect_uri == g->redirect_uri) &&
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

}  // namespace sandbox
