#include "counting_alloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_server.h"

#define CA_MAGIC 0x4c46414c4c4f4321ull

typedef struct hdr {
    struct hdr *prev, *next;
    size_t size;
    unsigned long long magic;
} hdr; /* 32 bytes: keeps max_align_t alignment for the payload */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static hdr head = {&head, &head, 0, 0};
static size_t live, total, hits;
static char first_hit[256];
static const char *const *canaries;
static long fail_at, requests, failures;
static int fail_persistent;

/* Called with mu held. 1 when this request must fail. */
static int should_fail(void) {
    requests++;
    if (fail_at > 0 && (requests == fail_at || (fail_persistent && requests > fail_at))) {
        failures++;
        return 1;
    }
    return 0;
}

static void scan(const hdr *h, const char *why) {
    if (!canaries) return;
    for (size_t i = 0; canaries[i]; i++) {
        if (ts_mem_contains(h + 1, h->size, canaries[i])) {
            if (hits++ == 0)
                snprintf(first_hit, sizeof first_hit, "canary #%zu (%.8s...) in a %zu-byte block at %s", i, canaries[i],
                         h->size, why);
        }
    }
}

static void link_block(hdr *h) {
    h->next = head.next;
    h->prev = &head;
    head.next->prev = h;
    head.next = h;
}

static void unlink_block(hdr *h) {
    h->prev->next = h->next;
    h->next->prev = h->prev;
}

static void *ca_alloc_locked(size_t n) {
    if (should_fail()) return NULL;
    hdr *h = malloc(sizeof(hdr) + (n ? n : 1));
    if (!h) return NULL;
    h->size = n;
    h->magic = CA_MAGIC;
    link_block(h);
    live++;
    total++;
    return h + 1;
}

static void ca_free_locked(void *p, const char *why) {
    hdr *h = (hdr *)p - 1;
    if (h->magic != CA_MAGIC) {
        fprintf(stderr, "counting allocator: double free, or free of a block it did not allocate (%p)\n", p);
        abort();
    }
    scan(h, why);
    unlink_block(h);
    h->magic = 0;
    live--;
    free(h);
}

static void *a_alloc(void *ctx, size_t n) {
    (void)ctx;
    pthread_mutex_lock(&mu);
    void *p = ca_alloc_locked(n);
    pthread_mutex_unlock(&mu);
    return p;
}

static void a_free(void *ctx, void *p) {
    (void)ctx;
    if (!p) return;
    pthread_mutex_lock(&mu);
    ca_free_locked(p, "free");
    pthread_mutex_unlock(&mu);
}

/* Always moves the block, so that a library which keeps secrets in
 * reallocated buffers leaves them in a released block, where we look. */
static void *a_realloc(void *ctx, void *p, size_t n) {
    (void)ctx;
    pthread_mutex_lock(&mu);
    void *q = ca_alloc_locked(n);
    if (q && p) {
        hdr *old = (hdr *)p - 1;
        memcpy(q, p, old->size < n ? old->size : n);
        ca_free_locked(p, "realloc (old block)");
    }
    pthread_mutex_unlock(&mu);
    return q;
}

static const lf_allocator the_allocator = {a_alloc, a_realloc, a_free, (void *)&the_allocator};

const lf_allocator *ca_allocator(void) { return &the_allocator; }

void ca_set_canaries(const char *const *c) {
    pthread_mutex_lock(&mu);
    canaries = c;
    pthread_mutex_unlock(&mu);
}

size_t ca_canary_hits(void) {
    pthread_mutex_lock(&mu);
    size_t n = hits;
    pthread_mutex_unlock(&mu);
    return n;
}

const char *ca_first_hit(void) { return first_hit; }

int ca_live_contains(const char *needle) {
    int found = 0;
    pthread_mutex_lock(&mu);
    for (hdr *h = head.next; h != &head && !found; h = h->next) found = ts_mem_contains(h + 1, h->size, needle);
    pthread_mutex_unlock(&mu);
    return found;
}

size_t ca_live(void) {
    pthread_mutex_lock(&mu);
    size_t n = live;
    pthread_mutex_unlock(&mu);
    return n;
}

size_t ca_total(void) {
    pthread_mutex_lock(&mu);
    size_t n = total;
    pthread_mutex_unlock(&mu);
    return n;
}

void ca_fail_at(long n, int persistent) {
    pthread_mutex_lock(&mu);
    fail_at = n;
    fail_persistent = persistent;
    requests = 0;
    failures = 0;
    pthread_mutex_unlock(&mu);
}

long ca_requests_since_arm(void) {
    pthread_mutex_lock(&mu);
    long n = requests;
    pthread_mutex_unlock(&mu);
    return n;
}

long ca_failures_since_arm(void) {
    pthread_mutex_lock(&mu);
    long n = failures;
    pthread_mutex_unlock(&mu);
    return n;
}
