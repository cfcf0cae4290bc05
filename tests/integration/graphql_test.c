/* Using the token: lf_graphql / lf_account_id against the loopback server. */
#include "it_common.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define API_PATH "/api/v2"

/* srv: token endpoint and API; other: a redirect target that must never be
 * reached. */
typedef it_two_servers fixture;

static int setup(void **state) {
    fixture *f = it_two_servers_new();
    f->a = it_auth_at(&f->c, ts_server_url(f->srv, "/oauth/access_token"), ts_server_url(f->srv, API_PATH),
                      LF_CLIENT_AUTH_JSON_BODY);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    it_two_servers_free(*state);
    return 0;
}

/* lf_graphql with the fixture's token, which must end with `want`; the
 * response (NULL when none) is the caller's to check and free. */
static lf_response *graphql_expect(fixture *f, const char *query, const char *variables, lf_status want,
                                   lf_error *err) {
    lf_response *resp = NULL;
    lf_status st = lf_graphql(f->a, f->c.token, query, variables, &resp, err);
    char what[160];
    snprintf(what, sizeof what, "lf_graphql '%.120s'", query);
    it_expect_status(st, want, err, what);
    return resp;
}

/* The request's body parsed as JSON (the caller cJSON_Deletes it). */
static cJSON *request_json(const ts_request *r) {
    cJSON *root = cJSON_ParseWithLength(ts_request_body(r), ts_request_body_len(r));
    if (!root) fail_msg("request body is not JSON: %.200s", ts_request_body(r));
    return root;
}

static void check_bearer(fixture *f, const ts_request *r) {
    char want[256];
    snprintf(want, sizeof want, "Bearer %s", f->c.token);
    assert_int_equal(ts_request_header_count(r, "Authorization"), 1);
    assert_string_equal(ts_request_header(r, "Authorization"), want);
    assert_string_equal(ts_request_method(r), "POST");
    assert_string_equal(ts_request_path(r), API_PATH);
    const char *ct = ts_request_header(r, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/json", 16) == 0);
    /* the client secret never goes to the API */
    assert_false(ts_request_contains(r, f->c.secret));
}

static void test_graphql_ok(void **state) {
    fixture *f = *state;
    const char *answer = "{\"data\":{\"products\":{\"edges\":[{\"node\":{\"id\":\"p1\"}}]}}}";
    ts_server_respond(f->srv, 200, NULL, answer);
    const char *query = "query P($first: Int) { products(first: $first) { edges { node { id } } } }";
    lf_error err;
    lf_response *resp = graphql_expect(f, query, "{\"first\":10,\"q\":\"a\\\"b\"}", LF_OK, &err);
    assert_non_null(resp);
    assert_string_equal(lf_response_body(resp), answer);
    assert_int_equal(lf_response_body_length(resp), strlen(answer));
    assert_int_equal(lf_response_http_status(resp), 200);
    lf_response_free(resp);

    assert_int_equal(ts_server_request_count(f->srv), 1);
    const ts_request *r = ts_server_request(f->srv, 0);
    check_bearer(f, r);
    cJSON *root = request_json(r);
    assert_int_equal(cJSON_GetArraySize(root), 2);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "query");
    assert_true(cJSON_IsString(q));
    assert_string_equal(q->valuestring, query);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "variables");
    assert_true(cJSON_IsObject(v));
    assert_int_equal(cJSON_GetArraySize(v), 2);
    assert_true(cJSON_GetObjectItemCaseSensitive(v, "first")->valuedouble == 10);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "q")->valuestring, "a\"b");
    cJSON_Delete(root);
}

/* A handle made without redirect URIs (1.1: webhooks and the API only) calls
 * the API like any other. */
static void test_graphql_on_handle_without_redirect_uris(void **state) {
    fixture *f = *state;
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, "/oauth/access_token"), ts_server_url(f->srv, API_PATH),
              LF_CLIENT_AUTH_JSON_BODY);
    cfg.redirect_uris = NULL;
    cfg.redirect_uri_count = 0;
    lf_auth *a = it_auth(&cfg);
    ts_server_respond(f->srv, 200, NULL, "{\"data\":{\"account\":{\"id\":\"7\"}}}");
    lf_response *resp = NULL;
    lf_error err;
    lf_status st = lf_graphql(a, f->c.token, "{ account { id } }", NULL, &resp, &err);
    it_expect_status(st, LF_OK, &err, "lf_graphql on a handle without redirect URIs");
    assert_int_equal(lf_response_http_status(resp), 200);
    lf_response_free(resp);
    assert_int_equal(ts_server_request_count(f->srv), 1);
    check_bearer(f, ts_server_request(f->srv, 0));
    lf_auth_free(a);
}

static void test_graphql_null_variables_sent_as_empty_object(void **state) {
    fixture *f = *state;
    ts_server_respond(f->srv, 200, NULL, "{\"data\":{}}");
    lf_error err;
    lf_response_free(graphql_expect(f, "{ account { id } }", NULL, LF_OK, &err));
    cJSON *root = request_json(ts_server_request(f->srv, 0));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "variables");
    assert_true(cJSON_IsObject(v));
    assert_int_equal(cJSON_GetArraySize(v), 0);
    cJSON_Delete(root);
}

static void test_graphql_errors_on_200(void **state) {
    fixture *f = *state;
    char answer[512];
    snprintf(answer, sizeof answer,
             "{\"data\":null,\"errors\":[{\"message\":\"Product not found (token %s)\",\"name\":\"NotFound\","
             "\"key\":\"product_not_found\",\"path\":[\"product\"]},"
             "{\"message\":\"second\",\"name\":\"X\",\"key\":\"second_key\",\"path\":[]}]}",
             f->c.token);
    ts_server_respond(f->srv, 200, NULL, answer);
    lf_error err;
    lf_response *resp = graphql_expect(f, "{ product(id: 1) { id } }", NULL, LF_E_API, &err);
    assert_non_null(resp); /* *out stays readable on LF_E_API */
    assert_string_equal(lf_response_body(resp), answer);
    assert_int_equal(lf_response_http_status(resp), 200);
    assert_string_equal(err.key, "product_not_found");
    assert_non_null(strstr(err.message, "Product not found"));
    assert_int_equal(err.http_status, 200);
    it_assert_clean(&err, &f->c, "graphql errors");
    lf_response_free(resp);
}

static void test_graphql_empty_errors_array_is_ok(void **state) {
    fixture *f = *state;
    ts_server_respond(f->srv, 200, NULL, "{\"data\":{\"a\":1},\"errors\":[]}");
    lf_error err;
    lf_response_free(graphql_expect(f, "{ a }", NULL, LF_OK, &err));
}

static void test_graphql_401_403_429_500(void **state) {
    fixture *f = *state;
    struct {
        int http;
        const char *body;
        lf_status want;
    } cases[] = {
        {401, "{\"errors\":[{\"message\":\"Unauthorized\",\"key\":\"unauthorized\"}]}", LF_E_UNAUTHORIZED},
        {401, "", LF_E_UNAUTHORIZED},
        {429, "{}", LF_E_RATE_LIMITED},
        {200, "{\"errors\":[{\"message\":\"slow\",\"key\":\"rate_limit_reached\"}]}", LF_E_RATE_LIMITED},
        {500, "<html>oops</html>", LF_E_HTTP},
        {404, "{}", LF_E_HTTP},
        {200, "not json", LF_E_PROTOCOL},
        {200, "[1,2]", LF_E_PROTOCOL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_server_respond(f->srv, cases[i].http, cases[i].body[0] == '<' ? "text/html" : NULL, cases[i].body);
        if (cases[i].http == 429) ts_server_respond_header(f->srv, "Retry-After", "12");
        lf_response *resp = NULL;
        lf_error err;
        lf_status st = lf_graphql(f->a, f->c.token, "{ a }", NULL, &resp, &err);
        if (st != cases[i].want)
            fail_msg("case %zu (HTTP %d): got %s want %s", i, cases[i].http, lf_status_name(st),
                     lf_status_name(cases[i].want));
        assert_int_equal(err.http_status, cases[i].http);
        if (cases[i].http == 429) assert_int_equal(err.retry_after_s, 12);
        /* a complete response was received: *out is set */
        assert_non_null(resp);
        assert_int_equal(lf_response_http_status(resp), cases[i].http);
        it_assert_clean(&err, &f->c, "graphql status");
        lf_response_free(resp);
    }
}

static void test_bad_token_sends_nothing(void **state) {
    fixture *f = *state;
    ts_server_respond(f->srv, 200, NULL, "{\"data\":{}}");
    char bad[5][128];
    snprintf(bad[0], sizeof bad[0], "%s\r\nX-Evil: 1", f->c.token);
    snprintf(bad[1], sizeof bad[1], "%s\n", f->c.token);
    snprintf(bad[2], sizeof bad[2], "%.10s %s", f->c.token, f->c.token + 10);
    snprintf(bad[3], sizeof bad[3], "%s", "");
    snprintf(bad[4], sizeof bad[4], "%s\t", f->c.token);
    for (size_t i = 0; i < 5; i++) {
        lf_response *resp = (lf_response *)f;
        lf_error err;
        IT_ASSERT_STATUS(lf_graphql(f->a, bad[i], "{ a }", NULL, &resp, &err), LF_E_INVALID_ARGUMENT, &err);
        assert_null(resp);
        it_assert_clean(&err, &f->c, "bad token");
        char id[64];
        IT_ASSERT_STATUS(lf_account_id(f->a, bad[i], id, sizeof id, NULL, &err), LF_E_INVALID_ARGUMENT, &err);
    }
    lf_response *resp = NULL;
    lf_error err;
    IT_ASSERT_STATUS(lf_graphql(f->a, f->c.token, "{ a }", "[1]", &resp, &err), LF_E_INVALID_ARGUMENT, &err);
    IT_ASSERT_STATUS(lf_graphql(f->a, f->c.token, "{ a }", "{\"a\":", &resp, &err), LF_E_INVALID_ARGUMENT, &err);
    IT_ASSERT_STATUS(lf_graphql(f->a, f->c.token, NULL, NULL, &resp, &err), LF_E_INVALID_ARGUMENT, &err);
    IT_ASSERT_STATUS(lf_graphql(f->a, NULL, "{ a }", NULL, &resp, &err), LF_E_INVALID_ARGUMENT, &err);
    assert_int_equal(ts_server_request_count(f->srv), 0);
    assert_int_equal(ts_server_connection_count(f->srv), 0);
}

static void test_redirect_not_followed(void **state) {
    fixture *f = *state;
    ts_server_respond(f->other, 200, NULL, "{\"data\":{}}");
    ts_server_respond(f->srv, 307, NULL, "{}");
    ts_server_respond_header(f->srv, "Location", ts_server_url(f->other, API_PATH));
    lf_error err;
    lf_response_free(graphql_expect(f, "{ a }", NULL, LF_E_HTTP, &err));
    assert_int_equal(err.http_status, 307);
    assert_int_equal(ts_server_connection_count(f->other), 0);
}

static void test_account_id_string_and_integer(void **state) {
    fixture *f = *state;
    char id[64];
    size_t needed = 0;
    lf_error err;
    ts_server_respond(f->srv, 200, NULL, "{\"data\":{\"account\":{\"id\":\"acc_7Hq2\"}}}");
    IT_ASSERT_STATUS(lf_account_id(f->a, f->c.token, id, sizeof id, &needed, &err), LF_OK, &err);
    assert_string_equal(id, "acc_7Hq2");
    assert_int_equal(needed, 9);
    const ts_request *r = ts_server_request(f->srv, 0);
    check_bearer(f, r);
    cJSON *root = request_json(r);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "query");
    assert_true(cJSON_IsString(q));
    assert_non_null(strstr(q->valuestring, "account"));
    assert_non_null(strstr(q->valuestring, "id"));
    cJSON_Delete(root);

    ts_server_respond(f->srv, 200, NULL, "{\"data\":{\"account\":{\"id\":1234567}}}");
    IT_ASSERT_STATUS(lf_account_id(f->a, f->c.token, id, sizeof id, &needed, &err), LF_OK, &err);
    assert_string_equal(id, "1234567");

    /* short buffer */
    char small[4] = {'#', '#', '#', '#'};
    IT_ASSERT_STATUS(lf_account_id(f->a, f->c.token, small, 3, &needed, &err), LF_E_BUFFER_TOO_SMALL, &err);
    assert_int_equal(needed, 8);
    assert_int_equal(small[0], '\0');
    assert_int_equal(small[3], '#');

    const char *bad[] = {
        "{\"data\":{\"account\":null}}",
        "{\"data\":{}}",
        "{\"data\":{\"account\":{\"id\":true}}}",
        "{\"data\":{\"account\":{\"id\":[1]}}}",
        "{\"data\":{\"account\":{\"name\":\"x\"}}}",
        /* an id a terminal would act on (lf-auth account prints it): C1 CSI,
         * a bidi override, an isolate, a C0 escape */
        "{\"data\":{\"account\":{\"id\":\"acc\\u009b31m\"}}}",
        "{\"data\":{\"account\":{\"id\":\"acc\\u202egpj.exe\"}}}",
        "{\"data\":{\"account\":{\"id\":\"acc\\u2066x\"}}}",
        "{\"data\":{\"account\":{\"id\":\"acc\\u001b[2J\"}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_server_respond(f->srv, 200, NULL, bad[i]);
        lf_status st = lf_account_id(f->a, f->c.token, id, sizeof id, &needed, &err);
        if (st != LF_E_PROTOCOL) fail_msg("%s: got %s", bad[i], lf_status_name(st));
        assert_string_equal(id, "");
    }
    ts_server_respond(f->srv, 401, NULL, "{}");
    IT_ASSERT_STATUS(lf_account_id(f->a, f->c.token, id, sizeof id, &needed, &err), LF_E_UNAUTHORIZED, &err);
}

static void test_graphql_cancel_and_timeout(void **state) {
    fixture *f = *state;
    it_never_answer(f->srv);
    lf_call_options o = it_call_options(1000, NULL);
    lf_response *resp = (lf_response *)f;
    lf_error err;
    long long t0 = ts_now_ms();
    IT_ASSERT_STATUS(lf_graphql_ex(f->a, f->c.token, "{ a }", NULL, &o, &resp, &err), LF_E_TIMEOUT, &err);
    assert_null(resp);
    it_assert_faster_than(t0, 5000, "lf_graphql_ex with a 1 s call timeout");
    char id[32];
    t0 = ts_now_ms();
    IT_ASSERT_STATUS(lf_account_id_ex(f->a, f->c.token, &o, id, sizeof id, NULL, &err), LF_E_TIMEOUT, &err);
    it_assert_faster_than(t0, 5000, "lf_account_id_ex with a 1 s call timeout");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_graphql_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphql_null_variables_sent_as_empty_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphql_errors_on_200, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphql_empty_errors_array_is_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphql_401_403_429_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_token_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphql_on_handle_without_redirect_uris, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_id_string_and_integer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphql_cancel_and_timeout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
