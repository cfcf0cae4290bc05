"""lightfunnels_auth: the Lightfunnels app-authorization (OAuth2) flow for
Python, over the lightfunnels-auth C library (ctypes, no compiled extension).

    from lightfunnels_auth import Client, new_state

    with Client(client_id=..., client_secret=..., redirect_uris=[REDIRECT]) as client:
        state = new_state()                      # keep it in the merchant's session
        url = client.consent_url(REDIRECT, ["orders"], state)
        # ... the merchant comes back to REDIRECT:
        code = client.parse_callback(request_url, state)
        token = client.exchange_code(code)       # Token(REDACTED); token.value is the secret
        account = client.account_id(token)

The library is loaded at import: $LIGHTFUNNELS_AUTH_LIBRARY if set, else
liblightfunnels-auth.so.1 from the loader's search path. Import fails
(ImportError) when it is missing, older than 1.1, or its structs do not
match this binding's.
"""

from ._native import LIBRARY_ENV, SONAME, lib as _lib
from .client import Cancel, Client, ClientAuth, Token, TraceEvent, new_state, state_equal
from .errors import (
    AccessDenied,
    ApiError,
    BufferTooSmall,
    Cancelled,
    ClientClosed,
    CodeSent,
    HttpError,
    InsecureTransport,
    InternalError,
    InvalidArgument,
    InvalidClient,
    InvalidCode,
    LightfunnelsAuthError,
    NetworkError,
    NoMemory,
    ProtocolError,
    RateLimited,
    RedirectUriNotAllowed,
    ResponseTooLarge,
    SignatureMismatch,
    StateExpired,
    StateMismatch,
    Status,
    Timeout,
    TlsError,
    Unauthorized,
    error_class,
)

__version__ = "1.1.0"


def library_version() -> str:
    """The version of the C library actually loaded, e.g. "1.1.0"."""
    return _lib.lf_version().decode("ascii", "replace")


__all__ = [
    "LIBRARY_ENV",
    "SONAME",
    "AccessDenied",
    "ApiError",
    "BufferTooSmall",
    "Cancel",
    "Cancelled",
    "Client",
    "ClientAuth",
    "ClientClosed",
    "CodeSent",
    "HttpError",
    "InsecureTransport",
    "InternalError",
    "InvalidArgument",
    "InvalidClient",
    "InvalidCode",
    "LightfunnelsAuthError",
    "NetworkError",
    "NoMemory",
    "ProtocolError",
    "RateLimited",
    "RedirectUriNotAllowed",
    "ResponseTooLarge",
    "SignatureMismatch",
    "StateExpired",
    "StateMismatch",
    "Status",
    "Timeout",
    "TlsError",
    "Token",
    "TraceEvent",
    "Unauthorized",
    "error_class",
    "library_version",
    "new_state",
    "state_equal",
]
