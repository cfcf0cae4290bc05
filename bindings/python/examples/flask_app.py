"""A Lightfunnels app in Flask, on lightfunnels_auth.

  /install    sends the merchant to the consent screen, with a fresh state kept
              in the (signed, HttpOnly) session cookie;
  /callback   checks the state, exchanges the code, asks which account the
              token belongs to and stores the token under that account;
  /webhooks   accepts only webhooks whose lightfunnels-hmac header signs the
              RAW request body, and handles each event once.

Run it (the secret comes from the environment, never the command line):

  LF_CLIENT_ID=... LF_CLIENT_SECRET=... LF_REDIRECT_URI=https://myapp.example.com/callback \\
  FLASK_SECRET_KEY=... python3 flask_app.py

Against lf-sandbox, also set LF_AUTHORIZE_URL, LF_TOKEN_URL, LF_API_URL and
LF_CA_FILE (see docs/SANDBOX.md). examples/test_flask_app.py drives it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Callable, Iterable

from flask import Flask, Response, redirect, request, session

import lightfunnels_auth as la

log = logging.getLogger("lightfunnels-app")


class TokenStore:
    """account id -> access token. Use a database in a real app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}

    def put(self, account_id: str, token: la.Token) -> None:
        with self._lock:
            self._tokens[account_id] = token.value

    def get(self, account_id: str) -> str | None:
        with self._lock:
            return self._tokens.get(account_id)


class SeenEvents:
    """Webhook ids already handled: the signature has no timestamp, so a
    replayed webhook still verifies and must be recognised. Bounded."""

    def __init__(self, limit: int = 10000) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, None] = {}
        self._limit = limit

    def first_time(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = None
            if len(self._seen) > self._limit:
                self._seen.pop(next(iter(self._seen)))
            return True


def create_app(
    client: la.Client,
    redirect_uri: str,
    *,
    secret_key: bytes,
    scopes: Iterable[str] = ("orders",),
    store: TokenStore | None = None,
    on_event: Callable[[str, Any], None] | None = None,
) -> Flask:
    """The app. `client` is shared by every request (it is thread-safe)."""
    app = Flask(__name__)
    app.secret_key = secret_key
    # The callback is a top-level GET from Lightfunnels: Lax cookies arrive.
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.extensions["lightfunnels_tokens"] = store = store if store is not None else TokenStore()
    seen = SeenEvents()
    scopes = list(scopes)

    @app.get("/install")
    def install() -> Response:
        state = la.new_state()
        session["lf_state"] = state
        return redirect(client.consent_url(redirect_uri, scopes, state), code=302)

    @app.get("/callback")
    def callback() -> tuple[str, int]:
        # One state, one callback: a replayed or forged callback finds none.
        state = session.pop("lf_state", None)
        try:
            query = request.query_string.decode("ascii")
            code = client.parse_callback(query, state)
        except la.AccessDenied:
            return "installation declined", 403
        except (la.LightfunnelsAuthError, UnicodeDecodeError):  # StateMismatch, malformed callback
            return "please install again", 400

        try:
            token = exchange(code)
            account = client.account_id(token, timeout=30)
        except la.LightfunnelsAuthError as e:
            log.warning("install failed: %s", e)  # errors never contain secrets, codes or tokens
            return "please install again", 502
        store.put(account, token)
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

    @app.post("/webhooks")
    def webhooks() -> tuple[str, int]:
        body = request.get_data()  # the raw bytes: never a re-serialisation
        if not client.webhook_verify(body, request.headers.get("lightfunnels-hmac")):
            return "bad signature", 401
        try:
            event = json.loads(body)
        except ValueError:
            return "not JSON", 400
        event_id = str(event.get("id", "")) if isinstance(event, dict) else ""
        if event_id and not seen.first_time(event_id):
            return "", 204  # already handled
        if on_event is not None:
            on_event(request.headers.get("lightfunnels-topic", ""), event)
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
    secret_key = env("FLASK_SECRET_KEY", "").encode() or os.urandom(32)  # random: sessions end on restart
    app = create_app(client, redirect_uri, secret_key=secret_key, scopes=["orders", "products"])
    try:
        app.run(host="127.0.0.1", port=int(env("PORT", "8080")))
    finally:
        client.close()


if __name__ == "__main__":
    main()
