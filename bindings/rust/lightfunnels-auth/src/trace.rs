//! The trace hook (`lf_auth_config.trace`, library 1.1): `TraceEvent`, the
//! `Trace` function a `Config` carries, and the C trampoline that calls it.

use lightfunnels_auth_sys as sys;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// What a trace line is about (the C `LF_TRACE_*` numbers).
///
/// The library may add events; one this crate does not know arrives as
/// `Other(raw)`, so ignore what you do not recognise.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceEvent {
    /// `LF_TRACE_CONNECT`: a new connection: host, port, address, why no pooled one was reused, times.
    Connect,
    /// `LF_TRACE_REUSE`: a pooled connection was reused.
    Reuse,
    /// `LF_TRACE_TLS`: the TLS version and cipher of a new connection.
    Tls,
    /// `LF_TRACE_REQUEST`: a request went out: method, URL without its query, body size.
    Request,
    /// `LF_TRACE_RESPONSE`: an answer arrived: HTTP status, body size, total time.
    Response,
    /// `LF_TRACE_AUTO`: `ClientAuth::Auto`'s probes, their verdicts and the style chosen.
    Auto,
    /// `LF_TRACE_ERROR`: a failure: the status chosen and why.
    Error,
    /// `LF_TRACE_NO_RETRY`: a request that failed after it may have reached the server, not sent again.
    NoRetry,
    /// An event this version of the crate does not know.
    Other(i32),
}

impl TraceEvent {
    /// The event for a C `LF_TRACE_*` number.
    pub fn from_raw(raw: c_int) -> TraceEvent {
        match raw {
            sys::LF_TRACE_CONNECT => TraceEvent::Connect,
            sys::LF_TRACE_REUSE => TraceEvent::Reuse,
            sys::LF_TRACE_TLS => TraceEvent::Tls,
            sys::LF_TRACE_REQUEST => TraceEvent::Request,
            sys::LF_TRACE_RESPONSE => TraceEvent::Response,
            sys::LF_TRACE_AUTO => TraceEvent::Auto,
            sys::LF_TRACE_ERROR => TraceEvent::Error,
            sys::LF_TRACE_NO_RETRY => TraceEvent::NoRetry,
            other => TraceEvent::Other(other),
        }
    }
}

type TraceFn = dyn Fn(TraceEvent, &str) + Send + Sync + 'static;

/// A trace function, as `Config::trace` keeps it: cheap to clone (shared),
/// and `Debug` shows no more than that one is set.
#[derive(Clone)]
pub struct Trace(Arc<TraceFn>);

impl Trace {
    /// Wraps `f`; see [`Config::trace`](crate::Config::trace).
    pub fn new(f: impl Fn(TraceEvent, &str) + Send + Sync + 'static) -> Trace {
        Trace(Arc::new(f))
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Trace(..)")
    }
}

/// What a `Client` owns while its handle may call the trampoline: the boxed
/// `Arc` gives the thin, stable address that `trace_user` needs.
pub(crate) struct Installed(Box<Arc<TraceFn>>);

impl Installed {
    pub(crate) fn new(trace: &Trace) -> Installed {
        Installed(Box::new(trace.0.clone()))
    }

    /// The `trace` and `trace_user` values for `lf_auth_config`; valid while
    /// `self` lives.
    pub(crate) fn raw(&self) -> (sys::lf_trace_fn, *mut c_void) {
        let user = &*self.0 as *const Arc<TraceFn> as *mut c_void;
        (Some(trampoline), user)
    }
}

/// Called by the library with each line. A panic in the user's function
/// must not unwind into C: it is caught here and that line dropped (the
/// panic hook has reported it already).
unsafe extern "C" fn trampoline(user: *mut c_void, event: c_int, line: *const c_char) {
    if user.is_null() || line.is_null() {
        return;
    }
    // The unsafe fn's body is its unsafe block (edition 2021):
    // user is the address Installed::raw gave, and the Client keeps the
    // Installed alive until after lf_auth_free, so no call outlives it; the
    // library passes a NUL-terminated line valid for this call.
    let f = &*(user as *const Arc<TraceFn>);
    let line = CStr::from_ptr(line);
    let _ = catch_unwind(AssertUnwindSafe(|| f(TraceEvent::from_raw(event), &line.to_string_lossy())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn events_map_both_ways_and_unknown_ones_pass_through() {
        assert_eq!(TraceEvent::from_raw(sys::LF_TRACE_CONNECT), TraceEvent::Connect);
        assert_eq!(TraceEvent::from_raw(sys::LF_TRACE_NO_RETRY), TraceEvent::NoRetry);
        assert_eq!(TraceEvent::from_raw(99), TraceEvent::Other(99));
    }

    #[test]
    fn the_trampoline_calls_the_function_and_contains_a_panic() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let installed = Installed::new(&Trace::new(move |e, l| {
            if l == "boom" {
                panic!("a trace function that panics");
            }
            sink.lock().unwrap().push((e, l.to_string()));
        }));
        let (f, user) = installed.raw();
        let f = f.expect("a trampoline");
        // SAFETY: user comes from installed, alive here; the lines are C strings.
        unsafe {
            f(user, sys::LF_TRACE_REQUEST, b"POST http://127.0.0.1/x\0".as_ptr() as *const c_char);
            f(user, sys::LF_TRACE_ERROR, b"boom\0".as_ptr() as *const c_char);
            f(user, 42, b"later\0".as_ptr() as *const c_char);
        }
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            vec![
                (TraceEvent::Request, "POST http://127.0.0.1/x".to_string()),
                (TraceEvent::Other(42), "later".to_string())
            ]
        );
    }
}
