#!/usr/bin/env bash
# lf-auth graphql (and webhooks list) on a terminal: a server's bytes must not
# drive the terminal (escape sequences, C1 controls, bidi overrides, invalid
# UTF-8), unless --raw; off a terminal the body stays byte-exact. The terminal is a real pty made by
# script(1); the API is a python stub on 127.0.0.1 (plain http, loopback).
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$TESTS_DIR/lib.sh"

command -v script >/dev/null || { echo "script (util-linux) is required"; exit 1; }
export GQL_TOKEN='tty-token-1f3e'

# Every hostile sequence once, then text that must survive untouched.
python3 - "$WORK/body" <<'PY'
import sys
body = (b'{"data":{"account":{"id":"acct\x1b]0;pwned\x07 \x1b[2J'
        b' c1:\xc2\x9b31m del:\x7f cr:\r bidi:\xe2\x80\xaeevil\xe2\x80\xac iso:\xe2\x81\xa6x\xe2\x81\xa9'
        b' bad:\xff\xc0\xaf\xed\xa0\x80\xe2\x82 ok:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xe2\x80\x8f\ttab"}}}\n')
open(sys.argv[1], "wb").write(body)
PY
# One '?' per removed character and per byte that is not well-formed UTF-8.
python3 - "$WORK/want.safe" <<'PY'
import sys
want = (b'{"data":{"account":{"id":"acct?]0;pwned? ?[2J'
        b' c1:?31m del:? cr:? bidi:?evil? iso:?x?'
        b' bad:???????? ok:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xe2\x80\x8f\ttab"}}}\n')
open(sys.argv[1], "wb").write(want)
PY

python3 "$TESTS_DIR/graphql_stub.py" "$WORK/body" 100 >"$WORK/stub.out" 2>"$WORK/stub.err" &
BG_PIDS+=("$!")
line=$(wait_for_line "$WORK/stub.out" '^PORT=' 30) || { echo "graphql stub did not start"; exit 1; }
API="http://127.0.0.1:${line#PORT=}/graphql"

gql() { "$LF_AUTH" graphql --token-env GQL_TOKEN --query 'query { account { id } }' --api-url "$API" "$@"; }

# on_tty OUT ARGS...: runs `lf-auth graphql ARGS` with stdout on a pty; the pty
# turns "\n" into "\r\n", which is undone here (a lone "\r" stays).
on_tty() {
    local out=$1
    shift
    local cmd
    cmd=$(printf '%q ' "$LF_AUTH" graphql --token-env GQL_TOKEN --query 'query { account { id } }' --api-url "$API" "$@")
    timeout 60 script -qec "$cmd" /dev/null </dev/null >"$out.pty" 2>"$out.err"
    local rc=$?
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d.replace(b"\r\n", b"\n"))' \
        "$out.pty" "$out"
    return $rc
}

log "not a terminal: the body byte for byte"
gql >"$WORK/file.out" 2>"$WORK/file.err"
expect_rc "graphql to a file" 0 $?
check "graphql to a file is byte-exact" cmp -s "$WORK/file.out" "$WORK/body"

log "terminal: controls, C1, bidi overrides and invalid UTF-8 are replaced with '?'"
on_tty "$WORK/tty.out"
expect_rc "graphql on a tty" 0 $?
check "graphql on a tty is sanitised exactly as documented" cmp "$WORK/tty.out" "$WORK/want.safe"

log "terminal with --raw: the body byte for byte"
on_tty "$WORK/raw.out" --raw
expect_rc "graphql --raw on a tty" 0 $?
check "graphql --raw on a tty is byte-exact" cmp "$WORK/raw.out" "$WORK/body"

log "terminal with --json: still one JSON object, nothing a terminal would act on"
on_tty "$WORK/json.out" --json
expect_rc "graphql --json on a tty" 0 $?
check "graphql --json on a tty is safe JSON" python3 - "$WORK/json.out" <<'PY'
import json, re, sys
d = open(sys.argv[1], "rb").read()
text = d.decode("utf-8")  # raises on invalid UTF-8
bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
assert not bad.search(text), repr(bad.search(text))
o = json.loads(text)
assert o["ok"] is True and o["http_status"] == 200, o
i = o["body"]["data"]["account"]["id"]
assert i.startswith("acct") and "ok:\u00e9\u20ac\U0001F600" in i, i
PY

log "--raw off a terminal changes nothing; only graphql takes --raw"
gql --raw >"$WORK/rawfile.out" 2>/dev/null
expect_rc "graphql --raw to a file" 0 $?
check "graphql --raw to a file is byte-exact" cmp -s "$WORK/rawfile.out" "$WORK/body"
"$LF_AUTH" account --token-env GQL_TOKEN --api-url "$API" --raw >/dev/null 2>&1
expect_rc "--raw is refused by account" 2 $?

log "webhooks list: the server's values stay one line each, and cannot drive a terminal"
python3 - "$WORK/hooks" "$WORK/hooks.file" "$WORK/hooks.tty" <<'PY'
import sys
body = (b'{"data":{"webhooks":[{"id":"webhook_\\u001b[2J","type":"order/created\\tx",'
        b'"url":"http://127.0.0.1/a\\nb\\r\xe2\x80\xaec","settings":{},"version":null},'
        b'{"id":"webhook_2","type":"order/updated","url":"http://127.0.0.1/\xc3\xa9","settings":{},"version":null}]}}')
open(sys.argv[1], "wb").write(body)
# Off a terminal only tabs and line breaks inside a value change; on one, the
# escape and the bidi override too.
open(sys.argv[2], "wb").write(b'webhook_\x1b[2J\torder/created?x\thttp://127.0.0.1/a?b?\xe2\x80\xaec\n'
                              b'webhook_2\torder/updated\thttp://127.0.0.1/\xc3\xa9\n')
open(sys.argv[3], "wb").write(b'webhook_?[2J\torder/created?x\thttp://127.0.0.1/a?b??c\n'
                              b'webhook_2\torder/updated\thttp://127.0.0.1/\xc3\xa9\n')
PY
python3 "$TESTS_DIR/graphql_stub.py" "$WORK/hooks" 100 >"$WORK/stub2.out" 2>"$WORK/stub2.err" &
BG_PIDS+=("$!")
line=$(wait_for_line "$WORK/stub2.out" '^PORT=' 30) || { echo "second graphql stub did not start"; exit 1; }
HOOKS_API="http://127.0.0.1:${line#PORT=}/graphql"
"$LF_AUTH" webhooks list --token-env GQL_TOKEN --api-url "$HOOKS_API" >"$WORK/wl.file" 2>"$WORK/wl.err"
expect_rc "webhooks list to a file" 0 $?
check "webhooks list to a file: one line per webhook, other bytes as sent" cmp "$WORK/wl.file" "$WORK/hooks.file"
cmd=$(printf '%q ' "$LF_AUTH" webhooks list --quiet --token-env GQL_TOKEN --api-url "$HOOKS_API")
timeout 60 script -qec "$cmd" /dev/null </dev/null >"$WORK/wl.pty" 2>"$WORK/wl.tty.err"
expect_rc "webhooks list on a tty" 0 $?
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d.replace(b"\r\n", b"\n"))' \
    "$WORK/wl.pty" "$WORK/wl.tty"
check "webhooks list on a tty is sanitised" cmp "$WORK/wl.tty" "$WORK/hooks.tty"

log "webhooks: an answer without the data asked for is LF_E_PROTOCOL (exit 27)"
"$LF_AUTH" webhooks list --token-env GQL_TOKEN --api-url "$API" >"$WORK/wp.out" 2>"$WORK/wp.err"
expect_rc "webhooks list, no data.webhooks" 27 $?
check "no data.webhooks: nothing on stdout" test ! -s "$WORK/wp.out"
expect_contains "no data.webhooks: says what is missing" "$WORK/wp.err" "data.webhooks"
"$LF_AUTH" webhooks create --token-env GQL_TOKEN --type order/created --url http://127.0.0.1:9/h \
    --api-url "$HOOKS_API" --json >"$WORK/wp.json" 2>/dev/null
expect_rc "webhooks create, no data.createWebhook" 27 $?
check "no data.createWebhook: JSON error" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] is False and d["error"]["status"]=="LF_E_PROTOCOL" else 1)' "$WORK/wp.json"
"$LF_AUTH" webhooks delete --token-env GQL_TOKEN --id webhook_2 --api-url "$HOOKS_API" >/dev/null 2>&1
expect_rc "webhooks delete, no data.deleteWebhook" 27 $?

finish
