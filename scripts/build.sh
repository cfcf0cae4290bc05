#!/usr/bin/env bash
# Configures and builds everything (library, tools, tests) in ./build, with
# compiler warnings as errors (LF_WERROR; CI and developers use this script).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_WERROR=ON ${LF_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"${LF_JOBS:-2}"
