// lf::Status, the internal mirror of lf_status, generated from
// LF_STATUS_MAP (auth.h), the one list of statuses: the numbers cannot drift
// and a status added there is here at once. The C++ modules use only the
// macro, never the C types; the facade converts.
#pragma once

#include "lightfunnels/auth.h"

// The C++ spelling of each entry of LF_STATUS_MAP: LF_STATUS_CXX(E_TLS) is
// Tls. A status added to the map without a spelling here does not compile
// (status.cpp checks).
#define LF_STATUS_CXX(name) LF_STATUS_CXX_##name
#define LF_STATUS_CXX_OK Ok
#define LF_STATUS_CXX_E_INVALID_ARGUMENT InvalidArgument
#define LF_STATUS_CXX_E_BUFFER_TOO_SMALL BufferTooSmall
#define LF_STATUS_CXX_E_NO_MEMORY NoMemory
#define LF_STATUS_CXX_E_REDIRECT_URI_NOT_ALLOWED RedirectUriNotAllowed
#define LF_STATUS_CXX_E_STATE_MISMATCH StateMismatch
#define LF_STATUS_CXX_E_STATE_EXPIRED StateExpired
#define LF_STATUS_CXX_E_ACCESS_DENIED AccessDenied
#define LF_STATUS_CXX_E_NETWORK Network
#define LF_STATUS_CXX_E_TIMEOUT Timeout
#define LF_STATUS_CXX_E_TLS Tls
#define LF_STATUS_CXX_E_INSECURE_TRANSPORT InsecureTransport
#define LF_STATUS_CXX_E_HTTP Http
#define LF_STATUS_CXX_E_INVALID_CODE InvalidCode
#define LF_STATUS_CXX_E_INVALID_CLIENT InvalidClient
#define LF_STATUS_CXX_E_UNAUTHORIZED Unauthorized
#define LF_STATUS_CXX_E_API Api
#define LF_STATUS_CXX_E_PROTOCOL Protocol
#define LF_STATUS_CXX_E_RESPONSE_TOO_LARGE ResponseTooLarge
#define LF_STATUS_CXX_E_SIGNATURE_MISMATCH SignatureMismatch
#define LF_STATUS_CXX_E_CANCELLED Cancelled
#define LF_STATUS_CXX_E_RATE_LIMITED RateLimited
#define LF_STATUS_CXX_E_INTERNAL Internal

namespace lf {

enum class Status : unsigned {
#define LF_STATUS_ENUMERATOR(name, value, message) LF_STATUS_CXX(name) = value,
    LF_STATUS_MAP(LF_STATUS_ENUMERATOR)
#undef LF_STATUS_ENUMERATOR
};

// How many statuses there are: the map's values run from 0 without a gap
// (status.cpp checks), so a raw value below this is a known status.
constexpr unsigned kStatusCount = 0
#define LF_STATUS_COUNT(name, value, message) +1
    LF_STATUS_MAP(LF_STATUS_COUNT)
#undef LF_STATUS_COUNT
    ;

// Total lookups: a value no entry has gives "LF_E_UNKNOWN" and a fallback
// sentence; never NULL.
const char *status_name(Status s) noexcept;
const char *status_message(Status s) noexcept;

}  // namespace lf
