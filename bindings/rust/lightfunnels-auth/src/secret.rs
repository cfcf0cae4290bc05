//! Values that must not linger in memory or leak into logs: the client
//! secret ([`Secret`]) and access tokens ([`AccessToken`]). Both keep their
//! bytes in a buffer that is zeroed when dropped and print as `<redacted>`.

use crate::Error;
use crate::Status;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_char;
use std::sync::atomic::{compiler_fence, Ordering};

/// Zeroes the whole allocation of `v` (length and spare capacity) with
/// volatile writes the optimiser cannot drop, then clears it.
pub(crate) fn wipe(v: &mut Vec<u8>) {
    let p = v.as_mut_ptr();
    for i in 0..v.capacity() {
        // SAFETY: i < capacity, so p + i is inside the allocation; u8 needs no
        // initialisation to be written.
        unsafe { std::ptr::write_volatile(p.add(i), 0) };
    }
    compiler_fence(Ordering::SeqCst);
    v.clear();
}

/// A client secret. Cloning makes another wiped copy; `Debug` prints
/// `Secret(<redacted>)`. Build one with `Secret::from(string)` (the `String`
/// is moved in, not copied).
// No PartialEq: comparing secrets with `==` would not be constant-time.
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// Wraps `secret` without copying it.
    pub fn new(secret: String) -> Secret {
        Secret { bytes: secret.into_bytes() }
    }

    /// The secret itself. Avoid formatting it anywhere.
    pub fn expose(&self) -> &str {
        // SAFETY: built from a String only.
        unsafe { std::str::from_utf8_unchecked(&self.bytes) }
    }

    /// A NUL-terminated copy for C, itself wiped on drop.
    pub(crate) fn to_c(&self, what: &str) -> Result<WipedCString, Error> {
        WipedCString::new(&self.bytes, what)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret::new(s.to_string())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A NUL-terminated byte string for C that is wiped on drop.
pub(crate) struct WipedCString {
    bytes: Vec<u8>,
}

impl WipedCString {
    pub(crate) fn new(s: &[u8], what: &str) -> Result<WipedCString, Error> {
        if s.contains(&0) {
            return Err(Error::binding(Status::InvalidArgument, &format!("{} contains a NUL byte", what)));
        }
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s);
        bytes.push(0);
        Ok(WipedCString { bytes })
    }

    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.bytes.as_ptr() as *const c_char
    }
}

impl Drop for WipedCString {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

/// The permanent access token a code bought. Store it (encrypted at rest)
/// and pass [`AccessToken::secret`] to [`Client::graphql`] /
/// [`Client::account_id`].
///
/// The bytes live in one buffer that is zeroed on drop; `Debug` and
/// `Display` print `<redacted>` so a token cannot end up in a log by accident.
/// It is deliberately not `Clone`.
///
/// [`Client::graphql`]: crate::Client::graphql
/// [`Client::account_id`]: crate::Client::account_id
pub struct AccessToken {
    bytes: Vec<u8>,
}

impl AccessToken {
    /// Copies a library token string (a b64token, so ASCII).
    ///
    /// # Safety
    /// `p` must point to a NUL-terminated string valid for the call.
    pub(crate) unsafe fn from_c(p: *const c_char) -> Result<AccessToken, Error> {
        if p.is_null() {
            return Err(Error::binding(Status::Internal, "the library returned no token value"));
        }
        let src = CStr::from_ptr(p).to_bytes();
        // Exact capacity: the Vec never reallocates, so no stray copy is left.
        let mut bytes = Vec::with_capacity(src.len());
        bytes.extend_from_slice(src);
        if std::str::from_utf8(&bytes).is_err() {
            wipe(&mut bytes);
            return Err(Error::binding(Status::Protocol, "the access token is not UTF-8"));
        }
        Ok(AccessToken { bytes })
    }

    /// The token itself, e.g. to store it or pass it to the API.
    pub fn secret(&self) -> &str {
        // SAFETY: checked to be UTF-8 when built.
        unsafe { std::str::from_utf8_unchecked(&self.bytes) }
    }

    /// Length of the token in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false for a token from the library (tokens are never empty).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Drop for AccessToken {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_length_and_spare_capacity() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"super secret value");
        let p = v.as_ptr();
        let cap = v.capacity();
        wipe(&mut v);
        assert!(v.is_empty());
        assert_eq!(v.capacity(), cap);
        // SAFETY: the allocation is still owned by v (clear keeps capacity)
        // and every byte was just written.
        let all = unsafe { std::slice::from_raw_parts(p, cap) };
        assert!(all.iter().all(|&b| b == 0));
    }

    #[test]
    fn token_is_redacted_and_exposed_only_on_request() {
        let c = std::ffi::CString::new("tok_ABCdef123-._~+/=").unwrap();
        // SAFETY: c is NUL-terminated and alive.
        let t = unsafe { AccessToken::from_c(c.as_ptr()) }.unwrap();
        assert_eq!(t.secret(), "tok_ABCdef123-._~+/=");
        assert_eq!(t.len(), 20);
        assert_eq!(format!("{:?}", t), "AccessToken(<redacted>)");
        assert_eq!(format!("{}", t), "<redacted>");
        assert!(!format!("{:?} {} {:#?}", t, t, t).contains("tok_"));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::from("hunter2-very-secret");
        assert_eq!(format!("{:?}", s), "Secret(<redacted>)");
        assert_eq!(s.expose(), "hunter2-very-secret");
        let c = s.to_c("client_secret").unwrap();
        // SAFETY: c is NUL-terminated and alive.
        let back = unsafe { CStr::from_ptr(c.as_ptr()) };
        assert_eq!(back.to_bytes(), b"hunter2-very-secret");
    }

    #[test]
    fn nul_in_secret_is_rejected_without_echoing_it() {
        let s = Secret::from("abc\0def");
        let e = s.to_c("client_secret").err().unwrap();
        assert_eq!(e.status, Status::InvalidArgument);
        assert!(e.message.contains("client_secret"));
        assert!(!e.message.contains("abc"));
    }
}
