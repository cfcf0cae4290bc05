//! Operations that need no server: configuration checks, consent URL,
//! state, callback parsing, webhook signatures, status names, redaction.

use lightfunnels_auth::{new_state, state_equal, version, Client, ClientAuth, CodeSent, Config, Status};

const REDIRECT: &str = "https://app.example.com/oauth/callback?tenant=a%2Fb&x=1";
const AUTHORIZE: &str = "https://auth.example.com/admin/oauth";

fn client() -> Client {
    Client::new(
        Config::new("my app/1+2 é", "Jefe", REDIRECT)
            .redirect_uri("http://127.0.0.1:8765/cb")
            .authorize_url(AUTHORIZE),
    )
    .expect("client")
}

/// A standard application/x-www-form-urlencoded decoder, written here so the
/// test does not trust the library's own decoding.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                assert!(i + 2 < b.len(), "short escape in {}", s);
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(
                    u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad escape %{} in {}", hex, s)),
                );
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("decoded UTF-8")
}

/// Splits "base?k=v&k=v" into base and decoded pairs.
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let (base, query) = url.split_once('?').expect("a query");
    let pairs = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    (base.to_string(), pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let found: Vec<&'a str> = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
    assert!(found.len() <= 1, "{} repeated", name);
    found.first().copied()
}

/// The platform's documented method since 2025-02 is the default, in the
/// enum and in a fresh `Config`.
#[test]
fn default_client_auth_is_basic() {
    assert_eq!(ClientAuth::default(), ClientAuth::Basic);
    assert_eq!(Config::new("id", "secret", REDIRECT).client_auth, ClientAuth::Basic);
    // Basic cannot carry a ':' in the client id: the default refuses it,
    // the JSON body (asked for) takes it.
    assert_eq!(
        Client::new(Config::new("a:b", "secret", REDIRECT)).unwrap_err().status,
        Status::InvalidArgument
    );
    assert!(Client::new(Config::new("a:b", "secret", REDIRECT).client_auth(ClientAuth::JsonBody)).is_ok());
}

#[test]
fn version_matches_the_header() {
    assert_eq!(version(), lightfunnels_auth::sys::LF_AUTH_VERSION_STRING);
}

#[test]
fn consent_url_round_trips_through_a_standard_decoder() {
    let c = client();
    let state = "st/ate +&=?é";
    let url =
        c.consent_url(REDIRECT, &["products", " orders ", "products", "settings"], Some(state)).unwrap();
    // Only unreserved characters, '%', '&', '=', ',' and the base URL's own.
    let (base, pairs) = split_url(&url);
    assert_eq!(base, AUTHORIZE);
    let query = url.split_once('?').unwrap().1;
    assert!(
        query.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%&=,".contains(&b)),
        "unexpected raw character in {}",
        query
    );
    assert_eq!(param(&pairs, "client_id"), Some("my app/1+2 é"));
    assert_eq!(param(&pairs, "redirect_uri"), Some(REDIRECT));
    assert_eq!(param(&pairs, "scope"), Some("products,orders,settings"));
    assert_eq!(param(&pairs, "state"), Some(state));
    assert!(query.contains("scope=products,orders,settings"), "commas stay literal: {}", query);
}

#[test]
fn consent_url_without_state_omits_it() {
    let c = client();
    let url = c.consent_url("http://127.0.0.1:8765/cb", &["funnels"], None).unwrap();
    let (_, pairs) = split_url(&url);
    assert_eq!(param(&pairs, "state"), None);
    assert_eq!(param(&pairs, "redirect_uri"), Some("http://127.0.0.1:8765/cb"));
    assert_eq!(param(&pairs, "scope"), Some("funnels"));
}

#[test]
fn consent_url_errors() {
    let c = client();
    let e = c.consent_url("https://app.example.com/oauth/callback", &["products"], None).unwrap_err();
    assert_eq!(e.status, Status::RedirectUriNotAllowed, "{}", e);
    let e = c.consent_url(&format!("{}/", REDIRECT), &["products"], None).unwrap_err();
    assert_eq!(e.status, Status::RedirectUriNotAllowed);
    let e = c.consent_url(REDIRECT, &["Products"], None).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    let e = c.consent_url(REDIRECT, &[], None).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    let e = c.consent_url(REDIRECT, &["products"], Some("")).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    let e = c.consent_url(REDIRECT, &["products,orders"], None).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    let e = c.consent_url(REDIRECT, &["products\0"], None).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
}

#[test]
fn state_is_fresh_base64url() {
    let a = new_state().unwrap();
    let b = new_state().unwrap();
    assert_eq!(a.len(), 43);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{}", a);
    assert_ne!(a, b);
    assert!(state_equal(&a, &a.clone()));
    assert!(!state_equal(&a, &b));
    assert!(!state_equal(&a, &a[..42]));
    assert!(!state_equal("a\0", "a\0"));
}

#[test]
fn parse_callback_returns_the_code() {
    let c = client();
    let code = c
        .parse_callback("http://127.0.0.1:8765/cb?code=abc%2B1+2&state=s1&extra=x#frag", Some("s1"))
        .unwrap();
    assert_eq!(code, "abc+1 2");
    assert_eq!(c.parse_callback("?state=s1&code=xyz", None).unwrap(), "xyz");
    assert_eq!(c.parse_callback("code=xyz", None).unwrap(), "xyz");
    // A long code still fits (the binding sizes the buffer from the URL).
    let long = "c".repeat(6000);
    assert_eq!(c.parse_callback(&format!("code={}&state=s", long), Some("s")).unwrap(), long);
}

#[test]
fn callback_errors_map_to_statuses() {
    let c = client();
    let cases: &[(&str, Option<&str>, Status)] = &[
        ("code=abc&state=other", Some("expected"), Status::StateMismatch),
        ("code=abc", Some("expected"), Status::StateMismatch),
        ("code=abc&state=expected", Some("expecte"), Status::StateMismatch),
        ("code=a%zzb&state=s", Some("s"), Status::InvalidArgument),
        ("code=a%2", None, Status::InvalidArgument),
        ("code=a%00b", None, Status::InvalidArgument),
        ("code=a&code=b", None, Status::InvalidArgument),
        ("code=a&state=s&state=s", Some("s"), Status::InvalidArgument),
        ("state=s", Some("s"), Status::InvalidArgument),
        ("code=&state=s", Some("s"), Status::InvalidArgument),
        ("code=a%0Ab", None, Status::InvalidArgument),
        ("error=access_denied&state=s", Some("s"), Status::AccessDenied),
    ];
    for (url, expected, status) in cases {
        let e = c.parse_callback(url, *expected).unwrap_err();
        assert_eq!(e.status, *status, "{} -> {}", url, e);
        assert_eq!(e.http_status, 0);
    }
    // The library decodes %FF to the byte 0xFF; a Rust String cannot hold it.
    let e = c.parse_callback("code=ab%FF", None).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    assert!(e.message.contains("UTF-8"), "{}", e.message);
    assert_eq!(c.parse_callback("code=%C3%A9t%C3%A9", None).unwrap(), "été");
    let too_long = format!("code={}", "c".repeat(9000));
    assert_eq!(c.parse_callback(&too_long, None).unwrap_err().status, Status::InvalidArgument);
}

#[test]
fn declined_consent_carries_the_servers_error() {
    let c = client();
    let e = c
        .parse_callback(
            "https://app.example.com/cb?error=access_denied&error_description=The+merchant+said+no&state=s",
            Some("s"),
        )
        .unwrap_err();
    assert_eq!(e.status, Status::AccessDenied);
    assert_eq!(e.key, "access_denied");
    assert!(e.message.contains("The merchant said no"), "{}", e.message);
    let shown = e.to_string();
    assert!(shown.starts_with("LF_E_ACCESS_DENIED: "), "{}", shown);
    assert!(shown.contains("key access_denied"), "{}", shown);
    // The state check comes first.
    let e = c.parse_callback("error=access_denied&state=evil", Some("s")).unwrap_err();
    assert_eq!(e.status, Status::StateMismatch);
}

#[test]
fn webhook_sign_and_verify() {
    let c = client(); // secret "Jefe": RFC 4231 test case 2
    let body = b"what do ya want for nothing?";
    let sig = c.sign_webhook(body).unwrap();
    assert_eq!(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    c.verify_webhook(body, &sig).unwrap();
    c.verify_webhook(body, sig.trim_end_matches('=')).unwrap();
    c.verify_webhook(body, &format!(" \t{} ", sig)).unwrap();
    assert_eq!(c.sign_webhook(b"").unwrap(), "kjWYym1krypdunnc0CGooP5cX1V1Ga2q8K1TLUUG3TA=");

    let bad: &[&str] = &[
        "",
        "   ",
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEQ=",
        "sha256=W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=",
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=\0",
    ];
    for h in bad {
        assert_eq!(c.verify_webhook(body, h).unwrap_err().status, Status::SignatureMismatch, "{:?}", h);
    }
    let e = c.verify_webhook(b"what do ya want for nothing!", &sig).unwrap_err();
    assert_eq!(e.status, Status::SignatureMismatch);
    assert_eq!(e.to_string(), format!("LF_E_SIGNATURE_MISMATCH: {}", Status::SignatureMismatch.message()));

    // Binary bodies with NULs are signed over every byte.
    let bin = [0u8, 1, 2, 0, 255];
    let s = c.sign_webhook(&bin).unwrap();
    c.verify_webhook(&bin, &s).unwrap();
    assert!(c.verify_webhook(&bin[..4], &s).is_err());
}

/// A client made without redirect URIs signs and verifies webhooks, but its
/// consent and callback calls fail with `RedirectUriNotAllowed`.
#[test]
fn webhook_only_client() {
    let c = Client::new(Config { redirect_uris: Vec::new(), ..Config::new("my app", "Jefe", REDIRECT) })
        .expect("a client without redirect URIs");
    let body = b"what do ya want for nothing?";
    let sig = c.sign_webhook(body).unwrap();
    assert_eq!(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    c.verify_webhook(body, &sig).unwrap();
    let e = c.verify_webhook(b"what do ya want for nothing!", &sig).unwrap_err();
    assert_eq!(e.status, Status::SignatureMismatch);

    for redirect in [REDIRECT, "http://127.0.0.1:8765/cb"] {
        let e = c.consent_url(redirect, &["products"], Some("st")).unwrap_err();
        assert_eq!(e.status, Status::RedirectUriNotAllowed, "{}: {}", redirect, e);
    }
    let state = c.seal_state(Some("sess")).unwrap();
    let sealed_url = format!("{}&code=c0de&state={}", REDIRECT, state);
    let errors = [
        c.parse_callback("code=c0de&state=st", Some("st")).unwrap_err(),
        c.parse_callback("code=c0de", None).unwrap_err(),
        c.parse_callback_sealed(&sealed_url, Some("sess"), std::time::Duration::from_secs(60)).unwrap_err(),
    ];
    for e in &errors {
        assert_eq!(e.status, Status::RedirectUriNotAllowed, "{}", e);
        assert!(e.message.contains("no redirect URIs"), "{}", e.message);
    }
}

#[test]
fn previous_secret_verifies_during_rotation() {
    let old = Client::new(Config::new("id", "old-secret", REDIRECT)).unwrap();
    let new =
        Client::new(Config::new("id", "new-secret", REDIRECT).previous_client_secret("old-secret")).unwrap();
    let body = br#"{"event":"order/confirmed"}"#;
    let by_old = old.sign_webhook(body).unwrap();
    let by_new = new.sign_webhook(body).unwrap();
    assert_ne!(by_old, by_new);
    new.verify_webhook(body, &by_old).unwrap();
    new.verify_webhook(body, &by_new).unwrap();
    assert_eq!(old.verify_webhook(body, &by_new).unwrap_err().status, Status::SignatureMismatch);
}

#[test]
fn config_is_checked() {
    let bad = |cfg: Config, status: Status| {
        let e = Client::new(cfg).unwrap_err();
        assert_eq!(e.status, status, "{}", e);
        assert!(!e.to_string().contains("hunter2"), "secret leaked: {}", e);
    };
    bad(Config::new("", "hunter2", REDIRECT), Status::InvalidArgument);
    bad(Config::new("id", "", REDIRECT), Status::InvalidArgument);
    bad(Config::new("id", "hunter2\0x", REDIRECT), Status::InvalidArgument);
    bad(
        Config { redirect_uris: vec![String::new()], ..Config::new("id", "hunter2", REDIRECT) },
        Status::InvalidArgument,
    );
    bad(Config::new("id", "hunter2", "not a url"), Status::InvalidArgument);
    bad(Config::new("id", "hunter2", "http://example.com/cb"), Status::InsecureTransport);
    bad(
        Config::new("id", "hunter2", REDIRECT).token_url("http://api.example.com/oauth/access_token"),
        Status::InsecureTransport,
    );
    bad(Config::new("id", "hunter2", REDIRECT).api_url("ftp://127.0.0.1/x"), Status::InsecureTransport);
    bad(Config::new("id", "hunter2", REDIRECT).timeout(std::time::Duration::ZERO), Status::InvalidArgument);
    bad(
        Config::new("id", "hunter2", REDIRECT).connect_timeout(std::time::Duration::ZERO),
        Status::InvalidArgument,
    );
    bad(Config::new("id", "hunter2", REDIRECT).max_response_bytes(0), Status::InvalidArgument);
    bad(
        Config::new("id", "hunter2", REDIRECT).stall_timeout(std::time::Duration::ZERO),
        Status::InvalidArgument,
    );
    bad(Config::new("a:b", "hunter2", REDIRECT).client_auth(ClientAuth::Basic), Status::InvalidArgument);
    // No redirect URI is valid since 1.1: a webhook-only client (see webhook_only_client).
    Client::new(Config { redirect_uris: vec![], ..Config::new("id", "hunter2", REDIRECT) }).unwrap();
    // http to loopback is accepted (what the sandbox tests rely on).
    Client::new(
        Config::new("a:b", "hunter2", "http://localhost:9/cb")
            .token_url("http://127.0.0.1:9/oauth/access_token")
            .api_url("http://[::1]:9/api/v2")
            .client_auth(ClientAuth::Auto)
            .user_agent("rust-test/1")
            .timeout(std::time::Duration::from_micros(10))
            .stall_timeout(std::time::Duration::from_micros(10)),
    )
    .unwrap();
}

#[test]
fn calls_that_fail_before_the_network() {
    let c = client();
    for code in ["", "a\0b"] {
        let e = c.exchange_code(code).unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument);
        assert_eq!(e.code_sent(), CodeSent::NotSent, "{:?}", code);
    }
    // A token that could inject a header is refused before anything is sent.
    let e = c.graphql("tok\r\nX-Evil: 1", "query { account { id } }", None).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    assert!(e.response().is_none());
    let e = c.graphql("tok", "query { account { id } }", Some("[1,2]")).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    assert_eq!(c.account_id("").unwrap_err().status, Status::InvalidArgument);
}

#[test]
fn status_names_and_messages() {
    assert_eq!(Status::Timeout.name(), "LF_E_TIMEOUT");
    assert_eq!(Status::Timeout.to_string(), "LF_E_TIMEOUT");
    assert_eq!(Status::InvalidCode.name(), "LF_E_INVALID_CODE");
    assert_eq!(Status::Unknown(4242).name(), "LF_E_UNKNOWN");
    assert_eq!(Status::from_raw(20), Status::Cancelled);
    assert_eq!(Status::from_raw(4242), Status::Unknown(4242));
    for raw in 1..=22 {
        let s = Status::from_raw(raw);
        assert!(s.name().starts_with("LF_E_") && s.name() != "LF_E_UNKNOWN", "{}", raw);
        assert!(!s.message().is_empty());
    }
}

#[test]
fn client_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Client>();
    check::<lightfunnels_auth::AccessToken>();
    check::<lightfunnels_auth::Error>();
    check::<lightfunnels_auth::Response>();
    let c = std::sync::Arc::new(client());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || c.sign_webhook(format!("body {}", i).as_bytes()).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().len(), 44);
    }
}

#[test]
fn code_sent_names() {
    assert_eq!(CodeSent::NotSent.to_string(), "not sent");
    assert_eq!(CodeSent::MaybeSent.to_string(), "maybe sent");
    assert_eq!(CodeSent::Sent.to_string(), "sent");
    // Errors of calls that send no code say so.
    let e = client().graphql("tok\r\nX: 1", "query { account { id } }", None).unwrap_err();
    assert_eq!(e.code_sent(), CodeSent::NotSent);
}

#[test]
fn sealed_state_round_trip_and_refusals() {
    use std::time::Duration;
    let c = client();
    let minute = Duration::from_secs(60);
    let session = Some("session-5b0e1c7d");
    let state = c.seal_state(session).unwrap();
    assert_eq!(state.len(), 76);
    assert!(state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(state, c.seal_state(session).unwrap());
    c.open_state(&state, session, minute).unwrap();

    let status = |s: &str, b: Option<&str>, age: Duration| c.open_state(s, b, age).unwrap_err().status;
    assert_eq!(status(&state, Some("session-other"), minute), Status::StateMismatch);
    assert_eq!(status(&state, None, minute), Status::StateMismatch);
    let mut altered = state.clone().into_bytes();
    altered[40] = if altered[40] == b'A' { b'B' } else { b'A' };
    assert_eq!(status(std::str::from_utf8(&altered).unwrap(), session, minute), Status::StateMismatch);
    assert_eq!(status("not-a-sealed-state", session, minute), Status::StateMismatch);
    assert_eq!(status(&state, session, Duration::from_millis(500)), Status::InvalidArgument);

    // None and "" are both unbound.
    let unbound = c.seal_state(None).unwrap();
    c.open_state(&unbound, Some(""), minute).unwrap();

    // Another client (id or secret) refuses it; the same client elsewhere opens it.
    let other_id = Client::new(Config::new("another app", "Jefe", REDIRECT)).unwrap();
    let other_secret = Client::new(Config::new("my app/1+2 é", "not Jefe", REDIRECT)).unwrap();
    let same = Client::new(Config::new("my app/1+2 é", "Jefe", REDIRECT)).unwrap();
    assert_eq!(other_id.open_state(&state, session, minute).unwrap_err().status, Status::StateMismatch);
    assert_eq!(other_secret.open_state(&state, session, minute).unwrap_err().status, Status::StateMismatch);
    same.open_state(&state, session, minute).unwrap();

    // Rotation: sealed under the old secret, opened with it as the previous one.
    let rotated =
        Client::new(Config::new("my app/1+2 é", "new secret", REDIRECT).previous_client_secret("Jefe"))
            .unwrap();
    rotated.open_state(&state, session, minute).unwrap();
}

#[test]
fn sealed_state_expires() {
    use std::time::Duration;
    let c = client();
    let state = c.seal_state(Some("s")).unwrap();
    c.open_state(&state, Some("s"), Duration::from_secs(1)).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let err = c.open_state(&state, Some("s"), Duration::from_secs(1)).unwrap_err();
    assert_eq!(err.status, Status::StateExpired);
    c.open_state(&state, Some("s"), Duration::from_secs(60)).unwrap();
}

#[test]
fn parse_callback_sealed_checks_the_state_first() {
    use std::time::Duration;
    let c = client();
    let minute = Duration::from_secs(60);
    let state = c.seal_state(Some("sess")).unwrap();
    let url = format!("{}&code=c0de&state={}", REDIRECT, state);
    assert_eq!(c.parse_callback_sealed(&url, Some("sess"), minute).unwrap(), "c0de");

    let status = |q: &str, b: Option<&str>| c.parse_callback_sealed(q, b, minute).unwrap_err().status;
    assert_eq!(status(&url, Some("other")), Status::StateMismatch);
    assert_eq!(status("code=c0de", Some("sess")), Status::StateMismatch);
    assert_eq!(status(&format!("error=access_denied&state={}", state), Some("other")), Status::StateMismatch);
    assert_eq!(status(&format!("error=access_denied&state={}", state), Some("sess")), Status::AccessDenied);
    assert_eq!(status(&format!("state={}", state), Some("sess")), Status::InvalidArgument);
    let err = c.parse_callback_sealed(&url, Some("sess"), Duration::ZERO).unwrap_err();
    assert_eq!(err.status, Status::InvalidArgument);
}
