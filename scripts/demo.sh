#!/usr/bin/env bash
# demo.sh — the whole life of a Lightfunnels app on this machine, against a
# local lf-sandbox over HTTPS (a throwaway CA made in a temp dir):
#   1. lf-sandbox starts: one app client, its app URL shown in the admin iframe
#   2. the reference app (examples/app) starts: SQLite, tokens sealed under a key file
#   3. a merchant (headless Chromium) opens the admin page, clicks Install inside
#      the app's iframe, approves consent there, and lands back in the app
#   4. the app holds the install: token sealed in the database, webhooks registered
#   5. an order/created event fired through the sandbox reaches the app, verified
#   6. the merchant opens the admin again: the app's page lists the order
#   7. an uninstall through the sandbox: app/uninstalled removes the token,
#      and the old token (from a backup) gets 401
#   8. the app stops gracefully
#
# Assumes the project is built: BUILD_DIR (default ./build of this checkout)
# holds tools/lf-sandbox/lf-sandbox and examples/app/lf-example-app (override
# with LF_SANDBOX / LF_APP). Exits non-zero on any failure; every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
LF_SANDBOX=${LF_SANDBOX:-$BUILD_DIR/tools/lf-sandbox/lf-sandbox}
LF_APP=${LF_APP:-$BUILD_DIR/examples/app/lf-example-app}
export PYTHONDONTWRITEBYTECODE=1

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' G='' R='' N=''; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
info() { printf '    %s\n' "$*"; }
die() {
    printf '%sdemo failed: %s%s\n' "$R" "$*" "$N" >&2
    exit 1
}

for bin in "$LF_SANDBOX" "$LF_APP"; do
    [ -x "$bin" ] || die "$bin not found: build the project first (scripts/build.sh), or set BUILD_DIR"
done
for cmd in curl python3 openssl; do
    command -v "$cmd" >/dev/null || die "$cmd is required (scripts/deps.sh demo)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lf-demo.XXXXXX")
chmod 700 "$TMP"
SANDBOX_PID=""
APP_PID=""
stop_pid() { # PID NAME: SIGTERM, then wait at most 10 s
    local i
    kill "$1" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    info "$2 stopped"
}
cleanup() {
    local rc=$?
    [ -n "$APP_PID" ] && stop_pid "$APP_PID" "the app"
    [ -n "$SANDBOX_PID" ] && stop_pid "$SANDBOX_PID" "lf-sandbox"
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/sandbox.err "$TMP"/app.err "$TMP"/profile.chromium.err; do
            [ -s "$f" ] && { echo "---- $(basename "$f") (last lines)" >&2; tail -n 20 "$f" >&2; }
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
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

mask() { # first 4 characters, then the length
    printf '%s…(%d characters)' "${1:0:4}" "${#1}"
}

# sql DB QUERY: one value per line (python3's sqlite3; no sqlite3 CLI needed).
sql() {
    python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print(*r, sep="|") for r in c.execute(sys.argv[2])]' "$1" "$2"
}

# app_check DB: `lf-example-app check-token` on DB (the same settings as the
# running app); prints its verdict, returns its status (0 works, 3 refused).
app_check() {
    env LF_APP_DB="$1" LF_APP_CLIENT_ID="$CLIENT_ID" LF_APP_CLIENT_SECRET_FILE="$TMP/client-secret" \
        LF_APP_REDIRECT_URI="$APP_URL/callback" LF_APP_PUBLIC_URL="$APP_URL" LF_APP_TOKEN_KEY_FILE="$TMP/token.key" \
        LF_APP_API_URL="$SANDBOX/api/v2" LF_APP_CA_FILE="$CA" "$LF_APP" check-token "$ACCOUNT"
}

# control PATH JSON: POST to the sandbox's control endpoint, prints the answer.
control() {
    curl -sS --fail-with-body --max-time 30 --cacert "$CA" -H 'Content-Type: application/json' -d "$2" "$SANDBOX$1"
}

# ---------------------------------------------------------------------------
step "1. Start lf-sandbox over HTTPS (throwaway CA in $TMP/tls)"
CLIENT_ID=demo-app
ACCOUNT=acct_demo_42
APP_PORT=$(free_port)
# The app as the merchant's browser sees it: localhost, another site than the
# sandbox's 127.0.0.1, so the iframe is truly third-party. Webhooks go to
# 127.0.0.1 (the sandbox delivers to loopback addresses as written).
APP_URL="http://localhost:$APP_PORT"
# Throwaway secret, written to 0600 files for both programs (never on argv).
umask 077
CLIENT_SECRET=$(openssl rand -hex 24)
printf '%s\n' "$CLIENT_SECRET" >"$TMP/client-secret"
printf '{"clients":[{"client_id":"%s","client_secret":"%s","redirect_uris":["%s/callback"],"account_id":"%s","app_url":"%s/"}]}\n' \
    "$CLIENT_ID" "$CLIENT_SECRET" "$APP_URL" "$ACCOUNT" "$APP_URL" >"$TMP/sandbox.json"
"$LF_SANDBOX" --tls-self-signed "$TMP/tls" --config "$TMP/sandbox.json" --exit-with-parent \
    >"$TMP/sandbox.out" 2>"$TMP/sandbox.err" &
SANDBOX_PID=$!
line=$(wait_for_line "$TMP/sandbox.out" '^LF_SANDBOX_URL=' 30) || die "lf-sandbox did not start within 30 s"
SANDBOX=${line#LF_SANDBOX_URL=}
CA="$TMP/tls/ca.pem"
# Chromium trusts exactly this key (not every bad certificate).
SPKI=$(openssl x509 -in "$TMP/tls/server-cert.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | base64)
info "sandbox:          $SANDBOX   (admin page $SANDBOX/admin/apps/$CLIENT_ID)"
info "client:           $CLIENT_ID, secret $(mask "$CLIENT_SECRET"), account $ACCOUNT"
info "server key SPKI:  $SPKI (the only key Chromium will accept)"

# ---------------------------------------------------------------------------
step "2. Start the app (examples/app) on $APP_URL"
openssl rand -hex 32 >"$TMP/token.key"
DB="$TMP/app.db"
env LF_APP_CLIENT_ID="$CLIENT_ID" LF_APP_CLIENT_SECRET_FILE="$TMP/client-secret" \
    LF_APP_REDIRECT_URI="$APP_URL/callback" LF_APP_PUBLIC_URL="http://127.0.0.1:$APP_PORT" \
    LF_APP_PORT="$APP_PORT" LF_APP_DB="$DB" LF_APP_TOKEN_KEY_FILE="$TMP/token.key" \
    LF_APP_ADMIN_ORIGIN="$SANDBOX" LF_APP_SCOPES=orders LF_APP_CLIENT_AUTH=basic \
    LF_APP_AUTHORIZE_URL="$SANDBOX/admin/oauth" LF_APP_TOKEN_URL="$SANDBOX/api/access_token" \
    LF_APP_API_URL="$SANDBOX/api/v2" LF_APP_CA_FILE="$CA" \
    "$LF_APP" >"$TMP/app.out" 2>"$TMP/app.err" &
APP_PID=$!
wait_for_line "$TMP/app.out" '^LF_APP_LISTENING=' 30 >/dev/null || die "the app did not start within 30 s"
info "database:         $DB"
info "token key:        $TMP/token.key (0600, outside the database)"
info "frame-ancestors:  $(curl -sS --max-time 10 -D - -o /dev/null "$APP_URL/" |
    sed -n 's/^Content-Security-Policy: \(frame-ancestors [^;]*\).*/\1/Ip' | tr -d '\r')"

# ---------------------------------------------------------------------------
step "3. The merchant (headless Chromium) installs the app from inside the admin iframe"
export LF_DEMO_PROFILE="$TMP/profile" LF_DEMO_SPKI="$SPKI"
python3 "$ROOT/scripts/demo_merchant.py" install "$SANDBOX/admin/apps/$CLIENT_ID" "$APP_URL" "$ACCOUNT" ||
    die "the merchant could not install the app"

# ---------------------------------------------------------------------------
step "4. What the app keeps"
row=$(sql "$DB" "SELECT account_id, key_id, substr(sealed_token, 1, 12) FROM installs")
[ -n "$row" ] || die "no install in the app's database"
IFS='|' read -r acct key_id sealed <<<"$row"
[ "$acct" = "$ACCOUNT" ] || die "the install is for $acct, not $ACCOUNT"
info "installs:         account $acct, token sealed as $sealed… (AES-256-GCM, key $key_id)"
while IFS='|' read -r type id; do info "webhook:          $type -> $id"; done < <(sql "$DB" "SELECT type, webhook_id FROM webhooks ORDER BY type")
[ "$(sql "$DB" "SELECT COUNT(*) FROM webhooks")" = 2 ] || die "the app did not register its two webhooks"
verdict=$(app_check "$DB") || die "the stored token does not work: $verdict"
info "check-token:      $verdict"

# ---------------------------------------------------------------------------
step "5. An order: the sandbox fires order/created at the app's webhook"
answer=$(control /_sandbox/event "{\"account_id\":\"$ACCOUNT\",\"type\":\"order/created\"}") ||
    die "the sandbox refused the event: $answer"
info "sandbox:          $answer"
for ((i = 0; i < 50; i++)); do
    [ "$(sql "$DB" "SELECT COUNT(*) FROM events WHERE type = 'order/created'")" = 1 ] && break
    sleep 0.1
done
ORDER=$(sql "$DB" "SELECT node_id FROM events WHERE type = 'order/created'")
[ -n "$ORDER" ] || die "the app recorded no order/created event"
grep -E 'POST /webhooks' "$TMP/app.err" | tail -n 1 | sed 's/^/    app log:          /'
info "recorded:         order $ORDER (signature verified with lf_webhook_verify over the raw body)"

# ---------------------------------------------------------------------------
step "6. The merchant opens the admin again: the app lists the order"
python3 "$ROOT/scripts/demo_merchant.py" show "$SANDBOX/admin/apps/$CLIENT_ID" "$APP_URL" \
    "Installed for account $ACCOUNT" "$ORDER" || die "the app's page does not show the order"

# ---------------------------------------------------------------------------
step "7. Uninstall through the sandbox: app/uninstalled removes the token"
python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("VACUUM INTO ?", (sys.argv[2],))' "$DB" "$TMP/backup.db"
info "backup:           $TMP/backup.db (taken before the uninstall; it still holds the sealed token)"
answer=$(control /_sandbox/uninstall "{\"client_id\":\"$CLIENT_ID\"}") || die "the sandbox refused the uninstall: $answer"
info "sandbox:          $answer"
for ((i = 0; i < 50; i++)); do
    [ "$(sql "$DB" "SELECT COUNT(*) FROM installs")" = 0 ] && break
    sleep 0.1
done
left=$(sql "$DB" "SELECT (SELECT COUNT(*) FROM installs) || ' installs, ' || (SELECT COUNT(*) FROM webhooks) || ' webhooks, ' || (SELECT COUNT(*) FROM events) || ' events'")
info "app database:     $left"
[ "$left" = "0 installs, 0 webhooks, 0 events" ] || die "the uninstall left rows behind"
set +e
verdict=$(app_check "$TMP/backup.db")
rc=$?
set -e
info "old token:        $verdict"
[ "$rc" -eq 3 ] || die "the old token was not refused with 401 (check-token exit $rc)"

# ---------------------------------------------------------------------------
step "8. Stop the app (SIGTERM: in-flight requests finish, then it exits)"
kill "$APP_PID"
rc=124
for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$APP_PID" 2>/dev/null; then
        set +e
        wait "$APP_PID"
        rc=$?
        set -e
        break
    fi
    sleep 0.1
done
APP_PID=""
[ "$rc" -eq 0 ] || die "the app did not stop cleanly (status $rc)"
info "$(tail -n 1 "$TMP/app.err")"
if grep -qF -- "$CLIENT_SECRET" "$TMP/app.err" "$TMP/app.out" "$TMP/sandbox.err"; then
    die "a log shows the client secret"
fi
info "no log shows the client secret"

step "${G}Demo complete: installed in the admin iframe → order delivered and verified → uninstalled, token dead.${N}"
