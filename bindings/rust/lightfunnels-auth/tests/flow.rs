//! End-to-end tests against lf-sandbox (docs/SANDBOX.md) over plain HTTP on
//! 127.0.0.1, plus timeout/cancel tests against local listeners that never
//! answer (the sandbox and listeners are in `common`).

mod common;

use common::*;
use lightfunnels_auth::{CallOptions, Client, ClientAuth, CodeSent, Config, Status, TraceEvent};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// A listener that reads each request whole, then hangs up or goes silent
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum AfterRequest {
    HangUp,
    Silence,
}

struct Reader {
    addr: SocketAddr,
    /// Requests received whole that carried the expected code.
    saw_code: Arc<AtomicI32>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Reader {
    fn start(code: &str, after: AfterRequest) -> Reader {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let saw_code = Arc::new(AtomicI32::new(0));
        let (stop2, saw2, code) = (stop.clone(), saw_code.clone(), code.to_string());
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(180);
            let mut held = Vec::new();
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                let mut s = match l.accept() {
                    Ok((s, _)) => s,
                    Err(_) => {
                        thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                };
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                if let Some(body) = read_request(&mut s) {
                    if body.windows(code.len()).any(|w| w == code.as_bytes()) {
                        saw2.fetch_add(1, Ordering::SeqCst);
                    }
                }
                match after {
                    AfterRequest::HangUp => drop(s), // no answer at all
                    AfterRequest::Silence => held.push(s),
                }
            }
        });
        Reader { addr, saw_code, stop, thread: Some(thread) }
    }

    fn token_url(&self) -> String {
        format!("http://{}/oauth/access_token", self.addr)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads a request's head and its Content-Length body; None when cut short.
fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let length: usize = parse_http_request_head(&raw[..p])
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())?;
            if raw.len() >= p + 4 + length {
                return Some(raw[p + 4..p + 4 + length].to_vec());
            }
        }
        if raw.len() > 1 << 20 {
            return None;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

fn token_url_client(token_url: &str, stall: Option<Duration>) -> Client {
    let mut cfg =
        Config::new(CLIENT_ID, CLIENT_SECRET, REDIRECT).token_url(token_url).timeout(Duration::from_secs(60));
    if let Some(d) = stall {
        cfg = cfg.stall_timeout(d);
    }
    Client::new(cfg).unwrap()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn full_flow_exchange_account_graphql() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();
    let code = sb.code(&client);
    assert!(!code.is_empty());

    let token = client.exchange_code(&code).expect("exchange");
    assert!(!token.is_empty());
    assert!(!format!("{:?} {}", token, token).contains(token.secret()));

    assert_eq!(client.account_id(token.secret()).expect("account id"), ACCOUNT);
    let opts = CallOptions::with_timeout(Duration::from_secs(30));
    assert_eq!(client.account_id_with(token.secret(), &opts).unwrap(), ACCOUNT);

    let r = client.graphql(token.secret(), "query { account { id } }", None).expect("graphql");
    assert_eq!(r.http_status(), 200);
    let text = r.text().unwrap();
    assert!(text.contains(ACCOUNT) && text.contains("\"data\""), "{}", text);
    let r = client.graphql_with(token.secret(), "query { account { id } }", Some("{}"), &opts).unwrap();
    assert!(r.text().unwrap().contains(ACCOUNT));

    // GraphQL `errors`: Status::Api, the first error's key, the body kept.
    let e = client.graphql(token.secret(), "query { orders { id } }", None).unwrap_err();
    assert_eq!(e.status, Status::Api, "{}", e);
    assert_eq!(e.key, "unsupported_query");
    let resp = e.response().expect("the body of an errors answer is kept");
    assert_eq!(resp.http_status(), 200);
    assert!(resp.text().unwrap().contains("UnsupportedQuery"), "{}", resp.text().unwrap());
    assert!(!e.to_string().contains(token.secret()));

    // The code is single-use.
    let e = client.exchange_code(&code).unwrap_err();
    assert_eq!(e.status, Status::InvalidCode, "{}", e);
    assert_eq!(e.http_status, 400);
    assert_eq!(e.key, "invalid_grant");
    assert!(!e.to_string().contains(&code), "the code leaked into {}", e);

    // An unknown code too.
    assert_eq!(client.exchange_code("no-such-code").unwrap_err().status, Status::InvalidCode);
}

/// A config that leaves `client_auth` alone exchanges at the sandbox's
/// /api/access_token, which takes HTTP Basic only.
#[test]
fn default_client_auth_exchanges_with_basic() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let cfg = sb.config();
    assert_eq!(cfg.client_auth, ClientAuth::Basic);
    let client = Client::new(cfg).unwrap();
    let token = client.exchange_code(&sb.code(&client)).expect("exchange with the default client auth");
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);
}

#[test]
fn json_body_client_auth_still_works() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = Client::new(
        sb.config().client_auth(ClientAuth::JsonBody).token_url(format!("{}/oauth/access_token", sb.url)),
    )
    .unwrap();
    let token = client.exchange_code(&sb.code(&client)).expect("JSON-body exchange");
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);
}

#[test]
fn basic_client_auth_and_per_call_options() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = Client::new(
        sb.config().client_auth(ClientAuth::Basic).token_url(format!("{}/api/access_token", sb.url)),
    )
    .unwrap();
    let code = sb.code(&client);
    let flag = AtomicI32::new(0);
    let opts = CallOptions { timeout: Some(Duration::from_secs(30)), cancel: Some(&flag) };
    let token = client.exchange_code_with(&code, &opts).expect("basic exchange");
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);
    assert_eq!(client.exchange_code_with(&code, &opts).unwrap_err().status, Status::InvalidCode);
}

#[test]
fn wrong_secret_is_invalid_client() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let good = sb.client();
    let mut cfg = sb.config();
    cfg.client_secret = "not-the-secret".into();
    let bad = Client::new(cfg).unwrap();
    let code = sb.code(&good);
    let e = bad.exchange_code(&code).unwrap_err();
    assert_eq!(e.status, Status::InvalidClient, "{}", e);
    assert_eq!(e.http_status, 401);
    assert_eq!(e.key, "invalid_client");
    assert!(!e.to_string().contains("not-the-secret"));
    // The JSON body with the wrong secret as well.
    let bad_json = Client::new({
        let mut c =
            sb.config().client_auth(ClientAuth::JsonBody).token_url(format!("{}/oauth/access_token", sb.url));
        c.client_secret = "not-the-secret".into();
        c
    })
    .unwrap();
    let code = sb.code(&good);
    assert_eq!(bad_json.exchange_code(&code).unwrap_err().status, Status::InvalidClient);
}

#[test]
fn revoked_token_is_unauthorized() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();
    let token = client.exchange_code(&sb.code(&client)).unwrap();
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);

    let r = sb.post_json("/_sandbox/revoke", &format!("{{\"access_token\":\"{}\"}}", token.secret()));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    let e = client.account_id(token.secret()).unwrap_err();
    assert_eq!(e.status, Status::Unauthorized, "{}", e);
    assert_eq!(e.http_status, 401);
    assert_eq!(e.key, "unauthorized");
    let e = client.graphql(token.secret(), "query { account { id } }", None).unwrap_err();
    assert_eq!(e.status, Status::Unauthorized);
    let resp = e.into_response().expect("a 401 response body");
    assert_eq!(resp.http_status(), 401);
    assert!(resp.text().unwrap().contains("unauthorized"));

    // Revoking twice: 404.
    let r = sb.post_json("/_sandbox/revoke", &format!("{{\"access_token\":\"{}\"}}", token.secret()));
    assert_eq!(r.status, 404);
}

#[test]
fn sandbox_webhook_signature_verifies() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = mpsc::channel();
    let receiver = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("no webhook delivery within 60 s: {}", e),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let (head_end, length) = loop {
            let n = stream.read(&mut buf).expect("read webhook");
            assert!(n > 0, "webhook connection closed early");
            raw.extend_from_slice(&buf[..n]);
            assert!(raw.len() < 1 << 20);
            if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = parse_http_request_head(&raw[..p]);
                let len: usize = head
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.parse().unwrap())
                    .expect("Content-Length on the webhook");
                break (p + 4, len);
            }
        };
        while raw.len() < head_end + length {
            let n = stream.read(&mut buf).expect("read webhook body");
            assert!(n > 0, "webhook body cut short");
            raw.extend_from_slice(&buf[..n]);
        }
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").unwrap();
        let headers = parse_http_request_head(&raw[..head_end - 4]);
        tx.send((headers, raw[head_end..head_end + length].to_vec())).unwrap();
    });

    let r = sb.post_json(
        "/_sandbox/webhook",
        &format!("{{\"client_id\":\"{}\",\"url\":\"http://{}/hooks/lightfunnels\"}}", CLIENT_ID, hook_addr),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (headers, body) = rx.recv_timeout(Duration::from_secs(60)).expect("the webhook arrived");
    receiver.join().unwrap();
    let sig = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("lightfunnels-hmac"))
        .map(|(_, v)| v.clone())
        .expect("lightfunnels-hmac header");

    client.verify_webhook(&body, &sig).expect("the sandbox's signature verifies");
    assert_eq!(client.sign_webhook(&body).unwrap(), sig);
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_eq!(client.verify_webhook(&tampered, &sig).unwrap_err().status, Status::SignatureMismatch);

    // After a secret rotation the old signature still verifies.
    let rotated =
        Client::new(Config::new(CLIENT_ID, "the-new-secret", REDIRECT).previous_client_secret(CLIENT_SECRET))
            .unwrap();
    rotated.verify_webhook(&body, &sig).unwrap();
    let stranger = Client::new(Config::new(CLIENT_ID, "the-new-secret", REDIRECT)).unwrap();
    assert_eq!(stranger.verify_webhook(&body, &sig).unwrap_err().status, Status::SignatureMismatch);
}

fn parse_http_request_head(head: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn sixteen_threads_share_one_client() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let sb = Arc::new(sb);
    let client = Arc::new(sb.client());
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let (tx, rx) = mpsc::channel();
    for i in 0..16 {
        let (sb, client, barrier, tx) = (sb.clone(), client.clone(), barrier.clone(), tx.clone());
        thread::spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // All threads start together; nothing below can block another
                // thread, so a failure in one cannot hang the rest.
                barrier.wait();
                let code = sb.code(&client);
                let token = client.exchange_code(&code).expect("exchange");
                let account = client.account_id(token.secret()).expect("account");
                assert_eq!(account, ACCOUNT);
                assert_eq!(client.exchange_code(&code).unwrap_err().status, Status::InvalidCode);
                token.secret().to_string()
            }));
            let _ = tx.send((i, result.map_err(|_| format!("thread {} panicked", i))));
        });
    }
    drop(tx);
    let mut tokens = std::collections::BTreeSet::new();
    for _ in 0..16 {
        let (i, r) = rx.recv_timeout(Duration::from_secs(300)).expect("every thread finishes within 300 s");
        let token = r.unwrap_or_else(|e| panic!("{}", e));
        assert!(tokens.insert(token), "thread {} got a token another thread also got", i);
    }
    assert_eq!(tokens.len(), 16);
}

#[test]
fn cancel_flag_stops_a_hanging_exchange() {
    let silent = Silent::start();
    let client = silent.client(Duration::from_secs(120));

    // Already set before the call.
    let flag = AtomicI32::new(1);
    let start = Instant::now();
    let e = client.exchange_code_with("some-code", &CallOptions::with_cancel(&flag)).unwrap_err();
    assert_eq!(e.status, Status::Cancelled, "{}", e);
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());

    // Set from another thread while the request hangs.
    let flag = Arc::new(AtomicI32::new(0));
    let setter = {
        let flag = flag.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(500));
            flag.store(1, Ordering::SeqCst);
        })
    };
    let start = Instant::now();
    let e = client.exchange_code_with("some-code", &CallOptions::with_cancel(&flag)).unwrap_err();
    let took = start.elapsed();
    setter.join().unwrap();
    assert_eq!(e.status, Status::Cancelled, "{}", e);
    assert!(took >= Duration::from_millis(400), "returned before the flag was set: {:?}", took);
    assert!(took < Duration::from_secs(20), "cancel took {:?}", took);

    // GraphQL honours it too.
    let flag = AtomicI32::new(1);
    let e = client
        .graphql_with("tok", "query { account { id } }", None, &CallOptions::with_cancel(&flag))
        .unwrap_err();
    assert_eq!(e.status, Status::Cancelled);
    assert!(e.response().is_none());
}

#[test]
fn timeouts_are_bounded() {
    let silent = Silent::start();

    // The client's own timeout.
    let client = silent.client(Duration::from_secs(1));
    let start = Instant::now();
    let e = client.exchange_code("some-code").unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.status, Status::Timeout, "{}", e);
    assert!(took >= Duration::from_millis(900), "timed out too early: {:?}", took);
    assert!(took < Duration::from_secs(20), "timeout took {:?}", took);

    // A per-call deadline shorter than the client's.
    let client = silent.client(Duration::from_secs(120));
    let start = Instant::now();
    let e = client.account_id_with("tok", &CallOptions::with_timeout(Duration::from_secs(1))).unwrap_err();
    assert_eq!(e.status, Status::Timeout, "{}", e);
    assert!(start.elapsed() < Duration::from_secs(20), "timeout took {:?}", start.elapsed());
}

#[test]
fn nothing_listening_is_a_network_error() {
    // Bind then drop to get a port that (almost certainly) refuses.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::new(
        Config::new(CLIENT_ID, CLIENT_SECRET, REDIRECT)
            .token_url(format!("http://127.0.0.1:{}/oauth/access_token", port))
            .timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let e = client.exchange_code("some-code").unwrap_err();
    assert_eq!(e.status, Status::Network, "{}", e);
    assert_eq!(e.http_status, 0);
}

#[test]
fn refused_connection_leaves_the_code_unsent() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = token_url_client(&format!("http://127.0.0.1:{}/oauth/access_token", port), None);
    let e = client.exchange_code("some-code").unwrap_err();
    assert_eq!(e.status, Status::Network, "{}", e);
    assert_eq!(e.code_sent(), CodeSent::NotSent, "{}", e);
    // With per-call options too (a flag already set: nothing is sent).
    let flag = AtomicI32::new(1);
    let e = client.exchange_code_with("some-code", &CallOptions::with_cancel(&flag)).unwrap_err();
    assert_eq!(e.status, Status::Cancelled, "{}", e);
    assert_eq!(e.code_sent(), CodeSent::NotSent, "{}", e);
}

#[test]
fn hang_up_after_the_request_may_have_spent_the_code() {
    let reader = Reader::start("code-hang-up", AfterRequest::HangUp);
    let client = token_url_client(&reader.token_url(), None);
    let e = client.exchange_code("code-hang-up").unwrap_err();
    assert_eq!(e.status, Status::Network, "{}", e);
    assert_eq!(e.code_sent(), CodeSent::MaybeSent, "{}", e);
    assert_eq!(reader.saw_code.load(Ordering::SeqCst), 1, "the listener did not get the code once");
}

#[test]
fn answered_exchanges_sent_the_code() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let client = sb.client();
    let code = sb.code(&client);
    // Success: the token is the proof that the server has seen the code.
    client.exchange_code(&code).expect("exchange");
    let e = client.exchange_code(&code).unwrap_err();
    assert_eq!(
        (e.status, e.http_status, e.key.as_str()),
        (Status::InvalidCode, 400, "invalid_grant"),
        "{}",
        e
    );
    assert_eq!(e.code_sent(), CodeSent::Sent, "{}", e);
    let e =
        client.exchange_code_with(&code, &CallOptions::with_timeout(Duration::from_secs(30))).unwrap_err();
    assert_eq!(e.code_sent(), CodeSent::Sent, "{}", e);
}

#[test]
fn stall_timeout_ends_a_silent_exchange() {
    let reader = Reader::start("code-stalled", AfterRequest::Silence);
    let client = token_url_client(&reader.token_url(), Some(Duration::from_secs(1)));
    let start = Instant::now();
    let e = client.exchange_code("code-stalled").unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.status, Status::Timeout, "{}", e);
    assert!(took < Duration::from_secs(5), "stalled exchange took {:?}; the stall limit is 1 s", took);
    assert!(took >= Duration::from_millis(900), "ended after {:?}, before the 1 s stall limit", took);
    assert_eq!(e.code_sent(), CodeSent::MaybeSent, "{}", e);
    assert_eq!(reader.saw_code.load(Ordering::SeqCst), 1, "the listener did not get the code once");
}

// ---------------------------------------------------------------------------
// The trace hook
// ---------------------------------------------------------------------------

type TraceLog = Arc<Mutex<Vec<(TraceEvent, String, thread::ThreadId)>>>;

fn traced_client(sb: &Sandbox, log: &TraceLog) -> Client {
    let sink = log.clone();
    let cfg = sb.config().trace(move |event, line| {
        sink.lock().unwrap().push((event, line.to_string(), thread::current().id()));
    });
    Client::new(cfg).expect("traced client")
}

fn has_line(lines: &[(TraceEvent, String, thread::ThreadId)], event: TraceEvent, needle: &str) -> bool {
    lines.iter().any(|(e, l, _)| *e == event && l.contains(needle))
}

/// Standard base64, for the Basic credentials the library sends.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// No line holds any 8-byte run of a secret (as the C suite checks).
fn assert_no_secret(log: &TraceLog, secrets: &[&str]) {
    for (_, line, _) in log.lock().unwrap().iter() {
        for secret in secrets {
            for run in secret.as_bytes().windows(8) {
                let run = String::from_utf8_lossy(run);
                assert!(!line.contains(&*run), "8 bytes of a secret in the trace line {:?}", line);
            }
        }
    }
}

#[test]
fn trace_shows_connect_request_response_and_no_secret() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let log: TraceLog = Arc::default();
    let client = traced_client(&sb, &log);
    let code = sb.code(&client);
    let token = client.exchange_code(&code).expect("exchange");
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);
    {
        let lines = log.lock().unwrap();
        let at = |event: TraceEvent| lines.iter().position(|(e, _, _)| *e == event);
        let (connect, request) = (at(TraceEvent::Connect), at(TraceEvent::Request));
        assert!(connect.is_some() && connect < request, "{:?}", *lines);
        let (_, first_request, _) = &lines[request.unwrap()];
        let token_url = format!("POST {}/api/access_token", sb.url);
        assert!(first_request.starts_with(&token_url), "{:?}", first_request);
        assert!(has_line(&lines[request.unwrap()..], TraceEvent::Response, "HTTP 200"), "{:?}", *lines);
        let me = thread::current().id();
        assert!(lines.iter().all(|(_, _, id)| *id == me), "a line came from another thread");
    }

    // A failure: the error mapping, still without the code.
    let e = client.exchange_code(&code).unwrap_err();
    assert_eq!(e.status, Status::InvalidCode);
    let lines = log.lock().unwrap().clone();
    assert!(has_line(&lines, TraceEvent::Error, "LF_E_INVALID_CODE"), "{:?}", lines);
    let basic = base64(format!("{}:{}", CLIENT_ID, CLIENT_SECRET).as_bytes());
    assert_no_secret(&log, &[CLIENT_SECRET, &code, token.secret(), &basic]);
}

/// Unwinding out of the `extern "C"` trampoline into the library would be
/// undefined behaviour: the panic stays in Rust, the call completes.
#[test]
fn a_panicking_trace_function_does_not_unwind_into_c() {
    let sb = match sandbox() {
        Some(s) => s,
        None => return,
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let client = Client::new(sb.config().trace(move |_, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        panic!("a trace function that panics");
    }))
    .unwrap();
    let token = client.exchange_code(&sb.code(&client)).expect("exchange despite the panics");
    assert_eq!(client.account_id(token.secret()).unwrap(), ACCOUNT);
    assert!(calls.load(Ordering::SeqCst) >= 4, "every line still reached the function");
}

#[test]
fn base64_matches_rfc4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
