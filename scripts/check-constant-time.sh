#!/usr/bin/env bash
# CI gate for the constant-time checks of bench/dudect.cpp (lf_state_equal,
# the state check of lf_parse_callback, the MAC check of lf_state_open,
# lf_webhook_verify, and a leaky control): builds lf_dudect alone (build-ct/, Release, no Google Benchmark
# needed) and runs it pinned to one CPU.
#
# The gate fails when a real target's max |t| is >= 5 (the gate docs/TESTING.md states) or
# when the control's max |t| is under 10 (then the run had no power and
# proves nothing), or when a target is missing from the table. lf_dudect
# applies the same limits to its exit status; the table is checked here as
# well so the gate does not rest on that alone.
#
# Timing on a shared machine is noisy: a failing run is repeated once, and
# only a second failure fails the gate. 2 x 10^6 samples per class take
# about 5-20 s on the 2-core development machine (bench/ct's default and
# the figure in docs/TESTING.md).
#
# Environment: LF_CT_SAMPLES (samples per class, default 2000000; at least
# 10^6 for the gate), LF_CT_BUILD (build directory, default
# build-ct), LF_CT_CPU (CPU to pin to, default 1), LF_JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LF_CT_BUILD:-build-ct}
samples=${LF_CT_SAMPLES:-2000000}
jobs=${LF_JOBS:-2}
targets=(state_equal callback_state state_open webhook_verify control)

mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLF_BUILD_BENCH=ON -DBUILD_TESTING=OFF \
    -DLF_BUILD_TOOLS=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target lf_dudect
pin=()
if command -v taskset >/dev/null 2>&1 && (($(nproc) > 1)); then
    pin=(taskset -c "${LF_CT_CPU:-1}")
fi

# The table lf_dudect printed ($1) meets the limits: every target present,
# real targets under 5, the control at 10 or more.
table_ok() {
    awk -v want="${targets[*]}" '
        BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) need[w[i]] = 1 }
        $1 in need && NF >= 5 {
            seen[$1] = 1
            t = $5 + 0
            if ($1 == "control" && t < 10) { print "control not detected: max |t| " t " < 10"; bad = 1 }
            if ($1 != "control" && t >= 5) { print $1 ": max |t| " t " >= 5"; bad = 1 }
        }
        END {
            for (k in need) if (!(k in seen)) { print k ": missing from the table"; bad = 1 }
            exit bad
        }' "$1" >&2
}

# One measurement: 0 when lf_dudect and the table check both pass, 1 when
# the timings fail the gate, 2 when lf_dudect could not run.
measure() {
    local out=$build/dudect.txt rc=0
    timeout --kill-after=5 600 "${pin[@]}" "$build/bench/lf_dudect" "$samples" "${targets[@]}" |
        tee "$out" || rc=$?
    ((rc == 0 || rc == 1)) || { echo "lf_dudect failed to run (exit $rc)" >&2; return 2; }
    table_ok "$out" || rc=1
    return "$rc"
}

rc=0
measure || rc=$?
if ((rc == 1)); then
    echo "constant time: the gate failed; measuring once more (timing noise on a shared machine)" >&2
    rc=0
    measure || rc=$?
fi
((rc == 0)) || { echo "constant time: FAILED" >&2; exit 1; }
echo "constant time: every target under |t| = 5, the leaky control detected"
