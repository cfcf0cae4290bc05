#include "it_trace.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>

/* Every 8-byte window of every watched secret, in an open-addressing set:
 * a line is checked window by window in O(line length). */
#define WINDOW 8
#define SLOTS (1u << 18)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *set; /* 0 = empty slot */
static size_t set_used;
static unsigned long lines, hits;
static char first_hit[600];

int it_trace_enabled(void) {
    const char *v = getenv("LF_TEST_TRACE");
    return v && *v && strcmp(v, "0") != 0;
}

static uint64_t window_at(const char *p) {
    uint64_t w;
    memcpy(&w, p, WINDOW);
    return w | 1; /* never 0, the empty mark (the low bit is lost: harmless) */
}

static size_t slot_of(uint64_t w) { return (size_t)((w * 0x9E3779B97F4A7C15ull) >> 46) & (SLOTS - 1); }

static int contains(uint64_t w) {
    for (size_t i = slot_of(w), n = 0; n < SLOTS && set[i]; i = (i + 1) & (SLOTS - 1), n++)
        if (set[i] == w) return 1;
    return 0;
}

static void insert(uint64_t w) {
    if (set_used >= SLOTS / 2) fail_msg("it_trace: too many watched secrets");
    size_t i = slot_of(w);
    while (set[i] && set[i] != w) i = (i + 1) & (SLOTS - 1);
    if (!set[i]) {
        set[i] = w;
        set_used++;
    }
}

void it_trace_watch(const char *secret) {
    if (!it_trace_enabled() || !secret || strlen(secret) < WINDOW) return;
    pthread_mutex_lock(&mu);
    if (!set) set = calloc(SLOTS, sizeof *set);
    if (!set) fail_msg("it_trace: out of memory");
    for (size_t i = 0; i + WINDOW <= strlen(secret); i++) insert(window_at(secret + i));
    pthread_mutex_unlock(&mu);
}

void it_trace_watch_basic(const char *client_id, const char *secret) {
    if (!it_trace_enabled() || !client_id || !secret) return;
    char pair[1024], b64[1400];
    int n = snprintf(pair, sizeof pair, "%s:%s", client_id, secret);
    if (n < 0 || (size_t)n >= sizeof pair) return;
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair, n);
    it_trace_watch(b64);
}

static void on_line(void *user, int event, const char *line) {
    (void)user;
    size_t len = strlen(line);
    pthread_mutex_lock(&mu);
    lines++;
    int bad = len > 511 || strchr(line, '\n') || event < LF_TRACE_CONNECT || event > LF_TRACE_NO_RETRY;
    for (size_t i = 0; !bad && set && i + WINDOW <= len; i++) bad = contains(window_at(line + i));
    if (bad && hits++ == 0) snprintf(first_hit, sizeof first_hit, "event %d: %s", event, line);
    pthread_mutex_unlock(&mu);
}

void it_trace_install(lf_auth_config *cfg) {
    if (!it_trace_enabled()) return;
    cfg->trace = on_line;
    cfg->trace_user = NULL;
}

int it_trace_report(void) {
    if (!it_trace_enabled()) return 0;
    pthread_mutex_lock(&mu);
    unsigned long l = lines, h = hits;
    pthread_mutex_unlock(&mu);
    print_message("it_trace: %lu trace lines, %lu with a secret (or malformed)\n", l, h);
    if (h) print_error("FAIL: a trace line holds a secret or is malformed: %s\n", first_hit);
    if (!l) print_error("FAIL: tracing was on but no line was traced: the twin checks nothing\n");
    return h || !l ? -1 : 0;
}
