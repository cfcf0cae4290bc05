#!/usr/bin/env python3
"""Real-browser test: headless Chromium opens the lf-sandbox consent page,
clicks Approve, and `lf-auth login` receives the code and gets a token.

Chromium is driven over its DevTools protocol with a minimal WebSocket client
written here with the standard library only (no pip packages). The sandbox
serves plain http on 127.0.0.1 for this test (the library accepts http on
loopback), because Chromium cannot be pointed at a CA file.

Exit 0: pass; 1: fail; 77: skipped because no Chromium is installed.
Every wait is bounded."""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

DEADLINE = time.monotonic() + 180  # the whole test; ctest's TIMEOUT is larger


def left(cap=None):
    r = DEADLINE - time.monotonic()
    if r <= 0:
        raise TimeoutError("test deadline reached")
    return min(r, cap) if cap else r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_line(proc_file, pattern, secs):
    """Polls a log file written by a child until a line matches."""
    end = time.monotonic() + secs
    rx = re.compile(pattern)
    while time.monotonic() < end:
        left()
        try:
            with open(proc_file, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = rx.search(line)
                    if m:
                        return m
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return None


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: masked text frames
    out, unmasked (possibly fragmented) text frames in, ping/close handled."""

    def __init__(self, url, timeout):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        if not m:
            raise ValueError("unexpected DevTools URL " + url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the WebSocket handshake")
            head += chunk
            if len(head) > 65536:
                raise ConnectionError("oversized handshake answer")
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("WebSocket upgrade refused: " + head.split(b"\r\n")[0].decode(errors="replace"))

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the WebSocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            mask = self._recv_exact(4) if b1 & 0x80 else None
            payload = self._recv_exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x1, 0x0, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode()

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class DevTools:
    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url, timeout=left(20))
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, secs=20):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        end = time.monotonic() + secs
        while True:
            r = end - time.monotonic()
            if r <= 0:
                raise TimeoutError("no answer to " + method)
            msg = json.loads(self.ws.recv(timeout=left(r)))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s failed: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        return r.get("result", {}).get("value")


def stop(p):
    """Terminates a child (Chromium: its whole process group), bounded."""
    if p.poll() is not None:
        return
    group = getattr(p, "lf_group", False)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            if group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)
            p.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def main():
    lf_auth = os.environ.get("LF_AUTH")
    lf_sandbox = os.environ.get("LF_SANDBOX")
    if not lf_auth or not lf_sandbox:
        print("LF_AUTH and LF_SANDBOX must name the binaries")
        return 1
    chromium = None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        chromium = shutil.which(name)
        if chromium:
            break
    if not chromium:
        print("SKIP: no Chromium installed (Debian package 'chromium')")
        return 77

    work = tempfile.mkdtemp(prefix="lf-auth-browser.")
    procs = []
    ok = False
    try:
        port = free_port()
        secret = "browser-secret-4e1d"
        redirect = "http://127.0.0.1:%d/callback" % port
        sb_out, sb_err = os.path.join(work, "sandbox.out"), os.path.join(work, "sandbox.err")
        sandbox = subprocess.Popen(
            [lf_sandbox, "--account-id", "acct_browser", "--client", "app:%s:%s" % (secret, redirect)],
            stdout=open(sb_out, "w"), stderr=open(sb_err, "w"))
        procs.append(sandbox)
        m = wait_line(sb_out, r"^LF_SANDBOX_URL=(\S+)", 30)
        if not m:
            print("FAIL: lf-sandbox did not start")
            return 1
        base = m.group(1)
        print("sandbox at", base)

        env = dict(os.environ, APP_SECRET=secret)
        lo_out, lo_err = os.path.join(work, "login.out"), os.path.join(work, "login.err")
        login = subprocess.Popen(
            [lf_auth, "login", "--sandbox", base, "--client-id", "app", "--client-secret-env", "APP_SECRET",
             "--scope", "products,orders", "--port", str(port), "--timeout", "120"],
            stdout=open(lo_out, "w"), stderr=open(lo_err, "w"), env=env)
        procs.append(login)
        m = wait_line(lo_err, r"^LF_AUTH_CONSENT_URL=(\S+)", 30)
        if not m:
            print("FAIL: lf-auth login printed no consent URL")
            return 1
        consent = m.group(1)
        print("consent URL", consent)

        profile = os.path.join(work, "profile")
        ch_err = os.path.join(work, "chromium.err")
        chrome = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             "--user-data-dir=" + profile, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(ch_err, "w"), start_new_session=True)
        chrome.lf_group = True
        procs.append(chrome)
        m = wait_line(ch_err, r"DevTools listening on (ws://\S+)", 60)
        if not m:
            print("FAIL: Chromium did not open its DevTools port within 60 s")
            print(open(ch_err, errors="replace").read()[-2000:])
            return 1
        dt_port = int(re.match(r"ws://[^:]+:(\d+)/", m.group(1)).group(1))
        page_ws = None
        end = time.monotonic() + 30
        while page_ws is None and time.monotonic() < end:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % dt_port, timeout=left(10)) as r:
                for t in json.load(r):
                    if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                        page_ws = t["webSocketDebuggerUrl"]
                        break
            if page_ws is None:
                time.sleep(0.2)
        if page_ws is None:
            print("FAIL: no page target in Chromium")
            return 1

        dt = DevTools(page_ws)
        dt.call("Page.enable")
        dt.call("Runtime.enable")
        dt.call("Page.navigate", {"url": consent})

        # Wait for the consent page with its Approve button.
        end = time.monotonic() + 30
        found = False
        while time.monotonic() < end:
            if dt.evaluate("!!document.getElementById('approve')"):
                found = True
                break
            time.sleep(0.2)
        if not found:
            print("FAIL: the consent page has no Approve button; page text:")
            print(dt.evaluate("document.body ? document.body.innerText : ''"))
            return 1
        text = dt.evaluate("document.body.innerText") or ""
        print("consent page shows:", " | ".join(text.split("\n")[:6]))
        dt.evaluate("document.getElementById('approve').click()")

        # lf-auth receives the redirect, exchanges the code and exits.
        try:
            rc = login.wait(timeout=left(60))
        except subprocess.TimeoutExpired:
            print("FAIL: lf-auth login did not finish within 60 s after Approve")
            return 1
        # The browser shows lf-auth's answer page.
        final = ""
        end = time.monotonic() + 20
        while time.monotonic() < end:
            final = dt.evaluate("location.href + ' ' + (document.body ? document.body.innerText : '')") or ""
            if "Authorized" in final:
                break
            time.sleep(0.2)
        dt.ws.close()
        token = open(lo_out).read().strip()
        errs = open(lo_err).read()
        print("lf-auth login exit status", rc)
        if rc != 0 or not token:
            print("FAIL: lf-auth login did not get a token:\n" + errs)
            return 1
        if "Authorized" not in final or not final.startswith(redirect):
            print("FAIL: the browser did not land on lf-auth's page: " + final[:300])
            return 1
        if secret in errs:
            print("FAIL: lf-auth's progress output shows the client secret")
            return 1
        acct = subprocess.run([lf_auth, "account", "--sandbox", base, "--token-stdin"], input=token + "\n",
                              capture_output=True, text=True, timeout=left(30))
        if acct.returncode != 0 or acct.stdout.strip() != "acct_browser":
            print("FAIL: the token does not work: %d %s" % (acct.returncode, acct.stderr))
            return 1
        print("PASS: Chromium approved, lf-auth got a token for", acct.stdout.strip())
        ok = True
        return 0
    finally:
        for p in reversed(procs):
            stop(p)
        if ok or not os.environ.get("LF_TEST_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("logs kept in", work)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (TimeoutError, OSError, RuntimeError, ValueError) as e:
        print("FAIL:", e)
        sys.exit(1)
