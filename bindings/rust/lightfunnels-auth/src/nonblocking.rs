//! The non-blocking calls (library 1.1): [`ExchangeFuture`] and
//! [`GraphqlFuture`], `std::future::Future`s over `lf_exchange_code_async`
//! and `lf_graphql_async`, and the [`Canceller`] of a pending one.
//!
//! Ownership. Each call has one `Call`, shared through an `Arc` by its future
//! and by the library: the library's reference is handed over as the done
//! callback's `user` when the call is queued and taken back (and released) by
//! that callback, which runs exactly once. So the memory the library uses
//! until then (the cancel flag, the `code_sent` cell, the result slot and the
//! waker) lives as long as the library needs it, whether the future is
//! awaited, dropped or forgotten. The inputs are copied by the library
//! before the `_async` function returns; the future wipes and frees its
//! copies then. The done callbacks touch nothing of the `Client`: its
//! `Drop` (`lf_auth_free`) completes the calls still pending, with
//! `LF_E_CANCELLED`, before the handle and the trace function go.

use crate::client::{CallOptions, Client};
use crate::error::{CodeSent, Error, Status};
use crate::response::Response;
use crate::secret::{AccessToken, WipedCString};
use lightfunnels_auth_sys as sys;
use std::cell::UnsafeCell;
use std::ffi::CString;
use std::fmt;
use std::future::Future;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// What a call's future and the library share.
struct Call<T> {
    // The library reads it (as a C int) until done ran; a Canceller shares it.
    cancel: Arc<AtomicI32>,
    // Written by the library on the I/O thread just before done, which reads it.
    code_sent: UnsafeCell<sys::lf_code_sent>,
    slot: Mutex<Slot<T>>,
}

struct Slot<T> {
    result: Option<Result<T, Error>>,
    waker: Option<Waker>,
}

// SAFETY: the only field that is not Sync, `code_sent`, is accessed by the
// library's I/O thread only (written by the library, then read by the done
// callback on that thread, sequenced before it); everything else is atomic
// or behind the Mutex.
unsafe impl<T: Send> Sync for Call<T> {}

/// A poisoned lock only means a waker panicked while it was held; the slot
/// itself is always consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T> Call<T> {
    fn new() -> Arc<Call<T>> {
        Arc::new(Call {
            cancel: Arc::new(AtomicI32::new(0)),
            code_sent: UnsafeCell::new(sys::LF_CODE_MAYBE_SENT),
            slot: Mutex::new(Slot { result: None, waker: None }),
        })
    }

    /// Stores the result and wakes the task outside the lock, so a waker that
    /// polls at once does not deadlock.
    fn complete(&self, result: Result<T, Error>) {
        let waker = {
            let mut slot = lock(&self.slot);
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<T, Error>> {
        let mut slot = lock(&self.slot);
        if let Some(r) = slot.result.take() {
            return Poll::Ready(r);
        }
        // The task may have moved to another waker since the last poll.
        if !slot.waker.as_ref().map_or(false, |w| w.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// The done callback's side: completes the call with what `read` makes of
/// the library's answer. Never unwinds: a panic while reading becomes
/// `Status::Internal`, one in the executor's `wake` is dropped (the panic
/// hook has reported it).
///
/// # Safety
/// `user` is the reference `Pending::start` handed over, given back once.
unsafe fn finish<T>(user: *mut c_void, read: impl FnOnce(&Call<T>) -> Result<T, Error>) {
    if user.is_null() {
        return;
    }
    let call = Arc::from_raw(user as *const Call<T>);
    let result = catch_unwind(AssertUnwindSafe(|| read(&call)))
        .unwrap_or_else(|_| Err(Error::binding(Status::Internal, "reading the call's result panicked")));
    // Dropping the last reference drops the waker too: executor code.
    let _ = catch_unwind(AssertUnwindSafe(move || {
        call.complete(result);
        drop(call);
    }));
}

/// Frees a token the library gave us however the callback ends.
struct OwnedToken(*mut sys::lf_token);

impl Drop for OwnedToken {
    fn drop(&mut self) {
        // SAFETY: the pointer is NULL or a token we own, freed only here.
        unsafe { sys::lf_token_free(self.0) }
    }
}

/// # Safety
/// `err` is NULL or valid for the call.
unsafe fn call_error(status: sys::lf_status, err: *const sys::lf_error) -> Error {
    match err.as_ref() {
        Some(e) => Error::from_lf(status, e),
        None => Error::from_status(status),
    }
}

unsafe extern "C" fn exchange_done(
    user: *mut c_void,
    status: sys::lf_status,
    token: *mut sys::lf_token,
    err: *const sys::lf_error,
) {
    // The unsafe fn's body is its unsafe block (edition 2021): the library
    // passes the `user` it was given, a token we own (or NULL) and `err`
    // valid for this call.
    let token = OwnedToken(token);
    finish(user, |call: &Call<AccessToken>| {
        if status != sys::LF_OK {
            let mut e = call_error(status, err);
            e.code_sent = CodeSent::from_raw(*call.code_sent.get());
            return Err(e);
        }
        if token.0.is_null() {
            return Err(Error::binding(Status::Internal, "lf_exchange_code_async gave no token"));
        }
        AccessToken::from_c(sys::lf_token_value(token.0))
    });
}

unsafe extern "C" fn graphql_done(
    user: *mut c_void,
    status: sys::lf_status,
    response: *mut sys::lf_response,
    err: *const sys::lf_error,
) {
    // As in exchange_done; `response` is ours (or NULL): take() frees it.
    let response = Response::take(response);
    finish(user, move |_: &Call<Response>| {
        if status != sys::LF_OK {
            let mut e = call_error(status, err);
            e.response = response.map(Box::new);
            return Err(e);
        }
        response.ok_or_else(|| Error::binding(Status::Internal, "lf_graphql_async gave no response"))
    });
}

/// Cancels one pending call from anywhere: the call ends with
/// `Status::Cancelled` within about 100 ms (unless it finished first).
/// Cancelling before the future's first poll makes that poll queue a call
/// that ends at once. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Canceller(Arc<AtomicI32>);

impl Canceller {
    /// Asks the library to end the call. Idempotent.
    pub fn cancel(&self) {
        self.0.store(1, Ordering::SeqCst);
    }
}

impl fmt::Debug for Canceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canceller").field("cancelled", &(self.0.load(Ordering::SeqCst) != 0)).finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Unsent,
    Queued,
    Finished,
}

/// The part of both futures that queues the call and waits for `done`.
struct Pending<'a, T> {
    client: &'a Client,
    call: Arc<Call<T>>,
    timeout: Option<Duration>,
    stage: Stage,
}

impl<'a, T> Pending<'a, T> {
    fn new(client: &'a Client) -> Pending<'a, T> {
        Pending { client, call: Call::new(), timeout: None, stage: Stage::Unsent }
    }

    /// The options the library reads: the deadline, and pointers into
    /// `call` (which outlives the call, see the module comment).
    fn c_options(&self, with_code_sent: bool) -> sys::lf_call_options {
        let mut o = CallOptions { timeout: self.timeout, cancel: None }.to_sys();
        o.cancel = &*self.call.cancel as *const AtomicI32 as *const c_int;
        if with_code_sent {
            o.code_sent = self.call.code_sent.get();
        }
        o
    }

    /// Queues the call through `submit(handle, options, user)`; the library
    /// owns one reference to `call` from then until its done callback.
    fn start<F>(&mut self, with_code_sent: bool, submit: F) -> Result<(), Error>
    where
        F: FnOnce(*const sys::lf_auth, &sys::lf_call_options, *mut c_void) -> sys::lf_status,
    {
        self.stage = Stage::Finished;
        let opts = self.c_options(with_code_sent);
        let user = Arc::into_raw(self.call.clone()) as *mut c_void;
        let st = submit(self.client.raw(), &opts, user);
        if st != sys::LF_OK {
            // SAFETY: done is never called when queueing fails, so the
            // reference handed over is still ours to release.
            drop(unsafe { Arc::from_raw(user as *const Call<T>) });
            return Err(Error::from_status(st));
        }
        self.stage = Stage::Queued;
        Ok(())
    }

    fn poll_queued(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, Error>> {
        assert!(self.stage == Stage::Queued, "a lightfunnels-auth future polled after it completed");
        let r = self.call.poll_result(cx);
        if r.is_ready() {
            self.stage = Stage::Finished;
        }
        r
    }
}

impl<T> Drop for Pending<'_, T> {
    fn drop(&mut self) {
        if self.stage == Stage::Queued {
            self.call.cancel.store(1, Ordering::SeqCst);
        }
    }
}

/// The future of [`Client::exchange_code_async`]: resolves to what
/// [`Client::exchange_code`] returns, [`Error::code_sent`] included.
///
/// Lazy: nothing is sent before its first poll. Dropping it while the call
/// is pending cancels the call (the code may have been sent by then).
/// Polling it again after it resolved panics, as for any `async fn`.
#[must_use = "futures do nothing unless polled"]
pub struct ExchangeFuture<'a> {
    pending: Pending<'a, AccessToken>,
    code: Option<Result<WipedCString, Error>>,
}

impl<'a> ExchangeFuture<'a> {
    /// Sets a deadline for the whole call (the smaller of this and the
    /// client's timeout applies; zero means 1 ms), as
    /// [`CallOptions::timeout`] does. Only before the first poll: once the
    /// call is queued it has no effect.
    pub fn timeout(mut self, timeout: Duration) -> ExchangeFuture<'a> {
        self.pending.timeout = Some(timeout);
        self
    }

    /// A handle that cancels this call from any thread.
    pub fn canceller(&self) -> Canceller {
        Canceller(self.pending.call.cancel.clone())
    }
}

impl Future for ExchangeFuture<'_> {
    type Output = Result<AccessToken, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.pending.stage == Stage::Unsent {
            let queued = match this.code.take() {
                Some(Ok(code)) => this.pending.start(true, |a, opts, user| {
                    // SAFETY: code and opts live across the call (the library
                    // copies the code); what opts points to lives in the Call
                    // whose reference `user` is.
                    unsafe { sys::lf_exchange_code_async(a, code.as_ptr(), opts, Some(exchange_done), user) }
                }),
                Some(Err(e)) => Err(e),
                None => Err(Error::binding(Status::Internal, "the exchange has no code")),
            };
            if let Err(e) = queued {
                this.pending.stage = Stage::Finished;
                return Poll::Ready(Err(e));
            }
        }
        this.pending.poll_queued(cx)
    }
}

impl fmt::Debug for ExchangeFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExchangeFuture { .. }")
    }
}

struct GraphqlInputs {
    token: WipedCString,
    query: CString,
    variables: Option<CString>,
}

/// The future of [`Client::graphql_async`]: resolves to what
/// [`Client::graphql`] returns ([`Error::response`] included).
///
/// Lazy: nothing is sent before its first poll. Dropping it while the call
/// is pending cancels the call. Polling it again after it resolved panics.
#[must_use = "futures do nothing unless polled"]
pub struct GraphqlFuture<'a> {
    pending: Pending<'a, Response>,
    inputs: Option<Result<GraphqlInputs, Error>>,
}

impl<'a> GraphqlFuture<'a> {
    /// Sets a deadline for the call, as [`ExchangeFuture::timeout`] does.
    pub fn timeout(mut self, timeout: Duration) -> GraphqlFuture<'a> {
        self.pending.timeout = Some(timeout);
        self
    }

    /// A handle that cancels this call from any thread.
    pub fn canceller(&self) -> Canceller {
        Canceller(self.pending.call.cancel.clone())
    }
}

impl Future for GraphqlFuture<'_> {
    type Output = Result<Response, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.pending.stage == Stage::Unsent {
            let queued = match this.inputs.take() {
                Some(Ok(i)) => this.pending.start(false, |a, opts, user| {
                    let vars = i.variables.as_ref().map_or(ptr::null(), |v| v.as_ptr());
                    // SAFETY: the inputs and opts live across the call (the
                    // library copies the strings); see ExchangeFuture::poll.
                    unsafe {
                        sys::lf_graphql_async(
                            a,
                            i.token.as_ptr(),
                            i.query.as_ptr(),
                            vars,
                            opts,
                            Some(graphql_done),
                            user,
                        )
                    }
                }),
                Some(Err(e)) => Err(e),
                None => Err(Error::binding(Status::Internal, "the GraphQL call has no inputs")),
            };
            if let Err(e) = queued {
                this.pending.stage = Stage::Finished;
                return Poll::Ready(Err(e));
            }
        }
        this.pending.poll_queued(cx)
    }
}

impl fmt::Debug for GraphqlFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GraphqlFuture { .. }")
    }
}

impl Client {
    /// [`exchange_code`](Client::exchange_code) without blocking a thread:
    /// the request runs on the handle's library I/O thread, which drives all
    /// of this client's pending non-blocking calls at once, and the future
    /// resolves to the same result (same errors, same
    /// [`Error::code_sent`]). The code is still sent at most once.
    ///
    /// Runtime-agnostic: the I/O thread calls the task's `Waker` when the
    /// result is in, so any executor can poll it. That `wake` runs on the I/O
    /// thread, so an executor should only schedule the task there (as they
    /// all do); one that polls the task inside `wake` runs it on that thread,
    /// where dropping the last `Client` of the handle aborts the process.
    ///
    /// Deadline: [`ExchangeFuture::timeout`]. Cancellation: drop the future,
    /// or use its [`Canceller`]. The future borrows the client, so the
    /// client outlives it; should a pending future be leaked
    /// (`mem::forget`), dropping the client completes the call with
    /// `Status::Cancelled` safely.
    ///
    /// ```no_run
    /// # async fn f(client: &lightfunnels_auth::Client, code: &str)
    /// #     -> Result<(), lightfunnels_auth::Error> {
    /// use std::time::Duration;
    /// let token = client.exchange_code_async(code).timeout(Duration::from_secs(20)).await?;
    /// let account = client.graphql_async(token.secret(), "query { account { id } }", None).await?;
    /// # drop(account); Ok(()) }
    /// ```
    pub fn exchange_code_async(&self, code: &str) -> ExchangeFuture<'_> {
        ExchangeFuture { pending: Pending::new(self), code: Some(WipedCString::new(code.as_bytes(), "code")) }
    }

    /// [`graphql`](Client::graphql) without blocking a thread, as
    /// [`exchange_code_async`](Client::exchange_code_async) is for the
    /// exchange (threads, waking, deadline, cancellation).
    pub fn graphql_async(
        &self,
        access_token: &str,
        query: &str,
        variables_json: Option<&str>,
    ) -> GraphqlFuture<'_> {
        let inputs = (|| {
            Ok(GraphqlInputs {
                token: WipedCString::new(access_token.as_bytes(), "access token")?,
                query: crate::client::cstring(query, "query")?,
                variables: variables_json.map(|v| crate::client::cstring(v, "variables")).transpose()?,
            })
        })();
        GraphqlFuture { pending: Pending::new(self), inputs: Some(inputs) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::raw::c_char;
    use std::task::Wake;

    struct PanicsOnWake;

    impl Wake for PanicsOnWake {
        fn wake(self: Arc<Self>) {
            panic!("a waker that panics");
        }
    }

    #[test]
    fn done_fills_the_slot_releases_its_reference_and_contains_a_panicking_waker() {
        let call: Arc<Call<AccessToken>> = Call::new();
        let waker = Waker::from(Arc::new(PanicsOnWake));
        let mut cx = Context::from_waker(&waker);
        assert!(call.poll_result(&mut cx).is_pending());

        let mut err = sys::lf_error::zeroed();
        err.http_status = 400;
        for (i, b) in b"invalid_grant".iter().enumerate() {
            err.key[i] = *b as c_char;
        }
        // SAFETY: what the library does on the I/O thread: write code_sent,
        // then call done once with the reference it was handed.
        unsafe {
            *call.code_sent.get() = sys::LF_CODE_SENT;
            let user = Arc::into_raw(call.clone()) as *mut c_void;
            exchange_done(user, sys::LF_E_INVALID_CODE, ptr::null_mut(), &err);
        }
        assert_eq!(Arc::strong_count(&call), 1, "done released the library's reference");
        match call.poll_result(&mut cx) {
            Poll::Ready(Err(e)) => {
                assert_eq!(e.status, Status::InvalidCode);
                assert_eq!(e.http_status, 400);
                assert_eq!(e.key, "invalid_grant");
                assert_eq!(e.code_sent(), CodeSent::Sent);
            }
            other => panic!("expected the error, got {:?}", other.map(|r| r.map(|_| "a token"))),
        }
    }

    #[test]
    fn success_without_a_token_is_internal_not_a_crash() {
        let call: Arc<Call<AccessToken>> = Call::new();
        // SAFETY: as above; a NULL token and NULL err are handled.
        unsafe {
            let user = Arc::into_raw(call.clone()) as *mut c_void;
            exchange_done(user, sys::LF_OK, ptr::null_mut(), ptr::null());
        }
        let waker = Waker::from(Arc::new(PanicsOnWake));
        match call.poll_result(&mut Context::from_waker(&waker)) {
            Poll::Ready(Err(e)) => assert_eq!(e.status, Status::Internal),
            _ => panic!("expected Status::Internal"),
        }
    }
}
