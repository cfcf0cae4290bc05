/* Token exchange against the loopback HTTPS server: exactly what goes on the
 * wire in each client-auth style, and how the token comes back. */
#include "it_common.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/oauth/access_token"
#define BASIC_PATH "/api/access_token"

typedef struct fixture {
    ts_server *srv;
    it_creds c;
    lf_auth *a; /* the test's handle (teardown frees it) */
} fixture;

static int setup(void **state) {
    fixture *f = test_calloc(1, sizeof *f);
    it_creds_make(&f->c);
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"scope\":\"orders\"}", f->c.token);
    ts_server_respond(f->srv, 200, "application/json", body);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    lf_auth_free(f->a);
    ts_server_stop(f->srv);
    test_free(f);
    return 0;
}

/* The single recorded request, checked for method and path. */
static const ts_request *only_request(ts_server *s, const char *path) {
    assert_int_equal(ts_server_request_count(s), 1);
    const ts_request *r = ts_server_request(s, 0);
    assert_non_null(r);
    assert_string_equal(ts_request_method(r), "POST");
    assert_string_equal(ts_request_path(r), path);
    return r;
}

/* Parses a JSON body and checks it has exactly these string members. */
static void assert_json_exact(const ts_request *r, const char *const *names, const char *const *values, size_t n) {
    cJSON *root = cJSON_ParseWithLength(ts_request_body(r), ts_request_body_len(r));
    if (!root) fail_msg("body is not JSON: %s", ts_request_body(r));
    assert_true(cJSON_IsObject(root));
    assert_int_equal((size_t)cJSON_GetArraySize(root), n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, names[i]);
        if (!cJSON_IsString(v)) fail_msg("member %s missing or not a string", names[i]);
        assert_string_equal(v->valuestring, values[i]);
    }
    /* and no member appears twice */
    const cJSON *it;
    size_t count = 0;
    cJSON_ArrayForEach(it, root) count++;
    assert_int_equal(count, n);
    cJSON_Delete(root);
}

static void exchange_ok(lf_auth *a, const char *code, const char *want_token) {
    lf_token *t = NULL;
    lf_error err;
    lf_status st = lf_exchange_code(a, code, &t, &err);
    IT_ASSERT_STATUS(st, LF_OK, &err);
    assert_non_null(t);
    assert_string_equal(lf_token_value(t), want_token);
    lf_token_free(t);
}

/* Makes the test's handle for creds `c`, posting to `path` in `mode`. */
static lf_auth *handle_for(fixture *f, const it_creds *c, const char *path, lf_client_auth mode) {
    assert_null(f->a);
    f->a = it_auth_at(c, ts_server_url(f->srv, path), NULL, mode);
    return f->a;
}

/* A handle as handle_for() makes it, and one exchange of `code` on it that
 * returns the fixture's token: the single request it made, a POST to
 * `path`. */
static const ts_request *exchange_once(fixture *f, const it_creds *c, const char *path, lf_client_auth mode,
                                       const char *code) {
    exchange_ok(handle_for(f, c, path, mode), code, f->c.token);
    return only_request(f->srv, path);
}

static void test_json_body_sends_exactly_three_fields(void **state) {
    fixture *f = *state;
    const ts_request *r = exchange_once(f, &f->c, TOKEN_PATH, LF_CLIENT_AUTH_JSON_BODY, f->c.code);
    const char *ct = ts_request_header(r, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/json", 16) == 0);
    const char *names[] = {"client_id", "client_secret", "code"};
    const char *values[] = {f->c.client_id, f->c.secret, f->c.code};
    assert_json_exact(r, names, values, 3);
    /* the secret travels once, in the body: no Basic header besides */
    assert_null(ts_request_header(r, "Authorization"));
    const char *ua = ts_request_header(r, "User-Agent");
    assert_non_null(ua);
    assert_string_equal(ua, "lightfunnels-auth/" LF_AUTH_VERSION_STRING);
    /* no invitation to compress (a compressed answer is still decoded: the
     * hostile suite's gzip cases) */
    assert_int_equal(ts_request_header_count(r, "Accept-Encoding"), 0);
}

static void test_basic_sends_unescaped_credentials_and_form_code(void **state) {
    fixture *f = *state;
    /* the secret really has the characters URL-escaping would mangle */
    assert_non_null(strchr(f->c.secret, '='));
    assert_non_null(strchr(f->c.secret, '/'));
    assert_non_null(strchr(f->c.secret, '!'));
    assert_non_null(strchr(f->c.secret, ':'));
    const ts_request *r = exchange_once(f, &f->c, BASIC_PATH, LF_CLIENT_AUTH_BASIC, f->c.code);

    assert_int_equal(ts_request_header_count(r, "Authorization"), 1);
    assert_int_equal(ts_request_header_count(r, "Accept-Encoding"), 0);
    const char *auth = ts_request_header(r, "Authorization");
    assert_true(strncmp(auth, "Basic ", 6) == 0);
    char decoded[256];
    long n = ts_base64_decode(auth + 6, decoded, sizeof decoded);
    assert_true(n > 0 && (size_t)n < sizeof decoded);
    char want[256];
    snprintf(want, sizeof want, "%s:%s", f->c.client_id, f->c.secret);
    assert_string_equal(decoded, want);

    const char *ct = ts_request_header(r, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/x-www-form-urlencoded", 33) == 0);
    char code[256];
    assert_int_equal(ts_form_field(ts_request_body(r), ts_request_body_len(r), "code", code, sizeof code), 1);
    assert_string_equal(code, f->c.code);
    /* the secret is in the header only */
    assert_false(ts_mem_contains(ts_request_body(r), ts_request_body_len(r), "client_secret"));
    assert_false(ts_mem_contains(ts_request_body(r), ts_request_body_len(r), f->c.secret));
    char secret_hex_part[16];
    memcpy(secret_hex_part, f->c.secret, 15);
    secret_hex_part[15] = '\0';
    assert_false(ts_mem_contains(ts_request_body(r), ts_request_body_len(r), secret_hex_part));
}

/* Basic with the form-encoded code, as the platform documents it since
 * 2025-02: the single request of an exchange. */
static void assert_basic_form_request(const ts_request *r, const it_creds *c) {
    const char *auth = ts_request_header(r, "Authorization");
    if (!auth || strncmp(auth, "Basic ", 6) != 0) fail_msg("no HTTP Basic credentials: %s", auth ? auth : "(none)");
    char decoded[256], want[256];
    assert_true(ts_base64_decode(auth + 6, decoded, sizeof decoded) > 0);
    snprintf(want, sizeof want, "%s:%s", c->client_id, c->secret);
    assert_string_equal(decoded, want);
    char code[256];
    assert_int_equal(ts_form_field(ts_request_body(r), ts_request_body_len(r), "code", code, sizeof code), 1);
    assert_string_equal(code, c->code);
    assert_false(ts_mem_contains(ts_request_body(r), ts_request_body_len(r), c->secret));
}

/* A config left as lf_auth_config_init() made it, but for what every
 * caller must set and a loopback /api/access_token to record the request:
 * the library's default style is the platform's current one. */
static void test_default_config_sends_basic_to_api_access_token(void **state) {
    fixture *f = *state;
    static const char *const uris[] = {IT_REDIRECT_URI};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    assert_int_equal(cfg.client_auth, LF_CLIENT_AUTH_BASIC);
    cfg.client_id = f->c.client_id;
    cfg.client_secret = f->c.secret;
    cfg.redirect_uris = uris;
    cfg.redirect_uri_count = 1;
    cfg.token_url = ts_server_url(f->srv, BASIC_PATH);
    cfg.ca_file = ts_pki_ca_file(it_pki);
    f->a = it_auth(&cfg);
    exchange_ok(f->a, f->c.code, f->c.token);
    assert_basic_form_request(only_request(f->srv, BASIC_PATH), &f->c);
}

static void test_token_copy_short_buffer_keeps_token(void **state) {
    fixture *f = *state;
    lf_auth *a = handle_for(f, &f->c, TOKEN_PATH, LF_CLIENT_AUTH_JSON_BODY);
    lf_token *t = NULL;
    lf_error err;
    IT_ASSERT_STATUS(lf_exchange_code(a, f->c.code, &t, &err), LF_OK, &err);
    size_t len = strlen(f->c.token);

    char small[8 + 4];
    memset(small, '#', sizeof small);
    size_t needed = 0;
    assert_int_equal(lf_token_copy(t, small, 8, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, len + 1);
    assert_int_equal(small[0], '\0');
    for (size_t i = 8; i < sizeof small; i++) assert_int_equal(small[i], '#');

    needed = 0;
    assert_int_equal(lf_token_copy(t, NULL, 0, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, len + 1);

    char exact_minus_one[128];
    assert_true(len < sizeof exact_minus_one);
    assert_int_equal(lf_token_copy(t, exact_minus_one, len, NULL), LF_E_BUFFER_TOO_SMALL);

    char big[128];
    memset(big, '#', sizeof big);
    needed = 0;
    assert_int_equal(lf_token_copy(t, big, len + 1, &needed), LF_OK);
    assert_int_equal(needed, len + 1);
    assert_string_equal(big, f->c.token);
    assert_int_equal(big[len + 1], '#');
    /* still there */
    assert_string_equal(lf_token_value(t), f->c.token);
    lf_token_free(t);
    /* one exchange, whatever the caller did with buffers */
    assert_int_equal(ts_server_request_count(f->srv), 1);
}

/* A code (and secret) full of characters that break naive body building. */
static void make_nasty(char *out, size_t size, const char *base) {
    snprintf(out, size, "%.12s\"q\\b&x=y%%25+p %%zz%s", base, base + 12);
}

static void test_json_body_injection_is_byte_identical(void **state) {
    fixture *f = *state;
    char code[128], secret[128];
    make_nasty(code, sizeof code, f->c.code);
    make_nasty(secret, sizeof secret, f->c.secret);
    /* and what else a JSON string must escape or keep: control characters,
     * DEL, UTF-8 */
    strncat(code, "\x01\t\n\r\b\f\x1f\x7f\xc3\xa9/", sizeof code - strlen(code) - 1);
    strncat(secret, "\x02\x1e\xe2\x82\xac", sizeof secret - strlen(secret) - 1);
    it_creds c = f->c;
    snprintf(c.secret, sizeof c.secret, "%s", secret);
    const ts_request *r = exchange_once(f, &c, TOKEN_PATH, LF_CLIENT_AUTH_JSON_BODY, code);
    const char *names[] = {"client_id", "client_secret", "code"};
    const char *values[] = {c.client_id, secret, code};
    assert_json_exact(r, names, values, 3);
}

static void test_form_body_injection_is_byte_identical(void **state) {
    fixture *f = *state;
    char code[128];
    make_nasty(code, sizeof code, f->c.code);
    const ts_request *r = exchange_once(f, &f->c, BASIC_PATH, LF_CLIENT_AUTH_BASIC, code);
    char got[256];
    /* exactly one field named code, nothing smuggled in by '&' or '=' */
    assert_int_equal(ts_form_field(ts_request_body(r), ts_request_body_len(r), "code", got, sizeof got), 1);
    assert_string_equal(got, code);
    assert_int_equal(ts_form_field(ts_request_body(r), ts_request_body_len(r), "x", got, sizeof got), 0);
    assert_int_equal(ts_form_field(ts_request_body(r), ts_request_body_len(r), "b", got, sizeof got), 0);
}

static void test_basic_secret_with_utf8_and_percent(void **state) {
    fixture *f = *state;
    it_creds c = f->c;
    snprintf(c.secret, sizeof c.secret, "%.16s%%41+\xc3\xa9:%s", f->c.secret, f->c.secret + 16);
    const ts_request *r = exchange_once(f, &c, BASIC_PATH, LF_CLIENT_AUTH_BASIC, f->c.code);
    const char *auth = ts_request_header(r, "Authorization");
    assert_non_null(auth);
    char decoded[256], want[256];
    assert_true(ts_base64_decode(auth + 6, decoded, sizeof decoded) > 0);
    snprintf(want, sizeof want, "%s:%s", c.client_id, c.secret);
    assert_string_equal(decoded, want);
}

static void test_two_exchanges_two_requests(void **state) {
    fixture *f = *state;
    lf_auth *a = handle_for(f, &f->c, TOKEN_PATH, LF_CLIENT_AUTH_JSON_BODY);
    char code2[48];
    ts_random_token(code2, sizeof code2, "code2");
    exchange_ok(a, f->c.code, f->c.token);
    exchange_ok(a, code2, f->c.token);
    assert_int_equal(ts_server_request_count(f->srv), 2);
    /* the body of each request carries its own code */
    assert_true(ts_mem_contains(ts_request_body(ts_server_request(f->srv, 0)),
                                ts_request_body_len(ts_server_request(f->srv, 0)), f->c.code));
    assert_true(ts_mem_contains(ts_request_body(ts_server_request(f->srv, 1)),
                                ts_request_body_len(ts_server_request(f->srv, 1)), code2));
}

static void test_custom_user_agent(void **state) {
    fixture *f = *state;
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.user_agent = "my-app/2.3 (+https://example.test)";
    f->a = it_auth(&cfg);
    exchange_ok(f->a, f->c.code, f->c.token);
    const ts_request *r = only_request(f->srv, TOKEN_PATH);
    assert_string_equal(ts_request_header(r, "User-Agent"), "my-app/2.3 (+https://example.test)");
}

static void test_bad_arguments_send_nothing(void **state) {
    fixture *f = *state;
    lf_auth *a = handle_for(f, &f->c, TOKEN_PATH, LF_CLIENT_AUTH_JSON_BODY);
    lf_token *t = (lf_token *)f; /* must be reset to NULL */
    lf_error err;
    IT_ASSERT_STATUS(lf_exchange_code(a, "", &t, &err), LF_E_INVALID_ARGUMENT, &err);
    assert_null(t);
    t = (lf_token *)f;
    IT_ASSERT_STATUS(lf_exchange_code(a, NULL, &t, &err), LF_E_INVALID_ARGUMENT, &err);
    assert_null(t);
    IT_ASSERT_STATUS(lf_exchange_code(NULL, f->c.code, &t, &err), LF_E_INVALID_ARGUMENT, &err);
    IT_ASSERT_STATUS(lf_exchange_code(a, f->c.code, NULL, &err), LF_E_INVALID_ARGUMENT, &err);
    lf_call_options o = it_call_options(-1, NULL);
    IT_ASSERT_STATUS(lf_exchange_code_ex(a, f->c.code, &o, &t, &err), LF_E_INVALID_ARGUMENT, &err);
    assert_int_equal(ts_server_request_count(f->srv), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_body_sends_exactly_three_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_sends_unescaped_credentials_and_form_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_config_sends_basic_to_api_access_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_copy_short_buffer_keeps_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_body_injection_is_byte_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_form_body_injection_is_byte_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_secret_with_utf8_and_percent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_exchanges_two_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_user_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments_send_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
