/*
 * The Lightfunnels authorization flow in C, start to finish:
 *   1. build the consent URL (with a fresh state) and send the merchant there;
 *   2. parse the redirect they come back with, checking the state;
 *   3. exchange the single-use code for the permanent access token (HTTP
 *      Basic at /api/access_token: the library's default, the platform's
 *      documented method);
 *   4. ask the API which account the token belongs to.
 *
 * A web app does step 1 in its /install handler and steps 2-4 in its
 * /callback handler. This program does them in one process: it prints the
 * consent URL on stdout and reads the redirect URL the browser landed on
 * from stdin.
 *
 * Configuration comes from the environment (secrets never from argv):
 *   LF_CLIENT_ID, LF_CLIENT_SECRET, LF_REDIRECT_URI  (required)
 *   LF_BASE_URL   e.g. https://127.0.0.1:8443 for lf-sandbox (unset: Lightfunnels itself)
 *   LF_CA_FILE    CA bundle to trust (lf-sandbox --tls-self-signed writes one)
 */
#include <lightfunnels/auth.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, lf_status s, const lf_error *err) {
    fprintf(stderr, "%s: %s (%s)\n", what, err && err->message[0] ? err->message : lf_status_message(s),
            lf_status_name(s));
    return 1;
}

int main(void) {
    const char *client_id = getenv("LF_CLIENT_ID");
    const char *secret = getenv("LF_CLIENT_SECRET");
    const char *redirect_uri = getenv("LF_REDIRECT_URI");
    const char *base = getenv("LF_BASE_URL");
    if (!client_id || !secret || !redirect_uri) {
        fprintf(stderr, "set LF_CLIENT_ID, LF_CLIENT_SECRET and LF_REDIRECT_URI\n");
        return 2;
    }

    char authorize[512], token_url[512], api_url[512];
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = client_id;
    cfg.client_secret = secret;
    cfg.redirect_uris = &redirect_uri;
    cfg.redirect_uri_count = 1;
    cfg.ca_file = getenv("LF_CA_FILE");
    if (base) {
        snprintf(authorize, sizeof authorize, "%s/admin/oauth", base);
        snprintf(token_url, sizeof token_url, "%s/api/access_token", base);
        snprintf(api_url, sizeof api_url, "%s/api/v2", base);
        cfg.authorize_url = authorize;
        cfg.token_url = token_url;
        cfg.api_url = api_url;
    }

    lf_error err;
    lf_auth *auth = NULL;
    lf_status s = lf_auth_new(&cfg, &auth, &err);
    if (s != LF_OK) return fail("configuration", s, &err);

    /* 1. Consent: a fresh state, kept (here: in a local; in a web app: in
     *    the merchant's session) to check the callback against. */
    char state[LF_STATE_BUFFER_SIZE];
    s = lf_state_generate(state, sizeof state);
    if (s != LF_OK) return fail("state", s, NULL);
    char url[2048];
    s = lf_consent_url(auth, redirect_uri, "orders,products", state, url, sizeof url, NULL);
    if (s != LF_OK) return fail("consent URL", s, NULL);
    printf("%s\n", url);
    fflush(stdout);

    /* 2. Callback: the URL the merchant's browser was redirected to. */
    char callback[LF_MAX_CALLBACK_LENGTH + 2];
    if (!fgets(callback, sizeof callback, stdin)) return fail("reading the callback URL", LF_E_INVALID_ARGUMENT, NULL);
    callback[strcspn(callback, "\r\n")] = '\0';
    char code[1024];
    s = lf_parse_callback(auth, callback, state, code, sizeof code, NULL, &err);
    if (s != LF_OK) return fail("callback", s, &err);

    /* 3. Exchange: the token object keeps the token even if a copy-out buffer
     *    were too small, so a single-use code is never wasted. */
    lf_token *token = NULL;
    s = lf_exchange_code(auth, code, &token, &err);
    if (s != LF_OK) return fail("exchange", s, &err);

    /* 4. Which account is this? Apps key their stored tokens by it. */
    char account[256];
    s = lf_account_id(auth, lf_token_value(token), account, sizeof account, NULL, &err);
    if (s != LF_OK) {
        lf_token_free(token);
        return fail("account", s, &err);
    }
    fprintf(stderr, "authorized: account %s, token %.6s... (%zu characters)\n", account, lf_token_value(token),
            strlen(lf_token_value(token)));

    lf_token_free(token); /* wipes the token */
    lf_auth_free(auth);   /* wipes the client secret */
    return 0;
}
