/* One lf_auth shared by many threads: exchanges, consent URLs and webhook
 * verification at the same time, each thread getting its own results. */
#include "it_common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PATH "/oauth/access_token"
#define EXCHANGE_THREADS 4

static int exchanges_per_thread(void) { return it_slow() ? 10 : 100; }

/* The server mints a token derived from the code it received. */
static void mint(void *ctx, const ts_request *r, ts_reply *reply) {
    (void)ctx;
    const char *body = ts_request_body(r);
    const char *k = strstr(body, "\"code\":\"");
    if (!k) {
        ts_reply_status(reply, 400);
        ts_reply_text(reply, NULL, "{\"error\":\"invalid_request\"}");
        return;
    }
    k += 8;
    const char *e = strchr(k, '"');
    ts_reply_status(reply, 200);
    ts_reply_printf(reply, NULL, "{\"access_token\":\"minted.%.*s\"}", (int)(e - k), k);
}

typedef struct worker {
    lf_auth *a;
    int id;
    int iterations;
    int failures;
    char first_failure[512];
} worker;

static void note_failure(worker *w, const char *what) {
    if (w->failures++ == 0) snprintf(w->first_failure, sizeof w->first_failure, "%s", what);
}

static void *exchange_worker(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->iterations; i++) {
        char code[64], want[96];
        char rnd[17];
        ts_random_token(rnd, sizeof rnd, "");
        snprintf(code, sizeof code, "t%d-i%d-%s", w->id, i, rnd);
        snprintf(want, sizeof want, "minted.%s", code);
        lf_token *t = NULL;
        lf_error err;
        lf_status st = lf_exchange_code(w->a, code, &t, &err);
        if (st != LF_OK) {
            char m[512];
            snprintf(m, sizeof m, "exchange %d: %s (%.200s)", i, lf_status_name(st), err.message);
            note_failure(w, m);
        } else if (strcmp(lf_token_value(t), want) != 0) {
            note_failure(w, "token minted for another code");
        }
        lf_token_free(t);
    }
    return NULL;
}

static void *consent_worker(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->iterations; i++) {
        char state[LF_STATE_BUFFER_SIZE];
        char url[1024];
        if (lf_state_generate(state, sizeof state) != LF_OK) {
            note_failure(w, "state");
            continue;
        }
        if (lf_consent_url(w->a, IT_REDIRECT_URI, "orders,products", state, url, sizeof url, NULL) != LF_OK) {
            note_failure(w, "consent url");
            continue;
        }
        char q[128];
        snprintf(q, sizeof q, "?code=c%d&state=%s", i, state);
        char code[64];
        lf_error err;
        if (lf_parse_callback(w->a, q, state, code, sizeof code, NULL, &err) != LF_OK) {
            note_failure(w, "callback");
            continue;
        }
        char want[32];
        snprintf(want, sizeof want, "c%d", i);
        if (strcmp(code, want) != 0 || !strstr(url, state)) note_failure(w, "consent/callback content");
    }
    return NULL;
}

static void *webhook_worker(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->iterations; i++) {
        char body[128], sig[LF_SIGNATURE_BUFFER_SIZE];
        int n = snprintf(body, sizeof body, "{\"event\":\"order/created\",\"n\":%d,\"w\":%d}", i, w->id);
        if (lf_webhook_sign(w->a, body, (size_t)n, sig, sizeof sig, NULL) != LF_OK) {
            note_failure(w, "sign");
            continue;
        }
        if (lf_webhook_verify(w->a, body, (size_t)n, sig) != LF_OK) note_failure(w, "verify good");
        body[5] ^= 1;
        if (lf_webhook_verify(w->a, body, (size_t)n, sig) != LF_E_SIGNATURE_MISMATCH) note_failure(w, "verify bad");
    }
    return NULL;
}

static void test_shared_handle_many_threads(void **state) {
    (void)state;
    it_creds c;
    it_creds_make(&c);
    ts_server *srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(srv);
    ts_server_set_handler(srv, mint, NULL);
    lf_auth *a = it_auth_at(&c, ts_server_url(srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_JSON_BODY);

    enum { N = EXCHANGE_THREADS + 4 };
    worker w[N];
    pthread_t th[N];
    int per = exchanges_per_thread();
    for (int i = 0; i < N; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].a = a;
        w[i].id = i;
        w[i].iterations = i < EXCHANGE_THREADS ? per : per * 20;
    }
    for (int i = 0; i < N; i++) {
        void *(*fn)(void *) = i < EXCHANGE_THREADS ? exchange_worker
                              : i < EXCHANGE_THREADS + 2 ? consent_worker
                                                         : webhook_worker;
        assert_int_equal(pthread_create(&th[i], NULL, fn, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++)
        if (w[i].failures) fail_msg("thread %d: %d failures, first: %s", i, w[i].failures, w[i].first_failure);
    /* exactly one request per exchange: nothing retried, nothing lost */
    assert_int_equal(ts_server_request_count(srv), (size_t)(EXCHANGE_THREADS * per));
    lf_auth_free(a);
    ts_server_stop(srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_handle_many_threads),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
