#!/usr/bin/env python3
"""The merchant of scripts/demo.sh: headless Chromium opens the sandbox's
admin page, whose iframe shows the app (another site), and acts inside it.

  demo_merchant.py install ADMIN_URL APP_ORIGIN ACCOUNT
      clicks Install in the app's iframe, Approve on the consent screen (still
      inside the iframe), and waits for the app to show the install.
  demo_merchant.py show ADMIN_URL APP_ORIGIN TEXT...
      opens the admin again (same profile: the app's partitioned session
      cookie) and waits until the app's frame shows every TEXT.

Environment: LF_DEMO_PROFILE (Chromium profile dir), LF_DEMO_SPKI (base64
SHA-256 of the sandbox's public key: Chromium trusts that one throwaway key,
--ignore-certificate-errors-spki-list, and nothing else). Prints each step;
exit 0 on success, 1 on failure. Every wait is bounded."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import connect_page, find_chromium, start, stop, wait_for  # noqa: E402

TEXT = "document.body ? document.body.innerText : ''"


def say(msg):
    print("    " + msg, flush=True)


def frame_text(dt, origin):
    return dt.frame_evaluate(origin, "location.href + '\\n' + " + TEXT) or ""


def open_admin(dt, admin_url, origin):
    dt.call("Page.enable")
    dt.call("Runtime.enable")
    dt.track_frames()
    dt.call("Page.navigate", {"url": admin_url})
    if not wait_for(lambda: dt.evaluate("!!document.getElementById('app')"), 30):
        raise RuntimeError("the admin page has no app iframe: " + (dt.evaluate(TEXT) or "")[:300])
    say("admin page: %s (account %s)" % (admin_url, dt.evaluate("document.getElementById('account').innerText")))
    say("app iframe: %s" % dt.evaluate("document.getElementById('app').src"))
    if not wait_for(lambda: "Example app" in frame_text(dt, origin), 30):
        raise RuntimeError("the app did not load inside the iframe")


def click_in_frame(dt, origin, element_id, what, secs=30):
    js = "(function(){var e=document.getElementById('%s'); if(!e) return false; e.click(); return true;})()"
    if not wait_for(lambda: dt.frame_evaluate(origin, js % element_id), secs):
        raise RuntimeError("no %s in the frame at %s" % (what, origin))
    say("clicked %s inside the iframe (%s)" % (what, origin))


def install(dt, admin_url, app_origin, account):
    open_admin(dt, admin_url, app_origin)
    click_in_frame(dt, app_origin, "install", "Install")
    sandbox_origin = admin_url.split("/admin/")[0]
    click_in_frame(dt, sandbox_origin + "/admin/oauth", "approve", "Approve on the consent screen")
    text = wait_for(lambda: (lambda t: t if "Installed for account " + account in t else None)(
        frame_text(dt, app_origin)), 60)
    if not text:
        raise RuntimeError("the app did not show the install; its frame says: " + frame_text(dt, app_origin)[:400])
    say("app frame now: " + " | ".join(text.split("\n")[:3]))
    top = dt.evaluate("location.href")
    if not top.startswith(admin_url):
        raise RuntimeError("the top window left the admin page: " + top)
    say("the top window stayed on the admin page (no popup, no break-out)")


def show(dt, admin_url, app_origin, needles):
    open_admin(dt, admin_url, app_origin)
    text = wait_for(lambda: (lambda t: t if all(n in t for n in needles) else None)(frame_text(dt, app_origin)), 30)
    if not text:
        raise RuntimeError("the app's frame does not show %s: %s" % (needles, frame_text(dt, app_origin)[:400]))
    for line in text.split("\n")[1:12]:
        if line.strip():
            say("app frame: " + line.strip())


def main(argv):
    if len(argv) < 5 or argv[1] not in ("install", "show"):
        print(__doc__)
        return 2
    chromium = find_chromium()
    if not chromium:
        print("demo: Chromium is required (Debian package 'chromium')")
        return 1
    profile, spki = os.environ["LF_DEMO_PROFILE"], os.environ["LF_DEMO_SPKI"]
    err = os.path.join(profile + ".chromium.err")
    proc = start(chromium, profile, err, ["--ignore-certificate-errors-spki-list=" + spki])
    dt = None
    try:
        dt = connect_page(err)
        if argv[1] == "install":
            install(dt, argv[2], argv[3], argv[4])
        else:
            show(dt, argv[2], argv[3], argv[4:])
        return 0
    except (RuntimeError, TimeoutError, OSError, ValueError) as e:
        print("    merchant: FAILED: %s" % e)
        return 1
    finally:
        if dt:
            dt.close_browser(proc)
        stop(proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
