//! `Client` (an `lf_auth` handle), its `Config`, and per-call `CallOptions`.

use crate::error::{CodeSent, Error, Status};
use crate::response::Response;
use crate::secret::{AccessToken, Secret, WipedCString};
use crate::trace::{Installed, Trace, TraceEvent};
use lightfunnels_auth_sys as sys;
use std::ffi::CString;
use std::mem::{size_of, MaybeUninit};
use std::os::raw::{c_char, c_int, c_long, c_void};
use std::path::PathBuf;
use std::ptr::{self, NonNull};
use std::sync::atomic::AtomicI32;
use std::time::Duration;

/// How the client authenticates at the token endpoint (`lf_client_auth`).
/// The default is `Basic`, the platform's documented method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// `client_id` + `client_secret` in a JSON body to `/oauth/access_token`:
    /// the earlier method (the platform's 2024 sample app; the default before
    /// 1.1), no longer in the platform's docs.
    JsonBody,
    /// `Authorization: Basic` to `/api/access_token`, code in a form body: the
    /// only method the platform's docs give since 2025-02, and the default.
    /// A `client_id` with ':' cannot be carried (`Status::InvalidArgument`).
    Basic,
    /// Learn which style works with a probe carrying an invalid code, before
    /// the real code is ever sent (see `lf_exchange_code` in the header).
    Auto,
}

// `#[derive(Default)]` on enums needs `#[default]` (rustc 1.62+); spelled out
// so the crate stays buildable with older toolchains too.
#[allow(clippy::derivable_impls)]
impl Default for ClientAuth {
    fn default() -> ClientAuth {
        ClientAuth::Basic
    }
}

impl ClientAuth {
    fn raw(self) -> sys::lf_client_auth {
        match self {
            ClientAuth::JsonBody => sys::LF_CLIENT_AUTH_JSON_BODY,
            ClientAuth::Basic => sys::LF_CLIENT_AUTH_BASIC,
            ClientAuth::Auto => sys::LF_CLIENT_AUTH_AUTO,
        }
    }
}

/// Client configuration (`lf_auth_config`). Fields left `None` take the
/// library's defaults (production Lightfunnels URLs, 10 s connect timeout,
/// 30 s total timeout, 10 s stall timeout, 1 MiB responses, the system trust
/// store).
///
/// `Debug` never shows the secrets.
///
/// ```no_run
/// use lightfunnels_auth::{Client, Config};
/// use std::time::Duration;
/// let cfg = Config::new("my-client-id", std::env::var("LF_CLIENT_SECRET").unwrap(),
///                       "https://app.example.com/oauth/callback")
///     .timeout(Duration::from_secs(20));
/// let client = Client::new(cfg)?;
/// # Ok::<(), lightfunnels_auth::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Required, non-empty.
    pub client_id: String,
    /// Required, non-empty; wiped from memory when the `Config` is dropped.
    pub client_secret: Secret,
    /// During a secret rotation, webhooks signed with it still verify.
    pub previous_client_secret: Option<Secret>,
    /// Allow-list of redirect URIs (exact strings; https, or http to a
    /// loopback host). Optional (library 1.1): empty makes a client for
    /// webhooks and the API only, whose consent and callback calls
    /// ([`Client::consent_url`], [`Client::parse_callback`],
    /// [`Client::parse_callback_sealed`]) fail with
    /// `Status::RedirectUriNotAllowed`:
    /// `Config { redirect_uris: Vec::new(), ..Config::new(id, secret, "") }`.
    pub redirect_uris: Vec<String>,
    /// Consent screen; default `https://app.lightfunnels.com/admin/oauth`.
    pub authorize_url: Option<String>,
    /// Token endpoint; default depends on `client_auth`.
    pub token_url: Option<String>,
    /// GraphQL endpoint; default `https://services.lightfunnels.com/api/v2`.
    pub api_url: Option<String>,
    /// Token-endpoint authentication style; default `ClientAuth::Basic`.
    pub client_auth: ClientAuth,
    /// Connect timeout (must be > 0; sub-millisecond values round up to 1 ms).
    pub connect_timeout: Option<Duration>,
    /// Whole-request timeout (must be > 0).
    pub timeout: Option<Duration>,
    /// Once a request has started, no byte sent or received for this long
    /// fails it with `Status::Timeout` (must be > 0; default 10 s), so a
    /// server that stalls is given up on before `timeout`.
    pub stall_timeout: Option<Duration>,
    /// Largest response accepted (must be > 0).
    pub max_response_bytes: Option<usize>,
    /// PEM bundle of trusted CAs instead of the system store.
    pub ca_file: Option<PathBuf>,
    /// Default `lightfunnels-auth/<version>`.
    pub user_agent: Option<String>,
    /// Called with each trace line of every call (library 1.1); set it with
    /// [`Config::trace`]. `None`: no tracing, at no cost.
    pub trace: Option<Trace>,
}

impl Config {
    /// A configuration with the required fields and one allowed redirect URI.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Config {
        Config {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            previous_client_secret: None,
            redirect_uris: vec![redirect_uri.into()],
            authorize_url: None,
            token_url: None,
            api_url: None,
            client_auth: ClientAuth::default(),
            connect_timeout: None,
            timeout: None,
            stall_timeout: None,
            max_response_bytes: None,
            ca_file: None,
            user_agent: None,
            trace: None,
        }
    }

    /// Allows one more redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Config {
        self.redirect_uris.push(uri.into());
        self
    }
    /// Sets the previous secret (secret rotation).
    pub fn previous_client_secret(mut self, secret: impl Into<Secret>) -> Config {
        self.previous_client_secret = Some(secret.into());
        self
    }
    /// Sets the consent-screen URL.
    pub fn authorize_url(mut self, url: impl Into<String>) -> Config {
        self.authorize_url = Some(url.into());
        self
    }
    /// Sets the token endpoint.
    pub fn token_url(mut self, url: impl Into<String>) -> Config {
        self.token_url = Some(url.into());
        self
    }
    /// Sets the GraphQL endpoint.
    pub fn api_url(mut self, url: impl Into<String>) -> Config {
        self.api_url = Some(url.into());
        self
    }
    /// Sets the token-endpoint authentication style.
    pub fn client_auth(mut self, style: ClientAuth) -> Config {
        self.client_auth = style;
        self
    }
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Config {
        self.connect_timeout = Some(d);
        self
    }
    /// Sets the whole-request timeout.
    pub fn timeout(mut self, d: Duration) -> Config {
        self.timeout = Some(d);
        self
    }
    /// Sets the stall timeout: no byte either way for this long (once a
    /// request started) ends the call with `Status::Timeout`.
    pub fn stall_timeout(mut self, d: Duration) -> Config {
        self.stall_timeout = Some(d);
        self
    }
    /// Sets the response size limit.
    pub fn max_response_bytes(mut self, n: usize) -> Config {
        self.max_response_bytes = Some(n);
        self
    }
    /// Trusts the CAs in this PEM file instead of the system store.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Config {
        self.ca_file = Some(path.into());
        self
    }
    /// Sets the User-Agent header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Config {
        self.user_agent = Some(ua.into());
        self
    }
    /// Calls `f(event, line)` with each trace line of every call on the
    /// client: connections (and why one was not reused), TLS, requests
    /// (method, URL without its query, body size), answers, `Auto` probes,
    /// the error chosen, requests not sent again.
    ///
    /// The library has masked every secret in `line` already (client
    /// secrets, codes, tokens, Basic credentials), so it can go to an
    /// ordinary log. `f` runs on the thread making the call, while that call
    /// waits (for [`Client::exchange_code_async`] and
    /// [`Client::graphql_async`]: on the handle's I/O thread), possibly on
    /// several threads at once: keep it quick. It must
    /// not call the same client. A panic in `f` is caught (after the panic
    /// hook has reported it), that line is dropped, and the call goes on.
    ///
    /// ```no_run
    /// use lightfunnels_auth::{Client, Config};
    /// let client = Client::new(
    ///     Config::new("my-client-id", std::env::var("LF_CLIENT_SECRET").unwrap(),
    ///                 "https://app.example.com/oauth/callback")
    ///         .trace(|event, line| eprintln!("lightfunnels {:?}: {}", event, line)),
    /// )?;
    /// # Ok::<(), lightfunnels_auth::Error>(())
    /// ```
    pub fn trace(mut self, f: impl Fn(TraceEvent, &str) + Send + Sync + 'static) -> Config {
        self.trace = Some(Trace::new(f));
        self
    }
}

/// Per-call control (`lf_call_options`) for deadlines and cancellation.
///
/// `cancel`: once the flag holds a non-zero value the call returns
/// `Status::Cancelled` within about 100 ms. The library reads it as a C
/// `int` through a `const int *`; `AtomicI32` is documented to have the same
/// in-memory representation as `i32` (= `c_int`, checked at compile time
/// below), so the library sees the flag's storage directly. Set it with an
/// atomic store from any thread (`flag.store(1, Ordering::SeqCst)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CallOptions<'a> {
    /// Deadline for this call; the smaller of this and the client's timeout
    /// applies. `None`: the client's timeout. A zero duration means 1 ms.
    pub timeout: Option<Duration>,
    /// Cancellation flag, see above.
    pub cancel: Option<&'a AtomicI32>,
}

// The cancel pointer cast in CallOptions::to_sys relies on these.
const _: () = assert!(size_of::<AtomicI32>() == size_of::<c_int>());
const _: () = assert!(std::mem::align_of::<AtomicI32>() == std::mem::align_of::<c_int>());

impl<'a> CallOptions<'a> {
    /// Options with a deadline.
    pub fn with_timeout(timeout: Duration) -> CallOptions<'a> {
        CallOptions { timeout: Some(timeout), cancel: None }
    }

    /// Options with a cancellation flag.
    pub fn with_cancel(cancel: &'a AtomicI32) -> CallOptions<'a> {
        CallOptions { timeout: None, cancel: Some(cancel) }
    }

    /// The C struct; it points at `self.cancel`, so use it within `'a`.
    pub(crate) fn to_sys(self) -> sys::lf_call_options {
        let mut o = MaybeUninit::<sys::lf_call_options>::zeroed();
        // SAFETY: o is writable for size_of::<lf_call_options>() bytes, and
        // all-zero is a valid lf_call_options (integers and a null pointer).
        let mut o = unsafe {
            sys::lf_call_options_init(o.as_mut_ptr(), size_of::<sys::lf_call_options>());
            o.assume_init()
        };
        o.timeout_ms = self.timeout.map(millis).unwrap_or(0);
        o.cancel = match self.cancel {
            Some(flag) => flag as *const AtomicI32 as *const c_int,
            None => ptr::null(),
        };
        o
    }
}

/// Milliseconds for a C `long`: rounds a non-zero sub-millisecond value up
/// to 1 and saturates at `c_long::MAX`.
fn millis(d: Duration) -> c_long {
    let ms = d.as_millis();
    let ms = if ms == 0 { 1 } else { ms };
    if ms > c_long::MAX as u128 {
        c_long::MAX
    } else {
        ms as c_long
    }
}

pub(crate) fn cstring(s: &str, what: &str) -> Result<CString, Error> {
    CString::new(s)
        .map_err(|_| Error::binding(Status::InvalidArgument, &format!("{} contains a NUL byte", what)))
}

/// Whole seconds for the library's `long`, clamped so a huge duration stays
/// huge (never wraps to a negative).
fn max_age_seconds(d: Duration) -> c_long {
    d.as_secs().min(i32::MAX as u64) as c_long
}

fn opt_cstring(s: &Option<String>, what: &str) -> Result<Option<CString>, Error> {
    s.as_deref().map(|s| cstring(s, what)).transpose()
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map(|c| c.as_ptr()).unwrap_or(ptr::null())
}

#[cfg(unix)]
fn path_cstring(p: &std::path::Path) -> Result<CString, Error> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::binding(Status::InvalidArgument, "ca_file contains a NUL byte"))
}

#[cfg(not(unix))]
fn path_cstring(p: &std::path::Path) -> Result<CString, Error> {
    match p.to_str() {
        Some(s) => cstring(s, "ca_file"),
        None => Err(Error::binding(Status::InvalidArgument, "ca_file is not valid UTF-8")),
    }
}

/// Runs a buffer-convention call `f(buf, size, needed)` until the buffer is
/// large enough (bounded: the outputs are deterministic, so the second call
/// normally succeeds) and returns the bytes before the NUL. `first_size` 0
/// starts with a size query.
fn fill_bytes<F>(first_size: usize, mut f: F) -> Result<Vec<u8>, sys::lf_status>
where
    F: FnMut(*mut c_char, usize, *mut usize) -> sys::lf_status,
{
    let mut size = first_size;
    for _ in 0..4 {
        let mut buf = vec![0u8; size];
        let mut needed: usize = 0;
        let p = if size == 0 { ptr::null_mut() } else { buf.as_mut_ptr() as *mut c_char };
        let st = f(p, size, &mut needed);
        if st == sys::LF_OK {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            buf.truncate(end);
            return Ok(buf);
        }
        if st == sys::LF_E_BUFFER_TOO_SMALL && needed > size {
            size = needed;
            continue;
        }
        return Err(st);
    }
    Err(sys::LF_E_BUFFER_TOO_SMALL)
}

/// The library's outputs are ASCII, except a callback code, which is
/// whatever bytes the URL's escapes decoded to.
fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, Error> {
    String::from_utf8(bytes)
        .map_err(|_| Error::binding(Status::InvalidArgument, &format!("{} is not valid UTF-8", what)))
}

/// A configured Lightfunnels app client (`lf_auth`).
///
/// Cheap to share: wrap it in an `Arc` and use it from any number of threads
/// at once. The network calls block the calling thread (bounded by the
/// configured timeouts), except [`exchange_code_async`](Client::exchange_code_async)
/// and [`graphql_async`](Client::graphql_async), futures for any executor,
/// driven by the handle's own I/O thread; `account_id` has no such form: run
/// it on a blocking pool in async code, or send its query with `graphql_async`.
pub struct Client {
    raw: NonNull<sys::lf_auth>,
    // Called by the handle until Drop frees it; dropped after that.
    _trace: Option<Installed>,
}

// SAFETY: auth.h convention 6 promises that an lf_auth is immutable after
// lf_auth_new() and may be used from any number of threads at once (the
// AUTO style cache inside is synchronised by the library), and that it may
// be freed from any thread once no other thread uses it — which Drop's
// `&mut self` guarantees. Every method here takes `&self` and passes the
// handle as `const lf_auth *`. The trace function the handle calls from
// those threads is `Send + Sync` itself.
unsafe impl Send for Client {}
// SAFETY: see Send above.
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: raw came from lf_auth_new and is freed exactly once.
        unsafe { sys::lf_auth_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client { .. }")
    }
}

impl Client {
    /// Checks the whole configuration and creates the client (no network).
    ///
    /// An empty `redirect_uris` is accepted: a client for webhooks and the
    /// API only (see [`Config::redirect_uris`]).
    ///
    /// Errors: `InvalidArgument` (missing id/secret, bad URL, zero timeout or
    /// size, a NUL byte in a string, a ':' in the client id with
    /// `ClientAuth::Basic`), `InsecureTransport` (http:// to a non-loopback
    /// host), `NoMemory`, `Internal`.
    pub fn new(config: Config) -> Result<Client, Error> {
        crate::init()?;
        let client_id = cstring(&config.client_id, "client_id")?;
        let secret = config.client_secret.to_c("client_secret")?;
        let previous = match &config.previous_client_secret {
            Some(s) => Some(s.to_c("previous_client_secret")?),
            None => None,
        };
        let uris = config
            .redirect_uris
            .iter()
            .map(|u| cstring(u, "redirect URI"))
            .collect::<Result<Vec<CString>, Error>>()?;
        let uri_ptrs: Vec<*const c_char> = uris.iter().map(|u| u.as_ptr()).collect();
        let authorize_url = opt_cstring(&config.authorize_url, "authorize_url")?;
        let token_url = opt_cstring(&config.token_url, "token_url")?;
        let api_url = opt_cstring(&config.api_url, "api_url")?;
        let user_agent = opt_cstring(&config.user_agent, "user_agent")?;
        let ca_file = config.ca_file.as_deref().map(path_cstring).transpose()?;

        let mut cfg = MaybeUninit::<sys::lf_auth_config>::zeroed();
        // SAFETY: cfg is writable for its full size; all-zero is valid for it
        // (integers and null pointers), and init fills the defaults.
        let mut cfg = unsafe {
            sys::lf_auth_config_init(cfg.as_mut_ptr(), size_of::<sys::lf_auth_config>());
            cfg.assume_init()
        };
        cfg.client_id = client_id.as_ptr();
        cfg.client_secret = secret.as_ptr();
        cfg.previous_client_secret = previous.as_ref().map(|p| p.as_ptr()).unwrap_or(ptr::null());
        cfg.redirect_uris = if uri_ptrs.is_empty() { ptr::null() } else { uri_ptrs.as_ptr() };
        cfg.redirect_uri_count = uri_ptrs.len();
        cfg.authorize_url = opt_ptr(&authorize_url);
        cfg.token_url = opt_ptr(&token_url);
        cfg.api_url = opt_ptr(&api_url);
        cfg.client_auth = config.client_auth.raw();
        if let Some(d) = config.connect_timeout {
            cfg.connect_timeout_ms = if d.is_zero() { 0 } else { millis(d) };
        }
        if let Some(d) = config.timeout {
            cfg.timeout_ms = if d.is_zero() { 0 } else { millis(d) };
        }
        if let Some(d) = config.stall_timeout {
            cfg.stall_timeout_ms = if d.is_zero() { 0 } else { millis(d) };
        }
        if let Some(n) = config.max_response_bytes {
            cfg.max_response_bytes = n;
        }
        cfg.ca_file = opt_ptr(&ca_file);
        cfg.user_agent = opt_ptr(&user_agent);
        let trace = config.trace.as_ref().map(Installed::new);
        if let Some(t) = &trace {
            let (f, user) = t.raw();
            cfg.trace = f;
            cfg.trace_user = user;
        }

        let mut out: *mut sys::lf_auth = ptr::null_mut();
        let mut err = sys::lf_error::zeroed();
        // SAFETY: every pointer in cfg points into a CString/Vec alive until
        // the end of this function; lf_auth_new copies all strings.
        let st = unsafe { sys::lf_auth_new(&cfg, &mut out, &mut err) };
        // `secret`/`previous` are wiped when they go out of scope here.
        if st != sys::LF_OK {
            return Err(Error::from_lf(st, &err));
        }
        match NonNull::new(out) {
            Some(raw) => Ok(Client { raw, _trace: trace }),
            None => Err(Error::binding(Status::Internal, "lf_auth_new returned no handle")),
        }
    }

    pub(crate) fn raw(&self) -> *const sys::lf_auth {
        self.raw.as_ptr()
    }

    /// Builds the consent-screen URL to send the merchant to.
    ///
    /// `redirect_uri` must equal one configured URI byte for byte. `scopes`
    /// are names like `"products"` (`[a-z0-9_]+`; duplicates dropped, at
    /// least one). Pass `state` from [`new_state`](crate::new_state) and keep
    /// it (e.g. in the session) to check the callback.
    ///
    /// Errors: `RedirectUriNotAllowed` (not configured, or a client made
    /// without redirect URIs), `InvalidArgument` (bad or no scope, empty
    /// state, a scope containing ',').
    pub fn consent_url(
        &self,
        redirect_uri: &str,
        scopes: &[&str],
        state: Option<&str>,
    ) -> Result<String, Error> {
        if scopes.iter().any(|s| s.contains(',')) {
            return Err(Error::binding(
                Status::InvalidArgument,
                "a scope contains ','; pass each scope as its own element",
            ));
        }
        let redirect = cstring(redirect_uri, "redirect_uri")?;
        let scopes = cstring(&scopes.join(","), "scopes")?;
        let state = state.map(|s| cstring(s, "state")).transpose()?;
        let state_ptr = state.as_ref().map(|s| s.as_ptr()).unwrap_or(ptr::null());
        // Size query first, then the fill (deterministic; never allocates in C).
        let url = fill_bytes(0, |buf, size, needed| {
            // SAFETY: all strings live across the call; buf is NULL with size
            // 0 or writable for size bytes.
            unsafe {
                sys::lf_consent_url(
                    self.raw(),
                    redirect.as_ptr(),
                    scopes.as_ptr(),
                    state_ptr,
                    buf,
                    size,
                    needed,
                )
            }
        })
        .map_err(Error::from_status)?;
        utf8(url, "consent URL")
    }

    /// Extracts the authorization code from the URL (or query) the merchant
    /// was redirected to, checking `expected_state` first when given.
    ///
    /// Errors: `StateMismatch` (missing or different state),
    /// `AccessDenied` (the merchant declined: `key` is the `error`
    /// parameter, `message` its description), `InvalidArgument` (malformed
    /// escape, repeated parameter, missing or empty code, too long),
    /// `RedirectUriNotAllowed` (a client made without redirect URIs).
    pub fn parse_callback(&self, url: &str, expected_state: Option<&str>) -> Result<String, Error> {
        let url_c = cstring(url, "callback URL")?;
        let expected = expected_state.map(|s| cstring(s, "expected state")).transpose()?;
        let expected_ptr = expected.as_ref().map(|s| s.as_ptr()).unwrap_or(ptr::null());
        let mut err = sys::lf_error::zeroed();
        // A decoded code is never longer than the URL it came from.
        let code = fill_bytes(url.len() + 1, |buf, size, needed| {
            // SAFETY: strings live across the call; buf is writable for size bytes.
            unsafe {
                sys::lf_parse_callback(self.raw(), url_c.as_ptr(), expected_ptr, buf, size, needed, &mut err)
            }
        })
        .map_err(|st| Error::from_lf(st, &err))?;
        utf8(code, "the authorization code")
    }

    /// A signed, expiring state for [`consent_url`](Client::consent_url)
    /// (library 1.1): it carries its issue time, 128 random bits and a MAC
    /// keyed from the client secret, so any server of the same client can
    /// check it with [`open_state`](Client::open_state) or
    /// [`parse_callback_sealed`](Client::parse_callback_sealed) with nothing
    /// stored in between (no cookie, as an app embedded in the Lightfunnels
    /// admin iframe needs). `binding` ties it to the browser session (the
    /// app's session id); `None` (or `""`) is unbound and weaker.
    pub fn seal_state(&self, binding: Option<&str>) -> Result<String, Error> {
        let binding = binding.map(|b| cstring(b, "binding")).transpose()?;
        let binding_ptr = binding.as_ref().map(|s| s.as_ptr()).unwrap_or(ptr::null());
        let state = fill_bytes(sys::LF_SEALED_STATE_BUFFER_SIZE, |buf, size, needed| {
            // SAFETY: binding lives across the call; buf is writable for size bytes.
            unsafe { sys::lf_state_seal(self.raw(), binding_ptr, buf, size, needed) }
        })
        .map_err(Error::from_status)?;
        utf8(state, "the sealed state")
    }

    /// Checks a state made by [`seal_state`](Client::seal_state) for the same
    /// binding. `max_age` counts whole seconds (rounded down; under one
    /// second is `InvalidArgument`). A state sealed under the previous client
    /// secret still opens. It may be opened more than once: keep accepted
    /// states until they expire if each must be used once.
    ///
    /// Errors: `StateMismatch` (forged, altered, malformed, another binding
    /// or client), `StateExpired` (older than `max_age`, or issued more than
    /// 60 s in the future), `InvalidArgument`.
    pub fn open_state(&self, state: &str, binding: Option<&str>, max_age: Duration) -> Result<(), Error> {
        let state = cstring(state, "state")?;
        let binding = binding.map(|b| cstring(b, "binding")).transpose()?;
        let binding_ptr = binding.as_ref().map(|s| s.as_ptr()).unwrap_or(ptr::null());
        let mut err = sys::lf_error::zeroed();
        // SAFETY: the strings live across the call; err is a valid lf_error.
        let st = unsafe {
            sys::lf_state_open(self.raw(), state.as_ptr(), binding_ptr, max_age_seconds(max_age), &mut err)
        };
        if st == sys::LF_OK {
            Ok(())
        } else {
            Err(Error::from_lf(st, &err))
        }
    }

    /// [`parse_callback`](Client::parse_callback) for a sealed state: the
    /// callback's state is opened with
    /// [`open_state`](Client::open_state)`(state, binding, max_age)` before
    /// anything else is looked at. Errors: those of `parse_callback`, plus
    /// `StateExpired`.
    pub fn parse_callback_sealed(
        &self,
        url: &str,
        binding: Option<&str>,
        max_age: Duration,
    ) -> Result<String, Error> {
        let url_c = cstring(url, "callback URL")?;
        let binding = binding.map(|b| cstring(b, "binding")).transpose()?;
        let binding_ptr = binding.as_ref().map(|s| s.as_ptr()).unwrap_or(ptr::null());
        let max_age_s = max_age_seconds(max_age);
        let mut err = sys::lf_error::zeroed();
        // A decoded code is never longer than the URL it came from.
        let code = fill_bytes(url.len() + 1, |buf, size, needed| {
            // SAFETY: strings live across the call; buf is writable for size bytes.
            unsafe {
                sys::lf_parse_callback_sealed(
                    self.raw(),
                    url_c.as_ptr(),
                    binding_ptr,
                    max_age_s,
                    buf,
                    size,
                    needed,
                    &mut err,
                )
            }
        })
        .map_err(|st| Error::from_lf(st, &err))?;
        utf8(code, "the authorization code")
    }

    /// Exchanges a single-use authorization code for the permanent access
    /// token. Never retried. [`Error::code_sent`] tells whether the code can
    /// have reached the server: after `CodeSent::NotSent` (e.g. a refused
    /// connection) the same code can be tried again; otherwise the code may
    /// be spent — start the flow again.
    ///
    /// Errors: `InvalidCode` (used, expired, unknown), `InvalidClient`,
    /// `RateLimited`, `Http`, `Protocol`, `ResponseTooLarge`, `Network`,
    /// `Timeout`, `Tls`, `InvalidArgument` (empty code), `NoMemory`, `Internal`.
    pub fn exchange_code(&self, code: &str) -> Result<AccessToken, Error> {
        self.exchange(code, None)
    }

    /// [`exchange_code`](Client::exchange_code) with a per-call deadline and/or
    /// cancellation flag (`Status::Cancelled`).
    pub fn exchange_code_with(&self, code: &str, options: &CallOptions<'_>) -> Result<AccessToken, Error> {
        self.exchange(code, Some(options))
    }

    fn exchange(&self, code: &str, options: Option<&CallOptions<'_>>) -> Result<AccessToken, Error> {
        let code_c = WipedCString::new(code.as_bytes(), "code")?;
        // Always the _ex form: only it reports whether the code went out.
        // Should a library ever leave `sent` unwritten, "maybe" is the safe reading.
        let mut sent: sys::lf_code_sent = sys::LF_CODE_MAYBE_SENT;
        let mut opts = options.copied().unwrap_or_default().to_sys();
        opts.code_sent = &mut sent;
        let mut out: *mut sys::lf_token = ptr::null_mut();
        let mut err = sys::lf_error::zeroed();
        // SAFETY: code_c, opts, `sent` (which opts points to) and the cancel
        // flag (borrowed by `options`) live across the call.
        let st = unsafe { sys::lf_exchange_code_ex(self.raw(), code_c.as_ptr(), &opts, &mut out, &mut err) };
        if st != sys::LF_OK {
            // SAFETY: out is NULL on failure per the header; freeing NULL is a no-op.
            unsafe { sys::lf_token_free(out) };
            let mut e = Error::from_lf(st, &err);
            e.code_sent = CodeSent::from_raw(sent);
            return Err(e);
        }
        if out.is_null() {
            return Err(Error::binding(Status::Internal, "lf_exchange_code returned no token"));
        }
        // SAFETY: out is a live token; its value is valid until lf_token_free.
        let token = unsafe { AccessToken::from_c(sys::lf_token_value(out)) };
        // SAFETY: out is freed once (wiping the library's copy).
        unsafe { sys::lf_token_free(out) };
        token
    }

    /// Sends a GraphQL query with the token. `variables_json` is a JSON
    /// object text (None: `{}`).
    ///
    /// On `Ok` the response is a 2xx without `errors`. On `Err`, when a
    /// complete HTTP response arrived (always for `Status::Api`, the GraphQL
    /// `errors` case; also `Unauthorized`, `RateLimited`, `Http`, `Protocol`),
    /// it is kept in [`Error::response`]; `Error::key`/`message` carry the
    /// first GraphQL error.
    pub fn graphql(
        &self,
        access_token: &str,
        query: &str,
        variables_json: Option<&str>,
    ) -> Result<Response, Error> {
        self.graphql_impl(access_token, query, variables_json, None)
    }

    /// [`graphql`](Client::graphql) with per-call options.
    pub fn graphql_with(
        &self,
        access_token: &str,
        query: &str,
        variables_json: Option<&str>,
        options: &CallOptions<'_>,
    ) -> Result<Response, Error> {
        self.graphql_impl(access_token, query, variables_json, Some(options))
    }

    fn graphql_impl(
        &self,
        access_token: &str,
        query: &str,
        variables_json: Option<&str>,
        options: Option<&CallOptions<'_>>,
    ) -> Result<Response, Error> {
        let token = WipedCString::new(access_token.as_bytes(), "access token")?;
        let query = cstring(query, "query")?;
        let vars = variables_json.map(|v| cstring(v, "variables")).transpose()?;
        let vars_ptr = vars.as_ref().map(|v| v.as_ptr()).unwrap_or(ptr::null());
        let opts = options.map(|o| o.to_sys());
        let mut out: *mut sys::lf_response = ptr::null_mut();
        let mut err = sys::lf_error::zeroed();
        // SAFETY: all inputs live across the call.
        let st = unsafe {
            match &opts {
                Some(o) => sys::lf_graphql_ex(
                    self.raw(),
                    token.as_ptr(),
                    query.as_ptr(),
                    vars_ptr,
                    o,
                    &mut out,
                    &mut err,
                ),
                None => {
                    sys::lf_graphql(self.raw(), token.as_ptr(), query.as_ptr(), vars_ptr, &mut out, &mut err)
                }
            }
        };
        // SAFETY: out is NULL or a response we own (set even on failure).
        let response = unsafe { Response::take(out) };
        if st != sys::LF_OK {
            let mut e = Error::from_lf(st, &err);
            e.response = response.map(Box::new);
            return Err(e);
        }
        response.ok_or_else(|| Error::binding(Status::Internal, "lf_graphql returned no response"))
    }

    /// The id of the account the token belongs to (`query { account { id } }`);
    /// key stored tokens by it. Errors as for [`graphql`](Client::graphql),
    /// plus `Protocol` when the answer has no account id.
    pub fn account_id(&self, access_token: &str) -> Result<String, Error> {
        self.account_impl(access_token, None)
    }

    /// [`account_id`](Client::account_id) with per-call options.
    pub fn account_id_with(&self, access_token: &str, options: &CallOptions<'_>) -> Result<String, Error> {
        self.account_impl(access_token, Some(options))
    }

    fn account_impl(&self, access_token: &str, options: Option<&CallOptions<'_>>) -> Result<String, Error> {
        let token = WipedCString::new(access_token.as_bytes(), "access token")?;
        let opts = options.map(|o| o.to_sys());
        let mut err = sys::lf_error::zeroed();
        // Each attempt is a network round trip, so start with a buffer that
        // fits any realistic id rather than with a size query.
        let id = fill_bytes(256, |buf, size, needed| {
            // SAFETY: inputs live across the call; buf is writable for size bytes.
            unsafe {
                match &opts {
                    Some(o) => {
                        sys::lf_account_id_ex(self.raw(), token.as_ptr(), o, buf, size, needed, &mut err)
                    }
                    None => sys::lf_account_id(self.raw(), token.as_ptr(), buf, size, needed, &mut err),
                }
            }
        })
        .map_err(|st| Error::from_lf(st, &err))?;
        utf8(id, "the account id")
    }

    /// Verifies a webhook's `lightfunnels-hmac` header against the raw
    /// request body (exactly as received). Signatures made with the previous
    /// client secret are accepted too. There is no timestamp: deduplicate
    /// events yourself.
    ///
    /// Errors: `SignatureMismatch` (wrong, missing, empty or malformed header).
    pub fn verify_webhook(&self, body: &[u8], hmac_header: &str) -> Result<(), Error> {
        let header = CString::new(hmac_header).map_err(|_| {
            Error::binding(Status::SignatureMismatch, "the signature header contains a NUL byte")
        })?;
        // SAFETY: body is valid for body.len() bytes; header is NUL-terminated.
        let st = unsafe {
            sys::lf_webhook_verify(self.raw(), body.as_ptr() as *const c_void, body.len(), header.as_ptr())
        };
        if st == sys::LF_OK {
            Ok(())
        } else {
            Err(Error::from_status(st))
        }
    }

    /// The `lightfunnels-hmac` value for `body` with the current secret
    /// (44 base64 characters). For tests and tools that send webhooks.
    pub fn sign_webhook(&self, body: &[u8]) -> Result<String, Error> {
        let sig = fill_bytes(sys::LF_SIGNATURE_BUFFER_SIZE, |buf, size, needed| {
            // SAFETY: body is valid for its length; buf is writable for size bytes.
            unsafe {
                sys::lf_webhook_sign(
                    self.raw(),
                    body.as_ptr() as *const c_void,
                    body.len(),
                    buf,
                    size,
                    needed,
                )
            }
        })
        .map_err(Error::from_status)?;
        utf8(sig, "the signature")
    }
}

/// A fresh `state` value for [`Client::consent_url`]: 256 bits from the OS
/// CSPRNG, base64url, 43 characters.
pub fn new_state() -> Result<String, Error> {
    crate::init()?;
    let mut buf = [0u8; sys::LF_STATE_BUFFER_SIZE];
    // SAFETY: buf is writable for its length.
    let st = unsafe { sys::lf_state_generate(buf.as_mut_ptr() as *mut c_char, buf.len()) };
    if st != sys::LF_OK {
        return Err(Error::from_status(st));
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec()).map_err(|_| Error::from_status(sys::LF_E_INTERNAL))
}

/// Compares two state values in time that depends only on their lengths.
/// (`Client::parse_callback` already does this for you.) A string with a NUL
/// byte never equals anything.
pub fn state_equal(a: &str, b: &str) -> bool {
    crate::init().ok();
    match (CString::new(a), CString::new(b)) {
        // SAFETY: both are NUL-terminated and alive during the call.
        (Ok(a), Ok(b)) => unsafe { sys::lf_state_equal(a.as_ptr(), b.as_ptr()) == 1 },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_rounds_up_and_saturates() {
        assert_eq!(millis(Duration::from_nanos(1)), 1);
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
        assert_eq!(millis(Duration::from_secs(u64::MAX)), c_long::MAX);
    }

    #[test]
    fn call_options_point_at_the_flag() {
        let flag = AtomicI32::new(0);
        let o = CallOptions { timeout: Some(Duration::from_millis(250)), cancel: Some(&flag) }.to_sys();
        assert_eq!(o.struct_size, size_of::<sys::lf_call_options>());
        assert_eq!(o.timeout_ms, 250);
        assert_eq!(o.cancel as usize, &flag as *const AtomicI32 as usize);
        flag.store(7, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: o.cancel points at the live flag.
        assert_eq!(unsafe { *o.cancel }, 7);
        let none = CallOptions::default().to_sys();
        assert_eq!(none.timeout_ms, 0);
        assert!(none.cancel.is_null());
        assert!(none.code_sent.is_null());
    }

    #[test]
    fn config_debug_hides_secrets() {
        let cfg = Config::new("id", "s3cr3t-current", "https://a.example/cb")
            .previous_client_secret("s3cr3t-previous");
        let shown = format!("{:?} {:#?}", cfg, cfg);
        assert!(!shown.contains("s3cr3t"), "{}", shown);
        assert!(shown.contains("<redacted>"));
        assert!(shown.contains("https://a.example/cb"));
    }
}
