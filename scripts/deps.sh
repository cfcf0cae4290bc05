#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build lightfunnels-auth and run
# the demo (`deps.sh demo`), to build it and run every test (`deps.sh`, the
# default), or that and the benchmarks too (`deps.sh bench`: bench/run,
# bench/profile, bench/ct). Does nothing when they are all present. Needs
# root (or sudo).
set -euo pipefail

packages=(
  # build (the library, tools and C tests are always configured together)
  build-essential cmake ninja-build pkgconf git ca-certificates openssl
  libcurl4-openssl-dev libcjson-dev libssl-dev libcmocka-dev libcpp-httplib-dev
  # the reference app (examples/app): HTTP server and its install database
  libmicrohttpd-dev libsqlite3-dev
  # examples/libuv (the async calls on a libuv loop); its test fails without it
  libuv1-dev
  # the demo: a headless-Chromium merchant driven over DevTools by python3,
  # curl for the sandbox's control endpoints; python3 also configures the
  # test areas (hostile-server suite)
  chromium curl python3
)
if [ "${1:-all}" != demo ]; then
  packages+=(
    # bindings (python3-flask: the Python binding's Flask example and its test)
    golang-go cargo rustc python3-flask
    # tests: hostile servers, sanitizers, fuzzing, coverage
    valgrind clang clang-format libclang-rt-14-dev gcovr
    # ABI gate, the Debian source package (dpkg-buildpackage, lintian), API reference
    abigail-tools debhelper dpkg-dev fakeroot lintian doxygen man-db file
  )
fi
if [ "${1:-all}" = bench ]; then
  # the exchange benchmark's server and the in-process benchmarks' framework
  packages+=(nginx libbenchmark-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
