/* The trace hook (lf_auth_config.trace): which lines a call produces, in
 * which order, and that no line carries a secret. */
#include "it_common.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/api/access_token"
#define MAX_LINES 64

typedef struct trace_log {
    int n;
    int events[MAX_LINES];
    char lines[MAX_LINES][512];
} trace_log;

static void collect(void *user, int event, const char *line) {
    trace_log *t = user;
    if (t->n >= MAX_LINES) return;
    t->events[t->n] = event;
    snprintf(t->lines[t->n], sizeof t->lines[0], "%s", line);
    t->n++;
}

/* The test's fixture is it_common's; the lines its handle traced go here. */
typedef it_fixture fixture;
static trace_log lines_of_test;

static int setup(void **state) {
    memset(&lines_of_test, 0, sizeof lines_of_test);
    int rc = it_fixture_setup(state);
    fixture *f = *state;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    return rc;
}

static void answer_token(fixture *f) {
    char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", f->c.token);
    ts_server_respond(f->srv, 200, "application/json", body);
}

/* A traced handle posting to `url` in `mode`. */
static void traced_handle(fixture *f, const char *url, lf_client_auth mode) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, url, NULL, mode);
    cfg.trace = collect;
    cfg.trace_user = &lines_of_test;
    f->a = it_auth(&cfg);
}

static lf_status exchange(fixture *f, lf_error *err) {
    lf_token *t = NULL;
    lf_status st = lf_exchange_code(f->a, f->c.code, &t, err);
    lf_token_free(t);
    return st;
}

/* Index of the first line of `event` at or after `from` whose text holds
 * `needle` (NULL: any); -1 if none. */
static int find(const trace_log *t, int from, int event, const char *needle) {
    for (int i = from; i < t->n; i++)
        if (t->events[i] == event && (!needle || strstr(t->lines[i], needle))) return i;
    return -1;
}

static void dump(const trace_log *t) {
    for (int i = 0; i < t->n; i++) print_message("  trace %d: %s\n", t->events[i], t->lines[i]);
}

static void expect_line(const trace_log *t, int from, int event, const char *needle, int *at) {
    int i = find(t, from, event, needle);
    if (i < 0) {
        dump(t);
        fail_msg("no trace line of event %d holding '%s' after line %d", event, needle ? needle : "", from);
    }
    *at = i;
}

/* No line holds any 8-byte run of a secret of the creds (nor of the Basic
 * credentials), and every line is one line of at most 511 bytes. */
static void expect_clean(const fixture *f, const char *basic_b64) {
    const char *secrets[] = {f->c.secret, f->c.code, f->c.token, basic_b64};
    for (int i = 0; i < lines_of_test.n; i++) {
        const char *line = lines_of_test.lines[i];
        assert_true(strlen(line) <= 511);
        assert_null(strchr(line, '\n'));
        for (size_t k = 0; k < sizeof secrets / sizeof *secrets; k++) {
            if (!secrets[k]) continue;
            for (size_t p = 0; p + 8 <= strlen(secrets[k]); p++) {
                char run[9];
                memcpy(run, secrets[k] + p, 8);
                run[8] = '\0';
                if (strstr(line, run)) {
                    dump(&lines_of_test);
                    fail_msg("trace line %d holds 8 bytes of a secret (%zu)", i, k);
                }
            }
        }
    }
}

/* A first exchange: a new connection (and why), its TLS, the request without
 * the URL's query, the answer. A second one reuses the connection. */
static void test_lines_of_an_exchange(void **state) {
    fixture *f = *state;
    answer_token(f);
    char url[300];
    snprintf(url, sizeof url, "%s?tenant=q-%s", ts_server_url(f->srv, TOKEN_PATH), "visible-query");
    traced_handle(f, url, LF_CLIENT_AUTH_BASIC);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, &err), LF_OK, &err);
    int at;
    expect_line(&lines_of_test, 0, LF_TRACE_CONNECT, "no pooled connection yet", &at);
    expect_line(&lines_of_test, at, LF_TRACE_TLS, "TLSv1.", &at);
    expect_line(&lines_of_test, at, LF_TRACE_REQUEST, "POST https://127.0.0.1:", &at);
    assert_non_null(strstr(lines_of_test.lines[at], TOKEN_PATH ","));
    expect_line(&lines_of_test, at, LF_TRACE_RESPONSE, "HTTP 200", &at);
    for (int i = 0; i < lines_of_test.n; i++) assert_null(strstr(lines_of_test.lines[i], "visible-query"));

    int second = lines_of_test.n;
    IT_ASSERT_STATUS(exchange(f, &err), LF_OK, &err);
    expect_line(&lines_of_test, second, LF_TRACE_REUSE, "reused the pooled connection", &at);
    assert_int_equal(find(&lines_of_test, second, LF_TRACE_CONNECT, NULL), -1);
    expect_clean(f, NULL);
}

/* AUTO: each probe, its verdict and the choice; then the real code's
 * failure and the status it was mapped to, with the server's key. */
static void test_auto_probe_and_error_mapping(void **state) {
    fixture *f = *state;
    ts_server_respond(f->srv, 400, "application/json", "{\"error\":\"invalid_grant\"}");
    traced_handle(f, ts_server_url(f->srv, TOKEN_PATH), LF_CLIENT_AUTH_AUTO);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, &err), LF_E_INVALID_CODE, &err);
    int at;
    expect_line(&lines_of_test, 0, LF_TRACE_AUTO, "probing", &at);
    expect_line(&lines_of_test, at, LF_TRACE_AUTO, "accepted", &at);
    expect_line(&lines_of_test, at, LF_TRACE_AUTO, "chose", &at);
    expect_line(&lines_of_test, at, LF_TRACE_ERROR, "LF_E_INVALID_CODE (HTTP 400, key \"invalid_grant\")", &at);
    int second = lines_of_test.n;
    IT_ASSERT_STATUS(exchange(f, &err), LF_E_INVALID_CODE, &err);
    expect_line(&lines_of_test, second, LF_TRACE_AUTO, "learned by an earlier probe", &at);
    expect_clean(f, NULL);
}

/* A server that echoes every secret it was sent (code, client secret, Basic
 * credentials): the traced error line carries none of them. */
static void test_echoed_secrets_are_masked(void **state) {
    fixture *f = *state;
    traced_handle(f, ts_server_url(f->srv, TOKEN_PATH), LF_CLIENT_AUTH_BASIC);
    const ts_request *r = NULL;
    char body[1400];
    /* First learn the exact Basic credentials the library sends. */
    ts_server_respond(f->srv, 400, "application/json", "{\"error\":\"invalid_grant\"}");
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, &err), LF_E_INVALID_CODE, &err);
    r = ts_server_request(f->srv, 0);
    const char *auth = ts_request_header(r, "Authorization");
    assert_non_null(auth);
    char basic[700];
    snprintf(basic, sizeof basic, "%s", auth + strlen("Basic "));
    snprintf(body, sizeof body, "{\"error\":\"invalid_grant\",\"error_description\":\"code %s secret %s basic %s\"}",
             f->c.code, f->c.secret, basic);
    ts_server_respond(f->srv, 400, "application/json", body);
    IT_ASSERT_STATUS(exchange(f, &err), LF_E_INVALID_CODE, &err);
    int at;
    expect_line(&lines_of_test, 0, LF_TRACE_ERROR, "[redacted]", &at);
    expect_clean(f, basic);
}

/* The connection dies after the request went out: the trace says it is not
 * sent again. */
static void test_failure_after_sending_is_not_retried(void **state) {
    fixture *f = *state;
    f->raw = ts_raw_start();
    ts_raw_push(f->raw, 1, NULL, 0, TS_RAW_RESET);
    traced_handle(f, ts_raw_url(f->raw, "http", TOKEN_PATH), LF_CLIENT_AUTH_BASIC);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, &err), LF_E_NETWORK, &err);
    int at;
    expect_line(&lines_of_test, 0, LF_TRACE_REQUEST, "POST http://127.0.0.1:", &at);
    expect_line(&lines_of_test, at, LF_TRACE_NO_RETRY, "not sent again", &at);
    expect_line(&lines_of_test, at, LF_TRACE_ERROR, "LF_E_NETWORK", &at);
    expect_clean(f, NULL);
}

/* A program built against 1.0 has a config without the trace fields: what
 * lies past its struct_size is never read, so nothing is traced. */
static void test_config_of_a_1_0_program_is_not_traced(void **state) {
    fixture *f = *state;
    answer_token(f);
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_BASIC);
    cfg.struct_size = offsetof(lf_auth_config, trace);
    cfg.trace = collect; /* beyond the struct a 1.0 program has */
    cfg.trace_user = &lines_of_test;
    f->a = it_auth(&cfg);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, &err), LF_OK, &err);
    assert_int_equal(lines_of_test.n, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_of_an_exchange, setup, it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_auto_probe_and_error_mapping, setup, it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_echoed_secrets_are_masked, setup, it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failure_after_sending_is_not_retried, setup, it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_config_of_a_1_0_program_is_not_traced, setup, it_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
