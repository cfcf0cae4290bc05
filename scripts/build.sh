#!/usr/bin/env bash
# Configures and builds everything (library, tools, tests) in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${LF_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"${LF_JOBS:-2}"
