#!/usr/bin/env bash
# lf-auth command line without a server: help, usage errors, refusal of
# secrets in argv, callback parsing, webhook signing (checked with openssl).
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$TESTS_DIR/lib.sh"

SECRET='cli-s3cret-DO-NOT-PRINT'
export CLI_SECRET="$SECRET"

log "help on every subcommand"
"$LF_AUTH" --help >"$WORK/help.out" 2>&1
expect_rc "lf-auth --help" 0 $?
expect_contains "--help lists the exit statuses" "$WORK/help.out" "10+N"
for sub in login consent-url callback exchange account graphql webhook-sign webhook-verify; do
    "$LF_AUTH" "$sub" --help >"$WORK/help.$sub" 2>&1
    expect_rc "$sub --help" 0 $?
    expect_contains "$sub --help shows usage" "$WORK/help.$sub" "usage: lf-auth $sub"
    expect_contains "$sub --help shows exit statuses" "$WORK/help.$sub" "xit status"
done
expect_contains "exchange --help: HTTP Basic is the default" "$WORK/help.exchange" \
    "token-endpoint authentication (default basic)"
"$LF_AUTH" >/dev/null 2>&1
expect_rc "no subcommand" 2 $?
"$LF_AUTH" --version >"$WORK/version.out"
expect_rc "--version" 0 $?
expect_contains "--version names the library" "$WORK/version.out" "library"

log "secrets on the command line are refused without being echoed"
refuse() {
    local name=$1
    shift
    "$LF_AUTH" "$@" >"$WORK/refuse.out" 2>"$WORK/refuse.err"
    expect_rc "$name" 2 $?
    expect_not_contains "$name: stdout" "$WORK/refuse.out" "$SECRET"
    expect_not_contains "$name: stderr" "$WORK/refuse.err" "$SECRET"
}
refuse "--client-secret=X" exchange --client-id app --client-secret="$SECRET" --code-env X
expect_contains "refusal explains" "$WORK/refuse.err" "--client-secret-env"
refuse "--client-secret X" login --client-id app --client-secret "$SECRET" --scope products
refuse "--token=X" account --token="$SECRET"
refuse "--token X" graphql --token "$SECRET" --query q
refuse "--code=X" exchange --client-id app --client-secret-env CLI_SECRET --code="$SECRET"
refuse "--url=X" callback --state s --url="$SECRET"
refuse "--previous-client-secret=X" webhook-verify --client-secret-env CLI_SECRET --previous-client-secret="$SECRET" --signature x
refuse "positional secret" exchange "$SECRET"
refuse "unknown option with value" account --api-key="$SECRET"
refuse "unknown subcommand" "$SECRET"

log "usage errors"
"$LF_AUTH" exchange --client-id app --client-secret-env CLI_SECRET >/dev/null 2>"$WORK/u.err"
expect_rc "exchange without a code" 2 $?
expect_contains "names the code options" "$WORK/u.err" "--code-env"
"$LF_AUTH" exchange --client-id app --client-secret-env LF_TEST_UNSET_VAR --code-env CLI_SECRET >/dev/null 2>"$WORK/u.err"
expect_rc "unset variable" 2 $?
"$LF_AUTH" exchange --client-id app --client-secret-stdin --code-stdin </dev/null >/dev/null 2>&1
expect_rc "two inputs on stdin" 2 $?
"$LF_AUTH" exchange --client-id app --client-secret-env CLI_SECRET --client-secret-file /dev/null --code-env X >/dev/null 2>&1
expect_rc "secret given twice" 2 $?
"$LF_AUTH" exchange --client-id app --client-secret-file "$WORK/missing" --code-env CLI_SECRET >/dev/null 2>&1
expect_rc "unreadable secret file" 1 $?
"$LF_AUTH" login --client-id app --client-secret-env CLI_SECRET >/dev/null 2>&1
expect_rc "login without --scope" 2 $?
"$LF_AUTH" login --client-id app --client-secret-env CLI_SECRET --scope products --redirect-uri https://example.com/cb >/dev/null 2>&1
expect_rc "login with a non-loopback redirect URI" 2 $?

log "login: a fixed, documented default port, the redirect URI to whitelist, scope typos"
# No browser comes, so login times out (exit 19) after announcing itself.
"$LF_AUTH" login --client-id app --client-secret-env CLI_SECRET --scope products,ordrs,contact_form \
    --timeout 1 >/dev/null 2>"$WORK/login-default.err"
expect_rc "login without a redirect" 19 $?
expect_contains "default port 8976" "$WORK/login-default.err" "LF_AUTH_REDIRECT_URI=http://127.0.0.1:8976/callback"
expect_contains "names the URI to whitelist" "$WORK/login-default.err" "whitelist exactly"
expect_contains "warns about a scope the docs do not list" "$WORK/login-default.err" "'ordrs'"
expect_contains "warns about each one" "$WORK/login-default.err" "'contact_form'"
expect_not_contains "a documented scope is not warned about" "$WORK/login-default.err" "'products'"
expect_not_contains "no secret on stderr" "$WORK/login-default.err" "$SECRET"
"$LF_AUTH" login --client-id app --client-secret-env CLI_SECRET --scope orders,contact_form_data,settings --port 0 \
    --timeout 1 >/dev/null 2>"$WORK/login-free.err"
expect_rc "login --port 0" 19 $?
expect_not_contains "documented scopes: no warning" "$WORK/login-free.err" "not a scope"
expect_contains "--port 0 warns that a free port cannot be whitelisted" "$WORK/login-free.err" "cannot be whitelisted"
"$LF_AUTH" account --token-env CLI_SECRET --timeout-ms abc >/dev/null 2>&1
expect_rc "bad --timeout-ms" 2 $?
"$LF_AUTH" exchange --client-id app --client-secret-env CLI_SECRET --code-env CLI_SECRET --client-auth magic >/dev/null 2>&1
expect_rc "bad --client-auth" 2 $?
"$LF_AUTH" account --json --token-env LF_TEST_UNSET_VAR >"$WORK/u.json" 2>/dev/null
expect_rc "usage error with --json" 2 $?
check "usage error JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] is False and d["error"]["status"]=="usage" else 1)' "$WORK/u.json"
# http:// to a non-loopback host is refused by the library (exit 10+11).
"$LF_AUTH" account --token-env CLI_SECRET --api-url http://example.com/api >/dev/null 2>&1
expect_rc "insecure transport" 21 $?

log "webhooks: help and usage errors (no server is contacted)"
"$LF_AUTH" --help >"$WORK/help.main" 2>&1
expect_contains "--help lists webhooks" "$WORK/help.main" "webhooks"
for h in "webhooks --help" "help webhooks"; do
    # shellcheck disable=SC2086
    "$LF_AUTH" $h >"$WORK/help.wh" 2>&1
    expect_rc "$h" 0 $?
    for action in create list delete; do
        expect_contains "$h names $action" "$WORK/help.wh" "lf-auth webhooks $action"
    done
done
for action in create list delete; do
    "$LF_AUTH" webhooks "$action" --help >"$WORK/help.wh.$action" 2>&1
    expect_rc "webhooks $action --help" 0 $?
    expect_contains "webhooks $action --help shows usage" "$WORK/help.wh.$action" "usage: lf-auth webhooks $action"
    expect_contains "webhooks $action --help shows exit statuses" "$WORK/help.wh.$action" "xit status"
done
expect_contains "list --help: the list query is the sandbox's" "$WORK/help.wh.list" "no list query"
expect_contains "create --help names the documented types" "$WORK/help.wh.create" "order/confirmed"
wh_usage() { # wh_usage NAME TEXT ARGS...: exit 2, TEXT on stderr, nothing on stdout
    local name=$1 text=$2
    shift 2
    "$LF_AUTH" webhooks "$@" >"$WORK/whu.out" 2>"$WORK/whu.err"
    expect_rc "$name" 2 $?
    expect_contains "$name: says why" "$WORK/whu.err" "$text"
    check "$name: nothing on stdout" test ! -s "$WORK/whu.out"
}
wh_usage "webhooks without an action" "create, list or delete"
wh_usage "webhooks create without --type" "--type" create --token-env CLI_SECRET --url http://127.0.0.1:9/h
wh_usage "webhooks create without --url" "--url" create --token-env CLI_SECRET --type order/created
wh_usage "webhooks create, --settings not JSON" "--settings" create --token-env CLI_SECRET \
    --type order/created --url http://127.0.0.1:9/h --settings '{nope'
wh_usage "webhooks create, --settings not an object" "--settings" create --token-env CLI_SECRET \
    --type order/created --url http://127.0.0.1:9/h --settings '[1]'
wh_usage "webhooks delete without --id" "--id" delete --token-env CLI_SECRET
wh_usage "webhooks list without a token" "--token-env" list
wh_usage "webhooks list with an unset token variable" "LF_TEST_UNSET_VAR" list --token-env LF_TEST_UNSET_VAR
"$LF_AUTH" webhooks delete --json --token-env CLI_SECRET >"$WORK/whu.json" 2>/dev/null
expect_rc "webhooks usage error with --json" 2 $?
check "webhooks usage error JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] is False and d["error"]["status"]=="usage" and d["error"]["operation"]=="webhooks" else 1)' "$WORK/whu.json"
refuse "webhooks list --token=X" webhooks list --token="$SECRET"
refuse "webhooks create --token X" webhooks create --token "$SECRET" --type order/created --url http://127.0.0.1:9/h
refuse "webhooks delete --token X" webhooks delete --id webhook_1 --token "$SECRET"
refuse "webhooks: an unknown action is not echoed" webhooks "$SECRET"
refuse "webhooks: a positional after the action" webhooks list --token-env CLI_SECRET "$SECRET"

log "consent-url"
"$LF_AUTH" consent-url --client-id app --redirect-uri http://127.0.0.1:9/cb --scope 'products, orders,products' \
    --authorize-url https://auth.example/admin/oauth >"$WORK/c.out" 2>"$WORK/c.err"
expect_rc "consent-url" 0 $?
STATE=$(sed -n 's/^LF_AUTH_STATE=//p' "$WORK/c.err")
check "state is 43 characters" test "${#STATE}" -eq 43
expect_contains "consent URL" "$WORK/c.out" "https://auth.example/admin/oauth?client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=products,orders&state=$STATE"
"$LF_AUTH" consent-url --json --client-id app --redirect-uri http://127.0.0.1:9/cb --scope products --state abc \
    --authorize-url https://auth.example/admin/oauth >"$WORK/c.json" 2>/dev/null
expect_rc "consent-url --json" 0 $?
check "consent-url JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and d["state"]=="abc" and d["url"].endswith("&state=abc") else 1)' "$WORK/c.json"
"$LF_AUTH" consent-url --client-id app --redirect-uri http://127.0.0.1:9/cb --scope 'Bad-Scope' >/dev/null 2>&1
expect_rc "bad scope" 11 $?

log "callback"
URL='http://127.0.0.1:9/cb?code=the-code%2B1&state=st4te'
printf '%s\n' "$URL" | "$LF_AUTH" callback --url-stdin --state st4te >"$WORK/cb.out" 2>"$WORK/cb.err"
expect_rc "callback" 0 $?
check "callback prints the decoded code" test "$(cat "$WORK/cb.out")" = "the-code+1"
CB_URL="$URL" "$LF_AUTH" callback --url-env CB_URL --state other >"$WORK/cb.out" 2>"$WORK/cb.err"
expect_rc "callback with the wrong state" 15 $?
expect_not_contains "wrong state: no code on stdout" "$WORK/cb.out" "the-code"
expect_not_contains "wrong state: no code on stderr" "$WORK/cb.err" "the-code"
printf '%s' '?error=access_denied&error_description=no+thanks&state=st4te' >"$WORK/denied.url"
"$LF_AUTH" callback --url-file "$WORK/denied.url" --state st4te --json >"$WORK/cb.json" 2>/dev/null
expect_rc "callback: access denied" 17 $?
check "denied JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["error"]["status"]=="LF_E_ACCESS_DENIED" and d["error"]["key"]=="access_denied" else 1)' "$WORK/cb.json"
CB_URL='?code=a&code=b&state=st4te' "$LF_AUTH" callback --url-env CB_URL --state st4te >/dev/null 2>&1
expect_rc "callback: repeated code" 11 $?

log "sealed state: consent-url --sealed, callback --sealed"
export CLI_BINDING='session-5b0e1c7d'
"$LF_AUTH" consent-url --sealed --binding-env CLI_BINDING --client-id app --client-secret-env CLI_SECRET \
    --redirect-uri http://127.0.0.1:9/cb --scope products >"$WORK/s.out" 2>"$WORK/s.err"
expect_rc "consent-url --sealed" 0 $?
SEALED=$(sed -n 's/^LF_AUTH_STATE=//p' "$WORK/s.err")
check "sealed state is 76 base64url characters" python3 -c 'import re,sys; sys.exit(0 if re.fullmatch(r"[A-Za-z0-9_-]{76}", sys.argv[1]) else 1)' "$SEALED"
expect_contains "sealed state in the URL" "$WORK/s.out" "&state=$SEALED"
expect_not_contains "sealed: no secret on stderr" "$WORK/s.err" "$SECRET"
expect_not_contains "sealed: no binding on stderr" "$WORK/s.err" "$CLI_BINDING"
sealed_cb() { # sealed_cb STATE [options...]: callback --sealed on code=c0de&state=STATE
    local state=$1
    shift
    CB_URL="http://127.0.0.1:9/cb?code=c0de&state=$state" "$LF_AUTH" callback --sealed --url-env CB_URL \
        --client-id app "$@" >"$WORK/scb.out" 2>"$WORK/scb.err"
}
sealed_cb "$SEALED" --client-secret-env CLI_SECRET --binding-env CLI_BINDING --max-age 600
expect_rc "callback --sealed" 0 $?
check "callback --sealed prints the code" test "$(cat "$WORK/scb.out")" = "c0de"
OTHER_BINDING=session-other sealed_cb "$SEALED" --client-secret-env CLI_SECRET --binding-env OTHER_BINDING --max-age 600
expect_rc "callback --sealed, another binding" 15 $?
expect_not_contains "another binding: no code" "$WORK/scb.out" "c0de"
sealed_cb "$SEALED" --client-secret-env CLI_SECRET --max-age 600
expect_rc "callback --sealed, no binding for a bound state" 15 $?
OTHER_SECRET=other sealed_cb "$SEALED" --client-secret-env OTHER_SECRET --binding-env CLI_BINDING --max-age 600
expect_rc "callback --sealed, another secret" 15 $?
NEW_SECRET=new sealed_cb "$SEALED" --client-secret-env NEW_SECRET --previous-client-secret-env CLI_SECRET \
    --binding-env CLI_BINDING --max-age 600
expect_rc "callback --sealed, sealed before a rotation" 0 $?
# An old state in the documented format (docs/SECURITY.md, "Sealed state").
OLD=$(python3 - "$SECRET" "$CLI_BINDING" <<'PY'
import base64, hashlib, hmac, os, sys, time
secret, binding = sys.argv[1].encode(), sys.argv[2].encode()
prk = hmac.new(bytes(32), secret, hashlib.sha256).digest()
key = hmac.new(prk, b"lightfunnels-auth sealed state v1\x01", hashlib.sha256).digest()
body = b"\x01" + (int(time.time()) - 3600).to_bytes(8, "big") + os.urandom(16)
msg = body + len(b"app").to_bytes(8, "big") + b"app" + len(binding).to_bytes(8, "big") + binding
print(base64.urlsafe_b64encode(body + hmac.new(key, msg, hashlib.sha256).digest()).decode().rstrip("="))
PY
)
sealed_cb "$OLD" --client-secret-env CLI_SECRET --binding-env CLI_BINDING --max-age 600 --json
expect_rc "callback --sealed, expired" 16 $?
check "expired JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["error"]["status"]=="LF_E_STATE_EXPIRED" else 1)' "$WORK/scb.out"
sealed_cb "$OLD" --client-secret-env CLI_SECRET --binding-env CLI_BINDING --max-age 7200
expect_rc "callback --sealed, within a longer max age" 0 $?
"$LF_AUTH" consent-url --sealed --json --client-id app --client-secret-env CLI_SECRET \
    --redirect-uri http://127.0.0.1:9/cb --scope products >"$WORK/s.json" 2>/dev/null
expect_rc "consent-url --sealed --json (unbound)" 0 $?
UNBOUND=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$WORK/s.json")
sealed_cb "$UNBOUND" --client-secret-env CLI_SECRET --max-age 60
expect_rc "callback --sealed, unbound" 0 $?
refuse "--binding=X" consent-url --sealed --client-id app --client-secret-env CLI_SECRET \
    --redirect-uri http://127.0.0.1:9/cb --scope products --binding="$SECRET"
sealed_usage() { # sealed_usage NAME args...: exit 2
    local name=$1
    shift
    "$LF_AUTH" "$@" >/dev/null 2>"$WORK/su.err"
    expect_rc "$name" 2 $?
}
sealed_usage "consent-url --sealed without a secret" consent-url --sealed --client-id app \
    --redirect-uri http://127.0.0.1:9/cb --scope products
sealed_usage "consent-url --sealed with --state" consent-url --sealed --state s --client-id app \
    --client-secret-env CLI_SECRET --redirect-uri http://127.0.0.1:9/cb --scope products
sealed_usage "consent-url --binding-env without --sealed" consent-url --binding-env CLI_BINDING --client-id app \
    --redirect-uri http://127.0.0.1:9/cb --scope products
sealed_usage "consent-url --sealed, unset binding variable" consent-url --sealed --binding-env LF_TEST_UNSET_VAR \
    --client-id app --client-secret-env CLI_SECRET --redirect-uri http://127.0.0.1:9/cb --scope products
sealed_usage "callback --sealed without --max-age" callback --sealed --url-env CLI_BINDING --client-id app \
    --client-secret-env CLI_SECRET
sealed_usage "callback --sealed --max-age 0" callback --sealed --max-age 0 --url-env CLI_BINDING --client-id app \
    --client-secret-env CLI_SECRET
sealed_usage "callback --sealed --max-age abc" callback --sealed --max-age abc --url-env CLI_BINDING \
    --client-id app --client-secret-env CLI_SECRET
sealed_usage "callback --sealed with --state" callback --sealed --state s --max-age 60 --url-env CLI_BINDING \
    --client-id app --client-secret-env CLI_SECRET
sealed_usage "callback --max-age without --sealed" callback --state s --max-age 60 --url-env CLI_BINDING

log "webhook-sign / webhook-verify"
printf '{"id":"evt_1","event":"order/confirmed","total":12.5}' >"$WORK/body.json"
"$LF_AUTH" webhook-sign --client-secret-env CLI_SECRET --body-file "$WORK/body.json" >"$WORK/sig" 2>"$WORK/sig.err"
expect_rc "webhook-sign" 0 $?
WANT=$(openssl dgst -sha256 -hmac "$SECRET" -binary <"$WORK/body.json" | base64)
check "signature equals openssl's HMAC" test "$(cat "$WORK/sig")" = "$WANT"
expect_not_contains "sign: no secret" "$WORK/sig.err" "$SECRET"
"$LF_AUTH" webhook-verify --client-secret-env CLI_SECRET --signature "$WANT" <"$WORK/body.json" >"$WORK/v.out"
expect_rc "webhook-verify valid" 0 $?
check "prints valid" test "$(cat "$WORK/v.out")" = "valid"
printf ' ' >>"$WORK/body.json"
"$LF_AUTH" webhook-verify --client-secret-env CLI_SECRET --signature "$WANT" --body-file "$WORK/body.json" >"$WORK/v.out"
expect_rc "webhook-verify tampered body" 29 $?
check "prints invalid" test "$(cat "$WORK/v.out")" = "invalid"
# Secret rotation: a webhook signed with the old secret still verifies.
printf 'rotated body' >"$WORK/b2"
OLD_SECRET='old-secret' "$LF_AUTH" webhook-sign --client-secret-env OLD_SECRET --body-file "$WORK/b2" >"$WORK/sig2"
NEW_SECRET='new-secret' OLD_SECRET='old-secret' "$LF_AUTH" webhook-verify --client-secret-env NEW_SECRET \
    --previous-client-secret-env OLD_SECRET --signature "$(cat "$WORK/sig2")" --body-file "$WORK/b2" --json >"$WORK/v.json"
expect_rc "verify with the previous secret" 0 $?
expect_contains "verify JSON" "$WORK/v.json" '"valid":true'
NEW_SECRET='new-secret' "$LF_AUTH" webhook-verify --client-secret-env NEW_SECRET \
    --signature "$(cat "$WORK/sig2")" --body-file "$WORK/b2" >/dev/null
expect_rc "old signature without the previous secret" 29 $?

finish
