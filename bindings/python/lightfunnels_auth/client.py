"""Client, Token, Cancel and the functions that need no client."""

from __future__ import annotations

import ctypes
import enum
import json
import math
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, Protocol, Union

from . import _native
from ._native import LfAuthConfig, LfCallOptions, LfError, lib
from .errors import (
    ClientClosed,
    CodeSent,
    InvalidArgument,
    LightfunnelsAuthError,
    ProtocolError,
    Status,
    error_class,
)

_LONG_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_long) - 1)) - 1


class ClientAuth(enum.IntEnum):
    """lf_client_auth: how the client authenticates at the token endpoint."""

    #: client_id and client_secret in a JSON body to /oauth/access_token: the
    #: earlier method (the platform's 2024 sample app; the default before
    #: 1.1), no longer in the platform's docs.
    JSON_BODY = 0
    #: Authorization: Basic base64(id:secret), the code in a form body, to
    #: /api/access_token: the platform's documented method since 2025-02, and
    #: the default. A client_id with ':' cannot be carried (InvalidArgument).
    BASIC = 1
    #: Learn which one works with a probe carrying an invalid code.
    AUTO = 2


class TraceEvent(enum.IntEnum):
    """What a trace line is about (the first argument of a ``trace=``
    callable). The library may add events: one this binding does not know
    arrives as a plain int."""

    CONNECT = _native.LF_TRACE_CONNECT  #: a new connection: host, port, address, why no pooled one was reused
    REUSE = _native.LF_TRACE_REUSE  #: a pooled connection was reused
    TLS = _native.LF_TRACE_TLS  #: the TLS version and cipher of a new connection
    REQUEST = _native.LF_TRACE_REQUEST  #: a request went out: method, URL without its query, body size
    RESPONSE = _native.LF_TRACE_RESPONSE  #: an answer arrived: HTTP status, body size, total time
    AUTO = _native.LF_TRACE_AUTO  #: ClientAuth.AUTO: each probe, its verdict and the style chosen
    ERROR = _native.LF_TRACE_ERROR  #: a failure: the status chosen and why
    NO_RETRY = _native.LF_TRACE_NO_RETRY  #: a request that may have reached the server, not sent again


TraceCallable = Callable[[Union[TraceEvent, int], str], Any]


def _trace_event(event: int) -> TraceEvent | int:
    try:
        return TraceEvent(event)
    except ValueError:
        return event


def _trace_thunk(trace: TraceCallable) -> Any:
    """The C function pointer for `trace`. An exception raised by `trace`
    leaves the thunk: ctypes reports it through sys.unraisablehook ("Exception
    ignored on calling ctypes callback function") and returns to the library
    normally, so it never reaches C, and the line is dropped."""

    def thunk(_user: int | None, event: int, line: bytes | None) -> None:
        trace(_trace_event(event), (line or b"").decode("utf-8", "replace"))

    return _native.TraceFn(thunk)


class Token:
    """An access token. ``repr()`` and ``str()`` print ``Token(REDACTED)`` so
    it never lands in a log by accident; ``.value`` is the token itself.

    The library wipes its own copy; a Python string cannot be wiped, so the
    value lives until the garbage collector reclaims it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    @property
    def value(self) -> str:
        """The access token (send it only to the Lightfunnels API)."""
        return self._value

    def __repr__(self) -> str:
        return "Token(REDACTED)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Token is not picklable: store token.value deliberately")


class Cancel:
    """A cancel flag for one or more calls: ``set()`` it from any thread and
    a call given ``cancel=`` returns Cancelled within about 100 ms.

    The flag is a C int owned by this object; the library reads it while the
    call runs (ctypes releases the GIL during the call).
    """

    __slots__ = ("_flag",)

    def __init__(self) -> None:
        self._flag = ctypes.c_int(0)

    def set(self) -> None:
        """Requests cancellation (an aligned int store: atomic for the reader)."""
        self._flag.value = 1

    def is_set(self) -> bool:
        return self._flag.value != 0

    def clear(self) -> None:
        """Re-arms the flag for later calls."""
        self._flag.value = 0


class _Event(Protocol):
    def is_set(self) -> bool: ...

    def wait(self, timeout: Optional[float] = None) -> bool: ...


CancelLike = Union[Cancel, ctypes.c_int, _Event]


def new_state() -> str:
    """A fresh state for consent_url(): 256 random bits from the OS CSPRNG,
    base64url without padding (43 characters). Keep it in the merchant's
    session and pass it to Client.parse_callback()."""
    buf = ctypes.create_string_buffer(_native.STATE_BUFFER_SIZE)
    _check(lib.lf_state_generate(buf, len(buf)))
    return buf.value.decode("ascii")


def state_equal(a: str | None, b: str | None) -> bool:
    """Compares two states in time that depends only on their lengths. False
    when either is None."""
    if a is None or b is None:
        return False
    ca, cb = _encode(a, "state"), _encode(b, "state")
    return lib.lf_state_equal(ca, cb) == 1


class Client:
    """A configured Lightfunnels app: one per app, shared by every thread.

    Use it as a context manager, or call close(). Keyword arguments mirror
    lf_auth_config; None takes the library's default. Timeouts are seconds.

    redirect_uris (a list, or one string) is the allow-list of redirect URIs,
    exact strings (https, or http to a loopback host). It is optional
    (library 1.1): empty makes a client for webhooks and the API only
    (webhook_sign, webhook_verify, exchange_code, account_id, graphql),
    whose consent and callback calls (consent_url, parse_callback,
    parse_callback_without_state, parse_callback_sealed) raise
    RedirectUriNotAllowed.

    trace, when given, is called as trace(event, line) with each trace line
    of every call on this client (TraceEvent, or an int for an event this
    binding does not know): on the thread making the call, possibly on
    several threads at once, while that call waits, so it must be quick. The
    library has masked every secret in the line already. It must not call
    this client; an exception it raises is reported through
    sys.unraisablehook and the line dropped.

    Raises InvalidArgument (a ValueError) or InsecureTransport for a bad
    configuration; nothing touches the network here.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: Sequence[str] | str = (),
        previous_client_secret: str | None = None,
        authorize_url: str | None = None,
        token_url: str | None = None,
        api_url: str | None = None,
        client_auth: ClientAuth = ClientAuth.BASIC,
        connect_timeout: float | None = None,
        timeout: float | None = None,
        stall_timeout: float | None = None,
        max_response_bytes: int | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        user_agent: str | None = None,
        trace: TraceCallable | None = None,
    ) -> None:
        self._handle: int | None = None
        # The C function pointer lives as long as the handle that calls it.
        self._trace: Any = None
        self._lock = threading.Condition()
        self._in_flight = 0

        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        cfg = LfAuthConfig()
        lib.lf_auth_config_init(ctypes.byref(cfg), ctypes.sizeof(cfg))
        secrets = [_secret(client_secret, "client_secret")]
        cfg.client_id = _encode(client_id, "client_id")
        cfg.client_secret = ctypes.cast(secrets[0], ctypes.c_char_p)
        if previous_client_secret is not None:
            secrets.append(_secret(previous_client_secret, "previous_client_secret"))
            cfg.previous_client_secret = ctypes.cast(secrets[-1], ctypes.c_char_p)
        uris = [_encode(u, "redirect URI") for u in redirect_uris]
        cfg.redirect_uris = (ctypes.c_char_p * max(len(uris), 1))(*uris)
        cfg.redirect_uri_count = len(uris)
        cfg.authorize_url = _encode_opt(authorize_url, "authorize_url")
        cfg.token_url = _encode_opt(token_url, "token_url")
        cfg.api_url = _encode_opt(api_url, "api_url")
        cfg.client_auth = int(ClientAuth(client_auth))
        _set_ms(cfg, "connect_timeout_ms", connect_timeout, "connect_timeout")
        _set_ms(cfg, "timeout_ms", timeout, "timeout")
        _set_ms(cfg, "stall_timeout_ms", stall_timeout, "stall_timeout")
        if max_response_bytes is not None:
            if not isinstance(max_response_bytes, int) or max_response_bytes <= 0:
                raise InvalidArgument(Status.INVALID_ARGUMENT, message="max_response_bytes must be a positive int")
            cfg.max_response_bytes = max_response_bytes
        if ca_file is not None:
            cfg.ca_file = _encode(os.fsdecode(ca_file), "ca_file")
        cfg.user_agent = _encode_opt(user_agent, "user_agent")
        if trace is not None:
            if not callable(trace):
                raise InvalidArgument(Status.INVALID_ARGUMENT, message="trace must be callable")
            self._trace = _trace_thunk(trace)
            cfg.trace = self._trace

        handle = ctypes.c_void_p()
        err = LfError()
        try:
            st = lib.lf_auth_new(ctypes.byref(cfg), ctypes.byref(handle), ctypes.byref(err))
        finally:
            for s in secrets:  # the library keeps its own copies
                _wipe(s)
        _check(st, err)
        self._handle = handle.value

    # -- lifetime ----------------------------------------------------------

    def close(self) -> None:
        """Frees the handle and wipes the secrets it holds. Waits for calls in
        progress on other threads; later calls raise ClientClosed. Calling it
        again does nothing."""
        with self._lock:
            while self._in_flight:
                self._lock.wait()
            handle, self._handle = self._handle, None
        if handle is not None:
            lib.lf_auth_free(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A safety net only: a forgotten client is freed when collected (no
        # call can be in flight: every call holds a reference to self).
        handle = getattr(self, "_handle", None)
        if handle is not None and lib is not None:  # lib may be gone at interpreter exit
            self._handle = None
            lib.lf_auth_free(handle)

    def __repr__(self) -> str:
        return f"<lightfunnels_auth.Client {'closed' if self.closed else 'open'}>"

    def _call(self, fn: Callable[[int], Any]) -> Any:
        """Runs fn(handle) while the handle cannot be freed under it."""
        with self._lock:
            if self._handle is None:
                raise ClientClosed(Status.INVALID_ARGUMENT, message="the client is closed")
            self._in_flight += 1
            handle = self._handle
        try:
            return fn(handle)
        finally:
            with self._lock:
                self._in_flight -= 1
                if not self._in_flight:
                    self._lock.notify_all()

    # -- consent and callback ----------------------------------------------

    def consent_url(self, redirect_uri: str, scopes: Iterable[str] | str, state: str | None) -> str:
        """The consent-screen URL to send the merchant to. redirect_uri must
        equal one of redirect_uris byte for byte (RedirectUriNotAllowed
        otherwise, and always on a client made without redirect_uris);
        scopes is a list of names matching [a-z0-9_]+ (or one
        comma-separated string); state comes from new_state() (None omits
        it: not recommended)."""
        c_redirect = _encode(redirect_uri, "redirect URI")
        joined = scopes if isinstance(scopes, str) else ",".join(scopes)
        c_scopes = _encode(joined, "scopes")
        c_state = _encode_opt(state, "state")
        return self._call(
            lambda h: _fill(
                1024,
                lambda buf, size, needed: lib.lf_consent_url(h, c_redirect, c_scopes, c_state, buf, size, needed),
            )
        )

    def parse_callback(self, url_or_query: str, expected_state: str | None) -> str:
        """Checks the redirect the merchant came back with and returns the
        authorization code. url_or_query is the full callback URL or its
        query. expected_state is required: None or "" (a lost session) raises
        StateMismatch, so the CSRF check can never be skipped by accident.

        Raises StateMismatch, AccessDenied (the merchant declined: key is the
        OAuth error), InvalidArgument (malformed callback, no code),
        RedirectUriNotAllowed (a client made without redirect_uris)."""
        if not expected_state:
            raise error_class(Status.STATE_MISMATCH)(
                Status.STATE_MISMATCH, message="no expected state given (was the session lost?)"
            )
        return self._parse_callback(url_or_query, expected_state)

    def parse_callback_without_state(self, url_or_query: str) -> str:
        """parse_callback() for a flow that sent no state. Prefer
        parse_callback(): state protects the callback against CSRF."""
        return self._parse_callback(url_or_query, None)

    def _parse_callback(self, url_or_query: str, expected_state: str | None) -> str:
        c_url = _secret(url_or_query, "callback URL")  # it carries the code
        c_state = _encode_opt(expected_state, "state")
        err = LfError()
        try:
            return self._call(
                lambda h: _fill(
                    256,
                    lambda buf, size, needed: lib.lf_parse_callback(
                        h, c_url, c_state, buf, size, needed, ctypes.byref(err)
                    ),
                    err,
                    secret=True,
                )
            )
        finally:
            _wipe(c_url)

    # -- sealed state (library 1.1) ----------------------------------------

    def seal_state(self, binding: str | None) -> str:
        """A signed, expiring state for consent_url(): it carries its issue
        time, 128 random bits and a MAC keyed from the client secret, so any
        server of the same client can check it (open_state(),
        parse_callback_sealed()) with nothing stored in between: no cookie,
        as an app embedded in the Lightfunnels admin iframe needs. binding
        ties it to the browser session (the app's session id); None or "" is
        unbound and weaker."""
        c_binding = _encode_opt(binding, "binding")
        return self._call(
            lambda h: _fill(
                _native.SEALED_STATE_BUFFER_SIZE,
                lambda buf, size, needed: lib.lf_state_seal(h, c_binding, buf, size, needed),
            )
        )

    def open_state(self, state: str, binding: str | None, max_age: int) -> None:
        """Checks a state made by seal_state() for the same binding; max_age
        in whole seconds (>= 1). A state sealed under previous_client_secret
        still opens. It may be opened more than once: keep accepted states
        until they expire if each must be used once.

        Raises StateMismatch (forged, altered, malformed, another binding or
        client), StateExpired (older than max_age, or issued more than 60 s
        in the future), InvalidArgument (max_age < 1)."""
        c_state = _encode(state, "state")
        c_binding = _encode_opt(binding, "binding")
        age = _max_age(max_age)
        err = LfError()
        _check(self._call(lambda h: lib.lf_state_open(h, c_state, c_binding, age, ctypes.byref(err))), err)

    def parse_callback_sealed(self, url_or_query: str, binding: str | None, max_age: int) -> str:
        """parse_callback() for a state made by seal_state(): the callback's
        state is opened with open_state(state, binding, max_age) before
        anything else is looked at. Raises what parse_callback() raises, and
        StateExpired."""
        c_url = _secret(url_or_query, "callback URL")  # it carries the code
        c_binding = _encode_opt(binding, "binding")
        age = _max_age(max_age)
        err = LfError()
        try:
            return self._call(
                lambda h: _fill(
                    256,
                    lambda buf, size, needed: lib.lf_parse_callback_sealed(
                        h, c_url, c_binding, age, buf, size, needed, ctypes.byref(err)
                    ),
                    err,
                    secret=True,
                )
            )
        finally:
            _wipe(c_url)

    # -- token exchange ----------------------------------------------------

    def exchange_code(
        self, code: str, *, timeout: float | None = None, cancel: CancelLike | None = None
    ) -> Token:
        """Trades a single-use authorization code for the permanent access
        token. timeout (seconds) shortens the client's; cancel (a Cancel, a
        ctypes.c_int or a threading.Event) aborts the call within ~100 ms.

        Errors carry code_sent: when ``e.code_may_be_spent`` is False (e.g.
        the connection was refused) the same code can be exchanged again;
        otherwise send the merchant through consent again. InvalidCode: the
        code was used, expired or unknown; InvalidClient: the id or secret
        was rejected. The library never retries by itself."""
        try:
            c_code = _secret(code, "code")
            try:
                with _CallOptions(timeout, cancel, exchange=True) as opts:
                    tok = ctypes.c_void_p()
                    err = LfError()
                    st = self._call(
                        lambda h: lib.lf_exchange_code_ex(h, c_code, opts.ref, ctypes.byref(tok), ctypes.byref(err))
                    )
            finally:
                _wipe(c_code)
        except LightfunnelsAuthError as e:
            # Raised here, before the library was called: the code never left.
            e.code_sent = CodeSent.NOT_SENT
            raise
        if st != _native.LF_OK:
            raise _error(st, err, code_sent=opts.code_sent())
        return _take_token(tok)

    # -- the API -----------------------------------------------------------

    def graphql(
        self,
        token: Token | str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        cancel: CancelLike | None = None,
    ) -> Any:
        """POSTs {"query": query, "variables": variables} to the API with the
        token and returns the parsed JSON answer.

        Raises ApiError when the answer carries GraphQL ``errors`` (the
        first one's key and message; ``e.response`` is the whole answer),
        Unauthorized (the token does not work now: the merchant must install
        again; uninstalls come as the app/uninstalled webhook),
        RateLimited, HttpError, ... Every error raised after a complete HTTP
        response keeps its raw body in ``e.body``."""
        c_vars = None
        if variables is not None:
            if not isinstance(variables, dict):
                raise InvalidArgument(Status.INVALID_ARGUMENT, message="variables must be a dict")
            c_vars = _secret(json.dumps(variables), "variables")  # may carry customer data
        c_token = _secret(_token_value(token), "token")
        c_query = _encode(query, "query")
        try:
            with _CallOptions(timeout, cancel) as opts:
                resp = ctypes.c_void_p()
                err = LfError()
                st = self._call(
                    lambda h: lib.lf_graphql_ex(
                        h, c_token, c_query, c_vars, opts.ref, ctypes.byref(resp), ctypes.byref(err)
                    )
                )
                body = _take_body(resp)
        finally:
            _wipe(c_token)
            if c_vars is not None:
                _wipe(c_vars)
        if st != _native.LF_OK:
            raise _error(st, err, body=body)
        try:
            return json.loads(body)
        except ValueError:
            raise ProtocolError(Status.PROTOCOL, message="the API answer is not JSON", body=body) from None

    def account_id(
        self, token: Token | str, *, timeout: float | None = None, cancel: CancelLike | None = None
    ) -> str:
        """The id of the account the token belongs to: key stored tokens by
        it. Unauthorized means the token does not work now (the merchant must
        install again); delete tokens on the app/uninstalled webhook."""
        c_token = _secret(_token_value(token), "token")
        err = LfError()
        try:
            with _CallOptions(timeout, cancel) as opts:
                # A short buffer would cost a second request: start large.
                return self._call(
                    lambda h: _fill(
                        512,
                        lambda buf, size, needed: lib.lf_account_id_ex(
                            h, c_token, opts.ref, buf, size, needed, ctypes.byref(err)
                        ),
                        err,
                    )
                )
        finally:
            _wipe(c_token)

    # -- webhooks ----------------------------------------------------------

    def webhook_verify(self, body: bytes | bytearray | memoryview, hmac_header: str | None) -> bool:
        """True when hmac_header (the ``lightfunnels-hmac`` header) signs body
        with the client secret (or the previous one). Pass the RAW body as
        received (Flask: request.get_data()), never a re-serialisation. A
        missing (None), empty or malformed header is False. There is no
        timestamp in the scheme: deduplicate events."""
        data = _bytes(body)
        if hmac_header is None or "\0" in hmac_header:
            return False
        try:
            c_header = hmac_header.encode("utf-8")
        except UnicodeEncodeError:
            return False
        st = self._call(lambda h: lib.lf_webhook_verify(h, data, len(data), c_header))
        if st == Status.SIGNATURE_MISMATCH:
            return False
        _check(st)
        return True

    def webhook_sign(self, body: bytes | bytearray | memoryview) -> str:
        """The ``lightfunnels-hmac`` value for body, signed with the current
        client secret (for tests and tools that send webhooks)."""
        data = _bytes(body)
        return self._call(
            lambda h: _fill(
                _native.SIGNATURE_BUFFER_SIZE,
                lambda buf, size, needed: lib.lf_webhook_sign(h, data, len(data), buf, size, needed),
            )
        )


# -- per-call options ------------------------------------------------------


class _CallOptions:
    """lf_call_options for one call: timeout, cancel flag, code_sent."""

    def __init__(self, timeout: float | None, cancel: CancelLike | None, exchange: bool = False) -> None:
        self._opts = LfCallOptions()
        lib.lf_call_options_init(ctypes.byref(self._opts), ctypes.sizeof(self._opts))
        if timeout is not None:
            self._opts.timeout_ms = _ms(timeout, "timeout")
        self._sent = ctypes.c_uint(CodeSent.MAYBE_SENT)  # the safe reading, should it stay unwritten
        if exchange:
            self._opts.code_sent = ctypes.pointer(self._sent)
        self._watch: threading.Thread | None = None
        self._done = threading.Event()
        flag = _cancel_flag(cancel)
        if flag is not None:
            self._opts.cancel = ctypes.pointer(flag)
            if not isinstance(cancel, (Cancel, ctypes.c_int)):
                self._watch = threading.Thread(target=self._relay, args=(cancel, flag), daemon=True)
        self.ref = ctypes.byref(self._opts)

    def _relay(self, event: _Event, flag: ctypes.c_int) -> None:
        # An Event cannot be read from C: mirror it into the flag until the
        # call ends (polling bounds the wait on both sides).
        while not self._done.is_set():
            if event.wait(0.05):
                flag.value = 1
                return

    def code_sent(self) -> CodeSent:
        return CodeSent(self._sent.value)

    def __enter__(self) -> _CallOptions:
        if self._watch is not None:
            self._watch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._watch is not None:
            self._watch.join()


def _cancel_flag(cancel: CancelLike | None) -> ctypes.c_int | None:
    if cancel is None:
        return None
    if isinstance(cancel, Cancel):
        return cancel._flag
    if isinstance(cancel, ctypes.c_int):
        return cancel
    if callable(getattr(cancel, "wait", None)):
        return ctypes.c_int(1 if cancel.is_set() else 0)
    raise TypeError("cancel must be a Cancel, a ctypes.c_int or a threading.Event")


# -- conversions -----------------------------------------------------------


def _encode(value: str, what: str) -> bytes:
    """UTF-8 bytes for a C string; InvalidArgument for a NUL (C would cut
    the string there) or text that is not encodable."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgument(Status.INVALID_ARGUMENT, message=f"{what} contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(Status.INVALID_ARGUMENT, message=f"{what} is not valid Unicode") from None


def _encode_opt(value: str | None, what: str) -> bytes | None:
    return None if value is None else _encode(value, what)


def _secret(value: str, what: str) -> ctypes.Array:
    """A C copy of a secret that _wipe() can clear after the call (the
    Python string itself cannot be wiped)."""
    return ctypes.create_string_buffer(_encode(value, what))


def _wipe(buf: ctypes.Array) -> None:
    ctypes.memset(buf, 0, ctypes.sizeof(buf))


def _bytes(body: bytes | bytearray | memoryview) -> bytes:
    if isinstance(body, str):
        raise TypeError("body must be the raw bytes received (e.g. request.get_data()), not a str")
    return bytes(body)


def _token_value(token: Token | str) -> str:
    return token.value if isinstance(token, Token) else token


def _ms(seconds: float, what: str) -> int:
    """Seconds as whole milliseconds, rounded up so a positive value never
    becomes 0 ("no limit" or "the default" to the library)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds")
    if not seconds > 0 or math.isinf(seconds):
        raise InvalidArgument(Status.INVALID_ARGUMENT, message=f"{what} must be a positive, finite number of seconds")
    ms = math.ceil(seconds * 1000)
    if ms > _LONG_MAX:
        raise InvalidArgument(Status.INVALID_ARGUMENT, message=f"{what} is too large")
    return ms


def _set_ms(cfg: LfAuthConfig, field: str, seconds: float | None, what: str) -> None:
    if seconds is not None:
        setattr(cfg, field, _ms(seconds, what))


def _error(
    st: int, err: LfError | None = None, code_sent: CodeSent | None = None, body: bytes | None = None
) -> LightfunnelsAuthError:
    if err is None:
        return error_class(st)(st, message=_status_message(st), code_sent=code_sent, body=body)
    return error_class(st)(
        st,
        err.http_status,
        err.key.decode("utf-8", "replace"),
        err.message.decode("utf-8", "replace") or _status_message(st),
        err.retry_after_s,
        code_sent,
        body,
    )


def _status_message(st: int) -> str:
    return lib.lf_status_message(st).decode("utf-8", "replace")


def _check(st: int, err: LfError | None = None) -> None:
    if st != _native.LF_OK:
        raise _error(st, err)


def _max_age(seconds: int) -> int:
    """Whole seconds for the library's long; a bool or a fraction is a
    mistake, and a huge value is clamped rather than wrapped."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise TypeError("max_age must be an int (seconds)")
    return max(min(seconds, 2**31 - 1), -1)


def _fill(
    initial: int,
    fn: Callable[[ctypes.Array, int, Any], int],
    err: LfError | None = None,
    secret: bool = False,
) -> str:
    """Runs fn(buf, size, &needed) with a buffer of `initial` bytes and, on
    LF_E_BUFFER_TOO_SMALL, once more with the size asked for; returns the
    NUL-terminated result. A buffer that held a secret is wiped."""
    size = initial
    for _ in range(2):
        buf = ctypes.create_string_buffer(size)
        needed = ctypes.c_size_t(0)
        try:
            st = fn(buf, size, ctypes.byref(needed))
            if st == _native.LF_E_BUFFER_TOO_SMALL and needed.value > size:
                size = needed.value
                continue
            _check(st, err)
            return buf.value.decode("utf-8")
        finally:
            if secret:
                _wipe(buf)
    raise _error(_native.LF_E_INTERNAL)


def _take_token(tok: ctypes.c_void_p) -> Token:
    """Copies the token out of the C object and frees it (the library wipes it)."""
    buf = ctypes.create_string_buffer(_native.MAX_TOKEN_LENGTH + 1)
    try:
        needed = ctypes.c_size_t(0)
        st = lib.lf_token_copy(tok, buf, len(buf), ctypes.byref(needed))
        if st == _native.LF_E_BUFFER_TOO_SMALL:
            _wipe(buf)
            buf = ctypes.create_string_buffer(needed.value)
            st = lib.lf_token_copy(tok, buf, len(buf), ctypes.byref(needed))
        _check(st)
        return Token(buf.value.decode("ascii"))
    finally:
        _wipe(buf)
        lib.lf_token_free(tok)


def _take_body(resp: ctypes.c_void_p) -> bytes | None:
    """Copies the response body out and frees the response; None when the
    call received no complete response."""
    if not resp.value:
        return None
    try:
        n = lib.lf_response_body_length(resp)
        return ctypes.string_at(lib.lf_response_body(resp), n) if n else b""
    finally:
        lib.lf_response_free(resp)
