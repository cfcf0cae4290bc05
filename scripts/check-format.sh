#!/usr/bin/env bash
# Fails when a C or C++ file of the tree differs from what .clang-format makes of
# it (the frozen 1.0 header under abi/ is left as released). Fix with
#   clang-format -i $(git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | grep -v '^abi/')
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is required (apt-get install clang-format)" >&2; exit 1; }
# Tracked files and new ones git does not ignore: a file not yet added is
# checked too.
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.c' '*.h' '*.cpp' '*.hpp' | grep -v '^abi/')
clang-format --style=file --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files formatted as .clang-format says"
