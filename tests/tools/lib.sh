# Shared helpers for the lf-auth end-to-end tests (sourced by bash scripts).
# Every wait is bounded; every process started here is stopped on exit.
set -u
set -o pipefail

: "${LF_AUTH:?LF_AUTH must point to the lf-auth binary}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lf-auth-test.XXXXXX")
BG_PIDS=()
FAILURES=0
CHECKS=0

cleanup() {
    local p
    for p in "${BG_PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null
    done
    if [ "$FAILURES" -ne 0 ] && [ -z "${LF_TEST_KEEP:-}" ]; then
        # Show the logs that explain a failure before they disappear.
        local f
        for f in "$WORK"/*.err; do
            [ -f "$f" ] || continue
            echo "---- $f (last 20 lines)"
            tail -n 20 "$f"
        done
    fi
    [ -z "${LF_TEST_KEEP:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '%s\n' "-- $*"; }

fail() {
    FAILURES=$((FAILURES + 1))
    printf 'FAIL: %s\n' "$*"
}

pass() { CHECKS=$((CHECKS + 1)); }

# check NAME CONDITION...: evaluates the test command; records the result.
check() {
    local name=$1
    shift
    if "$@"; then pass; else fail "$name"; fi
}

# expect_rc NAME EXPECTED ACTUAL
expect_rc() {
    if [ "$3" -eq "$2" ]; then pass; else fail "$1: exit status $3, expected $2"; fi
}

# expect_contains NAME FILE TEXT / expect_not_contains NAME FILE TEXT
expect_contains() {
    if grep -qF -- "$3" "$2"; then pass; else fail "$1: $2 does not contain '$3'"; fi
}
expect_not_contains() {
    if grep -qF -- "$3" "$2"; then fail "$1: $2 contains a value it must not show"; else pass; fi
}

finish() {
    echo "$CHECKS checks passed, $FAILURES failed"
    [ "$FAILURES" -eq 0 ]
    exit $?
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_line FILE REGEX SECONDS: prints the first matching line.
wait_for_line() {
    local file=$1 re=$2 secs=$3 i line
    for ((i = 0; i < secs * 10; i++)); do
        line=$(grep -m1 -E -- "$re" "$file" 2>/dev/null) && { printf '%s\n' "$line"; return 0; }
        sleep 0.1
    done
    return 1
}

# wait_exit PID SECONDS: waits for a background process, sets WAIT_RC.
# Kills it (and returns 124) when it outlives the bound.
wait_exit() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            WAIT_RC=$?
            return 0
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    WAIT_RC=124
    return 1
}

# start_sandbox NAME ARGS...: starts lf-sandbox, sets SANDBOX_URL and
# SANDBOX_PID (also recorded for cleanup).
start_sandbox() {
    local name=$1
    shift
    : "${LF_SANDBOX:?LF_SANDBOX must point to the lf-sandbox binary}"
    "$LF_SANDBOX" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    SANDBOX_PID=$!
    BG_PIDS+=("$SANDBOX_PID")
    local line
    if ! line=$(wait_for_line "$WORK/$name.out" '^LF_SANDBOX_URL=' 30); then
        echo "lf-sandbox ($name) did not start within 30 s" >&2
        cat "$WORK/$name.err" >&2
        exit 1
    fi
    SANDBOX_URL=${line#LF_SANDBOX_URL=}
}

# start_login NAME ARGS...: starts `lf-auth login` in the background, waits
# for its consent URL; sets LOGIN_PID and CONSENT_URL.
start_login() {
    local name=$1
    shift
    "$LF_AUTH" login "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    LOGIN_PID=$!
    BG_PIDS+=("$LOGIN_PID")
    local line
    if ! line=$(wait_for_line "$WORK/$name.err" '^LF_AUTH_CONSENT_URL=' 30); then
        fail "$name: lf-auth login printed no consent URL within 30 s"
        CONSENT_URL=""
        return 1
    fi
    CONSENT_URL=${line#LF_AUTH_CONSENT_URL=}
}

# redirect_of URL [curl args...]: the Location of a 3xx answer (empty if none).
redirect_of() {
    local url=$1
    shift
    curl -sS --max-time 20 -o /dev/null -w '%{redirect_url}' "$@" "$url"
}

# consent_click CONSENT_URL approve|deny [curl args...]: loads the sandbox's
# consent page, submits the chosen form, prints the redirect Location.
consent_click() {
    local url=$1 which=$2
    shift 2
    local page="$WORK/consent.$$.$RANDOM.html" origin form action body
    curl -sS --max-time 20 -o "$page" "$@" "$url" || return 1
    form=$(python3 "$TESTS_DIR/consent_form.py" "$page" "$which") || return 1
    action=$(printf '%s\n' "$form" | sed -n 1p)
    body=$(printf '%s\n' "$form" | sed -n 2p)
    origin=$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')
    curl -sS --max-time 20 -o /dev/null -w '%{redirect_url}' -X POST \
        -H 'Content-Type: application/x-www-form-urlencoded' --data-raw "$body" "$@" "$origin$action"
}
