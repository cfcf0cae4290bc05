"""The one place that knows the C ABI: loading the library, the struct
layouts, the prototypes, and the checks that the loaded library matches them.

There is no header at run time, so nothing but these checks stands between a
mismatched library and memory corruption: they run at import and refuse a
library whose version or layouts differ (ImportError).
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_int,
    c_long,
    c_size_t,
    c_ubyte,
    c_uint,
    c_void_p,
)

#: Environment variable naming the shared library to load (a path). A staged
#: or non-standard install is invisible to ctypes.util.find_library.
LIBRARY_ENV = "LIGHTFUNNELS_AUTH_LIBRARY"
#: The SONAME, found through the dynamic loader's usual search.
SONAME = "liblightfunnels-auth.so.1"

#: Oldest 1.x this binding works with: lf_call_options.code_sent and
#: lf_auth_config.stall_timeout_ms are 1.1.
REQUIRED_MAJOR = 1
REQUIRED_MINOR = 1

# Bounds from auth.h.
STATE_BUFFER_SIZE = 44
SEALED_STATE_BUFFER_SIZE = 77  # lf_state_seal(), since 1.1
SIGNATURE_BUFFER_SIZE = 45
MAX_TOKEN_LENGTH = 4096
MAX_CALLBACK_LENGTH = 8192

# lf_status has no negative values, so GCC and Clang make it (and the other
# enums) unsigned int.
c_status = c_uint
c_enum = c_uint

LF_OK = 0
LF_E_INVALID_ARGUMENT = 1
LF_E_BUFFER_TOO_SMALL = 2
LF_E_CANCELLED = 20
LF_E_INTERNAL = 22

# What a trace line is about (lf_trace_fn's `event`, since 1.1). New events
# may be added: a value not listed here is passed on as a plain int.
LF_TRACE_CONNECT = 1
LF_TRACE_REUSE = 2
LF_TRACE_TLS = 3
LF_TRACE_REQUEST = 4
LF_TRACE_RESPONSE = 5
LF_TRACE_AUTO = 6
LF_TRACE_ERROR = 7
LF_TRACE_NO_RETRY = 8

#: lf_trace_fn: void (*)(void *user, int event, const char *line).
TraceFn = CFUNCTYPE(None, c_void_p, c_int, c_char_p)


class LfError(Structure):
    """lf_error: frozen layout within major version 1."""

    _fields_ = [
        ("status", c_status),
        ("http_status", c_long),
        ("retry_after_s", c_long),
        ("key", c_char * 64),
        ("message", c_char * 256),
    ]


class LfAuthConfig(Structure):
    """lf_auth_config as of 1.1 (append-only; struct_size says how much we know)."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("client_id", c_char_p),
        ("client_secret", c_char_p),
        ("previous_client_secret", c_char_p),
        ("redirect_uris", POINTER(c_char_p)),
        ("redirect_uri_count", c_size_t),
        ("authorize_url", c_char_p),
        ("token_url", c_char_p),
        ("api_url", c_char_p),
        ("client_auth", c_enum),
        ("connect_timeout_ms", c_long),
        ("timeout_ms", c_long),
        ("max_response_bytes", c_size_t),
        ("ca_file", c_char_p),
        ("user_agent", c_char_p),
        ("stall_timeout_ms", c_long),
        ("trace", TraceFn),
        ("trace_user", c_void_p),
    ]


class LfCallOptions(Structure):
    """lf_call_options as of 1.1."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("timeout_ms", c_long),
        ("cancel", POINTER(c_int)),
        ("code_sent", POINTER(c_enum)),
    ]


# The defaults lf_auth_config_init() writes (auth.h). Finding each at the
# offset this module expects proves the field layout up to the last field.
CONFIG_DEFAULTS = {
    "client_auth": 1,  # LF_CLIENT_AUTH_BASIC since 1.1
    "connect_timeout_ms": 10000,
    "timeout_ms": 30000,
    "max_response_bytes": 1 << 20,
    "stall_timeout_ms": 10000,
}

_auth_p = c_void_p
_token_p = c_void_p
_response_p = c_void_p
_err_p = POINTER(LfError)
_size_p = POINTER(c_size_t)

# name: (restype, argtypes)
_PROTOTYPES = {
    "lf_version": (c_char_p, []),
    "lf_status_name": (c_char_p, [c_status]),
    "lf_status_message": (c_char_p, [c_status]),
    "lf_auth_config_init": (None, [POINTER(LfAuthConfig), c_size_t]),
    "lf_auth_new": (c_status, [POINTER(LfAuthConfig), POINTER(_auth_p), _err_p]),
    "lf_auth_free": (None, [_auth_p]),
    "lf_consent_url": (
        c_status,
        [_auth_p, c_char_p, c_char_p, c_char_p, c_void_p, c_size_t, _size_p],
    ),
    "lf_state_generate": (c_status, [c_void_p, c_size_t]),
    "lf_state_equal": (c_int, [c_char_p, c_char_p]),
    "lf_parse_callback": (
        c_status,
        [_auth_p, c_char_p, c_char_p, c_void_p, c_size_t, _size_p, _err_p],
    ),
    # 1.1: signed, expiring state.
    "lf_state_seal": (c_status, [_auth_p, c_char_p, c_void_p, c_size_t, _size_p]),
    "lf_state_open": (c_status, [_auth_p, c_char_p, c_char_p, c_long, _err_p]),
    "lf_parse_callback_sealed": (
        c_status,
        [_auth_p, c_char_p, c_char_p, c_long, c_void_p, c_size_t, _size_p, _err_p],
    ),
    "lf_call_options_init": (None, [POINTER(LfCallOptions), c_size_t]),
    "lf_exchange_code_ex": (
        c_status,
        [_auth_p, c_char_p, POINTER(LfCallOptions), POINTER(_token_p), _err_p],
    ),
    "lf_token_copy": (c_status, [_token_p, c_void_p, c_size_t, _size_p]),
    "lf_token_free": (None, [_token_p]),
    "lf_webhook_verify": (c_status, [_auth_p, c_void_p, c_size_t, c_char_p]),
    "lf_webhook_sign": (
        c_status,
        [_auth_p, c_void_p, c_size_t, c_void_p, c_size_t, _size_p],
    ),
    "lf_graphql_ex": (
        c_status,
        [
            _auth_p,
            c_char_p,
            c_char_p,
            c_char_p,
            POINTER(LfCallOptions),
            POINTER(_response_p),
            _err_p,
        ],
    ),
    "lf_response_body": (c_void_p, [_response_p]),
    "lf_response_body_length": (c_size_t, [_response_p]),
    "lf_response_http_status": (c_long, [_response_p]),
    "lf_response_free": (None, [_response_p]),
    "lf_account_id_ex": (
        c_status,
        [_auth_p, c_char_p, POINTER(LfCallOptions), c_void_p, c_size_t, _size_p, _err_p],
    ),
}


def load(path: str | None = None) -> ctypes.CDLL:
    """Loads the library from `path`, else $LIGHTFUNNELS_AUTH_LIBRARY, else
    the SONAME, and declares every prototype. ImportError when it cannot."""
    name = path or os.environ.get(LIBRARY_ENV) or SONAME
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise ImportError(
            f"lightfunnels_auth: cannot load {name!r} ({e}); install lightfunnels-auth "
            f"1.{REQUIRED_MINOR} or later, or set {LIBRARY_ENV} to the path of {SONAME}"
        ) from e
    for fn, (restype, argtypes) in _PROTOTYPES.items():
        try:
            f = getattr(lib, fn)
        except AttributeError as e:
            raise ImportError(f"lightfunnels_auth: {name!r} does not export {fn}") from e
        f.restype = restype
        f.argtypes = argtypes
    return lib


def check_version(version: str) -> None:
    """ImportError unless `version` ("1.1.0") is a compatible 1.x."""
    parts = version.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ImportError(f"lightfunnels_auth: unreadable library version {version!r}") from None
    if major != REQUIRED_MAJOR or minor < REQUIRED_MINOR:
        raise ImportError(
            f"lightfunnels_auth: the loaded library is version {version}; this binding "
            f"needs {REQUIRED_MAJOR}.{REQUIRED_MINOR} or a later {REQUIRED_MAJOR}.x"
        )


_CANARY = 0xA5
_SLACK = 64


def _canary_buffer(size: int) -> ctypes.Array:
    buf = (c_ubyte * (size + _SLACK))()
    ctypes.memset(buf, _CANARY, len(buf))
    return buf


def _tail_untouched(buf: ctypes.Array, size: int) -> bool:
    return all(b == _CANARY for b in bytes(buf)[size:])


def check_error_layout(lib: ctypes.CDLL, error_type: type = LfError) -> None:
    """ImportError unless a failing call fills `error_type` exactly as laid
    out: the status at its offset, numbers, a NUL-terminated key and message
    ending at the struct's last byte, and not one byte past it."""
    size = ctypes.sizeof(error_type)
    raw = _canary_buffer(size)
    code = ctypes.create_string_buffer(8)
    # A malformed escape: LF_E_INVALID_ARGUMENT, without a handle or network.
    st = lib.lf_parse_callback(None, b"code=%zz", None, code, len(code), None, ctypes.cast(raw, _err_p))
    e = error_type.from_buffer(raw)
    last = bytes(raw)[size - 1]
    ok = (
        st == LF_E_INVALID_ARGUMENT
        and e.status == st
        and e.http_status == 0
        and e.retry_after_s == 0
        and len(e.key) < 64  # ctypes reads up to the NUL: a full field has none
        and 0 < len(e.message) < 256
        and last != _CANARY
        and _tail_untouched(raw, size)
    )
    if not ok:
        raise ImportError(
            "lightfunnels_auth: the loaded library's lf_error does not match this binding's "
            f"layout ({size} bytes)"
        )


def check_config_layout(lib: ctypes.CDLL, config_type: type = LfAuthConfig) -> None:
    """ImportError unless lf_auth_config_init() sets struct_size to the
    ctypes size and writes each default where this binding expects it."""
    size = ctypes.sizeof(config_type)
    raw = _canary_buffer(size)
    lib.lf_auth_config_init(ctypes.cast(raw, POINTER(LfAuthConfig)), size)
    cfg = config_type.from_buffer(raw)
    ok = cfg.struct_size == size and _tail_untouched(raw, size)
    for field, want in CONFIG_DEFAULTS.items():
        ok = ok and getattr(cfg, field) == want
    ok = ok and _config_accepted(lib, raw) and _trace_fields_read(lib, config_type)
    if not ok:
        raise ImportError(
            "lightfunnels_auth: the loaded library's lf_auth_config does not match this "
            f"binding's layout ({size} bytes)"
        )


def _config_accepted(lib: ctypes.CDLL, raw: ctypes.Array) -> bool:
    """Whether lf_auth_new() takes a config of this struct_size (a library
    whose struct is smaller refuses it): a throwaway handle, no network."""
    cfg = LfAuthConfig.from_buffer(raw)
    uris = (c_char_p * 1)(b"https://127.0.0.1/probe")
    cfg.client_id, cfg.client_secret = b"layout-probe", b"layout-probe"
    cfg.redirect_uris, cfg.redirect_uri_count = uris, 1
    handle = c_void_p()
    st = lib.lf_auth_new(ctypes.cast(raw, POINTER(LfAuthConfig)), ctypes.byref(handle), None)
    lib.lf_auth_free(handle)
    return st == LF_OK


def _trace_fields_read(lib: ctypes.CDLL, config_type: type) -> bool:
    """Whether the library calls `trace` with `trace_user` where this binding
    puts them: a traced throwaway handle and an exchange cancelled before it
    starts, which traces its failure without any I/O.

    trace_user holds the address of a second probe function rather than
    plain data, so a layout that swapped the two makes the library call one
    of the probes (and say so), never jump to garbage."""
    calls: list[tuple[str, int | None]] = []
    first = TraceFn(lambda user, event, line: calls.append(("trace", user)))
    second = TraceFn(lambda user, event, line: calls.append(("trace_user", user)))
    second_addr = ctypes.cast(second, c_void_p).value
    size = ctypes.sizeof(config_type)
    raw = (c_ubyte * size)()
    lib.lf_auth_config_init(ctypes.cast(raw, POINTER(LfAuthConfig)), size)
    cfg = config_type.from_buffer(raw)
    if not hasattr(cfg, "trace") or not hasattr(cfg, "trace_user"):
        return False
    uris = (c_char_p * 1)(b"https://127.0.0.1/probe")
    cfg.client_id, cfg.client_secret = b"layout-probe", b"layout-probe"
    cfg.redirect_uris, cfg.redirect_uri_count = uris, 1
    cfg.token_url = b"http://127.0.0.1:9/probe"
    cfg.trace, cfg.trace_user = first, second_addr
    handle = c_void_p()
    if lib.lf_auth_new(ctypes.cast(raw, POINTER(LfAuthConfig)), ctypes.byref(handle), None) != LF_OK:
        return False
    try:
        cancel = c_int(1)
        opts = LfCallOptions()
        lib.lf_call_options_init(ctypes.byref(opts), ctypes.sizeof(opts))
        opts.cancel = ctypes.pointer(cancel)
        token = c_void_p()
        st = lib.lf_exchange_code_ex(handle, b"layout-probe", ctypes.byref(opts), ctypes.byref(token), None)
        lib.lf_token_free(token)
    finally:
        lib.lf_auth_free(handle)
    return st == LF_E_CANCELLED and bool(calls) and all(c == ("trace", second_addr) for c in calls)


def check_options_layout(lib: ctypes.CDLL, options_type: type = LfCallOptions) -> None:
    """ImportError unless lf_call_options_init() sets struct_size to the
    ctypes size, zeroes the rest and writes nothing past it, and the library
    accepts that size and writes code_sent where this binding reads it."""
    size = ctypes.sizeof(options_type)
    raw = _canary_buffer(size)
    lib.lf_call_options_init(ctypes.cast(raw, POINTER(LfCallOptions)), size)
    head = ctypes.sizeof(c_size_t)
    opts = options_type.from_buffer(raw)
    ok = (
        opts.struct_size == size
        and all(b == 0 for b in bytes(raw)[head:size])
        and _tail_untouched(raw, size)
    )
    if ok:
        # code_sent is written "whatever the status": a call refused for its
        # NULL handle still writes LF_CODE_NOT_SENT, and only when the
        # library knows this struct_size and finds code_sent inside it.
        sent = c_enum(0xA5A5)
        opts.code_sent = ctypes.pointer(sent)
        lib.lf_exchange_code_ex(None, None, ctypes.cast(raw, POINTER(LfCallOptions)), None, None)
        ok = sent.value == 0
    if not ok:
        raise ImportError(
            "lightfunnels_auth: the loaded library's lf_call_options does not match this "
            f"binding's layout ({size} bytes)"
        )


def open_library(path: str | None = None) -> ctypes.CDLL:
    """load() plus every check: the library this package runs on."""
    lib = load(path)
    check_version(lib.lf_version().decode("ascii", "replace"))
    check_error_layout(lib)
    check_config_layout(lib)
    check_options_layout(lib)
    return lib


lib = open_library()
