#!/usr/bin/env bash
# docs/ABI.md's "introduced in" table is complete and true:
#  - it has exactly one row per exported symbol of abi/symbols.txt, no more;
#  - each row's release X.Y.Z matches the version node the library exports
#    the symbol under (LIGHTFUNNELS_AUTH_X.Y; "experimental" rows:
#    LIGHTFUNNELS_AUTH_EXPERIMENTAL);
#  - no row claims a release newer than the library itself.
# Rows look like:  | `lf_name` | 1.0.0 | `LIGHTFUNNELS_AUTH_1.0` |
set -euo pipefail
doc=$1 symbols=$2 lib=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$doc" ] || fail "$doc missing"

rows=$(grep -E '^\| *`lf_[a-z0-9_]+` *\|' "$doc" || true)
[ -n "$rows" ] || fail "no symbol table rows in $doc"
table=$(echo "$rows" | awk -F'|' '{gsub(/[ `]/, "", $2); gsub(/[ `]/, "", $3); gsub(/[ `]/, "", $4); print $2, $3, $4}')

dups=$(echo "$table" | awk '{print $1}' | sort | uniq -d)
[ -z "$dups" ] || fail "symbols listed twice in $doc: $dups"
diff <(echo "$table" | awk '{print $1}' | sort) <(sort "$symbols") >/dev/null || {
  diff <(echo "$table" | awk '{print $1}' | sort) <(sort "$symbols") >&2 || true
  fail "the table in $doc differs from $symbols (< doc, > symbols.txt)"
}

# Library release from the real file name: liblightfunnels-auth.so.X.Y.Z
real=$(readlink -f "$lib")
libver=${real##*.so.}
[[ "$libver" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "cannot read the release from $real"
vnum() { local IFS=.; set -- $1; echo $(( $1 * 10000 + $2 * 100 + $3 )); }

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep '@@' )
errors=0
while read -r name since node; do
  case $since in
    experimental) want=LIGHTFUNNELS_AUTH_EXPERIMENTAL ;;
    [0-9]*.[0-9]*.[0-9]*)
      want="LIGHTFUNNELS_AUTH_${since%.*}"
      [ "$(vnum "$since")" -le "$(vnum "$libver")" ] || { echo "FAIL: $name: introduced in $since, newer than the library ($libver)" >&2; errors=1; } ;;
    *) echo "FAIL: $name: bad release '$since'" >&2; errors=1; continue ;;
  esac
  [ "$node" = "$want" ] || { echo "FAIL: $name: doc says node $node, release $since needs $want" >&2; errors=1; }
  got=$(echo "$exported" | sed -n "s/^$name@@//p")
  [ "$got" = "$want" ] || { echo "FAIL: $name: exported under '${got:-<not exported>}', doc says $want" >&2; errors=1; }
done <<<"$table"
[ $errors -eq 0 ] || exit 1
echo "ok: $(echo "$table" | wc -l) symbols documented in ${doc##*/}, versions agree with the library ($libver)"
