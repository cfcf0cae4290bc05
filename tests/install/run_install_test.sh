#!/bin/sh
# Install test: `cmake --install` the build into a temporary prefix, then
# build and run two consumers against it exactly as a user would:
#   1. cc $(pkg-config --cflags --libs lightfunnels-auth)
#   2. a CMake project using find_package(lightfunnels-auth) + lightfunnels::auth
# check the installed shared library's exported symbols and SONAME, and that
# the installed tools run from the prefix with nothing but their RUNPATH.
# Usage: run_install_test.sh <build-dir> <source-dir> [tools]
#   tools: also check lf-auth and lf-sandbox (the build has LF_BUILD_TOOLS)
set -eu

BUILD=${1:?build dir}
SRC=${2:?source dir}
TOOLS=${3:-}
CC=${CC:-cc}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lf-install-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
PREFIX="$WORK/prefix"

fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 || {
    cat "$WORK/install.log" >&2
    fail "cmake --install"
}

PC=$(find "$PREFIX" -name lightfunnels-auth.pc | head -n 1)
[ -n "$PC" ] || fail "no lightfunnels-auth.pc installed"
[ -f "$PREFIX/include/lightfunnels/auth.h" ] || fail "header not installed"
PCDIR=$(dirname "$PC")
LIBDIR=$(dirname "$PCDIR")

# The .pc's prefix= is the configured CMAKE_INSTALL_PREFIX; point it at the
# temporary prefix (what a relocated install or a packager's DESTDIR does).
sed "s|^prefix=.*|prefix=$PREFIX|" "$PC" >"$WORK/pc.tmp" && cat "$WORK/pc.tmp" >"$PC"

# ---- 1. pkg-config consumer ------------------------------------------------
export PKG_CONFIG_PATH="$PCDIR"
pkg-config --exists lightfunnels-auth || fail "pkg-config does not find lightfunnels-auth"
VERSION=$(pkg-config --modversion lightfunnels-auth)
FLAGS=$(pkg-config --cflags --libs lightfunnels-auth)
case "$FLAGS" in *"$PREFIX"*) ;; *) fail "pkg-config flags do not point into the prefix: $FLAGS" ;; esac
# shellcheck disable=SC2086
$CC -std=c99 -Wall -Wextra -pedantic -Werror -o "$WORK/pc_consumer" "$SRC/tests/install/pkgconfig/main.c" $FLAGS \
    || fail "pkg-config consumer does not build"
OUT=$(LD_LIBRARY_PATH="$LIBDIR" "$WORK/pc_consumer") || fail "pkg-config consumer failed: $OUT"
echo "pkg-config consumer: $OUT" | head -n 1
echo "$OUT" | grep -qx "lf_version $VERSION" || fail "version mismatch: .pc says $VERSION, library says: $OUT"
# it really loaded the installed copy
LD_LIBRARY_PATH="$LIBDIR" ldd "$WORK/pc_consumer" | grep -q "$LIBDIR/liblightfunnels-auth.so.1" \
    || fail "pkg-config consumer does not resolve the installed library"

# ---- 2. find_package consumer ----------------------------------------------
cmake -S "$SRC/tests/install/cmake" -B "$WORK/cmake-build" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log" >&2; fail "find_package configure"; }
cmake --build "$WORK/cmake-build" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "find_package build"; }
# CMake gives the consumer an rpath to the imported library: no LD_LIBRARY_PATH
OUT=$("$WORK/cmake-build/consumer") || fail "find_package consumer failed: $OUT"
echo "find_package consumer: $OUT" | head -n 1
echo "$OUT" | grep -qx "lf_version $VERSION" || fail "find_package consumer version: $OUT"
# an incompatible major version is refused
cat >"$WORK/v2.cmake" <<EOC
cmake_minimum_required(VERSION 3.16)
project(v2 LANGUAGES C)
find_package(lightfunnels-auth 2 QUIET)
if(lightfunnels-auth_FOUND)
  message(FATAL_ERROR "version 2 accepted")
endif()
EOC
mkdir -p "$WORK/v2" && cp "$WORK/v2.cmake" "$WORK/v2/CMakeLists.txt"
cmake -S "$WORK/v2" -B "$WORK/v2/build" -DCMAKE_PREFIX_PATH="$PREFIX" >"$WORK/v2.log" 2>&1 \
    || { cat "$WORK/v2.log" >&2; fail "find_package(lightfunnels-auth 2) was accepted"; }

# ---- 3. exported symbols and SONAME ----------------------------------------
SO="$LIBDIR/liblightfunnels-auth.so.1"
[ -e "$SO" ] || fail "$SO missing"
[ -L "$LIBDIR/liblightfunnels-auth.so" ] || fail "development symlink liblightfunnels-auth.so missing"
SONAME=$(readelf -d "$SO" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$SONAME" = "liblightfunnels-auth.so.1" ] || fail "SONAME is '$SONAME'"
# Defined dynamic symbols: every function/object must be lf_*; the only
# other entry allowed is the version node itself (an ABS symbol).
nm -D --defined-only "$SO" >"$WORK/syms"
[ -s "$WORK/syms" ] || fail "no exported symbols"
BAD=$(awk '{ name=$NF; sub(/@.*/, "", name); if (name !~ /^lf_/ && $2 != "A") print $0 }' "$WORK/syms")
[ -z "$BAD" ] || fail "non-lf_ symbols exported:
$BAD"
NODES=$(awk '$2 == "A" { print $NF }' "$WORK/syms")
for n in $NODES; do
    case "$n" in LIGHTFUNNELS_AUTH_*) ;; *) fail "unexpected absolute symbol $n" ;; esac
done
[ -n "$NODES" ] || fail "no version node (LIGHTFUNNELS_AUTH_*) in the dynamic symbol table"
# every lf_ function carries the version node
UNVERSIONED=$(awk '$2 != "A" && $NF !~ /@/ { print $NF }' "$WORK/syms")
[ -z "$UNVERSIONED" ] || fail "symbols without a version node: $UNVERSIONED"
grep -q ' lf_version@' "$WORK/syms" || fail "lf_version not exported"
COUNT=$(awk '$2 != "A"' "$WORK/syms" | wc -l)
echo "exports: $COUNT lf_* symbols, version node(s): $NODES, SONAME $SONAME"

# ---- 4. installed tools run from the prefix --------------------------------
# No LD_LIBRARY_PATH, no ldconfig: the tools find the library next to them
# through a RUNPATH relative to $ORIGIN, so any prefix works (and a copy of
# the library elsewhere on the system is not picked up instead).
if [ "$TOOLS" = tools ]; then
    for t in lf-auth lf-sandbox; do
        BIN="$PREFIX/bin/$t"
        [ -x "$BIN" ] || fail "$BIN not installed"
        RUNPATH=$(readelf -d "$BIN" | sed -n 's/.*(RUNPATH).*\[\(.*\)\].*/\1/p')
        case "$RUNPATH" in
            *'$ORIGIN/'*) ;;
            *) fail "$t: RUNPATH is '$RUNPATH', expected one relative to \$ORIGIN" ;;
        esac
        RESOLVED=$(env -i PATH=/usr/bin:/bin ldd "$BIN" | awk '/liblightfunnels-auth/ { print $3 }')
        [ "$RESOLVED" -ef "$LIBDIR/liblightfunnels-auth.so.1" ] \
            || fail "$t resolves liblightfunnels-auth to '$RESOLVED', not the installed $LIBDIR copy"
    done
    OUT=$(cd / && env -i PATH=/usr/bin:/bin "$PREFIX/bin/lf-auth" --version 2>&1) \
        || fail "installed lf-auth --version failed: $OUT"
    echo "installed lf-auth: $OUT"
    [ "$OUT" = "lf-auth $VERSION (library $VERSION)" ] || fail "lf-auth --version: $OUT"
    OUT=$(cd / && env -i PATH=/usr/bin:/bin "$PREFIX/bin/lf-sandbox" --help 2>&1) \
        || fail "installed lf-sandbox --help failed: $OUT"
fi
echo "install test passed"
