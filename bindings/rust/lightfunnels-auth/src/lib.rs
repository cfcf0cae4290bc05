//! Safe Rust binding of liblightfunnels-auth: the Lightfunnels app
//! authorization (OAuth2) flow, the GraphQL API call with the token, and
//! webhook signatures.
//!
//! ```no_run
//! use lightfunnels_auth::{new_state, Client, Config};
//!
//! let client = Client::new(Config::new(
//!     "my-client-id",
//!     std::env::var("LF_CLIENT_SECRET").expect("secret"),
//!     "https://app.example.com/oauth/callback",
//! ))?;
//!
//! // 1. Send the merchant to the consent screen; keep `state` in the session.
//! let state = new_state()?;
//! let url = client.consent_url("https://app.example.com/oauth/callback",
//!                              &["products", "orders"], Some(&state))?;
//! println!("open {}", url);
//!
//! // 2. They come back to the redirect URI: check state, take the code.
//! # let callback_url = String::new();
//! let code = client.parse_callback(&callback_url, Some(&state))?;
//!
//! // 3. Exchange the single-use code for the permanent token; key it by account.
//! let token = client.exchange_code(&code)?;
//! let account = client.account_id(token.secret())?;
//! println!("installed on {}", account);
//! # Ok::<(), lightfunnels_auth::Error>(())
//! ```
//!
//! In async code, [`Client::exchange_code_async`] and
//! [`Client::graphql_async`] return futures that any executor can drive (no
//! runtime is assumed): the handle's own library I/O thread runs the
//! requests of all of them and wakes their tasks.
//!
//! Every fallible call returns `Result<_, Error>`; match on [`Error::status`]
//! ([`Status`]). Secrets ([`Secret`], [`AccessToken`]) are zeroed when
//! dropped and never printed by `Debug`/`Display`.
//!
//! The library is initialised once (through `std::sync::Once`) with the
//! default allocator; the binding never calls `lf_global_cleanup`.

mod client;
mod error;
mod nonblocking;
mod response;
mod secret;
mod trace;

pub use client::{new_state, state_equal, CallOptions, Client, ClientAuth, Config};
pub use error::{CodeSent, Error, Status};
pub use nonblocking::{Canceller, ExchangeFuture, GraphqlFuture};
pub use response::Response;
pub use secret::{AccessToken, Secret};
pub use trace::{Trace, TraceEvent};

// The README's examples are compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The raw declarations, for what this crate does not wrap.
pub use lightfunnels_auth_sys as sys;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

static INIT: Once = Once::new();
static INIT_STATUS: AtomicU32 = AtomicU32::new(0);

/// Initialises the C library once per process. A conflicting earlier
/// initialisation by other code in the process (`LF_E_INVALID_ARGUMENT`: a
/// custom allocator) leaves a usable library, so only `NoMemory` and
/// `Internal` are reported; the library itself retries lazily on next use.
#[allow(clippy::unnecessary_cast)] // lf_status is i32 with MSVC
pub(crate) fn init() -> Result<(), Error> {
    INIT.call_once(|| {
        // SAFETY: NULL allocator = the C heap; no flags. Thread-safe.
        let st = unsafe { sys::lf_global_init(std::ptr::null(), 0) };
        INIT_STATUS.store(st as u32, Ordering::SeqCst);
    });
    let st = INIT_STATUS.load(Ordering::SeqCst);
    if st == sys::LF_E_NO_MEMORY as u32 || st == sys::LF_E_INTERNAL as u32 {
        return Err(Error::from_status(st as sys::lf_status));
    }
    Ok(())
}

/// The version of the C library actually loaded (e.g. `"1.1.0"`).
pub fn version() -> &'static str {
    // SAFETY: lf_version returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(sys::lf_version()) }.to_str().unwrap_or("")
}
