#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds, and runs
#   1. every ctest test of the main build (C unit, integration, allocation,
#      hostile-server, ABI, install and package suites; lf-auth and lf-sandbox
#      end to end, with a real browser; the Go and Rust bindings);
#   2. the unit and integration suites under valgrind memcheck;
#   3. the C suites under ASan+UBSan and the concurrency suite under TSan;
#   4. every fuzz target on its committed corpus plus a fixed number of runs.
#   5. line and branch coverage of src/ by the C suites, against floors.
#   6. the constant-time checks (bench/dudect.cpp) with their leaky control,
#      run once more before failing (timing noise);
# and, first of all, that every C and C++ file is formatted as .clang-format says,
# and that the whole project (library, tools, tests, examples, fuzzers) also
# builds with clang without a warning.
# Any failure stops the script with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
jobs=${LF_JOBS:-2}
stage() { printf '\n==== %s ====\n' "$*"; }

scripts/deps.sh
stage "format"
scripts/check-format.sh
stage "build"
LF_CMAKE_ARGS="-DLF_TEST_VALGRIND=ON ${LF_CMAKE_ARGS:-}" scripts/build.sh
stage "clang build: everything, warnings as errors"
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR-clang" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_WERROR=ON \
    -DLF_BUILD_FUZZ=ON >/dev/null
cmake --build "$BUILD_DIR-clang" -j"$jobs"
stage "valgrind memcheck: unit and integration suites"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$jobs" -L 'valgrind-(unit|integration|examples)'
stage "sanitizers"
scripts/check-sanitizers.sh
stage "fuzzing smoke"
scripts/fuzz-smoke.sh
stage "coverage"
scripts/coverage.sh
stage "constant time"
scripts/check-constant-time.sh
stage "all tests"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$jobs" --timeout 2400 -LE valgrind "$@"
