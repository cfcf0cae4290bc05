#include "install.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const APP_WEBHOOK_TYPES[] = {"order/created", "app/uninstalled"};
const size_t APP_WEBHOOK_TYPE_COUNT = sizeof APP_WEBHOOK_TYPES / sizeof APP_WEBHOOK_TYPES[0];

static const char CREATE_WEBHOOK[] =
    "mutation CreateWebhookMutation($node: WebhookInput!) {"
    " createWebhook(node: $node) { id type url settings } }";

static void fail(char *why, size_t size, const char *step, const lf_error *err) {
    snprintf(why, size, "%s: %s (%s)", step, err->message, lf_status_name(err->status));
}

/* A code is single-use: try it again only when the library proves it never
 * left this process (connection refused, DNS, TLS before the request). */
static lf_status exchange(app *a, const char *code, lf_token **token, lf_error *err) {
    lf_code_sent sent = LF_CODE_MAYBE_SENT;
    lf_call_options opts;
    lf_call_options_init(&opts, sizeof opts);
    opts.cancel = &a->stopping;
    opts.code_sent = &sent;
    lf_status st = lf_exchange_code_ex(a->auth, code, &opts, token, err);
    if (st != LF_OK && st != LF_E_CANCELLED && sent == LF_CODE_NOT_SENT) {
        fprintf(stderr, "app: exchange failed before the code was sent (%s); trying once more\n", lf_status_name(st));
        st = lf_exchange_code_ex(a->auth, code, &opts, token, err);
    }
    return st;
}

/* Account ids go into URLs, cookies and HTML: accept only the platform's
 * shape (letters, digits, '_' and '-'). */
static int plain_id(const char *id) {
    if (!*id || strlen(id) > 100) return 0;
    for (const char *p = id; *p; p++)
        if (!(*p == '_' || *p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

/* The documented mutation, with the node passed as `variables` (never spliced
 * into the query text). The account rides in the URL, as the docs suggest. */
static char *webhook_variables(const app *a, const char *type, const char *account) {
    char url[1024];
    snprintf(url, sizeof url, "%s/webhooks?type=%s&account=%s", a->config.public_url, type, account);
    cJSON *root = cJSON_CreateObject();
    cJSON *node = cJSON_AddObjectToObject(root, "node");
    char *out = NULL;
    if (node && cJSON_AddStringToObject(node, "type", type) && cJSON_AddStringToObject(node, "url", url) &&
        cJSON_AddObjectToObject(node, "settings"))
        out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

/* A re-install (without an uninstall between) keeps the webhooks it has: one
 * registration per type, or every event would arrive twice. */
static int register_webhook(app *a, const char *token, const char *account, const char *type, char *why,
                            size_t why_size) {
    int have = store_has_webhook(a->db, account, type);
    if (have != 0) {
        if (have < 0) snprintf(why, why_size, "createWebhook: cannot read the webhooks table");
        return have < 0 ? -1 : 0;
    }
    char *vars = webhook_variables(a, type, account);
    if (!vars) {
        snprintf(why, why_size, "createWebhook: out of memory");
        return -1;
    }
    lf_call_options opts;
    lf_call_options_init(&opts, sizeof opts);
    opts.cancel = &a->stopping;
    lf_response *resp = NULL;
    lf_error err;
    lf_status st = lf_graphql_ex(a->auth, token, CREATE_WEBHOOK, vars, &opts, &resp, &err);
    free(vars);
    int rc = -1;
    if (st != LF_OK) {
        fail(why, why_size, "createWebhook", &err);
    } else {
        cJSON *root = cJSON_ParseWithLength(lf_response_body(resp), lf_response_body_length(resp));
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "createWebhook"), "id");
        char id_text[128] = "";
        if (cJSON_IsString(id))
            snprintf(id_text, sizeof id_text, "%s", id->valuestring);
        else if (cJSON_IsNumber(id))
            snprintf(id_text, sizeof id_text, "%.0f", id->valuedouble);
        if (!*id_text)
            snprintf(why, why_size, "createWebhook: the answer has no data.createWebhook.id");
        else if (store_put_webhook(a->db, account, type, id_text) != 0)
            snprintf(why, why_size, "createWebhook: cannot store the webhook id");
        else
            rc = 0;
        cJSON_Delete(root);
    }
    lf_response_free(resp);
    return rc;
}

static int keep_token(app *a, const char *account, const char *token, char *why, size_t why_size) {
    char *sealed = NULL;
    int rc = vault_seal(&a->config.vault, account, token, &sealed) == 0 &&
                     store_put_install(a->db, account, sealed, a->config.vault.key_id, (long long)time(NULL)) == 0
                 ? 0
                 : -1;
    if (rc != 0) snprintf(why, why_size, "cannot store the install");
    free(sealed);
    return rc;
}

int install_from_code(app *a, const char *code, char *account, size_t account_size, char *why, size_t why_size) {
    lf_token *token = NULL;
    lf_error err;
    lf_status st = exchange(a, code, &token, &err);
    if (st != LF_OK) {
        fail(why, why_size, "token exchange", &err);
        return -1;
    }
    const char *value = lf_token_value(token);
    lf_call_options opts;
    lf_call_options_init(&opts, sizeof opts);
    opts.cancel = &a->stopping;
    st = lf_account_id_ex(a->auth, value, &opts, account, account_size, NULL, &err);
    int rc = -1;
    if (st != LF_OK) {
        fail(why, why_size, "account id", &err);
    } else if (!plain_id(account)) {
        snprintf(why, why_size, "account id: unexpected characters");
    } else if (keep_token(a, account, value, why, why_size) == 0) {
        rc = 0;
        for (size_t i = 0; rc == 0 && i < APP_WEBHOOK_TYPE_COUNT; i++)
            rc = register_webhook(a, value, account, APP_WEBHOOK_TYPES[i], why, why_size);
    }
    lf_token_free(token);
    if (rc != 0) account[0] = '\0';
    return rc;
}
