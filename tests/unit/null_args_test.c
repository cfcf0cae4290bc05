/*
 * Convention 7: a NULL pointer where an object or string is required returns
 * LF_E_INVALID_ARGUMENT, never a crash. Every pointer argument of every
 * function is tried one at a time. Optional pointers (err, needed, state,
 * expected_state, variables_json, opts, previous_client_secret, the handle
 * of lf_parse_callback, the binding of the sealed-state calls) are
 * NULL-accepted. Frees are NULL-safe; accessors
 * return their documented NULL results. Network functions fail before any
 * network: the handle's token and API URLs are a dead loopback port, so a
 * call that went out would come back LF_E_NETWORK instead.
 */
#include "unit_support.h"

#define CODE "unit-FAKE-code-0e71"
#define TOKEN "unit-FAKE-token-c4d2a9"
#define QUERY "query { account { id } }"

/* err garbage-filled; after the call err.status must equal the return. */
static lf_error dirty_err(void) {
    lf_error e;
    memset(&e, 0x5A, sizeof e);
    return e;
}

#define assert_invalid_with_err(call_with_err, err)                     \
    do {                                                                \
        err = dirty_err();                                              \
        assert_status(call_with_err, LF_E_INVALID_ARGUMENT);            \
        assert_int_equal(err.status, LF_E_INVALID_ARGUMENT);            \
        assert_int_equal(err.http_status, 0);                           \
        assert_non_null(memchr(err.message, '\0', sizeof err.message)); \
    } while (0)

static void test_status_and_version_never_null(void **st) {
    (void)st;
    assert_non_null(lf_status_name(LF_OK));
    assert_non_null(lf_status_message(LF_OK));
    assert_non_null(lf_status_name((lf_status)12345));
    assert_non_null(lf_status_message((lf_status)12345));
    assert_non_null(lf_version());
}

static void test_global_init(void **st) {
    (void)st;
    lf_allocator half = {0};
    /* NULL allocator = the C heap; repeating the same init is LF_OK. */
    assert_status(lf_global_init(NULL, 0), LF_OK);
    assert_status(lf_global_init(NULL, 0), LF_OK);
    /* an allocator with NULL functions */
    assert_status(lf_global_init(&half, 0), LF_E_INVALID_ARGUMENT);
    /* an unknown flag bit */
    assert_status(lf_global_init(NULL, 0x80000000u), LF_E_INVALID_ARGUMENT);
}

static void test_config_and_handle(void **st) {
    (void)st;
    lf_auth_config cfg;
    lf_auth *a = (lf_auth *)(uintptr_t)0x1;
    lf_error err;

    lf_auth_config_init(NULL, sizeof cfg);
    lf_call_options_init(NULL, sizeof(lf_call_options));

    unit_config(&cfg);
    assert_invalid_with_err(lf_auth_new(NULL, &a, &err), err);
    assert_null(a);
    assert_status(lf_auth_new(&cfg, NULL, &err), LF_E_INVALID_ARGUMENT);
    assert_status(lf_auth_new(&cfg, NULL, NULL), LF_E_INVALID_ARGUMENT);
    /* err NULL is fine */
    a = NULL;
    assert_status(lf_auth_new(&cfg, &a, NULL), LF_OK);
    lf_auth_free(a);

    lf_auth_free(NULL);
}

static void test_consent_url(void **st) {
    (void)st;
    char buf[512];
    size_t needed;
    assert_status(lf_consent_url(NULL, UNIT_REDIRECT_URI, "products", "s", buf, sizeof buf, &needed),
                  LF_E_INVALID_ARGUMENT);
    assert_status(lf_consent_url(g_auth, NULL, "products", "s", buf, sizeof buf, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_consent_url(g_auth, UNIT_REDIRECT_URI, NULL, "s", buf, sizeof buf, &needed),
                  LF_E_INVALID_ARGUMENT);
    assert_status(lf_consent_url(g_auth, UNIT_REDIRECT_URI, "products", "s", NULL, sizeof buf, &needed),
                  LF_E_INVALID_ARGUMENT);
    /* NULL-accepted: state (omitted), needed */
    assert_status(lf_consent_url(g_auth, UNIT_REDIRECT_URI, "products", NULL, buf, sizeof buf, NULL), LF_OK);
    /* a NULL handle also fails a size query */
    assert_status(lf_consent_url(NULL, UNIT_REDIRECT_URI, "products", "s", NULL, 0, &needed), LF_E_INVALID_ARGUMENT);
}

static void test_state(void **st) {
    (void)st;
    assert_status(lf_state_generate(NULL, LF_STATE_BUFFER_SIZE), LF_E_INVALID_ARGUMENT);
    assert_int_equal(lf_state_equal(NULL, "x"), 0);
    assert_int_equal(lf_state_equal("x", NULL), 0);
    assert_int_equal(lf_state_equal(NULL, NULL), 0);
}

static void test_parse_callback(void **st) {
    (void)st;
    char buf[64];
    size_t needed = 0;
    lf_error err;
    assert_invalid_with_err(lf_parse_callback(g_auth, NULL, "s", buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_parse_callback(g_auth, "code=" CODE, NULL, NULL, sizeof buf, &needed, &err), err);
    /* NULL-accepted: a, expected_state, needed, err */
    assert_status(lf_parse_callback(NULL, "code=" CODE, NULL, buf, sizeof buf, NULL, NULL), LF_OK);
    assert_string_equal(buf, CODE);
    /* NULL code buffer with size 0 is a size query */
    assert_status(lf_parse_callback(NULL, "code=" CODE, NULL, NULL, 0, &needed, NULL), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, strlen(CODE) + 1);
}

/* 1.1: binding, needed and err are NULL-accepted; a, state and url_or_query
 * are required; a NULL buffer with a size is refused and size 0 is a query. */
static void test_sealed_state(void **st) {
    (void)st;
    char state[LF_SEALED_STATE_BUFFER_SIZE], url[160], buf[64];
    size_t needed = 0;
    lf_error err;
    assert_status(lf_state_seal(NULL, "b", state, sizeof state, &needed), LF_E_INVALID_ARGUMENT);
    assert_int_equal(state[0], '\0');
    assert_status(lf_state_seal(g_auth, "b", NULL, sizeof state, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_state_seal(g_auth, NULL, NULL, 0, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, LF_SEALED_STATE_BUFFER_SIZE);
    assert_status(lf_state_seal(g_auth, NULL, state, sizeof state, NULL), LF_OK);

    assert_invalid_with_err(lf_state_open(NULL, state, NULL, 60, &err), err);
    assert_invalid_with_err(lf_state_open(g_auth, NULL, NULL, 60, &err), err);
    assert_status(lf_state_open(g_auth, state, NULL, 60, NULL), LF_OK);

    snprintf(url, sizeof url, "code=" CODE "&state=%s", state);
    assert_invalid_with_err(lf_parse_callback_sealed(NULL, url, NULL, 60, buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_parse_callback_sealed(g_auth, NULL, NULL, 60, buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_parse_callback_sealed(g_auth, url, NULL, 60, NULL, sizeof buf, &needed, &err), err);
    assert_status(lf_parse_callback_sealed(g_auth, url, NULL, 60, buf, sizeof buf, NULL, NULL), LF_OK);
    assert_string_equal(buf, CODE);
    assert_status(lf_parse_callback_sealed(g_auth, url, NULL, 60, NULL, 0, &needed, NULL), LF_E_BUFFER_TOO_SMALL);
    assert_int_equal(needed, strlen(CODE) + 1);
}

static void test_exchange_code(void **st) {
    (void)st;
    lf_token *t;
    lf_error err;
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);

    t = (lf_token *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_exchange_code(NULL, CODE, &t, &err), err);
    assert_null(t);
    t = (lf_token *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_exchange_code(g_auth, NULL, &t, &err), err);
    assert_null(t);
    t = (lf_token *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_exchange_code(g_auth, "", &t, &err), err); /* empty code */
    assert_null(t);
    assert_invalid_with_err(lf_exchange_code(g_auth, CODE, NULL, &err), err);
    assert_status(lf_exchange_code(g_auth, CODE, NULL, NULL), LF_E_INVALID_ARGUMENT);

    t = (lf_token *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_exchange_code_ex(NULL, CODE, &o, &t, &err), err);
    assert_null(t);
    t = (lf_token *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_exchange_code_ex(g_auth, NULL, &o, &t, &err), err);
    assert_null(t);
    t = (lf_token *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_exchange_code_ex(g_auth, "", NULL, &t, &err), err);
    assert_null(t);
    assert_invalid_with_err(lf_exchange_code_ex(g_auth, CODE, &o, NULL, &err), err);
    assert_invalid_with_err(lf_exchange_code_ex(g_auth, CODE, NULL, NULL, &err), err);
}

static void test_token_accessors(void **st) {
    (void)st;
    char buf[64];
    size_t needed = 0;
    assert_null(lf_token_value(NULL));
    assert_status(lf_token_copy(NULL, buf, sizeof buf, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_token_copy(NULL, NULL, 0, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_token_copy(NULL, NULL, 0, NULL), LF_E_INVALID_ARGUMENT);
    lf_token_free(NULL);
}

static void test_webhooks(void **st) {
    (void)st;
    char buf[LF_SIGNATURE_BUFFER_SIZE];
    size_t needed;
    const char *sig = "gyrtoQCO5+3obGEgiOLU6InezQyS7/Z3UWhaic1pEk8=";
    assert_status(lf_webhook_verify(NULL, "hello world", 11, sig), LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_verify(g_auth, NULL, 11, sig), LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_verify(g_auth, "hello world", 11, NULL), LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_verify(g_auth, "hello world", 11, sig), LF_OK);

    assert_status(lf_webhook_sign(NULL, "hello world", 11, buf, sizeof buf, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_sign(g_auth, NULL, 11, buf, sizeof buf, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_sign(g_auth, "hello world", 11, NULL, sizeof buf, &needed), LF_E_INVALID_ARGUMENT);
    assert_status(lf_webhook_sign(g_auth, "hello world", 11, buf, sizeof buf, NULL), LF_OK);
    assert_string_equal(buf, sig);
}

static void test_graphql(void **st) {
    (void)st;
    lf_response *r;
    lf_error err;
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);

    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(NULL, TOKEN, QUERY, NULL, &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(g_auth, NULL, QUERY, NULL, &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(g_auth, TOKEN, NULL, NULL, &r, &err), err);
    assert_null(r);
    assert_invalid_with_err(lf_graphql(g_auth, TOKEN, QUERY, NULL, NULL, &err), err);
    /* checked before anything is sent: a malformed token, bad variables */
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(g_auth, "bad token\r\nX-Evil: 1", QUERY, NULL, &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(g_auth, "", QUERY, NULL, &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(g_auth, TOKEN, QUERY, "[1,2]", &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql(g_auth, TOKEN, QUERY, "{not json", &r, &err), err);
    assert_null(r);

    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql_ex(NULL, TOKEN, QUERY, NULL, &o, &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql_ex(g_auth, NULL, QUERY, NULL, &o, &r, &err), err);
    assert_null(r);
    r = (lf_response *)(uintptr_t)0x1;
    assert_invalid_with_err(lf_graphql_ex(g_auth, TOKEN, NULL, NULL, NULL, &r, &err), err);
    assert_null(r);
    assert_invalid_with_err(lf_graphql_ex(g_auth, TOKEN, QUERY, NULL, &o, NULL, &err), err);
}

static void test_response_accessors(void **st) {
    (void)st;
    const char *body = lf_response_body(NULL);
    assert_non_null(body);
    assert_string_equal(body, "");
    assert_int_equal(lf_response_body_length(NULL), 0);
    assert_int_equal(lf_response_http_status(NULL), 0);
    lf_response_free(NULL);
}

static void test_account_id(void **st) {
    (void)st;
    char buf[64];
    size_t needed;
    lf_error err;
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);

    assert_invalid_with_err(lf_account_id(NULL, TOKEN, buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_account_id(g_auth, NULL, buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_account_id(g_auth, TOKEN, NULL, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_account_id(g_auth, "bad token", buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_account_id_ex(NULL, TOKEN, &o, buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_account_id_ex(g_auth, NULL, &o, buf, sizeof buf, &needed, &err), err);
    assert_invalid_with_err(lf_account_id_ex(g_auth, TOKEN, NULL, NULL, sizeof buf, &needed, &err), err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_version_never_null),
        cmocka_unit_test(test_global_init),
        cmocka_unit_test(test_config_and_handle),
        cmocka_unit_test(test_consent_url),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_parse_callback),
        cmocka_unit_test(test_sealed_state),
        cmocka_unit_test(test_exchange_code),
        cmocka_unit_test(test_token_accessors),
        cmocka_unit_test(test_webhooks),
        cmocka_unit_test(test_graphql),
        cmocka_unit_test(test_response_accessors),
        cmocka_unit_test(test_account_id),
    };
    return cmocka_run_group_tests(tests, unit_group_setup, unit_group_teardown);
}
