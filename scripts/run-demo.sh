#!/usr/bin/env bash
# The main job: installs dependencies, builds, and runs the whole Lightfunnels
# authorization flow against lf-sandbox over HTTPS (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build} exec scripts/demo.sh
