"""Test support: lf-sandbox over HTTPS (docs/SANDBOX.md), a listener that
accepts and never answers, and a one-answer HTTP stub. Every wait is bounded.

The sandbox binary is $LF_SANDBOX (ctest sets it). A missing one FAILS the
tests that need it: a skipped integration test proves nothing.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
from typing import Any

import lightfunnels_auth as la

READY_TIMEOUT = 30.0  # seconds for the ready line: the CI machine is small and shared
HTTP_TIMEOUT = 30.0

CLIENT_ID = "python-binding-app"
SECRET = "py:secret=/with!odd+chars"
REDIRECT = "https://app.example.test/lightfunnels/callback"
ACCOUNT_ID = "acct_python_binding"


def sandbox_binary() -> str:
    path = os.environ.get("LF_SANDBOX", "")
    if not path or not os.access(path, os.X_OK):
        raise AssertionError(
            f"LF_SANDBOX={path!r} is not an executable lf-sandbox (ctest sets it; or run "
            "LF_SANDBOX=/path/to/build/tools/lf-sandbox/lf-sandbox python3 -m unittest)"
        )
    return path


class Sandbox:
    """A running lf-sandbox serving HTTPS on 127.0.0.1 with one client."""

    def __init__(
        self,
        *,
        auto_approve: bool = True,
        client_id: str = CLIENT_ID,
        secret: str = SECRET,
        redirect: str = REDIRECT,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.client_id, self.secret, self.redirect = client_id, secret, redirect
        self._dir = tempfile.TemporaryDirectory(prefix="lf-py-sandbox-")
        tls = os.path.join(self._dir.name, "tls")
        args = [
            sandbox_binary(),
            "--listen", "127.0.0.1:0",
            "--tls-self-signed", tls,
            "--exit-with-parent",
            "--client", f"{client_id}:{secret}:{redirect}",
            "--account-id", account_id,
        ]
        if auto_approve:
            args.append("--auto-approve")
        self._stderr = open(os.path.join(self._dir.name, "stderr"), "w+b")
        # The secret is in argv here only because lf-sandbox is a throwaway
        # test server; the library under test never takes one there.
        self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_stdout, args=(lines,), daemon=True).start()
        try:
            line = lines.get(timeout=READY_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"lf-sandbox printed no ready line in {READY_TIMEOUT} s: {self.log()}")
        if not line.startswith("LF_SANDBOX_URL=https://127.0.0.1:"):
            self.stop()
            raise AssertionError(f"unexpected ready line {line!r}: {self.log()}")
        self.url = line.split("=", 1)[1]
        self.ca_file = os.path.join(tls, "ca.pem")
        self.ssl = ssl.create_default_context(cafile=self.ca_file)
        parts = urllib.parse.urlsplit(self.url)
        self._host, self._port = parts.hostname, parts.port

    def _read_stdout(self, lines: queue.Queue[str]) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            lines.put(raw.decode("utf-8", "replace").strip())
        lines.put("")  # EOF: the sandbox exited

    def log(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read(1 << 20).decode("utf-8", "replace")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
                raise AssertionError("lf-sandbox did not stop within 10 s of SIGTERM")
        if self._proc.stdout:
            self._proc.stdout.close()
        self._stderr.close()
        self._dir.cleanup()

    def client(self, **overrides: Any) -> la.Client:
        cfg: dict[str, Any] = dict(
            client_id=self.client_id,
            client_secret=self.secret,
            redirect_uris=[self.redirect],
            authorize_url=self.url + "/admin/oauth",
            token_url=self.url + "/api/access_token",  # HTTP Basic, the default
            api_url=self.url + "/api/v2",
            ca_file=self.ca_file,
            timeout=30,
        )
        cfg.update(overrides)
        return la.Client(**cfg)

    # -- the merchant's browser ---------------------------------------------

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPSConnection(self._host, self._port, context=self.ssl, timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(1 << 20)
        finally:
            conn.close()

    def authorize(self, consent_url: str) -> str:
        """GETs the consent URL (auto-approved) and returns the redirect's Location."""
        status, headers, body = self.request("GET", _path(consent_url, self.url))
        if status != 302 or "location" not in headers:
            raise AssertionError(f"consent: HTTP {status}, want 302; body {body[:300]!r}")
        return headers["location"]

    def deny(self, consent_url: str) -> str:
        """Shows the consent page and clicks Deny; returns the redirect's Location."""
        status, _, page = self.request("GET", _path(consent_url, self.url))
        if status != 200:
            raise AssertionError(f"consent page: HTTP {status}")
        m = re.search(rb'name="nonce" value="([A-Za-z0-9_-]{43})"', page)
        if not m:
            raise AssertionError("consent page without a nonce")
        form = urllib.parse.urlencode({"nonce": m.group(1).decode(), "decision": "deny"}).encode()
        status, headers, body = self.request(
            "POST", "/admin/oauth/decision", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise AssertionError(f"deny: HTTP {status}; body {body[:300]!r}")
        return headers["location"]

    def post_json(self, path: str, doc: dict[str, str]) -> tuple[int, Any]:
        status, _, body = self.request("POST", path, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        return status, json.loads(body) if body else None

    def revoke(self, token: str) -> None:
        status, out = self.post_json("/_sandbox/revoke", {"access_token": token})
        if status != 200 or not out.get("revoked"):
            raise AssertionError(f"revoke: HTTP {status} {out}")

    def deliver_webhook(self, target: str) -> int:
        """Has the sandbox POST a signed sample webhook to target; the target's status."""
        status, out = self.post_json("/_sandbox/webhook", {"client_id": self.client_id, "url": target})
        if status != 200 or not out.get("delivered"):
            raise AssertionError(f"webhook delivery: HTTP {status} {out}")
        return int(out["status"])


def _path(url: str, base: str) -> str:
    if not url.startswith(base + "/"):
        raise AssertionError(f"{url!r} is not on the sandbox {base}")
    return url[len(base):]


class SandboxTestCase(unittest.TestCase):
    """One sandbox per test class (started in setUpClass, stopped after)."""

    sandbox: Sandbox
    auto_approve = True

    @classmethod
    def setUpClass(cls) -> None:
        cls.sandbox = Sandbox(auto_approve=cls.auto_approve)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sandbox.stop()

    def new_client(self, **overrides: Any) -> la.Client:
        c = self.sandbox.client(**overrides)
        self.addCleanup(c.close)
        return c

    def code(self, client: la.Client) -> str:
        """A fresh authorization code, through consent and parse_callback."""
        state = la.new_state()
        loc = self.sandbox.authorize(client.consent_url(self.sandbox.redirect, ["orders"], state))
        return client.parse_callback(loc, state)


# -- servers that misbehave -------------------------------------------------


class StalledListener:
    """Accepts connections and never answers: only a timeout or a cancel
    ends a call to it. `accepted` is set once a connection came in."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.url = "http://127.0.0.1:%d" % self._sock.getsockname()[1]
        self.accepted = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)
        for c in self._conns:
            c.close()


class Stub:
    """A plain-HTTP loopback server giving every POST one canned answer."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        answer = (status, body, headers or {})
        self.requests = 0
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stub.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                code, data, extra = answer
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def refused_url() -> str:
    """http://127.0.0.1:PORT where nothing listens (the port was just freed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
