#!/usr/bin/env bash
# The main job: installs dependencies, builds, and runs the whole life of a
# Lightfunnels app (examples/app) against lf-sandbox over HTTPS, with a
# headless-Chromium merchant installing it from the admin iframe, an order
# event and an uninstall (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build} exec scripts/demo.sh
