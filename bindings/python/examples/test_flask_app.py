"""The Flask example against lf-sandbox over HTTPS, as it runs on the platform:
inside the admin iframe, where the merchant's browser keeps none of the app's
cookies (Flask's test client with use_cookies=False). The app also listens on
a loopback port, where the sandbox delivers the webhooks it registered."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import unittest
import urllib.parse
from typing import Any

from werkzeug.serving import make_server

import lightfunnels_auth as la
from examples.flask_app import Event, TokenStore, create_app
from tests.support import ACCOUNT_ID, SandboxTestCase

APP = "https://app.example.test"
ADMIN = "https://admin.example.test"


class FlaskAppTest(SandboxTestCase):
    def setUp(self) -> None:
        self.client = self.new_client()
        self.store = TokenStore()
        self.events: list[Event] = []
        self.app: Any = None
        # The app's own loopback listener: webhook URLs point here.
        server = make_server("127.0.0.1", 0, lambda env, start: self.app(env, start), threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

        self.addCleanup(stop)
        self.public_url = f"http://127.0.0.1:{server.server_port}"
        self.addCleanup(self.uninstall_quietly)  # runs first: the next test starts with no install
        self.make_app()

    def make_app(self, **options: Any) -> None:
        self.app = create_app(
            self.client,
            self.sandbox.redirect,
            public_url=self.public_url,
            admin_origin=ADMIN,
            scopes=["orders", "products"],
            store=self.store,
            on_event=self.events.append,
            **options,
        )
        self.browser = self.app.test_client(use_cookies=False)

    def uninstall_quietly(self) -> None:
        status, _ = self.sandbox.post_json("/_sandbox/uninstall", {"client_id": self.sandbox.client_id})
        self.assertIn(status, (200, 404))

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

    def installed(self) -> str:
        """A whole install; returns the stored token."""
        resp = self.callback(self.sandbox.authorize(self.install()))
        self.assertEqual((resp.status_code, resp.get_data(as_text=True)), (200, "installed"))
        token = self.store.get(ACCOUNT_ID)
        assert token is not None
        return token

    def webhooks(self, token: str) -> dict[str, str]:
        answer = self.client.graphql(token, "query { webhooks { type url } }")
        return {w["type"]: w["url"] for w in answer["data"]["webhooks"]}

    def control(self, path: str, doc: dict[str, str]) -> list[dict[str, Any]]:
        status, out = self.sandbox.post_json(path, doc)
        self.assertEqual(status, 200, out)
        return out["deliveries"]

    def test_install_in_the_iframe_needs_no_cookie(self) -> None:
        resp = self.browser.get("/install", base_url=APP)
        self.assertEqual(resp.status_code, 302)
        self.assertNotIn("Set-Cookie", resp.headers)  # it would be third-party in the admin iframe
        self.assertIn(f"frame-ancestors {ADMIN}", resp.headers["Content-Security-Policy"])
        consent = resp.headers["Location"]
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(consent).query)
        self.client.open_state(q["state"][0], None, 600)  # sealed by this client
        self.assertEqual(q["scope"], ["orders,products"])

        location = self.sandbox.authorize(consent)
        with self.assertLogs("lightfunnels-app", "INFO") as logs:
            resp = self.callback(location)
        self.assertEqual((resp.status_code, resp.get_data(as_text=True)), (200, "installed"))
        self.assertNotIn("Set-Cookie", resp.headers)
        self.assertIn(f"frame-ancestors {ADMIN}", resp.headers["Content-Security-Policy"])
        token = self.store.get(ACCOUNT_ID)
        self.assertIsNotNone(token)
        assert token is not None
        self.assertEqual(self.client.account_id(token), ACCOUNT_ID)
        self.assertTrue(any("Token(REDACTED)" in line for line in logs.output), logs.output)
        self.assertNotIn(token, "".join(logs.output))

        # createWebhook registered both types, the type in each URL (the
        # platform sends no topic header).
        hooks = self.webhooks(token)
        for kind in ("order/created", "app/uninstalled"):
            self.assertIn(kind, hooks)
            url = urllib.parse.urlsplit(hooks[kind])
            self.assertEqual(f"{url.scheme}://{url.netloc}{url.path}", self.public_url + "/webhooks")
            self.assertEqual(urllib.parse.parse_qs(url.query)["type"], [kind])

        # The code is spent: the same callback again is refused.
        self.assertEqual(self.callback(location).status_code, 400)
        # A re-install keeps one webhook per type (a duplicate would be refused).
        self.assertEqual(len(self.webhooks(self.installed())), 2)

    def test_forged_and_declined_callbacks_are_refused(self) -> None:
        location = self.sandbox.authorize(self.install())
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        code, state = query["code"][0], query["state"][0]
        mid = len(state) // 2
        altered = state[:mid] + ("B" if state[mid] == "A" else "A") + state[mid + 1 :]
        for forged in (altered, la.new_state()):
            forged_query = urllib.parse.urlencode({"code": code, "state": forged})
            self.assertEqual(self.browser.get("/callback?" + forged_query, base_url=APP).status_code, 400, forged)
        declined = urllib.parse.urlencode({"error": "access_denied", "error_description": "declined", "state": state})
        resp = self.browser.get("/callback?" + declined, base_url=APP)
        self.assertEqual((resp.status_code, resp.get_data(as_text=True)), (403, "installation declined"))
        self.assertIsNone(self.store.get(ACCOUNT_ID))

    def test_an_expired_state_is_refused(self) -> None:
        self.make_app(state_max_age=1)
        location = self.sandbox.authorize(self.install())
        time.sleep(2.1)  # the library counts whole seconds
        resp = self.callback(location)
        self.assertEqual(resp.status_code, 400)
        self.assertIn("took too long", resp.get_data(as_text=True))
        self.assertIsNone(self.store.get(ACCOUNT_ID))

    def test_a_used_code_is_400_and_nothing_is_stored(self) -> None:
        location = self.sandbox.authorize(self.install())
        code = self.client.parse_callback_without_state(location)
        self.client.exchange_code(code)  # spent behind the app's back
        with self.assertLogs("lightfunnels-app", "WARNING") as logs:
            self.assertEqual(self.callback(location).status_code, 400)
        self.assertIn("LF_E_INVALID_CODE", logs.output[0])
        self.assertNotIn(code, "".join(logs.output))
        self.assertIsNone(self.store.get(ACCOUNT_ID))

    def test_order_event_then_uninstall(self) -> None:
        token = self.installed()

        # The sandbox sends a signed {"node": {...}} order to the URL the app registered.
        deliveries = self.control("/_sandbox/event", {"account_id": ACCOUNT_ID, "type": "order/created"})
        self.assertEqual([(d["delivered"], d["status"]) for d in deliveries], [(True, 204)], deliveries)
        self.assertEqual(len(self.events), 1)
        event = self.events[0]
        self.assertEqual((event.type, event.account), ("order/created", ACCOUNT_ID))
        self.assertTrue(event.body.startswith(b'{"node":{'))
        self.assertEqual(event.node["account_id"], ACCOUNT_ID)
        self.assertEqual(event.key, hashlib.sha256(b"order/created\n" + event.body).hexdigest())

        url = urllib.parse.urlsplit(deliveries[0]["url"])
        target = url.path + "?" + url.query
        sig = self.client.webhook_sign(event.body)

        def post(data: bytes, headers: dict[str, str], path: str = target) -> int:
            return self.browser.post(path, data=data, headers=headers, content_type="application/json").status_code

        # The same delivery again: acknowledged, handled once.
        self.assertEqual(post(event.body, {"lightfunnels-hmac": sig}), 204)
        # Tampered with, re-serialised (same JSON, other bytes), unsigned: refused.
        tampered = event.body.replace(b'"node":{', b'"node":{ ', 1)
        reserialised = json.dumps(json.loads(event.body)).encode()
        for body in (tampered, reserialised):
            self.assertNotEqual(body, event.body)
            self.assertEqual(post(body, {"lightfunnels-hmac": sig}), 401)
        self.assertEqual(post(event.body, {}), 401)
        # Signed but not an event: a flat body is refused.
        flat = b'{"id":"order_1"}'
        self.assertEqual(post(flat, {"lightfunnels-hmac": self.client.webhook_sign(flat)}), 400)
        self.assertEqual(len(self.events), 1)

        # The uninstall signal: app/uninstalled, {"node":{"id":"<account id>"}}.
        deliveries = self.control("/_sandbox/uninstall", {"client_id": self.sandbox.client_id})
        self.assertEqual([(d["delivered"], d["status"]) for d in deliveries], [(True, 204)], deliveries)
        self.assertIsNone(self.store.get(ACCOUNT_ID))
        with self.assertRaises(la.Unauthorized):
            self.client.account_id(token)
        # Installed again: a fresh registry, so both webhooks are registered anew.
        self.assertEqual(len(self.webhooks(self.installed())), 2)


if __name__ == "__main__":
    unittest.main()
