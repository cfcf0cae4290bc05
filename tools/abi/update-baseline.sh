#!/usr/bin/env bash
# Regenerates the committed ABI baseline abi/lightfunnels-auth.abi from the
# current sources. Run it ON PURPOSE only (a release, or a reviewed,
# deliberate ABI change) and commit the result in its own reviewed commit:
# the ctest abi_compat compares every build against this file (docs/ABI.md).
#
# Usage: tools/abi/update-baseline.sh [--check]
#   --check  build and compare against the committed baseline without
#            writing it (exit status of the abi_compat gate).
# Needs: cmake, a C/C++ toolchain, the library's build dependencies and
# abigail-tools (abidw, abidiff).
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
baseline="$src/abi/lightfunnels-auth.abi"
suppr="$src/abi/lightfunnels-auth.abignore"
headers="$src/include/lightfunnels"
check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

for t in cmake abidw abidiff; do
  command -v "$t" >/dev/null || { echo "update-baseline: '$t' not found (apt-get install abigail-tools cmake)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lf-abi-baseline.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
echo "update-baseline: building the library (RelWithDebInfo) in $tmp/build" >&2
cmake -S "$src" -B "$tmp/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBUILD_TESTING=OFF -DLF_BUILD_TOOLS=OFF >"$tmp/configure.log" 2>&1 \
  || { cat "$tmp/configure.log" >&2; exit 1; }
cmake --build "$tmp/build" -j2 --target lightfunnels-auth >"$tmp/build.log" 2>&1 \
  || { cat "$tmp/build.log" >&2; exit 1; }
lib=$(find "$tmp/build" -name 'liblightfunnels-auth.so.*.*.*' -type f | head -n 1)
[ -n "$lib" ] || { echo "update-baseline: built library not found" >&2; exit 1; }

if [ "$check_only" = 1 ]; then
  exec bash "$src/tests/abi/check_abi.sh" "$lib" "$baseline" "$headers" "$suppr"
fi

# Only what the public header defines and the exported functions reach is
# recorded (opaque handles stay declaration-only); locations are file names
# only, so the baseline does not depend on where the tree is checked out.
abidw --headers-dir "$headers" --suppressions "$suppr" \
  --drop-private-types --exported-interfaces-only \
  --no-corpus-path --no-comp-dir-path --short-locs \
  --out-file "$tmp/new.abi" "$lib"

# Sanity: the library compares equal to its own fresh baseline.
abidiff --headers-dir2 "$headers" --suppressions "$suppr" --drop-private-types \
  --fail-no-debug-info "$tmp/new.abi" "$lib" >"$tmp/self.txt" 2>&1 || {
  cat "$tmp/self.txt" >&2
  echo "update-baseline: the new baseline does not compare equal to its own library" >&2
  exit 1
}
cp "$tmp/new.abi" "$baseline"
echo "update-baseline: wrote ${baseline#"$src"/} ($(grep -c '<elf-symbol ' "$baseline") symbols)."
echo "Review 'git diff abi/' and commit it on its own with the reason for the change."
