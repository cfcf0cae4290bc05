/* Process rules: what the environment and fork() may and may not do to a
 * handle. Environment proxies never carry plain-http loopback requests (an
 * https request tunnels through them with CONNECT, TLS end to end);
 * SSLKEYLOGFILE is never honoured; a handle used before fork() works in the
 * parent and the child, which never share a connection. */
#include "it_common.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN_PATH "/token"

static char keylog_path[512];

/* ---- a token server that answers each code with its own token ------------- */

static void token_per_code(void *ctx, const ts_request *r, ts_reply *reply) {
    (void)ctx;
    char code[128] = "";
    const char *body = ts_request_body(r);
    const char *p = strstr(body, "\"code\":\"");
    if (p) sscanf(p + 8, "%127[^\"]", code);
    ts_reply_status(reply, 200);
    ts_reply_printf(reply, NULL, "{\"access_token\":\"tok-%s\"}", code);
}

static ts_server *token_server(const ts_pki *pki, ts_cert cert) {
    ts_server *s = ts_server_start(pki, cert);
    assert_non_null(s);
    ts_server_set_handler(s, token_per_code, NULL);
    return s;
}

/* Exchanges `code` on `a`; returns the status, the token into tok. */
static lf_status exchange(lf_auth *a, const char *code, char *tok, size_t size, lf_error *err) {
    lf_token *t = NULL;
    lf_status st = lf_exchange_code(a, code, &t, err);
    tok[0] = '\0';
    if (t) snprintf(tok, size, "%s", lf_token_value(t));
    lf_token_free(t);
    return st;
}

/* A handle for fresh creds *c against the token server srv. */
static lf_auth *handle_for(ts_server *srv, it_creds *c) {
    it_creds_make(c);
    return it_auth_at(c, ts_server_url(srv, TOKEN_PATH), NULL, LF_CLIENT_AUTH_JSON_BODY);
}

static void exchange_ok(lf_auth *a, const char *code) {
    char tok[160], want[160];
    lf_error err;
    it_expect_status(exchange(a, code, tok, sizeof tok, &err), LF_OK, &err, code);
    snprintf(want, sizeof want, "tok-%s", code);
    assert_string_equal(tok, want);
}

/* ---- a recording CONNECT proxy --------------------------------------------- */

/* Accepts connections; for "CONNECT host:port", answers 200 and relays bytes
 * to 127.0.0.1:port (whatever the host), recording everything the client
 * sent. Any other request is recorded and answered 502. */
typedef struct proxy {
    int listen_fd;
    int port;
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t mu;
    int connections;
    int connects;
    char *seen; /* every byte clients sent, in order */
    size_t seen_len;
} proxy;

static void proxy_record(proxy *p, const char *b, size_t n) {
    pthread_mutex_lock(&p->mu);
    char *grown = realloc(p->seen, p->seen_len + n + 1);
    if (grown) {
        memcpy(grown + p->seen_len, b, n);
        p->seen_len += n;
        grown[p->seen_len] = '\0';
        p->seen = grown;
    }
    pthread_mutex_unlock(&p->mu);
}

/* Relays between a and b until either side closes (bounded by 50 idle polls). */
static void proxy_relay(proxy *p, int client, int server) {
    char buf[16384];
    for (int idle = 0; idle < 50 && !p->stop;) {
        struct pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        int n = poll(fds, 2, 100);
        if (n <= 0) {
            idle++;
            continue;
        }
        idle = 0;
        for (int i = 0; i < 2; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t got = recv(fds[i].fd, buf, sizeof buf, 0);
            if (got <= 0) return;
            if (i == 0) proxy_record(p, buf, (size_t)got);
            if (send(fds[1 - i].fd, buf, (size_t)got, MSG_NOSIGNAL) != got) return;
        }
    }
}

static void proxy_serve(proxy *p, int c) {
    char head[4096];
    size_t n = 0;
    while (n + 1 < sizeof head && !strstr(head, "\r\n\r\n")) {
        ssize_t got = recv(c, head + n, sizeof head - 1 - n, 0);
        if (got <= 0) return;
        n += (size_t)got;
        head[n] = '\0';
    }
    proxy_record(p, head, n);
    int port = 0;
    if (sscanf(head, "CONNECT %*[^:]:%d HTTP/1.", &port) != 1) {
        static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send(c, bad, sizeof bad - 1, MSG_NOSIGNAL);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->connects++;
    pthread_mutex_unlock(&p->mu);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons((unsigned short)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&to, sizeof to) == 0) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        if (send(c, ok, sizeof ok - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof ok - 1)) proxy_relay(p, c, s);
    }
    close(s);
}

static void *proxy_main(void *arg) {
    proxy *p = arg;
    while (!p->stop) {
        struct pollfd pf = {p->listen_fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) continue;
        int c = accept(p->listen_fd, NULL, NULL);
        if (c < 0) continue;
        pthread_mutex_lock(&p->mu);
        p->connections++;
        pthread_mutex_unlock(&p->mu);
        proxy_serve(p, c);
        close(c);
    }
    return NULL;
}

static proxy *proxy_start(void) {
    proxy *p = calloc(1, sizeof *p);
    assert_non_null(p);
    pthread_mutex_init(&p->mu, NULL);
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->listen_fd, 16), 0);
    assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->thread, NULL, proxy_main, p), 0);
    return p;
}

static void proxy_stop(proxy *p) {
    p->stop = 1;
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
    pthread_mutex_destroy(&p->mu);
    free(p->seen);
    free(p);
}

static int proxy_saw(proxy *p, const char *needle) {
    pthread_mutex_lock(&p->mu);
    int hit = p->seen && ts_mem_contains(p->seen, p->seen_len, needle);
    pthread_mutex_unlock(&p->mu);
    return hit;
}

/* Points every proxy variable libcurl reads at the proxy, and clears the
 * exceptions. */
static void proxy_environment(const proxy *p) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", p->port);
    const char *names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) setenv(names[i], url, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
}

static void clear_proxy_environment(void) {
    const char *names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unsetenv(names[i]);
}

static void loopback_never_proxied(const char *host, int tls) {
    ts_server *srv = token_server(tls ? it_pki : NULL, TS_CERT_GOOD);
    proxy *p = proxy_start();
    proxy_environment(p);
    it_creds c;
    it_creds_make(&c);
    char url[128];
    snprintf(url, sizeof url, "%s://%s:%d%s", tls ? "https" : "http", host, ts_server_port(srv), TOKEN_PATH);
    lf_auth *a = it_auth_at(&c, url, NULL, LF_CLIENT_AUTH_JSON_BODY);
    exchange_ok(a, c.code);
    lf_auth_free(a);
    clear_proxy_environment();
    int proxied = p->connections;
    int leaked = proxy_saw(p, c.secret) || proxy_saw(p, c.code);
    proxy_stop(p);
    ts_server_stop(srv);
    if (proxied || leaked)
        fail_msg("a loopback request went to the environment's proxy (%d connections, secret or code seen: %d)",
                 proxied, leaked);
}

static void test_plain_http_to_127_0_0_1_never_uses_a_proxy(void **state) {
    (void)state;
    loopback_never_proxied("127.0.0.1", 0);
}

static void test_plain_http_to_localhost_never_uses_a_proxy(void **state) {
    (void)state;
    loopback_never_proxied("localhost", 0);
}

static void test_https_to_loopback_never_uses_a_proxy(void **state) {
    (void)state;
    loopback_never_proxied("127.0.0.1", 1);
}

/* A non-loopback https endpoint honours https_proxy through CONNECT: the
 * proxy carries only ciphertext, and the certificate is still checked. The
 * host name (other.test, the wrong-host certificate's) is resolved by the
 * proxy, which sends every tunnel to 127.0.0.1. */
static void test_https_goes_through_the_proxy_with_connect_only(void **state) {
    (void)state;
    ts_server *srv = token_server(it_pki, TS_CERT_WRONG_HOST);
    proxy *p = proxy_start();
    proxy_environment(p);
    it_creds c;
    it_creds_make(&c);
    char url[128];
    snprintf(url, sizeof url, "https://other.test:%d%s", ts_server_port(srv), TOKEN_PATH);
    lf_auth *a = it_auth_at(&c, url, NULL, LF_CLIENT_AUTH_JSON_BODY);
    exchange_ok(a, c.code);
    lf_auth_free(a);
    clear_proxy_environment();
    int connects = p->connects;
    int leaked = proxy_saw(p, c.secret) || proxy_saw(p, c.code);
    proxy_stop(p);
    ts_server_stop(srv);
    assert_int_equal(connects, 1);
    assert_false(leaked);
}

/* ---- SSLKEYLOGFILE ------------------------------------------------------------- */

/* main() set SSLKEYLOGFILE before anything initialised libcurl. */
static void test_sslkeylogfile_is_never_written(void **state) {
    (void)state;
    ts_server *srv = token_server(it_pki, TS_CERT_GOOD);
    it_creds c;
    lf_auth *a = handle_for(srv, &c);
    exchange_ok(a, c.code);
    lf_auth_free(a);
    ts_server_stop(srv);
    struct stat st;
    if (stat(keylog_path, &st) == 0 && st.st_size > 0)
        fail_msg("%lld bytes of TLS key material were written to SSLKEYLOGFILE", (long long)st.st_size);
}

/* ---- fork() ------------------------------------------------------------------------- */

/* Child: one exchange of its own code on the inherited handle, then frees
 * the handle; exit status 0 when it got its own token. */
static int child_exchange(lf_auth *a, const char *code) {
    char tok[160], want[160];
    lf_error err;
    lf_status st = exchange(a, code, tok, sizeof tok, &err);
    snprintf(want, sizeof want, "tok-%s", code);
    int ok = st == LF_OK && strcmp(tok, want) == 0;
    if (!ok)
        fprintf(stderr, "child: %s %s (got token for another code: %d)\n", lf_status_name(st), err.message,
                st == LF_OK);
    lf_auth_free(a);
    return ok ? 0 : 1;
}

static int wait_child(pid_t pid) {
    int status = 0;
    for (int i = 0; i < 200; i++) { /* bounded: 20 s */
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        ts_sleep_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 99;
}

/* After an exchange leaves a pooled connection, parent and child exchange at
 * the same time: each gets its own token, on its own connection. */
static void test_parent_and_child_never_share_a_connection(void **state) {
    (void)state;
    ts_server *srv = token_server(it_pki, TS_CERT_GOOD);
    it_creds c;
    lf_auth *a = handle_for(srv, &c);
    for (int round = 0; round < 10; round++) {
        exchange_ok(a, c.code); /* leaves a live connection in the pool */
        char child_code[48], parent_code[48];
        ts_random_token(child_code, sizeof child_code, "child");
        ts_random_token(parent_code, sizeof parent_code, "parent");
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(child_exchange(a, child_code));
        exchange_ok(a, parent_code);
        int rc = wait_child(pid);
        if (rc != 0) fail_msg("round %d: the child's exchange failed (exit %d)", round, rc);
    }
    lf_auth_free(a);
    ts_server_stop(srv);
}

/* The child frees the handle it inherited: no TLS close_notify may reach the
 * parent's pooled connection, which the parent then reuses. */
static void test_child_leaves_the_parents_connection_alone(void **state) {
    (void)state;
    ts_server *srv = token_server(it_pki, TS_CERT_GOOD);
    it_creds c;
    lf_auth *a = handle_for(srv, &c);
    exchange_ok(a, c.code);
    size_t conns = ts_server_connection_count(srv);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lf_auth_free(a);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    char code[48];
    ts_random_token(code, sizeof code, "after");
    exchange_ok(a, code);
    assert_int_equal(ts_server_connection_count(srv), conns); /* the same connection, reused */
    lf_auth_free(a);
    ts_server_stop(srv);
}

int main(void) {
    /* Before libcurl is initialised: it reads SSLKEYLOGFILE once, then. */
    snprintf(keylog_path, sizeof keylog_path, "%s/lf-keylog-%ld.txt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    unlink(keylog_path);
    setenv("SSLKEYLOGFILE", keylog_path, 1);
    clear_proxy_environment();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_http_to_127_0_0_1_never_uses_a_proxy),
        cmocka_unit_test(test_plain_http_to_localhost_never_uses_a_proxy),
        cmocka_unit_test(test_https_to_loopback_never_uses_a_proxy),
        cmocka_unit_test(test_https_goes_through_the_proxy_with_connect_only),
        cmocka_unit_test(test_sslkeylogfile_is_never_written),
        cmocka_unit_test(test_parent_and_child_never_share_a_connection),
        cmocka_unit_test(test_child_leaves_the_parents_connection_alone),
    };
    int rc = cmocka_run_group_tests(tests, it_group_setup, it_group_teardown);
    unlink(keylog_path);
    return rc;
}
