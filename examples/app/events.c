#include "events.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "install.h"

/* The platform's payloads carry no event id (LightFunnels/developer,
 * webhooks.mdx), so an event is known by the SHA-256 of its type and raw
 * body: a redelivery of the same event has the same bytes. */
static int event_key(const char *type, const char *body, size_t len, char *hex) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(c, type, strlen(type)) == 1 &&
             EVP_DigestUpdate(c, "\n", 1) == 1 && EVP_DigestUpdate(c, body, len) == 1 &&
             EVP_DigestFinal_ex(c, md, &n) == 1;
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; ok && i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return ok ? 0 : -1;
}

static int subscribed(const char *type) {
    for (size_t i = 0; type && i < APP_WEBHOOK_TYPE_COUNT; i++)
        if (strcmp(type, APP_WEBHOOK_TYPES[i]) == 0) return 1;
    return 0;
}

static const char *string_field(const cJSON *node, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, name);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* app/uninstalled names the account in the signed body: trust that, not the URL. */
static event_outcome uninstall(app *a, const cJSON *node) {
    const char *account = string_field(node, "id");
    if (!account) return EVENT_MALFORMED;
    if (store_delete_account(a->db, account) != 0) return EVENT_FAILED;
    fprintf(stderr, "app: app/uninstalled: account %s removed\n", account);
    return EVENT_UNINSTALLED;
}

static event_outcome record(app *a, const char *type, const char *url_account, const cJSON *node, const char *body,
                            size_t len) {
    const char *account = string_field(node, "account_id");
    if (!account) account = url_account;
    const char *node_id = string_field(node, "id");
    if (!account || !node_id) return EVENT_MALFORMED;
    install_row row;
    int found = store_get_install(a->db, account, &row);
    install_row_clear(&row);
    if (found <= 0) return found < 0 ? EVENT_FAILED : EVENT_IGNORED;
    char key[65];
    if (event_key(type, body, len, key) != 0) return EVENT_FAILED;
    int fresh = store_record_event(a->db, key, account, type, node_id, (long long)time(NULL));
    return fresh < 0 ? EVENT_FAILED : fresh ? EVENT_RECORDED : EVENT_DUPLICATE;
}

event_outcome events_receive(app *a, const char *type, const char *account, const char *body, size_t len,
                             const char *hmac) {
    if (lf_webhook_verify(a->auth, body, len, hmac ? hmac : "") != LF_OK) return EVENT_BAD_SIGNATURE;
    if (!subscribed(type)) return EVENT_IGNORED;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, "node");
    event_outcome o = !cJSON_IsObject(node)                  ? EVENT_MALFORMED
                      : strcmp(type, "app/uninstalled") == 0 ? uninstall(a, node)
                                                             : record(a, type, account, node, body, len);
    cJSON_Delete(root);
    return o;
}

const char *event_outcome_name(event_outcome o) {
    switch (o) {
    case EVENT_RECORDED:
        return "recorded";
    case EVENT_DUPLICATE:
        return "duplicate";
    case EVENT_UNINSTALLED:
        return "uninstalled";
    case EVENT_IGNORED:
        return "ignored";
    case EVENT_BAD_SIGNATURE:
        return "bad signature";
    case EVENT_MALFORMED:
        return "malformed";
    case EVENT_FAILED:
        return "failed";
    }
    return "unknown";
}
