/* One lf_auth shared by many threads: exchanges, consent URLs and webhook
 * verification at the same time, each thread getting its own results; and
 * a cold start: 64 threads released at once by a barrier in a fresh process
 * (this executable re-run with --cold-start, where nothing touched the
 * library before) all initialising it, explicitly or lazily: every one
 * of them must come back with a working handle. */
#include "it_common.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
        void *(*fn)(void *) = i < EXCHANGE_THREADS       ? exchange_worker
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

/* ---------------------------------------------------------------- cold start */

#define COLD_THREADS 64
#define COLD_FLAG "--cold-start"
#define COLD_CHILD_TIMEOUT_MS 120000

/* What each thread's first call is: lf_global_init(NULL, 0), the lf_auth_new
 * that initialises lazily, or half and half. */
static const char *const cold_kinds[] = {"global_init", "lazy_auth_new", "mixed"};

typedef struct cold_worker {
    pthread_barrier_t *start;
    int id;
    int explicit_init; /* the first call is lf_global_init, not lf_auth_new */
    const lf_auth_config *cfg;
    lf_status first; /* status of the first call */
    char failure[320];
} cold_worker;

static lf_auth *cold_auth(const lf_auth_config *cfg, lf_status *st, char *failure, size_t size) {
    lf_auth *a = NULL;
    lf_error err;
    *st = lf_auth_new(cfg, &a, &err);
    if (*st != LF_OK) snprintf(failure, size, "lf_auth_new: %s (%.200s)", lf_status_name(*st), err.message);
    return *st == LF_OK ? a : NULL;
}

/* One exchange on `a` for a code of its own: the server's token for it. */
static int cold_exchange(lf_auth *a, const char *tag, char *failure, size_t size) {
    char code[64], want[96], rnd[17];
    ts_random_token(rnd, sizeof rnd, "");
    snprintf(code, sizeof code, "cold-%s-%s", tag, rnd);
    snprintf(want, sizeof want, "minted.%s", code);
    lf_token *t = NULL;
    lf_error err;
    lf_status st = lf_exchange_code(a, code, &t, &err);
    int ok = st == LF_OK && strcmp(lf_token_value(t), want) == 0;
    if (!ok)
        snprintf(failure, size, "exchange: %s (%.200s)", lf_status_name(st), st == LF_OK ? "wrong token" : err.message);
    lf_token_free(t);
    return ok;
}

/* How many threads exchange at once once initialised: all of them, but 4
 * under the valgrind twin, whose parent (the test server, under memcheck)
 * cannot take 64 TLS handshakes at once before its own timeouts. The
 * initialisation race itself is always 64 threads wide. */
static sem_t cold_network;

static void *cold_worker_main(void *arg) {
    cold_worker *w = arg;
    pthread_barrier_wait(w->start);
    lf_auth *a = NULL;
    if (w->explicit_init) {
        w->first = lf_global_init(NULL, 0);
        if (w->first != LF_OK) {
            snprintf(w->failure, sizeof w->failure, "lf_global_init: %s", lf_status_name(w->first));
            return NULL;
        }
        lf_status st;
        if (!(a = cold_auth(w->cfg, &st, w->failure, sizeof w->failure))) return NULL;
    } else if (!(a = cold_auth(w->cfg, &w->first, w->failure, sizeof w->failure))) {
        return NULL;
    }
    char tag[16];
    snprintf(tag, sizeof tag, "t%d", w->id);
    sem_wait(&cold_network);
    cold_exchange(a, tag, w->failure, sizeof w->failure);
    lf_auth_free(a); /* closes its connection: the test server has 8 workers */
    sem_post(&cold_network);
    return NULL;
}

/* The fresh process: argv = self --cold-start KIND TOKEN_URL CA_FILE. Exit 0
 * when every thread's first call returned LF_OK and its exchange got its own
 * token, and the library still works afterwards. */
static int cold_start_main(int argc, char **argv) {
    if (argc != 5) return 2;
    const char *kind = argv[2];
    int mixed = !strcmp(kind, "mixed"), explicit_all = !strcmp(kind, "global_init");
    if (!mixed && !explicit_all && strcmp(kind, "lazy_auth_new") != 0) return 2;
    it_creds c;
    it_creds_make(&c); /* the test support's randomness: the library is still untouched */
    static const char *const uris[] = {IT_REDIRECT_URI};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg); /* a plain struct initialiser, no library state */
    cfg.client_id = c.client_id;
    cfg.client_secret = c.secret;
    cfg.redirect_uris = uris;
    cfg.redirect_uri_count = 1;
    cfg.token_url = argv[3];
    cfg.ca_file = argv[4];
    cfg.client_auth = LF_CLIENT_AUTH_JSON_BODY;
    /* Under the valgrind twin only the parent (the test server) runs under
     * memcheck: its 64 TLS handshakes take far longer there. */
    cfg.connect_timeout_ms = it_slow() ? 240000 : 30000;
    cfg.timeout_ms = it_slow() ? 300000 : 60000;
    cfg.stall_timeout_ms = cfg.timeout_ms;

    if (sem_init(&cold_network, 0, it_slow() ? 4 : COLD_THREADS) != 0) return 2;
    static cold_worker w[COLD_THREADS];
    pthread_t th[COLD_THREADS];
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, COLD_THREADS) != 0) return 2;
    int started = 0;
    for (int i = 0; i < COLD_THREADS; i++) {
        w[i] = (cold_worker){.start = &start,
                             .id = i,
                             .explicit_init = explicit_all || (mixed && i % 2 == 0),
                             .cfg = &cfg,
                             .first = LF_E_INTERNAL};
        if (pthread_create(&th[i], NULL, cold_worker_main, &w[i]) != 0) {
            fprintf(stderr, "cold start: pthread_create %d failed\n", i);
            return 2; /* the barrier would never open: exit rather than hang */
        }
        started++;
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);

    int failures = 0;
    for (int i = 0; i < COLD_THREADS; i++) {
        if (w[i].first != LF_OK || w[i].failure[0]) {
            if (failures++ < 5) fprintf(stderr, "cold start (%s): thread %d: %s\n", kind, i, w[i].failure);
        }
    }
    /* Afterwards: initialising again with the same (default) settings is
     * still LF_OK, and a new handle exchanges and signs. */
    char failure[320] = "";
    lf_status st = lf_global_init(NULL, 0);
    if (st != LF_OK) snprintf(failure, sizeof failure, "lf_global_init afterwards: %s", lf_status_name(st));
    lf_auth *a = failure[0] ? NULL : cold_auth(&cfg, &st, failure, sizeof failure);
    if (a && cold_exchange(a, "after", failure, sizeof failure)) {
        char sig[LF_SIGNATURE_BUFFER_SIZE];
        if (lf_webhook_sign(a, "{}", 2, sig, sizeof sig, NULL) != LF_OK || lf_webhook_verify(a, "{}", 2, sig) != LF_OK)
            snprintf(failure, sizeof failure, "webhook sign/verify afterwards failed");
    }
    lf_auth_free(a);
    if (failure[0]) {
        fprintf(stderr, "cold start (%s): %s\n", kind, failure);
        failures++;
    }
    if (failures) fprintf(stderr, "cold start (%s): %d failures\n", kind, failures);
    return failures ? 1 : 0;
}

/* Runs this executable again as `self --cold-start kind url ca` (a process
 * where nothing has initialised the library) and waits, bounded. */
static int run_cold_start(const char *kind, const char *url, const char *ca) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1); /* valgrind reports the program, not itself */
    assert_true(n > 0);
    self[n] = '\0';
    char *argv[] = {self, (char *)COLD_FLAG, (char *)kind, (char *)url, (char *)ca, NULL};
    extern char **environ;
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, self, NULL, NULL, argv, environ), 0);
    int st = 0;
    long long limit_ms = it_slow() ? 4 * COLD_CHILD_TIMEOUT_MS : COLD_CHILD_TIMEOUT_MS;
    long long deadline = ts_now_ms() + limit_ms;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        assert_true(r == 0 || errno == EINTR);
        if (ts_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("cold start (%s): no result within %lld s", kind, limit_ms / 1000);
        }
        ts_sleep_ms(20);
    }
    if (WIFSIGNALED(st)) fail_msg("cold start (%s): the process died of signal %d", kind, WTERMSIG(st));
    return WEXITSTATUS(st);
}

static void cold_start(const char *kind) {
    ts_server *srv = ts_server_start(it_pki, TS_CERT_GOOD);
    assert_non_null(srv);
    ts_server_set_handler(srv, mint, NULL);
    int rc = run_cold_start(kind, ts_server_url(srv, TOKEN_PATH), ts_pki_ca_file(it_pki));
    size_t requests = ts_server_request_count(srv);
    ts_server_stop(srv);
    if (rc != 0) fail_msg("cold start (%s): exit status %d (its stderr above)", kind, rc);
    /* one exchange per thread and one afterwards, none lost or repeated */
    assert_int_equal(requests, (size_t)COLD_THREADS + 1);
}

static void test_cold_start_64_threads_global_init(void **state) {
    (void)state;
    cold_start(cold_kinds[0]);
}

static void test_cold_start_64_threads_lazy_auth_new(void **state) {
    (void)state;
    cold_start(cold_kinds[1]);
}

static void test_cold_start_64_threads_mixed(void **state) {
    (void)state;
    cold_start(cold_kinds[2]);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], COLD_FLAG)) return cold_start_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_handle_many_threads),
        cmocka_unit_test(test_cold_start_64_threads_global_init),
        cmocka_unit_test(test_cold_start_64_threads_lazy_auth_new),
        cmocka_unit_test(test_cold_start_64_threads_mixed),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
