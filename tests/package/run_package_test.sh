#!/usr/bin/env bash
# Packaging test (ctest label "package"): builds the Debian source package
# (debian/) the way a distribution would, with `dpkg-buildpackage -us -uc`
# (source and binary) in a copy of the tree in a temporary directory; checks
# the four .debs' control data, contents, symbols and RUNPATHs; runs lintian
# on everything built (errors and warnings fail; overrides in debian/ carry
# their reasons); installs the packages into THIS machine with dpkg -i, runs
# the autopkgtest scripts of debian/tests against them, and always purges
# them again (exit trap).
#
# Usage: run_package_test.sh <source-dir> [log-dir]
# Must run as root (CI does). Needs what scripts/deps.sh installs: debhelper,
# dpkg-dev, fakeroot, lintian and the Build-Depends of debian/control.
# DEB_BUILD_OPTIONS is passed on (e.g. nocheck skips the build-time tests);
# parallel=2 is added when it names no parallel=N.
set -uo pipefail

src=${1:?usage: run_package_test.sh <source-dir> [log-dir]}
src=$(cd "$src" && pwd)
step() { echo "== $*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "this test installs .deb packages with dpkg -i and must run as root
(CI runs as root). Run it as root, or exclude it: ctest -LE package"

for t in dpkg dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb dpkg-parsechangelog dh fakeroot lintian \
    pkg-config cc tar xz flock readelf; do
    command -v "$t" >/dev/null || fail "'$t' not found (scripts/deps.sh installs what this test needs)"
done

pkgs=(liblightfunnels-auth1 liblightfunnels-auth-dev lightfunnels-auth-tools lightfunnels-auth-sandbox)
rt=liblightfunnels-auth1 dev=liblightfunnels-auth-dev tools=lightfunnels-auth-tools sandbox=lightfunnels-auth-sandbox
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
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

# The build happens out of the source tree, in a directory of its own (the
# .debs land next to the source directory); logs go to the log directory
# when one is given, so a failure can be read after the run.
work=$(mktemp -d /tmp/lf-package-test.XXXXXX)
logs=${2:-$work/logs}
mkdir -p "$logs"
did_install=0
cleanup() {
    local rc=$?
    if [ "$did_install" = 1 ]; then
        step "cleanup: purging the packages"
        dpkg --purge "${pkgs[@]}" >"$logs/purge.log" 2>&1 || {
            cat "$logs/purge.log" >&2
            rc=1
        }
        for p in "${pkgs[@]}"; do
            if installed "$p"; then
                echo "FAIL: $p is still installed after dpkg --purge" >&2
                rc=1
            fi
        done
        if [ -e "$libdir/liblightfunnels-auth.so.1" ]; then
            echo "FAIL: $libdir/liblightfunnels-auth.so.1 left behind" >&2
            rc=1
        fi
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- a clean copy of the tree and the upstream tarball ---------------------------
version=$(sed -n 's/^#define LF_AUTH_VERSION_STRING "\(.*\)"$/\1/p' "$src/include/lightfunnels/auth.h")
[ -n "$version" ] || fail "cannot read LF_AUTH_VERSION_STRING"
[ -f "$src/debian/changelog" ] || fail "no debian/changelog in $src: there is no Debian source package"
debversion=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version) || fail "debian/changelog does not parse"
[ "${debversion%-*}" = "$version" ] \
    || fail "debian/changelog is at $debversion, the header at $version: add a changelog entry (dch -v $version-1)"

step "copy of the tree (version $debversion) in $work"
tree=$work/lightfunnels-auth-$version
mkdir -p "$tree"
# Only what the source package would hold: tracked and new files, not the
# ignored build directories of the checkout.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$src" ls-files -z --cached --others --exclude-standard \
        | tar -C "$src" --null -T - --ignore-failed-read -cf - 2>"$logs/copy.log" \
        | tar -C "$tree" -xf - || fail "copying the tree failed"
else
    tar -C "$src" --exclude='./build*' --exclude=./.git --exclude=./bindings/rust/target -cf - . \
        | tar -C "$tree" -xf - || fail "copying the tree failed"
fi
tar -C "$work" --exclude="lightfunnels-auth-$version/debian" --owner=0 --group=0 --sort=name \
    -cJf "$work/lightfunnels-auth_$version.orig.tar.xz" "lightfunnels-auth-$version" \
    || fail "making the upstream tarball failed"

# ---- dpkg-buildpackage -----------------------------------------------------------
opts=${DEB_BUILD_OPTIONS:-}
case " $opts " in *" parallel="*) ;; *) opts="$opts parallel=2" ;; esac
export DEB_BUILD_OPTIONS=${opts# }
step "dpkg-buildpackage -us -uc (DEB_BUILD_OPTIONS='$DEB_BUILD_OPTIONS')"
(cd "$tree" && dpkg-buildpackage -us -uc) >"$logs/build.log" 2>&1 || {
    tail -60 "$logs/build.log" >&2
    fail "dpkg-buildpackage failed (log: $logs/build.log)"
}
grep -E '^(dpkg-gensymbols|dpkg-shlibdeps): warning' "$logs/build.log" \
    && fail "dpkg-gensymbols/dpkg-shlibdeps warned (see above)"

declare -A deb
for p in "${pkgs[@]}"; do
    f=$work/${p}_${debversion}_${arch}.deb
    [ -f "$f" ] || {
        ls "$work" >&2
        fail "package $f was not produced"
    }
    deb[$p]=$f
done
n=$(find "$work" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | wc -l)
[ "$n" -eq 4 ] || fail "expected 4 .deb files besides the -dbgsym ones, got $n: $(ls "$work"/*.deb)"
changes=$work/lightfunnels-auth_${debversion}_${arch}.changes
dsc=$work/lightfunnels-auth_${debversion}.dsc
[ -f "$changes" ] && [ -f "$dsc" ] || fail "no $changes or $dsc"

# ---- control data and contents -----------------------------------------------------
step "control data and contents"
field() { dpkg-deb -f "${deb[$1]}" "$2"; }
contents() { dpkg-deb -c "${deb[$1]}" | awk '{print $6}' | sed 's|^\./|/|'; }
has() { contents "$1" | grep -qx -- "$2" || fail "$1 does not contain $2"; }
hasnt() { ! contents "$1" | grep -qE -- "$2" || fail "$1 must not contain $2"; }
depends_on() { # package, regex over one Depends entry
    field "$1" Depends | tr ',' '\n' | sed 's/^ *//' | grep -qE "^($2)\$" \
        || fail "$1: Depends ($(field "$1" Depends)) has no entry matching $2"
}

for p in "${pkgs[@]}"; do
    echo "--- $p"
    dpkg-deb -f "${deb[$p]}" Package Version Architecture Multi-Arch Section Depends
    [ "$(field "$p" Version)" = "$debversion" ] || fail "$p: Version $(field "$p" Version)"
    has "$p" "/usr/share/doc/$p/copyright"
    has "$p" "/usr/share/doc/$p/changelog.Debian.gz"
done
[ "$(field $rt Section)" = libs ] || fail "$rt: Section $(field $rt Section)"
[ "$(field $dev Section)" = libdevel ] || fail "$dev: Section $(field $dev Section)"
[ "$(field $tools Section)" = net ] || fail "$tools: Section $(field $tools Section)"
[ "$(field $sandbox Section)" = devel ] || fail "$sandbox: Section $(field $sandbox Section)"
for d in libc6 libcurl4 libcjson1 libssl3; do depends_on $rt "$d( \(>= [^)]+\))?"; done
depends_on $dev "$rt \(= ${debversion//./\\.}\)"
depends_on $dev 'libcjson-dev'
depends_on $dev 'libssl-dev'
depends_on $dev 'libcurl4-openssl-dev \| libcurl-dev'
# From the symbols file: the tools create a client, which needs 1.1.0.
depends_on $tools "$rt \(>= 1\.1\.0\)"
depends_on $sandbox "$rt \(>= 1\.1\.0\)"

has $rt "$libdir/liblightfunnels-auth.so.$version"
has $rt "$libdir/liblightfunnels-auth.so.1"
hasnt $rt '\.so$|/include/|\.pc$|/cmake/|/bin/'
has $dev "$libdir/liblightfunnels-auth.so"
has $dev /usr/include/lightfunnels/auth.h
has $dev "$libdir/pkgconfig/lightfunnels-auth.pc"
has $dev "$libdir/cmake/lightfunnels-auth/lightfunnels-authConfig.cmake"
has $dev "$libdir/cmake/lightfunnels-auth/lightfunnels-authConfigVersion.cmake"
has $dev "$libdir/cmake/lightfunnels-auth/lightfunnels-auth-targets.cmake"
hasnt $dev '\.so\.1|/bin/'
has $tools /usr/bin/lf-auth
has $tools /usr/share/man/man1/lf-auth.1.gz
hasnt $tools '/lib/|/include/|lf-sandbox'
# The test server is a package of its own: installing the tool does not put
# a server on the machine.
has $sandbox /usr/bin/lf-sandbox
has $sandbox /usr/share/man/man1/lf-sandbox.1.gz
hasnt $sandbox '/lib/|/include/|lf-auth'

# Packaged binaries carry no RUNPATH/RPATH (a plain install into another
# prefix has one: LF_INSTALL_RPATH, checked by the install test).
root=$work/root
for p in $rt $tools $sandbox; do dpkg-deb -x "${deb[$p]}" "$root"; done
for f in "$root/usr/bin/lf-auth" "$root/usr/bin/lf-sandbox" "$root$libdir/liblightfunnels-auth.so.$version"; do
    dyn=$(readelf -d "$f") || fail "readelf -d $f"
    ! echo "$dyn" | grep -qE '\((RUNPATH|RPATH)\)' \
        || fail "${f#"$root"} has a RUNPATH/RPATH: $(echo "$dyn" | grep -E 'RUNPATH|RPATH')"
done

ctl=$work/control-rt
dpkg-deb -e "${deb[$rt]}" "$ctl"
grep -qxE "liblightfunnels-auth 1 $rt \(>= $version\)" "$ctl/shlibs" \
    || fail "$rt: shlibs file missing or wrong: $(cat "$ctl/shlibs" 2>/dev/null)"
grep -qx 'activate-noawait ldconfig' "$ctl/triggers" 2>/dev/null || fail "$rt: no ldconfig trigger"
[ -f "$ctl/symbols" ] || fail "$rt: no symbols file"
while read -r sym; do
    grep -qE "^ $sym@LIGHTFUNNELS_AUTH_[0-9.]+ [0-9]" "$ctl/symbols" || fail "$rt: symbols file lacks $sym"
done <"$src/abi/symbols.txt"

# ---- lintian ---------------------------------------------------------------------
step "lintian (source and binaries)"
lintian --fail-on error,warning --display-info "$changes" >"$logs/lintian.log" 2>&1
lrc=$?
cat "$logs/lintian.log"
[ $lrc -eq 0 ] || fail "lintian reported errors or warnings (exit $lrc)"

# ---- install and the autopkgtests -------------------------------------------------
step "dpkg -i"
did_install=1
dpkg -i "${deb[$rt]}" "${deb[$dev]}" "${deb[$tools]}" "${deb[$sandbox]}" >"$logs/install.log" 2>&1 || {
    cat "$logs/install.log" >&2
    fail "dpkg -i failed (missing dependencies? see above)"
}
for p in "${pkgs[@]}"; do installed "$p" || fail "$p not installed after dpkg -i"; done

# What autopkgtest would run (debian/tests/control), from the source tree,
# each with a fresh AUTOPKGTEST_TMP, against the installed packages.
tests=$(sed -n 's/^Tests: *//p' "$tree/debian/tests/control")
[ -n "$tests" ] || fail "debian/tests/control names no tests"
for t in $tests; do
    step "autopkgtest $t"
    mkdir -p "$work/adt-$t"
    (cd "$tree" && AUTOPKGTEST_TMP=$work/adt-$t "debian/tests/$t") >"$logs/adt-$t.log" 2>"$logs/adt-$t.err"
    trc=$?
    cat "$logs/adt-$t.log"
    # autopkgtest fails a test that writes to stderr unless it allows it.
    [ $trc -eq 0 ] || {
        cat "$logs/adt-$t.err" >&2
        fail "autopkgtest $t exited with $trc"
    }
    [ ! -s "$logs/adt-$t.err" ] || {
        cat "$logs/adt-$t.err" >&2
        fail "autopkgtest $t wrote to stderr"
    }
done

echo "ok: source package and 3 binary packages built, lintian clean, installed, autopkgtests passed"
