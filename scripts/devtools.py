"""Headless Chromium over its DevTools protocol, standard library only: the
merchant's browser of scripts/demo.sh and tests/tools/browser_test.py.

A minimal RFC 6455 client, a DevTools session that also reaches
out-of-process iframes (a cross-site app frame lives in its own renderer
under site isolation), and a bounded launch/stop of Chromium. Every wait
takes an explicit number of seconds."""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.request


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
    """One page target, plus the iframe targets Chromium attaches to it
    (Target.setAutoAttach, flat sessions) once track_frames() is called."""

    def __init__(self, ws_url, timeout=20):
        self.ws = WebSocket(ws_url, timeout=timeout)
        self.next_id = 0
        self.events = []
        self.sessions = {}  # sessionId of an attached iframe target -> its targetInfo

    def _note(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Target.attachedToTarget" and params.get("targetInfo", {}).get("type") == "iframe":
            self.sessions[params["sessionId"]] = params["targetInfo"]
        elif method == "Target.detachedFromTarget":
            self.sessions.pop(params.get("sessionId"), None)
        self.events.append(msg)
        del self.events[:-200]  # keep the last ones for a failure report

    def call(self, method, params=None, secs=20, session=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        end = time.monotonic() + secs
        while True:
            r = end - time.monotonic()
            if r <= 0:
                raise TimeoutError("no answer to " + method)
            msg = json.loads(self.ws.recv(timeout=r))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s failed: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self._note(msg)

    def evaluate(self, expr, session=None, context=None):
        params = {"expression": expr, "returnByValue": True}
        if context is not None:
            params["contextId"] = context
        r = self.call("Runtime.evaluate", params, session=session)
        return r.get("result", {}).get("value")

    def track_frames(self):
        """Attaches to out-of-process iframes now and as they appear."""
        self.call("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True})

    def frame_evaluate(self, url_prefix, expr):
        """Evaluates expr in the first child frame whose URL starts with
        url_prefix, in or out of the page's process; None when no such frame."""
        self.call("Runtime.evaluate", {"expression": "0"})  # drain pending attach events
        for sid in list(self.sessions):
            try:
                href = self.evaluate("location.href", session=sid)
            except (RuntimeError, TimeoutError):
                continue
            if href and href.startswith(url_prefix):
                return self.evaluate(expr, session=sid)
        tree = self.call("Page.getFrameTree")["frameTree"]
        for child in tree.get("childFrames", []):
            frame = child["frame"]
            if frame.get("url", "").startswith(url_prefix):
                world = self.call("Page.createIsolatedWorld", {"frameId": frame["id"], "worldName": "lf-demo"})
                return self.evaluate(expr, context=world["executionContextId"])
        return None

    def close_browser(self, proc, secs=15):
        """Browser.close: a clean shutdown, which writes cookies to the profile
        (SIGTERM may lose the last ones). Falls back to stop()."""
        try:
            self.call("Browser.close", secs=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            proc.wait(timeout=secs)
        except Exception:  # noqa: BLE001 - stop() below ends it either way
            pass
        self.close()
        stop(proc)

    def close(self):
        self.ws.close()


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def wait_line(path, pattern, secs):
    """Polls a log file written by a child until a line matches; None on timeout."""
    end = time.monotonic() + secs
    rx = re.compile(pattern)
    while time.monotonic() < end:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = rx.search(line)
                    if m:
                        return m
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return None


def start(chromium, profile, stderr_path, extra_args=()):
    """Starts headless Chromium in its own process group (stop() ends it)."""
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile]
        + list(extra_args) + ["about:blank"],
        stdout=subprocess.DEVNULL, stderr=open(stderr_path, "w"), start_new_session=True)
    proc.lf_group = True
    return proc


def connect_page(stderr_path, secs=60):
    """DevTools of the first page of the Chromium that writes stderr_path."""
    m = wait_line(stderr_path, r"DevTools listening on (ws://\S+)", secs)
    if not m:
        raise TimeoutError("Chromium did not open its DevTools port within %d s" % secs)
    port = int(re.match(r"ws://[^:]+:(\d+)/", m.group(1)).group(1))
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
            for t in json.load(r):
                if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                    return DevTools(t["webSocketDebuggerUrl"])
        time.sleep(0.2)
    raise TimeoutError("no page target in Chromium")


def wait_for(fn, secs, interval=0.2):
    """Calls fn until it returns something truthy; that value, or None after secs."""
    end = time.monotonic() + secs
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


def stop(p):
    """Terminates a child (Chromium: its whole process group), bounded."""
    if p is None or p.poll() is not None:
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
