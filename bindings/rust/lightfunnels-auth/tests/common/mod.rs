//! What the integration tests share: lf-sandbox started per test (plain HTTP
//! on 127.0.0.1; the library accepts http on loopback), a minimal HTTP/1.1
//! client to play the browser, and a listener that accepts and never answers.
//!
//! The sandbox binary comes from env LF_SANDBOX (set by ctest), else PATH.
//! If neither has it the sandbox tests FAIL, unless LF_SKIP_SANDBOX=1.
//! Every wait is bounded; each sandbox process is killed by a Drop guard.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use lightfunnels_auth::{new_state, Client, Config};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "rust-client";
pub const CLIENT_SECRET: &str = "rust-secret:with=odd/chars!";
pub const REDIRECT: &str = "http://127.0.0.1:8765/callback";
pub const ACCOUNT: &str = "acct_rust_binding";
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// The sandbox process
// ---------------------------------------------------------------------------

pub struct Sandbox {
    pub child: Child,
    pub url: String,
    pub addr: SocketAddr,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sandbox_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LF_SANDBOX").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "LF_SANDBOX={} does not exist", p.display());
        return Some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(p) = std::env::split_paths(&path).map(|d| d.join("lf-sandbox")).find(|p| p.is_file()) {
        return Some(p);
    }
    if std::env::var("LF_SKIP_SANDBOX").as_deref() == Ok("1") {
        eprintln!("lf-sandbox not found and LF_SKIP_SANDBOX=1: skipping this sandbox test");
        return None;
    }
    panic!(
        "lf-sandbox not found: set LF_SANDBOX=/path/to/lf-sandbox (ctest does), put it on PATH, \
         or set LF_SKIP_SANDBOX=1 to skip the sandbox tests explicitly"
    );
}

/// Starts a sandbox with our client registered and auto-approve on. None
/// only when the sandbox is unavailable and LF_SKIP_SANDBOX=1.
pub fn sandbox() -> Option<Sandbox> {
    let bin = sandbox_binary()?;
    let stderr =
        if std::env::var_os("LF_SANDBOX_VERBOSE").is_some() { Stdio::inherit() } else { Stdio::null() };
    let mut child = Command::new(&bin)
        .args(["--listen", "127.0.0.1:0", "--auto-approve", "--exit-with-parent", "--account-id", ACCOUNT])
        .arg("--client")
        .arg(format!("{}:{}:{}", CLIENT_ID, CLIENT_SECRET, REDIRECT))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {}", bin.display(), e));
    let stdout = child.stdout.take().expect("piped stdout");
    // The guard exists before we wait, so a failed start still kills it.
    let mut guard = Sandbox { child, url: String::new(), addr: "127.0.0.1:1".parse().unwrap() };
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        // Reads until EOF so the sandbox never blocks on a full pipe.
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if let Some(u) = l.strip_prefix("LF_SANDBOX_URL=") {
                        let _ = tx.send(u.trim().to_string());
                    }
                }
                Err(_) => break,
            }
        }
    });
    let url = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(u) => u,
        Err(why) => {
            // Give an exiting process a moment so its status can be reported.
            thread::sleep(Duration::from_millis(200));
            let status = guard.child.try_wait().ok().flatten();
            panic!(
                "{} printed no LF_SANDBOX_URL line ({}; exit status: {:?}); \
                 rerun with LF_SANDBOX_VERBOSE=1 to see its log",
                bin.display(),
                match why {
                    mpsc::RecvTimeoutError::Timeout => "waited 30 s",
                    mpsc::RecvTimeoutError::Disconnected => "its stdout closed",
                },
                status
            );
        }
    };
    let hostport =
        url.strip_prefix("http://").unwrap_or_else(|| panic!("expected an http:// sandbox, got {}", url));
    guard.addr = hostport.trim_end_matches('/').parse().unwrap_or_else(|_| panic!("bad sandbox URL {}", url));
    guard.url = url.trim_end_matches('/').to_string();
    Some(guard)
}

impl Sandbox {
    pub fn config(&self) -> Config {
        Config::new(CLIENT_ID, CLIENT_SECRET, REDIRECT)
            .authorize_url(format!("{}/admin/oauth", self.url))
            .token_url(format!("{}/api/access_token", self.url))
            .api_url(format!("{}/api/v2", self.url))
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(20))
    }

    pub fn client(&self) -> Client {
        Client::new(self.config()).expect("client for the sandbox")
    }

    /// Runs the consent step like a browser would and returns the callback
    /// URL the sandbox redirected to (auto-approve: a 302 at once).
    pub fn approve(&self, client: &Client, state: &str) -> String {
        let url = client.consent_url(REDIRECT, &["products", "orders"], Some(state)).expect("consent URL");
        let path = url.strip_prefix(&self.url).unwrap_or_else(|| panic!("{} is not under {}", url, self.url));
        let r = http(self.addr, "GET", path, &[], b"");
        assert_eq!(r.status, 302, "consent answered {}: {}", r.status, String::from_utf8_lossy(&r.body));
        r.header("location").expect("a Location header").to_string()
    }

    /// A fresh authorization code for `client`.
    pub fn code(&self, client: &Client) -> String {
        let state = new_state().unwrap();
        let location = self.approve(client, &state);
        assert!(location.starts_with(REDIRECT), "{}", location);
        client.parse_callback(&location, Some(&state)).expect("callback")
    }

    pub fn post_json(&self, path: &str, json: &str) -> HttpResponse {
        http(self.addr, "POST", path, &[("Content-Type", "application/json")], json.as_bytes())
    }
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 client over TcpStream (one request per connection)
// ---------------------------------------------------------------------------

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut req = format!("{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", method, path, addr);
    for (k, v) in headers {
        req.push_str(&format!("{}: {}\r\n", k, v));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    // Connection: close, so EOF ends the response; bounded in size and time.
    s.take(4 << 20).read_to_end(&mut raw).expect("read the response");
    parse_http(&raw)
}

pub fn parse_http(raw: &[u8]) -> HttpResponse {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse { status, headers, body: raw[end + 4..].to_vec() }
}

// ---------------------------------------------------------------------------
// A listener that accepts and never answers
// ---------------------------------------------------------------------------

pub struct Silent {
    pub addr: SocketAddr,
    pub stop: Arc<AtomicBool>,
    pub thread: Option<thread::JoinHandle<()>>,
}

impl Silent {
    pub fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(180);
            let mut held = Vec::new();
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                match l.accept() {
                    Ok((s, _)) => held.push(s), // read nothing, answer nothing
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Silent { addr, stop, thread: Some(thread) }
    }

    pub fn client(&self, timeout: Duration) -> Client {
        let base = format!("http://{}", self.addr);
        Client::new(
            Config::new(CLIENT_ID, CLIENT_SECRET, REDIRECT)
                .authorize_url(format!("{}/admin/oauth", base))
                .token_url(format!("{}/oauth/access_token", base))
                .api_url(format!("{}/api/v2", base))
                .timeout(timeout),
        )
        .unwrap()
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
