"""Statuses and exceptions: one exception class per lf_status, mapped in
one table (_BY_STATUS at the end of this file)."""

from __future__ import annotations

import enum
import json
from typing import Any


class Status(enum.IntEnum):
    """lf_status. Values are ABI: they never change within major version 1."""

    OK = 0
    INVALID_ARGUMENT = 1
    BUFFER_TOO_SMALL = 2
    NO_MEMORY = 3
    REDIRECT_URI_NOT_ALLOWED = 4
    STATE_MISMATCH = 5
    STATE_EXPIRED = 6
    ACCESS_DENIED = 7
    NETWORK = 8
    TIMEOUT = 9
    TLS = 10
    INSECURE_TRANSPORT = 11
    HTTP = 12
    INVALID_CODE = 13
    INVALID_CLIENT = 14
    UNAUTHORIZED = 15
    API = 16
    PROTOCOL = 17
    RESPONSE_TOO_LARGE = 18
    SIGNATURE_MISMATCH = 19
    CANCELLED = 20
    RATE_LIMITED = 21
    INTERNAL = 22

    @property
    def c_name(self) -> str:
        """The C enumerator: "LF_OK", "LF_E_TIMEOUT", ..."""
        return "LF_OK" if self is Status.OK else "LF_E_" + self.name


class CodeSent(enum.IntEnum):
    """lf_code_sent: whether an authorization code can have reached the token
    endpoint, as told by an exchange that failed."""

    #: The code provably never left this process (bad argument, cancelled or
    #: timed out before sending, connection refused, DNS or TLS failure):
    #: exchanging the same code again is safe.
    NOT_SENT = 0
    #: The request went out (or started to) and no complete answer came back:
    #: the code may be spent, send the merchant through consent again.
    MAYBE_SENT = 1
    #: The server answered, so it has seen the code.
    SENT = 2


class LightfunnelsAuthError(Exception):
    """A failed call. Every exception this package raises for a library
    status is a subclass of this one (see the table at the end of the module).

    Attributes:
        status: the lf_status (a Status, or an int this binding does not know).
        http_status: HTTP status of the response; 0 when none was received.
        key: the server's error key (Lightfunnels ``key`` or OAuth ``error``); "" when none.
        message: what went wrong; never contains the client secret, a code or a token.
        retry_after: the server's Retry-After in seconds (0 to 3600); 0 when absent.
        code_sent: for exchange_code() errors, whether the code can have reached
            the server (CodeSent); None for calls that send no code.
        body: the raw HTTP response body when a complete response was received
            by graphql() or account_id(); None otherwise.
    """

    status: Status | int = Status.INTERNAL

    def __init__(
        self,
        status: Status | int,
        http_status: int = 0,
        key: str = "",
        message: str = "",
        retry_after: int = 0,
        code_sent: CodeSent | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(status, http_status, key, message, retry_after, code_sent, body)
        self.status = _status(status)
        self.http_status = http_status
        self.key = key
        self.message = message
        self.retry_after = retry_after
        self.code_sent = code_sent
        self.body = body

    @property
    def code_may_be_spent(self) -> bool:
        """False only when the code provably never reached the server
        (code_sent is CodeSent.NOT_SENT): then the same code can be exchanged
        again at once. Otherwise start the flow again."""
        return self.code_sent is not CodeSent.NOT_SENT

    def __str__(self) -> str:
        name = self.status.c_name if isinstance(self.status, Status) else f"LF_E_UNKNOWN({self.status})"
        detail = []
        if self.http_status:
            detail.append(f"HTTP {self.http_status}")
        if self.key:
            detail.append(self.key)
        where = f" ({', '.join(detail)})" if detail else ""
        return f"{name}{where}: {self.message}"


def _status(value: int) -> Status | int:
    try:
        return Status(value)
    except ValueError:
        return value


class InvalidArgument(LightfunnelsAuthError, ValueError):
    """Malformed or out-of-range input, including a malformed callback."""

    status = Status.INVALID_ARGUMENT


class ClientClosed(InvalidArgument):
    """The Client was used after close()."""


class BufferTooSmall(LightfunnelsAuthError):
    """Internal: the binding sizes its buffers itself."""

    status = Status.BUFFER_TOO_SMALL


class NoMemory(LightfunnelsAuthError):
    """An allocation inside the library failed."""

    status = Status.NO_MEMORY


class RedirectUriNotAllowed(LightfunnelsAuthError):
    """The redirect URI is not in the client's allow-list (exact match), or
    the client was made without redirect_uris (webhooks and the API only)."""

    status = Status.REDIRECT_URI_NOT_ALLOWED


class StateMismatch(LightfunnelsAuthError):
    """The callback's state is missing or differs from the expected one."""

    status = Status.STATE_MISMATCH


class StateExpired(LightfunnelsAuthError):
    """A sealed state is older than its max age, or issued in the future."""

    status = Status.STATE_EXPIRED


class AccessDenied(LightfunnelsAuthError):
    """The merchant declined: key is the OAuth error, message its description."""

    status = Status.ACCESS_DENIED


class NetworkError(LightfunnelsAuthError):
    """The connection failed, was reset or closed early."""

    status = Status.NETWORK


class Timeout(LightfunnelsAuthError):
    """A connect, total or stall timeout (or the call's timeout=) was reached."""

    status = Status.TIMEOUT


class TlsError(LightfunnelsAuthError):
    """Certificate, host name or handshake failure."""

    status = Status.TLS


class InsecureTransport(LightfunnelsAuthError):
    """http:// to a non-loopback host, or an unusable URL scheme."""

    status = Status.INSECURE_TRANSPORT


class HttpError(LightfunnelsAuthError):
    """An unexpected HTTP status (including any 3xx: redirects are not followed)."""

    status = Status.HTTP


class InvalidCode(LightfunnelsAuthError):
    """The authorization code was rejected: used, expired or unknown."""

    status = Status.INVALID_CODE


class InvalidClient(LightfunnelsAuthError):
    """The client id or secret was rejected."""

    status = Status.INVALID_CLIENT


class Unauthorized(LightfunnelsAuthError):
    """The access token was rejected: it does not work now (the merchant must
    install again). Not the uninstall signal: that is the app/uninstalled
    webhook."""

    status = Status.UNAUTHORIZED


class ApiError(LightfunnelsAuthError):
    """The API answered with GraphQL ``errors``: key and message are the first
    error's; ``response`` is the whole parsed answer."""

    status = Status.API

    @property
    def response(self) -> Any:
        """The response body parsed as JSON; None when there is none or it is
        not JSON."""
        if self.body is None:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class ProtocolError(LightfunnelsAuthError):
    """A malformed or unexpected response."""

    status = Status.PROTOCOL


class ResponseTooLarge(LightfunnelsAuthError):
    """The response was over max_response_bytes."""

    status = Status.RESPONSE_TOO_LARGE


class SignatureMismatch(LightfunnelsAuthError):
    """A webhook signature is missing or wrong."""

    status = Status.SIGNATURE_MISMATCH


class Cancelled(LightfunnelsAuthError):
    """The call's cancel flag was set."""

    status = Status.CANCELLED


class RateLimited(LightfunnelsAuthError):
    """HTTP 429 or the platform's rate_limit_reached key; see retry_after."""

    status = Status.RATE_LIMITED


class InternalError(LightfunnelsAuthError):
    """A bug or an unexpected failure inside the library."""

    status = Status.INTERNAL


# The mapping table: one class per status.
_BY_STATUS: dict[int, type[LightfunnelsAuthError]] = {
    cls.status: cls
    for cls in (
        InvalidArgument,
        BufferTooSmall,
        NoMemory,
        RedirectUriNotAllowed,
        StateMismatch,
        StateExpired,
        AccessDenied,
        NetworkError,
        Timeout,
        TlsError,
        InsecureTransport,
        HttpError,
        InvalidCode,
        InvalidClient,
        Unauthorized,
        ApiError,
        ProtocolError,
        ResponseTooLarge,
        SignatureMismatch,
        Cancelled,
        RateLimited,
        InternalError,
    )
}


def error_class(status: int) -> type[LightfunnelsAuthError]:
    """The exception class for a failed status (the base class for a status
    this binding does not know)."""
    return _BY_STATUS.get(status, LightfunnelsAuthError)
