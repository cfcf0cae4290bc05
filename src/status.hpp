// Internal mirror of lf_status. The C++ modules never see the C types; the
// facade converts, and static_asserts there keep the numbers identical.
#pragma once

namespace lf {

enum class Status : unsigned {
    Ok = 0,
    InvalidArgument = 1,
    BufferTooSmall = 2,
    NoMemory = 3,
    RedirectUriNotAllowed = 4,
    StateMismatch = 5,
    StateExpired = 6,
    AccessDenied = 7,
    Network = 8,
    Timeout = 9,
    Tls = 10,
    InsecureTransport = 11,
    Http = 12,
    InvalidCode = 13,
    InvalidClient = 14,
    Unauthorized = 15,
    Api = 16,
    Protocol = 17,
    ResponseTooLarge = 18,
    SignatureMismatch = 19,
    Cancelled = 20,
    RateLimited = 21,
    Internal = 22,
};

const char *status_name(Status s) noexcept;
const char *status_message(Status s) noexcept;

}  // namespace lf
