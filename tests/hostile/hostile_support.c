#define _GNU_SOURCE /* memmem, nftw */
#include "hostile_support.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#ifndef HS_OPENSSL
#error "HS_OPENSSL (the openssl CLI, the TLS 1.0/1.1 control client) must be defined by the build"
#endif

extern char **environ;

#define SETTLE_TIMEOUT_MS 3000 /* connections finishing after the client left */

static ts_pki *g_pki;
static char g_dir[256];
static int g_file_counter;
static pid_t g_live[64];

/* ---------------------------------------------------------------- helpers */

static void live_add(pid_t pid) {
    for (size_t i = 0; i < sizeof g_live / sizeof g_live[0]; i++) {
        if (g_live[i] == 0) {
            g_live[i] = pid;
            return;
        }
    }
}

static void live_remove(pid_t pid) {
    for (size_t i = 0; i < sizeof g_live / sizeof g_live[0]; i++)
        if (g_live[i] == pid) g_live[i] = 0;
}

static void kill_and_reap(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    live_remove(pid);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ------------------------------------------------------------------ suite */

int hs_suite_setup(void) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/lf-hostile-XXXXXX", tmp);
    if (!mkdtemp(g_dir)) {
        fprintf(stderr, "hostile: mkdtemp failed: %s\n", strerror(errno));
        g_dir[0] = '\0';
        return -1;
    }
    g_pki = ts_pki_create();
    return g_pki ? 0 : -1;
}

void hs_suite_teardown(void) {
    for (size_t i = 0; i < sizeof g_live / sizeof g_live[0]; i++)
        if (g_live[i]) kill_and_reap(g_live[i]);
    if (g_dir[0] && !getenv("LF_HOSTILE_KEEP")) nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    ts_pki_free(g_pki);
    g_pki = NULL;
}

int hs_suite_end(int rc) {
    hs_suite_teardown();
    return rc;
}

const char *hs_dir(void) { return g_dir; }

const char *hs_ca_file(void) { return ts_pki_ca_file(g_pki); }

const char *hs_path(const char *name) {
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", g_dir, name);
    return b;
}

const char *hs_write_file(const char *name, const void *data, size_t len) {
    char unique[128];
    snprintf(unique, sizeof unique, "%s-%d", name, ++g_file_counter);
    const char *path = hs_path(unique);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return path;
}

/* ------------------------------------------------------------------- case */

void hs_canary(char *buf, size_t size, const char *prefix) {
    char st[LF_STATE_BUFFER_SIZE];
    assert_int_equal(lf_state_generate(st, sizeof st), LF_OK);
    snprintf(buf, size, "%s%s", prefix, st);
}

int hs_case_setup(void **state) {
    hs_case *c = calloc(1, sizeof *c);
    if (!c) return -1;
    hs_canary(c->client_id, sizeof c->client_id, "hs-id-");
    hs_canary(c->secret, sizeof c->secret, "hs-secret-");
    hs_canary(c->code, sizeof c->code, "hs-code-");
    hs_canary(c->token, sizeof c->token, "hs-tok-");
    char idsec[2 * HS_CANARY_SIZE];
    snprintf(idsec, sizeof idsec, "%s:%s", c->client_id, c->secret);
    ts_base64_encode(idsec, strlen(idsec), c->basic, sizeof c->basic);
    c->timeout_ms = 3000;
    c->connect_timeout_ms = 2000;
    c->max_response_bytes = 64 * 1024;
    c->client_auth = LF_CLIENT_AUTH_JSON_BODY;
    c->ca_file = NULL;
    *state = c;
    return 0;
}

int hs_case_teardown(void **state) {
    hs_case *c = *state;
    if (!c) return 0;
    hs_client_free(c);
    lf_token_free(c->tok);
    c->tok = NULL;
    for (int i = 0; i < HS_MAX_SERVERS; i++) {
        hs_stop(&c->servers[i]);
        free(c->servers[i].record);
    }
    free(c);
    *state = NULL;
    return 0;
}

/* ---------------------------------------------------------------- servers */

int hs_start(hs_case *c, int slot, const char *tls, const char *mode, ...) {
    va_list ap;
    va_start(ap, mode);
    int rc = hs_startv(c, slot, tls, mode, ap);
    va_end(ap);
    return rc;
}

static ts_cert cert_named(const char *name) {
    if (!strcmp(name, "server")) return TS_CERT_GOOD;
    if (!strcmp(name, "expired")) return TS_CERT_EXPIRED;
    if (!strcmp(name, "wronghost")) return TS_CERT_WRONG_HOST;
    if (!strcmp(name, "selfsigned")) return TS_CERT_SELF_SIGNED;
    print_error("unknown certificate \"%s\"\n", name);
    fail();
    return TS_CERT_GOOD;
}

/* Applies one option ("--name", value) to the server's configuration. */
static void apply_option(ts_fault_config *cfg, const char *opt, const char *val, char *headers, size_t headers_size) {
    if (!strcmp(opt, "--status")) {
        cfg->status = atoi(val);
    } else if (!strcmp(opt, "--content-type")) {
        cfg->content_type = val;
    } else if (!strcmp(opt, "--body")) {
        cfg->body = val;
        cfg->body_len = strlen(val);
    } else if (!strcmp(opt, "--code")) {
        cfg->code = val;
    } else if (!strcmp(opt, "--token")) {
        cfg->token = val;
    } else if (!strcmp(opt, "--auto-accept")) {
        cfg->auto_accept = val;
    } else if (!strcmp(opt, "--location")) {
        cfg->location = val;
    } else if (!strcmp(opt, "--size")) {
        cfg->size = (size_t)strtoull(val, NULL, 10);
    } else if (!strcmp(opt, "--interval")) {
        cfg->interval_ms = (long)(atof(val) * 1000.0);
    } else if (!strcmp(opt, "--rate")) {
        cfg->rate = atol(val);
    } else if (!strcmp(opt, "--tls-version")) {
        cfg->tls_version = !strcmp(val, "1.0") ? 10 : !strcmp(val, "1.1") ? 11 : -1;
        assert_true(cfg->tls_version > 0);
    } else if (!strcmp(opt, "--content-lengths")) {
        cfg->content_lengths = val;
    } else if (!strcmp(opt, "--header")) {
        size_t used = strlen(headers);
        int n = snprintf(headers + used, headers_size - used, "%s\r\n", val);
        assert_true(n > 0 && (size_t)n < headers_size - used);
        cfg->headers = headers;
    } else {
        print_error("unknown server option %s\n", opt);
        fail();
    }
}

int hs_startv(hs_case *c, int slot, const char *tls, const char *mode, va_list ap) {
    assert_true(slot >= 0 && slot < HS_MAX_SERVERS);
    hs_server *s = &c->servers[slot];
    assert_null(s->raw);
    snprintf(s->mode, sizeof s->mode, "%s", mode);
    ts_fault_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = mode;
    if (tls) {
        cfg.pki = g_pki;
        cfg.cert = cert_named(tls);
    }
    char headers[1024] = "";
    const char *opt;
    while ((opt = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);
        assert_non_null(val);
        apply_option(&cfg, opt, val, headers, sizeof headers);
    }
    s->raw = ts_raw_start_fault(&cfg); /* copies what it keeps */
    if (!s->raw) {
        print_error("fault server (mode %s) did not start\n", mode);
        return -1;
    }
    s->port = ts_raw_port(s->raw);
    return 0;
}

static int read_file(const char *path, char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) { /* nothing recorded yet */
            *data = calloc(1, 1);
            return *data ? 0 : -1;
        }
        return -1;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            fclose(f);
            return -1;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) free(buf);
        buf = nb;
    }
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static int parse_record(char *data, size_t len, hs_record *r) {
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    size_t i = 0;
    while (i < len) {
        char *nl = memchr(data + i, '\n', len - i);
        if (!nl) return -1;
        char tag[16] = "";
        int cid = 0;
        long long n = 0;
        int fields = sscanf(data + i, "%15s %d %lld", tag, &cid, &n);
        i = (size_t)(nl - data) + 1;
        if (fields < 2) return -1;
        if (!strcmp(tag, "CONN")) {
            r->conns++;
        } else if (!strcmp(tag, "END")) {
            r->ends++;
        } else if (!strcmp(tag, "TLSFAIL")) {
            r->tls_failures++;
        } else if (!strcmp(tag, "SENT")) {
            r->sent += n;
        } else if (!strcmp(tag, "REQ") || !strcmp(tag, "RAW")) {
            if (fields != 3 || n < 0 || (size_t)n + 1 > len - i) return -1;
            if (tag[1] == 'E') {
                r->requests++;
                if (n >= 5 && !memcmp(data + i, "POST ", 5)) r->posts++;
            } else {
                r->raw_chunks++;
            }
            r->received += (size_t)n;
            i += (size_t)n + 1;
        } else {
            return -1;
        }
    }
    return 0;
}

void hs_stop(hs_server *s) {
    if (!s->raw) return;
    /* Let connections that are still being served finish and record END. */
    ts_raw_wait_idle(s->raw, SETTLE_TIMEOUT_MS);
    free(s->record);
    s->record = ts_raw_record(s->raw, &s->record_len);
    ts_raw_stop(s->raw);
    s->raw = NULL;
}

int hs_read_record(const hs_server *s, hs_record *r) {
    size_t len = s->record_len;
    char *data = s->raw ? ts_raw_record(s->raw, &len) : malloc(len + 1);
    memset(r, 0, sizeof *r);
    if (!data) return -1;
    if (!s->raw) {
        if (len) memcpy(data, s->record, len);
        data[len] = '\0';
    }
    if (parse_record(data, len, r) != 0) {
        free(data);
        memset(r, 0, sizeof *r);
        return -1;
    }
    return 0;
}

void hs_record_free(hs_record *r) {
    free(r->data);
    memset(r, 0, sizeof *r);
}

int hs_record_has(const hs_record *r, const char *needle) {
    return r->data && memmem(r->data, r->len, needle, strlen(needle)) != NULL;
}

int hs_record_blobs_with(const hs_record *r, const char *needle) {
    return hs_record_blobs_with_both(r, needle, needle);
}

int hs_record_blobs_with_both(const hs_record *r, const char *needle, const char *other) {
    int count = 0;
    size_t i = 0, nlen = strlen(needle), olen = strlen(other);
    while (i < r->len) {
        const char *line = r->data + i;
        const char *nl = memchr(line, '\n', r->len - i);
        if (!nl) break;
        char tag[16] = "";
        int cid = 0;
        long long n = 0;
        int fields = sscanf(line, "%15s %d %lld", tag, &cid, &n);
        i = (size_t)(nl - r->data) + 1;
        if (fields == 3 && (!strcmp(tag, "REQ") || !strcmp(tag, "RAW"))) {
            const char *blob = r->data + i;
            if (memmem(blob, (size_t)n, needle, nlen) && memmem(blob, (size_t)n, other, olen)) count++;
            i += (size_t)n + 1;
        }
    }
    return count;
}

/* ----------------------------------------------------------------- client */

lf_status hs_client(hs_case *c, const char *scheme, int port, const char *path) {
    static const char *const redirects[] = {"https://app.example.test/oauth/callback"};
    snprintf(c->url, sizeof c->url, "%s://127.0.0.1:%d%s", scheme, port, path);
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = c->client_id;
    cfg.client_secret = c->secret;
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 1;
    cfg.token_url = c->url;
    cfg.client_auth = c->client_auth;
    cfg.connect_timeout_ms = c->connect_timeout_ms;
    cfg.timeout_ms = c->timeout_ms;
    cfg.max_response_bytes = c->max_response_bytes;
    cfg.ca_file = c->system_store ? NULL : c->ca_file ? c->ca_file : hs_ca_file();
    lf_error err;
    lf_status st = lf_auth_new(&cfg, &c->auth, &err);
    if (st != LF_OK) print_error("lf_auth_new: %s: %s\n", lf_status_name(st), err.message);
    return st;
}

lf_status hs_exchange(hs_case *c) {
    lf_token_free(c->tok);
    c->tok = NULL;
    lf_garbage_fill(&c->err, sizeof c->err); /* the call must reset it */
    long long t0 = ts_now_ms();
    c->status = lf_exchange_code(c->auth, c->code, &c->tok, &c->err);
    c->elapsed_s = (double)(ts_now_ms() - t0) / 1000.0;
    if (c->status != LF_OK && c->tok != NULL) {
        print_error("*out is not NULL after a failure\n");
        fail();
    }
    return c->status;
}

void hs_client_free(hs_case *c) {
    lf_auth_free(c->auth);
    c->auth = NULL;
}

const char *hs_token_body(const hs_case *c, const char *more) {
    static char bodies[4][512];
    static int next;
    char *body = bodies[next++ % 4];
    int n = snprintf(body, sizeof bodies[0], "{\"access_token\":\"%s\"%s}", c->token, more);
    assert_true(n > 0 && (size_t)n < sizeof bodies[0]);
    return body;
}

void hs_run(hs_case *c, int slot) {
    assert_int_equal(hs_client(c, "https", c->servers[slot].port, HS_TOKEN_PATH), LF_OK);
    hs_exchange(c);
    hs_client_free(c); /* closes the connections, so the server can finish */
    hs_stop(&c->servers[slot]);
}

void hs_assert_requests(const hs_case *c, int slot, int requests, int with_code) {
    hs_record r;
    assert_int_equal(hs_read_record(&c->servers[slot], &r), 0);
    int got = hs_record_blobs_with(&r, c->code);
    if (r.requests != requests || r.posts != r.requests || got != with_code) {
        print_error(
            "server %d (mode \"%s\") saw %d requests (%d POSTs), %d carrying the code; "
            "expected %d, all POSTs, %d with the code\n",
            slot, c->servers[slot].mode, r.requests, r.posts, got, requests, with_code);
        hs_record_free(&r);
        fail();
    }
    hs_record_free(&r);
}

void hs_assert_got_token(const hs_case *c) {
    hs_assert_status(c, LF_OK);
    assert_non_null(c->tok);
    assert_string_equal(lf_token_value(c->tok), c->token);
}

void hs_expect_token(hs_case *c, const char *mode, const char *body) {
    assert_int_equal(hs_start(c, 0, "server", mode, "--body", body, NULL), 0);
    hs_run(c, 0);
    hs_assert_got_token(c);
    hs_assert_elapsed_below(c, HS_TIME_BOUND_S(c));
    hs_assert_requests(c, 0, 1, 1);
}

/* ---------------------------------------------------------------- secrets */

void hs_assert_err_clean(const hs_case *c, ...) {
    const lf_error *e = &c->err;
    lf_assert_err_text(e);
    lf_assert_no_secret_in_err(e, "client secret", c->secret);
    lf_assert_no_secret_in_err(e, "authorization code", c->code);
    lf_assert_no_secret_in_err(e, "Basic credentials", c->basic);
    lf_assert_no_secret_in_err(e, "token", c->token);
    va_list ap;
    va_start(ap, c);
    const char *extra;
    while ((extra = va_arg(ap, const char *)) != NULL) lf_assert_no_secret_in_err(e, "server-sent secret", extra);
    va_end(ap);
}

/* ---------------------------------------------------------- openssl client */

#define OPENSSL_CLIENT_TIMEOUT_MS 10000

/* Waits for pid until deadline_ms from now; kills it when it is not done.
 * Returns its exit status, or -1 when it had to be killed. */
static int wait_bounded(pid_t pid, long deadline_ms) {
    long long deadline = ts_now_ms() + deadline_ms;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return -1;
        if (ts_now_ms() > deadline) {
            kill_and_reap(pid);
            return -1;
        }
        ts_sleep_ms(20);
    }
    live_remove(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int hs_openssl_client(const hs_case *c, int slot, const char *request, char *out, size_t out_size, ...) {
    assert_true(slot >= 0 && slot < HS_MAX_SERVERS && out_size > 0);
    char connect[64], ca[512];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", c->servers[slot].port);
    snprintf(ca, sizeof ca, "%s", hs_ca_file());
    const char *in = hs_write_file("s_client-in", request, strlen(request));
    char outpath[512];
    snprintf(outpath, sizeof outpath, "%s", hs_write_file("s_client-out", "", 0));

    /* -ign_eof: keep reading after the request until the server closes. */
    const char *argv[32] = {HS_OPENSSL,
                            "s_client",
                            "-connect",
                            connect,
                            "-CAfile",
                            ca,
                            "-verify_return_error",
                            "-verify_ip",
                            "127.0.0.1",
                            "-cipher",
                            "DEFAULT:@SECLEVEL=0",
                            "-ign_eof"};
    int n = 12;
    va_list ap;
    va_start(ap, out_size);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(n < 30);
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, HS_OPENSSL, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    out[0] = '\0';
    if (rc != 0) return -1;
    live_add(pid);
    int status = wait_bounded(pid, OPENSSL_CLIENT_TIMEOUT_MS);
    char *data;
    size_t len;
    if (read_file(outpath, &data, &len) == 0) {
        snprintf(out, out_size, "%s", data);
        free(data);
    }
    return status;
}

/* ----------------------------------------------------------------- memory */

long hs_vm_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

int hs_reset_peak(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, "5", 1);
    close(fd);
    return n == 1 ? 0 : -1;
}
