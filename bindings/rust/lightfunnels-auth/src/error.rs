//! `Status` (a Rust mirror of `lf_status`), `CodeSent` (of `lf_code_sent`) and
//! `Error` (a copy of `lf_error`).

// `lf_status` is u32 with GCC/Clang but i32 with MSVC: the casts are needed there.
#![allow(clippy::unnecessary_cast)]

use crate::response::Response;
use lightfunnels_auth_sys as sys;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_char;
use std::time::Duration;

/// Why a call failed: one variant per `lf_status` error code.
///
/// `LF_OK` has no variant (an [`Error`] is never built from success). Codes a
/// newer library may add arrive as `Unknown(raw)`; the enum is
/// `#[non_exhaustive]` so that this crate can name them later without a
/// breaking change.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `LF_E_INVALID_ARGUMENT`: NULL, malformed or out-of-range input (incl. a bad callback).
    InvalidArgument,
    /// `LF_E_BUFFER_TOO_SMALL` (the binding sizes its buffers, so you should not see it).
    BufferTooSmall,
    /// `LF_E_NO_MEMORY`.
    NoMemory,
    /// `LF_E_REDIRECT_URI_NOT_ALLOWED`: not in the allow-list (exact match).
    RedirectUriNotAllowed,
    /// `LF_E_STATE_MISMATCH`: callback state missing or different.
    StateMismatch,
    /// `LF_E_STATE_EXPIRED`: a sealed state older than its max age, or from
    /// the future (since 1.1).
    StateExpired,
    /// `LF_E_ACCESS_DENIED`: the merchant declined.
    AccessDenied,
    /// `LF_E_NETWORK`: connection failed, reset or closed early.
    Network,
    /// `LF_E_TIMEOUT`: connect or total timeout reached.
    Timeout,
    /// `LF_E_TLS`: certificate, host name or handshake failure.
    Tls,
    /// `LF_E_INSECURE_TRANSPORT`: http:// to a non-loopback host, or another scheme.
    InsecureTransport,
    /// `LF_E_HTTP`: unexpected HTTP status (redirects are not followed).
    Http,
    /// `LF_E_INVALID_CODE`: authorization code used, expired or unknown.
    InvalidCode,
    /// `LF_E_INVALID_CLIENT`: client id/secret rejected.
    InvalidClient,
    /// `LF_E_UNAUTHORIZED`: access token rejected (e.g. the app was uninstalled).
    Unauthorized,
    /// `LF_E_API`: the API answered with GraphQL `errors`.
    Api,
    /// `LF_E_PROTOCOL`: malformed or unexpected response.
    Protocol,
    /// `LF_E_RESPONSE_TOO_LARGE`: over `max_response_bytes`.
    ResponseTooLarge,
    /// `LF_E_SIGNATURE_MISMATCH`: webhook signature missing or wrong.
    SignatureMismatch,
    /// `LF_E_CANCELLED`: the [`CallOptions::cancel`](crate::CallOptions) flag was set.
    Cancelled,
    /// `LF_E_RATE_LIMITED`: HTTP 429 or `rate_limit_reached`; see [`Error::retry_after`].
    RateLimited,
    /// `LF_E_INTERNAL`: a bug or unexpected failure inside the library.
    Internal,
    /// A code this version of the binding does not know (or `LF_OK`, which
    /// never makes an `Error`).
    Unknown(u32),
}

impl Status {
    const TABLE: [(Status, u32); 22] = [
        (Status::InvalidArgument, sys::LF_E_INVALID_ARGUMENT as u32),
        (Status::BufferTooSmall, sys::LF_E_BUFFER_TOO_SMALL as u32),
        (Status::NoMemory, sys::LF_E_NO_MEMORY as u32),
        (Status::RedirectUriNotAllowed, sys::LF_E_REDIRECT_URI_NOT_ALLOWED as u32),
        (Status::StateMismatch, sys::LF_E_STATE_MISMATCH as u32),
        (Status::StateExpired, sys::LF_E_STATE_EXPIRED as u32),
        (Status::AccessDenied, sys::LF_E_ACCESS_DENIED as u32),
        (Status::Network, sys::LF_E_NETWORK as u32),
        (Status::Timeout, sys::LF_E_TIMEOUT as u32),
        (Status::Tls, sys::LF_E_TLS as u32),
        (Status::InsecureTransport, sys::LF_E_INSECURE_TRANSPORT as u32),
        (Status::Http, sys::LF_E_HTTP as u32),
        (Status::InvalidCode, sys::LF_E_INVALID_CODE as u32),
        (Status::InvalidClient, sys::LF_E_INVALID_CLIENT as u32),
        (Status::Unauthorized, sys::LF_E_UNAUTHORIZED as u32),
        (Status::Api, sys::LF_E_API as u32),
        (Status::Protocol, sys::LF_E_PROTOCOL as u32),
        (Status::ResponseTooLarge, sys::LF_E_RESPONSE_TOO_LARGE as u32),
        (Status::SignatureMismatch, sys::LF_E_SIGNATURE_MISMATCH as u32),
        (Status::Cancelled, sys::LF_E_CANCELLED as u32),
        (Status::RateLimited, sys::LF_E_RATE_LIMITED as u32),
        (Status::Internal, sys::LF_E_INTERNAL as u32),
    ];

    /// The status for a raw `lf_status` value (`Unknown(raw)` for values this
    /// binding does not know, and for `LF_OK`).
    pub fn from_raw(raw: u32) -> Status {
        Status::TABLE.iter().find(|(_, r)| *r == raw).map(|(s, _)| *s).unwrap_or(Status::Unknown(raw))
    }

    /// The raw `lf_status` value.
    pub fn raw(self) -> u32 {
        match self {
            Status::Unknown(raw) => raw,
            known => Status::TABLE.iter().find(|(s, _)| *s == known).map(|(_, r)| *r).unwrap_or(0),
        }
    }

    /// `"LF_E_TIMEOUT"` for `Status::Timeout`; `"LF_E_UNKNOWN"` for a code the
    /// loaded library does not know (from `lf_status_name`).
    pub fn name(self) -> &'static str {
        let _ = crate::init();
        // SAFETY: lf_status_name returns static storage, never NULL, for any value.
        unsafe { static_str(sys::lf_status_name(self.raw() as sys::lf_status)) }
    }

    /// A short English sentence describing the status (from `lf_status_message`).
    pub fn message(self) -> &'static str {
        let _ = crate::init();
        // SAFETY: as in name().
        unsafe { static_str(sys::lf_status_message(self.raw() as sys::lf_status)) }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// # Safety
/// `p` must be NULL or a NUL-terminated string in static storage.
unsafe fn static_str(p: *const c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    CStr::from_ptr(p).to_str().unwrap_or("")
}

/// Whether an authorization code can have reached the token endpoint
/// (`lf_code_sent`), as told by a failed exchange: [`Error::code_sent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeSent {
    /// The code provably never left this process (bad argument, cancelled or
    /// timed out before sending, connection refused, DNS or TLS failure
    /// before the request): exchanging the same code again is safe.
    NotSent,
    /// The request went out (or started to) and no complete answer came back
    /// (reset, timeout or cancel after sending): the code may be spent, so
    /// send the merchant through the consent screen again.
    MaybeSent,
    /// The server answered: it has seen the code (a rejection, or success).
    Sent,
}

impl CodeSent {
    /// A value this binding does not know reads as `MaybeSent`: retrying a
    /// spent code is the mistake to avoid.
    pub(crate) fn from_raw(raw: sys::lf_code_sent) -> CodeSent {
        match raw {
            sys::LF_CODE_NOT_SENT => CodeSent::NotSent,
            sys::LF_CODE_SENT => CodeSent::Sent,
            _ => CodeSent::MaybeSent,
        }
    }
}

impl fmt::Display for CodeSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeSent::NotSent => "not sent",
            CodeSent::MaybeSent => "maybe sent",
            CodeSent::Sent => "sent",
        })
    }
}

/// A failed call: the library's `lf_error`, copied into owned Rust values.
///
/// `message` never contains the client secret, an authorization code or an
/// access token (the library sanitises it). For [`Client::graphql`] failures
/// where a complete HTTP response arrived (`Status::Api`, `Unauthorized`,
/// `RateLimited`, `Http`, `Protocol`), [`Error::response`] holds it, so the
/// GraphQL `errors` body stays readable.
///
/// [`Client::graphql`]: crate::Client::graphql
#[derive(Clone)]
pub struct Error {
    /// Why the call failed.
    pub status: Status,
    /// HTTP status of the server's response; 0 when none was received.
    pub http_status: i64,
    /// The server's `Retry-After` (clamped to one hour by the library); `None` when absent.
    pub retry_after: Option<Duration>,
    /// The server's error key (Lightfunnels `key` or OAuth `error`); "" when none.
    pub key: String,
    /// What went wrong (the server's message when it sent one).
    pub message: String,
    pub(crate) response: Option<Box<Response>>,
    pub(crate) code_sent: CodeSent,
}

impl Error {
    /// An error with no server detail; the message is the status' sentence.
    pub(crate) fn from_status(raw: sys::lf_status) -> Error {
        let status = Status::from_raw(raw as u32);
        Error {
            status,
            http_status: 0,
            retry_after: None,
            key: String::new(),
            message: status.message().to_string(),
            response: None,
            code_sent: CodeSent::NotSent,
        }
    }

    /// An error detected by the binding before calling the library (e.g. a
    /// string with an interior NUL byte, which C cannot receive).
    pub(crate) fn binding(status: Status, message: &str) -> Error {
        Error {
            status,
            http_status: 0,
            retry_after: None,
            key: String::new(),
            message: message.to_string(),
            response: None,
            code_sent: CodeSent::NotSent,
        }
    }

    /// Copies what the library wrote into `err` (never trusting it to be
    /// NUL-terminated). `raw` is the status the call returned.
    pub(crate) fn from_lf(raw: sys::lf_status, err: &sys::lf_error) -> Error {
        let status = Status::from_raw(raw as u32);
        let mut message = c_array_to_string(&err.message);
        if message.is_empty() {
            message = status.message().to_string();
        }
        Error {
            status,
            http_status: err.http_status as i64,
            retry_after: if err.retry_after_s > 0 {
                Some(Duration::from_secs(err.retry_after_s as u64))
            } else {
                None
            },
            key: c_array_to_string(&err.key),
            message,
            response: None,
            code_sent: CodeSent::NotSent,
        }
    }

    /// The HTTP response that came with a failed GraphQL call, when a complete
    /// one was received (always for `Status::Api`).
    pub fn response(&self) -> Option<&Response> {
        self.response.as_deref()
    }

    /// For a failed [`Client::exchange_code`](crate::Client::exchange_code)
    /// (or `exchange_code_with`): whether the code can have reached the
    /// server. `NotSent` means the same code can be exchanged again at once;
    /// otherwise it may be spent: start the flow again. Errors of calls that
    /// send no code say `NotSent`.
    ///
    /// ```no_run
    /// # use lightfunnels_auth::{Client, CodeSent};
    /// # fn f(client: &Client, code: &str) -> Result<(), lightfunnels_auth::Error> {
    /// let token = match client.exchange_code(code) {
    ///     Err(e) if e.code_sent() == CodeSent::NotSent => client.exchange_code(code)?,
    ///     other => other?, // on failure: send the merchant to the consent screen again
    /// };
    /// # drop(token); Ok(()) }
    /// ```
    pub fn code_sent(&self) -> CodeSent {
        self.code_sent
    }

    /// Takes the HTTP response out of the error (see [`Error::response`]).
    pub fn into_response(self) -> Option<Response> {
        self.response.map(|b| *b)
    }
}

fn c_array_to_string(a: &[c_char]) -> String {
    // SAFETY: c_char is i8 or u8, same size and alignment as u8.
    let bytes = unsafe { std::slice::from_raw_parts(a.as_ptr() as *const u8, a.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)?;
        let mut sep = " (";
        if !self.key.is_empty() {
            write!(f, "{}key {}", sep, self.key)?;
            sep = ", ";
        }
        if self.http_status != 0 {
            write!(f, "{}HTTP {}", sep, self.http_status)?;
            sep = ", ";
        }
        if let Some(d) = self.retry_after {
            write!(f, "{}retry after {} s", sep, d.as_secs())?;
            sep = ", ";
        }
        if sep == ", " {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.status)
            .field("http_status", &self.http_status)
            .field("retry_after", &self.retry_after)
            .field("key", &self.key)
            .field("message", &self.message)
            .field("response", &self.response)
            .field("code_sent", &self.code_sent)
            .finish()
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip() {
        for raw in 1..=22u32 {
            let s = Status::from_raw(raw);
            assert!(!matches!(s, Status::Unknown(_)), "{}", raw);
            assert_eq!(s.raw(), raw);
        }
        assert_eq!(Status::from_raw(0), Status::Unknown(0));
        assert_eq!(Status::from_raw(999), Status::Unknown(999));
        assert_eq!(Status::Unknown(999).raw(), 999);
    }

    #[test]
    fn from_lf_copies_and_bounds_strings() {
        let mut e = sys::lf_error::zeroed();
        e.status = sys::LF_E_RATE_LIMITED;
        e.http_status = 429;
        e.retry_after_s = 7;
        for (i, b) in b"rate_limit_reached".iter().enumerate() {
            e.key[i] = *b as c_char;
        }
        // message without a terminating NUL: must stop at the array's end.
        for b in e.message.iter_mut() {
            *b = b'x' as c_char;
        }
        let err = Error::from_lf(sys::LF_E_RATE_LIMITED, &e);
        assert_eq!(err.status, Status::RateLimited);
        assert_eq!(err.http_status, 429);
        assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(err.key, "rate_limit_reached");
        assert_eq!(err.message.len(), 256);
        let shown = err.to_string();
        assert!(shown.starts_with("LF_E_RATE_LIMITED: xxx"), "{}", shown);
        assert!(shown.ends_with("(key rate_limit_reached, HTTP 429, retry after 7 s)"), "{}", shown);
    }

    #[test]
    fn empty_message_falls_back_to_the_status_sentence() {
        let e = sys::lf_error::zeroed();
        let err = Error::from_lf(sys::LF_E_TIMEOUT, &e);
        assert_eq!(err.status, Status::Timeout);
        assert_eq!(err.message, Status::Timeout.message());
        assert!(!err.message.is_empty());
        assert_eq!(err.retry_after, None);
        assert_eq!(err.to_string(), format!("LF_E_TIMEOUT: {}", err.message));
    }
}
