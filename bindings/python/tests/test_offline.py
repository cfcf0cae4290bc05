"""What needs no server: loading and the import checks, the status table,
Token, state, webhooks, argument errors and the client's lifetime."""

from __future__ import annotations

import base64
import ctypes
import hashlib
import hmac
import inspect
import os
import pickle
import subprocess
import sys
import time
import unittest
from ctypes import c_char, c_long, c_uint

import lightfunnels_auth as la
from lightfunnels_auth import _native
from lightfunnels_auth.errors import _BY_STATUS

REDIRECT = "https://app.example.test/cb"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def client(**kw: object) -> la.Client:
    base: dict[str, object] = dict(client_id="app", client_secret="s3cret-value", redirect_uris=[REDIRECT])
    base.update(kw)
    return la.Client(**base)  # type: ignore[arg-type]


def _import_in_child(env_update: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=HERE, **env_update)
    return subprocess.run(
        [sys.executable, "-c", "import lightfunnels_auth as la; print(la.library_version())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _loaded_library_path() -> str:
    """The file the dynamic loader mapped for the SONAME in this process."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith(_native.SONAME) or "/" + _native.SONAME in line:
                return line.split()[-1]
    raise AssertionError(f"{_native.SONAME} is not mapped")


class LoadingTest(unittest.TestCase):
    def test_the_env_var_names_the_library_to_load(self) -> None:
        path = _loaded_library_path()
        ok = _import_in_child({_native.LIBRARY_ENV: path})
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(ok.stdout.strip(), la.library_version())

        missing = _import_in_child({_native.LIBRARY_ENV: "/nonexistent/liblightfunnels-auth.so.1"})
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("ImportError", missing.stderr)
        self.assertIn(_native.LIBRARY_ENV, missing.stderr)

    def test_version_check(self) -> None:
        _native.check_version("1.1.0")
        _native.check_version("1.7.3")
        for bad in ("1.0.9", "2.0.0", "0.9.0", "garbage", ""):
            with self.subTest(version=bad), self.assertRaises(ImportError):
                _native.check_version(bad)
        self.assertEqual(la.library_version().split(".")[0], "1")

    def test_layout_checks_accept_the_real_layouts(self) -> None:
        _native.check_error_layout(_native.lib)
        _native.check_config_layout(_native.lib)
        _native.check_options_layout(_native.lib)

    def test_layout_checks_refuse_a_different_lf_error(self) -> None:
        class ShortMessage(ctypes.Structure):
            _fields_ = [("status", c_uint), ("http_status", c_long), ("retry_after_s", c_long),
                        ("key", c_char * 64), ("message", c_char * 200)]

        class IntHttpStatus(ctypes.Structure):  # a 32-bit field where C has a long
            _fields_ = [("status", c_uint), ("http_status", ctypes.c_int), ("retry_after_s", ctypes.c_int),
                        ("key", c_char * 64), ("message", c_char * 256)]

        for wrong in (ShortMessage, IntHttpStatus):
            with self.subTest(layout=wrong.__name__), self.assertRaises(ImportError):
                _native.check_error_layout(_native.lib, wrong)

    def test_layout_checks_refuse_a_different_config_or_options(self) -> None:
        fields = list(_native.LfAuthConfig._fields_)
        with_extra = type("WithExtra", (ctypes.Structure,), {"_fields_": fields + [("future", c_long)]})
        without_ua = type(
            "WithoutUserAgent", (ctypes.Structure,), {"_fields_": [f for f in fields if f[0] != "user_agent"]}
        )
        by_name = dict(fields)
        trace_swapped = type(  # same size and defaults: only the trace probe tells them apart
            "TraceSwapped",
            (ctypes.Structure,),
            {"_fields_": fields[:-2] + [("trace_user", by_name["trace_user"]), ("trace", by_name["trace"])]},
        )
        for wrong in (with_extra, without_ua, trace_swapped):
            with self.subTest(layout=wrong.__name__), self.assertRaises(ImportError):
                _native.check_config_layout(_native.lib, wrong)

        opt_fields = list(_native.LfCallOptions._fields_)
        opt_extra = type("OptionsWithExtra", (ctypes.Structure,), {"_fields_": opt_fields + [("future", c_long)]})
        opt_swapped = type(  # cancel and code_sent swapped: code_sent lands elsewhere
            "OptionsSwapped", (ctypes.Structure,), {"_fields_": opt_fields[:2] + [opt_fields[3], opt_fields[2]]}
        )
        for wrong in (opt_extra, opt_swapped):
            with self.subTest(layout=wrong.__name__), self.assertRaises(ImportError):
                _native.check_options_layout(_native.lib, wrong)


class StatusTableTest(unittest.TestCase):
    def test_every_status_has_its_c_name_and_one_exception_class(self) -> None:
        for st in la.Status:
            self.assertEqual(_native.lib.lf_status_name(st).decode(), st.c_name)
        self.assertEqual(sorted(_BY_STATUS), [s for s in la.Status if s is not la.Status.OK])
        for st, cls in _BY_STATUS.items():
            self.assertEqual(cls.status, st)
            self.assertTrue(issubclass(cls, la.LightfunnelsAuthError))
            self.assertIs(la.error_class(st), cls)
            self.assertIs(getattr(la, cls.__name__), cls)
        self.assertEqual(_native.lib.lf_status_name(len(la.Status)).decode(), "LF_E_UNKNOWN")
        self.assertIs(la.error_class(999), la.LightfunnelsAuthError)

    def test_error_fields_str_and_pickling(self) -> None:
        e = la.RateLimited(la.Status.RATE_LIMITED, 429, "rate_limit_reached", "slow down", 30)
        self.assertEqual(str(e), "LF_E_RATE_LIMITED (HTTP 429, rate_limit_reached): slow down")
        self.assertEqual((e.http_status, e.key, e.message, e.retry_after), (429, "rate_limit_reached", "slow down", 30))
        self.assertIsNone(e.code_sent)
        self.assertTrue(e.code_may_be_spent)  # an error that tells nothing: assume spent
        back = pickle.loads(pickle.dumps(e))
        self.assertIsInstance(back, la.RateLimited)
        self.assertEqual(str(back), str(e))
        self.assertTrue(issubclass(la.InvalidArgument, ValueError))
        self.assertEqual(str(la.LightfunnelsAuthError(99, message="new")), "LF_E_UNKNOWN(99): new")


class TokenTest(unittest.TestCase):
    def test_token_hides_its_value(self) -> None:
        t = la.Token("tok_THE_SECRET_VALUE")
        self.assertEqual(t.value, "tok_THE_SECRET_VALUE")
        for shown in (repr(t), str(t), f"{t}", "%s" % t, "%r" % (t,), repr([t]), repr({"t": t})):
            self.assertNotIn("SECRET", shown)
        self.assertEqual(repr(t), "Token(REDACTED)")
        with self.assertRaises(TypeError):
            pickle.dumps(t)


class StateTest(unittest.TestCase):
    def test_new_state_is_43_fresh_base64url_characters(self) -> None:
        states = {la.new_state() for _ in range(16)}
        self.assertEqual(len(states), 16)
        for s in states:
            self.assertRegex(s, r"^[A-Za-z0-9_-]{43}$")

    def test_state_equal(self) -> None:
        s = la.new_state()
        self.assertTrue(la.state_equal(s, "" + s))
        self.assertFalse(la.state_equal(s, s[:-1]))
        self.assertFalse(la.state_equal(s, None))
        self.assertFalse(la.state_equal(None, None))


def _sealed(client_id: str, secret: str, binding: str, issued: int, version: int = 1) -> str:
    """A state in the format of docs/SECURITY.md ("Sealed state"), with an
    issue time of our choosing: HKDF-SHA256 from RFC 5869 (one block, no
    salt), then HMAC-SHA256 over the length-prefixed fields."""
    prk = hmac.new(bytes(32), secret.encode(), hashlib.sha256).digest()
    key = hmac.new(prk, b"lightfunnels-auth sealed state v1\x01", hashlib.sha256).digest()
    body = bytes([version]) + issued.to_bytes(8, "big", signed=True) + os.urandom(16)
    msg = body
    for field in (client_id.encode(), binding.encode()):
        msg += len(field).to_bytes(8, "big") + field
    mac = hmac.new(key, msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


class SealedStateTest(unittest.TestCase):
    SESSION = "session-5b0e1c7d"

    def test_round_trip(self) -> None:
        with client() as c:
            s = c.seal_state(self.SESSION)
            self.assertRegex(s, r"^[A-Za-z0-9_-]{76}$")
            self.assertNotEqual(s, c.seal_state(self.SESSION))
            c.open_state(s, self.SESSION, 600)
            c.open_state(c.seal_state(None), "", 600)  # None and "" are both unbound
            # the documented format is the library's
            c.open_state(_sealed("app", "s3cret-value", self.SESSION, int(time.time())), self.SESSION, 600)

    def test_refusals(self) -> None:
        now = int(time.time())
        with client() as c:
            s = c.seal_state(self.SESSION)
            altered = s[:40] + ("A" if s[40] != "A" else "B") + s[41:]
            mismatch = [
                (s, "session-other"),
                (s, None),
                (altered, self.SESSION),
                ("not-a-sealed-state", self.SESSION),
                (_sealed("other app", "s3cret-value", self.SESSION, now), self.SESSION),
                (_sealed("app", "other secret", self.SESSION, now), self.SESSION),
                (_sealed("app", "other secret", self.SESSION, now - 3600), self.SESSION),  # MAC before time
                (_sealed("app", "s3cret-value", self.SESSION, now, version=2), self.SESSION),
            ]
            for state, binding in mismatch:
                with self.assertRaises(la.StateMismatch, msg=(state, binding)):
                    c.open_state(state, binding, 600)
            for issued in (now - 3600, now + 3600):
                with self.assertRaises(la.StateExpired) as cm:
                    c.open_state(_sealed("app", "s3cret-value", self.SESSION, issued), self.SESSION, 600)
                self.assertEqual(cm.exception.status, la.Status.STATE_EXPIRED)
            with self.assertRaises(la.InvalidArgument):
                c.open_state(s, self.SESSION, 0)
            with self.assertRaises(TypeError):
                c.open_state(s, self.SESSION, 1.5)  # type: ignore[arg-type]

    def test_rotation(self) -> None:
        with client(client_secret="old-secret") as before, client(
            client_secret="new-secret", previous_client_secret="old-secret"
        ) as rotated:
            rotated.open_state(before.seal_state(self.SESSION), self.SESSION, 60)

    def test_parse_callback_sealed(self) -> None:
        old = _sealed("app", "s3cret-value", self.SESSION, int(time.time()) - 3600)
        with client() as c:
            s = c.seal_state(self.SESSION)
            self.assertEqual(c.parse_callback_sealed(f"{REDIRECT}?code=c0de&state={s}", self.SESSION, 60), "c0de")
            cases = [
                ("code=a", la.StateMismatch),
                (f"code=a&state={s}x", la.StateMismatch),
                (f"code=a&state={old}", la.StateExpired),
                (f"error=access_denied&state={old}", la.StateExpired),
                (f"error=access_denied&state={s}", la.AccessDenied),
                (f"state={s}", la.InvalidArgument),
            ]
            for query, error in cases:
                with self.assertRaises(error, msg=query):
                    c.parse_callback_sealed(query, self.SESSION, 60)
            with self.assertRaises(la.StateMismatch):
                c.parse_callback_sealed(f"code=a&state={s}", "session-other", 60)


class WebhookTest(unittest.TestCase):
    def test_sign_is_base64_hmac_sha256_and_verify_checks_it(self) -> None:
        body = '{"name":"#1001","note":"caf\u00e9 \\"quoted\\""}'.encode()
        want = base64.b64encode(hmac.new(b"s3cret-value", body, hashlib.sha256).digest()).decode()
        with client(previous_client_secret="old-secret") as c:
            self.assertEqual(c.webhook_sign(body), want)
            self.assertTrue(c.webhook_verify(body, want))
            self.assertTrue(c.webhook_verify(bytearray(body), "  " + want.rstrip("=") + "\t"))
            self.assertTrue(c.webhook_verify(memoryview(body), want))
            old = base64.b64encode(hmac.new(b"old-secret", body, hashlib.sha256).digest()).decode()
            self.assertTrue(c.webhook_verify(body, old))  # during a rotation
            for bad in (None, "", "garbage", want.lower(), want + "\0", "\ud800", want.encode().hex()):
                self.assertFalse(c.webhook_verify(body, bad), bad)
            self.assertFalse(c.webhook_verify(body + b"\n", want))
            with self.assertRaises(TypeError):
                c.webhook_verify(body.decode(), want)  # type: ignore[arg-type]
            self.assertTrue(c.webhook_verify(b"", c.webhook_sign(b"")))


class WebhookOnlyTest(unittest.TestCase):
    """A client made without redirect URIs signs and verifies webhooks, but
    its consent and callback calls raise RedirectUriNotAllowed."""

    def test_webhooks_work_and_consent_and_callbacks_are_refused(self) -> None:
        body = b'{"node":{"id":"order_1"}}'
        want = base64.b64encode(hmac.new(b"s3cret-value", body, hashlib.sha256).digest()).decode()
        with client(redirect_uris=[]) as c:
            sig = c.webhook_sign(body)
            self.assertEqual(sig, want)
            self.assertTrue(c.webhook_verify(body, sig))
            self.assertFalse(c.webhook_verify(b'{"node":{"id":"order_2"}}', sig))

            for redirect in (REDIRECT, "http://127.0.0.1:8080/cb"):
                with self.subTest(redirect=redirect), self.assertRaises(la.RedirectUriNotAllowed):
                    c.consent_url(redirect, ["orders"], "st")
            sealed = c.seal_state("session")
            calls = {
                "parse_callback": lambda: c.parse_callback("code=c0de&state=st", "st"),
                "parse_callback_without_state": lambda: c.parse_callback_without_state("code=c0de"),
                "parse_callback_sealed": lambda: c.parse_callback_sealed(
                    f"{REDIRECT}?code=c0de&state={sealed}", "session", 60
                ),
            }
            for name, call in calls.items():
                with self.subTest(call=name), self.assertRaises(la.RedirectUriNotAllowed) as cm:
                    call()
                self.assertIn("no redirect URIs", cm.exception.message)


class ArgumentTest(unittest.TestCase):
    def test_default_client_auth_is_basic(self) -> None:
        # The platform's documented method since 2025-02. Basic cannot carry
        # a ':' in the client id: the default refuses it, the JSON body (the
        # earlier method, asked for by name) takes it.
        default = inspect.signature(la.Client).parameters["client_auth"].default
        self.assertIs(default, la.ClientAuth.BASIC)
        with self.assertRaises(la.InvalidArgument):
            client(client_id="a:b")
        client(client_id="a:b", client_auth=la.ClientAuth.JSON_BODY).close()

    def test_bad_configuration(self) -> None:
        cases = [
            (la.InvalidArgument, dict(client_secret="")),
            (la.InvalidArgument, dict(client_id="")),
            (la.InvalidArgument, dict(redirect_uris=[""])),
            (la.InvalidArgument, dict(redirect_uris=["not a url"])),
            (la.InvalidArgument, dict(client_secret="nul\0inside")),
            (la.InvalidArgument, dict(timeout=0)),
            (la.InvalidArgument, dict(stall_timeout=-1)),
            (la.InvalidArgument, dict(connect_timeout=float("inf"))),
            (la.InvalidArgument, dict(max_response_bytes=0)),
            (la.InvalidArgument, dict(client_id="a:b", client_auth=la.ClientAuth.BASIC)),
            (la.InsecureTransport, dict(token_url="http://api.example.com/oauth/access_token")),
            (la.InsecureTransport, dict(api_url="ftp://127.0.0.1/api")),
        ]
        for exc, kw in cases:
            with self.subTest(**{k: repr(v) for k, v in kw.items()}), self.assertRaises(exc):
                client(**kw)
        with self.assertRaises(TypeError):
            client(client_secret=b"bytes")
        with self.assertRaises(ValueError):  # not an lf_client_auth
            client(client_auth=7)
        # No redirect URI is valid since 1.1: a webhook-only client (WebhookOnlyTest).
        for uris in ([], ()):
            client(redirect_uris=uris).close()
        la.Client(client_id="app", client_secret="s3cret-value").close()

    def test_config_values_reach_the_library(self) -> None:
        with client(
            user_agent="ua-test/1",
            authorize_url="https://consent.example.test/oauth",
            redirect_uris=("https://a.example.test/cb", REDIRECT),
            connect_timeout=0.0001,
            stall_timeout=5,
        ) as c:
            url = c.consent_url(REDIRECT, "orders, products,orders", "st")
            self.assertTrue(url.startswith("https://consent.example.test/oauth?client_id=app&"), url)
            self.assertIn("scope=orders,products&state=st", url)
            self.assertIn("a.example.test", c.consent_url("https://a.example.test/cb", ["orders"], None))

    def test_bad_call_arguments(self) -> None:
        with client() as c:
            with self.assertRaises(la.RedirectUriNotAllowed):
                c.consent_url(REDIRECT + "/", ["orders"], "st")
            for scopes in (["Orders"], [], "orders,a b"):
                with self.subTest(scopes=scopes), self.assertRaises(la.InvalidArgument):
                    c.consent_url(REDIRECT, scopes, "st")
            with self.assertRaises(la.InvalidArgument):
                c.consent_url(REDIRECT, ["orders"], "")
            with self.assertRaises(la.InvalidArgument):
                c.parse_callback("code=%zz&state=st", "st")
            with self.assertRaises(la.InvalidArgument):
                c.parse_callback("state=st", "st")  # no code
            with self.assertRaises(la.InvalidArgument):
                c.parse_callback("code=a&state=st\0", "st")
            for bad in ("", "x" * 5000, "nul\0code"):
                with self.subTest(code=bad[:10]), self.assertRaises(la.InvalidArgument) as cm:
                    c.exchange_code(bad)
                self.assertIs(cm.exception.code_sent, la.CodeSent.NOT_SENT)
            with self.assertRaises(la.InvalidArgument) as cm:
                c.exchange_code("code", timeout=-1)
            self.assertIs(cm.exception.code_sent, la.CodeSent.NOT_SENT)
            with self.assertRaises(TypeError):
                c.exchange_code("code", cancel=object())  # type: ignore[arg-type]
            with self.assertRaises(la.InvalidArgument):
                c.graphql("not a b64token!", "query { account { id } }")
            with self.assertRaises(la.InvalidArgument):
                c.graphql("tok", "query", variables=[1, 2])  # type: ignore[arg-type]

    def test_callback_is_parsed_strictly(self) -> None:
        with client() as c:
            self.assertEqual(c.parse_callback(REDIRECT + "?code=a%2Bb+c&state=st#frag", "st"), "a+b c")
            self.assertEqual(c.parse_callback("?state=st&code=xyz", "st"), "xyz")
            long_code = "c" * 1000  # past the first buffer: the binding asks for more
            self.assertEqual(c.parse_callback(f"code={long_code}&state=st", "st"), long_code)


class LifetimeTest(unittest.TestCase):
    def test_context_manager_closes_and_close_is_idempotent(self) -> None:
        with client() as c:
            self.assertFalse(c.closed)
            c.webhook_sign(b"x")
        self.assertTrue(c.closed)
        for call in (
            lambda: c.webhook_sign(b"x"),
            lambda: c.webhook_verify(b"x", "sig"),
            lambda: c.consent_url(REDIRECT, ["orders"], "st"),
            lambda: c.parse_callback("code=a&state=st", "st"),
            lambda: c.account_id("tok"),
            lambda: c.graphql("tok", "query { account { id } }"),
        ):
            with self.assertRaises(la.ClientClosed):
                call()
        c.close()
        c.close()
        self.assertIn("closed", repr(c))

    def test_the_handle_is_freed_on_exit_even_after_an_exception(self) -> None:
        with self.assertRaises(RuntimeError):
            with client() as c:
                raise RuntimeError("boom")
        self.assertTrue(c.closed)


if __name__ == "__main__":
    unittest.main()
