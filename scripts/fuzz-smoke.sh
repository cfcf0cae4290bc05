#!/usr/bin/env bash
# Fuzz smoke test (CI): configures a clang build with ASan + UBSan + libFuzzer
# instrumentation in LF_FUZZ_BUILD_DIR (default build-fuzz), builds only the fuzz
# targets, and runs them through ctest (label "fuzz"): each target replays
# its committed corpus, then fuzzes a fixed number of fresh inputs.
# Needs: clang, libclang-rt-14-dev (Debian 12). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${LF_FUZZ_BUILD_DIR:-build-fuzz}  # not BUILD_DIR: run-tests.sh exports that for the main build
JOBS=${LF_JOBS:-2}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"

if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "fuzz-smoke: clang is required (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DLF_BUILD_FUZZ=ON -DLF_BUILD_TOOLS=OFF -DBUILD_TESTING=ON
cmake --build "$BUILD_DIR" -j"$JOBS" --target fuzz_all
ctest --test-dir "$BUILD_DIR" -L fuzz --output-on-failure -j"$JOBS" "$@"
