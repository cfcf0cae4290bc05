/* Backward-compatibility test: this program is compiled against the header
 * of the 1.0 release (abi/include-1.0/lightfunnels/auth.h, a frozen copy) and
 * linked to the library of the CURRENT build. It plays an application built
 * against 1.0 and then run with every later 1.x library: the offline
 * operations (consent URL, callback, state, webhooks, status names, lf_error)
 * must still behave exactly as 1.0 documented. Nothing here uses the network. */
#include <lightfunnels/auth.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The frozen copy, not the current header, must be the one compiled in. */
#if LF_AUTH_VERSION_NUMBER != 10000
#error "compat_test.c must be compiled with -I abi/include-1.0 (the 1.0 header)"
#endif

static const char *const k_redirects[] = {"https://app.example.test/oauth/callback", "http://127.0.0.1:8080/cb"};
static const char k_body[] = "{\"event\":\"order/created\",\"id\":42}";
/* base64(HMAC-SHA256(key, k_body)), computed with the openssl CLI. */
static const char k_sig_current[] = "wxf4GpCny+egkgigvHYOAXBTD/eEC5B2dhrrgnvtSn4=";
static const char k_sig_previous[] = "EpqcRYXBKjqxdFJLXbFX2lLF0LLI556ukpOuftIR0gI=";

static lf_auth *new_client(const char *previous_secret) {
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    assert_int_equal(cfg.struct_size, sizeof cfg);
    cfg.client_id = "compat-client";
    cfg.client_secret = "compat-secret";
    cfg.previous_client_secret = previous_secret;
    cfg.redirect_uris = k_redirects;
    cfg.redirect_uri_count = 2;
    lf_auth *a = NULL;
    lf_error err;
    assert_int_equal(lf_auth_new(&cfg, &a, &err), LF_OK);
    assert_non_null(a);
    return a;
}

static void loaded_library_is_1x(void **state) {
    (void)state;
    const char *v = lf_version();
    assert_non_null(v);
    int major = -1, minor = -1, patch = -1;
    assert_int_equal(sscanf(v, "%d.%d.%d", &major, &minor, &patch), 3);
    /* Same major as the header the program was built with, and not older. */
    assert_int_equal(major, LF_AUTH_VERSION_MAJOR);
    assert_true(major * 10000 + minor * 100 + patch >= LF_AUTH_VERSION_NUMBER);
    assert_string_equal(LF_AUTH_VERSION_STRING, "1.0.0");
}

/* Every 1.0 status value still means what it meant: names never move. */
static void status_values_keep_their_names(void **state) {
    (void)state;
    static const struct {
        lf_status s;
        int value;
        const char *name;
    } k[] = {
        {LF_OK, 0, "LF_OK"},
        {LF_E_INVALID_ARGUMENT, 1, "LF_E_INVALID_ARGUMENT"},
        {LF_E_BUFFER_TOO_SMALL, 2, "LF_E_BUFFER_TOO_SMALL"},
        {LF_E_NO_MEMORY, 3, "LF_E_NO_MEMORY"},
        {LF_E_REDIRECT_URI_NOT_ALLOWED, 4, "LF_E_REDIRECT_URI_NOT_ALLOWED"},
        {LF_E_STATE_MISMATCH, 5, "LF_E_STATE_MISMATCH"},
        {LF_E_STATE_EXPIRED, 6, "LF_E_STATE_EXPIRED"},
        {LF_E_ACCESS_DENIED, 7, "LF_E_ACCESS_DENIED"},
        {LF_E_NETWORK, 8, "LF_E_NETWORK"},
        {LF_E_TIMEOUT, 9, "LF_E_TIMEOUT"},
        {LF_E_TLS, 10, "LF_E_TLS"},
        {LF_E_INSECURE_TRANSPORT, 11, "LF_E_INSECURE_TRANSPORT"},
        {LF_E_HTTP, 12, "LF_E_HTTP"},
        {LF_E_INVALID_CODE, 13, "LF_E_INVALID_CODE"},
        {LF_E_INVALID_CLIENT, 14, "LF_E_INVALID_CLIENT"},
        {LF_E_UNAUTHORIZED, 15, "LF_E_UNAUTHORIZED"},
        {LF_E_API, 16, "LF_E_API"},
        {LF_E_PROTOCOL, 17, "LF_E_PROTOCOL"},
        {LF_E_RESPONSE_TOO_LARGE, 18, "LF_E_RESPONSE_TOO_LARGE"},
        {LF_E_SIGNATURE_MISMATCH, 19, "LF_E_SIGNATURE_MISMATCH"},
        {LF_E_CANCELLED, 20, "LF_E_CANCELLED"},
        {LF_E_RATE_LIMITED, 21, "LF_E_RATE_LIMITED"},
        {LF_E_INTERNAL, 22, "LF_E_INTERNAL"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        assert_int_equal((int)k[i].s, k[i].value);
        assert_string_equal(lf_status_name(k[i].s), k[i].name);
        const char *msg = lf_status_message(k[i].s);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
    }
}

static void consent_url(void **state) {
    (void)state;
    lf_auth *a = new_client(NULL);
    const char *expected =
        "https://app.lightfunnels.com/admin/oauth?client_id=compat-client"
        "&redirect_uri=https%3A%2F%2Fapp.example.test%2Foauth%2Fcallback"
        "&scope=orders,products&state=st%2F1";
    size_t needed = 0;
    /* Size query. */
    assert_int_equal(lf_consent_url(a, k_redirects[0], " orders, products,orders", "st/1", NULL, 0, &needed),
                     LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, strlen(expected) + 1);
    char *buf = malloc(needed);
    assert_non_null(buf);
    size_t needed2 = 0;
    assert_int_equal(lf_consent_url(a, k_redirects[0], " orders, products,orders", "st/1", buf, needed, &needed2),
                     LF_OK);
    assert_string_equal(buf, expected);
    assert_int_equal(needed2, needed);
    /* One byte short: nothing written past the end, empty string left. */
    assert_int_equal(lf_consent_url(a, k_redirects[0], "orders,products", "st/1", buf, needed - 1, NULL),
                     LF_E_BUFFER_TOO_SMALL);
    assert_string_equal(buf, "");
    /* The allow-list is exact. */
    char small[512];
    assert_int_equal(
        lf_consent_url(a, "https://app.example.test/oauth/callback/", "orders", NULL, small, sizeof small, NULL),
        LF_E_REDIRECT_URI_NOT_ALLOWED);
    assert_int_equal(lf_consent_url(a, k_redirects[1], "Orders", NULL, small, sizeof small, NULL),
                     LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_consent_url(a, k_redirects[1], "orders", NULL, small, sizeof small, NULL), LF_OK);
    assert_string_equal(small,
                        "https://app.lightfunnels.com/admin/oauth?client_id=compat-client"
                        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb&scope=orders");
    free(buf);
    lf_auth_free(a);
}

static void state_values(void **state) {
    (void)state;
    char s1[LF_STATE_BUFFER_SIZE], s2[LF_STATE_BUFFER_SIZE];
    assert_int_equal(lf_state_generate(s1, sizeof s1), LF_OK);
    assert_int_equal(lf_state_generate(s2, sizeof s2), LF_OK);
    assert_int_equal(strlen(s1), 43);
    assert_int_equal(strspn(s1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    assert_string_not_equal(s1, s2);
    assert_int_equal(lf_state_equal(s1, s1), 1);
    assert_int_equal(lf_state_equal(s1, s2), 0);
    assert_int_equal(lf_state_equal(s1, NULL), 0);
    char tiny[LF_STATE_BUFFER_SIZE - 1];
    assert_int_equal(lf_state_generate(tiny, sizeof tiny), LF_E_BUFFER_TOO_SMALL);
}

static void callback(void **state) {
    (void)state;
    lf_auth *a = new_client(NULL);
    char code[64];
    size_t needed = 0;
    lf_error err;
    memset(&err, 0x5a, sizeof err);
    assert_int_equal(lf_parse_callback(a,
                                       "https://app.example.test/oauth/callback?code=ab%2Bc+d&"
                                       "state=S1&extra=x#frag",
                                       "S1", code, sizeof code, &needed, &err),
                     LF_OK);
    assert_string_equal(code, "ab+c d");
    assert_int_equal(needed, strlen("ab+c d") + 1);
    assert_int_equal(err.status, LF_OK); /* reset at the start of the call */

    /* A bare query, no expected state. */
    assert_int_equal(lf_parse_callback(NULL, "?code=xyz", NULL, code, sizeof code, NULL, NULL), LF_OK);
    assert_string_equal(code, "xyz");

    /* Wrong state: rejected, and lf_error (1.0 layout) is filled. */
    assert_int_equal(lf_parse_callback(a, "code=abc&state=S2", "S1", code, sizeof code, NULL, &err),
                     LF_E_STATE_MISMATCH);
    assert_int_equal(err.status, LF_E_STATE_MISMATCH);
    assert_string_equal(code, "");

    /* The merchant declined. */
    assert_int_equal(lf_parse_callback(a, "error=access_denied&error_description=No+thanks&state=S1", "S1", code,
                                       sizeof code, NULL, &err),
                     LF_E_ACCESS_DENIED);
    assert_int_equal(err.status, LF_E_ACCESS_DENIED);
    assert_int_equal(err.http_status, 0);
    assert_string_equal(err.key, "access_denied");
    assert_non_null(strstr(err.message, "No thanks"));
    assert_true(memchr(err.message, '\0', sizeof err.message) != NULL);

    /* Malformed escape and short buffer. */
    assert_int_equal(lf_parse_callback(a, "code=a%2&state=S1", "S1", code, sizeof code, NULL, NULL),
                     LF_E_INVALID_ARGUMENT);
    char two[2];
    assert_int_equal(lf_parse_callback(a, "code=abc", NULL, two, sizeof two, &needed, NULL), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, 4);
    lf_auth_free(a);
}

static void webhooks(void **state) {
    (void)state;
    lf_auth *a = new_client("old-secret");
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    size_t needed = 0;
    assert_int_equal(lf_webhook_sign(a, k_body, strlen(k_body), sig, sizeof sig, &needed), LF_OK);
    assert_string_equal(sig, k_sig_current);
    assert_int_equal(needed, LF_SIGNATURE_BUFFER_SIZE);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body), k_sig_current), LF_OK);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body), k_sig_previous), LF_OK);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body),
                                       " "
                                       "wxf4GpCny+egkgigvHYOAXBTD/eEC5B2dhrrgnvtSn4\t"),
                     LF_OK);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body) - 1, k_sig_current), LF_E_SIGNATURE_MISMATCH);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body), ""), LF_E_SIGNATURE_MISMATCH);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body), NULL), LF_E_INVALID_ARGUMENT);
    char short_sig[LF_SIGNATURE_BUFFER_SIZE - 1];
    assert_int_equal(lf_webhook_sign(a, k_body, strlen(k_body), short_sig, sizeof short_sig, &needed),
                     LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, LF_SIGNATURE_BUFFER_SIZE);
    lf_auth_free(a);

    /* Without a previous secret, the old signature no longer verifies. */
    a = new_client(NULL);
    assert_int_equal(lf_webhook_verify(a, k_body, strlen(k_body), k_sig_previous), LF_E_SIGNATURE_MISMATCH);
    lf_auth_free(a);
}

/* The one deliberate change a 1.0 program sees: lf_auth_config_init now
 * selects HTTP Basic at /api/access_token, the platform's documented method
 * since 2025-02 (1.0 documented JSON_BODY). */
static void config_init_selects_basic(void **state) {
    (void)state;
    lf_auth_config cfg;
    memset(&cfg, 0x7e, sizeof cfg);
    lf_auth_config_init(&cfg, sizeof cfg);
    assert_int_equal(cfg.client_auth, LF_CLIENT_AUTH_BASIC);
    assert_null(cfg.token_url);
}

/* An even older caller: a config that ends right after redirect_uri_count
 * (the required part) still works, and the rest takes its defaults. */
static void truncated_config(void **state) {
    (void)state;
    lf_auth_config cfg;
    size_t small = offsetof(lf_auth_config, redirect_uri_count) + sizeof cfg.redirect_uri_count;
    memset(&cfg, 0x7e, sizeof cfg);
    lf_auth_config_init(&cfg, small);
    assert_int_equal(cfg.struct_size, small);
    /* Nothing past `small` was written by init. */
    const unsigned char *p = (const unsigned char *)&cfg;
    for (size_t i = small; i < sizeof cfg; i++) assert_int_equal(p[i], 0x7e);
    cfg.client_id = "compat-client";
    cfg.client_secret = "compat-secret";
    cfg.redirect_uris = k_redirects;
    cfg.redirect_uri_count = 1;
    lf_auth *a = NULL;
    assert_int_equal(lf_auth_new(&cfg, &a, NULL), LF_OK);
    char url[512];
    assert_int_equal(lf_consent_url(a, k_redirects[0], "orders", NULL, url, sizeof url, NULL), LF_OK);
    assert_int_equal(strncmp(url, "https://app.lightfunnels.com/admin/oauth?", 41), 0);
    lf_auth_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loaded_library_is_1x),
        cmocka_unit_test(status_values_keep_their_names),
        cmocka_unit_test(consent_url),
        cmocka_unit_test(state_values),
        cmocka_unit_test(callback),
        cmocka_unit_test(webhooks),
        cmocka_unit_test(config_init_selects_basic),
        cmocka_unit_test(truncated_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
