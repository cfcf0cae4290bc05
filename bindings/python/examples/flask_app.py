"""A Lightfunnels app in Flask, on lightfunnels_auth, built to run where the
platform runs apps: inside the Lightfunnels admin, in an iframe. A cookie set
there is third-party, so nothing between consent and callback depends on one.

  /install    sends the merchant to the consent screen with a sealed state
              (signed with a key derived from the client secret, expiring):
              any process of the app checks it, no session, no cookie;
  /callback   opens the state, exchanges the code, asks which account the
              token belongs to, stores the token under that account and
              registers the webhooks with the createWebhook mutation, the
              event type in each URL (the platform sends no topic header);
  /webhooks   accepts only events whose lightfunnels-hmac header signs the
              RAW request body; events are {"node": {...}}; each is handled
              once; app/uninstalled ({"node": {"id": "<account id>"}})
              deletes that account's token.

Every answer carries Content-Security-Policy: frame-ancestors <admin origin>:
only the admin may frame the app.

Run it (the secret comes from the environment, never the command line):

  LF_CLIENT_ID=... LF_CLIENT_SECRET=... LF_REDIRECT_URI=https://myapp.example.com/callback \\
  python3 flask_app.py

LF_PUBLIC_URL (where the platform reaches the app; default: the origin of
LF_REDIRECT_URI) and LF_ADMIN_ORIGIN (default https://app.lightfunnels.com)
are optional. Against lf-sandbox, also set LF_AUTHORIZE_URL, LF_TOKEN_URL,
LF_API_URL and LF_CA_FILE, and LF_ADMIN_ORIGIN to the sandbox's URL (see
docs/SANDBOX.md). examples/test_flask_app.py drives it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import urllib.parse
from typing import Any, Callable, Iterable, NamedTuple

from flask import Flask, Response, redirect, request

import lightfunnels_auth as la

log = logging.getLogger("lightfunnels-app")

DEFAULT_ADMIN_ORIGIN = "https://app.lightfunnels.com"
STATE_MAX_AGE = 600  # seconds between /install and /callback
MAX_WEBHOOK_BYTES = 1 << 20

# The events the app registers after an install; app/uninstalled is the
# platform's uninstall signal.
WEBHOOK_TYPES = ("order/created", "app/uninstalled")

# The documented mutation; the node travels in variables, never spliced into
# the query text.
CREATE_WEBHOOK = """mutation CreateWebhookMutation($node: WebhookInput!) {
  createWebhook(node: $node) { id type url settings }
}"""


class Event(NamedTuple):
    """A verified event. `type` comes from the URL the app registered; `key`
    identifies it (see SeenEvents); `body` is the raw bytes that were verified."""

    type: str
    account: str
    node: dict[str, Any]
    body: bytes
    key: str


class TokenStore:
    """account id -> access token and the webhooks registered for it. Use a
    database in a real app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        self._webhooks: dict[str, dict[str, str]] = {}

    def put(self, account_id: str, token: la.Token) -> None:
        with self._lock:
            self._tokens[account_id] = token.value

    def get(self, account_id: str) -> str | None:
        with self._lock:
            return self._tokens.get(account_id)

    def delete(self, account_id: str) -> None:
        """Forgets the account: its token and its webhooks."""
        with self._lock:
            self._tokens.pop(account_id, None)
            self._webhooks.pop(account_id, None)

    def has_webhook(self, account_id: str, event_type: str) -> bool:
        with self._lock:
            return event_type in self._webhooks.get(account_id, {})

    def put_webhook(self, account_id: str, event_type: str, webhook_id: str) -> None:
        with self._lock:
            self._webhooks.setdefault(account_id, {})[event_type] = webhook_id


class SeenEvents:
    """Events already handled. The signature has no timestamp, so a replayed
    event still verifies, and the payloads carry no event id: an event is known
    by the SHA-256 of its type and raw body, as examples/app does (a
    redelivery has the same bytes). Bounded."""

    def __init__(self, limit: int = 10000) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, None] = {}
        self._limit = limit

    @staticmethod
    def key(event_type: str, body: bytes) -> str:
        return hashlib.sha256(event_type.encode() + b"\n" + body).hexdigest()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            if len(self._seen) > self._limit:
                self._seen.pop(next(iter(self._seen)))
            return True


def create_app(
    client: la.Client,
    redirect_uri: str,
    *,
    public_url: str | None = None,
    admin_origin: str = DEFAULT_ADMIN_ORIGIN,
    scopes: Iterable[str] = ("orders",),
    store: TokenStore | None = None,
    on_event: Callable[[Event], None] | None = None,
    state_max_age: int = STATE_MAX_AGE,
) -> Flask:
    """The app. `client` is shared by every request (it is thread-safe).
    `public_url` is where the platform reaches the app (webhook URLs), by
    default the origin of `redirect_uri`; `admin_origin` is the only origin
    allowed to frame it."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_WEBHOOK_BYTES
    app.extensions["lightfunnels_tokens"] = store = store if store is not None else TokenStore()
    seen = SeenEvents()
    scopes = list(scopes)
    if public_url is None:
        parts = urllib.parse.urlsplit(redirect_uri)
        public_url = f"{parts.scheme}://{parts.netloc}"
    public_url = public_url.rstrip("/")

    @app.after_request
    def embedded_headers(resp: Response) -> Response:
        # Only the admin may frame the app; a callback URL holds a code, so
        # nothing is cached or sent on as a Referer.
        resp.headers["Content-Security-Policy"] = f"frame-ancestors {admin_origin}"
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    @app.get("/")
    def home() -> str:
        # The admin frames /?account_id=..&iframe=true: that id is unsigned,
        # so it never selects anyone's data.
        return '<p><a href="/install">Install on your Lightfunnels account</a></p>\n'

    @app.get("/install")
    def install() -> Response:
        # Unbound (None): before the install there is no browser session to
        # bind the state to, and the install is keyed by the account the
        # token belongs to, never by the browser. An app with a login of its
        # own passes its session id instead.
        state = client.seal_state(None)
        return redirect(client.consent_url(redirect_uri, scopes, state), code=302)

    @app.get("/callback")
    def callback() -> tuple[str, int]:
        try:
            query = request.query_string.decode("ascii")
            code = client.parse_callback_sealed(query, None, state_max_age)
        except la.AccessDenied:
            return "installation declined", 403
        except la.StateExpired:
            return "this installation took too long: please install again", 400
        except (la.LightfunnelsAuthError, UnicodeDecodeError):  # StateMismatch, malformed callback
            return "please install again", 400

        try:
            token = exchange(code)
            account = client.account_id(token, timeout=30)
            store.put(account, token)
            for event_type in WEBHOOK_TYPES:
                register_webhook(token, account, event_type)
        except la.InvalidCode as e:  # used (a replayed callback), expired or unknown
            log.warning("install failed: %s", e)
            return "this link was already used or has expired: please install again", 400
        except la.LightfunnelsAuthError as e:
            log.warning("install failed: %s", e)  # errors never contain secrets, codes or tokens
            return "please install again", 502
        log.info("installed for %s with %s", account, token)  # prints Token(REDACTED)
        return "installed", 200

    def exchange(code: str) -> la.Token:
        try:
            return client.exchange_code(code, timeout=30)
        except la.LightfunnelsAuthError as e:
            if e.code_may_be_spent:
                raise
            # It never left this process (e.g. a refused connection): the
            # same code is still good, once more.
            return client.exchange_code(code, timeout=30)

    def register_webhook(token: la.Token, account: str, event_type: str) -> None:
        # A re-install keeps the webhooks it has: one per type, or every
        # event would arrive twice.
        if store.has_webhook(account, event_type):
            return
        # The type (and the account) ride in the URL: the platform sends no
        # topic header.
        url = public_url + "/webhooks?" + urllib.parse.urlencode({"type": event_type, "account": account})
        node = {"type": event_type, "url": url, "settings": {}}
        answer = client.graphql(token, CREATE_WEBHOOK, {"node": node}, timeout=30)
        webhook_id = ((answer.get("data") or {}).get("createWebhook") or {}).get("id")
        if not webhook_id:
            raise la.ProtocolError(la.Status.PROTOCOL, message="createWebhook answered no id")
        store.put_webhook(account, event_type, str(webhook_id))

    @app.post("/webhooks")
    def webhooks() -> tuple[str, int]:
        body = request.get_data()  # the raw bytes: never a re-serialisation
        if not client.webhook_verify(body, request.headers.get("lightfunnels-hmac")):
            return "bad signature", 401
        try:
            node = json.loads(body)["node"]
        except (ValueError, TypeError, KeyError):
            node = None
        if not isinstance(node, dict):
            return 'not a {"node": {...}} event', 400
        event_type = request.args.get("type", "")
        if event_type == "app/uninstalled":
            # The account named in the signed body, not the one in the URL.
            account = node.get("id")
            if not isinstance(account, str) or not account:
                return "app/uninstalled without node.id", 400
            store.delete(account)
            log.info("app/uninstalled: account %s removed", account)
            return "", 204
        if event_type not in WEBHOOK_TYPES:
            return "", 204  # not subscribed: acknowledged, ignored
        account = node.get("account_id")
        if not isinstance(account, str) or not account:
            account = request.args.get("account", "")
        if store.get(account) is None:
            return "", 204  # not installed (any more): ignored
        key = SeenEvents.key(event_type, body)
        if not seen.first_time(key):
            return "", 204  # already handled
        if on_event is not None:
            # Answer at once: a real app hands slow work to a queue.
            on_event(Event(event_type, account, node, body, key))
        return "", 204

    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    redirect_uri = os.environ["LF_REDIRECT_URI"]
    env = os.environ.get
    client = la.Client(
        client_id=os.environ["LF_CLIENT_ID"],
        client_secret=os.environ["LF_CLIENT_SECRET"],
        redirect_uris=[redirect_uri],
        authorize_url=env("LF_AUTHORIZE_URL"),
        token_url=env("LF_TOKEN_URL"),
        api_url=env("LF_API_URL"),
        ca_file=env("LF_CA_FILE"),
    )
    app = create_app(
        client,
        redirect_uri,
        public_url=env("LF_PUBLIC_URL"),
        admin_origin=env("LF_ADMIN_ORIGIN") or DEFAULT_ADMIN_ORIGIN,
        scopes=["orders", "products"],
    )
    try:
        app.run(host="127.0.0.1", port=int(env("PORT", "8080")))
    finally:
        client.close()


if __name__ == "__main__":
    main()
