#!/usr/bin/env python3
"""Real-browser test: headless Chromium opens the lf-sandbox consent page,
clicks Approve, and `lf-auth login` receives the code and gets a token.

Chromium is driven over its DevTools protocol by scripts/devtools.py
(standard library only, shared with scripts/demo.sh). The sandbox
serves plain http on 127.0.0.1 for this test (the library accepts http on
loopback), because Chromium cannot be pointed at a CA file.

Exit 0: pass; 1: fail; 77: skipped because no Chromium is installed.
Every wait is bounded."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from devtools import connect_page, find_chromium, start, stop, wait_line  # noqa: E402

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


def main():
    lf_auth = os.environ.get("LF_AUTH")
    lf_sandbox = os.environ.get("LF_SANDBOX")
    if not lf_auth or not lf_sandbox:
        print("LF_AUTH and LF_SANDBOX must name the binaries")
        return 1
    chromium = find_chromium()
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
        chrome = start(chromium, profile, ch_err)
        procs.append(chrome)
        try:
            dt = connect_page(ch_err, secs=min(60, left()))
        except TimeoutError as e:
            print("FAIL:", e)
            print(open(ch_err, errors="replace").read()[-2000:])
            return 1
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
