/* Helpers of the integration suites on top of the shared test-support layer
 * (tests/support/lf_test.h): one test PKI per executable, handle
 * construction against the loopback test server, canary checks. */
#ifndef LF_IT_COMMON_H
#define LF_IT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <lightfunnels/auth.h>

#include "lf_test.h"

extern ts_pki *it_pki;

/* cmocka group setup/teardown: create/free it_pki. */
int it_group_setup(void **state);
int it_group_teardown(void **state);

#define IT_REDIRECT_URI "https://app.example.test/lf/callback"

/* Unique high-entropy canaries for one test. The secret contains '=', '/',
 * '!' and ':' so Basic encoding mistakes show. */
typedef struct it_creds {
    char client_id[40];
    char secret[128];
    char code[56];
    char token[64];
} it_creds;
void it_creds_make(it_creds *c);

/* A config pointing token_url/api_url at `s` (either may be NULL: then the
 * field is left NULL, which only tests that send nothing may do). */
void it_config(lf_auth_config *cfg, const it_creds *c, const char *token_url, const char *api_url, lf_client_auth mode);
/* lf_auth_new() that must succeed. */
lf_auth *it_auth(const lf_auth_config *cfg);
/* it_config() with nothing changed, then it_auth(). */
lf_auth *it_auth_at(const it_creds *c, const char *token_url, const char *api_url, lf_client_auth mode);

/* A per-test fixture of two loopback HTTPS servers (good certificate):
 * `srv` answers the calls under test, `other` is a redirect target that must
 * never be reached. `a` is left NULL for the suite's setup to make (it knows
 * the paths and limits); it_two_servers_free() frees it. */
typedef struct it_two_servers {
    ts_server *srv;
    ts_server *other;
    it_creds c;
    lf_auth *a;
} it_two_servers;
/* test_calloc()s the fixture, makes fresh creds, starts both servers. */
it_two_servers *it_two_servers_new(void);
void it_two_servers_free(it_two_servers *f);

/* The fixture of the transport suites: a server and a raw listener (either
 * may stay NULL), the test's one handle and fresh creds. it_fixture_setup /
 * it_fixture_teardown are CMocka setup/teardown: teardown frees whatever the
 * test made. */
typedef struct it_fixture {
    ts_server *srv;
    ts_raw *raw;
    lf_auth *a;
    it_creds c;
} it_fixture;
int it_fixture_setup(void **state);
int it_fixture_teardown(void **state);
/* A test of a suite built on it_fixture. */
#define IT_FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, it_fixture_setup, it_fixture_teardown)

/* Holds every reply of `s` forever: the server reads each request and never
 * answers (until ts_server_stop). */
void it_never_answer(ts_server *s);

/* Per-call options: timeout_ms 0 is the handle's timeout, cancel NULL none. */
lf_call_options it_call_options(long timeout_ms, const int *cancel);

/* Fails the test when err->message or err->key is not clean text or holds
 * an 8-byte run of any of the NULL-terminated canaries (lf_test.h). */
void it_assert_no_canary(const lf_error *err, const char *const *canaries, const char *where);
/* Same for the creds (secret, code, token). */
void it_assert_clean(const lf_error *err, const it_creds *c, const char *where);

/* Fails with a readable message, naming `what`, when status differs (and,
 * for an expected failure, when err->status differs from it). */
void it_expect_status(lf_status got, lf_status want, const lf_error *err, const char *what);
/* The same, naming the source line (lf_test.h). */
#define IT_ASSERT_STATUS(got, want, errp) lf_assert_status_err(got, want, errp)

/* Fails, naming `what` and the time taken, unless less than limit_ms has
 * passed since t0 (a ts_now_ms() reading). */
void it_assert_faster_than(long long t0, long long limit_ms, const char *what);

/* Slow environment (valgrind twin): scale loop counts down. */
int it_slow(void);

#endif
