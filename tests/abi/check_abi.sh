#!/usr/bin/env bash
# ABI gate: compares the built shared library with the committed
# baseline (abi/lightfunnels-auth.abi, made by tools/abi/update-baseline.sh)
# using libabigail's abidiff.
#
# Usage: check_abi.sh <liblightfunnels-auth.so> <baseline.abi> <public-headers-dir> <suppressions>
#
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change. 0 passes. 1, 2 or 8 fail. 4 alone means "a change
# abidiff cannot call incompatible by itself": it passes only when the change
# consists of ADDED functions/variables/symbols. abidiff reports a changed
# function signature, a changed struct layout (lf_error fields reordered) or a
# changed enum value with status 4 too, so those are caught here from its
# summary: any removed or changed function, variable or symbol fails.
set -uo pipefail
lib=$1 baseline=$2 headers=$3 suppr=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v abidiff >/dev/null || fail "abidiff not found: install Debian's abigail-tools (apt-get install abigail-tools)"
[ -f "$baseline" ] || fail "no baseline $baseline: run tools/abi/update-baseline.sh and commit it"
[ -f "$lib" ] || fail "no library $lib"

# abidiff reads the types from DWARF. Without debug info it would compare
# symbol names only and miss every layout change, so refuse to pass.
if ! readelf -S --wide "$lib" 2>/dev/null | grep -q '\.debug_info'; then
  fail "$lib has no DWARF debug info (.debug_info), so its ABI cannot be checked.
Build with debug info: -DCMAKE_BUILD_TYPE=RelWithDebInfo (CI) or Debug, and do not strip it."
fi

out=$(abidiff --headers-dir2 "$headers" --suppressions "$suppr" --drop-private-types \
  --fail-no-debug-info "$baseline" "$lib" 2>&1)
rc=$?
echo "$out"
echo "abidiff exit status: $rc"

[ $((rc & 1)) -eq 0 ] || fail "abidiff reported an error (exit bit 1)"
[ $((rc & 2)) -eq 0 ] || fail "abidiff usage error (exit bit 2)"
[ $((rc & 8)) -eq 0 ] || fail "INCOMPATIBLE ABI change against ${baseline##*/} (exit bit 8): a symbol was removed or changed"
[ "$rc" -eq 0 ] && { echo "ok: ABI identical to the baseline"; exit 0; }
[ "$rc" -eq 4 ] || fail "unexpected abidiff exit status $rc"

# Exit 4: accept only additions. The summary lines look like
#   Functions changes summary: 0 Removed, 1 Changed, 0 Added function
#   Variables changes summary: 0 Removed, 0 Changed, 0 Added variable
#   Function symbols changes summary: 0 Removed, 0 Added function symbol not referenced by debug info
summary=$(echo "$out" | grep -E 'changes summary:')
[ -n "$summary" ] || fail "abidiff reported a change (exit 4) but no summary was found"
bad=$(echo "$summary" | grep -E '(^|[^0-9])[1-9][0-9]* (Removed|Changed)' || true)
[ -z "$bad" ] || fail "incompatible ABI change against ${baseline##*/} (removed or changed interfaces):
$bad
If this change is deliberate, it needs a new SONAME (docs/ABI.md)."
echo "ok: compatible additions only (remember to add them to docs/ABI.md and the version script under a new node)"
exit 0
