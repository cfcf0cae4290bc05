#include "routes.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "events.h"
#include "install.h"
#include "page.h"

#define SESSION_COOKIE "lf_app_session"

/* One request: its raw URI (the callback's query must be checked exactly as
 * sent) and, for POST /webhooks, the raw body. */
typedef struct request {
    char *uri;
    char *body;
    size_t len;
    int headers_seen;
    int too_large;
} request;

/* Runs before MHD parses the URI, so the raw query is kept for /callback. */
static void *keep_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    request *r = calloc(1, sizeof *r);
    if (r) r->uri = strdup(uri);
    return r;
}

static void request_done(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode why) {
    (void)cls;
    (void)c;
    (void)why;
    request *r = *req_cls;
    if (!r) return;
    if (r->uri) OPENSSL_cleanse(r->uri, strlen(r->uri));
    free(r->uri);
    free(r->body);
    free(r);
    *req_cls = NULL;
}

/* Every answer may be framed by the admin (and only by it) and is never cached
 * or leaked through Referer (a callback URL holds a code). */
static enum MHD_Result send_page(struct MHD_Connection *c, const app *a, unsigned status, const char *type,
                                 const char *body, const char *location, const char *cookie) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    char csp[1024];
    snprintf(csp, sizeof csp, "frame-ancestors %s; default-src 'self'; style-src 'unsafe-inline'",
             a->config.admin_origin);
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (location) MHD_add_response_header(resp, "Location", location);
    if (cookie) MHD_add_response_header(resp, "Set-Cookie", cookie);
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *c, const app *a, unsigned status, const char *text) {
    return send_page(c, a, status, "text/plain; charset=utf-8", text, NULL, NULL);
}

static void log_request(const char *method, const char *url, unsigned status, const char *note) {
    /* The path only: the query of /callback holds the code and state. */
    fprintf(stderr, "app: %s %s -> %u%s%s\n", method, url, status, note ? " " : "", note ? note : "");
}

static enum MHD_Result route_install(struct MHD_Connection *c, app *a) {
    char state[LF_SEALED_STATE_BUFFER_SIZE];
    char url[4096];
    /* Unbound state: the app keeps no browser session before the install (a
     * cookie would be third-party in the admin iframe), and the install is
     * keyed by the account the token belongs to, not by the browser. */
    if (lf_state_seal(a->auth, NULL, state, sizeof state, NULL) != LF_OK ||
        lf_consent_url(a->auth, a->config.redirect_uri, a->config.scopes, state, url, sizeof url, NULL) != LF_OK) {
        log_request("GET", "/install", 500, "(consent URL failed)");
        return send_text(c, a, 500, "Cannot build the consent URL.\n");
    }
    log_request("GET", "/install", 302, "(to the consent screen)");
    return send_page(c, a, 302, "text/plain; charset=utf-8", "Redirecting to Lightfunnels.\n", url, NULL);
}

static const char *callback_refusal(lf_status st) {
    switch (st) {
    case LF_E_ACCESS_DENIED:
        return "The authorization was declined.";
    case LF_E_STATE_EXPIRED:
        return "This authorization took too long. Start the install again.";
    case LF_E_STATE_MISMATCH:
        return "This authorization did not start here. Start the install again.";
    default:
        return "The callback is malformed.";
    }
}

static enum MHD_Result route_callback(struct MHD_Connection *c, app *a, const request *r) {
    char code[LF_MAX_CALLBACK_LENGTH];
    lf_error err;
    lf_status st = lf_parse_callback_sealed(a->auth, r->uri, NULL, APP_STATE_MAX_AGE_S, code, sizeof code, NULL, &err);
    if (st != LF_OK) {
        log_request("GET", "/callback", 400, lf_status_name(st));
        char *html = page_message("Not installed", callback_refusal(st), 1);
        enum MHD_Result rc = send_page(c, a, 400, "text/html; charset=utf-8", html ? html : "", NULL, NULL);
        free(html);
        return rc;
    }
    char account[128], why[512];
    int ok = install_from_code(a, code, account, sizeof account, why, sizeof why) == 0;
    OPENSSL_cleanse(code, sizeof code);
    if (!ok) {
        log_request("GET", "/callback", 502, why);
        char *html = page_message("Install failed", why, 1);
        enum MHD_Result rc = send_page(c, a, 502, "text/html; charset=utf-8", html ? html : "", NULL, NULL);
        free(html);
        return rc;
    }
    char session[512], cookie[700];
    if (vault_session_make(&a->config.vault, account, (long long)time(NULL) + APP_SESSION_TTL_S, session,
                           sizeof session) != 0)
        return send_text(c, a, 500, "Cannot make a session.\n");
    /* The only cookie the app keeps: third-party inside the admin iframe, so
     * it must be SameSite=None; Secure; Partitioned (CHIPS) to be sent. */
    snprintf(cookie, sizeof cookie,
             SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=None; Partitioned", session,
             APP_SESSION_TTL_S);
    fprintf(stderr, "app: installed for account %s\n", account);
    log_request("GET", "/callback", 303, "(installed; to the app page)");
    return send_page(c, a, 303, "text/plain; charset=utf-8", "Installed.\n", "/", cookie);
}

static enum MHD_Result route_home(struct MHD_Connection *c, app *a) {
    const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
    const char *hint = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "account_id");
    char account[128];
    int signed_in =
        cookie && vault_session_check(&a->config.vault, cookie, (long long)time(NULL), account, sizeof account) == 0;
    char *html = signed_in ? page_install(a, account) : page_welcome(hint);
    if (!html) return send_text(c, a, 500, "Cannot render the page.\n");
    log_request("GET", "/", 200, signed_in ? "(signed in)" : "(no session)");
    enum MHD_Result rc = send_page(c, a, 200, "text/html; charset=utf-8", html, NULL, NULL);
    free(html);
    return rc;
}

/* Collects the raw body, bounded; answers once it is complete. */
static enum MHD_Result route_webhook(struct MHD_Connection *c, app *a, request *r, const char *data, size_t *size) {
    if (!r->headers_seen) {
        r->headers_seen = 1;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > APP_MAX_WEBHOOK_BYTES) r->too_large = 1;
        return MHD_YES;
    }
    if (*size > 0) {
        if (!r->too_large && r->len + *size <= APP_MAX_WEBHOOK_BYTES) {
            char *grown = realloc(r->body, r->len + *size + 1);
            if (grown) {
                memcpy(grown + r->len, data, *size);
                r->body = grown;
                r->len += *size;
            } else {
                r->too_large = 1;
            }
        } else {
            r->too_large = 1;
        }
        *size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        log_request("POST", "/webhooks", 413, NULL);
        return send_text(c, a, 413, "Body too large.\n");
    }
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    const char *account = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "account");
    const char *hmac = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "lightfunnels-hmac");
    event_outcome o = events_receive(a, type, account, r->body ? r->body : "", r->len, hmac);
    unsigned status = o == EVENT_BAD_SIGNATURE ? 401 : o == EVENT_MALFORMED ? 400 : o == EVENT_FAILED ? 500 : 200;
    char note[128];
    snprintf(note, sizeof note, "(%s: %s)", type ? type : "no type", event_outcome_name(o));
    log_request("POST", "/webhooks", status, note);
    char text[64];
    snprintf(text, sizeof text, "%s\n", event_outcome_name(o));
    return send_text(c, a, status, text);
}

static enum MHD_Result dispatch(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                const char *version, const char *data, size_t *size, void **req_cls) {
    (void)version;
    app *a = cls;
    request *r = *req_cls;
    if (!r || !r->uri) return MHD_NO;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (strcmp(url, "/webhooks") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return route_webhook(c, a, r, data, size);
    if (get && strcmp(url, "/install") == 0) return route_install(c, a);
    if (get && strcmp(url, "/callback") == 0) return route_callback(c, a, r);
    if (get && strcmp(url, "/") == 0) return route_home(c, a);
    if (strcmp(url, "/webhooks") == 0 || strcmp(url, "/install") == 0 || strcmp(url, "/callback") == 0 ||
        strcmp(url, "/") == 0)
        return send_text(c, a, 405, "Method not allowed.\n");
    return send_text(c, a, 404, "Not found.\n");
}

struct MHD_Daemon *routes_start(app *a) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)a->config.port);
    if (inet_pton(AF_INET, a->config.bind_address, &addr.sin_addr) != 1) {
        fprintf(stderr, "app: LF_APP_BIND must be an IPv4 address\n");
        return NULL;
    }
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                            NULL, NULL, dispatch, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_URI_LOG_CALLBACK, keep_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, request_done,
                            NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)30, MHD_OPTION_END);
}
