//! A GraphQL HTTP response copied out of `lf_response`.

use crate::secret::wipe;
use lightfunnels_auth_sys as sys;
use std::fmt;

/// An HTTP response from the GraphQL API: its status and raw body bytes
/// (JSON; this crate does not parse it). The body is zeroed on drop, like
/// the library's own copy, since API data can be sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    http_status: i64,
    body: Vec<u8>,
}

impl Response {
    /// Copies and frees an `lf_response` (`r` may be NULL: returns None).
    ///
    /// # Safety
    /// `r` must be NULL or a live `lf_response` owned by the caller; it is
    /// freed here and must not be used afterwards.
    pub(crate) unsafe fn take(r: *mut sys::lf_response) -> Option<Response> {
        if r.is_null() {
            return None;
        }
        let len = sys::lf_response_body_length(r);
        let ptr = sys::lf_response_body(r) as *const u8;
        let mut body = Vec::with_capacity(len);
        if len > 0 && !ptr.is_null() {
            body.extend_from_slice(std::slice::from_raw_parts(ptr, len));
        }
        let http_status = sys::lf_response_http_status(r) as i64;
        sys::lf_response_free(r);
        Some(Response { http_status, body })
    }

    /// The HTTP status code.
    pub fn http_status(&self) -> i64 {
        self.http_status
    }

    /// The raw body (may contain any bytes, including NULs).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as UTF-8 text (JSON always is).
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        wipe(&mut self.body);
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies can be large; show the size, not the data.
        f.debug_struct("Response")
            .field("http_status", &self.http_status)
            .field("body_len", &self.body.len())
            .finish()
    }
}
