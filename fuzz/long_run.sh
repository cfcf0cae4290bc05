#!/usr/bin/env bash
# The long fuzz run (not part of CI): every target for SECONDS seconds
# (default 600), JOBS targets at a time (default 2), each starting from a
# scratch copy of its committed corpus. Needs the targets built in BUILD_DIR
# (default build-fuzz; scripts/fuzz-smoke.sh configures and builds it).
# Logs, grown corpora and any crash reproducers go to OUT_DIR
# (default BUILD_DIR/long). Afterwards, fold new inputs into the committed
# corpus with fuzz/merge_corpus.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
SECONDS_PER_TARGET=${1:-600}
JOBS=${JOBS:-2}
OUT_DIR=${OUT_DIR:-$BUILD_DIR/long}
TARGETS=${TARGETS:-"fuzz_callback fuzz_consent_url fuzz_token_response fuzz_error_body fuzz_graphql_response fuzz_webhook"}

run_one() {
  local t=$1 dir="$OUT_DIR/$1"
  rm -rf "$dir" && mkdir -p "$dir/corpus"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  local dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=fuzz/dict/$t.dict")
  local rc=0
  "$BUILD_DIR/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=512 -timeout=5 \
    -print_final_stats=1 -artifact_prefix="$dir/" "${dict[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
  echo "$t: exit $rc"
}

running=0
for t in $TARGETS; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
for t in $TARGETS; do
  d="$OUT_DIR/$t"
  last=$(grep -E '^#[0-9]+' "$d/log" | tail -1 || true)
  echo "$t rc=$(cat "$d/rc") corpus=$(ls "$d/corpus" | wc -l) :: $last"
done
