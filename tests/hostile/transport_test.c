/* Hostile-server suite, transport: slow, stalled, reset, oversized, encoded
 * and redirecting token endpoints, conflicting Content-Length headers, and
 * an API endpoint that resets while a large request is being sent with
 * SIGPIPE at its default disposition (case table: README.md in this
 * directory).
 *
 * The library's allocations (and libcurl's, through
 * LF_INIT_HOOK_DEPENDENCIES) go through a counting allocator so the
 * oversized-body cases can bound the peak heap, not only the RSS. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostile_support.h"

/* ------------------------------------------------------- counting allocator */

typedef struct {
    size_t n;
    size_t pad; /* keeps the payload 16-byte aligned */
} block_header;

static atomic_size_t g_heap_live;
static atomic_size_t g_heap_peak;

static void heap_add(size_t n) {
    size_t live = atomic_fetch_add(&g_heap_live, n) + n;
    size_t peak = atomic_load(&g_heap_peak);
    while (live > peak && !atomic_compare_exchange_weak(&g_heap_peak, &peak, live)) {
    }
}

static void *meter_alloc(void *ctx, size_t n) {
    (void)ctx;
    block_header *h = malloc(sizeof *h + n);
    if (!h) return NULL;
    h->n = n;
    heap_add(n);
    return h + 1;
}

static void meter_free(void *ctx, void *p) {
    (void)ctx;
    if (!p) return;
    block_header *h = (block_header *)p - 1;
    atomic_fetch_sub(&g_heap_live, h->n);
    free(h);
}

static void *meter_realloc(void *ctx, void *p, size_t n) {
    if (!p) return meter_alloc(ctx, n);
    block_header *h = (block_header *)p - 1;
    size_t old = h->n;
    block_header *nh = realloc(h, sizeof *nh + n);
    if (!nh) return NULL;
    nh->n = n;
    atomic_fetch_sub(&g_heap_live, old);
    heap_add(n);
    return nh + 1;
}

static size_t heap_peak_reset(void) {
    size_t live = atomic_load(&g_heap_live);
    atomic_store(&g_heap_peak, live);
    return live;
}

/* ------------------------------------------------------------------ helpers */

static const char *token_body(const hs_case *c) { return hs_token_body(c, ",\"token_type\":\"bearer\""); }

/* The checks every failing case makes once the call is over: `expected`, no
 * token, within T and not before min_s, err clean, a single POST. */
static void assert_failed(const hs_case *c, lf_status expected, double min_s) {
    hs_assert_status(c, expected);
    assert_null(c->tok);
    hs_assert_elapsed_below(c, HS_TIME_BOUND_S(c));
    if (c->elapsed_s < min_s) {
        print_error(
            "call took %.2f s, expected at least %.2f s (the whole-request timeout, not something "
            "earlier)\n",
            c->elapsed_s, min_s);
        fail();
    }
    hs_assert_err_clean(c, NULL);
    hs_assert_requests(c, 0, 1, 1); /* one request, one POST, carrying the code: never retried */
}

/* Starts `mode` on slot 0 with the NULL-terminated extra arguments, runs the
 * call and asserts the failure (see assert_failed). */
HS_SENTINEL static void expect_failure(hs_case *c, lf_status expected, double min_s, const char *mode, ...) {
    va_list ap;
    va_start(ap, mode);
    int started = hs_startv(c, 0, "server", mode, ap);
    va_end(ap);
    assert_int_equal(started, 0);
    hs_run(c, 0);
    assert_failed(c, expected, min_s);
}

/* A server that answers a token in `mode` (a valid encoding). */
static void expect_token(hs_case *c, const char *mode) { hs_expect_token(c, mode, token_body(c)); }

/* ---------------------------------------------------------------- timeouts */

static void slowloris_headers(void **state) {
    expect_failure(*state, LF_E_TIMEOUT, 2.5, "slowloris", "--interval", "0.5", NULL);
}

static void stall_after_headers(void **state) { expect_failure(*state, LF_E_TIMEOUT, 0, "stall-headers", NULL); }
static void stall_no_response(void **state) { expect_failure(*state, LF_E_TIMEOUT, 0, "stall", NULL); }

/* 2 KiB/s of body, forever: under the cap for the whole timeout, so only the
 * whole-request timeout can end it. */
static void trickle_body(void **state) { expect_failure(*state, LF_E_TIMEOUT, 2.5, "trickle", "--rate", "2048", NULL); }

/* ------------------------------------------------------- resets and closes */

/* `mode` answers (part of) a token body, then breaks the connection. */
static void expect_network_error(hs_case *c, const char *mode) {
    expect_failure(c, LF_E_NETWORK, 0, mode, "--body", token_body(c), NULL);
}

static void reset_mid_body(void **state) { expect_network_error(*state, "rst-mid-body"); }
static void close_before_response(void **state) {
    expect_failure(*state, LF_E_NETWORK, 0, "close-before-response", NULL);
}
static void fin_mid_body(void **state) { expect_network_error(*state, "fin-mid-body"); }

/* ----------------------------------------------------------- size caps */

/* Peak heap (library + libcurl) and peak RSS during the call. */
typedef struct {
    size_t heap_before;
    size_t heap_peak_growth;
    long rss_before_kib;
    long hwm_after_kib;
    int hwm_reset;
} mem_probe;

static void mem_begin(mem_probe *m) {
    m->hwm_reset = hs_reset_peak() == 0;
    m->rss_before_kib = m->hwm_reset ? hs_vm_kib("VmRSS") : hs_vm_kib("VmHWM");
    m->heap_before = heap_peak_reset();
}

static void mem_end(mem_probe *m) {
    size_t peak = atomic_load(&g_heap_peak);
    m->heap_peak_growth = peak > m->heap_before ? peak - m->heap_before : 0;
    m->hwm_after_kib = hs_vm_kib("VmHWM");
}

/* AddressSanitizer's quarantine keeps freed blocks resident, so RSS says
 * little there: the exact heap meter below is the real bound, and the RSS
 * bound only has to catch a body buffered whole (the servers send 1-64 MiB). */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_BOUND_KIB (32L * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_BOUND_KIB (32L * 1024)
#endif
#endif
#ifndef RSS_BOUND_KIB
#define RSS_BOUND_KIB (8L * 1024)
#endif

static void assert_memory_bounded(const mem_probe *m, size_t cap, const char *mode) {
    long rss_growth = m->hwm_after_kib - m->rss_before_kib;
    print_message("      %s: peak heap growth %zu KiB (cap %zu KiB), peak RSS growth %ld KiB%s\n", mode,
                  m->heap_peak_growth / 1024, cap / 1024, rss_growth,
                  m->hwm_reset ? "" : " (VmHWM could not be reset: growth of the process peak)");
    assert_true(m->rss_before_kib > 0 && m->hwm_after_kib > 0);
    if (rss_growth >= RSS_BOUND_KIB) {
        print_error("%s: peak RSS grew by %ld KiB (bound %ld KiB)\n", mode, rss_growth, RSS_BOUND_KIB);
        fail();
    }
    /* The target was peak heap <= cap + 256 KiB (the body buffer plus
     * libcurl's transfer buffers and connection state). 1.0
     * measured 122 to 257 KiB for a 64 KiB cap. Since 1.1 the whole cap is
     * reserved for the body before the code is sent (it used to grow from
     * 5 KiB), so the body's room is always there: measured 1.1, the cap + 296
     * KiB for a 1 MiB header line (libcurl's header buffer growing to its 100
     * KiB limit), less for the others. The bound is cap + 384 KiB. An exchange with
     * hooked dependencies also sets aside, before the code is sent, a fixed
     * reserve for libcurl and cJSON (2.5 MiB for a transfer + 48 x the
     * 64 KiB token-answer cap; src/client.hpp kTokenAnswerReserve): it does
     * not grow with what the server sends and stays untouched unless the
     * allocator fails (the RSS bound above is what it leaves alone). */
    const size_t reserve = (2 * 1024 + 512) * 1024 + 48 * 64 * 1024;
    if (m->heap_peak_growth > cap + 384 * 1024 + reserve) {
        print_error("%s: peak heap grew by %zu bytes (bound cap + 384 KiB + the exchange reserve)\n", mode,
                    m->heap_peak_growth);
        fail();
    }
}

/* `mode` sends more than the cap (`size` bytes): LF_E_RESPONSE_TOO_LARGE
 * with the heap and RSS bounded during the call, plus the usual checks. */
static void expect_too_large(hs_case *c, const char *mode, const char *size) {
    assert_int_equal(hs_start(c, 0, "server", mode, "--size", size, NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, HS_TOKEN_PATH), LF_OK);
    mem_probe m;
    mem_begin(&m);
    hs_exchange(c);
    mem_end(&m);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    assert_failed(c, LF_E_RESPONSE_TOO_LARGE, 0);
    assert_memory_bounded(&m, c->max_response_bytes, mode);
}

static void body_forever_over_cap(void **state) {
    hs_case *c = *state;
    expect_too_large(c, "body-forever", "67108864");
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    print_message("      server sent %lld body bytes before the client left\n", r.sent);
    assert_true(r.sent < 32LL * 1024 * 1024); /* the client stopped reading long before 64 MiB */
    hs_record_free(&r);
}

static void content_length_over_cap(void **state) { expect_too_large(*state, "big", "1048576"); }

/* Endless header lines: the library's 64 KiB header cap. */
static void headers_forever(void **state) { expect_too_large(*state, "headers-forever", "67108864"); }

/* One header line of 1 MiB, never terminated: headers over 64 KiB are
 * LF_E_RESPONSE_TOO_LARGE by the header contract, whoever notices first. */
static void header_line_huge(void **state) { expect_too_large(*state, "header-line-huge", "1048576"); }

/* Content-Length shorter than the body: the truncated JSON is refused, no
 * partial token is handed out. */
static void content_length_shorter_than_body(void **state) {
    hs_case *c = *state;
    expect_failure(c, LF_E_PROTOCOL, 0, "cl-shorter", "--body", token_body(c), NULL);
}

/* Two Content-Length headers that disagree (RFC 9112 §6.3: an
 * unrecoverable error): `lengths` is the list sent,
 * `{n}` standing for the body's length. The body is the token answer plus
 * `pad` spaces. LF_E_PROTOCOL (a malformed HTTP response), no token. */
static void expect_conflicting_lengths(hs_case *c, size_t pad, long first_delta, long second_delta) {
    char body[512];
    int n = snprintf(body, sizeof body, "{\"access_token\":\"%s\"}%*s", c->token, (int)pad, "");
    assert_true(n > 0 && (size_t)n < sizeof body);
    char lengths[64];
    snprintf(lengths, sizeof lengths, "%ld,%ld", (long)n - (long)pad + first_delta, (long)n - (long)pad + second_delta);
    print_message("      body %d bytes, Content-Length: %s\n", n, lengths);
    expect_failure(c, LF_E_PROTOCOL, 0, "cl-list", "--body", body, "--content-lengths", lengths, NULL);
}

/* Content-Length: L and Content-Length: L+5 for a body of L bytes. */
static void content_length_conflicting(void **state) { expect_conflicting_lengths(*state, 0, 0, 5); }

/* The body is L bytes of token answer and 5 spaces, so either header alone
 * would frame a valid token answer: only refusing the conflict refuses it.
 * Both orders. */
static void content_length_conflicting_both_readings_valid(void **state) {
    expect_conflicting_lengths(*state, 5, 0, 5);
}
static void content_length_conflicting_longer_first(void **state) { expect_conflicting_lengths(*state, 5, 5, 0); }

/* ------------------------------------------------------- transfer encodings */

static void chunked_body_ok(void **state) { expect_token(*state, "chunked"); }
static void gzip_body_ok(void **state) { expect_token(*state, "gzip"); }

/* 16 MiB of JSON whitespace, ~16 KiB on the wire: decoded > cap. */
static void gzip_bomb(void **state) { expect_too_large(*state, "gzip-bomb", "16777216"); }

/* libcurl 7.88 reports broken chunk framing as CURLE_RECV_ERROR, which the
 * library maps to LF_E_NETWORK (documented in README.md). */
static void chunk_bad_hex(void **state) { expect_network_error(*state, "chunk-badhex"); }
static void chunk_size_overflow(void **state) { expect_network_error(*state, "chunk-overflow"); }

/* --------------------------------------------------------------- redirects */

/* A 3xx answer with `location`: not followed, LF_E_HTTP with that status. */
static void expect_redirect_refused(hs_case *c, int code, const char *location) {
    char status[8];
    snprintf(status, sizeof status, "%d", code);
    expect_failure(c, LF_E_HTTP, 0, "redirect", "--status", status, "--location", location, NULL);
    assert_int_equal(c->err.http_status, code);
}

static void redirect_to_other_server(hs_case *c, int code) {
    /* B is a perfectly good token endpoint: following the redirect would succeed. */
    assert_int_equal(hs_start(c, 1, "server", "ok", "--body", token_body(c), NULL), 0);
    char location[128];
    snprintf(location, sizeof location, "https://127.0.0.1:%d" HS_TOKEN_PATH, c->servers[1].port);
    expect_redirect_refused(c, code, location);
    hs_stop(&c->servers[1]);
    hs_record b;
    assert_int_equal(hs_read_record(&c->servers[1], &b), 0);
    if (b.conns != 0 || b.received != 0) {
        print_error("the redirect target saw %d connections and %zu bytes\n", b.conns, b.received);
        hs_record_free(&b);
        fail();
    }
    hs_record_free(&b);
}

static void redirect_301_other_host(void **state) { redirect_to_other_server(*state, 301); }
static void redirect_302_other_host(void **state) { redirect_to_other_server(*state, 302); }
static void redirect_303_other_host(void **state) { redirect_to_other_server(*state, 303); }
static void redirect_307_other_host(void **state) { redirect_to_other_server(*state, 307); }
static void redirect_308_other_host(void **state) { redirect_to_other_server(*state, 308); }

static void redirect_307_same_host_other_path(void **state) {
    expect_redirect_refused(*state, 307, "https://127.0.0.1:{port}/api/access_token");
}

static void redirect_302_same_host_relative(void **state) { expect_redirect_refused(*state, 302, "/elsewhere"); }

static void redirect_308_same_host_http_scheme(void **state) {
    expect_redirect_refused(*state, 308, "http://127.0.0.1:{port}/oauth/access_token");
}

/* ---------------------------------------------------------------- SIGPIPE */

#define BIG_QUERY_BYTES (1024 * 1024)
#define RESET_AFTER_BYTES "65536"

/* SIGPIPE at its default disposition (kills the process) and not blocked. */
static void sigpipe_default(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    assert_int_equal(sigaction(SIGPIPE, &sa, NULL), 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    assert_int_equal(sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
}

/* Still default and unblocked, and nothing pending: the call neither
 * changed the process's disposition nor hid a SIGPIPE. */
static void assert_sigpipe_still_default(void) {
    struct sigaction sa;
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    sigset_t blocked, pending;
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &blocked), 0);
    assert_int_equal(sigpending(&pending), 0);
    if (sa.sa_handler != SIG_DFL || sigismember(&blocked, SIGPIPE) || sigismember(&pending, SIGPIPE)) {
        print_error("SIGPIPE: default %d, blocked %d, pending %d\n", sa.sa_handler == SIG_DFL,
                    sigismember(&blocked, SIGPIPE), sigismember(&pending, SIGPIPE));
        fail();
    }
}

/* Control: a plain write() loop (no MSG_NOSIGNAL) to the same kind of server
 * (plain TCP here) dies of SIGPIPE in a child process, so the server does
 * put a sender onto a reset connection. Bounded: 1024 writes of 64 KiB and
 * an alarm. */
static void write_to_reset_socket_raises_sigpipe(void **state) {
    hs_case *c = *state;
    assert_int_equal(
        hs_start(c, 0, NULL, "rst-while-receiving", "--size", RESET_AFTER_BYTES, "--interval", "0.3", NULL), 0);
    sigpipe_default();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short)c->servers[0].port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) _exit(3);
        static char block[65536];
        memset(block, 'q', sizeof block);
        for (int i = 0; i < 1024; i++) {
            if (write(fd, block, sizeof block) < 0 && errno != ECONNRESET && errno != EPIPE) _exit(4);
        }
        _exit(0); /* never reached when SIGPIPE does its job */
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    hs_stop(&c->servers[0]);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGPIPE) {
        print_error("the writer was not killed by SIGPIPE: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        fail();
    }
}

/* The API endpoint reads 64 KiB of a ~1 MiB GraphQL request, lets the
 * client block in send, and resets; the test process keeps SIGPIPE at its
 * default disposition. The process survives, the call returns
 * LF_E_NETWORK and no response, and the server got only part of the
 * request. (libcurl 7.88 notices the reset on a read first; closing the
 * connection then writes the TLS close_notify to the reset socket: under
 * strace that sendto(..., MSG_NOSIGNAL) returns EPIPE. Without
 * MSG_NOSIGNAL it would raise SIGPIPE and end this process.) */
static void graphql_reset_while_sending_no_sigpipe(void **state) {
    hs_case *c = *state;
    assert_int_equal(
        hs_start(c, 0, "server", "rst-while-receiving", "--size", RESET_AFTER_BYTES, "--interval", "0.3", NULL), 0);
    char api[128];
    snprintf(api, sizeof api, "https://127.0.0.1:%d/api/v2", c->servers[0].port);
    static const char *const redirects[] = {"https://app.example.test/oauth/callback"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = c->client_id;
    cfg.client_secret = c->secret;
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 1;
    cfg.api_url = api;
    cfg.timeout_ms = c->timeout_ms;
    cfg.connect_timeout_ms = c->connect_timeout_ms;
    cfg.ca_file = hs_ca_file();
    lf_error err;
    assert_int_equal(lf_auth_new(&cfg, &c->auth, &err), LF_OK);

    static const char head[] = "query Big { account { id } } # ";
    char *query = malloc(BIG_QUERY_BYTES + 1);
    assert_non_null(query);
    memcpy(query, head, sizeof head - 1);
    memset(query + sizeof head - 1, 'p', BIG_QUERY_BYTES - (sizeof head - 1));
    query[BIG_QUERY_BYTES] = '\0';

    sigpipe_default();
    lf_response *resp = NULL;
    lf_garbage_fill(&c->err, sizeof c->err);
    c->status = lf_graphql(c->auth, c->token, query, NULL, &resp, &c->err);
    free(query);
    assert_sigpipe_still_default();
    print_message("      %s: %s\n", lf_status_name(c->status), c->err.message);
    lf_response_free(resp);
    hs_client_free(c);
    hs_stop(&c->servers[0]);

    hs_assert_status(c, LF_E_NETWORK);
    assert_null(resp);
    hs_assert_err_clean(c, NULL);
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    print_message("      the server received %zu of the request's > %d bytes\n", r.received, BIG_QUERY_BYTES);
    int partial = r.conns == 1 && r.requests == 0 && r.received > 0 && r.received < BIG_QUERY_BYTES;
    hs_record_free(&r);
    assert_true(partial);
}

/* --------------------------------------------------------------------- main */

#define T(fn) HS_TEST(fn)

int main(void) {
    static const lf_allocator meter = {meter_alloc, meter_realloc, meter_free, NULL};
    if (lf_global_init(&meter, LF_INIT_HOOK_DEPENDENCIES) != LF_OK) {
        fprintf(stderr, "lf_global_init with the counting allocator failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        T(slowloris_headers),
        T(stall_after_headers),
        T(stall_no_response),
        T(trickle_body),
        T(reset_mid_body),
        T(close_before_response),
        T(fin_mid_body),
        T(body_forever_over_cap),
        T(content_length_over_cap),
        T(headers_forever),
        T(header_line_huge),
        T(content_length_shorter_than_body),
        T(content_length_conflicting),
        T(content_length_conflicting_both_readings_valid),
        T(content_length_conflicting_longer_first),
        T(chunked_body_ok),
        T(gzip_body_ok),
        T(gzip_bomb),
        T(chunk_bad_hex),
        T(chunk_size_overflow),
        T(redirect_301_other_host),
        T(redirect_302_other_host),
        T(redirect_303_other_host),
        T(redirect_307_other_host),
        T(redirect_308_other_host),
        T(redirect_307_same_host_other_path),
        T(redirect_302_same_host_relative),
        T(redirect_308_same_host_http_scheme),
        T(write_to_reset_socket_raises_sigpipe),
        T(graphql_reset_while_sending_no_sigpipe),
    };
    int rc = hs_run_suite("hostile_transport", tests);
    lf_global_cleanup();
    return rc;
}
