/* A counting, fault-injecting lf_allocator for the allocator suites.
 *
 * Every block carries a header (size + links) so that the test can count live
 * blocks, scan every block at release time for secret canaries (the library
 * promises to wipe blocks that held the client secret or a token before
 * releasing them), and scan the live blocks (to prove the secret really was
 * held in routed memory, so the release-time check is not vacuous). */
#ifndef LF_COUNTING_ALLOC_H
#define LF_COUNTING_ALLOC_H

#include <stddef.h>

#include <lightfunnels/auth.h>

/* The allocator to pass to lf_global_init(). */
const lf_allocator *ca_allocator(void);

/* Canaries looked for in every block at release (free, and the old block of a
 * moving realloc). NULL-terminated; the strings must outlive their use;
 * NULL clears. */
void ca_set_canaries(const char *const *canaries);
/* Number of released blocks that still held a canary, and a description of
 * the first one. */
size_t ca_canary_hits(void);
const char *ca_first_hit(void);
/* 1 when a live block currently contains `needle`. */
int ca_live_contains(const char *needle);

size_t ca_live(void);  /* blocks allocated and not yet released */
size_t ca_total(void); /* successful allocations since start (alloc + realloc) */

/* Fault injection: the n-th allocation request from now (1-based) fails;
 * with `persistent`, every later one fails too. n = 0 disarms. */
void ca_fail_at(long n, int persistent);
/* Allocation requests (alloc/realloc with a size) seen since the last
 * ca_fail_at() call. */
long ca_requests_since_arm(void);
/* Requests that were failed since the last ca_fail_at() call. */
long ca_failures_since_arm(void);

#endif
