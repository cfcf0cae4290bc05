#!/usr/bin/env bash
# demo.sh — the whole Lightfunnels app-authorization flow on this machine,
# against a local lf-sandbox over HTTPS (a throwaway CA made in a temp dir):
#   1. start lf-sandbox (auto-approve, one client with a throwaway secret)
#   2. `lf-auth login` listens on 127.0.0.1 and prints the consent URL
#   3. a "browser" (curl) opens the consent URL and follows the redirect
#   4. lf-auth checks the state, exchanges the code (HTTP Basic at
#      /api/access_token, the default) and saves the token (0600)
#   5. `lf-auth account` shows which account the token belongs to
#   6. `lf-auth webhook-sign` / `webhook-verify` on a sample body
#
# Assumes the project is built: BUILD_DIR (default: ./build of this checkout)
# holds tools/lf-auth/lf-auth and tools/lf-sandbox/lf-sandbox (override with
# LF_AUTH / LF_SANDBOX). Exits non-zero on any failure; every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
LF_AUTH=${LF_AUTH:-$BUILD_DIR/tools/lf-auth/lf-auth}
LF_SANDBOX=${LF_SANDBOX:-$BUILD_DIR/tools/lf-sandbox/lf-sandbox}

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' G='' R='' N=''; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
info() { printf '    %s\n' "$*"; }
die() {
    printf '%sdemo failed: %s%s\n' "$R" "$*" "$N" >&2
    exit 1
}

for bin in "$LF_AUTH" "$LF_SANDBOX"; do
    [ -x "$bin" ] || die "$bin not found: build the project first (cmake --build $BUILD_DIR), or set BUILD_DIR"
done
command -v curl >/dev/null || die "curl is required"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lf-demo.XXXXXX")
SANDBOX_PID=""
LOGIN_PID=""
cleanup() {
    local rc=$?
    [ -n "$LOGIN_PID" ] && kill "$LOGIN_PID" 2>/dev/null || true
    if [ -n "$SANDBOX_PID" ]; then
        kill "$SANDBOX_PID" 2>/dev/null || true
        wait "$SANDBOX_PID" 2>/dev/null || true
        info "lf-sandbox stopped"
    fi
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/sandbox.err "$TMP"/login.err; do
            [ -s "$f" ] && { echo "---- $(basename "$f") (last lines)" >&2; tail -n 15 "$f" >&2; }
        done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_line FILE REGEX SECONDS: prints the first matching line.
wait_for_line() {
    local i line
    for ((i = 0; i < $3 * 10; i++)); do
        if line=$(grep -m1 -E -- "$2" "$1" 2>/dev/null); then
            printf '%s\n' "$line"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

mask() { # first 6 characters, then the length
    local t=$1
    printf '%s…(%d characters)' "${t:0:6}" "${#t}"
}

# ---------------------------------------------------------------------------
step "1. Start lf-sandbox over HTTPS (throwaway CA in $TMP/tls)"
CLIENT_ID=demo-app
# A throwaway secret: lf-sandbox gets it on its command line (test credentials
# only); lf-auth reads it from an environment variable, never from argv.
DEMO_CLIENT_SECRET=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
export DEMO_CLIENT_SECRET
PORT=$(free_port)
REDIRECT="http://127.0.0.1:$PORT/callback"
"$LF_SANDBOX" --tls-self-signed "$TMP/tls" --auto-approve --account-id acct_demo_42 \
    --client "$CLIENT_ID:$DEMO_CLIENT_SECRET:$REDIRECT" >"$TMP/sandbox.out" 2>"$TMP/sandbox.err" &
SANDBOX_PID=$!
line=$(wait_for_line "$TMP/sandbox.out" '^LF_SANDBOX_URL=' 30) || die "lf-sandbox did not start within 30 s"
SANDBOX=${line#LF_SANDBOX_URL=}
CA="$TMP/tls/ca.pem"
info "sandbox:          $SANDBOX"
info "CA certificate:   $CA"
info "client id:        $CLIENT_ID (redirect URI $REDIRECT whitelisted)"
COMMON=(--sandbox "$SANDBOX" --ca-file "$CA")

# ---------------------------------------------------------------------------
step "2. lf-auth login: listen on 127.0.0.1:$PORT and print the consent URL"
"$LF_AUTH" login "${COMMON[@]}" --client-id "$CLIENT_ID" --client-secret-env DEMO_CLIENT_SECRET \
    --scope products,orders --port "$PORT" --timeout 60 --save "$TMP/token" \
    >"$TMP/login.out" 2>"$TMP/login.err" &
LOGIN_PID=$!
line=$(wait_for_line "$TMP/login.err" '^LF_AUTH_CONSENT_URL=' 30) || die "lf-auth login printed no consent URL"
CONSENT_URL=${line#LF_AUTH_CONSENT_URL=}
info "consent URL:      ${CONSENT_URL%%&state=*}&state=…"

# ---------------------------------------------------------------------------
step "3. The merchant's browser (curl) opens it; the sandbox approves and redirects"
RESULT=$(curl -sS --max-time 30 --cacert "$CA" -L --max-redirs 2 -o "$TMP/page.html" \
    -w '%{http_code} %{num_redirects}' "$CONSENT_URL") || die "the browser step failed"
info "redirects followed: ${RESULT#* }, final page HTTP ${RESULT%% *}: $(sed -n 's/.*<h1>\([^<]*\)<\/h1>.*/\1/p' "$TMP/page.html")"

# ---------------------------------------------------------------------------
step "4. lf-auth checks the state, exchanges the single-use code, saves the token"
rc=124
for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$LOGIN_PID" 2>/dev/null; then
        set +e
        wait "$LOGIN_PID"
        rc=$?
        set -e
        break
    fi
    sleep 0.1
done
LOGIN_PID_DONE=$LOGIN_PID
LOGIN_PID=""
[ "$rc" -eq 0 ] || die "lf-auth login exited with status $rc (pid $LOGIN_PID_DONE)"
grep -v '^LF_AUTH_' "$TMP/login.err" | sed 's/^/    /'
# lf-auth's default is the platform's documented exchange: HTTP Basic at
# /api/access_token (the sandbox logs each token request, without secrets).
grep -q "POST /api/access_token 200 client_id=$CLIENT_ID" "$TMP/sandbox.err" ||
    die "the code was not exchanged with HTTP Basic at /api/access_token"
info "token exchange:   HTTP Basic, POST $SANDBOX/api/access_token"
TOKEN=$(cat "$TMP/token")
info "token file:       $TMP/token (mode $(stat -c %a "$TMP/token"))"
info "access token:     $(mask "$TOKEN")"

# ---------------------------------------------------------------------------
step "5. lf-auth account: which account does the token belong to?"
ACCOUNT=$("$LF_AUTH" account "${COMMON[@]}" --token-file "$TMP/token" --quiet) || die "lf-auth account failed"
info "account id:       $ACCOUNT"
[ "$ACCOUNT" = acct_demo_42 ] || die "unexpected account id $ACCOUNT"

# ---------------------------------------------------------------------------
step "6. Webhooks: sign a sample body, verify it, and reject a tampered copy"
printf '{"event":"order/confirmed","order":{"id":"ord_1001","total":"49.90","currency":"USD"}}' >"$TMP/webhook.json"
SIG=$("$LF_AUTH" webhook-sign --client-secret-env DEMO_CLIENT_SECRET --body-file "$TMP/webhook.json")
info "body:             $(cat "$TMP/webhook.json")"
info "lightfunnels-hmac: $SIG"
VERDICT=$("$LF_AUTH" webhook-verify --client-secret-env DEMO_CLIENT_SECRET --signature "$SIG" \
    --body-file "$TMP/webhook.json") || die "a correctly signed webhook did not verify"
info "verify:           $VERDICT"
sed 's/49.90/0.01/' "$TMP/webhook.json" >"$TMP/tampered.json"
set +e
VERDICT=$("$LF_AUTH" webhook-verify --client-secret-env DEMO_CLIENT_SECRET --signature "$SIG" \
    --body-file "$TMP/tampered.json")
rc=$?
set -e
[ "$rc" -eq 29 ] || die "a tampered webhook was not rejected (exit $rc)"
info "tampered body:    $VERDICT (exit $rc = 10 + LF_E_SIGNATURE_MISMATCH)"

step "${G}Demo complete: consent → code → token → account → webhooks all worked.${N}"
