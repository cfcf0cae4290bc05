"""The Flask example driven by Flask's test client against lf-sandbox over
HTTPS; webhooks come from the sandbox itself to the app on a loopback port."""

from __future__ import annotations

import json
import threading
import unittest
import urllib.parse
from typing import Any

from werkzeug.serving import make_server

from examples.flask_app import TokenStore, create_app
from tests.support import ACCOUNT_ID, SandboxTestCase

APP = "https://app.example.test"


class FlaskAppTest(SandboxTestCase):
    def setUp(self) -> None:
        self.client = self.new_client()
        self.store = TokenStore()
        self.events: list[tuple[str, Any]] = []
        self.app = create_app(
            self.client,
            self.sandbox.redirect,
            secret_key=b"test-only-session-key",
            scopes=["orders", "products"],
            store=self.store,
            on_event=lambda topic, event: self.events.append((topic, event)),
        )
        self.browser = self.app.test_client()

    def install(self) -> str:
        """GET /install; returns the consent URL it redirected to."""
        resp = self.browser.get("/install", base_url=APP)
        self.assertEqual(resp.status_code, 302)
        return resp.headers["Location"]

    def callback(self, location: str) -> Any:
        """Follows the sandbox's redirect back to the app's /callback."""
        self.assertTrue(location.startswith(self.sandbox.redirect + "?"), location)
        query = urllib.parse.urlsplit(location).query
        return self.browser.get("/callback?" + query, base_url=APP)

    def test_install_callback_stores_the_token_under_the_account(self) -> None:
        consent = self.install()
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(consent).query)
        with self.browser.session_transaction(base_url=APP) as sess:
            self.assertEqual(q["state"], [sess["lf_state"]])
        self.assertEqual(q["scope"], ["orders,products"])

        location = self.sandbox.authorize(consent)
        with self.assertLogs("lightfunnels-app", "INFO") as logs:
            resp = self.callback(location)
        self.assertEqual((resp.status_code, resp.get_data(as_text=True)), (200, "installed"))
        token = self.store.get(ACCOUNT_ID)
        self.assertIsNotNone(token)
        self.assertEqual(self.client.account_id(token), ACCOUNT_ID)
        self.assertIn("Token(REDACTED)", logs.output[0])
        self.assertNotIn(token, "".join(logs.output))

        # The state was single-use: the same callback again is refused.
        self.assertEqual(self.callback(location).status_code, 400)

    def test_callback_without_the_session_state_is_refused(self) -> None:
        location = self.sandbox.authorize(self.install())
        stranger = self.app.test_client()  # another browser: no state in its session
        query = urllib.parse.urlsplit(location).query
        self.assertEqual(stranger.get("/callback?" + query, base_url=APP).status_code, 400)
        # Our browser still has its state; a forged state in the URL is refused too.
        forged = query.replace("state=", "state=x", 1)
        self.assertEqual(self.browser.get("/callback?" + forged, base_url=APP).status_code, 400)
        self.assertIsNone(self.store.get(ACCOUNT_ID))

    def test_declined_install_is_403(self) -> None:
        consent = self.install()
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(consent).query)["state"][0]
        query = urllib.parse.urlencode({"error": "access_denied", "error_description": "declined", "state": state})
        resp = self.browser.get("/callback?" + query, base_url=APP)
        self.assertEqual((resp.status_code, resp.get_data(as_text=True)), (403, "installation declined"))

    def test_a_used_code_is_502_and_nothing_is_stored(self) -> None:
        location = self.sandbox.authorize(self.install())
        code = self.client.parse_callback_without_state(location)
        self.client.exchange_code(code)  # spent behind the app's back
        with self.assertLogs("lightfunnels-app", "WARNING") as logs:
            self.assertEqual(self.callback(location).status_code, 502)
        self.assertIn("LF_E_INVALID_CODE", logs.output[0])
        self.assertNotIn(code, "".join(logs.output))
        self.assertIsNone(self.store.get(ACCOUNT_ID))

    def test_webhook_from_the_sandbox_verifies_over_the_raw_body(self) -> None:
        server = make_server("127.0.0.1", 0, self.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            status = self.sandbox.deliver_webhook(f"http://127.0.0.1:{server.server_port}/webhooks")
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
        self.assertEqual(status, 204)
        self.assertEqual(len(self.events), 1)
        topic, event = self.events[0]
        self.assertEqual(topic, "order/confirmed")
        self.assertEqual(event["node"]["name"], "#1001")

    def test_webhook_signature_checks(self) -> None:
        body = json.dumps({"id": "evt_1", "name": "#1001", "note": "caf\u00e9"}, ensure_ascii=False).encode()
        sig = self.client.webhook_sign(body)

        def post(data: bytes, headers: dict[str, str]) -> int:
            resp = self.browser.post("/webhooks", data=data, headers=headers, content_type="application/json")
            return resp.status_code

        self.assertEqual(post(body, {}), 401)
        self.assertEqual(post(body, {"lightfunnels-hmac": "garbage"}), 401)
        reserialised = json.dumps(json.loads(body)).encode()  # same JSON, other bytes
        self.assertEqual(post(reserialised, {"lightfunnels-hmac": sig}), 401)
        self.assertEqual(self.events, [])
        self.assertEqual(post(body, {"lightfunnels-hmac": sig}), 204)
        self.assertEqual(post(body, {"lightfunnels-hmac": sig}), 204)  # a replay: acknowledged, not handled
        self.assertEqual(len(self.events), 1)


if __name__ == "__main__":
    unittest.main()
