#include "status.hpp"

namespace lf {

// Switches without `default`: -Wswitch flags a new enumerator that is missing
// here; the fallback after the switch covers values from a newer caller.
const char *status_name(Status s) noexcept {
    switch (s) {
    case Status::Ok: return "LF_OK";
    case Status::InvalidArgument: return "LF_E_INVALID_ARGUMENT";
    case Status::BufferTooSmall: return "LF_E_BUFFER_TOO_SMALL";
    case Status::NoMemory: return "LF_E_NO_MEMORY";
    case Status::RedirectUriNotAllowed: return "LF_E_REDIRECT_URI_NOT_ALLOWED";
    case Status::StateMismatch: return "LF_E_STATE_MISMATCH";
    case Status::StateExpired: return "LF_E_STATE_EXPIRED";
    case Status::AccessDenied: return "LF_E_ACCESS_DENIED";
    case Status::Network: return "LF_E_NETWORK";
    case Status::Timeout: return "LF_E_TIMEOUT";
    case Status::Tls: return "LF_E_TLS";
    case Status::InsecureTransport: return "LF_E_INSECURE_TRANSPORT";
    case Status::Http: return "LF_E_HTTP";
    case Status::InvalidCode: return "LF_E_INVALID_CODE";
    case Status::InvalidClient: return "LF_E_INVALID_CLIENT";
    case Status::Unauthorized: return "LF_E_UNAUTHORIZED";
    case Status::Api: return "LF_E_API";
    case Status::Protocol: return "LF_E_PROTOCOL";
    case Status::ResponseTooLarge: return "LF_E_RESPONSE_TOO_LARGE";
    case Status::SignatureMismatch: return "LF_E_SIGNATURE_MISMATCH";
    case Status::Cancelled: return "LF_E_CANCELLED";
    case Status::RateLimited: return "LF_E_RATE_LIMITED";
    case Status::Internal: return "LF_E_INTERNAL";
    }
    return "LF_E_UNKNOWN";
}

const char *status_message(Status s) noexcept {
    switch (s) {
    case Status::Ok: return "Success.";
    case Status::InvalidArgument: return "An argument is missing, malformed or out of range.";
    case Status::BufferTooSmall: return "The output buffer is too small.";
    case Status::NoMemory: return "Out of memory.";
    case Status::RedirectUriNotAllowed: return "The redirect URI is not in the client's allow-list.";
    case Status::StateMismatch: return "The callback's state is missing or does not match.";
    case Status::StateExpired: return "The state has expired.";
    case Status::AccessDenied: return "The merchant declined the authorization.";
    case Status::Network: return "A network error occurred.";
    case Status::Timeout: return "The request timed out.";
    case Status::Tls: return "The TLS connection could not be verified or established.";
    case Status::InsecureTransport: return "Refusing an insecure URL (plain http to a non-loopback host).";
    case Status::Http: return "The server answered with an unexpected HTTP status.";
    case Status::InvalidCode: return "The authorization code was rejected (used, expired or unknown).";
    case Status::InvalidClient: return "The client credentials were rejected.";
    case Status::Unauthorized: return "The access token was rejected.";
    case Status::Api: return "The API returned errors.";
    case Status::Protocol: return "The server's response is malformed or unexpected.";
    case Status::ResponseTooLarge: return "The response is larger than allowed.";
    case Status::SignatureMismatch: return "The webhook signature does not match.";
    case Status::Cancelled: return "The call was cancelled.";
    case Status::RateLimited: return "Rate limited by the server; retry later.";
    case Status::Internal: return "Internal error in lightfunnels-auth.";
    }
    return "Unknown status.";
}

}  // namespace lf
