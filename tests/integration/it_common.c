#include "it_common.h"
#include "it_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_pki *it_pki;

int it_group_setup(void **state) {
    (void)state;
    it_pki = ts_pki_create();
    return it_pki ? 0 : -1;
}

int it_group_teardown(void **state) {
    (void)state;
    ts_pki_free(it_pki);
    it_pki = NULL;
    /* CMocka 1.1 reports a failed group teardown but does not count it in
     * the exit status: a traced run that found a secret must fail. */
    if (it_trace_report() != 0) exit(1);
    return 0;
}

void it_creds_make(it_creds *c) {
    char r[40];
    memset(c, 0, sizeof *c);
    ts_random_token(c->client_id, sizeof c->client_id, "cid");
    ts_random_token(r, 25, "");
    /* '=' '/' '!' ':' inside the secret, random material around them */
    snprintf(c->secret, sizeof c->secret, "sec%.12s=/!:%s", r, r + 12);
    ts_random_token(r, sizeof r, "");
    snprintf(c->secret + strlen(c->secret), sizeof c->secret - strlen(c->secret), "%.20s", r);
    ts_random_token(c->code, sizeof c->code, "code");
    ts_random_token(c->token, sizeof c->token, "tok");
    it_trace_watch(c->secret);
    it_trace_watch(c->code);
    it_trace_watch(c->token);
    it_trace_watch_basic(c->client_id, c->secret);
}

void it_config(lf_auth_config *cfg, const it_creds *c, const char *token_url, const char *api_url,
               lf_client_auth mode) {
    static const char *const uris[] = {IT_REDIRECT_URI, "http://127.0.0.1:8976/cb"};
    lf_auth_config_init(cfg, sizeof *cfg);
    cfg->client_id = c->client_id;
    cfg->client_secret = c->secret;
    cfg->redirect_uris = uris;
    cfg->redirect_uri_count = 2;
    cfg->token_url = token_url;
    cfg->api_url = api_url;
    cfg->client_auth = mode;
    cfg->ca_file = ts_pki_ca_file(it_pki);
    cfg->connect_timeout_ms = 10000;
    cfg->timeout_ms = 20000;
    it_trace_install(cfg);
}

lf_auth *it_auth(const lf_auth_config *cfg) {
    lf_auth *a = NULL;
    lf_error err;
    it_trace_watch(cfg->client_secret);
    it_trace_watch(cfg->previous_client_secret);
    it_trace_watch_basic(cfg->client_id, cfg->client_secret);
    lf_status st = lf_auth_new(cfg, &a, &err);
    IT_ASSERT_STATUS(st, LF_OK, &err);
    assert_non_null(a);
    return a;
}

lf_auth *it_auth_at(const it_creds *c, const char *token_url, const char *api_url, lf_client_auth mode) {
    lf_auth_config cfg;
    it_config(&cfg, c, token_url, api_url, mode);
    return it_auth(&cfg);
}

it_two_servers *it_two_servers_new(void) {
    it_two_servers *f = test_calloc(1, sizeof *f);
    assert_non_null(f);
    it_creds_make(&f->c);
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    f->other = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(f->srv);
    assert_non_null(f->other);
    return f;
}

void it_two_servers_free(it_two_servers *f) {
    lf_auth_free(f->a);
    ts_server_stop(f->srv);
    ts_server_stop(f->other);
    test_free(f);
}

int it_fixture_setup(void **state) {
    it_fixture *f = test_calloc(1, sizeof *f);
    it_creds_make(&f->c);
    *state = f;
    return 0;
}

int it_fixture_teardown(void **state) {
    it_fixture *f = *state;
    lf_auth_free(f->a);
    ts_server_stop(f->srv);
    ts_raw_stop(f->raw);
    test_free(f);
    return 0;
}

void it_never_answer(ts_server *s) {
    ts_server_respond(s, 200, NULL, "{}");
    ts_server_respond_delay(s, -1);
}

lf_call_options it_call_options(long timeout_ms, const int *cancel) {
    lf_call_options o;
    lf_call_options_init(&o, sizeof o);
    o.timeout_ms = timeout_ms;
    o.cancel = cancel;
    return o;
}

void it_assert_no_canary(const lf_error *err, const char *const *canaries, const char *where) {
    lf_assert_err_text(err);
    for (size_t i = 0; canaries[i]; i++) {
        char what[128];
        snprintf(what, sizeof what, "canary %zu (%s)", i, where);
        lf_assert_no_secret_in_err(err, what, canaries[i]);
    }
}

void it_assert_clean(const lf_error *err, const it_creds *c, const char *where) {
    const char *const canaries[] = {c->secret, c->code, c->token, NULL};
    it_assert_no_canary(err, canaries, where);
}

int it_slow(void) {
    const char *s = getenv("LF_TEST_SLOW");
    return s && *s && strcmp(s, "0") != 0;
}

void it_expect_status(lf_status got, lf_status want, const lf_error *err, const char *what) {
    if (got != want) lf_test_status_failed(what, got, lf_status_name(want), err, NULL, 0);
    if (want != LF_OK && err != NULL && err->status != want)
        lf_test_status_failed(what, err->status, lf_status_name(want), err, NULL, 0);
}

void it_assert_faster_than(long long t0, long long limit_ms, const char *what) {
    long long took = ts_now_ms() - t0;
    if (took >= limit_ms) fail_msg("%s took %lld ms, limit %lld ms", what, took, limit_ms);
}
