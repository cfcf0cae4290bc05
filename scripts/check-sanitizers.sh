#!/usr/bin/env bash
# The C suites (and the tools end to end) under AddressSanitizer + UndefinedBehaviorSanitizer, and the
# concurrency suites under ThreadSanitizer (build-asan/, build-tsan/).
#
# The install and packaging gates are left out: their consumers are built
# without the sanitizer runtime, which an instrumented library requires.
#
# TSan sees only instrumented code: libcurl, cJSON and OpenSSL come from
# Debian uninstrumented, so races inside them are out of its sight (cJSON's
# global parse-error pointer is one; the library never reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LF_JOBS:-2}

stage() { printf '\n==== %s ====\n' "$*"; }

stage "ASan + UBSan: build"
cmake --preset asan -DLF_BUILD_TOOLS=ON >/dev/null
cmake --build --preset asan
stage "ASan + UBSan: C suites"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE 'bindings|valgrind|package|install|fuzz|docs|browser'

stage "TSan: build"
cmake --preset tsan -DLF_BUILD_TOOLS=OFF >/dev/null
cmake --build --preset tsan
stage "TSan: concurrency suites"
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L threads
