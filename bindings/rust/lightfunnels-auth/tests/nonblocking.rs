//! The futures of the non-blocking calls (`exchange_code_async`,
//! `graphql_async`), driven by the smallest executor there is, written here:
//! `block_on` parks the test thread and its waker unparks it. That the
//! crate needs nothing more is the point: no runtime is assumed.
//!
//! Against lf-sandbox, and against a listener that never answers for
//! deadlines and cancellation (both in `common`). Every wait is bounded.

mod common;

use common::*;
use lightfunnels_auth::{AccessToken, CodeSent, Config, Error, Status, TraceEvent};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread, ThreadId};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// A minimal executor
// ---------------------------------------------------------------------------

/// Unparks the thread blocked in `block_on`, and remembers which threads
/// woke it and how often.
struct Unparker {
    thread: Thread,
    wakes: AtomicUsize,
    woken_from: Mutex<Vec<ThreadId>>,
}

impl Unparker {
    fn new() -> Arc<Unparker> {
        Arc::new(Unparker {
            thread: thread::current(),
            wakes: AtomicUsize::new(0),
            woken_from: Mutex::new(Vec::new()),
        })
    }

    fn woken_from(&self) -> Vec<ThreadId> {
        self.woken_from.lock().unwrap().clone()
    }
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.woken_from.lock().unwrap().push(thread::current().id());
        self.thread.unpark();
    }
}

const BLOCK_ON_LIMIT: Duration = Duration::from_secs(120);

/// Polls `f` on this thread until it is ready, parking in between; fails the
/// test after BLOCK_ON_LIMIT.
fn block_on_with<F: Future>(f: F, unparker: &Arc<Unparker>) -> F::Output {
    let waker = Waker::from(unparker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut f = Box::pin(f);
    let deadline = Instant::now() + BLOCK_ON_LIMIT;
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        let now = Instant::now();
        assert!(now < deadline, "the future was not ready within {:?}", BLOCK_ON_LIMIT);
        // A spurious unpark only costs one more poll.
        thread::park_timeout(deadline - now);
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    block_on_with(f, &Unparker::new())
}

/// Polls `f` once: what a `select` does to the future that loses.
fn poll_once<F: Future + Unpin>(f: &mut F, unparker: &Arc<Unparker>) -> Poll<F::Output> {
    let waker = Waker::from(unparker.clone());
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

/// Runs futures concurrently on the one thread polling it; their outputs in
/// order.
struct JoinAll<F: Future> {
    pending: Vec<Option<Pin<Box<F>>>>,
    outputs: Vec<Option<F::Output>>,
}

fn join_all<F: Future>(futures: Vec<F>) -> JoinAll<F> {
    let outputs = futures.iter().map(|_| None).collect();
    JoinAll { pending: futures.into_iter().map(|f| Some(Box::pin(f))).collect(), outputs }
}

impl<F: Future> Future for JoinAll<F>
where
    F::Output: Unpin,
{
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = self.get_mut();
        for (slot, out) in this.pending.iter_mut().zip(this.outputs.iter_mut()) {
            if let Some(f) = slot {
                if let Poll::Ready(v) = f.as_mut().poll(cx) {
                    *out = Some(v);
                    *slot = None;
                }
            }
        }
        if this.pending.iter().any(|f| f.is_some()) {
            return Poll::Pending;
        }
        Poll::Ready(this.outputs.iter_mut().map(|o| o.take().expect("an output")).collect())
    }
}

fn assert_send<T: Send>(_: &T) {}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn one_exchange_and_a_graphql_call_on_a_minimal_executor() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();
    let code = sb.code(&client);

    let exchange = client.exchange_code_async(&code);
    assert_send(&exchange);
    let unparker = Unparker::new();
    let token = block_on_with(exchange, &unparker).expect("exchange");
    assert!(!token.is_empty());
    // The wake came from the handle's I/O thread, not from this one.
    let me = thread::current().id();
    let from = unparker.woken_from();
    assert!(!from.is_empty() && from.iter().all(|t| *t != me), "woken from {:?}, polled on {:?}", from, me);
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);

    let call = client.graphql_async(token.secret(), "query { account { id } }", Some("{}"));
    assert_send(&call);
    let r = block_on(call).expect("graphql");
    assert_eq!(r.http_status(), 200);
    let text = r.text().unwrap();
    assert!(text.contains(ACCOUNT) && text.contains("\"data\""), "{}", text);
}

#[test]
fn thirty_two_exchanges_on_one_handle_driven_by_one_thread() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();
    let codes: Vec<String> = (0..32).map(|_| sb.code(&client)).collect();
    let futures = codes.iter().map(|c| client.exchange_code_async(c)).collect();
    let results: Vec<Result<AccessToken, Error>> = block_on(join_all(futures));
    let mut tokens = std::collections::BTreeSet::new();
    for (i, r) in results.into_iter().enumerate() {
        let token = r.unwrap_or_else(|e| panic!("exchange {}: {}", i, e));
        assert!(tokens.insert(token.secret().to_string()), "exchange {} got a token another one also got", i);
    }
    assert_eq!(tokens.len(), 32);
    for t in tokens.iter().take(2) {
        assert_eq!(client.account_id(t).unwrap(), ACCOUNT);
    }
}

#[test]
fn failures_match_the_blocking_calls() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();

    let blocking = client.exchange_code("no-such-code").unwrap_err();
    let e = block_on(client.exchange_code_async("no-such-code-either")).unwrap_err();
    assert_eq!(e.status, Status::InvalidCode, "{}", e);
    assert_eq!(e.code_sent(), CodeSent::Sent);
    assert_eq!(
        (e.status, e.http_status, &e.key, e.code_sent()),
        (blocking.status, blocking.http_status, &blocking.key, blocking.code_sent())
    );

    // A spent code: the server saw it, so it is not to be sent again.
    let code = sb.code(&client);
    block_on(client.exchange_code_async(&code)).expect("first exchange");
    let e = block_on(client.exchange_code_async(&code)).unwrap_err();
    assert_eq!(e.status, Status::InvalidCode, "{}", e);
    assert_eq!(e.code_sent(), CodeSent::Sent);

    // GraphQL with a token the API rejects keeps the response, as the blocking call does.
    let blocking = client.graphql("not-a-token", "query { account { id } }", None).unwrap_err();
    let e = block_on(client.graphql_async("not-a-token", "query { account { id } }", None)).unwrap_err();
    assert_eq!(e.status, Status::Unauthorized, "{}", e);
    assert_eq!((e.status, e.http_status, &e.key), (blocking.status, blocking.http_status, &blocking.key));
    assert_eq!(e.response().map(|r| r.http_status()), blocking.response().map(|r| r.http_status()));
}

#[test]
fn bad_arguments_fail_without_a_request() {
    let silent = Silent::start();
    let client = silent.client(Duration::from_secs(120));
    for code in ["", "nul\0inside"] {
        let start = Instant::now();
        let e = block_on(client.exchange_code_async(code)).unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument, "{:?}: {}", code, e);
        assert_eq!(e.code_sent(), CodeSent::NotSent);
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    }
    let e = block_on(client.graphql_async("tok", "query { x }", Some("[1]"))).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument, "{}", e);
    assert!(e.response().is_none());
}

#[test]
fn a_deadline_ends_a_call_nobody_answers() {
    let silent = Silent::start();
    let base = format!("http://{}", silent.addr);
    // Only the call's deadline can end these calls in time: the client's own
    // timeouts are 120 s.
    let client = lightfunnels_auth::Client::new(
        Config::new(CLIENT_ID, CLIENT_SECRET, REDIRECT)
            .token_url(format!("{}/oauth/access_token", base))
            .api_url(format!("{}/api/v2", base))
            .timeout(Duration::from_secs(120))
            .stall_timeout(Duration::from_secs(120)),
    )
    .unwrap();

    let start = Instant::now();
    let e = block_on(client.exchange_code_async("some-code").timeout(Duration::from_secs(1))).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.status, Status::Timeout, "{}", e);
    assert!(took >= Duration::from_millis(900), "timed out too early: {:?}", took);
    assert!(took < Duration::from_secs(20), "timeout took {:?}", took);

    let start = Instant::now();
    let call = client.graphql_async("tok", "query { account { id } }", None).timeout(Duration::from_secs(1));
    let e = block_on(call).unwrap_err();
    assert_eq!(e.status, Status::Timeout, "{}", e);
    assert!(start.elapsed() < Duration::from_secs(20), "timeout took {:?}", start.elapsed());
}

#[test]
fn a_canceller_stops_a_pending_call_from_another_thread() {
    let silent = Silent::start();
    let client = silent.client(Duration::from_secs(120));

    let exchange = client.exchange_code_async("some-code");
    let canceller = exchange.canceller();
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(500));
        canceller.cancel();
    });
    let start = Instant::now();
    let e = block_on(exchange).unwrap_err();
    let took = start.elapsed();
    setter.join().unwrap();
    assert_eq!(e.status, Status::Cancelled, "{}", e);
    assert!(took >= Duration::from_millis(400), "returned before the cancel: {:?}", took);
    assert!(took < Duration::from_secs(20), "cancel took {:?}", took);

    // Cancelled before it was ever polled: nothing goes out.
    let call = client.graphql_async("tok", "query { account { id } }", None);
    call.canceller().cancel();
    let e = block_on(call).unwrap_err();
    assert_eq!(e.status, Status::Cancelled, "{}", e);
    assert!(e.response().is_none());
}

#[test]
fn dropping_a_pending_future_cancels_its_call() {
    let silent = Silent::start();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let base = format!("http://{}", silent.addr);
    let client = lightfunnels_auth::Client::new(
        Config::new(CLIENT_ID, CLIENT_SECRET, REDIRECT)
            .token_url(format!("{}/oauth/access_token", base))
            .timeout(Duration::from_secs(120))
            .trace(move |event, line| {
                if event == TraceEvent::Error {
                    sink.lock().unwrap().push(line.to_string());
                }
            }),
    )
    .unwrap();

    let unparker = Unparker::new();
    let mut exchange = client.exchange_code_async("some-code");
    assert!(poll_once(&mut exchange, &unparker).is_pending());
    let start = Instant::now();
    drop(exchange);
    // The library reports the call it ended; the client's own timeout is 120 s.
    let cancelled = || lines.lock().unwrap().iter().any(|l| l.contains("LF_E_CANCELLED"));
    while !cancelled() && start.elapsed() < Duration::from_secs(20) {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(cancelled(), "no cancellation traced within 20 s: {:?}", lines.lock().unwrap());
    // Its done callback found live memory and woke a waker nobody polls any more.
    let woken = Instant::now();
    while unparker.wakes.load(Ordering::SeqCst) == 0 && woken.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(unparker.wakes.load(Ordering::SeqCst), 1);
}

#[test]
fn freeing_the_client_completes_a_forgotten_call() {
    let silent = Silent::start();
    let client = silent.client(Duration::from_secs(120));
    let unparker = Unparker::new();
    let mut exchange = client.exchange_code_async("some-code");
    assert!(poll_once(&mut exchange, &unparker).is_pending());
    // Forgetting ends the borrow without cancelling: the call is still
    // pending when the handle is freed, which completes it (LF_E_CANCELLED).
    std::mem::forget(exchange);
    let start = Instant::now();
    drop(client);
    assert!(start.elapsed() < Duration::from_secs(20), "freeing took {:?}", start.elapsed());
    assert_eq!(
        unparker.wakes.load(Ordering::SeqCst),
        1,
        "the done callback ran once, before the free returned"
    );
}
