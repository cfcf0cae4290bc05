/* Support code for the hostile-server suite on top of the shared layer
 * (tests/support/lf_test.h): fault servers (ts_raw_start_fault, in this
 * process) started by mode name, reading what they recorded, the per-case
 * client and the secret checks.
 *
 * Every suite uses it the same way:
 *   main: hs_suite_setup() (temporary directory + the test PKI), run the
 *         CMocka group, hs_suite_teardown() (removes both): all three are
 *         hs_run_suite(name, tests);
 *   each test: hs_case_setup/hs_case_teardown as CMocka setup/teardown, so
 *         servers are stopped and the client freed on every path, also
 *         after a failed assertion. */
#ifndef LF_HOSTILE_SUPPORT_H
#define LF_HOSTILE_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include <lightfunnels/auth.h>

#include "lf_test.h"

#define HS_MAX_SERVERS 4
#define HS_CANARY_SIZE 96

/* Varargs functions whose argument list ends with NULL. */
#if defined(__GNUC__)
#define HS_SENTINEL __attribute__((sentinel))
#else
#define HS_SENTINEL
#endif

/* The token endpoint's path on every hostile server. */
#define HS_TOKEN_PATH "/oauth/access_token"
/* "T", the usual time bound of a case: the whole-request timeout + 2 s. */
#define HS_TIME_BOUND_S(c) ((double)(c)->timeout_ms / 1000.0 + 2.0)

/* One fault server (ts_raw). */
typedef struct hs_server {
    ts_raw *raw; /* NULL when not running */
    int port;
    char *record; /* what it recorded, kept when it stops */
    size_t record_len;
    char mode[32]; /* for failure messages */
} hs_server;

/* What a server recorded (the record format: ts_raw_record in test_server.h). */
typedef struct hs_record {
    int conns;        /* CONN lines */
    int ends;         /* END lines */
    int tls_failures; /* TLSFAIL lines */
    int requests;     /* complete HTTP requests (REQ) */
    int posts;        /* requests starting with "POST " */
    int raw_chunks;   /* RAW blobs (bytes that were not a request) */
    size_t received;  /* bytes in REQ + RAW blobs */
    long long sent;   /* sum of SENT lines (streaming modes) */
    char *data;       /* the whole file, NUL-terminated */
    size_t len;
} hs_record;

/* One test case: unique canaries, a client, the call's result. */
typedef struct hs_case {
    char client_id[HS_CANARY_SIZE];
    char secret[HS_CANARY_SIZE];
    char code[HS_CANARY_SIZE];
    char token[HS_CANARY_SIZE];     /* a token the server may send */
    char basic[2 * HS_CANARY_SIZE]; /* base64(client_id ":" secret) */
    char url[256];
    lf_auth *auth;
    lf_token *tok;
    lf_error err;
    lf_status status;
    double elapsed_s;
    /* Client settings, filled with the suite defaults by hs_case_setup and
     * changeable before hs_client(). */
    long timeout_ms;
    long connect_timeout_ms;
    size_t max_response_bytes;
    lf_client_auth client_auth;
    const char *ca_file; /* NULL: DIR/ca.pem, the test CA */
    int system_store;    /* 1: ca_file NULL in the config (system trust store) */
    hs_server servers[HS_MAX_SERVERS];
} hs_case;

/* Suite-wide: the test PKI and a temporary directory for files the cases
 * write. Returns 0 on success. */
int hs_suite_setup(void);
void hs_suite_teardown(void);
const char *hs_dir(void);
/* PEM file of the test CA (signed the "server", "expired" and "wronghost"
 * certificates). */
const char *hs_ca_file(void);
/* Path of DIR/name in a static rotating buffer (8 slots). */
const char *hs_path(const char *name);

/* CMocka setup/teardown: *state becomes a fresh hs_case. */
int hs_case_setup(void **state);
int hs_case_teardown(void **state);

/* Writes len bytes to DIR/name (a per-case unique name is made from `name`
 * and a counter); returns the path (static rotating buffer). */
const char *hs_write_file(const char *name, const void *data, size_t len);

/* Starts a fault server in `mode` (the list: ts_fault_config in
 * test_server.h) on server slot `slot` of the case. `tls`: the certificate,
 * "server" (CA-signed, SAN IP:127.0.0.1 DNS:localhost), "expired",
 * "wronghost" (SAN DNS:other.test only), "selfsigned", or NULL for plain
 * TCP. Options follow as name/value pairs, NULL-terminated: --status N,
 * --content-type T, --body TEXT, --header "Name: value", --location URL,
 * --code CODE, --token TOKEN, --auto-accept STYLE, --size N,
 * --interval SECONDS, --rate BYTES_PER_S, --tls-version 1.0|1.1,
 * --content-lengths "L1,L2". Returns 0 on success. */
HS_SENTINEL int hs_start(hs_case *c, int slot, const char *tls, const char *mode, ...);
/* The same with the extra arguments as a va_list (for varargs helpers). */
int hs_startv(hs_case *c, int slot, const char *tls, const char *mode, va_list ap);

/* {"access_token":"<c->token>"<more>} in a static rotating buffer (4
 * slots); `more` is "" or further members, starting with a comma. */
const char *hs_token_body(const hs_case *c, const char *more);

/* Waits (bounded, ~3 s) until every accepted connection has finished, keeps
 * the record and stops the server. Idempotent. */
void hs_stop(hs_server *s);

/* Reads the record of a stopped server. Returns 0 on success. */
int hs_read_record(const hs_server *s, hs_record *r);
void hs_record_free(hs_record *r);
/* Number of REQ/RAW blobs containing needle (binary-safe). */
int hs_record_blobs_with(const hs_record *r, const char *needle);
/* Number of REQ/RAW blobs containing both needles. */
int hs_record_blobs_with_both(const hs_record *r, const char *needle, const char *other);
/* 1 when needle occurs anywhere in the record file. */
int hs_record_has(const hs_record *r, const char *needle);

/* Creates the case's client for https://127.0.0.1:<port><path> (or http://
 * when scheme is "http"). Returns the lf_auth_new status. */
lf_status hs_client(hs_case *c, const char *scheme, int port, const char *path);

/* lf_exchange_code(c->auth, c->code, ...) timed; fills status/elapsed/err/tok. */
lf_status hs_exchange(hs_case *c);

/* Frees the client (closing its connections); the token (a plain value)
 * stays until the case teardown. */
void hs_client_free(hs_case *c);

/* One whole call against server `slot`: hs_client (https, HS_TOKEN_PATH,
 * asserted LF_OK), hs_exchange, hs_client_free (so the server can finish),
 * hs_stop. */
void hs_run(hs_case *c, int slot);

/* Asserts (CMocka) that server `slot` saw `requests` requests, all of them
 * POSTs, and that `with_code` of them carried the case's code. */
void hs_assert_requests(const hs_case *c, int slot, int requests, int with_code);

/* Asserts that the call returned LF_OK with the case token. */
void hs_assert_got_token(const hs_case *c);

/* Starts `mode` on slot 0 answering with `body`, runs
 * the call and asserts LF_OK with the case token, within HS_TIME_BOUND_S,
 * and exactly one request, a POST carrying the code. */
void hs_expect_token(hs_case *c, const char *mode, const char *body);

/* Asserts (CMocka) that err.key and err.message contain no 8-byte window of
 * the client secret, the code, the Basic credentials or the case token, nor
 * of any of the extra NULL-terminated strings (a string shorter than 8 bytes:
 * not whole); and that both are valid UTF-8 without control characters. */
void hs_assert_err_clean(const hs_case *c, ...);

/* Fills buf with prefix + 43 base64url characters from lf_state_generate. */
void hs_canary(char *buf, size_t size, const char *prefix);

/* Runs `openssl s_client` against server `slot` of the case (127.0.0.1,
 * the test CA, IP verified, @SECLEVEL=0 so legacy versions may be offered)
 * with the extra NULL-terminated options (e.g. "-tls1_1"), sends `request`
 * and waits (bounded, 10 s) for the server to close. Its stdout and stderr
 * go to `out` (NUL-terminated, truncated to out_size). Returns its exit
 * status, or -1 when it could not run or was killed. */
HS_SENTINEL int hs_openssl_client(const hs_case *c, int slot, const char *request, char *out, size_t out_size, ...);

/* Peak-memory meter: VmRSS now and VmHWM (peak) in KiB, from /proc/self/status;
 * hs_reset_peak() resets VmHWM (writes 5 to /proc/self/clear_refs), returning
 * 0 when the kernel allowed it. */
long hs_vm_kib(const char *field);
int hs_reset_peak(void);

/* The status assertion of lf_test.h on the case's result, naming the mode of
 * the slot-0 server when it fails. */
#define hs_assert_status(c, expected)                                                 \
    do {                                                                              \
        const hs_case *hs_c_ = (c);                                                   \
        lf_status hs_e_ = (expected);                                                 \
        if (hs_c_->status != hs_e_ || (hs_e_ != LF_OK && hs_c_->err.status != hs_e_)) \
            print_error("server mode \"%s\": ", hs_c_->servers[0].mode);              \
        lf_assert_status_err(hs_c_->status, hs_e_, &hs_c_->err);                      \
    } while (0)

#define hs_assert_elapsed_below(c, seconds)                                                     \
    do {                                                                                        \
        if ((c)->elapsed_s > (seconds)) {                                                       \
            print_error("call took %.2f s, bound %.2f s\n", (c)->elapsed_s, (double)(seconds)); \
            fail();                                                                             \
        }                                                                                       \
    } while (0)

/* CMocka test entry for a case with the hostile setup/teardown. */
#define HS_TEST(fn) cmocka_unit_test_setup_teardown(fn, hs_case_setup, hs_case_teardown)

/* main's body: hs_suite_setup, the CMocka group `tests` (an array), then
 * hs_suite_teardown on every path. Evaluates to the exit code. */
#define hs_run_suite(name, tests) \
    hs_suite_end(hs_suite_setup() == 0 ? cmocka_run_group_tests_name(name, tests, NULL, NULL) : 1)
/* hs_suite_teardown(), then returns rc. */
int hs_suite_end(int rc);

#endif
