#!/usr/bin/env bash
# ABI gate: the shared library exports exactly the names in abi/symbols.txt,
# each under a LIGHTFUNNELS_AUTH_1.<minor> version node (1.0 for every 1.0
# symbol; which node each name belongs to is checked against docs/ABI.md by
# check_abi_doc.sh) or LIGHTFUNNELS_AUTH_EXPERIMENTAL, and nothing else; its
# SONAME is liblightfunnels-auth.so.1; every LF_API declaration of the header
# is listed.
set -euo pipefail
lib=$1 symbols=$2 header=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

nodes='LIGHTFUNNELS_AUTH_(1\.[0-9]+|EXPERIMENTAL)'
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -vE "^${nodes}\$" | sort)
unversioned=$(echo "$exported" | grep -vE "@@${nodes}\$" || true)
[ -z "$unversioned" ] || fail "exported without a LIGHTFUNNELS_AUTH_1.x version: $unversioned"
echo "$exported" | grep -q '@@LIGHTFUNNELS_AUTH_1\.0$' || fail "nothing exported under LIGHTFUNNELS_AUTH_1.0"
names=$(echo "$exported" | sed 's/@@.*//' | sort)
bad=$(echo "$names" | grep -v '^lf_' || true)
[ -z "$bad" ] || fail "non-lf_ symbols exported: $bad"
diff <(echo "$names") <(sort "$symbols") >/dev/null || {
  diff <(echo "$names") <(sort "$symbols") >&2 || true
  fail "exported symbols differ from $symbols (< library, > list)"
}
declared=$(grep -oE 'LF_API [^(]*\(' "$header" | grep -oE 'lf_[a-z0-9_]+ ?\($' | tr -d ' (' | sort)
diff <(echo "$declared") <(sort "$symbols") >/dev/null || {
  diff <(echo "$declared") <(sort "$symbols") >&2 || true
  fail "header declarations differ from $symbols (< header, > list)"
}
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "liblightfunnels-auth.so.1" ] || fail "SONAME is '$soname'"
echo "ok: $(echo "$names" | wc -l) symbols, all lf_*, versioned LIGHTFUNNELS_AUTH_1.x, SONAME $soname"
