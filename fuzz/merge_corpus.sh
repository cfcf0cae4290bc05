#!/usr/bin/env bash
# Folds the inputs a long run found (OUT_DIR/<target>/corpus, see
# fuzz/long_run.sh) into the committed corpus fuzz/corpus/<target>, keeping
# only those that add coverage (libFuzzer -merge=1). Seeds stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
OUT_DIR=${OUT_DIR:-$BUILD_DIR/long}
TARGETS=${TARGETS:-"fuzz_callback fuzz_consent_url fuzz_token_response fuzz_error_body fuzz_graphql_response fuzz_webhook"}
for t in $TARGETS; do
  [ -d "$OUT_DIR/$t/corpus" ] || { echo "$t: no long-run corpus, skipped"; continue; }
  before=$(ls fuzz/corpus/"$t" | wc -l)
  "$BUILD_DIR/fuzz/$t" -merge=1 -rss_limit_mb=512 -timeout=5 "fuzz/corpus/$t" "$OUT_DIR/$t/corpus" \
    >"$OUT_DIR/$t/merge.log" 2>&1
  echo "$t: $before -> $(ls fuzz/corpus/"$t" | wc -l) files, $(du -sb fuzz/corpus/"$t" | cut -f1) bytes"
done
