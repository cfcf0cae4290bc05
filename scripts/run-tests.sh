#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, and runs every test
# (C unit and integration suites, install checks, tools end to end, Go and
# Rust bindings) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${LF_JOBS:-2}" --timeout 900 "$@"
