#!/bin/sh
# Checks both crates' crates.io metadata, builds their documentation with
# rustdoc warnings as errors (`cargo doc --offline`), then runs the Rust
# binding's tests (`cargo test --offline`) against the staged install of the
# C library. Registered as the ctest test `rust_binding` by
# tests.cmake, which sets:
#   LF_STAGE_ENV      ${LF_STAGE_DIR}/env.sh (PKG_CONFIG_PATH=..., LD_LIBRARY_PATH=...)
#   LF_SANDBOX        the lf-sandbox binary the integration tests start
#   LF_CARGO          cargo found at configure time ("" or *-NOTFOUND: fail)
#   CARGO_TARGET_DIR  under the build directory
#   LF_CARGO_HOME     CARGO_HOME to use when HOME is unset
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -eu

here=$(cd "$(dirname "$0")" && pwd)

fail() {
    echo "rust_binding: $*" >&2
    exit 1
}

case "${LF_CARGO:-}" in
    "" | *-NOTFOUND) fail "cargo not found at configure time: install Rust (Debian: apt-get install cargo) or configure with -DLF_CARGO=/path/to/cargo" ;;
esac
[ -x "$LF_CARGO" ] || fail "LF_CARGO=$LF_CARGO is not executable"

[ -n "${LF_STAGE_ENV:-}" ] || fail "LF_STAGE_ENV is not set"
[ -f "$LF_STAGE_ENV" ] || fail "$LF_STAGE_ENV not found: the stage_install test (fixture lf_staged) must run first"

# env.sh holds plain KEY=VALUE lines; the staged paths go first.
old_pkg=${PKG_CONFIG_PATH:-}
old_ld=${LD_LIBRARY_PATH:-}
PKG_CONFIG_PATH=
LD_LIBRARY_PATH=
. "$LF_STAGE_ENV"
[ -n "$PKG_CONFIG_PATH" ] || fail "$LF_STAGE_ENV sets no PKG_CONFIG_PATH"
PKG_CONFIG_PATH=$PKG_CONFIG_PATH${old_pkg:+:$old_pkg}
LD_LIBRARY_PATH=$LD_LIBRARY_PATH${old_ld:+:$old_ld}
export PKG_CONFIG_PATH LD_LIBRARY_PATH

[ -n "${LF_SANDBOX:-}" ] || fail "LF_SANDBOX is not set"
[ -x "$LF_SANDBOX" ] || fail "LF_SANDBOX=$LF_SANDBOX is not executable"
export LF_SANDBOX

if [ -z "${HOME:-}" ] && [ -z "${CARGO_HOME:-}" ]; then
    [ -n "${LF_CARGO_HOME:-}" ] || fail "HOME is unset and no LF_CARGO_HOME given"
    CARGO_HOME=$LF_CARGO_HOME
    export CARGO_HOME
    mkdir -p "$CARGO_HOME"
fi

echo "rust_binding: $("$LF_CARGO" --version) / rustc $(${RUSTC:-rustc} --version 2>/dev/null || echo '?')"
echo "rust_binding: PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
echo "rust_binding: pkg-config says lightfunnels-auth $(pkg-config --modversion lightfunnels-auth 2>&1)"

# What a published crate needs on crates.io; -sys also names the C library it
# links, so only one crate in a build links it.
for crate in lightfunnels-auth-sys lightfunnels-auth; do
    for key in description license repository documentation readme keywords categories rust-version; do
        grep -q "^$key = " "$here/$crate/Cargo.toml" || fail "$crate/Cargo.toml has no '$key'"
    done
done
grep -q '^links = "lightfunnels-auth"$' "$here/lightfunnels-auth-sys/Cargo.toml" \
    || fail "lightfunnels-auth-sys/Cargo.toml has no 'links = \"lightfunnels-auth\"'"

# A broken intra-doc link or a malformed doc comment fails the run.
RUSTDOCFLAGS="${RUSTDOCFLAGS:+$RUSTDOCFLAGS }-Dwarnings" \
    "$LF_CARGO" doc --offline --locked --no-deps --workspace --manifest-path "$here/Cargo.toml" \
    || fail "cargo doc failed or warned (RUSTDOCFLAGS=-Dwarnings)"

exec "$LF_CARGO" test --offline --locked --manifest-path "$here/Cargo.toml" --workspace "$@"
