/* Shared helpers for the integration suites: one test PKI per executable,
 * handle construction against the loopback test server, canary checks. */
#ifndef LF_IT_COMMON_H
#define LF_IT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <lightfunnels/auth.h>

#include "test_server.h"

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
void it_config(lf_auth_config *cfg, const it_creds *c, const char *token_url, const char *api_url,
               lf_client_auth mode);
/* lf_auth_new() that must succeed. */
lf_auth *it_auth(const lf_auth_config *cfg);

/* Fails the test when err->message or err->key contains any of the
 * NULL-terminated canaries. */
void it_assert_no_canary(const lf_error *err, const char *const *canaries, const char *where);
/* Same for the creds (secret, code, token). */
void it_assert_clean(const lf_error *err, const it_creds *c, const char *where);

/* Fails with a readable message when status differs. */
void it_check_status(lf_status got, lf_status want, const lf_error *err, const char *file, int line);
#define IT_ASSERT_STATUS(got, want, errp) it_check_status((got), (want), (errp), __FILE__, __LINE__)

/* Slow environment (valgrind twin): scale loop counts down. */
int it_slow(void);

#endif
