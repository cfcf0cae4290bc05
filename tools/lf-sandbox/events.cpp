// Event payloads modelled on the examples of webhooks.mdx: the same member
// names, types and nesting, with sandbox values.
#include "events.hpp"

#include "util.hpp"

#include <ctime>
#include <new>

namespace sandbox {
namespace {

template <typename T>
T *need(T *p) {
    if (!p) throw std::bad_alloc();
    return p;
}

void str(cJSON *o, const char *k, const std::string &v) { need(cJSON_AddStringToObject(o, k, v.c_str())); }
void num(cJSON *o, const char *k, double v) { need(cJSON_AddNumberToObject(o, k, v)); }
void null(cJSON *o, const char *k) { need(cJSON_AddNullToObject(o, k)); }
void boolean(cJSON *o, const char *k, bool v) { need(cJSON_AddBoolToObject(o, k, v)); }
cJSON *obj(cJSON *o, const char *k) { return need(cJSON_AddObjectToObject(o, k)); }
cJSON *arr(cJSON *o, const char *k) { return need(cJSON_AddArrayToObject(o, k)); }

cJSON *push_object(cJSON *array) {
    cJSON *item = need(cJSON_CreateObject());
    cJSON_AddItemToArray(array, item);
    return item;
}

// A platform-style id: a prefix and 20 random url-safe characters.
std::string fresh_id(const char *prefix) { return prefix + random_token(15); }

// "2024-03-18 14:20:37", as in the docs' order payload (UTC here).
std::string now_text() {
    char when[32];
    std::time_t now = std::time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    return when;
}

void address(cJSON *o, const char *k, bool filled) {
    cJSON *a = obj(o, k);
    str(a, "zip", filled ? "75011" : "");
    str(a, "area", "");
    str(a, "city", filled ? "Paris" : "");
    str(a, "email", filled ? "zoe@example.com" : "");
    str(a, "line1", filled ? "12 rue de la Roquette" : "");
    str(a, "line2", "");
    str(a, "phone", "");
    str(a, "state", filled ? "\xC3\x8Ele-de-France" : "");  // Île-de-France
    if (filled)
        str(a, "country", "FR");
    else
        null(a, "country");
    str(a, "last_name", filled ? "Caf\xC3\xA9" : "");
    str(a, "first_name", filled ? "Zo\xC3\xAB" : "");
}

// An order item (the docs' VariantSnapshot), paid by `payment_id`.
void variant_snapshot(cJSON *item, const std::string &payment_id) {
    str(item, "id", fresh_id("vars_"));
    num(item, "_id", 3050394);
    str(item, "sku", "SBX-TEE-BLUE");
    null(item, "image");
    num(item, "price", 35);
    str(item, "title", "Sandbox T-shirt \xE2\x80\x94 \"blue\"");  // an em dash and escaped quotes
    str(item, "carrier", "");
    arr(item, "options");
    null(item, "refund_id");
    str(item, "__typename", "VariantSnapshot");
    str(item, "payment_id", payment_id);
    str(item, "product_id", "prod_sandboxTshirt00001");
    null(item, "removed_at");
    str(item, "variant_id", "var_sandboxTshirtBlue01");
    null(item, "tracking_link");
    arr(item, "custom_options");
    arr(item, "customer_files");
    null(item, "tracking_number");
    str(item, "fulfillment_status", "none");
}

void payment(cJSON *p, const std::string &id) {
    str(p, "id", id);
    num(p, "_id", 2498721);
    num(p, "total", 35);
    cJSON *proto = obj(obj(obj(p, "source"), "payment_gateway"), "prototype");
    str(proto, "key", "cod");
    arr(p, "refunds");
    num(p, "refunded", 0);
    num(p, "sub_total", 35);
    str(p, "created_at", "a few seconds ago");
    num(p, "refundable", 0);
    null(p, "discount_snapshot");
    arr(p, "price_bundle_snapshot");
    obj(p, "cookies");
}

void order_node(cJSON *n, const std::string &account_id) {
    std::string payment_id = fresh_id("pay_");
    str(n, "id", fresh_id("order_"));
    num(n, "_id", 1001);
    str(n, "name", "#1001");
    arr(n, "tags");
    boolean(n, "test", true);
    str(n, "email", "zoe@example.com");
    variant_snapshot(push_object(arr(n, "items")), payment_id);
    str(n, "notes", "Leave it with the concierge \xE2\x80\x94 \"Mme Caf\xC3\xA9\"");
    str(n, "phone", "");
    num(n, "total", 45);
    obj(n, "custom");
    str(n, "currency", "EUR");
    str(n, "funnel_id", "fun_sandboxFunnel000001");
    str(n, "store_id", "store_sandboxStore00001");
    cJSON *customer = obj(n, "customer");
    str(customer, "id", "cus_sandboxCustomer0001");
    str(customer, "avatar", "//www.gravatar.com/avatar/00000000000000000000000000000000");
    str(customer, "location", "FR, Paris");
    str(customer, "full_name", "Zo\xC3\xAB Caf\xC3\xA9");
    payment(push_object(arr(n, "payments")), payment_id);
    num(n, "shipping", 10);
    num(n, "subtotal", 35);
    str(n, "__typename", "Order");
    str(n, "account_id", account_id);
    str(n, "created_at", now_text());
    num(n, "refundable", 0);
    null(n, "archived_at");
    num(n, "net_payment", 0);
    null(n, "cancelled_at");
    str(obj(n, "client_details"), "ip", "127.0.0.1");
    num(n, "discount_value", 0);
    num(n, "original_total", 45);
    address(n, "billing_address", true);
    num(n, "refunded_amount", 0);
    num(n, "paid_by_customer", 0);
    address(n, "shipping_address", true);
    num(n, "shipping_discount", 0);
    num(n, "bundle_discount_value", 0);
    num(n, "normal_discount_value", 0);
}

// The docs' "Customer payload" (contact/signup, contact/updated).
void customer_node(cJSON *n) {
    str(n, "id", fresh_id("cus_"));
    arr(n, "tags");
    str(n, "email", "zoe@example.com");
    arr(n, "leads");
    null(n, "notes");
    str(n, "phone", "");
    str(n, "avatar", "//www.gravatar.com/avatar/00000000000000000000000000000000");
    obj(n, "custom");
    str(n, "location", "FR, Paris");
    str(n, "full_name", "Zo\xC3\xAB Caf\xC3\xA9");
    str(n, "last_name", "Caf\xC3\xA9");
    str(n, "__typename", "Customer");
    str(n, "first_name", "Zo\xC3\xAB");
    address(n, "billing_address", false);
    address(n, "shipping_address", false);
    boolean(n, "accepts_marketing", false);
}

void contact_form_node(cJSON *n) {
    obj(n, "custom");
    str(n, "message",
        "Do you ship the \"blue\" one to Qu\xC3\xA9"
        "bec?");
    str(n, "subject", "Shipping question");
    str(n, "email", "zoe@example.com");
    str(n, "first_name", "Zo\xC3\xAB");
    str(n, "last_name", "Caf\xC3\xA9");
}

bool has_prefix(const std::string &s, const char *p) { return s.compare(0, std::char_traits<char>::length(p), p) == 0; }

void fill_node(cJSON *n, const std::string &type, const std::string &account_id) {
    if (type == "app/uninstalled") {
        str(n, "id", account_id);
    } else if (type == "order-item/created") {
        variant_snapshot(n, fresh_id("pay_"));
    } else if (has_prefix(type, "order/")) {
        order_node(n, account_id);
    } else if (has_prefix(type, "payment/")) {
        std::string id = fresh_id("pay_");
        str(n, "id", id);
        variant_snapshot(push_object(arr(n, "items")), id);
    } else if (type == "contact-form/created") {
        contact_form_node(n);
    } else if (has_prefix(type, "contact/")) {
        customer_node(n);
    } else if (has_prefix(type, "checkout/")) {
        str(n, "id", fresh_id("ch_"));
    } else if (has_prefix(type, "product/")) {
        str(n, "id", fresh_id("prod_"));
        if (type != "product/deleted") {
            str(n, "title", "Sandbox T-shirt");
            str(n, "description", "Soft, blue, \"organic\" cotton");
        }
    } else {  // funnel/*
        str(n, "id", fresh_id("fun_"));
    }
}

}  // namespace

std::string event_payload(const std::string &type, const std::string &account_id) {
    Json body(need(cJSON_CreateObject()));
    fill_node(obj(body.get(), "node"), type, account_id);
    return json_print(body.get());
}

}  // namespace sandbox
