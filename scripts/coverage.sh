#!/usr/bin/env bash
# Line and branch coverage of the library's sources (src/) by the C suites
# (unit, integration, hostile, allocation, ABI, tools end to end), measured
# with gcov and summarised by gcovr, in build-cov/ (preset "coverage":
# --coverage -fprofile-update=atomic, since several suites run threads).
#
# Branches the compiler adds for exceptions and provably unreachable ones are
# left out (--exclude-throw-branches --exclude-unreachable-branches). The
# run fails if coverage drops below the floors, set just under what was
# measured when they were last raised (see docs/TESTING.md):
#   LF_COV_MIN_LINES    (default 95)  LF_COV_MIN_BRANCHES (default 84)
# Writes build-cov/coverage.txt (per file, uncovered lines listed) and
# build-cov/coverage.html (annotated sources).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LF_JOBS:-2}
min_lines=${LF_COV_MIN_LINES:-95}
min_branches=${LF_COV_MIN_BRANCHES:-84}
command -v gcovr >/dev/null || { echo "coverage: gcovr is required (apt-get install gcovr)" >&2; exit 1; }

cmake --preset coverage -DLF_BUILD_TOOLS=ON >/dev/null
cmake --build --preset coverage
# Counters from an earlier run would add up with this one's.
find build-cov -name '*.gcda' -delete
ctest --test-dir build-cov --output-on-failure -j"$jobs" -LE 'bindings|valgrind|package|install|fuzz|docs|browser'

opts=(-r . --filter 'src/' --object-directory build-cov --exclude-directories 'build-cov/CMakeFiles' --exclude-throw-branches --exclude-unreachable-branches)
gcovr "${opts[@]}" -o build-cov/coverage.txt
gcovr "${opts[@]}" --branches -o build-cov/coverage-branches.txt
gcovr "${opts[@]}" --html-details -o build-cov/coverage.html
echo "lines (per file: build-cov/coverage.txt):"
tail -n 3 build-cov/coverage.txt
echo "branches (per file: build-cov/coverage-branches.txt):"
tail -n 3 build-cov/coverage-branches.txt
# Never `-o /dev/null`: gcovr 5.2 checks an output path by creating the file
# and unlinking it, which deletes /dev/null.
gcovr "${opts[@]}" --fail-under-line "$min_lines" --fail-under-branch "$min_branches" \
  -o build-cov/coverage-check.txt || {
  echo "coverage: below the floor (lines $min_lines %, branches $min_branches %)" >&2
  exit 1
}
