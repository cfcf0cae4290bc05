#!/usr/bin/env bash
# Packaging test (ctest label "package"): builds the Debian packages with
# `cpack -G DEB` from a fresh Release build (prefix /usr), checks their
# control data and contents, runs lintian (no errors allowed), installs them
# into THIS machine with dpkg -i, builds and runs small C consumers against
# the system install (pkg-config and find_package), checks the tools and
# their man pages, and always removes the packages again (trap).
#
# Usage: run_package_test.sh <source-dir> [work-dir]
# Must run as root (CI does). Needs: cmake, ninja or make, a C/C++ toolchain,
# dpkg-dev (dpkg-shlibdeps), lintian, pkgconf, and the library's -dev deps.
set -uo pipefail

src=${1:?usage: run_package_test.sh <source-dir> [work-dir]}
src=$(cd "$src" && pwd)
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "this test installs .deb packages with dpkg -i and must run as root
(CI runs as root). Run it as root, or exclude it: ctest -LE package"

for t in cmake cpack dpkg dpkg-deb dpkg-shlibdeps lintian pkg-config cc gzip flock readelf; do
  command -v "$t" >/dev/null || fail "'$t' not found (apt-get install cmake dpkg-dev lintian pkgconf build-essential)"
done

pkgs=(liblightfunnels-auth1 liblightfunnels-auth-dev lightfunnels-auth-tools)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
libdir=/usr/lib/$multiarch

# One run at a time on a machine: the packages are installed system-wide.
exec 9>/tmp/lightfunnels-auth-package-test.lock
flock -w 1800 9 || fail "another packaging test holds /tmp/lightfunnels-auth-package-test.lock"

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
for p in "${pkgs[@]}"; do
  if installed "$p"; then
    echo "note: $p is already installed (a previous run interrupted?); it is removed at the end" >&2
  fi
done

work=${2:-}
own_work=0
if [ -z "$work" ]; then work=$(mktemp -d /tmp/lf-package-test.XXXXXX); own_work=1; fi
mkdir -p "$work"
cleanup() {
  local rc=$?
  step "cleanup: removing the packages"
  dpkg --purge "${pkgs[@]}" >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; rc=1; }
  for p in "${pkgs[@]}"; do
    if installed "$p"; then echo "FAIL: $p is still installed after dpkg --purge" >&2; rc=1; fi
  done
  [ -e "$libdir/liblightfunnels-auth.so.1" ] && { echo "FAIL: $libdir/liblightfunnels-auth.so.1 left behind" >&2; rc=1; }
  [ "$own_work" = 1 ] && rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- build and package ---------------------------------------------------------
build=$work/build
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
# Debian's build flags, as a distribution package would be built (hardening:
# fortify, stack protector, relro/bindnow, format-security).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cppflags=$(dpkg-buildflags --get CPPFLAGS)
cflags="$(dpkg-buildflags --get CFLAGS) $cppflags"
cxxflags="$(dpkg-buildflags --get CXXFLAGS) $cppflags"
ldflags=$(dpkg-buildflags --get LDFLAGS)
# No RUNPATH in packaged binaries (Debian policy 10.2): the library is in the
# system's search path.
step "configure (Release, prefix /usr, dpkg-buildflags, no RUNPATH) in $build"
cmake -S "$src" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DBUILD_TESTING=OFF -DLF_INSTALL_RPATH=OFF "-DCMAKE_C_FLAGS=$cflags" "-DCMAKE_CXX_FLAGS=$cxxflags" \
  "-DCMAKE_EXE_LINKER_FLAGS=$ldflags" "-DCMAKE_SHARED_LINKER_FLAGS=$ldflags" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; fail "configure failed"; }
step "build"
cmake --build "$build" -j2 >"$work/build.log" 2>&1 || { tail -50 "$work/build.log" >&2; fail "build failed"; }
step "cpack -G DEB"
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack failed"; }

version=$(sed -n 's/^#define LF_AUTH_VERSION_STRING "\(.*\)"$/\1/p' "$src/include/lightfunnels/auth.h")
[ -n "$version" ] || fail "cannot read LF_AUTH_VERSION_STRING"
declare -A deb
for p in "${pkgs[@]}"; do
  f=$build/${p}_${version}-1_${arch}.deb
  [ -f "$f" ] || { ls "$build"/*.deb >&2 2>/dev/null; fail "package $f was not produced"; }
  deb[$p]=$f
done
n=$(ls "$build"/*.deb | wc -l)
[ "$n" -eq 3 ] || { ls "$build"/*.deb >&2; fail "expected 3 .deb files, got $n"; }

# ---- control data and contents -------------------------------------------------
step "control data and contents"
field() { dpkg-deb -f "${deb[$1]}" "$2"; }
contents() { dpkg-deb -c "${deb[$1]}" | awk '{print $6}' | sed 's|^\./|/|'; }
has() { contents "$1" | grep -qx -- "$2" || fail "$1 does not contain $2"; }
hasnt() { ! contents "$1" | grep -qE -- "$2" || fail "$1 must not contain $2"; }

rt=liblightfunnels-auth1 dev=liblightfunnels-auth-dev tools=lightfunnels-auth-tools
for p in "${pkgs[@]}"; do
  echo "--- $p"; dpkg-deb -f "${deb[$p]}" Package Version Architecture Section Depends Homepage Maintainer
  [ "$(field "$p" Version)" = "$version-1" ] || fail "$p: Version $(field "$p" Version)"
  [ -n "$(field "$p" Maintainer)" ] || fail "$p: no Maintainer"
  [ -n "$(field "$p" Homepage)" ] || fail "$p: no Homepage"
  has "$p" "/usr/share/doc/$p/copyright"
  has "$p" "/usr/share/doc/$p/changelog.Debian.gz"
done
[ "$(field $rt Section)" = libs ] || fail "$rt: Section $(field $rt Section)"
[ "$(field $dev Section)" = libdevel ] || fail "$dev: Section $(field $dev Section)"
[ "$(field $tools Section)" = net ] || fail "$tools: Section $(field $tools Section)"
rtdeps=$(field $rt Depends)
for d in libc6 libcurl4 libcjson1 libssl3; do
  echo "$rtdeps" | grep -qE "(^|, )$d( |,|$)" || fail "$rt: Depends ($rtdeps) lacks $d (dpkg-shlibdeps)"
done
devdeps=$(field $dev Depends)
for d in "$rt (= $version-1)" "libcjson-dev" "libssl-dev" "libcurl4-openssl-dev"; do
  echo "$devdeps" | grep -qF "$d" || fail "$dev: Depends ($devdeps) lacks $d"
done
echo "$(field $tools Depends)" | grep -qF "$rt (= $version-1)" || fail "$tools must depend on $rt (= $version-1)"

has $rt "$libdir/liblightfunnels-auth.so.$version"
has $rt "$libdir/liblightfunnels-auth.so.1"
hasnt $rt '\.so$|/include/|\.pc$|/cmake/'
has $dev "$libdir/liblightfunnels-auth.so"
has $dev /usr/include/lightfunnels/auth.h
has $dev "$libdir/pkgconfig/lightfunnels-auth.pc"
has $dev "$libdir/cmake/lightfunnels-auth/lightfunnels-authConfig.cmake"
has $dev "$libdir/cmake/lightfunnels-auth/lightfunnels-authConfigVersion.cmake"
has $dev "$libdir/cmake/lightfunnels-auth/lightfunnels-auth-targets.cmake"
hasnt $dev '\.so\.1'
has $tools /usr/bin/lf-auth
has $tools /usr/bin/lf-sandbox
has $tools /usr/share/man/man1/lf-auth.1.gz
has $tools /usr/share/man/man1/lf-sandbox.1.gz

# Packaged binaries carry no RUNPATH/RPATH (an install into any other prefix
# has one: LF_INSTALL_RPATH, checked by the install test).
tree=$work/tree
rm -rf "$tree"
for p in $rt $tools; do dpkg-deb -x "${deb[$p]}" "$tree"; done
for f in "$tree/usr/bin/lf-auth" "$tree/usr/bin/lf-sandbox" "$tree$libdir/liblightfunnels-auth.so.$version"; do
  dyn=$(readelf -d "$f") || fail "readelf -d $f"
  ! echo "$dyn" | grep -qE '\((RUNPATH|RPATH)\)' || fail "${f#"$tree"} has a RUNPATH/RPATH: $(echo "$dyn" | grep -E 'RUNPATH|RPATH')"
done

ctl=$work/control-rt
dpkg-deb -e "${deb[$rt]}" "$ctl"
grep -qxE "liblightfunnels-auth 1 $rt \(>= $version(-[0-9]+)?\)" "$ctl/shlibs" \
  || { cat "$ctl/shlibs" >&2 2>/dev/null; fail "$rt: shlibs file missing or wrong"; }
grep -qx 'activate-noawait ldconfig' "$ctl/triggers" 2>/dev/null || fail "$rt: no ldconfig trigger"
! grep -qs ldconfig "$ctl/postinst" "$ctl/postrm" || fail "$rt: maintainer scripts call ldconfig (use the trigger)"
[ -f "$ctl/symbols" ] || fail "$rt: no symbols file"
while read -r sym; do
  grep -qE "^ $sym@LIGHTFUNNELS_AUTH_[0-9A-Z._]+ [0-9]" "$ctl/symbols" || fail "$rt: symbols file lacks $sym"
done <"$src/abi/symbols.txt"
perms=$(stat -c '%a %n' "$ctl"/* | grep -vE '^(644|755) ' || true)
[ -z "$perms" ] || fail "$rt: control files with odd permissions: $perms"

# ---- lintian -------------------------------------------------------------------
step "lintian"
lintian --fail-on error --display-info "${deb[@]}" >"$work/lintian.log" 2>&1
lrc=$?
cat "$work/lintian.log"
[ $lrc -eq 0 ] || fail "lintian reported errors (exit $lrc)"
! grep -qE '^E: ' "$work/lintian.log" || fail "lintian reported errors"

# ---- install -------------------------------------------------------------------
step "dpkg -i"
dpkg -i "${deb[$rt]}" "${deb[$dev]}" "${deb[$tools]}" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "dpkg -i failed (missing dependencies? see above)"; }
for p in "${pkgs[@]}"; do installed "$p" || fail "$p not installed after dpkg -i"; done

# ---- consumers of the system install ---------------------------------------------
step "pkg-config consumer"
cat >"$work/consumer.c" <<'EOF'
#include <lightfunnels/auth.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    static const char *const uris[] = {"https://app.example.test/cb"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = "pkg-client";
    cfg.client_secret = "pkg-secret";
    cfg.redirect_uris = uris;
    cfg.redirect_uri_count = 1;
    lf_auth *a = NULL;
    lf_error err;
    if (lf_auth_new(&cfg, &a, &err) != LF_OK) {
        fprintf(stderr, "lf_auth_new: %s\n", err.message);
        return 1;
    }
    char url[512];
    lf_status s = lf_consent_url(a, uris[0], "orders", "st", url, sizeof url, NULL);
    lf_auth_free(a);
    if (s != LF_OK) {
        fprintf(stderr, "lf_consent_url: %s\n", lf_status_name(s));
        return 1;
    }
    printf("version %s header %s\n%s\n", lf_version(), LF_AUTH_VERSION_STRING, url);
    return strcmp(lf_version(), LF_AUTH_VERSION_STRING) != 0;
}
EOF
# Nothing from the build tree or the environment may leak in.
clean_env=(env -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH -u CMAKE_PREFIX_PATH -u LIBRARY_PATH -u CPATH)
flags=$("${clean_env[@]}" pkg-config --cflags --libs lightfunnels-auth) || fail "pkg-config lightfunnels-auth failed"
echo "pkg-config --cflags --libs: $flags"
# shellcheck disable=SC2086
"${clean_env[@]}" cc -std=c99 -Wall -Wextra -Werror -o "$work/consumer" "$work/consumer.c" $flags \
  || fail "consumer did not build against the system install"
out=$(cd / && "${clean_env[@]}" "$work/consumer") || fail "consumer failed: $out"
echo "$out"
expected="https://app.lightfunnels.com/admin/oauth?client_id=pkg-client&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcb&scope=orders&state=st"
echo "$out" | grep -qxF "$expected" || fail "unexpected consent URL"
echo "$out" | grep -qx "version $version header $version" || fail "unexpected version line"
resolved=$(ldd "$work/consumer" | awk '/liblightfunnels-auth/ {print $3}')
[ "$(readlink -f "$resolved")" = "$libdir/liblightfunnels-auth.so.$version" ] \
  || fail "consumer resolved liblightfunnels-auth to '$resolved', not the installed $libdir copy"

step "find_package consumer"
mkdir -p "$work/cmake-consumer"
cp "$work/consumer.c" "$work/cmake-consumer/consumer.c"
cat >"$work/cmake-consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(lf_consumer C)
find_package(lightfunnels-auth 1.0 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE lightfunnels::auth)
EOF
"${clean_env[@]}" cmake -S "$work/cmake-consumer" -B "$work/cmake-consumer/build" "${gen[@]}" \
  >"$work/cmake-consumer.log" 2>&1 && "${clean_env[@]}" cmake --build "$work/cmake-consumer/build" \
  >>"$work/cmake-consumer.log" 2>&1 || { cat "$work/cmake-consumer.log" >&2; fail "find_package consumer did not build"; }
out2=$("${clean_env[@]}" "$work/cmake-consumer/build/consumer") || fail "find_package consumer failed"
echo "$out2" | grep -qxF "$expected" || fail "find_package consumer: unexpected output"

step "tools and man pages"
for t in lf-auth lf-sandbox; do
  [ "$(command -v $t)" = "/usr/bin/$t" ] || fail "$t is not /usr/bin/$t"
  "/usr/bin/$t" --help >"$work/$t.help" 2>&1 || { cat "$work/$t.help" >&2; fail "$t --help failed"; }
  if command -v man >/dev/null; then
    page=$(man -w "$t" 2>/dev/null) || fail "man -w $t finds no page"
    echo "man page of $t: $page"
  else
    ls /usr/share/man/man1/"$t".1* >/dev/null 2>&1 || fail "no man page for $t"
  fi
done

echo "ok: 3 packages built, lintian clean of errors, installed, consumed through pkg-config and find_package"
