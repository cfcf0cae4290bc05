"""The binding against lf-sandbox over HTTPS, and against loopback servers
that misbehave: the whole flow and every exception a user can meet."""

from __future__ import annotations

import base64
import http.server
import json
import sys
import threading
import time
import unittest
import urllib.parse
from typing import Any

import lightfunnels_auth as la
from tests.support import (
    ACCOUNT_ID,
    SandboxTestCase,
    StalledListener,
    Stub,
    refused_url,
)


class WebhookReceiver:
    """A loopback HTTP server that checks each POST with client.webhook_verify
    over the raw body: 204 when it verifies, 401 when not."""

    def __init__(self, client: la.Client) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = client.webhook_verify(body, self.headers.get("lightfunnels-hmac"))
                if ok:
                    receiver.bodies.append(body)
                self.send_response(204 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/webhooks" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class FullFlowTest(SandboxTestCase):
    def test_consent_callback_exchange_account_graphql_webhooks(self) -> None:
        sb = self.sandbox
        with sb.client() as client:
            state = la.new_state()
            consent = client.consent_url(sb.redirect, ["orders", "products"], state)
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(consent).query)
            self.assertEqual(q["client_id"], [sb.client_id])
            self.assertEqual(q["state"], [state])
            self.assertEqual(q["scope"], ["orders,products"])

            location = sb.authorize(consent)
            self.assertTrue(location.startswith(sb.redirect + "?"), location)
            code = client.parse_callback(location, state)
            self.assertEqual(len(code), 43)

            token = client.exchange_code(code, timeout=20)
            self.assertIsInstance(token, la.Token)
            self.assertRegex(token.value, r"^[A-Za-z0-9_-]{43}$")

            self.assertEqual(client.account_id(token), ACCOUNT_ID)
            self.assertEqual(client.account_id(token.value), ACCOUNT_ID)  # a str works too
            answer = client.graphql(token, "query { account { id } }", {"unused": [1, "é"]})
            self.assertEqual(answer, {"data": {"account": {"id": ACCOUNT_ID}}})

            receiver = WebhookReceiver(client)
            try:
                self.assertEqual(sb.deliver_webhook(receiver.url), 204)
            finally:
                receiver.close()
            self.assertEqual(len(receiver.bodies), 1)
            body = receiver.bodies[0]
            self.assertIn("#1001", json.loads(body)["node"]["name"])
            signature = client.webhook_sign(body)
            self.assertTrue(client.webhook_verify(body, signature))
            self.assertFalse(client.webhook_verify(body + b" ", signature))
            self.assertFalse(client.webhook_verify(body, None))
        self.assertTrue(client.closed)

    def test_a_webhook_signed_with_another_secret_is_refused(self) -> None:
        with self.sandbox.client(client_secret="not-the-sandbox-secret") as other:
            receiver = WebhookReceiver(other)
            try:
                self.assertEqual(self.sandbox.deliver_webhook(receiver.url), 401)
            finally:
                receiver.close()
            self.assertEqual(receiver.bodies, [])

    def test_default_client_auth_is_basic_at_api_access_token(self) -> None:
        # The sandbox's /api/access_token takes HTTP Basic only, and logs
        # each token request.
        client = self.new_client(token_url=self.sandbox.url + "/api/access_token")
        code = self.code(client)
        seen = len(self.sandbox.log())  # the class's sandbox logged other tests' requests
        token = client.exchange_code(code)
        self.assertEqual(client.account_id(token), ACCOUNT_ID)
        log = self.sandbox.log()[seen:]
        self.assertIn("POST /api/access_token 200", log)
        self.assertNotIn("/oauth/access_token", log)

    def test_json_body_and_auto_client_auth_exchange_too(self) -> None:
        for auth, path in ((la.ClientAuth.JSON_BODY, "/oauth/access_token"), (la.ClientAuth.AUTO, "/oauth/access_token")):
            with self.subTest(auth=auth):
                client = self.new_client(client_auth=auth, token_url=self.sandbox.url + path)
                token = client.exchange_code(self.code(client))
                self.assertEqual(client.account_id(token), ACCOUNT_ID)

    def test_one_client_shared_by_threads(self) -> None:
        client = self.new_client()
        results: list[str] = []
        failures: list[BaseException] = []

        def install() -> None:
            try:
                results.append(client.account_id(client.exchange_code(self.code(client))))
            except BaseException as e:  # noqa: BLE001 - handed to the test thread
                failures.append(e)

        threads = [threading.Thread(target=install) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        self.assertEqual(results, [ACCOUNT_ID] * 4)


class TraceTest(SandboxTestCase):
    def traced_client(self, sink: list[tuple[Any, str, int]]) -> la.Client:
        return self.new_client(trace=lambda event, line: sink.append((event, line, threading.get_ident())))

    def assert_no_secret(self, lines: list[tuple[Any, str, int]], *secrets: str) -> None:
        """No line holds any 8-byte run of a secret (as the C suite checks)."""
        for _, line, _ in lines:
            for secret in secrets:
                for i in range(len(secret) - 7):
                    self.assertNotIn(secret[i : i + 8], line, f"a secret leaked into the trace line {line!r}")

    def test_an_exchange_traces_connect_request_response_and_no_secret(self) -> None:
        lines: list[tuple[Any, str, int]] = []
        client = self.traced_client(lines)
        code = self.code(client)
        token = client.exchange_code(code)
        self.assertEqual(client.account_id(token), ACCOUNT_ID)

        events = [e for e, _, _ in lines]
        self.assertTrue(all(isinstance(e, la.TraceEvent) for e in events), events)
        order = [events.index(e) for e in (la.TraceEvent.CONNECT, la.TraceEvent.TLS, la.TraceEvent.REQUEST)]
        self.assertEqual(order, sorted(order), events)
        self.assertIn(la.TraceEvent.RESPONSE, events[order[-1]:])
        requests = [line for e, line, _ in lines if e == la.TraceEvent.REQUEST]
        self.assertTrue(requests[0].startswith("POST " + self.sandbox.url + "/api/access_token"), requests)
        self.assertTrue(any("HTTP 200" in line for e, line, _ in lines if e == la.TraceEvent.RESPONSE))
        self.assertEqual({tid for _, _, tid in lines}, {threading.get_ident()})  # the calling thread

        basic = base64.b64encode(f"{self.sandbox.client_id}:{self.sandbox.secret}".encode()).decode()
        self.assert_no_secret(lines, self.sandbox.secret, code, token.value, basic)

    def test_a_failed_exchange_traces_the_error_without_the_code(self) -> None:
        lines: list[tuple[Any, str, int]] = []
        client = self.traced_client(lines)
        code = self.code(client)
        client.exchange_code(code)
        del lines[:]
        with self.assertRaises(la.InvalidCode):
            client.exchange_code(code)
        errors = [line for e, line, _ in lines if e == la.TraceEvent.ERROR]
        self.assertTrue(any("LF_E_INVALID_CODE" in line for line in errors), lines)
        self.assert_no_secret(lines, self.sandbox.secret, code)

    def test_an_exception_in_trace_is_reported_and_the_call_goes_on(self) -> None:
        reported: list[BaseException | None] = []
        hook = sys.unraisablehook
        sys.unraisablehook = lambda args: reported.append(args.exc_value)
        self.addCleanup(setattr, sys, "unraisablehook", hook)

        def broken(event: Any, line: str) -> None:
            raise RuntimeError("broken trace function")

        client = self.new_client(trace=broken)
        token = client.exchange_code(self.code(client))
        self.assertEqual(client.account_id(token), ACCOUNT_ID)
        self.assertTrue(reported)
        self.assertTrue(all(isinstance(e, RuntimeError) for e in reported), reported)

    def test_trace_must_be_callable(self) -> None:
        with self.assertRaises(la.InvalidArgument):
            self.sandbox.client(trace="not a function")


class ExceptionMappingTest(SandboxTestCase):
    def test_callback_with_another_state_is_state_mismatch(self) -> None:
        client = self.new_client()
        state = la.new_state()
        location = self.sandbox.authorize(client.consent_url(self.sandbox.redirect, ["orders"], state))
        with self.assertRaises(la.StateMismatch) as cm:
            client.parse_callback(location, la.new_state())
        self.assertEqual(cm.exception.status, la.Status.STATE_MISMATCH)
        for lost in (None, ""):
            with self.assertRaises(la.StateMismatch):
                client.parse_callback(location, lost)
        # Without a state check the code comes out (the flow sent one, though).
        self.assertEqual(len(client.parse_callback_without_state(location)), 43)

    def test_used_code_is_invalid_code_and_was_sent(self) -> None:
        client = self.new_client()
        code = self.code(client)
        client.exchange_code(code)
        with self.assertRaises(la.InvalidCode) as cm:
            client.exchange_code(code)
        e = cm.exception
        self.assertEqual((e.status, e.http_status, e.key), (la.Status.INVALID_CODE, 400, "invalid_grant"))
        self.assertIs(e.code_sent, la.CodeSent.SENT)
        self.assertTrue(e.code_may_be_spent)
        self.assertNotIn(code, str(e))
        self.assertNotIn(code, repr(e))

    def test_wrong_secret_is_invalid_client(self) -> None:
        client = self.new_client(client_secret="wrong-secret")
        with self.assertRaises(la.InvalidClient) as cm:
            client.exchange_code("a" * 43)
        self.assertEqual(cm.exception.http_status, 401)
        self.assertEqual(cm.exception.key, "invalid_client")
        self.assertNotIn("wrong-secret", str(cm.exception))

    def test_revoked_token_is_unauthorized_with_the_body(self) -> None:
        client = self.new_client()
        token = client.exchange_code(self.code(client))
        self.sandbox.revoke(token.value)
        with self.assertRaises(la.Unauthorized) as cm:
            client.account_id(token)
        self.assertEqual(cm.exception.http_status, 401)
        with self.assertRaises(la.Unauthorized) as cm:
            client.graphql(token, "query { account { id } }")
        self.assertIn(b"UnauthorizedError", cm.exception.body)
        self.assertIsNone(cm.exception.code_sent)

    def test_graphql_errors_are_api_error_with_the_response(self) -> None:
        client = self.new_client()
        token = client.exchange_code(self.code(client))
        with self.assertRaises(la.ApiError) as cm:
            client.graphql(token, "query { orders { id } }")
        e = cm.exception
        self.assertEqual(e.key, "unsupported_query")
        self.assertEqual(e.http_status, 200)
        self.assertEqual(e.response["errors"][0]["key"], "unsupported_query")

    def test_untrusted_certificate_is_tls_error_and_not_sent(self) -> None:
        client = self.new_client(ca_file=None)  # the system store does not know the sandbox CA
        with self.assertRaises(la.TlsError) as cm:
            client.exchange_code("a" * 43)
        self.assertIs(cm.exception.code_sent, la.CodeSent.NOT_SENT)
        self.assertFalse(cm.exception.code_may_be_spent)


class AccessDeniedTest(SandboxTestCase):
    auto_approve = False  # the consent page, so the merchant can click Deny

    def test_merchant_declines_is_access_denied(self) -> None:
        client = self.new_client()
        state = la.new_state()
        location = self.sandbox.deny(client.consent_url(self.sandbox.redirect, ["orders"], state))
        with self.assertRaises(la.AccessDenied) as cm:
            client.parse_callback(location, state)
        self.assertEqual(cm.exception.key, "access_denied")
        self.assertIn("declined", cm.exception.message)
        # A forged callback is refused for its state before its error is read.
        with self.assertRaises(la.StateMismatch):
            client.parse_callback(location, la.new_state())


def _client(**kw: Any) -> la.Client:
    base: dict[str, Any] = dict(client_id="id", client_secret="secret", redirect_uris=["http://127.0.0.1/cb"])
    base.update(kw)
    return la.Client(**base)


class NetworkFailureTest(unittest.TestCase):
    def test_refused_connection_is_network_error_and_code_not_sent(self) -> None:
        url = refused_url()
        with _client(token_url=url + "/oauth/access_token", api_url=url + "/api/v2") as client:
            with self.assertRaises(la.NetworkError) as cm:
                client.exchange_code("some-code")
            self.assertIs(cm.exception.code_sent, la.CodeSent.NOT_SENT)
            self.assertFalse(cm.exception.code_may_be_spent)
            self.assertEqual(cm.exception.http_status, 0)
            with self.assertRaises(la.NetworkError) as cm:
                client.account_id("tok")
            self.assertIsNone(cm.exception.code_sent)
            self.assertIsNone(cm.exception.body)

    def _stub_error(self, status: int, body: bytes, headers: dict[str, str] | None = None, **kw: Any) -> la.LightfunnelsAuthError:
        stub = Stub(status, body, headers)
        self.addCleanup(stub.close)
        with _client(token_url=stub.url + "/oauth/access_token", **kw) as client:
            with self.assertRaises(la.LightfunnelsAuthError) as cm:
                client.exchange_code("some-code")
        self.assertEqual(stub.requests, 1)
        return cm.exception

    def test_statuses_from_the_token_endpoint(self) -> None:
        e = self._stub_error(429, b'{"error":"slow_down"}', {"Retry-After": "7"})
        self.assertIsInstance(e, la.RateLimited)
        self.assertEqual((e.http_status, e.retry_after), (429, 7))
        self.assertIs(e.code_sent, la.CodeSent.SENT)

        e = self._stub_error(500, b'{"error":"server_error"}')
        self.assertIsInstance(e, la.HttpError)
        self.assertEqual(e.http_status, 500)

        e = self._stub_error(200, b"<html>not json</html>")
        self.assertIsInstance(e, la.ProtocolError)

        e = self._stub_error(200, b'{"access_token":"' + b"x" * 2000 + b'"}', max_response_bytes=1000)
        self.assertIsInstance(e, la.ResponseTooLarge)

    def test_a_graphql_answer_that_is_not_an_object_is_protocol_error(self) -> None:
        stub = Stub(200, b"[1,2]")
        self.addCleanup(stub.close)
        with _client(api_url=stub.url + "/api/v2") as client:
            with self.assertRaises(la.ProtocolError) as cm:
                client.graphql("tok", "query { account { id } }")
        self.assertEqual(cm.exception.body, b"[1,2]")


class CancellationTest(unittest.TestCase):
    def setUp(self) -> None:
        self.listener = StalledListener()
        self.addCleanup(self.listener.close)
        # Only the per-call timeout or a cancel can end these calls in time.
        self.client = _client(
            token_url=self.listener.url + "/oauth/access_token",
            api_url=self.listener.url + "/api/v2",
            timeout=20,
            stall_timeout=20,
        )
        self.addCleanup(self.client.close)

    def _cancel_once_accepted(self, set_flag: Any) -> threading.Thread:
        def run() -> None:
            if self.listener.accepted.wait(20):
                time.sleep(0.1)
            set_flag()  # bounded even if the listener is never reached

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.addCleanup(t.join, 25)
        return t

    def _assert_cancelled(self, call: Any) -> la.LightfunnelsAuthError:
        start = time.monotonic()
        with self.assertRaises(la.Cancelled) as cm:
            call()
        self.assertLess(time.monotonic() - start, 5)
        self.assertTrue(self.listener.accepted.is_set(), "the request never reached the listener")
        return cm.exception

    def test_cancel_object_aborts_a_stalled_exchange(self) -> None:
        cancel = la.Cancel()
        self._cancel_once_accepted(cancel.set)
        e = self._assert_cancelled(lambda: self.client.exchange_code("some-code", cancel=cancel))
        self.assertIs(e.code_sent, la.CodeSent.MAYBE_SENT)  # the request went out
        self.assertTrue(e.code_may_be_spent)

    def test_threading_event_aborts_a_stalled_graphql(self) -> None:
        event = threading.Event()
        self._cancel_once_accepted(event.set)
        self._assert_cancelled(lambda: self.client.graphql("tok", "query { account { id } }", cancel=event))

    def test_ctypes_int_aborts_a_stalled_account_id(self) -> None:
        import ctypes

        flag = ctypes.c_int(0)
        self._cancel_once_accepted(lambda: setattr(flag, "value", 1))
        self._assert_cancelled(lambda: self.client.account_id("tok", cancel=flag))

    def test_a_cancel_set_before_the_call_sends_nothing(self) -> None:
        cancel = la.Cancel()
        cancel.set()
        with self.assertRaises(la.Cancelled) as cm:
            self.client.exchange_code("some-code", cancel=cancel)
        self.assertIs(cm.exception.code_sent, la.CodeSent.NOT_SENT)

    def test_call_timeout_bounds_a_stalled_call(self) -> None:
        start = time.monotonic()
        with self.assertRaises(la.Timeout) as cm:
            self.client.exchange_code("some-code", timeout=0.3)
        self.assertLess(time.monotonic() - start, 5)
        self.assertIs(cm.exception.code_sent, la.CodeSent.MAYBE_SENT)

    def test_close_waits_for_a_call_in_flight(self) -> None:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                self.client.exchange_code("some-code", timeout=1.5)
            except BaseException as e:  # noqa: BLE001 - handed to the test thread
                errors.append(e)

        start = time.monotonic()
        t = threading.Thread(target=call)
        t.start()
        self.assertTrue(self.listener.accepted.wait(20), "the exchange never reached the listener")
        self.client.close()  # must not free the handle under the running call
        elapsed = time.monotonic() - start
        t.join(10)
        self.assertGreater(elapsed, 1.2)
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], la.Timeout)
        with self.assertRaises(la.ClientClosed) as cm:
            self.client.exchange_code("some-code")
        self.assertIs(cm.exception.code_sent, la.CodeSent.NOT_SENT)


if __name__ == "__main__":
    unittest.main()
