/* Private C helpers for the Go binding. Included by every cgo preamble of
 * package lfauth; not part of the library's API. */
#ifndef LFAUTH_GO_H
#define LFAUTH_GO_H

#include <stdlib.h>
#include <string.h>
#include <lightfunnels/auth.h>

#if !defined(LF_AUTH_VERSION_MAJOR) || LF_AUTH_VERSION_MAJOR != 1
#error "lfauth needs lightfunnels-auth 1.x (LF_AUTH_VERSION_MAJOR == 1)"
#endif
/* lf_call_options.code_sent and lf_auth_config.stall_timeout_ms came in 1.1. */
#if LF_AUTH_VERSION_MINOR < 1
#error "lfauth needs lightfunnels-auth 1.1 or newer"
#endif

/* Sets a cancellation flag the library reads from another thread. */
static inline void lf_go_cancel(int *p) { __atomic_store_n(p, 1, __ATOMIC_SEQ_CST); }

/* Wipes and frees a C string made by C.CString (secrets, codes, tokens). The
 * volatile writes cannot be removed by the compiler even though free follows. */
static inline void lf_go_free_secret(char *p) {
    if (p != NULL) {
        volatile char *v = p;
        size_t n = strlen(p);
        while (n-- > 0) *v++ = 0;
        free(p);
    }
}

#endif
