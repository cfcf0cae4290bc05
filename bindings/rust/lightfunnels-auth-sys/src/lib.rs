//! Raw declarations of `include/lightfunnels/auth.h`, written by hand.
//!
//! Everything here mirrors the C header one to one; read the header for the
//! contract of each function (ownership, buffer convention, statuses,
//! thread-safety). The safe API lives in the `lightfunnels-auth` crate.
//!
//! The library is found with the `pkg-config` program (`lightfunnels-auth.pc`;
//! set `PKG_CONFIG_PATH` for a non-system prefix). `tests/layout.rs` checks
//! every struct layout and constant below against the installed header through
//! a small C probe compiled by `build.rs`, and checks that every function the
//! header declares is declared here.
//!
//! C types come from `std::os::raw` (`core::ffi::c_*` needs rustc 1.64; this
//! crate builds with 1.63).
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_long, c_uint, c_void};

// ---------------------------------------------------------------------------
// Version and bounds
// ---------------------------------------------------------------------------

pub const LF_AUTH_VERSION_MAJOR: c_int = 1;
pub const LF_AUTH_VERSION_MINOR: c_int = 1;
pub const LF_AUTH_VERSION_PATCH: c_int = 0;
/// The header's version, without the NUL (compare with `lf_version()`).
pub const LF_AUTH_VERSION_STRING: &str = "1.1.0";
pub const LF_AUTH_VERSION_NUMBER: c_int =
    LF_AUTH_VERSION_MAJOR * 10000 + LF_AUTH_VERSION_MINOR * 100 + LF_AUTH_VERSION_PATCH;

/// `lf_state_generate()`: 43 base64url characters + NUL.
pub const LF_STATE_BUFFER_SIZE: usize = 44;
/// `lf_state_seal()`: 76 base64url characters + NUL (since 1.1).
pub const LF_SEALED_STATE_BUFFER_SIZE: usize = 77;
/// `lf_webhook_sign()`: 44 base64 characters + NUL.
pub const LF_SIGNATURE_BUFFER_SIZE: usize = 45;
/// Longest access token accepted from a server (bytes, without the NUL).
pub const LF_MAX_TOKEN_LENGTH: usize = 4096;
/// Longest callback URL or query accepted by `lf_parse_callback()` (bytes).
pub const LF_MAX_CALLBACK_LENGTH: usize = 8192;

/// `lf_global_init()` flag: also route libcurl's and cJSON's allocations
/// through the allocator (process-wide!).
pub const LF_INIT_HOOK_DEPENDENCIES: c_uint = 0x1;

// ---------------------------------------------------------------------------
// Status codes
// ---------------------------------------------------------------------------

// `enum lf_status` has no negative enumerator, so GCC and Clang give it the
// type `unsigned int`; MSVC always uses `int`. Same rule as git2-rs' git_enum!.
/// `enum lf_status` (values are ABI: never renumbered, never reused).
#[cfg(not(target_env = "msvc"))]
pub type lf_status = c_uint;
/// `enum lf_status` (values are ABI: never renumbered, never reused).
#[cfg(target_env = "msvc")]
pub type lf_status = c_int;

pub const LF_OK: lf_status = 0;
pub const LF_E_INVALID_ARGUMENT: lf_status = 1;
pub const LF_E_BUFFER_TOO_SMALL: lf_status = 2;
pub const LF_E_NO_MEMORY: lf_status = 3;
pub const LF_E_REDIRECT_URI_NOT_ALLOWED: lf_status = 4;
pub const LF_E_STATE_MISMATCH: lf_status = 5;
pub const LF_E_STATE_EXPIRED: lf_status = 6;
pub const LF_E_ACCESS_DENIED: lf_status = 7;
pub const LF_E_NETWORK: lf_status = 8;
pub const LF_E_TIMEOUT: lf_status = 9;
pub const LF_E_TLS: lf_status = 10;
pub const LF_E_INSECURE_TRANSPORT: lf_status = 11;
pub const LF_E_HTTP: lf_status = 12;
pub const LF_E_INVALID_CODE: lf_status = 13;
pub const LF_E_INVALID_CLIENT: lf_status = 14;
pub const LF_E_UNAUTHORIZED: lf_status = 15;
pub const LF_E_API: lf_status = 16;
pub const LF_E_PROTOCOL: lf_status = 17;
pub const LF_E_RESPONSE_TOO_LARGE: lf_status = 18;
pub const LF_E_SIGNATURE_MISMATCH: lf_status = 19;
pub const LF_E_CANCELLED: lf_status = 20;
pub const LF_E_RATE_LIMITED: lf_status = 21;
pub const LF_E_INTERNAL: lf_status = 22;

/// `enum lf_client_auth` (same integer rule as `lf_status`).
#[cfg(not(target_env = "msvc"))]
pub type lf_client_auth = c_uint;
/// `enum lf_client_auth` (same integer rule as `lf_status`).
#[cfg(target_env = "msvc")]
pub type lf_client_auth = c_int;

pub const LF_CLIENT_AUTH_JSON_BODY: lf_client_auth = 0;
pub const LF_CLIENT_AUTH_BASIC: lf_client_auth = 1;
pub const LF_CLIENT_AUTH_AUTO: lf_client_auth = 2;

/// `enum lf_code_sent` (same integer rule as `lf_status`): whether
/// `lf_exchange_code_ex()` can have delivered the code. Since 1.1.0.
#[cfg(not(target_env = "msvc"))]
pub type lf_code_sent = c_uint;
/// `enum lf_code_sent` (same integer rule as `lf_status`): whether
/// `lf_exchange_code_ex()` can have delivered the code. Since 1.1.0.
#[cfg(target_env = "msvc")]
pub type lf_code_sent = c_int;

/// The code provably never left the process: the same code can be tried again.
pub const LF_CODE_NOT_SENT: lf_code_sent = 0;
/// The request went out (or started to) without a complete answer: the code may be spent.
pub const LF_CODE_MAYBE_SENT: lf_code_sent = 1;
/// The server answered: it has seen the code.
pub const LF_CODE_SENT: lf_code_sent = 2;

// What a trace line is about (the `event` argument of `lf_trace_fn`). The C
// enum is anonymous, so the values are plain `int`s. New events may be added:
// ignore the ones you do not know. Since 1.1.0.
/// A new connection: host, port, address, why no pooled one was reused, times.
pub const LF_TRACE_CONNECT: c_int = 1;
/// A pooled connection was reused.
pub const LF_TRACE_REUSE: c_int = 2;
/// The TLS version and cipher of a new connection.
pub const LF_TRACE_TLS: c_int = 3;
/// A request went out: method, URL without its query, body size.
pub const LF_TRACE_REQUEST: c_int = 4;
/// An answer arrived: HTTP status, body size, total time.
pub const LF_TRACE_RESPONSE: c_int = 5;
/// `LF_CLIENT_AUTH_AUTO`: each probe, its verdict and the style chosen.
pub const LF_TRACE_AUTO: c_int = 6;
/// A failure: the status chosen and why.
pub const LF_TRACE_ERROR: c_int = 7;
/// A request that failed after it may have reached the server, not sent again.
pub const LF_TRACE_NO_RETRY: c_int = 8;

/// Receives one trace line (since 1.1.0): one line of at most 511 bytes,
/// every secret masked, valid only during the call. Called on the thread
/// making the library call, possibly from several at once. It must return
/// normally: a Rust panic must not unwind out of it.
pub type lf_trace_fn = Option<unsafe extern "C" fn(user: *mut c_void, event: c_int, line: *const c_char)>;

/// Completion of `lf_exchange_code_async()` (since 1.1): called exactly once,
/// on the handle's I/O thread; it owns `token` (free it with `lf_token_free`).
pub type lf_exchange_done_fn = Option<
    unsafe extern "C" fn(user: *mut c_void, status: lf_status, token: *mut lf_token, err: *const lf_error),
>;

/// Completion of `lf_graphql_async()` (since 1.1): called exactly once, on the
/// handle's I/O thread; it owns `response` (free it with `lf_response_free`).
pub type lf_response_done_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        status: lf_status,
        response: *mut lf_response,
        err: *const lf_error,
    ),
>;

// ---------------------------------------------------------------------------
// Structs
// ---------------------------------------------------------------------------

/// Detail about a failure. Frozen layout.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct lf_error {
    pub status: lf_status,
    pub http_status: c_long,
    pub retry_after_s: c_long,
    pub key: [c_char; 64],
    pub message: [c_char; 256],
}

impl lf_error {
    /// An all-zero error (status `LF_OK`, empty strings), ready to pass in.
    pub const fn zeroed() -> lf_error {
        lf_error { status: LF_OK, http_status: 0, retry_after_s: 0, key: [0; 64], message: [0; 256] }
    }
}

/// A custom allocator. Frozen layout. All three functions are required.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct lf_allocator {
    pub alloc: Option<unsafe extern "C" fn(ctx: *mut c_void, n: usize) -> *mut c_void>,
    pub realloc: Option<unsafe extern "C" fn(ctx: *mut c_void, p: *mut c_void, n: usize) -> *mut c_void>,
    pub free: Option<unsafe extern "C" fn(ctx: *mut c_void, p: *mut c_void)>,
    pub ctx: *mut c_void,
}

/// Opaque client handle (`lf_auth_new` / `lf_auth_free`).
pub enum lf_auth {}
/// Opaque access token (`lf_exchange_code` / `lf_token_free`).
pub enum lf_token {}
/// Opaque GraphQL response (`lf_graphql` / `lf_response_free`).
pub enum lf_response {}

/// Client configuration; initialise with
/// `lf_auth_config_init(&mut cfg, size_of::<lf_auth_config>())`.
/// Append-only: the library reads only the fields inside `struct_size`.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct lf_auth_config {
    pub struct_size: usize,
    pub client_id: *const c_char,
    pub client_secret: *const c_char,
    pub previous_client_secret: *const c_char,
    pub redirect_uris: *const *const c_char,
    pub redirect_uri_count: usize,
    pub authorize_url: *const c_char,
    pub token_url: *const c_char,
    pub api_url: *const c_char,
    pub client_auth: lf_client_auth,
    pub connect_timeout_ms: c_long,
    pub timeout_ms: c_long,
    pub max_response_bytes: usize,
    pub ca_file: *const c_char,
    pub user_agent: *const c_char,
    /// Since 1.1.0 (default 10000, must be > 0): no byte either way for this
    /// long once a request started fails it with `LF_E_TIMEOUT`.
    pub stall_timeout_ms: c_long,
    /// Since 1.1.0: `None` (default), no tracing; else called with each
    /// trace line of every call on this handle.
    pub trace: lf_trace_fn,
    /// Since 1.1.0: passed to `trace` as is.
    pub trace_user: *mut c_void,
}

/// Per-call options; initialise with
/// `lf_call_options_init(&mut o, size_of::<lf_call_options>())`. Append-only.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct lf_call_options {
    pub struct_size: usize,
    pub timeout_ms: c_long,
    /// Read by the library without synchronisation while a call runs: point it
    /// at an `AtomicI32` (same layout as `c_int`) and store with an atomic op.
    pub cancel: *const c_int,
    /// Since 1.1.0, optional out: `lf_exchange_code_ex()` writes whether the
    /// code can have reached the server, whatever the status. Other calls
    /// ignore it.
    pub code_sent: *mut lf_code_sent,
}

// ---------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------

extern "C" {
    pub fn lf_status_name(status: lf_status) -> *const c_char;
    pub fn lf_status_message(status: lf_status) -> *const c_char;

    pub fn lf_global_init(allocator: *const lf_allocator, flags: c_uint) -> lf_status;
    pub fn lf_global_cleanup();
    pub fn lf_version() -> *const c_char;

    pub fn lf_auth_config_init(cfg: *mut lf_auth_config, size: usize);
    pub fn lf_auth_new(cfg: *const lf_auth_config, out: *mut *mut lf_auth, err: *mut lf_error) -> lf_status;
    pub fn lf_auth_free(auth: *mut lf_auth);

    pub fn lf_consent_url(
        a: *const lf_auth,
        redirect_uri: *const c_char,
        scopes: *const c_char,
        state: *const c_char,
        buf: *mut c_char,
        size: usize,
        needed: *mut usize,
    ) -> lf_status;
    pub fn lf_state_generate(buf: *mut c_char, size: usize) -> lf_status;
    pub fn lf_state_equal(a: *const c_char, b: *const c_char) -> c_int;
    pub fn lf_parse_callback(
        a: *const lf_auth,
        url_or_query: *const c_char,
        expected_state: *const c_char,
        code: *mut c_char,
        size: usize,
        needed: *mut usize,
        err: *mut lf_error,
    ) -> lf_status;

    // 1.1: signed, expiring state.
    pub fn lf_state_seal(
        a: *const lf_auth,
        binding: *const c_char,
        buf: *mut c_char,
        size: usize,
        needed: *mut usize,
    ) -> lf_status;
    pub fn lf_state_open(
        a: *const lf_auth,
        state: *const c_char,
        binding: *const c_char,
        max_age_s: c_long,
        err: *mut lf_error,
    ) -> lf_status;
    pub fn lf_parse_callback_sealed(
        a: *const lf_auth,
        url_or_query: *const c_char,
        binding: *const c_char,
        max_age_s: c_long,
        code: *mut c_char,
        size: usize,
        needed: *mut usize,
        err: *mut lf_error,
    ) -> lf_status;

    pub fn lf_call_options_init(o: *mut lf_call_options, size: usize);
    pub fn lf_exchange_code(
        a: *const lf_auth,
        code: *const c_char,
        out: *mut *mut lf_token,
        err: *mut lf_error,
    ) -> lf_status;
    pub fn lf_exchange_code_ex(
        a: *const lf_auth,
        code: *const c_char,
        opts: *const lf_call_options,
        out: *mut *mut lf_token,
        err: *mut lf_error,
    ) -> lf_status;
    pub fn lf_token_value(t: *const lf_token) -> *const c_char;
    pub fn lf_token_copy(t: *const lf_token, buf: *mut c_char, size: usize, needed: *mut usize) -> lf_status;
    pub fn lf_token_free(t: *mut lf_token);

    pub fn lf_webhook_verify(
        a: *const lf_auth,
        body: *const c_void,
        len: usize,
        hmac_header: *const c_char,
    ) -> lf_status;
    pub fn lf_webhook_sign(
        a: *const lf_auth,
        body: *const c_void,
        len: usize,
        buf: *mut c_char,
        size: usize,
        needed: *mut usize,
    ) -> lf_status;

    pub fn lf_graphql(
        a: *const lf_auth,
        access_token: *const c_char,
        query: *const c_char,
        variables_json: *const c_char,
        out: *mut *mut lf_response,
        err: *mut lf_error,
    ) -> lf_status;
    pub fn lf_graphql_ex(
        a: *const lf_auth,
        access_token: *const c_char,
        query: *const c_char,
        variables_json: *const c_char,
        opts: *const lf_call_options,
        out: *mut *mut lf_response,
        err: *mut lf_error,
    ) -> lf_status;

    /// Since 1.1: queues the exchange on the handle's I/O thread. `LF_OK`:
    /// `done` is called exactly once later; any other status: never.
    pub fn lf_exchange_code_async(
        a: *const lf_auth,
        code: *const c_char,
        opts: *const lf_call_options,
        done: lf_exchange_done_fn,
        user: *mut c_void,
    ) -> lf_status;
    /// Since 1.1: `lf_graphql_ex` queued on the handle's I/O thread, as
    /// `lf_exchange_code_async`.
    pub fn lf_graphql_async(
        a: *const lf_auth,
        access_token: *const c_char,
        query: *const c_char,
        variables_json: *const c_char,
        opts: *const lf_call_options,
        done: lf_response_done_fn,
        user: *mut c_void,
    ) -> lf_status;
    pub fn lf_response_body(r: *const lf_response) -> *const c_char;
    pub fn lf_response_body_length(r: *const lf_response) -> usize;
    pub fn lf_response_http_status(r: *const lf_response) -> c_long;
    pub fn lf_response_free(r: *mut lf_response);

    pub fn lf_account_id(
        a: *const lf_auth,
        access_token: *const c_char,
        buf: *mut c_char,
        size: usize,
        needed: *mut usize,
        err: *mut lf_error,
    ) -> lf_status;
    pub fn lf_account_id_ex(
        a: *const lf_auth,
        access_token: *const c_char,
        opts: *const lf_call_options,
        buf: *mut c_char,
        size: usize,
        needed: *mut usize,
        err: *mut lf_error,
    ) -> lf_status;
}
