// GET /admin/apps/<client_id>: the merchant's admin with the app inside an
// iframe, the way the Lightfunnels admin opens apps (embedded-apps.mdx):
// src is the app's URL with account_id and iframe=true appended, and the app
// lives on another origin, so its cookies are third-party there, as they are
// on the platform.
#include "endpoints.hpp"

#include "reply.hpp"
#include "util.hpp"

#include <string>

namespace sandbox {
namespace {

std::string admin_page(const ClientConfig &client) {
    std::string src = append_query(client.app_url, {{"account_id", client.account_id}, {"iframe", "true"}});
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<title>" +
           html_escape(client.id) +
           " &ndash; Lightfunnels sandbox admin</title>"
           "<style>html,body{height:100%;margin:0}body{display:flex;flex-direction:column;"
           "font-family:system-ui,sans-serif}header{padding:.6rem 1rem;background:#1e293b;color:#fff}"
           "iframe{flex:1;border:0;width:100%}</style></head><body>"
           "<header>lf-sandbox admin &mdash; account <code id=\"account\">" +
           html_escape(client.account_id) + "</code>, app <code id=\"client\">" + html_escape(client.id) +
           "</code></header>\n<iframe id=\"app\" title=\"" + html_escape(client.id) + "\" src=\"" + html_escape(src) +
           "\"></iframe>\n</body></html>\n";
}

}  // namespace

void handle_admin_app(Store &store, const httplib::Request &req, httplib::Response &res) {
    const ClientConfig *client = req.matches.size() == 2 ? store.client(req.matches[1].str()) : nullptr;
    if (!client || client->app_url.empty()) {
        send_token_error(res, 404, "not_found", client ? "this client has no app URL (--app-url)" : "no such client");
        return;
    }
    note_client(client->id);
    res.status = 200;
    no_store(res);
    // Frames: the app, then wherever it navigates its frame (the consent page
    // here, its redirect URI); the admin itself is never framed.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-src http: https:; frame-ancestors 'none'");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content(admin_page(*client), "text/html; charset=utf-8");
}

}  // namespace sandbox
