/* Hostile-server suite, transport: slow, stalled, reset, oversized, encoded
 * and redirecting token endpoints (RELIABILITY.md §3 A 1-13, README.md).
 *
 * The library's allocations (and libcurl's, through
 * LF_INIT_HOOK_DEPENDENCIES) go through a counting allocator so the
 * oversized-body cases can bound the peak heap, not only the RSS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define TIME_BOUND_S(c) ((double)(c)->timeout_ms / 1000.0 + 2.0)
#define TOKEN_PATH "/oauth/access_token"

static const char *token_body(const hs_case *c) {
    static char body[256];
    snprintf(body, sizeof body, "{\"access_token\":\"%s\",\"token_type\":\"bearer\"}", c->token);
    return hs_write_file("body", body, strlen(body));
}

/* One request, one POST, carrying the code: never retried. */
static void assert_single_post(const hs_case *c, int slot) {
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[slot], &r), 0);
    if (r.posts != 1 || r.requests != 1) {
        print_error("server saw %d requests / %d POSTs, expected exactly 1\n", r.requests, r.posts);
        hs_record_free(&r);
        fail();
    }
    assert_int_equal(hs_record_blobs_with(&r, c->code), 1);
    hs_record_free(&r);
}

static void run(hs_case *c, int slot) {
    assert_int_equal(hs_client(c, "https", c->servers[slot].port, TOKEN_PATH), LF_OK);
    hs_exchange(c);
    hs_client_free(c); /* closes the connections, so the server can finish */
    hs_stop(&c->servers[slot]);
}

/* ---------------------------------------------------------------- timeouts */

static void slowloris_headers(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "slowloris", "--interval", "0.5", NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_TIMEOUT);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    assert_true(c->elapsed_s >= 2.5); /* the whole-request timeout, not something earlier */
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

static void stall_after_headers(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "stall-headers", NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_TIMEOUT);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

static void stall_no_response(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "stall", NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_TIMEOUT);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

/* 2 KiB/s of body, forever: under the cap for the whole timeout, so only the
 * whole-request timeout can end it. */
static void trickle_body(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "trickle", "--rate", "2048", NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_TIMEOUT);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    assert_true(c->elapsed_s >= 2.5);
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

/* ------------------------------------------------------- resets and closes */

static void reset_mid_body(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "rst-mid-body", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_NETWORK);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

static void close_before_response(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "close-before-response", NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_NETWORK);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

static void fin_mid_body(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "fin-mid-body", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_NETWORK);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

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

static void assert_memory_bounded(const mem_probe *m, size_t cap) {
    long rss_growth = m->hwm_after_kib - m->rss_before_kib;
    print_message("      peak heap growth %zu KiB (cap %zu KiB), peak RSS growth %ld KiB%s\n",
                  m->heap_peak_growth / 1024, cap / 1024, rss_growth,
                  m->hwm_reset ? "" : " (VmHWM could not be reset: growth of the process peak)");
    assert_true(m->rss_before_kib > 0 && m->hwm_after_kib > 0);
    if (rss_growth >= RSS_BOUND_KIB) {
        print_error("peak RSS grew by %ld KiB (bound %ld KiB)\n", rss_growth, RSS_BOUND_KIB);
        fail();
    }
    /* RELIABILITY.md section 4: peak heap <= cap + 256 KiB (the body buffer
     * plus libcurl's transfer buffers and connection state). Measured: 122 to
     * 257 KiB for a 64 KiB cap, identical from run to run. */
    if (m->heap_peak_growth > cap + 256 * 1024) {
        print_error("peak heap grew by %zu bytes (bound cap + 256 KiB)\n", m->heap_peak_growth);
        fail();
    }
}

static void body_forever_over_cap(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "body-forever", "--size", "67108864", NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    mem_probe m;
    mem_begin(&m);
    hs_exchange(c);
    mem_end(&m);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_RESPONSE_TOO_LARGE);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_memory_bounded(&m, c->max_response_bytes);
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[0], &r), 0);
    print_message("      server sent %lld body bytes before the client left\n", r.sent);
    assert_true(r.sent < 32LL * 1024 * 1024); /* the client stopped reading long before 64 MiB */
    hs_record_free(&r);
    assert_single_post(c, 0);
}

static void content_length_over_cap(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "big", "--size", "1048576", NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    mem_probe m;
    mem_begin(&m);
    hs_exchange(c);
    mem_end(&m);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_RESPONSE_TOO_LARGE);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_memory_bounded(&m, c->max_response_bytes);
    assert_single_post(c, 0);
}

/* Endless header lines: the library's 64 KiB header cap. */
static void headers_forever(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "headers-forever", "--size", "67108864", NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    mem_probe m;
    mem_begin(&m);
    hs_exchange(c);
    mem_end(&m);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_RESPONSE_TOO_LARGE);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_memory_bounded(&m, c->max_response_bytes);
    assert_single_post(c, 0);
}

/* One header line of 1 MiB, never terminated: headers over 64 KiB are
 * LF_E_RESPONSE_TOO_LARGE by the header contract, whoever notices first. */
static void header_line_huge(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "header-line-huge", "--size", "1048576", NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    mem_probe m;
    mem_begin(&m);
    hs_exchange(c);
    mem_end(&m);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_RESPONSE_TOO_LARGE);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_memory_bounded(&m, c->max_response_bytes);
    assert_single_post(c, 0);
}

/* Content-Length shorter than the body: the truncated JSON is refused, no
 * partial token is handed out. */
static void content_length_shorter_than_body(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "cl-shorter", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_PROTOCOL);
    assert_null(c->tok);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

/* ------------------------------------------------------- transfer encodings */

static void assert_got_token(const hs_case *c) {
    hs_assert_status(c, LF_OK);
    assert_non_null(c->tok);
    assert_string_equal(lf_token_value(c->tok), c->token);
}

static void chunked_body_ok(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "chunked", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    assert_got_token(c);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    assert_single_post(c, 0);
}

static void gzip_body_ok(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "gzip", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    assert_got_token(c);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    assert_single_post(c, 0);
}

static void gzip_bomb(void **state) {
    hs_case *c = *state;
    /* 16 MiB of JSON whitespace, ~16 KiB on the wire: decoded > cap. */
    assert_int_equal(hs_start(c, 0, "server", "gzip-bomb", "--size", "16777216", NULL), 0);
    assert_int_equal(hs_client(c, "https", c->servers[0].port, TOKEN_PATH), LF_OK);
    mem_probe m;
    mem_begin(&m);
    hs_exchange(c);
    mem_end(&m);
    hs_client_free(c);
    hs_stop(&c->servers[0]);
    hs_assert_status(c, LF_E_RESPONSE_TOO_LARGE);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_memory_bounded(&m, c->max_response_bytes);
    assert_single_post(c, 0);
}

/* libcurl 7.88 reports broken chunk framing as CURLE_RECV_ERROR, which the
 * library maps to LF_E_NETWORK (documented in README.md). */
static void chunk_bad_hex(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "chunk-badhex", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_NETWORK);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

static void chunk_size_overflow(void **state) {
    hs_case *c = *state;
    assert_int_equal(hs_start(c, 0, "server", "chunk-overflow", "--body-file", token_body(c), NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_NETWORK);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

/* --------------------------------------------------------------- redirects */

static void redirect_to_other_server(hs_case *c, int code) {
    /* B is a perfectly good token endpoint: following the redirect would succeed. */
    assert_int_equal(hs_start(c, 1, "server", "ok", "--body-file", token_body(c), NULL), 0);
    char location[128], status[8];
    snprintf(location, sizeof location, "https://127.0.0.1:%d/oauth/access_token", c->servers[1].port);
    snprintf(status, sizeof status, "%d", code);
    assert_int_equal(hs_start(c, 0, "server", "redirect", "--status", status, "--location", location, NULL), 0);
    run(c, 0);
    hs_stop(&c->servers[1]);
    hs_assert_status(c, LF_E_HTTP);
    assert_int_equal(c->err.http_status, code);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
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

static void redirect_same_server(hs_case *c, int code, const char *location) {
    char status[8];
    snprintf(status, sizeof status, "%d", code);
    assert_int_equal(hs_start(c, 0, "server", "redirect", "--status", status, "--location", location, NULL), 0);
    run(c, 0);
    hs_assert_status(c, LF_E_HTTP);
    assert_int_equal(c->err.http_status, code);
    hs_assert_elapsed_below(c, TIME_BOUND_S(c));
    hs_assert_err_clean(c, NULL);
    assert_single_post(c, 0);
}

static void redirect_307_same_host_other_path(void **state) {
    redirect_same_server(*state, 307, "https://127.0.0.1:{port}/api/access_token");
}

static void redirect_302_same_host_relative(void **state) {
    redirect_same_server(*state, 302, "/elsewhere");
}

static void redirect_308_same_host_http_scheme(void **state) {
    redirect_same_server(*state, 308, "http://127.0.0.1:{port}/oauth/access_token");
}

/* --------------------------------------------------------------------- main */

#define T(fn) cmocka_unit_test_setup_teardown(fn, hs_case_setup, hs_case_teardown)

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
    };
    int rc = 1;
    if (hs_suite_setup() == 0) rc = cmocka_run_group_tests_name("hostile_transport", tests, NULL, NULL);
    hs_suite_teardown();
    lf_global_cleanup();
    return rc;
}
