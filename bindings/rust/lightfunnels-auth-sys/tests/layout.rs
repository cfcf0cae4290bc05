//! Checks the hand-written declarations against the installed header:
//! struct sizes, alignments and field offsets, enum width and signedness,
//! constants (through the C probe build.rs ran), and that every function the
//! header declares is declared (and links) here.

use lightfunnels_auth_sys::*;
use std::collections::{BTreeMap, BTreeSet};
use std::mem::{align_of, size_of, MaybeUninit};
use std::os::raw::c_long;

const LAYOUT: &str = include_str!(concat!(env!("OUT_DIR"), "/layout.txt"));
const HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/auth.h"));

/// The C probe's output as "kind name" -> value.
fn probe() -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in LAYOUT.lines() {
        if let Some(why) = line.strip_prefix("error ") {
            panic!("the layout probe did not run during the build: {}", why);
        }
        let mut parts = line.splitn(3, ' ');
        let (kind, name, value) = (parts.next(), parts.next(), parts.next());
        match (kind, name, value) {
            (Some(k), Some(n), Some(v)) => {
                map.insert(format!("{} {}", k, n), v.to_string());
            }
            _ => panic!("malformed probe line {:?}", line),
        }
    }
    assert!(map.len() > 50, "probe output is too short:\n{}", LAYOUT);
    map
}

/// offset_of! is not stable in rustc 1.63: compute it from a raw pointer.
macro_rules! offset_of {
    ($T:ty, $field:ident) => {{
        let u = MaybeUninit::<$T>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! computes the field address without reading or
        // creating a reference to the uninitialised value.
        let field = unsafe { std::ptr::addr_of!((*base).$field) };
        (field as usize) - (base as usize)
    }};
}

struct Checker {
    probe: BTreeMap<String, String>,
    seen: BTreeSet<String>,
    failures: Vec<String>,
}

impl Checker {
    fn new() -> Checker {
        Checker { probe: probe(), seen: BTreeSet::new(), failures: Vec::new() }
    }

    fn check(&mut self, key: &str, rust: String) {
        self.seen.insert(key.to_string());
        match self.probe.get(key) {
            None => self.failures.push(format!("{}: not printed by the C probe", key)),
            Some(c) if *c != rust => self.failures.push(format!("{}: C says {}, Rust says {}", key, c, rust)),
            Some(_) => {}
        }
    }

    fn finish(self) {
        let unchecked: Vec<&String> = self.probe.keys().filter(|k| !self.seen.contains(*k)).collect();
        assert!(unchecked.is_empty(), "probe lines this test does not check: {:?}", unchecked);
        assert!(self.failures.is_empty(), "layout mismatches:\n{}", self.failures.join("\n"));
    }
}

macro_rules! size {
    ($c:expr, $T:ident) => {
        $c.check(concat!("sizeof ", stringify!($T)), size_of::<$T>().to_string())
    };
}
macro_rules! align {
    ($c:expr, $T:ident) => {
        $c.check(concat!("alignof ", stringify!($T)), align_of::<$T>().to_string())
    };
}
macro_rules! offset {
    ($c:expr, $T:ident, $($f:ident),+) => {
        $( $c.check(concat!("offsetof ", stringify!($T), ".", stringify!($f)),
                    offset_of!($T, $f).to_string()); )+
    };
}
macro_rules! value {
    ($c:expr, $($m:ident),+) => {
        $( $c.check(concat!("value ", stringify!($m)), ($m as i64).to_string()); )+
    };
}

/// "1" when -1 converted to the type stays negative, as the probe prints it.
fn signed(minus_one: i64) -> String {
    if minus_one < 0 { "1" } else { "0" }.to_string()
}

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

#[test]
fn layout_and_constants_match_the_header() {
    let mut c = Checker::new();

    size!(c, lf_status);
    c.check("signed lf_status", signed((-1i64) as lf_status as i64));
    size!(c, lf_client_auth);
    c.check("signed lf_client_auth", signed((-1i64) as lf_client_auth as i64));
    size!(c, lf_code_sent);
    c.check("signed lf_code_sent", signed((-1i64) as lf_code_sent as i64));

    size!(c, lf_error);
    align!(c, lf_error);
    offset!(c, lf_error, status, http_status, retry_after_s, key, message);
    c.check("fieldsize lf_error.http_status", field_size(|e: &lf_error| &e.http_status).to_string());
    c.check("fieldsize lf_error.key", field_size(|e: &lf_error| &e.key).to_string());
    c.check("fieldsize lf_error.message", field_size(|e: &lf_error| &e.message).to_string());

    size!(c, lf_allocator);
    align!(c, lf_allocator);
    offset!(c, lf_allocator, alloc, realloc, free, ctx);

    size!(c, lf_auth_config);
    align!(c, lf_auth_config);
    offset!(
        c,
        lf_auth_config,
        struct_size,
        client_id,
        client_secret,
        previous_client_secret,
        redirect_uris,
        redirect_uri_count,
        authorize_url,
        token_url,
        api_url,
        client_auth,
        connect_timeout_ms,
        timeout_ms,
        max_response_bytes,
        ca_file,
        user_agent,
        stall_timeout_ms,
        trace,
        trace_user
    );
    c.check(
        "fieldsize lf_auth_config.stall_timeout_ms",
        field_size(|a: &lf_auth_config| &a.stall_timeout_ms).to_string(),
    );

    size!(c, lf_call_options);
    align!(c, lf_call_options);
    offset!(c, lf_call_options, struct_size, timeout_ms, cancel, code_sent);

    value!(
        c,
        LF_AUTH_VERSION_MAJOR,
        LF_AUTH_VERSION_MINOR,
        LF_AUTH_VERSION_PATCH,
        LF_AUTH_VERSION_NUMBER,
        LF_STATE_BUFFER_SIZE,
        LF_SEALED_STATE_BUFFER_SIZE,
        LF_SIGNATURE_BUFFER_SIZE,
        LF_MAX_TOKEN_LENGTH,
        LF_MAX_CALLBACK_LENGTH,
        LF_INIT_HOOK_DEPENDENCIES
    );
    c.check("string LF_AUTH_VERSION_STRING", LF_AUTH_VERSION_STRING.to_string());
    value!(
        c,
        LF_OK,
        LF_E_INVALID_ARGUMENT,
        LF_E_BUFFER_TOO_SMALL,
        LF_E_NO_MEMORY,
        LF_E_REDIRECT_URI_NOT_ALLOWED,
        LF_E_STATE_MISMATCH,
        LF_E_STATE_EXPIRED,
        LF_E_ACCESS_DENIED,
        LF_E_NETWORK,
        LF_E_TIMEOUT,
        LF_E_TLS,
        LF_E_INSECURE_TRANSPORT,
        LF_E_HTTP,
        LF_E_INVALID_CODE,
        LF_E_INVALID_CLIENT,
        LF_E_UNAUTHORIZED,
        LF_E_API,
        LF_E_PROTOCOL,
        LF_E_RESPONSE_TOO_LARGE,
        LF_E_SIGNATURE_MISMATCH,
        LF_E_CANCELLED,
        LF_E_RATE_LIMITED,
        LF_E_INTERNAL
    );
    value!(c, LF_CLIENT_AUTH_JSON_BODY, LF_CLIENT_AUTH_BASIC, LF_CLIENT_AUTH_AUTO);
    value!(c, LF_CODE_NOT_SENT, LF_CODE_MAYBE_SENT, LF_CODE_SENT);
    value!(
        c,
        LF_TRACE_CONNECT,
        LF_TRACE_REUSE,
        LF_TRACE_TLS,
        LF_TRACE_REQUEST,
        LF_TRACE_RESPONSE,
        LF_TRACE_AUTO,
        LF_TRACE_ERROR,
        LF_TRACE_NO_RETRY
    );

    c.finish();
}

#[test]
fn c_long_is_the_platform_long() {
    // lf_error.http_status and the timeouts are C `long`: 8 bytes on LP64,
    // 4 on Windows and 32-bit targets. The probe checks the header side.
    assert_eq!(size_of::<c_long>(), field_size(|e: &lf_error| &e.retry_after_s));
}

/// Every function declared here, as an address: taking it forces the linker
/// to resolve the symbol in the real library.
fn declared_functions() -> Vec<(&'static str, usize)> {
    macro_rules! f {
        ($($name:ident),+ $(,)?) => { vec![$((stringify!($name), $name as *const () as usize)),+] };
    }
    f![
        lf_status_name,
        lf_status_message,
        lf_global_init,
        lf_global_cleanup,
        lf_version,
        lf_auth_config_init,
        lf_auth_new,
        lf_auth_free,
        lf_consent_url,
        lf_state_generate,
        lf_state_equal,
        lf_parse_callback,
        lf_state_seal,
        lf_state_open,
        lf_parse_callback_sealed,
        lf_call_options_init,
        lf_exchange_code,
        lf_exchange_code_ex,
        lf_exchange_code_async,
        lf_graphql_async,
        lf_token_value,
        lf_token_copy,
        lf_token_free,
        lf_webhook_verify,
        lf_webhook_sign,
        lf_graphql,
        lf_graphql_ex,
        lf_response_body,
        lf_response_body_length,
        lf_response_http_status,
        lf_response_free,
        lf_account_id,
        lf_account_id_ex,
    ]
}

/// Names of the functions the header declares: every `LF_API <type> lf_x(`.
fn header_functions() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = HEADER;
    while let Some(pos) = rest.find("LF_API ") {
        rest = &rest[pos + "LF_API ".len()..];
        let decl = &rest[..rest.find('(').unwrap_or(rest.len())];
        // The name is the last identifier before '(' (after the return type).
        let name = decl
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .find(|s| !s.is_empty())
            .unwrap_or("");
        if name.starts_with("lf_") {
            names.insert(name.to_string());
        }
    }
    names
}

#[test]
fn every_header_function_is_declared() {
    let header = header_functions();
    assert!(
        header.len() >= 20,
        "found only {:?} in the header copy:\n{}",
        header,
        &HEADER[..HEADER.len().min(200)]
    );
    let declared: BTreeSet<String> = declared_functions()
        .into_iter()
        .map(|(name, addr)| {
            assert_ne!(addr, 0, "{} has a null address", name);
            name.to_string()
        })
        .collect();
    let missing: Vec<&String> = header.difference(&declared).collect();
    let extra: Vec<&String> = declared.difference(&header).collect();
    assert!(missing.is_empty(), "declared in auth.h but not in lightfunnels-auth-sys: {:?}", missing);
    assert!(extra.is_empty(), "declared in lightfunnels-auth-sys but not in auth.h: {:?}", extra);
}

#[test]
fn loaded_library_matches_the_header_version() {
    // SAFETY: lf_version returns a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(lf_version()) };
    assert_eq!(v.to_str().unwrap(), LF_AUTH_VERSION_STRING);
}

#[test]
fn status_names_are_total() {
    for code in 0..=LF_E_INTERNAL + 3 {
        // SAFETY: both return static NUL-terminated strings for any value.
        let name = unsafe { std::ffi::CStr::from_ptr(lf_status_name(code)) };
        let msg = unsafe { std::ffi::CStr::from_ptr(lf_status_message(code)) };
        assert!(!msg.to_bytes().is_empty());
        let name = name.to_str().unwrap();
        if code == LF_OK {
            assert_eq!(name, "LF_OK");
        } else if code > LF_E_INTERNAL {
            assert_eq!(name, "LF_E_UNKNOWN");
        } else {
            assert!(name.starts_with("LF_E_"), "{} -> {}", code, name);
        }
    }
    // SAFETY: as above.
    let t = unsafe { std::ffi::CStr::from_ptr(lf_status_name(LF_E_TIMEOUT)) };
    assert_eq!(t.to_str().unwrap(), "LF_E_TIMEOUT");
}
