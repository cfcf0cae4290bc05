// The sandbox's own controls for tests: POST /_sandbox/revoke ends a token,
// POST /_sandbox/webhook signs a sample order/confirmed event with the
// client's secret (through the public C API) and delivers it.
#include "endpoints.hpp"

#include "delivery.hpp"
#include "reply.hpp"
#include "util.hpp"

#include <lightfunnels/auth.h>

#include <ctime>
#include <new>
#include <stdexcept>
#include <string>

namespace sandbox {
namespace {

std::string webhook_payload(const ClientConfig &client) {
    char when[32];
    std::time_t now = std::time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    Json o(cJSON_CreateObject());
    if (!o) throw std::bad_alloc();
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
        cJSON_AddStringToObject(customer, "full_name", "Zo\xc3\xab Caf\xc3\xa9");  // raw UTF-8
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
    std::string payload = webhook_payload(*order.client);
    httplib::Headers headers{{"lightfunnels-hmac", sign_webhook(*order.client, payload)},
                             {"lightfunnels-topic", "order/confirmed"}};
    send_delivery(res, deliver(order.target, order.ca_file, headers, payload));
}

}  // namespace sandbox
