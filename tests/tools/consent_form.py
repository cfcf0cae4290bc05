#!/usr/bin/env python3
"""Finds the form holding the button with id=approve|deny in an lf-sandbox
consent page and prints its action (line 1) and its url-encoded fields
(line 2), so a test can "click" the button with curl."""
import html.parser
import sys
import urllib.parse


class Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []  # [action, [(name, value)], [button ids]]
        self.cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.cur = [a.get("action", ""), [], []]
            self.forms.append(self.cur)
        elif self.cur is not None and tag == "input" and a.get("name"):
            self.cur[1].append((a["name"], a.get("value", "")))
        elif self.cur is not None and tag == "button":
            self.cur[2].append(a.get("id", ""))
            if a.get("name"):
                self.cur[1].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.cur = None


def main():
    page, which = sys.argv[1], sys.argv[2]
    p = Forms()
    with open(page, encoding="utf-8") as f:
        p.feed(f.read())
    for action, fields, buttons in p.forms:
        if which in buttons:
            print(action)
            print(urllib.parse.urlencode(fields))
            return 0
    print("no form with a button id=%s in %s" % (which, page), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
