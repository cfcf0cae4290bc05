/* Allocator routing: with a counting allocator installed by lf_global_init()
 * before anything else, a full flow allocates through it, ends balanced, and
 * no released block still holds the client secret or a token.
 *
 * Built twice: flags 0 (the library's own allocations only: libcurl and cJSON
 * must NOT be routed), and with -DROUTE_DEPS (LF_INIT_HOOK_DEPENDENCIES:
 * libcurl and cJSON are routed too, process-wide, and their blocks are wiped
 * before release as well). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include <lightfunnels/auth.h>

#include "counting_alloc.h"
#include "lf_test.h"

#ifdef ROUTE_DEPS
#define INIT_FLAGS LF_INIT_HOOK_DEPENDENCIES
#else
#define INIT_FLAGS 0u
#endif

#define REDIRECT "https://app.example.test/cb"

static ts_pki *pki;
static char client_id[40], secret[80], code[48], token[64], basic_cred[160];

static void handler(void *ctx, const ts_request *r, ts_reply *reply) {
    (void)ctx;
    if (strcmp(ts_request_path(r), "/token") == 0) {
        ts_reply_status(reply, 200);
        ts_reply_printf(reply, NULL, "{\"access_token\":\"%s\",\"scope\":\"orders\"}", token);
    } else {
        ts_reply_status(reply, 200);
        ts_reply_text(reply, NULL, "{\"data\":{\"account\":{\"id\":\"acc_42\"}}}");
    }
}

static void make_canaries(void) {
    char r[40];
    ts_random_token(client_id, sizeof client_id, "cid");
    ts_random_token(r, sizeof r, "");
    snprintf(secret, sizeof secret, "sec%.16s=/!:%s", r, r + 16);
    ts_random_token(code, sizeof code, "code");
    ts_random_token(token, sizeof token, "tok");
    char idsec[128];
    snprintf(idsec, sizeof idsec, "%s:%s", client_id, secret);
    ts_base64_encode(idsec, strlen(idsec), basic_cred, sizeof basic_cred);
}

/* The whole app flow with one client-auth style. */
static void full_flow(lf_client_auth mode) {
    ts_server *srv = ts_server_start(pki, TS_CERT_GOOD);
    assert_non_null(srv);
    ts_server_set_handler(srv, handler, NULL);

    static const char *const uris[] = {REDIRECT};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = client_id;
    cfg.client_secret = secret;
    cfg.redirect_uris = uris;
    cfg.redirect_uri_count = 1;
    cfg.token_url = ts_server_url(srv, "/token");
    cfg.api_url = ts_server_url(srv, "/api/v2");
    cfg.ca_file = ts_pki_ca_file(pki);
    cfg.client_auth = mode;
    cfg.timeout_ms = 20000;

    size_t total0 = ca_total();
    lf_auth *a = NULL;
    lf_error err;
    lf_assert_status_err(lf_auth_new(&cfg, &a, &err), LF_OK, &err);
    assert_true(ca_total() > total0);
    /* the copy of the secret lives in routed memory */
    assert_true(ca_live_contains(secret));

    char state[LF_STATE_BUFFER_SIZE], url[1024];
    lf_assert_status(lf_state_generate(state, sizeof state), LF_OK);
    lf_assert_status(lf_consent_url(a, REDIRECT, "orders,products", state, url, sizeof url, NULL), LF_OK);
    char cb[256], got_code[64];
    snprintf(cb, sizeof cb, REDIRECT "?code=%s&state=%s", code, state);
    lf_assert_status_err(lf_parse_callback(a, cb, state, got_code, sizeof got_code, NULL, &err), LF_OK, &err);
    assert_string_equal(got_code, code);

    lf_token *t = NULL;
    lf_status st = lf_exchange_code(a, got_code, &t, &err);
    if (st != LF_OK) fail_msg("exchange: %s (%s)", lf_status_name(st), err.message);
    assert_string_equal(lf_token_value(t), token);
    assert_true(ca_live_contains(token));
    /* The handle keeps the answer's room for the next exchange: the answer
     * in it is wiped already, so the token object is the only live copy. */
    char kept[128];
    snprintf(kept, sizeof kept, "%s", lf_token_value(t));
    lf_token_free(t);
    assert_false(ca_live_contains(kept));
    lf_assert_status_err(lf_exchange_code(a, got_code, &t, &err), LF_OK, &err);

    lf_response *resp = NULL;
    st = lf_graphql(a, lf_token_value(t), "query { account { id } }", "{\"x\":1}", &resp, &err);
    if (st != LF_OK) fail_msg("graphql: %s (%s)", lf_status_name(st), err.message);
    lf_response_free(resp);
    char id[32];
    lf_assert_status_err(lf_account_id(a, lf_token_value(t), id, sizeof id, NULL, &err), LF_OK, &err);
    assert_string_equal(id, "acc_42");

    const char body[] = "{\"event\":\"order/created\",\"id\":7}";
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    lf_assert_status(lf_webhook_sign(a, body, sizeof body - 1, sig, sizeof sig, NULL), LF_OK);
    lf_assert_status(lf_webhook_verify(a, body, sizeof body - 1, sig), LF_OK);
    lf_assert_status(lf_webhook_verify(a, body, sizeof body - 2, sig), LF_E_SIGNATURE_MISMATCH);

    lf_token_free(t);
    lf_auth_free(a);
    ts_server_stop(srv);
    assert_false(ca_live_contains(secret));
    assert_false(ca_live_contains(token));
}

static void test_full_flow_routed_balanced_and_wiped(void **state) {
    (void)state;
    static const char *canaries[4];
    canaries[0] = secret;
    canaries[1] = token;
    canaries[2] = basic_cred;
    canaries[3] = NULL;
    ca_set_canaries(canaries);
    size_t total0 = ca_total();
    full_flow(LF_CLIENT_AUTH_JSON_BODY);
    full_flow(LF_CLIENT_AUTH_BASIC);
    size_t used = ca_total() - total0;
    printf("# allocations through the allocator for two flows: %zu (flags %u)\n", used, INIT_FLAGS);
    assert_true(used > 0);
    if (ca_canary_hits())
        fail_msg("%zu released blocks still held a secret: first %s", ca_canary_hits(), ca_first_hit());
}

/* Routing of the dependencies' own allocations, seen directly. */
static void test_dependency_hooks(void **state) {
    (void)state;
    size_t before = ca_total();
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_cleanup(h);
    size_t curl_allocs = ca_total() - before;
    before = ca_total();
    cJSON *j = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}]}");
    assert_non_null(j);
    cJSON_Delete(j);
    size_t cjson_allocs = ca_total() - before;
    printf("# libcurl allocations routed: %zu, cJSON: %zu\n", curl_allocs, cjson_allocs);
#ifdef ROUTE_DEPS
    assert_true(curl_allocs > 0);
    assert_true(cjson_allocs > 0);
#else
    /* without LF_INIT_HOOK_DEPENDENCIES the library leaves them alone */
    assert_int_equal(curl_allocs, 0);
    assert_int_equal(cjson_allocs, 0);
#endif
}

static void test_cleanup_balances(void **state) {
    (void)state;
    lf_global_cleanup();
    if (ca_live() != 0) fail_msg("%zu blocks still live after lf_global_cleanup()", ca_live());
    if (ca_canary_hits()) fail_msg("%s", ca_first_hit());
}

int main(void) {
    /* before anything else in the process */
    lf_status st = lf_global_init(ca_allocator(), INIT_FLAGS);
    if (st != LF_OK) {
        fprintf(stderr, "lf_global_init: %s\n", lf_status_name(st));
        return 1;
    }
    /* same allocator and flags again: fine; different: refused */
    if (lf_global_init(ca_allocator(), INIT_FLAGS) != LF_OK ||
        lf_global_init(NULL, INIT_FLAGS) != LF_E_INVALID_ARGUMENT ||
        lf_global_init(ca_allocator(), INIT_FLAGS ^ LF_INIT_HOOK_DEPENDENCIES) != LF_E_INVALID_ARGUMENT) {
        fprintf(stderr, "lf_global_init re-initialisation rules broken\n");
        return 1;
    }
    make_canaries();
    pki = ts_pki_create();
    if (!pki) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_flow_routed_balanced_and_wiped),
        cmocka_unit_test(test_dependency_hooks),
        cmocka_unit_test(test_cleanup_balances),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ts_pki_free(pki);
    return rc;
}
