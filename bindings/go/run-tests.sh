#!/bin/sh
# Runs the Go binding's checks against a staged install of the library.
# Called by ctest (test "go_binding", see tests.cmake) with:
#   GO            the go command (find_program result; a missing go FAILS the test)
#   LF_STAGE_ENV  the staged install's env.sh (PKG_CONFIG_PATH, LD_LIBRARY_PATH)
#   LF_SANDBOX    the lf-sandbox binary for the integration tests
#   GOFLAGS=-mod=mod GOPROXY=off GOCACHE GOPATH (no network, no HOME needed)
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${GO:-}" ] || ! command -v "$GO" >/dev/null 2>&1; then
    echo "go_binding: the go command was not found (GO='${GO:-}'); install golang-go" >&2
    exit 1
fi
if [ -z "${LF_STAGE_ENV:-}" ] || [ ! -r "$LF_STAGE_ENV" ]; then
    echo "go_binding: staged install env '${LF_STAGE_ENV:-}' is missing (did stage_install run?)" >&2
    exit 1
fi
if [ -z "${LF_SANDBOX:-}" ] || [ ! -x "$LF_SANDBOX" ]; then
    echo "go_binding: LF_SANDBOX '${LF_SANDBOX:-}' is not an executable" >&2
    exit 1
fi

# env.sh holds plain NAME=value lines.
. "$LF_STAGE_ENV"
export PKG_CONFIG_PATH LD_LIBRARY_PATH LF_SANDBOX
export CGO_ENABLED=1
: "${GOENV:=off}"
export GOENV

cd "$here"
"$GO" version

# The module path is what `go get` resolves: the project's home (the URL in
# lightfunnels-auth.pc.in, also the packages' Homepage) + /bindings/go.
home=$(sed -n 's|^URL: https://||p' "$here/../../lightfunnels-auth.pc.in")
module=$("$GO" list -m)
if [ -z "$home" ] || [ "$module" != "$home/bindings/go" ]; then
    echo "go_binding: module path '$module' is not '$home/bindings/go' (the project URL in lightfunnels-auth.pc.in)" >&2
    exit 1
fi
echo "== module $module"
echo "== go vet ./..."
"$GO" vet ./...
echo "== go test -count=1 ./..."
"$GO" test -count=1 -timeout 480s ./...
# Opt-in (slow: rebuilds the standard library): LF_GO_RACE=1 adds a run
# under the race detector.
if [ "${LF_GO_RACE:-0}" = 1 ]; then
    echo "== go test -race -count=1 ./..."
    "$GO" test -race -count=1 -timeout 480s ./...
fi
