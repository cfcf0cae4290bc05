#!/usr/bin/env python3
"""lf-example-app through its HTTP face, against a stand-in platform written
here (plain HTTP on 127.0.0.1, which the library accepts for loopback only):
install with a sealed state, token exchange, account id, createWebhook with
variables, the token sealed at rest, the embedded page's headers and session,
signed webhooks (verified by the app with lf_webhook_verify), dedup,
app/uninstalled, refusals, and a graceful stop on SIGTERM.

The full life with lf-sandbox and Chromium is scripts/demo.sh (ctest
demo_script). Standard library only; every wait is bounded. Exit 0 pass, 1 fail."""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SECRET = "app-test-secret-9f3c"
TOKEN = "tok_app_test_5b1e0c9d7a"
ACCOUNT = "acc_apptest42"
ADMIN = "https://admin.example.test"
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Platform(http.server.BaseHTTPRequestHandler):
    """Token endpoints and the GraphQL API, recording what the app sent."""
    calls = []
    codes = {"good-code": TOKEN}
    revoked = False
    lock = threading.Lock()

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Platform.lock:
            Platform.calls.append((self.path, dict(self.headers), raw))
        if self.path.endswith("access_token"):
            try:
                code = json.loads(raw)["code"]
            except ValueError:
                code = urllib.parse.parse_qs(raw.decode()).get("code", [""])[0]
            token = Platform.codes.pop(code, None)
            if token is None:
                return self.reply(400, {"error": "invalid_grant", "error_description": "unknown code"})
            return self.reply(200, {"access_token": token})
        if Platform.revoked or self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.reply(401, {"errors": [{"message": "unauthorized"}]})
        req = json.loads(raw)
        if "account" in req["query"]:
            return self.reply(200, {"data": {"account": {"id": ACCOUNT}}})
        if "createWebhook" in req["query"]:
            node = req["variables"]["node"]
            return self.reply(200, {"data": {"createWebhook": dict(node, id="wh_" + node["type"].replace("/", "_"))}})
        return self.reply(200, {"errors": [{"message": "unknown query"}]})

    def log_message(self, *a):
        pass


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.headers, data.decode("utf-8", "replace")


def sign(body):
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def post_event(port, etype, body, signature=None, account=ACCOUNT):
    q = urllib.parse.urlencode({"type": etype, "account": account})
    h = {"Content-Type": "application/json"}
    if signature is not False:
        h["lightfunnels-hmac"] = signature or sign(body)
    return request(port, "POST", "/webhooks?" + q, body, h)


def install(port):
    status, headers, _ = request(port, "GET", "/install?account=" + ACCOUNT)
    location = headers.get("Location", "")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    return status, location, q.get("state", [""])[0]


def start_app(app_bin, env, log):
    p = subprocess.Popen([app_bin], env=env, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
    line = p.stdout.readline()  # LF_APP_LISTENING=..., bounded by the app's own start
    return p, line


def run(app_bin, work):
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % api.server_address[1]
    port = free_port()
    app_url = "http://127.0.0.1:%d" % port
    key = os.urandom(32).hex()
    key_file = os.path.join(work, "token.key")
    with open(key_file, "w") as f:
        f.write(key + "\n")
    db = os.path.join(work, "app.db")
    env = dict(os.environ, LF_APP_CLIENT_ID="app-test", LF_APP_CLIENT_SECRET=SECRET,
               LF_APP_REDIRECT_URI=app_url + "/callback", LF_APP_PUBLIC_URL=app_url, LF_APP_PORT=str(port),
               LF_APP_DB=db, LF_APP_TOKEN_KEY_FILE=key_file, LF_APP_ADMIN_ORIGIN=ADMIN,
               LF_APP_AUTHORIZE_URL=base + "/admin/oauth", LF_APP_TOKEN_URL=base + "/oauth/access_token",
               LF_APP_API_URL=base + "/api/v2")
    log = os.path.join(work, "app.err")
    app, line = start_app(app_bin, env, log)
    try:
        if not check(line.startswith("LF_APP_LISTENING="), "the app starts and says where it listens"):
            print(open(log).read())
            return
        # -- install -----------------------------------------------------
        status, location, state = install(port)
        check(status == 302 and location.startswith(base + "/admin/oauth?client_id=app-test"),
              "/install redirects to the consent screen")
        check(len(state) == 76 and re.fullmatch(r"[A-Za-z0-9_-]+", state) is not None,
              "the consent URL carries a sealed state")
        check("scope=orders" in location and "redirect_uri=" in location, "the consent URL names scopes and callback")

        forged = state[:-2] + ("AA" if state[-2:] != "AA" else "BB")
        status, _, body = request(port, "GET", "/callback?code=good-code&state=" + forged)
        check(status == 400 and "did not start here" in body, "a forged state is refused before any exchange")
        check(not any(c[0].endswith("access_token") for c in Platform.calls), "no code was sent for a forged state")
        status, _, body = request(port, "GET", "/callback?error=access_denied&state=" + state)
        check(status == 400 and "declined" in body, "a declined consent says so")

        status, headers, _ = request(port, "GET", "/callback?code=good-code&state=" + state)
        check(status == 303 and headers.get("Location") == "/", "the callback installs and sends the merchant to /")
        cookie = headers.get("Set-Cookie", "")
        check(all(a in cookie for a in ("HttpOnly", "Secure", "SameSite=None", "Partitioned")),
              "the session cookie is HttpOnly; Secure; SameSite=None; Partitioned: " + cookie)
        check(TOKEN not in cookie, "the cookie does not hold the access token")
        session = cookie.split(";")[0]

        hooks = [json.loads(c[2]) for c in Platform.calls if "createWebhook" in c[2].decode()]
        types = sorted(h["variables"]["node"]["type"] for h in hooks)
        check(types == ["app/uninstalled", "order/created"], "createWebhook for order/created and app/uninstalled")
        check(all("$node: WebhookInput!" in h["query"] for h in hooks), "createWebhook takes the node as a variable")
        check(all(h["variables"]["node"]["url"].startswith(app_url + "/webhooks?") for h in hooks),
              "the webhook URLs point to the app's /webhooks")

        con = sqlite3.connect(db)
        rows = con.execute("SELECT account_id, sealed_token FROM installs").fetchall()
        check(len(rows) == 1 and rows[0][0] == ACCOUNT, "the install is stored under the account id")
        raw_db = open(db, "rb").read() + (open(db + "-wal", "rb").read() if os.path.exists(db + "-wal") else b"")
        check(TOKEN.encode() not in raw_db, "the token is not in the database in clear")
        check(rows and rows[0][1].startswith("v1."), "the token is sealed (v1.<nonce|ciphertext|tag>)")
        errs = open(log).read()
        check(TOKEN not in errs and SECRET not in errs and key not in errs and "good-code" not in errs,
              "the app's log shows no token, secret, key or code")

        # -- the embedded page -------------------------------------------
        status, headers, body = request(port, "GET", "/", headers={"Cookie": session})
        check(status == 200 and ACCOUNT in body and "Installed" in body, "the page shows the install to its session")
        check(headers.get("Content-Security-Policy", "").startswith("frame-ancestors " + ADMIN),
              "the page may be framed by the admin origin only")
        check("X-Frame-Options" not in headers, "no X-Frame-Options (it would block the admin iframe)")
        status, _, body = request(port, "GET", "/?account_id=" + ACCOUNT + "&iframe=true")
        check(status == 200 and 'id="install"' in body and "Installed for" not in body,
              "without a session the unsigned account_id hint shows nothing but Install")
        bad = session[:-1] + ("0" if session[-1:] != "0" else "1")
        _, _, body = request(port, "GET", "/", headers={"Cookie": bad})
        check("Installed for" not in body, "a tampered session cookie is not accepted")

        # -- webhooks -------------------------------------------------------
        order = json.dumps({"node": {"id": "order_T1", "account_id": ACCOUNT, "total": 35}},
                           separators=(",", ":")).encode()
        status, _, body = post_event(port, "order/created", order)
        check(status == 200 and body.strip() == "recorded", "a signed order/created is recorded")
        status, _, body = post_event(port, "order/created", order)
        check(status == 200 and body.strip() == "duplicate", "the same delivery again is a duplicate")
        check(con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1, "one events row for two deliveries")
        status, _, _ = post_event(port, "order/created", order.replace(b"35", b"36"), signature=sign(order))
        check(status == 401, "a changed body with the old signature is refused (401)")
        status, _, _ = post_event(port, "order/created", order, signature=False)
        check(status == 401, "a webhook without lightfunnels-hmac is refused (401)")
        status, _, _ = post_event(port, "order/created", b"[1]")
        check(status == 400, "a signed body without a node is refused (400)")
        big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
        status, _, _ = post_event(port, "order/created", big)
        check(status == 413, "a body over 1 MiB is refused (413)")
        _, _, body = request(port, "GET", "/", headers={"Cookie": session})
        check("order_T1" in body and "order/created" in body, "the page lists the last event")

        # -- check-token: the stored token opens with the key and works ----------
        def check_token(db_path):
            r = subprocess.run([app_bin, "check-token", ACCOUNT], env=dict(env, LF_APP_DB=db_path),
                               capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout + r.stderr
        rc, out = check_token(db)
        check(rc == 0 and "works" in out and TOKEN not in out, "check-token: the sealed token opens and works")
        r = subprocess.run([app_bin, "check-token", ACCOUNT], env=dict(env, LF_APP_TOKEN_KEY=os.urandom(32).hex()),
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "does not open" in r.stdout, "another key does not open the sealed token")

        # -- uninstall ---------------------------------------------------------
        backup = os.path.join(work, "backup.db")
        con.execute("VACUUM INTO ?", (backup,))
        gone = json.dumps({"node": {"id": ACCOUNT}}, separators=(",", ":")).encode()
        status, _, body = post_event(port, "app/uninstalled", gone, account="someone-else")
        check(status == 200 and body.strip() == "uninstalled", "app/uninstalled is accepted")
        counts = [con.execute("SELECT COUNT(*) FROM %s WHERE account_id = ?" % t, (ACCOUNT,)).fetchone()[0]
                  for t in ("installs", "webhooks", "events")]
        check(counts == [0, 0, 0], "the account's token, webhooks and events are deleted: %s" % counts)
        _, _, body = request(port, "GET", "/", headers={"Cookie": session})
        check("Not installed" in body, "the page then says the app is not installed")
        rc, out = check_token(db)
        check(rc == 4, "check-token: no install left in the database")
        Platform.revoked = True
        rc, out = check_token(backup)
        check(rc == 3 and "LF_E_UNAUTHORIZED" in out, "check-token on a backup: the API refuses the old token")
        status, _, body = post_event(port, "order/created", order)
        check(status == 200 and body.strip() == "ignored", "an event for an uninstalled account is ignored")
        con.close()
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            rc = app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            rc = app.wait(timeout=10)
        check(rc == 0 and "app: stopped" in open(log).read(), "SIGTERM stops the app cleanly (exit %s)" % rc)
        api.shutdown()


def main():
    app_bin = os.environ.get("LF_APP") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not app_bin or not os.access(app_bin, os.X_OK):
        print("FAIL: set LF_APP to the lf-example-app binary")
        return 1
    work = tempfile.mkdtemp(prefix="lf-app-test.")
    try:
        run(app_bin, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
