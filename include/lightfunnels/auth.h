/**
 * @file lightfunnels/auth.h
 * @brief lightfunnels-auth — the Lightfunnels app-authorization (OAuth2) flow for C,
 * C++, Go and Rust programs.
 *
 * This is the only public header. It is valid C99 and C++ and has no
 * generated parts.
 *
 * Conventions (they hold for every function below unless its doc says otherwise)
 * ==============================================================================
 *
 * 1. Status. Every fallible function returns an lf_status. LF_OK is 0; every
 *    other value is a positive error code whose number never changes;
 *    LF_STATUS_MAP lists them all. lf_status_name() and lf_status_message()
 *    turn any value (even an unknown one) into a static string; they never
 *    return NULL.
 *
 * 2. Error detail. Calls that talk to a server or parse input take an
 *    optional `lf_error *err` as their last argument (NULL allowed). It is
 *    caller-owned and fixed-size, so filling it never allocates and works
 *    even when memory is exhausted. It is reset at the start of the call and
 *    filled when the call fails. Its `message` never contains the client
 *    secret, an authorization code or an access token.
 *
 * 3. Caller buffers. Deterministic outputs (URLs, state, codes, signatures)
 *    are written to `(char *buf, size_t size, size_t *needed)`:
 *    - `needed` (may be NULL) receives the bytes required including the NUL,
 *      on success and on LF_E_BUFFER_TOO_SMALL;
 *    - `buf == NULL && size == 0` is a legal size query (returns
 *      LF_E_BUFFER_TOO_SMALL with `*needed` set);
 *    - nothing is ever written at or past `buf[size]`;
 *    - on any failure `buf` is left as a valid empty string when `size > 0`.
 *    Fixed bounds are published as macros (LF_STATE_BUFFER_SIZE,
 *    LF_SIGNATURE_BUFFER_SIZE) so callers can use stack arrays.
 *
 * 4. Network results (tokens, API responses) come back as opaque objects
 *    (lf_token, lf_response) so that a short buffer can never lose the token
 *    a single-use code bought. Free them with their _free function.
 *
 * 5. Ownership. Out-parameters are written only on success (exception:
 *    lf_graphql, see there); on failure `*out` is set to NULL. Every _free
 *    function accepts NULL and wipes secrets before releasing memory.
 *    Borrowed pointers state their lifetime.
 *
 * 6. Threads. lf_auth is immutable after lf_auth_new() and may be used from
 *    any number of threads at once. lf_token and lf_response are plain
 *    values: read them from many threads, free them from one. Every function
 *    is thread-safe unless its doc says otherwise. A handle reuses its
 *    connections and TLS sessions from call to call, and never re-sends a
 *    request. Since 1.1.0 a handle's async calls run on one library I/O
 *    thread of that handle, started by its first async call; their
 *    callbacks run there (see lf_exchange_code_async()).
 *
 * 7. NULL. A NULL pointer where an object or string is required returns
 *    LF_E_INVALID_ARGUMENT (never a crash). Strings are NUL-terminated
 *    UTF-8 unless a length is given.
 *
 * 8. Memory. Every allocation the library makes goes through the allocator
 *    given to lf_global_init() (the C heap by default). The library never
 *    touches process-wide state of libcurl or cJSON unless asked with
 *    LF_INIT_HOOK_DEPENDENCIES.
 *
 * 9. Security. TLS certificates and host names are always verified; there
 *    is no option to turn that off. Plain http:// is accepted only for
 *    loopback hosts (127.0.0.0/8, ::1, localhost). Redirects are never
 *    followed. An authorization code is never sent twice by the library.
 *    Environment proxies (http_proxy, HTTPS_PROXY, ALL_PROXY, ...) are never
 *    used for loopback hosts; other https requests honour them through a
 *    CONNECT tunnel (TLS end to end). SSLKEYLOGFILE is ignored: no key
 *    material is ever written.
 *
 * 10. Versions. Functions carry "@since" with the release that introduced
 *    them. Values of lf_status, the layout of lf_error and lf_allocator, and
 *    the existing fields of the struct_size-versioned structs never change
 *    within major version 1 (see docs/ABI.md).
 *
 * 11. Processes. A handle used before fork() keeps working in the parent and
 *    the child; they never share a connection (the child lets go of the
 *    inherited ones without touching them). Do not fork while another
 *    thread is inside a call on the same handle. Every socket the library
 *    opens is close-on-exec.
 */
#ifndef LIGHTFUNNELS_AUTH_H
#define LIGHTFUNNELS_AUTH_H

#include <stddef.h>

/* ------------------------------------------------------------------------ */
/* Declaration macros                                                        */
/* ------------------------------------------------------------------------ */

/** @def LF_BEGIN_DECLS
 * Opens the block of declarations: `extern "C" {` in C++, nothing in C. */
/** @def LF_END_DECLS
 * Closes the block opened by LF_BEGIN_DECLS. */
#ifndef LF_BEGIN_DECLS
#ifdef __cplusplus
#define LF_BEGIN_DECLS extern "C" {
#define LF_END_DECLS }
#else
#define LF_BEGIN_DECLS
#define LF_END_DECLS
#endif
#endif

/** LF_API marks every exported function: the library is built with hidden
 * visibility, so only these are exported (ELF, Linux). */
#ifndef LF_API
#if defined(__GNUC__) && __GNUC__ >= 4
#define LF_API __attribute__((visibility("default")))
#else
#define LF_API
#endif
#endif

/** LF_DEPRECATED(since, msg): warns callers of a deprecated function. Silent
 * while building the library. Every deprecated declaration is also wrapped
 * in `#ifndef LF_NO_DEPRECATED`, so defining LF_NO_DEPRECATED hides them
 * entirely (they stay exported until the SONAME changes). Version 1.0 has no
 * deprecated functions. */
#ifndef LF_DEPRECATED
#if defined(LF_BUILDING) || defined(LF_NO_DEPRECATION_WARNINGS)
#define LF_DEPRECATED(since, msg)
#elif defined(__GNUC__) || defined(__clang__)
#define LF_DEPRECATED(since, msg) __attribute__((deprecated("since " since ": " msg)))
#else
#define LF_DEPRECATED(since, msg)
#endif
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/** Major version of this header: changes only with an ABI break (and the SONAME). */
#define LF_AUTH_VERSION_MAJOR 1
/** Minor version of this header: grows with backward-compatible additions. */
#define LF_AUTH_VERSION_MINOR 1
/** Patch version of this header: fixes without interface changes. */
#define LF_AUTH_VERSION_PATCH 0
/** "MAJOR.MINOR.PATCH" of this header; lf_version() gives the loaded library's. */
#define LF_AUTH_VERSION_STRING "1.1.0"
/** MAJOR * 10000 + MINOR * 100 + PATCH, for `#if` comparisons. */
#define LF_AUTH_VERSION_NUMBER (LF_AUTH_VERSION_MAJOR * 10000 + LF_AUTH_VERSION_MINOR * 100 + LF_AUTH_VERSION_PATCH)
/** True when the header is at least version a.b.c. */
#define LF_AUTH_VERSION_CHECK(a, b, c) (LF_AUTH_VERSION_NUMBER >= ((a)*10000 + (b)*100 + (c)))

/* ------------------------------------------------------------------------ */
/* Bounds                                                                    */
/* ------------------------------------------------------------------------ */

/** lf_state_generate(): 43 base64url characters (256 random bits) + NUL. */
#define LF_STATE_BUFFER_SIZE 44
/** lf_webhook_sign(): standard base64 of a 32-byte HMAC-SHA256 (44) + NUL. */
#define LF_SIGNATURE_BUFFER_SIZE 45
/** Longest access token accepted from a server (bytes, without the NUL). */
#define LF_MAX_TOKEN_LENGTH 4096
/** Longest callback URL or query accepted by lf_parse_callback() (bytes). */
#define LF_MAX_CALLBACK_LENGTH 8192
/** Size of lf_error.key, the NUL included. Part of the frozen lf_error layout. @since 1.1.0 */
#define LF_ERROR_KEY_SIZE 64
/** Size of lf_error.message, the NUL included. Part of the frozen lf_error layout. @since 1.1.0 */
#define LF_ERROR_MESSAGE_SIZE 256

LF_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/** The status list, once: `XX(NAME, value, message)` for every lf_status, in
 * value order, where LF_<NAME> is the enumerator and `message` is what
 * lf_status_message() returns for it. The library generates its own status
 * table, lf_status_name() and lf_status_message() from this list, and its
 * tests check the enum below and the Go and Rust bindings against it; a new
 * status is added here first. Like libuv's UV_ERRNO_MAP, it lets a program
 * generate its own table:
 *
 *     #define MY_NAME(name, value, message) case LF_##name: return #name;
 *     switch (s) { LF_STATUS_MAP(MY_NAME) }
 *
 * @since 1.1.0 */
#define LF_STATUS_MAP(XX)                                                                         \
    XX(OK, 0, "Success.")                                                                         \
    XX(E_INVALID_ARGUMENT, 1, "An argument is missing, malformed or out of range.")               \
    XX(E_BUFFER_TOO_SMALL, 2, "The output buffer is too small.")                                  \
    XX(E_NO_MEMORY, 3, "Out of memory.")                                                          \
    XX(E_REDIRECT_URI_NOT_ALLOWED, 4, "The redirect URI is not in the client's allow-list.")      \
    XX(E_STATE_MISMATCH, 5, "The callback's state is missing or does not match.")                 \
    XX(E_STATE_EXPIRED, 6, "The state has expired.")                                              \
    XX(E_ACCESS_DENIED, 7, "The merchant declined the authorization.")                            \
    XX(E_NETWORK, 8, "A network error occurred.")                                                 \
    XX(E_TIMEOUT, 9, "The request timed out.")                                                    \
    XX(E_TLS, 10, "The TLS connection could not be verified or established.")                     \
    XX(E_INSECURE_TRANSPORT, 11, "Refusing an insecure URL (plain http to a non-loopback host).") \
    XX(E_HTTP, 12, "The server answered with an unexpected HTTP status.")                         \
    XX(E_INVALID_CODE, 13, "The authorization code was rejected (used, expired or unknown).")     \
    XX(E_INVALID_CLIENT, 14, "The client credentials were rejected.")                             \
    XX(E_UNAUTHORIZED, 15, "The access token was rejected.")                                      \
    XX(E_API, 16, "The API returned errors.")                                                     \
    XX(E_PROTOCOL, 17, "The server's response is malformed or unexpected.")                       \
    XX(E_RESPONSE_TOO_LARGE, 18, "The response is larger than allowed.")                          \
    XX(E_SIGNATURE_MISMATCH, 19, "The webhook signature does not match.")                         \
    XX(E_CANCELLED, 20, "The call was cancelled.")                                                \
    XX(E_RATE_LIMITED, 21, "Rate limited by the server; retry later.")                            \
    XX(E_INTERNAL, 22, "Internal error in lightfunnels-auth.")

/** Values are ABI: never renumbered, never reused. New codes are appended.
 * LF_STATUS_MAP spelled out for readers; the library does not compile if
 * the two differ. */
typedef enum lf_status {
    LF_OK = 0,                         /**< success */
    LF_E_INVALID_ARGUMENT = 1,         /**< NULL, malformed or out-of-range input (incl. a bad callback) */
    LF_E_BUFFER_TOO_SMALL = 2,         /**< caller buffer too short; *needed says how much */
    LF_E_NO_MEMORY = 3,                /**< an allocation failed */
    LF_E_REDIRECT_URI_NOT_ALLOWED = 4, /**< redirect URI not in the allow-list (exact match) */
    LF_E_STATE_MISMATCH = 5,           /**< callback state missing or different from the expected one */
    LF_E_STATE_EXPIRED = 6,            /**< sealed state too old or from the future (lf_state_open(), since 1.1) */
    LF_E_ACCESS_DENIED = 7,            /**< the merchant declined (callback carried error=...) */
    LF_E_NETWORK = 8,                  /**< connection failed, reset or closed early */
    LF_E_TIMEOUT = 9,                  /**< connect or total timeout reached */
    LF_E_TLS = 10,                     /**< certificate, host name or handshake failure */
    LF_E_INSECURE_TRANSPORT = 11,      /**< http:// to a non-loopback host, or an unusable URL scheme */
    LF_E_HTTP = 12,                    /**< unexpected HTTP status (incl. any 3xx: redirects are not followed) */
    LF_E_INVALID_CODE = 13,            /**< authorization code rejected: used, expired or unknown */
    LF_E_INVALID_CLIENT = 14,          /**< client id/secret rejected */
    LF_E_UNAUTHORIZED = 15,            /**< access token rejected: it does not work now (the merchant
                                          must install again); not the uninstall signal, which is the
                                          app/uninstalled webhook */
    LF_E_API = 16,                     /**< the API answered with GraphQL `errors` */
    LF_E_PROTOCOL = 17,                /**< malformed or unexpected response */
    LF_E_RESPONSE_TOO_LARGE = 18,      /**< response over max_response_bytes (or headers over 64 KiB) */
    LF_E_SIGNATURE_MISMATCH = 19,      /**< webhook signature missing or wrong */
    LF_E_CANCELLED = 20,               /**< lf_call_options.cancel was set */
    LF_E_RATE_LIMITED = 21,            /**< HTTP 429 or the platform's rate_limit_reached key */
    LF_E_INTERNAL = 22                 /**< a bug or an unexpected failure inside the library */
} lf_status;

/** "LF_E_TIMEOUT" for LF_E_TIMEOUT; "LF_E_UNKNOWN" for a value this version
 * does not know (convention 1). @since 1.0.0 */
LF_API const char *lf_status_name(lf_status status);

/** A short English sentence for the status: its message in LF_STATUS_MAP,
 * or a fallback sentence for a value this version does not know
 * (convention 1). @since 1.0.0 */
LF_API const char *lf_status_message(lf_status status);

/** Detail about a failure. Frozen layout: never changes within version 1.
 *  status        the same value the call returned
 *  http_status   HTTP status of the response, 0 when none was received
 *  retry_after_s server's Retry-After in seconds, clamped to [0, 3600]; 0 when absent
 *  key           server's error key (Lightfunnels `key`, or OAuth `error`),
 *                sanitised like message, truncated to fit, valid UTF-8,
 *                NUL-terminated; "" when none
 *  message       what went wrong, with the server's message when it sent one;
 *                sanitised (valid UTF-8; C0 and C1 control characters and
 *                bidirectional marks, overrides and isolates replaced by '?',
 *                TAB/LF/CR by a space), truncated to fit, and never containing
 *                the secret, a code or a token: in the server's text, every
 *                run of 8 or more bytes found anywhere in one of them (one
 *                shorter than 8 bytes: found whole) becomes "[redacted]"
 * @since 1.0.0 */
typedef struct lf_error {
    lf_status status;                    /**< the same value the call returned */
    long http_status;                    /**< HTTP status of the response, 0 when none was received */
    long retry_after_s;                  /**< server's Retry-After in seconds, clamped to [0, 3600]; 0 when absent */
    char key[LF_ERROR_KEY_SIZE];         /**< server's error key, NUL-terminated; "" when none */
    char message[LF_ERROR_MESSAGE_SIZE]; /**< what went wrong, sanitised, NUL-terminated; never a secret */
} lf_error;

/* ------------------------------------------------------------------------ */
/* Library initialisation and allocation                                     */
/* ------------------------------------------------------------------------ */

/** A custom allocator. Frozen layout. All three functions are required, must
 * be thread-safe, and behave like malloc/realloc/free (free(ctx, NULL) is a
 * no-op; alloc may return NULL, which the library reports as
 * LF_E_NO_MEMORY). `ctx` is passed back unchanged. @since 1.0.0 */
typedef struct lf_allocator {
    void *(*alloc)(void *ctx, size_t n);            /**< like malloc(n); may return NULL */
    void *(*realloc)(void *ctx, void *p, size_t n); /**< like realloc(p, n); may return NULL */
    void (*free)(void *ctx, void *p);               /**< like free(p); free(ctx, NULL) is a no-op */
    void *ctx;                                      /**< passed back unchanged to the three functions */
} lf_allocator;

/* Flags for lf_global_init(). */
/** Flag for lf_global_init(): also route libcurl's and cJSON's allocations through the allocator. Both
 * libraries keep their hooks PROCESS-WIDE: this affects every other user of
 * libcurl/cJSON in the process. libcurl ignores it silently if the host
 * program initialised libcurl before this call. Blocks handed out through
 * these hooks are wiped before they are released. With this flag, each code
 * exchange (and each non-blocking GraphQL call) first takes one block of a
 * few MiB from the allocator, used only for libcurl's and cJSON's
 * allocations the allocator later refuses: once a code is sent, running out
 * of memory cannot lose its token (sizes: README, "Implementation notes"). */
#define LF_INIT_HOOK_DEPENDENCIES 0x1u

/** Initialises the library, optionally with a custom allocator (NULL: the C
 * heap). Optional: the first use of any other function initialises the
 * library lazily with the defaults. Call it before anything else and before
 * creating other threads that use the library.
 *
 * Calling it again with the same allocator and flags returns LF_OK. Calling
 * it with a different allocator or flags after initialisation (explicit or
 * lazy) returns LF_E_INVALID_ARGUMENT: call lf_global_cleanup() first.
 *
 * @return LF_OK, LF_E_INVALID_ARGUMENT (unknown flag bit, an allocator with a
 * NULL function, or a conflicting re-initialisation), LF_E_NO_MEMORY,
 * LF_E_INTERNAL (libcurl failed to initialise). Thread-safe. @since 1.0.0 */
LF_API lf_status lf_global_init(const lf_allocator *allocator, unsigned flags);

/** Releases global resources and restores the default allocator (and, if
 * they were hooked, libcurl's and cJSON's). Only call it when no lf_auth,
 * lf_token or lf_response is alive and no other thread is inside the
 * library. Language bindings never call it. @since 1.0.0 */
LF_API void lf_global_cleanup(void);

/** "1.1.0": the version of the library actually loaded (compare with
 * LF_AUTH_VERSION_STRING, the header's). Static storage. @since 1.0.0 */
LF_API const char *lf_version(void);

/* ------------------------------------------------------------------------ */
/* Client handle                                                             */
/* ------------------------------------------------------------------------ */

/** Opaque client handle: made by lf_auth_new(), freed by lf_auth_free().
 * Immutable once made; usable from many threads at once. @since 1.0.0 */
typedef struct lf_auth lf_auth;

/** How the client authenticates at the token endpoint. */
typedef enum lf_client_auth {
    LF_CLIENT_AUTH_JSON_BODY = 0, /**< client_id + client_secret in a JSON body to /oauth/access_token: the
                                     earlier method (the platform's 2024 sample app; 1.0's default), no
                                     longer in the platform's docs */
    LF_CLIENT_AUTH_BASIC = 1,     /**< Authorization: Basic base64(client_id ":" client_secret), code in a form
                                     body, to /api/access_token: the platform's documented method since
                                     2025-02, and the default from 1.1 */
    LF_CLIENT_AUTH_AUTO = 2 /**< learn which one works with a probe carrying an invalid code (see lf_exchange_code) */
} lf_client_auth;

/** What a trace line is about (the `event` argument of lf_trace_fn). New
 * events may be added; ignore the ones you do not know. @since 1.1.0 */
enum {
    LF_TRACE_CONNECT = 1,  /**< a new connection: host, port, address, why no pooled one was reused, times */
    LF_TRACE_REUSE = 2,    /**< a pooled connection was reused */
    LF_TRACE_TLS = 3,      /**< the TLS version and cipher of a new connection */
    LF_TRACE_REQUEST = 4,  /**< a request went out: method, URL without its query, body size */
    LF_TRACE_RESPONSE = 5, /**< an answer arrived: HTTP status, body size, total time */
    LF_TRACE_AUTO = 6,     /**< LF_CLIENT_AUTH_AUTO: each probe, its verdict and the style chosen */
    LF_TRACE_ERROR = 7,    /**< a failure: the status chosen and why (the answer's HTTP status and key) */
    LF_TRACE_NO_RETRY = 8  /**< a request that failed after it may have reached the server, not sent again */
};

/** Receives one trace line: human-readable, one line (no newline), UTF-8
 * without control characters, at most 511 bytes. Every secret is masked:
 * the client secret, the previous secret, codes, tokens, Basic credentials
 * and Authorization headers never appear in a line, whole or in part. Called
 * on the thread that makes the call, possibly from several threads at once;
 * `line` is valid only during the call. It must return normally (no
 * longjmp, no C++ exception) and must not call the library on the same
 * handle. @since 1.1.0 */
typedef void (*lf_trace_fn)(void *user, int event, const char *line);

/** Client configuration. Initialise with lf_auth_config_init(&cfg, sizeof cfg)
 * and set the fields you need. The struct only ever grows at the end; the
 * library reads only the fields inside `struct_size`. All strings are copied
 * by lf_auth_new(); the config may be discarded afterwards. @since 1.0.0 */
typedef struct lf_auth_config {
    size_t struct_size;                 /**< set by lf_auth_config_init */
    const char *client_id;              /**< required, non-empty */
    const char *client_secret;          /**< required, non-empty; copied and wiped on lf_auth_free */
    const char *previous_client_secret; /**< optional: during a secret rotation, webhooks signed with
                                           it still verify */
    const char *const *redirect_uris;   /**< allow-list of redirect URIs, exact strings; https, or
                                           http to a loopback host */
    size_t redirect_uri_count;          /**< 0 (since 1.1.0): a handle for webhooks and the API
                                           only, whose consent and callback calls return
                                           LF_E_REDIRECT_URI_NOT_ALLOWED */
    const char *authorize_url;          /**< NULL: https://app.lightfunnels.com/admin/oauth */
    const char *token_url;              /**< NULL: JSON_BODY -> https://api.lightfunnels.com/oauth/access_token,
                                           BASIC -> https://api.lightfunnels.com/api/access_token,
                                           AUTO -> probe both (newest first) */
    const char *api_url;                /**< NULL: https://services.lightfunnels.com/api/v2 */
    lf_client_auth client_auth;         /**< default LF_CLIENT_AUTH_BASIC since 1.1.0 (1.0.0:
                                           LF_CLIENT_AUTH_JSON_BODY). The default comes from
                                           lf_auth_config_init() at run time, so a program built
                                           against 1.0 gets BASIC from a 1.1 library too; set
                                           LF_CLIENT_AUTH_JSON_BODY to keep the earlier method.
                                           BASIC needs a client_id without ':' */
    long connect_timeout_ms;            /**< default 10000; must be > 0 */
    long timeout_ms;                    /**< default 30000, whole call: an AUTO exchange's probes and its
                                           request share it (since 1.1.0; 1.0.0 gave each request its
                                           own); must be > 0 */
    size_t max_response_bytes;          /**< default 1 MiB (1048576); must be > 0 */
    const char *ca_file;    /**< NULL: the system trust store; else trust exactly the CA certificates in this PEM file.
                                           Not read by lf_auth_new(): each new connection uses the file as it is
                                           then; a file that cannot be used fails the call that connects with
                                           LF_E_TLS, nothing sent */
    const char *user_agent; /**< NULL: "lightfunnels-auth/<version>" */
    long stall_timeout_ms;  /**< default 10000; must be > 0. Once a request has started to go
                                           out, no byte sent or received for this long fails it with
                                           LF_E_TIMEOUT: a server that stalls is given up on before timeout_ms
                                           (which still bounds one that trickles). Checked every ~100 ms.
                                           @since 1.1.0 */
    lf_trace_fn trace;      /**< NULL (default): no tracing, at no cost. Else called with each trace
                                           line of every call on this handle: on the calling thread, or for
                                           the async calls on the handle's I/O thread (so possibly from
                                           several threads at once). @since 1.1.0 */
    void *trace_user;       /**< passed to `trace` as is. @since 1.1.0 */
} lf_auth_config;

/** Zeroes `*cfg` and fills the defaults, writing only within the first `size`
 * bytes (pass `sizeof *cfg` as your program was compiled): an older program
 * is never overrun by a newer library. Sets cfg->struct_size = size. Does
 * nothing when cfg is NULL or size is too small to hold struct_size.
 * The defaults are the loaded library's: from 1.1.0, client_auth is
 * LF_CLIENT_AUTH_BASIC (see lf_auth_config.client_auth). @since 1.0.0 */
LF_API void lf_auth_config_init(lf_auth_config *cfg, size_t size);

/** Creates a client handle from `cfg`. Checks the whole configuration at once:
 * every URL must be absolute https (or http to a loopback host) without user
 * info; every redirect URI too. Loads nothing from the network.
 *
 * On success *out owns a handle to free with lf_auth_free(); on failure *out
 * is NULL.
 *
 * @return LF_OK; LF_E_INVALID_ARGUMENT (NULL cfg/out, missing client_id or
 * secret, no redirect URIs, malformed URL, non-positive timeout, a
 * struct_size that does not cover the required fields (up to and including
 * redirect_uri_count) or is larger than sizeof(lf_auth_config) of this
 * library, a ':' in client_id with LF_CLIENT_AUTH_BASIC, unknown client_auth).
 * Fields past a smaller struct_size (an older program) take their defaults;
 * LF_E_INSECURE_TRANSPORT (http:// to a non-loopback host, or another scheme);
 * LF_E_NO_MEMORY; LF_E_INTERNAL. @since 1.0.0 */
LF_API lf_status lf_auth_new(const lf_auth_config *cfg, lf_auth **out, lf_error *err);

/** Frees the handle and wipes the secrets it holds. No other thread may be
 * using the handle. Since 1.1.0: first completes every pending async call of
 * the handle with LF_E_CANCELLED (their `done` callbacks run on the handle's
 * I/O thread) and joins that thread; must not be called from such a `done`
 * callback of the same handle (see lf_exchange_code_async()). @since 1.0.0 */
LF_API void lf_auth_free(lf_auth *auth);

/* ------------------------------------------------------------------------ */
/* Consent and callback                                                      */
/* ------------------------------------------------------------------------ */

/** Builds the consent-screen URL
 *   `<authorize_url>?client_id=..&redirect_uri=..&scope=a,b[&state=..]`
 * into buf. `redirect_uri` must equal one allow-list entry byte for byte.
 * `scopes` is a comma-separated list: surrounding whitespace is trimmed,
 * empty entries and duplicates are dropped (first occurrence keeps its
 * place); each scope must match [a-z0-9_]+ (unknown names are allowed) and
 * at least one must remain. `state` (recommended: lf_state_generate()) is
 * omitted when NULL and must be non-empty otherwise. Every value is
 * percent-encoded (everything but A-Z a-z 0-9 - . _ ~), so any standard
 * decoder returns exactly the input; the commas between scopes stay literal.
 *
 * @return LF_OK; LF_E_INVALID_ARGUMENT (NULL a/redirect_uri/scopes, a bad
 * scope, empty scope list, a scope list over 4096 bytes, empty state, or
 * buf NULL with size > 0);
 * LF_E_REDIRECT_URI_NOT_ALLOWED (also for every URI on a handle made without
 * redirect URIs); LF_E_BUFFER_TOO_SMALL. Never allocates.
 * @since 1.0.0 */
LF_API lf_status lf_consent_url(const lf_auth *a, const char *redirect_uri, const char *scopes, const char *state,
                                char *buf, size_t size, size_t *needed);

/** Writes a fresh state value: 256 bits from the OS CSPRNG, base64url
 * without padding: 43 characters + NUL. `size` must
 * be at least LF_STATE_BUFFER_SIZE.
 * @return LF_OK, LF_E_INVALID_ARGUMENT (buf NULL), LF_E_BUFFER_TOO_SMALL,
 * LF_E_INTERNAL (the CSPRNG failed: there is never a weak fallback).
 * @since 1.0.0 */
LF_API lf_status lf_state_generate(char *buf, size_t size);

/** Compares two NUL-terminated strings in time that depends only on their
 * lengths, never on where they differ. Returns 1 when equal, 0 when not or
 * when either is NULL. @since 1.0.0 */
LF_API int lf_state_equal(const char *a, const char *b);

/** Parses the redirect the merchant came back with and copies the
 * authorization code into buf.
 *
 * `url_or_query` is a full URL ("https://app/cb?code=..&state=..#frag"), a
 * query with or without its leading '?', at most LF_MAX_CALLBACK_LENGTH
 * bytes. A fragment is ignored. Parameters are separated by '&' only; names
 * are matched case-sensitively; unknown parameters are ignored; a segment
 * without '=' is a name with an empty value. Decoding is strict: '+' is a
 * space, %XX needs two hex digits, %00 (a NUL) is an error, and the result
 * is decoded exactly once.
 *
 * Checks, in this order:
 *  1. a malformed escape, or a repeated code, state or error parameter:
 *     LF_E_INVALID_ARGUMENT;
 *  2. when expected_state is non-NULL, a missing or different state:
 *     LF_E_STATE_MISMATCH (compared in constant time); an empty
 *     expected_state (e.g. a lost session) never matches;
 *  3. an `error` parameter (e.g. access_denied, the merchant declined):
 *     LF_E_ACCESS_DENIED, with `error` in err->key and `error_description`
 *     in err->message;
 *  4. a missing or empty code, or one containing control characters:
 *     LF_E_INVALID_ARGUMENT.
 * `a` may be NULL. A handle made without redirect URIs
 * (redirect_uri_count 0) takes no callback: LF_E_REDIRECT_URI_NOT_ALLOWED
 * before anything is parsed (since 1.1.0).
 *
 * Returns also LF_E_BUFFER_TOO_SMALL (code is larger than buf). Never
 * allocates. @since 1.0.0 */
LF_API lf_status lf_parse_callback(const lf_auth *a, const char *url_or_query, const char *expected_state, char *code,
                                   size_t size, size_t *needed, lf_error *err);

/* ------------------------------------------------------------------------ */
/* Token exchange                                                            */
/* ------------------------------------------------------------------------ */

/** Opaque access token bought by lf_exchange_code(): read it with
 * lf_token_value() or lf_token_copy(), free it with lf_token_free().
 * @since 1.0.0 */
typedef struct lf_token lf_token;

/** Whether an authorization code can have reached the token endpoint, as
 * told by lf_exchange_code_ex() through lf_call_options.code_sent.
 * @since 1.1.0 */
typedef enum lf_code_sent {
    LF_CODE_NOT_SENT = 0,   /**< the code provably never left this process (bad argument, cancelled or
                                 timed out before sending, connection refused, DNS or TLS failure before
                                 the request, an AUTO probe that failed): try again with the same code */
    LF_CODE_MAYBE_SENT = 1, /**< the request went out (or started to) and no complete answer came back
                                 (reset, timeout or cancel after sending): the code may be spent, so send
                                 the merchant through consent again */
    LF_CODE_SENT = 2        /**< the server answered: it has seen the code (success or a rejection) */
} lf_code_sent;

/** Per-call control, for callers with deadlines and cancellation. Initialise
 * with lf_call_options_init(&o, sizeof o). Append-only. @since 1.0.0 */
typedef struct lf_call_options {
    size_t struct_size;      /**< set by lf_call_options_init */
    long timeout_ms;         /**< 0: the handle's timeout, else the smaller; the whole call; must be >= 0 */
    const int *cancel;       /**< optional; once *cancel != 0 the call returns LF_E_CANCELLED within ~100 ms.
                           Read without synchronisation from the calling thread: set it with an
                           atomic store (or from a signal handler via volatile sig_atomic_t-sized int). */
    lf_code_sent *code_sent; /**< optional out: lf_exchange_code_ex() writes whether the code can have
                                reached the server, before it returns, whatever the status (LF_CODE_SENT on
                                LF_OK). Other calls ignore it. @since 1.1.0 */
} lf_call_options;

/** Zeroes `*o`, writing only within `size` bytes, and sets struct_size.
 * @since 1.0.0 */
LF_API void lf_call_options_init(lf_call_options *o, size_t size);

/** Exchanges a single-use authorization code for the permanent access token.
 *
 * Sends, depending on the client-auth style:
 *  JSON_BODY: POST token_url, Content-Type: application/json,
 *             {"client_id":..,"client_secret":..,"code":..}
 *  BASIC:     POST token_url, Authorization: Basic base64(id:secret) (no
 *             URL-escaping first), Content-Type: application/x-www-form-urlencoded,
 *             code=<percent-encoded code>
 *  AUTO:      on the handle's first exchange, probes the candidate
 *             endpoint(s) with a deliberately invalid code (BASIC on
 *             /api/access_token first, then JSON_BODY on /oauth/access_token;
 *             both styles against token_url when one is configured). An
 *             answer that rejects the code (invalid_grant) proves the
 *             client was accepted; invalid_client, 401/403/404/405 mean "try
 *             the next". The first style accepted is cached for the life of
 *             the handle (thread-safely) and only then is the real code
 *             sent, exactly once. A probe that fails for another reason
 *             (network, timeout, 5xx) returns that error without sending the
 *             real code and without caching anything. If no style is
 *             accepted: LF_E_INVALID_CLIENT, real code not sent.
 *
 * Never follows redirects, never retries: a failure after the request may
 * have reached the server (LF_E_NETWORK, LF_E_TIMEOUT, LF_E_CANCELLED,
 * 5xx) must be treated as "the code may be spent": start the flow again.
 * lf_exchange_code_ex() with lf_call_options.code_sent tells the two cases
 * apart: LF_CODE_NOT_SENT means the same code can be tried again at once.
 *
 * The response must be a JSON object of at most 64 KiB (or
 * max_response_bytes, if smaller; a larger one is LF_E_RESPONSE_TOO_LARGE),
 * depth <= 8, no duplicated access_token, case-sensitive keys, whose
 * access_token is a string of 1 to LF_MAX_TOKEN_LENGTH characters of the
 * RFC 6750 b64token alphabet [A-Za-z0-9-._~+/]+=*. Once the code is out,
 * no failure of the lf_global_init() allocator (which, with
 * LF_INIT_HOOK_DEPENDENCIES, also serves libcurl and cJSON) can lose the
 * token.
 *
 * On success *out owns the token (free with lf_token_free()); on failure
 * *out is NULL.
 *
 * @return LF_OK; LF_E_INVALID_ARGUMENT (NULL a/code/out, empty code or one
 * longer than 4096 bytes);
 * LF_E_INVALID_CODE (400/401/403 saying the code is bad: invalid_grant);
 * LF_E_INVALID_CLIENT (the credentials were rejected: invalid_client, or a
 * 401/403 that does not name the code); LF_E_RATE_LIMITED (429, or the
 * rate_limit_reached key; err->retry_after_s); LF_E_HTTP (any other non-2xx,
 * incl. 3xx and 5xx); LF_E_PROTOCOL (2xx without a valid token, non-JSON
 * or malformed JSON); LF_E_RESPONSE_TOO_LARGE; LF_E_NETWORK; LF_E_TIMEOUT;
 * LF_E_TLS; LF_E_CANCELLED; LF_E_NO_MEMORY; LF_E_INTERNAL. err->key and
 * err->message carry the server's error and description.
 * @since 1.0.0 */
LF_API lf_status lf_exchange_code(const lf_auth *a, const char *code, lf_token **out, lf_error *err);

/** lf_exchange_code() with per-call options (NULL: none). Also returns
 * LF_E_INVALID_ARGUMENT for a struct_size smaller than sizeof(size_t) or
 * larger than sizeof(lf_call_options) of this library, or a negative
 * timeout. Fields past a smaller struct_size take their defaults.
 * @since 1.0.0 */
LF_API lf_status lf_exchange_code_ex(const lf_auth *a, const char *code, const lf_call_options *opts, lf_token **out,
                                     lf_error *err);

/** The access token, NUL-terminated; valid until lf_token_free(t). NULL when
 * t is NULL. @since 1.0.0 */
LF_API const char *lf_token_value(const lf_token *t);

/** Copies the token into buf (buffer convention). The token stays in t, so a
 * short buffer loses nothing: retry with a larger one.
 * @return LF_OK, LF_E_INVALID_ARGUMENT (t NULL, or buf NULL with size > 0),
 * LF_E_BUFFER_TOO_SMALL. @since 1.0.0 */
LF_API lf_status lf_token_copy(const lf_token *t, char *buf, size_t size, size_t *needed);

/** Wipes and frees the token. @since 1.0.0 */
LF_API void lf_token_free(lf_token *t);

/* ------------------------------------------------------------------------ */
/* Webhooks                                                                  */
/* ------------------------------------------------------------------------ */

/** Verifies a webhook's `lightfunnels-hmac` header: base64(HMAC-SHA256(key =
 * client_secret, message = the raw request body bytes)). The platform's
 * uninstall signal is the `app/uninstalled` webhook, whose node.id is the
 * account's id: delete that account's token when a verified one arrives. Pass the body
 * exactly as received, never a re-serialisation. The header may carry
 * leading/trailing spaces or tabs and may omit the '=' padding; anything
 * else (other characters, url-safe alphabet, hex, prefixes, internal
 * whitespace) does not match. The comparison is constant-time. A signature
 * made with previous_client_secret is accepted too.
 * There is no timestamp in the scheme: a replayed webhook still verifies, so
 * the application must deduplicate events.
 *
 * @return LF_OK; LF_E_SIGNATURE_MISMATCH (wrong, missing, empty or malformed
 * header); LF_E_INVALID_ARGUMENT (a NULL, or body NULL with len > 0);
 * LF_E_INTERNAL. @since 1.0.0 */
LF_API lf_status lf_webhook_verify(const lf_auth *a, const void *body, size_t len, const char *hmac_header);

/** Writes the `lightfunnels-hmac` value for body (with the current
 * client_secret): 44 characters + NUL, see LF_SIGNATURE_BUFFER_SIZE. For
 * tests and for tools that send webhooks.
 * @return LF_OK, LF_E_INVALID_ARGUMENT, LF_E_BUFFER_TOO_SMALL, LF_E_INTERNAL.
 * @since 1.0.0 */
LF_API lf_status lf_webhook_sign(const lf_auth *a, const void *body, size_t len, char *buf, size_t size,
                                 size_t *needed);

/* ------------------------------------------------------------------------ */
/* Using the token: the GraphQL API                                          */
/* ------------------------------------------------------------------------ */

/** Opaque API response made by lf_graphql(): read it with
 * lf_response_body(), lf_response_body_length() and
 * lf_response_http_status(), free it with lf_response_free(). @since 1.0.0 */
typedef struct lf_response lf_response;

/** POSTs {"query": query, "variables": variables_json} to api_url with
 * `Authorization: Bearer <access_token>`. `variables_json` is NULL (sent as
 * {}) or a JSON object text. The token must be a valid b64token (checked
 * before anything is sent, so it can never inject a header).
 *
 * Unlike other functions, *out is set whenever a complete HTTP response was
 * received, EVEN WHEN THE STATUS IS NOT LF_OK (so the body of an `errors`
 * answer stays readable); otherwise it is NULL. Free it in both cases.
 *
 * @return LF_OK (2xx and no `errors`; `"errors": []` and `"errors": null`
 * count as none); LF_E_API (a non-empty GraphQL `errors` array, or any
 * other non-null `errors` value: the first error's `key` and `message` are
 * in err);
 * LF_E_UNAUTHORIZED (401: the token does not work now, the merchant must
 * install again; not an uninstall, whose signal is the app/uninstalled
 * webhook, and no reason to delete the token silently);
 * LF_E_RATE_LIMITED (429 or the rate_limit_reached
 * key); LF_E_HTTP (other non-2xx); LF_E_PROTOCOL (a 2xx body that is not a
 * JSON object); LF_E_INVALID_ARGUMENT (NULL a/access_token/query/out, a
 * malformed token, variables that are not a JSON object);
 * LF_E_RESPONSE_TOO_LARGE; LF_E_NETWORK; LF_E_TIMEOUT; LF_E_TLS;
 * LF_E_CANCELLED; LF_E_NO_MEMORY; LF_E_INTERNAL. @since 1.0.0 */
LF_API lf_status lf_graphql(const lf_auth *a, const char *access_token, const char *query, const char *variables_json,
                            lf_response **out, lf_error *err);

/** lf_graphql() with per-call options (NULL: none). @since 1.0.0 */
LF_API lf_status lf_graphql_ex(const lf_auth *a, const char *access_token, const char *query,
                               const char *variables_json, const lf_call_options *opts, lf_response **out,
                               lf_error *err);

/** The response body (NUL-terminated; it may also contain NULs, see
 * lf_response_body_length); valid until lf_response_free(r). "" for NULL.
 * @since 1.0.0 */
LF_API const char *lf_response_body(const lf_response *r);

/** Length of the body in bytes, without the terminating NUL. 0 for NULL.
 * @since 1.0.0 */
LF_API size_t lf_response_body_length(const lf_response *r);

/** HTTP status of the response; 0 for NULL. @since 1.0.0 */
LF_API long lf_response_http_status(const lf_response *r);

/** Frees the response (wiping the body). @since 1.0.0 */
LF_API void lf_response_free(lf_response *r);

/** Asks the API which account the token belongs to (`query { account { id } }`)
 * and copies the id into buf (buffer convention). Apps key stored tokens by
 * it. Returns the statuses of lf_graphql(), plus LF_E_PROTOCOL when the
 * answer has no string or integer data.account.id (or one holding a control,
 * C1 or bidirectional formatting character), and LF_E_BUFFER_TOO_SMALL.
 * @since 1.0.0 */
LF_API lf_status lf_account_id(const lf_auth *a, const char *access_token, char *buf, size_t size, size_t *needed,
                               lf_error *err);

/** lf_account_id() with per-call options (NULL: none). @since 1.0.0 */
LF_API lf_status lf_account_id_ex(const lf_auth *a, const char *access_token, const lf_call_options *opts, char *buf,
                                  size_t size, size_t *needed, lf_error *err);

/* ------------------------------------------------------------------------ */
/* 1.1: signed, expiring state                                               */
/* ------------------------------------------------------------------------ */

/** lf_state_seal(): 76 base64url characters + NUL. @since 1.1.0 */
#define LF_SEALED_STATE_BUFFER_SIZE 77

/** Writes a sealed state into buf: a URL-safe value (base64url without
 * padding, [A-Za-z0-9_-], LF_SEALED_STATE_BUFFER_SIZE - 1 characters) that
 * carries a version, its issue time, 128 random bits from the OS CSPRNG and
 * a MAC keyed by a key derived (HKDF-SHA256, a fixed label) from
 * client_secret. lf_state_open() checks it with nothing stored in between,
 * on any server configured with the same client, so an app needs no session
 * store (and no cookie, e.g. inside the Lightfunnels admin iframe) between
 * consent and callback. Pass it as lf_consent_url()'s `state`.
 *
 * `binding` ties the state to the browser session that asked for consent
 * (e.g. the app's session id): lf_state_open() with another binding refuses
 * it. NULL and "" are the same: unbound. An unbound state proves only that
 * this client issued it recently; it does not stop an attacker from handing
 * a victim a callback URL with the attacker's own (valid) state and code
 * (login CSRF), so bind it whenever the app has a session. The binding is
 * not stored in the state; it is not secret either.
 *
 * Buffer convention: LF_E_BUFFER_TOO_SMALL with *needed =
 * LF_SEALED_STATE_BUFFER_SIZE when size is smaller (buf "" when size > 0);
 * buf NULL with size 0 is a size query.
 *
 * @return LF_OK; LF_E_INVALID_ARGUMENT (a NULL, or buf NULL with size > 0);
 * LF_E_BUFFER_TOO_SMALL; LF_E_INTERNAL (the CSPRNG failed). Thread-safe;
 * no allocation through the lf_global_init() allocator (OpenSSL's MAC
 * uses OpenSSL's heap). @since 1.1.0 */
LF_API lf_status lf_state_seal(const lf_auth *a, const char *binding, char *buf, size_t size, size_t *needed);

/** Checks a state made by lf_state_seal(): sealed by this client (same
 * client_id and client_secret, or previous_client_secret during a rotation),
 * for this `binding` (NULL = ""), and issued at most `max_age_s` seconds ago
 * and at most 60 seconds in the future (clock skew within a fleet). The MAC
 * is compared in constant time and checked before the time: a forged or
 * altered state is always LF_E_STATE_MISMATCH, never LF_E_STATE_EXPIRED.
 * A state may be opened more than once: to make it single-use, the app keeps
 * a record of the states it has accepted until they expire.
 *
 * @return LF_OK; LF_E_STATE_MISMATCH (forged or altered, malformed, another
 * binding, another client, an unknown version); LF_E_STATE_EXPIRED (older
 * than max_age_s, or issued more than 60 s in the future);
 * LF_E_INVALID_ARGUMENT (a or state NULL, max_age_s <= 0);
 * LF_E_INTERNAL. Detail in err (NULL allowed). Thread-safe; no allocation
 * through the lf_global_init() allocator (OpenSSL's MAC uses OpenSSL's heap).
 * @since 1.1.0 */
LF_API lf_status lf_state_open(const lf_auth *a, const char *state, const char *binding, long max_age_s, lf_error *err);

/** lf_parse_callback() for a sealed state: the same parsing, checks, order
 * and buffer convention, except that step 2 opens the callback's state with
 * lf_state_open(a, state, binding, max_age_s): a missing state or one it
 * refuses gives LF_E_STATE_MISMATCH, an expired one LF_E_STATE_EXPIRED (both
 * before an `error` parameter is looked at). `a` is required here.
 *
 * @return LF_OK; LF_E_INVALID_ARGUMENT (as lf_parse_callback(), a NULL a or
 * url_or_query, max_age_s <= 0); LF_E_REDIRECT_URI_NOT_ALLOWED (a handle
 * made without redirect URIs); LF_E_STATE_MISMATCH; LF_E_STATE_EXPIRED;
 * LF_E_ACCESS_DENIED; LF_E_BUFFER_TOO_SMALL; LF_E_INTERNAL. Thread-safe;
 * allocates as lf_state_open() does. @since 1.1.0 */
LF_API lf_status lf_parse_callback_sealed(const lf_auth *a, const char *url_or_query, const char *binding,
                                          long max_age_s, char *code, size_t size, size_t *needed, lf_error *err);

/* ------------------------------------------------------------------------ */
/* 1.1: non-blocking calls                                                   */
/* ------------------------------------------------------------------------ */

/** Completion of lf_exchange_code_async(): `status` is what
 * lf_exchange_code_ex() would have returned; `token` is the token on LF_OK
 * (NULL otherwise) and belongs to the callback: free it with lf_token_free()
 * (now or later, from any thread). `err` holds the detail and is valid only
 * during the call. @since 1.1.0 */
typedef void (*lf_exchange_done_fn)(void *user, lf_status status, lf_token *token, const lf_error *err);

/** Completion of lf_graphql_async(): `status` and `response` as
 * lf_graphql_ex() would give them (`response` is set whenever a complete
 * HTTP response arrived, even when status is not LF_OK; else NULL). The
 * response belongs to the callback: free it with lf_response_free(). `err`
 * is valid only during the call. @since 1.1.0 */
typedef void (*lf_response_done_fn)(void *user, lf_status status, lf_response *response, const lf_error *err);

/** lf_exchange_code_ex() without blocking: returns at once, and the result
 * comes to `done` later.
 *
 * Threads. Each handle has one library I/O thread, started by its first
 * async call, that drives all of the handle's pending async requests
 * concurrently (one libcurl multi handle); the blocking calls are unchanged
 * and do not use it. `done` runs on that I/O thread, so it must be short
 * and must not block: hand the result to your own loop (e.g. uv_async_send,
 * a write to an eventfd) or queue it. Inside `done` you may call any
 * function of the library, including other async calls (on this handle or
 * another) and blocking calls on another handle; a blocking call on the same
 * handle works but stalls that handle's other async calls meanwhile. Calling
 * lf_auth_free() on the same handle from `done` is NOT allowed: the library
 * detects it and aborts the process with a message on stderr (the I/O
 * thread cannot wait for itself to finish).
 *
 * Same guarantees as lf_exchange_code_ex(): the code is sent at most once,
 * AUTO probes (as further requests of this call, never blocking the I/O
 * thread) before the real code is sent, the token's room is taken before the
 * call is queued, `opts->timeout_ms` bounds the whole call and
 * `opts->cancel` is checked at least every ~100 ms (it must stay valid until
 * `done` runs). `opts` itself is read before this function returns, except
 * `opts->code_sent` (if set), which is written on the I/O thread just before
 * `done` is called and must stay valid until then (on a synchronous failure
 * it is not written: nothing was sent). `code` is copied.
 *
 * lf_auth_free() completes every pending call with LF_E_CANCELLED (`done`
 * is called) before it returns. fork(): while a handle has async calls
 * pending, its I/O thread is inside a call (convention 11: do not fork
 * then); with none pending, a child may use the handle: its first async
 * call starts the child's own I/O thread (the parent's does not exist
 * there), and nothing of the parent's loop is touched.
 *
 * @return LF_OK: queued, `done` will be called exactly once. Any other
 * status: nothing was queued or sent and `done` is never called:
 * LF_E_INVALID_ARGUMENT (NULL a/code/done, an empty code or one longer than
 * 4096 bytes, bad opts as for lf_exchange_code_ex()); LF_E_NO_MEMORY;
 * LF_E_CANCELLED (the handle is being freed: a call made from a `done`
 * callback during lf_auth_free()); LF_E_INTERNAL (no thread could be
 * started). `done` then receives the statuses of lf_exchange_code_ex().
 * @since 1.1.0 */
LF_API lf_status lf_exchange_code_async(const lf_auth *a, const char *code, const lf_call_options *opts,
                                        lf_exchange_done_fn done, void *user);

/** lf_graphql_ex() without blocking: returns at once and the result comes
 * to `done` later, on the handle's I/O thread (threads, callbacks, options,
 * cancellation and lf_auth_free() as for lf_exchange_code_async()). The
 * token, query and variables are checked and copied before this returns.
 *
 * @return LF_OK: queued, `done` will be called exactly once. Otherwise
 * `done` is never called: LF_E_INVALID_ARGUMENT (NULL a/access_token/query/
 * done, a malformed token, an empty query, variables that are not a JSON
 * object, bad opts); LF_E_NO_MEMORY; LF_E_CANCELLED (the handle is being
 * freed); LF_E_INTERNAL. `done` receives the statuses of lf_graphql_ex().
 * @since 1.1.0 */
LF_API lf_status lf_graphql_async(const lf_auth *a, const char *access_token, const char *query,
                                  const char *variables_json, const lf_call_options *opts, lf_response_done_fn done,
                                  void *user);

LF_END_DECLS

#endif /* LIGHTFUNNELS_AUTH_H */
