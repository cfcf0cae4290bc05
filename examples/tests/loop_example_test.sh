#!/usr/bin/env bash
# An event-loop example (examples/libuv or examples/epoll) against lf-sandbox
# over HTTPS: it must exchange every code it is given and query each
# token's account, count failures exactly, keep to its deadline when the
# server stops answering, and print no code, token or secret.
#   LF_EXAMPLE          the example program
#   LF_EXAMPLE_WRAPPER  optional command to run it under (e.g. valgrind ...)
#   LF_AUTH, LF_SANDBOX the tools, which provide the codes
. "${LF_TEST_LIB:?LF_TEST_LIB must point to tests/tools/lib.sh}"

: "${LF_EXAMPLE:?LF_EXAMPLE must point to the example program}"
command -v curl >/dev/null || { echo "curl is required"; exit 1; }

N=20
SECRET='loops-secret-4b7d1e'
export APP_SECRET="$SECRET"
REDIRECT="http://127.0.0.1:$(free_port)/callback"
# Under valgrind everything is ~20x slower; the deadline case stays short.
RUN_DEADLINE_MS=30000
[ -n "${LF_EXAMPLE_WRAPPER:-}" ] && RUN_DEADLINE_MS=240000

start_sandbox sb --tls-self-signed "$WORK/tls" --auto-approve --exit-with-parent --account-id acct_loops \
    --client "app:$SECRET:$REDIRECT"
CA="$WORK/tls/ca.pem"
COMMON=(--sandbox "$SANDBOX_URL" --ca-file "$CA" --timeout-ms 20000)

# new_code: consent URL -> auto-approved redirect -> the code, on stdout.
new_code() {
    local state url loc
    "$LF_AUTH" consent-url --client-id app --redirect-uri "$REDIRECT" --scope orders "${COMMON[@]}" \
        >"$WORK/cu.out" 2>"$WORK/cu.err" || return 1
    state=$(sed -n 's/^LF_AUTH_STATE=//p' "$WORK/cu.err")
    url=$(cat "$WORK/cu.out")
    loc=$(redirect_of "$url" --cacert "$CA") || return 1
    LOC="$loc" "$LF_AUTH" callback --url-env LOC --state "$state"
}

# codes FILE COUNT: COUNT fresh codes, one a line.
codes() {
    local i c
    : >"$1"
    chmod 600 "$1"
    for ((i = 0; i < $2; i++)); do
        c=$(new_code) && [ -n "$c" ] || { echo "could not get a code from lf-sandbox" >&2; exit 1; }
        printf '%s\n' "$c" >>"$1"
    done
}

# run_example NAME CODES_FILE DEADLINE_MS: runs it with the codes on stdin;
# sets RC (124 when it outlived its deadline by far).
run_example() {
    local name=$1 codes_file=$2 deadline=$3
    LF_CLIENT_ID=app LF_CLIENT_SECRET="$SECRET" LF_REDIRECT_URI="$REDIRECT" LF_BASE_URL="$SANDBOX_URL" \
        LF_CA_FILE="$CA" LF_EXAMPLE_DEADLINE_MS="$deadline" \
        ${LF_EXAMPLE_WRAPPER:-} "$LF_EXAMPLE" <"$codes_file" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    local pid=$!
    BG_PIDS+=("$pid")
    wait_exit "$pid" $((deadline / 1000 + 60))
    RC=$WAIT_RC
    cat "$WORK/$name.out" "$WORK/$name.err" >>"$WORK/all-output.txt"
}

# count_lines FILE TEXT: how many lines of FILE contain TEXT.
count_lines() { grep -cF -- "$2" "$1"; }

log "$N codes: every exchange and account query succeeds"
codes "$WORK/codes" "$N"
run_example all "$WORK/codes" "$RUN_DEADLINE_MS"
expect_rc "all codes: exit status" 0 "$RC"
expect_contains "all codes: summary" "$WORK/all.out" \
    "exchanges: $N ok, 0 failed; account queries: $N ok, 0 failed; account: acct_loops"
check "all codes: one summary line" test "$(wc -l <"$WORK/all.out")" -eq 1
check "sandbox saw $N exchanges" test "$(count_lines "$WORK/sb.err" 'POST /api/access_token 200')" -eq "$N"
check "sandbox saw $N account queries" test "$(count_lines "$WORK/sb.err" 'POST /api/v2 200')" -eq "$N"

log "a spent code among fresh ones: counted as failed, the others succeed"
SPENT=$(head -n 1 "$WORK/codes")
codes "$WORK/codes2" 2
printf '%s\n' "$SPENT" >>"$WORK/codes2"
run_example spent "$WORK/codes2" "$RUN_DEADLINE_MS"
expect_rc "spent code: exit status" 1 "$RC"
expect_contains "spent code: summary" "$WORK/spent.out" \
    "exchanges: 2 ok, 1 failed; account queries: 2 ok, 0 failed; account: acct_loops"
expect_contains "spent code: reported" "$WORK/spent.err" "exchange failed: LF_E_INVALID_CODE"

log "a server that stops answering: the deadline ends the run, pending calls are cancelled"
codes "$WORK/codes3" 3
# A stopped process ignores SIGTERM until continued: whatever happens next,
# lib.sh's cleanup must find the sandbox running.
trap 'kill -CONT "$SANDBOX_PID" 2>/dev/null; cleanup' EXIT
kill -STOP "$SANDBOX_PID"
T0=$(date +%s)
run_example hung "$WORK/codes3" 1500
T1=$(date +%s)
kill -CONT "$SANDBOX_PID"
expect_rc "deadline: exit status" 3 "$RC"
expect_contains "deadline: reported" "$WORK/hung.err" "deadline of 1500 ms passed with 3 calls pending"
expect_contains "deadline: summary" "$WORK/hung.out" \
    "exchanges: 0 ok, 3 failed; account queries: 0 ok, 0 failed; account: none"
expect_contains "deadline: pending calls cancelled" "$WORK/hung.err" "exchange failed: LF_E_CANCELLED"
if [ -z "${LF_EXAMPLE_WRAPPER:-}" ]; then
    check "deadline: ended within 10 s" test $((T1 - T0)) -le 10
fi

log "nothing secret in any output"
expect_not_contains "no client secret" "$WORK/all-output.txt" "$SECRET"
# Codes and tokens are 43 base64url characters.
if grep -qE '[A-Za-z0-9_-]{43}' "$WORK/all-output.txt"; then fail "a code or token was printed"; else pass; fi
while read -r c; do
    expect_not_contains "no code" "$WORK/all-output.txt" "$c"
done <"$WORK/codes"

finish
