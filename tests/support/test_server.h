/*
 * Loopback test servers and the test PKI for the integration, allocator,
 * hostile-server and tool tests (the one certificate generator and the one
 * fault-injection server of the test suites).
 *
 *  - ts_pki: a throwaway PKI generated in-process at test time (OpenSSL API):
 *    a test CA, a second unrelated CA, and server certificates for
 *    127.0.0.1/localhost (good, expired, wrong host, self-signed), written as
 *    PEM files into a fresh temporary directory that ts_pki_free() removes.
 *  - ts_server: an HTTPS (or plain HTTP) server on 127.0.0.1 with an ephemeral
 *    port, built on cpp-httplib. Scriptable per test (a static reply, or a C
 *    handler called for every request), and it records every request it
 *    received (method, path, headers, body) plus the number of connections.
 *  - ts_raw: the fault-injection listener on 127.0.0.1, for faults
 *    cpp-httplib cannot produce (a peer that never speaks TLS, RSTs,
 *    malformed framing, slow or endless answers, bad certificates, legacy
 *    TLS versions). Scripted either by a queue of steps (plain TCP: read a
 *    request, send raw bytes, then keep/close/reset/stall) or by one named
 *    misbehaviour for every connection (ts_raw_start_fault, over TLS or
 *    plain TCP), which records everything it received.
 *
 * Every thread these start is stopped and joined by the matching _stop().
 * All functions are thread-safe unless stated otherwise. C API so that the
 * CMocka suites (C files) can use them.
 */
#ifndef LF_TEST_SERVER_H
#define LF_TEST_SERVER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- certificates ------------------------------------------------------- */

typedef struct ts_pki ts_pki;

typedef enum ts_cert {
    TS_CERT_GOOD = 0,       /* signed by the test CA, SAN IP:127.0.0.1 DNS:localhost */
    TS_CERT_EXPIRED = 1,    /* same names, signed by the test CA, expired yesterday */
    TS_CERT_WRONG_HOST = 2, /* signed by the test CA, SAN DNS:other.test only */
    TS_CERT_SELF_SIGNED = 3 /* good names, but self-signed (no CA knows it) */
} ts_cert;

/* Generates every key and certificate (EC P-256). NULL on failure (a message
 * is printed to stderr). */
ts_pki *ts_pki_create(void);
/* Removes the files and the directory. NULL-safe. */
void ts_pki_free(ts_pki *pki);
/* PEM file of the test CA: pass it as lf_auth_config.ca_file. */
const char *ts_pki_ca_file(const ts_pki *pki);
/* PEM file of an unrelated CA that signed nothing the servers use. */
const char *ts_pki_wrong_ca_file(const ts_pki *pki);
/* The test CA followed by an (empty) CRL it signed, in one PEM file. */
const char *ts_pki_ca_with_crl_file(const ts_pki *pki);
/* The temporary directory (for tests that want to write more files). */
const char *ts_pki_dir(const ts_pki *pki);

/* ---- recorded requests -------------------------------------------------- */

typedef struct ts_request ts_request;

const char *ts_request_method(const ts_request *r);
/* The path without the query string. */
const char *ts_request_path(const ts_request *r);
/* The query string without '?', "" when none. */
const char *ts_request_query(const ts_request *r);
/* First value of the header (name compared case-insensitively), NULL when absent. */
const char *ts_request_header(const ts_request *r, const char *name);
/* How many times the header occurs. */
size_t ts_request_header_count(const ts_request *r, const char *name);
/* The raw body (NUL-terminated for convenience; may contain NULs). */
/* 1 when the target, a header or the body contains `needle`. */
int ts_request_contains(const ts_request *r, const char *needle);
const char *ts_request_body(const ts_request *r);
size_t ts_request_body_len(const ts_request *r);

/* ---- scripted HTTPS server ---------------------------------------------- */

typedef struct ts_server ts_server;
typedef struct ts_reply ts_reply;

/* Called for every request, on a server worker thread (several may run at
 * once): `reply` starts as a copy of the server's static reply
 * (ts_server_respond), the handler may change anything. */
typedef void (*ts_handler)(void *ctx, const ts_request *req, ts_reply *reply);

/* Starts an HTTPS server with the given certificate, or a plain HTTP server
 * when pki is NULL. NULL on failure. The default reply is 404 "{}". */
ts_server *ts_server_start(const ts_pki *pki, ts_cert cert);
/* Wakes stalled handlers, stops, joins every thread, frees. NULL-safe. */
void ts_server_stop(ts_server *s);

int ts_server_port(const ts_server *s);
/* "https://127.0.0.1:<port><path>" (http:// for a plain server). The string
 * is owned by the server and valid until ts_server_stop(). */
const char *ts_server_url(ts_server *s, const char *path);

/* Replaces the static reply (copied): status, content type, body; clears its
 * extra headers, filler, chunking and delay. content_type NULL:
 * "application/json". */
void ts_server_respond(ts_server *s, int status, const char *content_type, const char *body);
/* Adds a header to the static reply. */
void ts_server_respond_header(ts_server *s, const char *name, const char *value);
/* Installs a handler (NULL: static reply only). */
void ts_server_set_handler(ts_server *s, ts_handler handler, void *ctx);

size_t ts_server_request_count(ts_server *s);
/* Requests whose path equals `path`. */
size_t ts_server_request_count_path(ts_server *s, const char *path);
/* Connections accepted (TCP level, before TLS). */
size_t ts_server_connection_count(ts_server *s);
/* The i-th recorded request (0-based), NULL when out of range. Valid until
 * ts_server_stop() or ts_server_clear(). */
const ts_request *ts_server_request(ts_server *s, size_t i);
/* 1 when any recorded request (target, headers or body) contains `needle`. */
int ts_server_saw(ts_server *s, const char *needle);
/* Forgets the recorded requests and counters (not thread-safe against
 * concurrent readers of earlier ts_request pointers). */
void ts_server_clear(ts_server *s);
/* Waits until at least n requests were recorded; 1 on success, 0 on timeout. */
int ts_server_wait_requests(ts_server *s, size_t n, long timeout_ms);

/* Reply editing (inside a handler). */
void ts_reply_status(ts_reply *r, int status);
void ts_reply_header(ts_reply *r, const char *name, const char *value);
/* Body bytes (copied); content_type NULL keeps the current one. */
void ts_reply_body(ts_reply *r, const char *content_type, const void *body, size_t len);
/* NUL-terminated body. */
void ts_reply_text(ts_reply *r, const char *content_type, const char *body);
/* printf-style body. */
void ts_reply_printf(ts_reply *r, const char *content_type, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Replaces the body with `n` filler bytes ('x'), sent chunked when
 * `chunked` (no Content-Length) or with a Content-Length otherwise. */
void ts_reply_filler(ts_reply *r, size_t n, int chunked);
/* Sends the current body with chunked transfer encoding. */
void ts_reply_chunked(ts_reply *r, int chunked);
/* Waits `ms` before answering; -1 stalls until the server stops. The wait is
 * interrupted by ts_server_stop(). */
void ts_reply_delay(ts_reply *r, long ms);

/* Same edits for the static reply. */
void ts_server_respond_filler(ts_server *s, size_t n, int chunked);
void ts_server_respond_delay(ts_server *s, long ms);

/* ---- raw TCP listener ------------------------------------------------------ */

typedef struct ts_raw ts_raw;

typedef enum ts_raw_after {
    TS_RAW_KEEP = 0,  /* keep the connection; the next step reads from it */
    TS_RAW_CLOSE = 1, /* orderly close (FIN) */
    TS_RAW_RESET = 2, /* abortive close (RST, SO_LINGER 0) */
    TS_RAW_STALL = 3, /* keep it open, never send anything more, until stop */
    TS_RAW_WAIT = 4   /* keep it; the next step is the next one pushed (at most
                         30 s; none by then: as STALL), so a test can act
                         between the request and the answer */
} ts_raw_after;

/* Starts a plain TCP listener on 127.0.0.1 (ephemeral port). With no steps
 * queued, each accepted connection is held open silently until stop (a peer
 * that never answers, not even a TLS handshake). */
ts_raw *ts_raw_start(void);
void ts_raw_stop(ts_raw *r);
int ts_raw_port(const ts_raw *r);
/* "<scheme>://127.0.0.1:<port><path>", owned by the listener. */
const char *ts_raw_url(ts_raw *r, const char *scheme, const char *path);
/* Queues a step: optionally read one HTTP request (headers + Content-Length
 * body; recorded), then send `len` bytes of `bytes` (copied; may be 0), then
 * `after`. Steps are consumed in order across connections. */
void ts_raw_push(ts_raw *r, int read_request, const void *bytes, size_t len, ts_raw_after after);
size_t ts_raw_connection_count(ts_raw *r);
size_t ts_raw_request_count(ts_raw *r);
const ts_request *ts_raw_request(ts_raw *r, size_t i);
int ts_raw_saw(ts_raw *r, const char *needle);

/* One misbehaviour for every connection. Zero/NULL fields take the default
 * in brackets. Modes (the answer to every request):
 *   ok              `status`, `body`, honest Content-Length
 *   chunked         the same body chunked (7-byte chunks)
 *   gzip            the same body gzip-compressed, Content-Encoding: gzip
 *   gzip-bomb       `size` bytes of JSON whitespace after {"access_token":"x",
 *                   gzip-compressed (small on the wire)
 *   big             honest Content-Length of `size` bytes, then the bytes
 *   body-forever    chunked body of 16 KiB chunks, until `size` bytes or the peer leaves
 *   chunk-badhex    chunked framing with a non-hex chunk size ("zz")
 *   chunk-overflow  chunked framing with an 18-digit hex chunk size
 *   slowloris       the response head, 1 byte every `interval_ms`, never ending
 *   trickle         chunked body of spaces at `rate` bytes/s, never ending
 *   headers-forever endless 100-byte header lines, until `size` bytes
 *   header-line-huge one header line of `size` bytes, never terminated
 *   cl-shorter      Content-Length 5 bytes shorter than the body sent
 *   stall           reads the request, never answers
 *   stall-headers   sends the head (Content-Length: 200), never the body
 *   rst-mid-body    head + half the body, then RST
 *   fin-mid-body    head (full Content-Length) + half the body, then FIN
 *   close-before-response  reads the request, closes (FIN) without a byte
 *   redirect        `status` (3xx) with Location: `location` ({port}: own port)
 *   auto            a token endpoint for AUTO client-auth probes: a request
 *                   carrying `code` gets 200 + `token`, any other code 400
 *                   invalid_grant; `auto_accept` (basic|json|both|none) answers
 *                   the styles not accepted with 401 invalid_client
 *   cl-list         `body` with one Content-Length header per value of
 *                   `content_lengths` ("20,25": two conflicting headers)
 *   http-on-tls     (no TLS) reads what arrives (a ClientHello), answers a
 *                   plain HTTP 400 and closes
 *   tls-never       accepts TCP, never starts (nor answers) the TLS handshake
 *   tls-rst-after-hello  (no TLS) reads the whole ClientHello, then RST
 *   rst-while-receiving  after the handshake reads `size` request bytes, waits
 *                   `interval_ms` (the client blocks in send), then RST; the
 *                   listening socket's SO_RCVBUF is small so a large request
 *                   cannot all be handed to the kernel before the reset
 * Every answer carries Connection: close; no connection outlives 120 s.
 *
 * The record (ts_raw_record), one entry per event, in order:
 *   CONN <cid>\n                    a TCP connection was accepted (cid 1, 2, ...)
 *   TLSFAIL <cid> <reason>\n        the handshake failed; OpenSSL's reason as
 *                                   its mnemonic (UNSUPPORTED_PROTOCOL)
 *   REQ <cid> <len>\n<bytes>\n      one complete HTTP request (head + body)
 *   RAW <cid> <len>\n<bytes>\n      bytes that did not form a request
 *   SENT <cid> <n>\n                response body bytes sent (streaming modes)
 *   END <cid>\n                     the connection is closed */
typedef struct ts_fault_config {
    const char *mode;         /* ["ok"] */
    const ts_pki *pki;        /* NULL: plain TCP */
    ts_cert cert;             /* the server certificate when pki is set */
    int tls_version;          /* 10 or 11: speak only TLS 1.0 / 1.1 [0: any] */
    int status;               /* [200] */
    const char *content_type; /* ["application/json"] */
    const char *body;         /* [""] */
    size_t body_len;
    const char *headers;         /* extra header lines, each ending in CRLF [""] */
    const char *location;        /* redirect */
    const char *code;            /* auto */
    const char *token;           /* auto */
    const char *auto_accept;     /* auto ["both"] */
    const char *content_lengths; /* cl-list */
    size_t size;                 /* [64 MiB] */
    long interval_ms;            /* [500] */
    long rate;                   /* bytes/s [2048] */
} ts_fault_config;

/* Starts a fault listener (the config is copied). NULL on failure (a
 * message is printed). Stop it with ts_raw_stop(). */
ts_raw *ts_raw_start_fault(const ts_fault_config *cfg);
/* Waits until every accepted connection is closed; 1 on success, 0 after
 * timeout_ms. */
int ts_raw_wait_idle(ts_raw *r, long timeout_ms);
/* A malloc'd copy of the record (NUL-terminated; *len without the NUL). */
char *ts_raw_record(ts_raw *r, size_t *len);

/* ---- small helpers for tests -------------------------------------------- */

/* Fills buf with `prefix` followed by hex of fresh random bytes so that the
 * total length is size-1 (a unique, high-entropy canary). */
void ts_random_token(char *buf, size_t size, const char *prefix);
/* Monotonic milliseconds. */
long long ts_now_ms(void);
/* Sleeps ms milliseconds. */
void ts_sleep_ms(long ms);
/* Standard base64 decode (RFC 4648, padding required). Returns the decoded
 * length or -1; writes at most size bytes and NUL-terminates when it fits. */
long ts_base64_decode(const char *in, char *out, size_t size);
/* Standard base64 encode; returns out. */
char *ts_base64_encode(const void *in, size_t len, char *out, size_t size);
/* Strict percent-decoding of an application/x-www-form-urlencoded value
 * ('+' is a space). Returns the length or -1. */
long ts_form_decode(const char *in, size_t in_len, char *out, size_t size);
/* Finds `name` in a form body and decodes its value into out; returns the
 * number of times the name occurs (0: absent). */
int ts_form_field(const char *body, size_t len, const char *name, char *out, size_t size);
/* 1 when hay[0..hay_len) contains needle. */
int ts_mem_contains(const void *hay, size_t hay_len, const char *needle);

#ifdef __cplusplus
}
#endif

#endif /* LF_TEST_SERVER_H */
