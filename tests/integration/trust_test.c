/* The trust store: a CA file is parsed once per process while it is
 * unchanged, a changed or removed file takes effect at the next connection,
 * and a file that cannot be used is a clear TLS failure with nothing sent.
 *
 * "Parsed once" is checked without timing anything: inotify reports every
 * open() of the CA file, and only parsing opens it (a check for changes is
 * a stat()). */
#include "it_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_PATH "/oauth/access_token"

typedef struct fixture {
    ts_server *srv;
    it_creds c;
    char dir[64];      /* this test's temporary directory */
    char ca[128];      /* dir/ca.pem: the file the handles are given */
    char staging[128]; /* dir/next.pem: written, then renamed over ca */
    int watch;         /* inotify descriptor watching dir for opens and closes */
} fixture;

static int setup(void **state) {
    fixture *f = test_calloc(1, sizeof *f);
    it_creds_make(&f->c);
    snprintf(f->dir, sizeof f->dir, "/tmp/lf-trust-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->ca, sizeof f->ca, "%s/ca.pem", f->dir);
    snprintf(f->staging, sizeof f->staging, "%s/next.pem", f->dir);
    f->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (f->watch < 0 || inotify_add_watch(f->watch, f->dir, IN_OPEN | IN_CLOSE) < 0) return -1;
    f->srv = ts_server_start(it_pki, TS_CERT_GOOD);
    if (!f->srv) return -1;
    char body[128];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\"}", f->c.token);
    ts_server_respond(f->srv, 200, NULL, body);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    ts_server_stop(f->srv);
    close(f->watch);
    unlink(f->ca);
    unlink(f->staging);
    rmdir(f->dir);
    test_free(f);
    return 0;
}

/* Writes the PEM file `src` (or `text`, if src is NULL) to the staging file
 * and renames it over f->ca: a new file, as package managers and editors
 * replace one. */
static void install_ca(fixture *f, const char *src, const char *text) {
    static char pem[64 * 1024];
    size_t n = 0;
    if (src) {
        FILE *in = fopen(src, "rb");
        assert_non_null(in);
        n = fread(pem, 1, sizeof pem, in);
        assert_true(n > 0 && n < sizeof pem);
        fclose(in);
    } else {
        n = strlen(text);
        memcpy(pem, text, n);
    }
    FILE *out = fopen(f->staging, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(pem, 1, n, out), n);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rename(f->staging, f->ca), 0);
}

/* A new handle trusting f->ca (or `ca_file`), for the fixture's server. */
static lf_auth *handle(fixture *f, const char *ca_file) {
    lf_auth_config cfg;
    it_config(&cfg, &f->c, ts_server_url(f->srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_JSON_BODY);
    cfg.ca_file = ca_file ? ca_file : f->ca;
    return it_auth(&cfg);
}

static lf_status exchange(fixture *f, lf_auth *a, lf_error *err) {
    lf_token *t = NULL;
    lf_status st = lf_exchange_code(a, f->c.code, &t, err);
    lf_token_free(t);
    it_assert_clean(err, &f->c, "trust");
    return st;
}

/* How many times ca.pem was opened since the last call. The events of an
 * open() are queued before open() returns, so none is still on its way.
 * Closes are watched too: inotify merges an event into an identical one
 * still unread, so two opens in a row would count as one. */
static int ca_opens(fixture *f) {
    int opens = 0;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int rounds = 0; rounds < 1000; rounds++) {
        ssize_t n = read(f->watch, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) return opens;
        assert_true(n > 0);
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if ((ev->mask & IN_OPEN) && ev->len && strcmp(ev->name, "ca.pem") == 0) opens++;
            p += sizeof *ev + ev->len;
        }
    }
    fail_msg("inotify events without end");
    return -1;
}

/* One exchange on a new handle that must end with `want`; returns how many
 * times it opened the CA file. */
static int exchange_on_new_handle(fixture *f, lf_status want) {
    lf_auth *a = handle(f, NULL);
    lf_error err;
    ca_opens(f);
    IT_ASSERT_STATUS(exchange(f, a, &err), want, &err);
    int opens = ca_opens(f);
    lf_auth_free(a);
    return opens;
}

/* Handles of one process share the parsed file while it is unchanged; a
 * replaced file (same bytes, new inode) is parsed again, once. */
static void test_ca_file_parsed_once_while_unchanged(void **state) {
    fixture *f = *state;
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 1);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 0);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 0);
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 1);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 0);
}

/* Two exchanges in flight at once need two connections: the second one,
 * opened while the first call waits for its answer, verifies with the same
 * parse. */
typedef struct {
    fixture *f;
    lf_auth *a;
    lf_status st;
} par_call;

static void *par_exchange(void *p) {
    par_call *c = p;
    lf_token *t = NULL;
    lf_error err;
    c->st = lf_exchange_code(c->a, c->f->c.code, &t, &err);
    lf_token_free(t);
    return NULL;
}

static void test_parallel_connections_share_one_parse(void **state) {
    fixture *f = *state;
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    lf_auth *a = handle(f, NULL);
    ts_server_respond_delay(f->srv, 1000); /* keeps the first call in flight */
    ca_opens(f);
    par_call calls[2] = {{f, a, LF_E_INTERNAL}, {f, a, LF_E_INTERNAL}};
    pthread_t th[2];
    assert_int_equal(pthread_create(&th[0], NULL, par_exchange, &calls[0]), 0);
    assert_true(ts_server_wait_requests(f->srv, 1, 10000));
    assert_int_equal(pthread_create(&th[1], NULL, par_exchange, &calls[1]), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(calls[0].st, LF_OK);
    assert_int_equal(calls[1].st, LF_OK);
    assert_int_equal(ts_server_connection_count(f->srv), 2);
    assert_int_equal(ca_opens(f), 1);
    lf_auth_free(a);
}

/* A CA file replaced by one without the server's CA: a new handle no
 * longer trusts the server and sends nothing; putting the file back
 * restores it. */
static void test_replaced_ca_file_takes_effect(void **state) {
    fixture *f = *state;
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 1);
    size_t served = ts_server_request_count(f->srv);
    install_ca(f, ts_pki_wrong_ca_file(it_pki), NULL);
    assert_int_equal(exchange_on_new_handle(f, LF_E_TLS), 1);
    assert_int_equal(ts_server_request_count(f->srv), served);
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 1);
}

/* A handle's next new connection (here: after the server closed the idle
 * one) reads the file again when it changed. That connection resumes the
 * TLS session the handle verified before, so it succeeds either way: what
 * a handle has verified stays verified for the session's lifetime, as in
 * libcurl and browsers. */
static void test_next_connection_of_a_handle_reads_a_changed_file(void **state) {
    fixture *f = *state;
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    lf_auth *a = handle(f, NULL);
    lf_error err;
    ca_opens(f);
    IT_ASSERT_STATUS(exchange(f, a, &err), LF_OK, &err);
    assert_int_equal(ca_opens(f), 1);
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    usleep(1300 * 1000); /* the test server closes keep-alive connections idle for 1 s */
    size_t conns = ts_server_connection_count(f->srv);
    IT_ASSERT_STATUS(exchange(f, a, &err), LF_OK, &err);
    assert_int_equal(ts_server_connection_count(f->srv), conns + 1);
    assert_int_equal(ca_opens(f), 1);
    lf_auth_free(a);
}

/* A CA file that also holds a CRL (bundles of that kind exist) is read
 * whole: its certificates are trusted, nothing else changes. */
static void test_ca_file_with_a_crl(void **state) {
    fixture *f = *state;
    install_ca(f, ts_pki_ca_with_crl_file(it_pki), NULL);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 1);
    assert_int_equal(exchange_on_new_handle(f, LF_OK), 0);
}

/* A failure that names the file and says what is wrong with it. */
static void expect_ca_failure(fixture *f, const char *ca_file, const char *says) {
    lf_auth *a = handle(f, ca_file);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, a, &err), LF_E_TLS, &err);
    if (!strstr(err.message, says) || !strstr(err.message, ca_file))
        fail_msg("message \"%s\" should name %s and say \"%s\"", err.message, ca_file, says);
    assert_int_equal(ts_server_request_count(f->srv), 0);
    lf_auth_free(a);
}

static void test_removed_ca_file(void **state) {
    fixture *f = *state;
    install_ca(f, ts_pki_ca_file(it_pki), NULL);
    lf_auth *a = handle(f, NULL);
    lf_error err;
    IT_ASSERT_STATUS(exchange(f, a, &err), LF_OK, &err);
    lf_auth_free(a);
    ts_server_clear(f->srv);
    assert_int_equal(unlink(f->ca), 0);
    expect_ca_failure(f, f->ca, "No such file");
}

static void test_ca_file_without_certificates(void **state) {
    fixture *f = *state;
    install_ca(f, NULL, "just text, no PEM block\n");
    expect_ca_failure(f, f->ca, "holds no certificate");
}

static void test_ca_file_with_broken_pem(void **state) {
    fixture *f = *state;
    install_ca(f, NULL, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    expect_ca_failure(f, f->ca, "cannot parse");
}

/* A FIFO would block a reader until a writer comes: refused without
 * opening it for a blocking read. */
static void test_ca_file_is_a_fifo(void **state) {
    fixture *f = *state;
    assert_int_equal(mkfifo(f->ca, 0600), 0);
    long long t0 = ts_now_ms();
    expect_ca_failure(f, f->ca, "not a regular file");
    it_assert_faster_than(t0, 5000, "a FIFO as ca_file");
}

static void test_ca_file_is_a_directory(void **state) {
    fixture *f = *state;
    expect_ca_failure(f, f->dir, "not a regular file");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ca_file_parsed_once_while_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_connections_share_one_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_ca_file_takes_effect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_connection_of_a_handle_reads_a_changed_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_with_a_crl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_ca_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_without_certificates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_with_broken_pem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_is_a_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_is_a_directory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
}
