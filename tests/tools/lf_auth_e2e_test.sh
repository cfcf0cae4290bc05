#!/usr/bin/env bash
# lf-auth end to end against lf-sandbox over HTTPS (a CA generated at test
# time): every subcommand and every error path of the flow.
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$TESTS_DIR/lib.sh"

command -v curl >/dev/null || { echo "curl is required"; exit 1; }

SECRET='e2e-secret-9f2c'
export APP_SECRET="$SECRET"
export WRONG_SECRET='e2e-wrong-secret-77aa'
PORT_A=$(free_port)
PORT_B=$(free_port)
PORT_C=$(free_port)
PORT_X=$(free_port)

# Sandbox A: auto-approve. Sandbox B: consent page. Sandbox E: codes live 1 s.
start_sandbox sbA --tls-self-signed "$WORK/tlsA" --auto-approve --account-id acct_e2e \
    --client "app:$SECRET:http://127.0.0.1:$PORT_A/callback" \
    --client "app:$SECRET:http://127.0.0.1:$PORT_B/cb/path"
A=$SANDBOX_URL
CA_A="$WORK/tlsA/ca.pem"
start_sandbox sbB --tls-self-signed "$WORK/tlsB" \
    --client "app2:$SECRET:http://127.0.0.1:$PORT_C/callback"
B=$SANDBOX_URL
CA_B="$WORK/tlsB/ca.pem"
start_sandbox sbE --tls-self-signed "$WORK/tlsE" --code-ttl 1 \
    --client "app2:$SECRET:http://127.0.0.1:$PORT_C/callback"
E=$SANDBOX_URL
CA_E="$WORK/tlsE/ca.pem"
case "$A" in https://127.0.0.1:*) pass ;; *) fail "sandbox A is not HTTPS: $A" ;; esac

COMMON_A=(--sandbox "$A" --ca-file "$CA_A" --timeout-ms 20000)
COMMON_B=(--sandbox "$B" --ca-file "$CA_B" --timeout-ms 20000)
COMMON_E=(--sandbox "$E" --ca-file "$CA_E" --timeout-ms 20000)
ALL_OUT="$WORK/all-output.txt"  # everything lf-auth printed that must not hold secrets
: >"$ALL_OUT"
collect() { cat "$@" >>"$ALL_OUT" 2>/dev/null; }

# get_code SANDBOX_ARGS... : consent URL -> (auto-approve) redirect -> code.
manual_code_A() {
    local redirect=$1 state url loc
    "$LF_AUTH" consent-url --client-id app --redirect-uri "$redirect" --scope products,orders \
        "${COMMON_A[@]}" >"$WORK/cu.out" 2>"$WORK/cu.err" || return 1
    state=$(sed -n 's/^LF_AUTH_STATE=//p' "$WORK/cu.err")
    url=$(cat "$WORK/cu.out")
    loc=$(redirect_of "$url" --cacert "$CA_A") || return 1
    LOC="$loc" "$LF_AUTH" callback --url-env LOC --state "$state"
}

log "consent-url -> sandbox auto-approve -> callback -> exchange (default: HTTP Basic)"
CODE=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
expect_rc "manual flow: code" 0 $?
check "code is not empty" test -n "$CODE"
export CODE
"$LF_AUTH" exchange --client-id app --client-secret-env APP_SECRET --code-env CODE "${COMMON_A[@]}" \
    >"$WORK/ex.out" 2>"$WORK/ex.err"
expect_rc "exchange" 0 $?
# The platform's documented method is the default: with --sandbox, lf-auth
# posts to /api/access_token, which takes HTTP Basic only (the JSON body
# goes to /oauth/access_token).
expect_contains "default exchange: HTTP Basic at /api/access_token" "$WORK/sbA.err" \
    "POST /api/access_token 200 client_id=app"
expect_not_contains "default exchange: no JSON body" "$WORK/sbA.err" "/oauth/access_token"
TOKEN=$(cat "$WORK/ex.out")
check "token is not empty" test -n "$TOKEN"
collect "$WORK/ex.err"
export TOKEN

log "reused code"
"$LF_AUTH" exchange --client-id app --client-secret-env APP_SECRET --code-env CODE "${COMMON_A[@]}" --json \
    >"$WORK/reuse.json" 2>"$WORK/reuse.err"
expect_rc "reused code -> LF_E_INVALID_CODE" 23 $?
check "reused code JSON" python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if e["status"]=="LF_E_INVALID_CODE" and e["http_status"]==400 and e["key"]=="invalid_grant" else 1)' "$WORK/reuse.json"
collect "$WORK/reuse.json" "$WORK/reuse.err"

log "account and graphql"
"$LF_AUTH" account --token-env TOKEN "${COMMON_A[@]}" >"$WORK/acct.out" 2>"$WORK/acct.err"
expect_rc "account" 0 $?
check "account id" test "$(cat "$WORK/acct.out")" = "acct_e2e"
collect "$WORK/acct.err"
printf '%s\n' "$TOKEN" | "$LF_AUTH" account --token-stdin --json "${COMMON_A[@]}" >"$WORK/acct.json" 2>/dev/null
expect_rc "account --token-stdin --json" 0 $?
expect_contains "account JSON" "$WORK/acct.json" '"account_id":"acct_e2e"'
printf '%s' "$TOKEN" >"$WORK/token.txt"
"$LF_AUTH" graphql --token-file "$WORK/token.txt" --query 'query { account { id } }' "${COMMON_A[@]}" \
    >"$WORK/gql.out" 2>"$WORK/gql.err"
expect_rc "graphql" 0 $?
expect_contains "graphql body" "$WORK/gql.out" '"id":"acct_e2e"'
"$LF_AUTH" graphql --token-env TOKEN --query 'query { orders { id } }' "${COMMON_A[@]}" \
    >"$WORK/gql2.out" 2>"$WORK/gql2.err"
expect_rc "graphql unsupported query -> LF_E_API" 26 $?
expect_contains "graphql error body on stdout" "$WORK/gql2.out" "unsupported_query"
expect_contains "graphql error names the key" "$WORK/gql2.err" "unsupported_query"
"$LF_AUTH" graphql --token-env TOKEN --query 'query { account { id } }' --variables '[1]' "${COMMON_A[@]}" \
    >/dev/null 2>&1
expect_rc "graphql variables not an object" 11 $?
collect "$WORK/gql.err" "$WORK/gql2.err"

log "client auth styles: json (the earlier method), basic and auto"
for style in json basic auto; do
    C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
    CODE="$C" "$LF_AUTH" exchange --client-auth "$style" --client-id app --client-secret-env APP_SECRET \
        --code-env CODE "${COMMON_A[@]}" >"$WORK/ex.$style" 2>"$WORK/ex.$style.err"
    expect_rc "exchange --client-auth $style" 0 $?
    check "$style: token" test -s "$WORK/ex.$style"
    collect "$WORK/ex.$style.err"
done

log "--trace: the library's trace on stderr, secrets masked"
C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
CODE="$C" "$LF_AUTH" exchange --client-auth auto --trace --client-id app --client-secret-env APP_SECRET \
    --code-env CODE "${COMMON_A[@]}" >"$WORK/ex.trace" 2>"$WORK/ex.trace.err"
expect_rc "exchange --trace" 0 $?
expect_contains "trace: a new connection" "$WORK/ex.trace.err" "lf-auth: trace connect: new connection for $A/"
expect_contains "trace: TLS" "$WORK/ex.trace.err" "lf-auth: trace tls: TLSv1."
expect_contains "trace: the AUTO decision" "$WORK/ex.trace.err" "lf-auth: trace auto: AUTO: chose"
expect_contains "trace: the request" "$WORK/ex.trace.err" "lf-auth: trace request: POST $A/"
expect_contains "trace: the answer" "$WORK/ex.trace.err" "lf-auth: trace response: HTTP 200"
expect_not_contains "trace: no code" "$WORK/ex.trace.err" "$C"
expect_not_contains "trace: no token" "$WORK/ex.trace.err" "$(cat "$WORK/ex.trace")"
expect_not_contains "trace: no secret" "$WORK/ex.trace.err" "$APP_SECRET"
CODE="$C" "$LF_AUTH" exchange --trace --client-id app --client-secret-env APP_SECRET --code-env CODE "${COMMON_A[@]}" \
    >/dev/null 2>"$WORK/ex.trace2.err"
expect_rc "spent code, traced" 23 $?
expect_contains "trace: the error mapping" "$WORK/ex.trace2.err" "lf-auth: trace error: exchange failed: LF_E_INVALID_CODE (HTTP 400"
collect "$WORK/ex.trace.err" "$WORK/ex.trace2.err"

log "wrong secret"
C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
CODE="$C" "$LF_AUTH" exchange --client-id app --client-secret-env WRONG_SECRET --code-env CODE "${COMMON_A[@]}" \
    >"$WORK/ws.out" 2>"$WORK/ws.err"
expect_rc "wrong secret -> LF_E_INVALID_CLIENT" 24 $?
expect_contains "wrong secret message" "$WORK/ws.err" "LF_E_INVALID_CLIENT"
expect_not_contains "wrong secret: no secret" "$WORK/ws.err" "$WRONG_SECRET"
expect_not_contains "wrong secret: no code" "$WORK/ws.err" "$C"
check "wrong secret: nothing on stdout" test ! -s "$WORK/ws.out"
for style in json auto; do
    CODE="$C" "$LF_AUTH" exchange --client-auth "$style" --client-id app --client-secret-env WRONG_SECRET \
        --code-env CODE "${COMMON_A[@]}" >/dev/null 2>"$WORK/ws.$style.err"
    expect_rc "wrong secret ($style)" 24 $?
    collect "$WORK/ws.$style.err"
done
collect "$WORK/ws.err"

log "TLS: the sandbox CA is required"
"$LF_AUTH" account --token-env TOKEN --sandbox "$A" --timeout-ms 20000 >/dev/null 2>"$WORK/tls.err"
expect_rc "untrusted certificate -> LF_E_TLS" 20 $?
"$LF_AUTH" account --token-env TOKEN --sandbox "$A" --ca-file "$CA_B" --timeout-ms 20000 >/dev/null 2>&1
expect_rc "another CA -> LF_E_TLS" 20 $?
collect "$WORK/tls.err"

log "exchange: --client-secret-stdin, --code-file, --save"
C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
printf '%s\n' "$C" >"$WORK/code.txt"
printf '%s\n' "$SECRET" | "$LF_AUTH" exchange --client-id app --client-secret-stdin --code-file "$WORK/code.txt" \
    --save "$WORK/ex-saved.token" --json "${COMMON_A[@]}" >"$WORK/exs.json" 2>"$WORK/exs.err"
expect_rc "exchange --save" 0 $?
check "exchange --save: mode 0600" test "$(stat -c %a "$WORK/ex-saved.token")" = 600
expect_contains "exchange --save --json" "$WORK/exs.json" '"saved_to"'
"$LF_AUTH" account --token-file "$WORK/ex-saved.token" "${COMMON_A[@]}" >/dev/null 2>&1
expect_rc "saved token works" 0 $?
C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
CODE="$C" "$LF_AUTH" exchange --client-id app --client-secret-env APP_SECRET --code-env CODE \
    --save "$WORK/ex-saved.token" "${COMMON_A[@]}" >/dev/null 2>&1
expect_rc "exchange refuses an existing --save file" 1 $?
CODE="$C" "$LF_AUTH" exchange --client-id app --client-secret-env APP_SECRET --code-env CODE "${COMMON_A[@]}" >/dev/null 2>&1
expect_rc "...without spending the code" 0 $?
collect "$WORK/exs.err"

log "--save: a token that cannot be put in place is kept in a 0600 file, never deleted"
# kept_file ERR: the file lf-auth named on stderr as holding the token.
kept_file() { sed -nE 's/.*the access token is kept in (.*) \(mode 0600\).*/\1/p' "$1" | head -n 1; }
# check_kept NAME ERR OUT: the token is in the named 0600 file, works, and was
# printed nowhere.
check_kept() {
    local name=$1 err=$2 out=$3 kept
    kept=$(kept_file "$err")
    KEPT=$kept
    check "$name: stderr names the file that keeps the token" test -n "$kept"
    [ -n "$kept" ] || return 1
    check "$name: the kept file exists" test -f "$kept"
    check "$name: the kept file has mode 0600" test "$(stat -c %a "$kept" 2>/dev/null)" = 600
    "$LF_AUTH" account --token-file "$kept" "${COMMON_A[@]}" >/dev/null 2>&1
    expect_rc "$name: the kept token works" 0 $?
    expect_not_contains "$name: no token on stderr" "$err" "$(cat "$kept")"
    expect_not_contains "$name: no token on stdout" "$out" "$(cat "$kept")"
}
# With --force the final rename() fails when FILE is a directory.
mkdir "$WORK/tokdir"
C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
CODE="$C" "$LF_AUTH" exchange --client-id app --client-secret-env APP_SECRET --code-env CODE \
    --save "$WORK/tokdir" --force "${COMMON_A[@]}" >"$WORK/keep1.out" 2>"$WORK/keep1.err"
expect_rc "exchange --save DIR --force fails" 1 $?
check_kept "exchange --save DIR --force" "$WORK/keep1.err" "$WORK/keep1.out"
check "the directory is left alone" test -d "$WORK/tokdir"
collect "$WORK/keep1.err"
# Without --force the final link() fails when FILE appeared meanwhile (here:
# while login waits for the redirect, after the up-front check).
start_login keep2 --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 60 --save "$WORK/appeared.token" --json "${COMMON_A[@]}"
printf 'not a token\n' >"$WORK/appeared.token"
curl -sS --max-time 30 -L --cacert "$CA_A" -o /dev/null "$CONSENT_URL"
wait_exit "$LOGIN_PID" 30
expect_rc "login --save: the file appeared meanwhile" 1 "$WAIT_RC"
check "the file that appeared is left alone" test "$(cat "$WORK/appeared.token")" = "not a token"
check_kept "login --save, file appeared" "$WORK/keep2.err" "$WORK/keep2.out"
check "login --save --json names the kept file" python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if e["status"]=="local" and e["token_file"]==sys.argv[2] else 1)' "$WORK/keep2.out" "$KEPT"
collect "$WORK/keep2.err"
# No file can be written at all (RLIMIT_FSIZE 0): the failure says the token
# is lost, prints it nowhere and leaves no partial file behind.
mkdir "$WORK/keep3" "$WORK/keep3.tmp"
C=$(manual_code_A "http://127.0.0.1:$PORT_A/callback")
# stdout and stderr go through pipes, which the limit does not apply to
# (pipefail gives lf-auth's exit status).
{
    (
        ulimit -f 0
        trap '' XFSZ
        CODE="$C" TMPDIR="$WORK/keep3.tmp" exec "$LF_AUTH" exchange --client-id app --client-secret-env APP_SECRET \
            --code-env CODE --save "$WORK/keep3/token" "${COMMON_A[@]}"
    ) | cat >"$WORK/keep3.out"
} 2>&1 | cat >"$WORK/keep3.err"
expect_rc "exchange --save when no file can be written" 1 $?
expect_contains "the token is reported lost" "$WORK/keep3.err" "could not be kept"
check "no partial file is left behind" test -z "$(find "$WORK/keep3" "$WORK/keep3.tmp" -mindepth 1)"
check "nothing on stdout" test ! -s "$WORK/keep3.out"
collect "$WORK/keep3.err"

log "graphql --json"
"$LF_AUTH" graphql --json --token-env TOKEN --query 'query { account { id } }' "${COMMON_A[@]}" >"$WORK/gq.json" 2>/dev/null
expect_rc "graphql --json" 0 $?
check "graphql JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and d["http_status"]==200 and d["body"]["data"]["account"]["id"]=="acct_e2e" else 1)' "$WORK/gq.json"
"$LF_AUTH" graphql --json --token-env TOKEN --query 'query { nope }' "${COMMON_A[@]}" >"$WORK/gq2.json" 2>/dev/null
expect_rc "graphql --json error" 26 $?
check "graphql JSON error" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] is False and d["error"]["key"]=="unsupported_query" and d["body"]["errors"] else 1)' "$WORK/gq2.json"

log "login --open runs xdg-open (a stand-in that plays the browser)"
mkdir -p "$WORK/bin"
cat >"$WORK/bin/xdg-open" <<XDG
#!/bin/sh
curl -sS --max-time 30 -L --cacert "$CA_A" -o "$WORK/xdg.page" "\$1" &
XDG
chmod +x "$WORK/bin/xdg-open"
PATH="$WORK/bin:$PATH" "$LF_AUTH" login --client-id app --client-secret-env APP_SECRET --scope products \
    --port "$PORT_A" --timeout 60 --open "${COMMON_A[@]}" >"$WORK/open.out" 2>"$WORK/open.err" &
OPID=$!
BG_PIDS+=("$OPID")
wait_exit "$OPID" 90
expect_rc "login --open" 0 "$WAIT_RC"
check "login --open: token" test -s "$WORK/open.out"
collect "$WORK/open.err"

log "login --open --save: the browser inherits nothing but stdin, stdout and stderr"
mkdir -p "$WORK/bin2"
cat >"$WORK/bin2/xdg-open" <<XDG
#!/bin/sh
# Record every descriptor this browser inherited, then play the browser. The
# listing runs in another shell, which does the redirection: this one must
# open nothing (dash saves stdout on fd 10+ while it redirects a command, and
# holds a pipeline's pipe while it starts the second command).
sh -c 'exec ls -l /proc/"\$1"/fd >"\$2"' sh \$\$ "$WORK/browser.ls"
sed -nE 's/.* ([0-9]+ -> .*)/\\1/p' "$WORK/browser.ls" >"$WORK/browser.fds"
curl -sS --max-time 30 -L --cacert "$CA_A" -o "$WORK/xdg2.page" "\$1" &
XDG
chmod +x "$WORK/bin2/xdg-open"
PATH="$WORK/bin2:$PATH" "$LF_AUTH" login --client-id app --client-secret-env APP_SECRET --scope products \
    --port "$PORT_A" --timeout 60 --open --save "$WORK/open.token" "${COMMON_A[@]}" >"$WORK/open2.out" 2>"$WORK/open2.err" &
OPID=$!
BG_PIDS+=("$OPID")
wait_exit "$OPID" 90
expect_rc "login --open --save" 0 "$WAIT_RC"
check "login --open --save: the token is saved" test -s "$WORK/open.token"
check "the stand-in browser ran" test -s "$WORK/browser.fds"
expect_not_contains "the browser inherits no descriptor of the token file" "$WORK/browser.fds" "open.token"
expect_not_contains "the browser inherits no socket" "$WORK/browser.fds" "socket:"
# Besides stdio, only the shell's own descriptor for its script may be there.
check "the browser inherits nothing else" test -z "$(grep -Ev "^[012] -> |/bin2/xdg-open\$" "$WORK/browser.fds")"
grep -Ev "^[012] -> |/bin2/xdg-open$" "$WORK/browser.fds" >&2 || true  # shows what else, on a failure
collect "$WORK/open2.err"

log "login: every descriptor lf-auth opens is close-on-exec (token file, listener, connections)"
start_login cloexec --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 60 --save "$WORK/cloexec.token" "${COMMON_A[@]}"
# A connection held open, so that lf-auth holds an accepted socket too.
python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(4)' \
    "$PORT_A" &
BG_PIDS+=("$!")
sockets=0
for ((i = 0; i < 50; i++)); do
    sockets=$(find "/proc/$LOGIN_PID/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
    [ "$sockets" -ge 2 ] && break
    sleep 0.1
done
check "lf-auth holds the listener and an accepted connection ($sockets sockets)" test "$sockets" -ge 2
check "every socket and the token file of lf-auth is close-on-exec" python3 - "$LOGIN_PID" "$WORK/cloexec.token." <<'PY'
import os, sys
pid, tmp = sys.argv[1], sys.argv[2]
checked = {"socket": 0, "file": 0}
bad = []
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
        info = open("/proc/%s/fdinfo/%s" % (pid, fd)).read()
    except OSError:
        continue  # closed meanwhile
    kind = "socket" if target.startswith("socket:") else "file" if target.startswith(tmp) else None
    if kind is None:
        continue
    checked[kind] += 1
    flags = int(info.split("flags:")[1].split()[0], 8)
    if not flags & 0o2000000:
        bad.append("%s -> %s" % (fd, target))
print("checked", checked, "without O_CLOEXEC:", bad)
sys.exit(0 if not bad and checked["socket"] >= 2 and checked["file"] == 1 else 1)
PY
curl -sS --max-time 30 -L --cacert "$CA_A" -o /dev/null "$CONSENT_URL"
wait_exit "$LOGIN_PID" 30
expect_rc "login after the descriptor checks" 0 "$WAIT_RC"
collect "$WORK/cloexec.err"

log "login (auto-approve), token on stdout"
start_login login1 --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 60 "${COMMON_A[@]}"
expect_contains "login prints the redirect URI" "$WORK/login1.err" "LF_AUTH_REDIRECT_URI=http://127.0.0.1:$PORT_A/callback"
curl -sS --max-time 30 -L --cacert "$CA_A" -o "$WORK/login1.page" "$CONSENT_URL"
expect_rc "browser follows the redirect to the listener" 0 $?
expect_contains "listener page" "$WORK/login1.page" "Authorized"
wait_exit "$LOGIN_PID" 30
expect_rc "login" 0 "$WAIT_RC"
LTOKEN=$(cat "$WORK/login1.out")
check "login token" test -n "$LTOKEN"
LTOKEN="$LTOKEN" "$LF_AUTH" account --token-env LTOKEN "${COMMON_A[@]}" >"$WORK/acct2.out" 2>/dev/null
expect_rc "login token works" 0 $?
collect "$WORK/login1.err"

log "login --save (0600), refuses an existing file, --force replaces"
start_login login2 --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 60 --save "$WORK/saved.token" --json "${COMMON_A[@]}"
curl -sS --max-time 30 -L --cacert "$CA_A" -o /dev/null "$CONSENT_URL"
wait_exit "$LOGIN_PID" 30
expect_rc "login --save" 0 "$WAIT_RC"
check "saved file mode 0600" test "$(stat -c %a "$WORK/saved.token")" = 600
"$LF_AUTH" account --token-file "$WORK/saved.token" "${COMMON_A[@]}" --quiet >"$WORK/acct3.out"
expect_rc "saved token works" 0 $?
expect_contains "login --save --json" "$WORK/login2.out" '"saved_to"'
expect_not_contains "login --save prints no token" "$WORK/login2.out" "$(cat "$WORK/saved.token")"
"$LF_AUTH" login --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 5 --save "$WORK/saved.token" "${COMMON_A[@]}" >/dev/null 2>"$WORK/exists.err"
expect_rc "existing --save file is refused up front" 1 $?
expect_not_contains "refused before listening" "$WORK/exists.err" "LF_AUTH_CONSENT_URL"
OLD=$(cat "$WORK/saved.token")
start_login login3 --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 60 --save "$WORK/saved.token" --force "${COMMON_A[@]}"
curl -sS --max-time 30 -L --cacert "$CA_A" -o /dev/null "$CONSENT_URL"
wait_exit "$LOGIN_PID" 30
expect_rc "login --save --force" 0 "$WAIT_RC"
check "--force replaced the token" test "$(cat "$WORK/saved.token")" != "$OLD"
check "--force keeps mode 0600" test "$(stat -c %a "$WORK/saved.token")" = 600

log "login with an explicit --redirect-uri (port and path)"
start_login login4 --client-id app --client-secret-env APP_SECRET --scope products \
    --redirect-uri "http://127.0.0.1:$PORT_B/cb/path" --timeout 60 --json "${COMMON_A[@]}"
curl -sS --max-time 30 -o /dev/null "http://127.0.0.1:$PORT_B/favicon.ico"
curl -sS --max-time 30 -L --cacert "$CA_A" -o /dev/null "$CONSENT_URL"
wait_exit "$LOGIN_PID" 30
expect_rc "login --redirect-uri" 0 "$WAIT_RC"
check "login --json" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and d["access_token"] and d["redirect_uri"].endswith("/cb/path") else 1)' "$WORK/login4.out"

log "login: a wrong or missing state gets 400 and the login keeps waiting"
start_login login5 --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_A" \
    --timeout 60 "${COMMON_A[@]}"
LOC=$(redirect_of "$CONSENT_URL" --cacert "$CA_A")
C=$(printf '%s' "$LOC" | sed -nE 's/.*[?&]code=([^&]*).*/\1/p')
CB="http://127.0.0.1:$PORT_A/callback"
# Any local page can send these; none of them may end the login. The first is
# an attacker's (or stale) redirect: a real code, another state.
BAD=$(printf '%s' "$LOC" | sed -E 's/state=[^&]*/state=forged/')
n=0
for u in "$BAD" "$CB?code=$C" "$CB" "$CB?code=a&code=b" "$CB?error=access_denied&state=forged" "$CB?state=%zz"; do
    n=$((n + 1))
    HTTP=$(curl -sS --max-time 30 -o "$WORK/login5.$n.page" -w '%{http_code}' "$u")
    check "login: request $n without this login's state gets 400 (got $HTTP)" test "$HTTP" = 400
    expect_contains "login: request $n: the page says why" "$WORK/login5.$n.page" "state"
    check "login: request $n does not end the login" kill -0 "$LOGIN_PID"
done
expect_contains "wrong state page names the status" "$WORK/login5.1.page" "LF_E_STATE_MISMATCH"
expect_contains "refused requests are reported" "$WORK/login5.err" "still waiting"
# The code of the forged redirect was not spent: the real redirect completes.
HTTP=$(curl -sS --max-time 30 -o "$WORK/login5.page" -w '%{http_code}' "$LOC")
check "the right redirect after refused ones gets 200 (got $HTTP)" test "$HTTP" = 200
expect_contains "the right redirect's page" "$WORK/login5.page" "Authorized"
wait_exit "$LOGIN_PID" 30
expect_rc "login after refused requests" 0 "$WAIT_RC"
LTOKEN=$(cat "$WORK/login5.out")
check "login after refused requests: token" test -n "$LTOKEN"
LTOKEN="$LTOKEN" "$LF_AUTH" account --token-env LTOKEN "${COMMON_A[@]}" >/dev/null 2>&1
expect_rc "login after refused requests: the token works" 0 $?
collect "$WORK/login5.err"

log "login: unlisted redirect URI (the sandbox refuses, lf-auth times out)"
start_login login6 --client-id app --client-secret-env APP_SECRET --scope products --port "$PORT_X" \
    --timeout 3 "${COMMON_A[@]}"
HTTP=$(curl -sS --max-time 30 --cacert "$CA_A" -o "$WORK/unlisted.page" -w '%{http_code} %{redirect_url}' "$CONSENT_URL")
check "sandbox answers 400 without a redirect" test "$HTTP" = "400 "
wait_exit "$LOGIN_PID" 30
expect_rc "login: no redirect -> LF_E_TIMEOUT" 19 "$WAIT_RC"
expect_contains "timeout message" "$WORK/login6.err" "LF_E_TIMEOUT"

log "login: denied consent (consent page, Deny)"
start_login login7 --client-id app2 --client-secret-env APP_SECRET --scope products,orders --port "$PORT_C" \
    --timeout 60 "${COMMON_B[@]}"
LOC=$(consent_click "$CONSENT_URL" deny --cacert "$CA_B")
check "deny redirects with error=access_denied" test "${LOC#*error=access_denied}" != "$LOC"
# A declined consent ends the login only with this login's state.
HTTP=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "$(printf '%s' "$LOC" | sed -E 's/state=[^&]*/state=forged/')")
check "a denial with another state gets 400 (got $HTTP)" test "$HTTP" = 400
check "...and does not end the login" kill -0 "$LOGIN_PID"
curl -sS --max-time 30 -o "$WORK/login7.page" "$LOC"
wait_exit "$LOGIN_PID" 30
expect_rc "login: denied -> LF_E_ACCESS_DENIED" 17 "$WAIT_RC"
expect_contains "denied message" "$WORK/login7.err" "access_denied"
expect_contains "denied page" "$WORK/login7.page" "declined"

log "login: consent page, Approve"
start_login login8 --client-id app2 --client-secret-env APP_SECRET --scope products --port "$PORT_C" \
    --timeout 60 "${COMMON_B[@]}"
LOC=$(consent_click "$CONSENT_URL" approve --cacert "$CA_B")
curl -sS --max-time 30 -o /dev/null "$LOC"
wait_exit "$LOGIN_PID" 30
expect_rc "login: approved on the consent page" 0 "$WAIT_RC"
check "approve: token" test -s "$WORK/login8.out"

log "expired code (--code-ttl 1)"
"$LF_AUTH" consent-url --client-id app2 --redirect-uri "http://127.0.0.1:$PORT_C/callback" --scope products \
    --state s1 "${COMMON_E[@]}" >"$WORK/cu2.out" 2>/dev/null
LOC=$(consent_click "$(cat "$WORK/cu2.out")" approve --cacert "$CA_E")
C=$(LOC="$LOC" "$LF_AUTH" callback --url-env LOC --state s1)
expect_rc "callback for the expiring code" 0 $?
sleep 2.5
CODE="$C" "$LF_AUTH" exchange --client-id app2 --client-secret-env APP_SECRET --code-env CODE "${COMMON_E[@]}" \
    >"$WORK/exp.out" 2>"$WORK/exp.err"
expect_rc "expired code -> LF_E_INVALID_CODE" 23 $?
expect_not_contains "expired: no code in errors" "$WORK/exp.err" "$C"
collect "$WORK/exp.err"

log "webhooks create | list | delete (createWebhook, the sandbox's webhooks query, deleteWebhook)"
HOOK_URL="http://127.0.0.1:$PORT_X/hooks"
# wh NAME ARGS...: lf-auth webhooks ARGS against sandbox A, stdout and stderr
# in $WORK/NAME.out and .err (both kept for the final no-secret check).
wh() {
    local name=$1
    shift
    "$LF_AUTH" webhooks "$@" "${COMMON_A[@]}" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    collect "$WORK/$name.out" "$WORK/$name.err"
    return $rc
}
# sandbox_webhooks: the install's webhooks as the sandbox itself lists them
# (the token goes in a header file, never in argv).
printf 'Authorization: Bearer %s\n' "$TOKEN" >"$WORK/bearer.hdr"
sandbox_webhooks() {
    curl -sS --max-time 20 --cacert "$CA_A" -H @"$WORK/bearer.hdr" -H 'Content-Type: application/json' \
        --data-binary '{"query":"query { webhooks { id type url settings } }"}' "$A/api/v2"
}
wh whc create --token-env TOKEN --type order/confirmed --url "$HOOK_URL"
expect_rc "webhooks create" 0 $?
WH1=$(cat "$WORK/whc.out")
check "create prints the new id, one line" python3 -c 'import re,sys; sys.exit(0 if re.fullmatch(r"webhook_[A-Za-z0-9_-]{20}\n", open(sys.argv[1]).read()) else 1)' "$WORK/whc.out"
expect_not_contains "a documented type is not warned about" "$WORK/whc.err" "typo"
sandbox_webhooks >"$WORK/sbwh.json"
check "the sandbox lists the new webhook" python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["data"]["webhooks"]; sys.exit(0 if [(x["id"],x["type"],x["url"],x["settings"]) for x in w]==[(sys.argv[2],"order/confirmed",sys.argv[3],{})] else 1)' "$WORK/sbwh.json" "$WH1" "$HOOK_URL"
printf '%s\n' "$TOKEN" | wh whc2 create --token-stdin --type order/created --url "$HOOK_URL" \
    --settings '{"segments_uids":["seg_1"]}' --json
expect_rc "webhooks create --token-stdin --settings --json" 0 $?
WH2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["webhook"]["id"])' "$WORK/whc2.out")
check "create --json prints the whole node" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); w=d["webhook"]; sys.exit(0 if d["ok"] and w["id"].startswith("webhook_") and w["type"]=="order/created" and w["url"]==sys.argv[2] and w["settings"]=={"segments_uids":["seg_1"]} and "version" in w else 1)' "$WORK/whc2.out" "$HOOK_URL"

wh whl list --token-file "$WORK/token.txt"
expect_rc "webhooks list" 0 $?
printf '%s\t%s\t%s\n' "$WH1" order/confirmed "$HOOK_URL" "$WH2" order/created "$HOOK_URL" >"$WORK/whl.want"
check "list: one line per webhook (id, type, url), registration order" cmp "$WORK/whl.out" "$WORK/whl.want"
wh whl2 list --token-env TOKEN --json
expect_rc "webhooks list --json" 0 $?
check "list --json" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and [(w["id"],w["type"],w["url"]) for w in d["webhooks"]]==[(sys.argv[2],"order/confirmed",sys.argv[4]),(sys.argv[3],"order/created",sys.argv[4])] and d["webhooks"][1]["settings"]=={"segments_uids":["seg_1"]} else 1)' "$WORK/whl2.out" "$WH1" "$WH2" "$HOOK_URL"

wh whbad create --token-env TOKEN --type order/confirmd --url "$HOOK_URL"
expect_rc "create with an undocumented type -> the sandbox refuses, LF_E_API" 26 $?
expect_contains "a likely typo is warned about" "$WORK/whbad.err" "'order/confirmd'"
expect_contains "...and sent anyway: the sandbox's key" "$WORK/whbad.err" "webhooks_invalid_type"
check "bad type: nothing on stdout" test ! -s "$WORK/whbad.out"
wh whbad2 create --token-env TOKEN --type 'order/x"}) { id } }#' --url "$HOOK_URL" --json
expect_rc "a type with GraphQL syntax in it -> LF_E_API" 26 $?
check "it travels as a variable, not as query text (webhooks_invalid_type, not graphql_syntax)" python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if e["status"]=="LF_E_API" and e["exit"]==26 and e["key"]=="webhooks_invalid_type" else 1)' "$WORK/whbad2.out"
wh whdup create --token-env TOKEN --type order/confirmed --url "$HOOK_URL"
expect_rc "create the same webhook twice -> LF_E_API" 26 $?
expect_contains "duplicate: the sandbox's key" "$WORK/whdup.err" "webhooks_duplicated"

wh whd delete --token-env TOKEN --id "$WH1"
expect_rc "webhooks delete" 0 $?
check "delete prints the deleted id" test "$(cat "$WORK/whd.out")" = "$WH1"
sandbox_webhooks >"$WORK/sbwh2.json"
check "the sandbox no longer lists it" python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["data"]["webhooks"]; sys.exit(0 if [x["id"] for x in w]==[sys.argv[2]] else 1)' "$WORK/sbwh2.json" "$WH2"
wh whd2 delete --token-env TOKEN --id "$WH1"
expect_rc "delete again -> LF_E_API" 26 $?
expect_contains "delete again: the sandbox's key" "$WORK/whd2.err" "webhooks_not_found"
wh whd3 delete --token-env TOKEN --id "$WH1" --json
expect_rc "delete again --json" 26 $?
check "delete again JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["error"]; sys.exit(0 if d["ok"] is False and e["status"]=="LF_E_API" and e["key"]=="webhooks_not_found" else 1)' "$WORK/whd3.out"
wh whd4 delete --token-env TOKEN --id "$WH2" --json
expect_rc "delete --json" 0 $?
check "delete --json" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and d["deleted"]==sys.argv[2] else 1)' "$WORK/whd4.out" "$WH2"
wh whl3 list --token-env TOKEN
expect_rc "list with no webhooks" 0 $?
check "list with no webhooks prints nothing" test ! -s "$WORK/whl3.out"
for f in whc whc2 whl whl2 whbad whbad2 whdup whd whd2 whd3 whd4 whl3; do
    expect_not_contains "webhooks: no token in $f.out" "$WORK/$f.out" "$TOKEN"
    expect_not_contains "webhooks: no token in $f.err" "$WORK/$f.err" "$TOKEN"
done

log "revoked token (POST /_sandbox/revoke)"
"$LF_AUTH" account --token-env TOKEN "${COMMON_A[@]}" >/dev/null 2>&1
expect_rc "token valid before revocation" 0 $?
python3 -c 'import json,sys; print(json.dumps({"access_token": sys.argv[1]}))' "$TOKEN" >"$WORK/revoke.json"
HTTP=$(curl -sS --max-time 20 --cacert "$CA_A" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$WORK/revoke.json" "$A/_sandbox/revoke")
check "revoke answers 200" test "$HTTP" = 200
"$LF_AUTH" account --token-env TOKEN "${COMMON_A[@]}" --json >"$WORK/rev.json" 2>"$WORK/rev.err"
expect_rc "revoked token -> LF_E_UNAUTHORIZED" 25 $?
check "revoked JSON" python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if e["status"]=="LF_E_UNAUTHORIZED" and e["http_status"]==401 else 1)' "$WORK/rev.json"
expect_not_contains "revoked: no token in errors" "$WORK/rev.err" "$TOKEN"
expect_not_contains "revoked: no token in JSON" "$WORK/rev.json" "$TOKEN"
"$LF_AUTH" graphql --token-env TOKEN --query 'query { account { id } }' "${COMMON_A[@]}" >/dev/null 2>"$WORK/rev2.err"
expect_rc "graphql with a revoked token" 25 $?
collect "$WORK/rev.err" "$WORK/rev2.err"

log "webhooks signed by the sandbox verify with lf-auth"
RPORT=$(free_port)
python3 "$TESTS_DIR/webhook_receiver.py" "$RPORT" "$WORK/hook" 30 >"$WORK/recv.out" 2>"$WORK/recv.err" &
RPID=$!
BG_PIDS+=("$RPID")
wait_for_line "$WORK/recv.out" '^READY' 10 >/dev/null || fail "webhook receiver did not start"
HTTP=$(curl -sS --max-time 20 --cacert "$CA_A" -o "$WORK/wh.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"client_id\":\"app\",\"url\":\"http://127.0.0.1:$RPORT/hooks\"}" "$A/_sandbox/webhook")
check "sandbox delivered the webhook" test "$HTTP" = 200
wait_exit "$RPID" 20
expect_rc "receiver got one webhook" 0 "$WAIT_RC"
"$LF_AUTH" webhook-verify --client-secret-env APP_SECRET --body-file "$WORK/hook.body" \
    --signature "$(cat "$WORK/hook.hmac")" >"$WORK/whv.out"
expect_rc "sandbox webhook verifies" 0 $?
"$LF_AUTH" webhook-sign --client-secret-env APP_SECRET --body-file "$WORK/hook.body" >"$WORK/whs.out"
check "webhook-sign matches the sandbox's header" test "$(cat "$WORK/whs.out")" = "$(tr -d ' \t' <"$WORK/hook.hmac")"
"$LF_AUTH" webhook-verify --client-secret-env WRONG_SECRET --body-file "$WORK/hook.body" \
    --signature "$(cat "$WORK/hook.hmac")" >/dev/null
expect_rc "another secret does not verify" 29 $?

log "no secret in any error output"
expect_not_contains "client secret" "$ALL_OUT" "$SECRET"
expect_not_contains "wrong secret" "$ALL_OUT" "$WRONG_SECRET"
expect_not_contains "access token" "$ALL_OUT" "$TOKEN"
for f in "$WORK"/sbA.err "$WORK"/sbB.err "$WORK"/sbE.err; do
    expect_not_contains "sandbox log redacts the secret ($f)" "$f" "$SECRET"
done

finish
