// The sandbox's own controls for tests: POST /_sandbox/revoke ends a token,
// /_sandbox/webhook sends a sample order/confirmed event to a loopback URL,
// /_sandbox/event fires an event at the webhooks an account's installs
// registered, /_sandbox/uninstall removes an install (its tokens stop
// working) and sends app/uninstalled. Events are signed with the client's
// secret through the public C API.
#include "endpoints.hpp"

#include "delivery.hpp"
#include "events.hpp"
#include "reply.hpp"
#include "util.hpp"

#include <lightfunnels/auth.h>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace sandbox {
namespace {

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
    if (st != LF_OK) throw std::runtime_error(std::string("lf_auth_new: ") + lf_status_name(st));
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    st = lf_webhook_sign(auth, body.data(), body.size(), sig, sizeof sig, nullptr);
    lf_auth_free(auth);
    if (st != LF_OK) throw std::runtime_error(std::string("lf_webhook_sign: ") + lf_status_name(st));
    return sig;
}

// The host part of a Host header: "127.0.0.1:8080", "[::1]:8080", "localhost".
std::string host_of(const std::string &header) {
    if (!header.empty() && header[0] == '[') {
        size_t close = header.find(']');
        return close == std::string::npos ? "" : header.substr(1, close - 1);
    }
    return header.substr(0, header.find(':'));
}

// Any web page can make a browser POST here. What passes is what a browser
// sends only with the sandbox's consent: a JSON Content-Type needs a CORS
// preflight (never granted: OPTIONS is 405 without CORS headers), and a
// loopback Host shuts out a page that rebinds its own name to 127.0.0.1.
// False when an error was sent.
bool from_a_local_program(const httplib::Request &req, httplib::Response &res) {
    if (!is_loopback_host(host_of(req.get_header_value("Host")))) {
        send_token_error(res, 403, "forbidden_host", "the Host header must be 127.0.0.1, [::1] or localhost");
        return false;
    }
    if (!is_json_type(req)) {
        send_token_error(res, 415, "invalid_request", "Content-Type must be application/json");
        return false;
    }
    return true;
}

// What a webhook request asks for: whose event, delivered where.
struct WebhookOrder {
    const ClientConfig *client = nullptr;
    Target target;
    std::string ca_file;
};

// Reads {"client_id","url","ca_file"?}. False when an error was sent.
bool read_order(Store &store, const httplib::Request &req, httplib::Response &res, WebhookOrder &order) {
    std::string why, client_id, url;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        send_token_error(res, 400, "invalid_request", why);
        return false;
    }
    if (json_string(body.get(), "client_id", client_id) != Field::ok ||
        json_string(body.get(), "url", url) != Field::ok ||
        json_string(body.get(), "ca_file", order.ca_file) == Field::wrong_type) {
        send_token_error(res, 400, "invalid_request",
                         "the body needs string \"client_id\" and \"url\" (and optional \"ca_file\")");
        return false;
    }
    order.client = store.client(client_id);
    if (!order.client) {
        send_token_error(res, 404, "unknown_client", "no such client_id");
        return false;
    }
    note_client(order.client->id);
    if (!parse_target(url, order.target, why)) {
        send_token_error(res, 400, "invalid_request", why);
        return false;
    }
    if (!order.ca_file.empty() && !order.target.https) {
        send_token_error(res, 400, "invalid_request", "ca_file is only for https:// urls");
        return false;
    }
    return true;
}

// 200 {"delivered":true,"status":N} when the target answered, else 502
// {"delivered":false,"error":..}.
void send_delivery(httplib::Response &res, const Delivery &d) {
    Json o(cJSON_CreateObject());
    if (d.status == 0) {
        if (!o || !cJSON_AddFalseToObject(o.get(), "delivered") ||
            !cJSON_AddStringToObject(o.get(), "error", d.error.c_str()))
            throw std::bad_alloc();
        send_json(res, 502, json_print(o.get()));
        return;
    }
    if (!o || !cJSON_AddTrueToObject(o.get(), "delivered") || !cJSON_AddNumberToObject(o.get(), "status", d.status))
        throw std::bad_alloc();
    send_json(res, 200, json_print(o.get()));
}

cJSON *need_object() {
    cJSON *o = cJSON_CreateObject();
    if (!o) throw std::bad_alloc();
    return o;
}

// One registered webhook's delivery, as reported by the event controls.
void report(cJSON *list, const Webhook &w, const Delivery &d) {
    cJSON *r = need_object();
    cJSON_AddItemToArray(list, r);
    bool ok = cJSON_AddStringToObject(r, "webhook_id", w.id.c_str()) &&
              cJSON_AddStringToObject(r, "url", w.url.c_str()) &&
              cJSON_AddBoolToObject(r, "delivered", d.status != 0) &&
              (d.status != 0 ? cJSON_AddNumberToObject(r, "status", d.status) != nullptr
                             : cJSON_AddStringToObject(r, "error", d.error.c_str()) != nullptr);
    if (!ok) throw std::bad_alloc();
}

// Sends `payload` to each of `hooks` in turn, signed with its client's
// secret, and adds "deliveries":[..] to `answer`. The urls were checked
// when they were registered (loopback only).
void add_deliveries(cJSON *answer, Store &store, const std::vector<Webhook> &hooks, const std::string &payload,
                    const std::string &ca_file) {
    cJSON *list = cJSON_AddArrayToObject(answer, "deliveries");
    if (!list) throw std::bad_alloc();
    for (const Webhook &w : hooks) {
        Target target;
        std::string why;
        const ClientConfig *client = store.client(w.client_id);
        if (!client || !parse_target(w.url, target, why)) continue;
        httplib::Headers headers{{"lightfunnels-hmac", sign_webhook(*client, payload)}};
        report(list, w, deliver(target, target.https ? ca_file : "", headers, payload));
    }
}

}  // namespace

void handle_revoke(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::string why, token;
    Json body = parse_json_object(req.body, why);
    if (!body || json_string(body.get(), "access_token", token) != Field::ok || token.empty()) {
        send_token_error(res, 400, "invalid_request", body ? "the body needs a string \"access_token\"" : why);
        return;
    }
    if (auto info = store.token(token)) note_client(info->client_id);
    bool revoked = store.revoke(token);
    send_json(res, revoked ? 200 : 404, revoked ? "{\"revoked\":true}" : "{\"revoked\":false}");
}

void handle_webhook(Store &store, const httplib::Request &req, httplib::Response &res) {
    WebhookOrder order;
    if (!from_a_local_program(req, res) || !read_order(store, req, res, order)) return;
    std::string payload = event_payload("order/confirmed", order.client->account_id);
    // lightfunnels-topic is the sandbox's own (the platform sends no such
    // header); kept on this legacy control only, for the tests that read it.
    httplib::Headers headers{{"lightfunnels-hmac", sign_webhook(*order.client, payload)},
                             {"lightfunnels-topic", "order/confirmed"}};
    send_delivery(res, deliver(order.target, order.ca_file, headers, payload));
}

void handle_event(Store &store, const httplib::Request &req, httplib::Response &res) {
    if (!from_a_local_program(req, res)) return;
    std::string why, account, type, client_id, ca_file;
    Json body = parse_json_object(req.body, why);
    if (!body || json_string(body.get(), "account_id", account) != Field::ok ||
        json_string(body.get(), "type", type) != Field::ok ||
        json_string(body.get(), "client_id", client_id) == Field::wrong_type ||
        json_string(body.get(), "ca_file", ca_file) == Field::wrong_type) {
        send_token_error(res, 400, "invalid_request",
                         body ? "the body needs string \"account_id\" and \"type\" (optional \"client_id\", "
                                "\"ca_file\")"
                              : why);
        return;
    }
    note_client(client_id);
    if (!is_event_type(type)) {
        send_token_error(res, 400, "invalid_request", "not an event type of the platform's docs (webhooks.mdx)");
        return;
    }
    if (type == "app/uninstalled") {
        send_token_error(res, 400, "invalid_request", "app/uninstalled is sent by POST /_sandbox/uninstall");
        return;
    }
    std::vector<Webhook> hooks;
    for (const Webhook &w : store.webhooks(client_id, account))
        if (w.type == type) hooks.push_back(w);
    Json o(need_object());
    add_deliveries(o.get(), store, hooks, event_payload(type, account), ca_file);
    send_json(res, 200, json_print(o.get()));
}

void handle_uninstall(Store &store, const httplib::Request &req, httplib::Response &res) {
    if (!from_a_local_program(req, res)) return;
    std::string why, client_id, account, ca_file;
    Json body = parse_json_object(req.body, why);
    Field fa = body ? json_string(body.get(), "account_id", account) : Field::missing;
    if (!body || json_string(body.get(), "client_id", client_id) != Field::ok || fa == Field::wrong_type ||
        json_string(body.get(), "ca_file", ca_file) == Field::wrong_type) {
        send_token_error(res, 400, "invalid_request",
                         body ? "the body needs a string \"client_id\" (optional \"account_id\", \"ca_file\")" : why);
        return;
    }
    const ClientConfig *client = store.client(client_id);
    if (!client) {
        send_token_error(res, 404, "unknown_client", "no such client_id");
        return;
    }
    note_client(client->id);
    if (fa == Field::missing) account = client->account_id;
    Uninstalled gone = store.uninstall(client->id, account);
    if (gone.tokens == 0 && gone.webhooks.empty()) {
        send_token_error(res, 404, "not_installed", "the app has no token and no webhook on this account");
        return;
    }
    std::vector<Webhook> hooks;
    for (const Webhook &w : gone.webhooks)
        if (w.type == "app/uninstalled") hooks.push_back(w);
    Json o(need_object());
    if (!cJSON_AddTrueToObject(o.get(), "uninstalled") ||
        !cJSON_AddNumberToObject(o.get(), "revoked_tokens", static_cast<double>(gone.tokens)))
        throw std::bad_alloc();
    add_deliveries(o.get(), store, hooks, event_payload("app/uninstalled", account), ca_file);
    send_json(res, 200, json_print(o.get()));
}

}  // namespace sandbox
