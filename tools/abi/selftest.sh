#!/usr/bin/env bash
# Proves that the abi_compat gate (tests/abi/check_abi.sh) can fail: builds
# deliberately modified copies of the library in a scratch directory and
# checks the gate's verdict on each against the committed baseline. Nothing in
# the source tree is modified. Slow (one library build per case, ~1 min each
# on 2 cores), so it is run by hand, not by ctest:
#
#   tools/abi/selftest.sh [case ...]     # default: every case
#
# Cases and the expected verdict (see docs/ABI.md, "How the gate was proven"):
#   identical         unchanged copy                                  -> pass
#   private_change    a member added to the opaque struct lf_auth      -> pass
#   add_function      new lf_abi_selftest() under LIGHTFUNNELS_AUTH_1.1 -> pass
#   config_append     a field appended to lf_auth_config (struct_size)  -> pass
#   remove_function   lf_state_equal dropped from the version script    -> FAIL
#   error_reorder     lf_error.status moved after message               -> FAIL
#   error_append      a field appended to lf_error (frozen)             -> FAIL
#   enum_value        LF_E_TIMEOUT = 9 changed to 30                    -> FAIL
#   options_insert    a field inserted in the middle of lf_call_options -> FAIL
#   no_debug_info     unchanged copy built as Release (no DWARF)        -> FAIL
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
all=(identical private_change add_function config_append remove_function error_reorder
     error_append enum_value options_insert no_debug_info)
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${all[@]}")

expect() {
  case $1 in
    identical|private_change|add_function|config_append) echo pass ;;
    *) echo fail ;;
  esac
}

# edit FILE PYTHON-EXPR: rewrites FILE with s = <expr over s>, and insists that
# the edit changed something (a pattern that stopped matching must not turn a
# FAIL case into a silent pass).
edit() {
  python3 - "$1" "$2" <<'PY'
import re, sys
path, expr = sys.argv[1], sys.argv[2]
s = open(path).read()
t = eval(expr, {"re": re, "s": s})
if t == s:
    sys.exit("selftest: edit did not apply to " + path)
open(path, "w").write(t)
PY
}

modify() {  # $1 case, $2 scratch tree
  local h=$2/include/lightfunnels/auth.h map=$2/src/lightfunnels-auth.map f=$2/src/facade.cpp
  case $1 in
    identical|no_debug_info) ;;
    private_change)
      edit "$f" 're.sub(r"(struct lf_auth \{\n)", r"\1    long abi_selftest_private = 0;\n", s, count=1)' ;;
    add_function)
      edit "$h" 're.sub(r"\nLF_END_DECLS", "\nLF_API int lf_abi_selftest(void);\n\nLF_END_DECLS", s, count=1)' &&
      edit "$map" 's + "\nLIGHTFUNNELS_AUTH_1.1 {\n  global:\n    lf_abi_selftest;\n} LIGHTFUNNELS_AUTH_1.0;\n"' &&
      edit "$f" 's + "\nint lf_abi_selftest(void) { return 1; }\n"' ;;
    config_append)
      edit "$h" 're.sub(r"(\n    const char \*user_agent;[^\n]*\n)", r"\1    long abi_selftest_appended;\n", s, count=1)' ;;
    remove_function)
      edit "$map" 're.sub(r"\n    lf_state_equal;", "", s, count=1)' ;;
    error_reorder)
      edit "$h" 're.sub(r"(typedef struct lf_error \{\n)(    lf_status status;[^\n]*\n)((?:.*\n)*?)(    char message\[256\];[^\n]*\n)", r"\1\3\4\2", s, count=1)' ;;
    error_append)
      edit "$h" 're.sub(r"(\n    char message\[256\];[^\n]*\n)", r"\1    long abi_selftest_appended;\n", s, count=1)' ;;
    enum_value)
      # The library's internal status enum is static_assert-ed equal to the
      # public one (src/facade.cpp), so both move together here.
      edit "$h" 're.sub(r"LF_E_TIMEOUT = 9,", "LF_E_TIMEOUT = 30,", s, count=1)' &&
      edit "$2/src/status.hpp" 're.sub(r"Timeout = 9,", "Timeout = 30,", s, count=1)' ;;
    options_insert)
      edit "$h" 're.sub(r"(typedef struct lf_call_options \{\n    size_t struct_size;[^\n]*\n)", r"\1    long abi_selftest_inserted;\n", s, count=1)' ;;
    *) echo "selftest: unknown case $1" >&2; return 2 ;;
  esac
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lf-abi-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
failures=0
for c in "${cases[@]}"; do
  t=$tmp/$c
  mkdir -p "$t"
  cp -r "$src/CMakeLists.txt" "$src/cmake" "$src/src" "$src/include" "$src/lightfunnels-auth.pc.in" "$t/"
  if ! modify "$c" "$t"; then echo "selftest: $c: could not apply the modification" >&2; failures=$((failures+1)); continue; fi
  type=RelWithDebInfo
  [ "$c" = no_debug_info ] && type=Release
  if ! { cmake -S "$t" -B "$t/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=$type -DBUILD_TESTING=OFF \
           -DLF_BUILD_TOOLS=OFF && cmake --build "$t/build" -j2 --target lightfunnels-auth; } >"$t/build.log" 2>&1; then
    tail -20 "$t/build.log" >&2; echo "selftest: $c: build failed" >&2; failures=$((failures+1)); continue
  fi
  bash "$src/tests/abi/check_abi.sh" "$t/build/src/liblightfunnels-auth.so" "$src/abi/lightfunnels-auth.abi" \
    "$t/include/lightfunnels" "$src/abi/lightfunnels-auth.abignore" >"$t/gate.log" 2>&1
  rc=$?
  got=pass; [ $rc -eq 0 ] || got=fail
  want=$(expect "$c")
  abirc=$(sed -n 's/^abidiff exit status: //p' "$t/gate.log")
  reason=$(grep -m1 -E '^(FAIL|ok):' "$t/gate.log")
  if [ "$got" = "$want" ]; then
    printf 'selftest: %-16s gate %-4s (expected %s; abidiff exit %s) %s\n' "$c" "$got" "$want" "${abirc:--}" "$reason"
  else
    printf 'selftest: %-16s gate %-4s BUT EXPECTED %s (abidiff exit %s)\n' "$c" "$got" "$want" "${abirc:--}"
    cat "$t/gate.log"
    failures=$((failures+1))
  fi
  rm -rf "$t"
done
[ $failures -eq 0 ] && echo "selftest: all ${#cases[@]} cases as expected" || echo "selftest: $failures case(s) wrong"
[ $failures -eq 0 ]
