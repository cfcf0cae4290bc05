#!/usr/bin/env python3
"""Prints bench/run's one table from the JSON files in a work directory.

Usage: report.py DIR   (DIR holds inproc.json, warm.json, async.json,
                        cold.json, rss_lf.json, rss_curl.json, ir.json)

Ratios are ours / baseline. In-process rows use the ratio of the medians
(CPU time) of Google Benchmark's randomly interleaved repetitions; exchange
rows use the median of the per-repetition ratios (each repetition runs ours
and the baseline back to back, so the pair sees the same machine load).
"""
import json
import os
import statistics
import sys

d = sys.argv[1]


def load(name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


inproc = load("inproc.json")
warm = load("warm.json")["series"]
try:
    async_run = load("async.json")
except FileNotFoundError:
    async_run = None
cold = load("cold.json")["series"]
rss_lf = load("rss_lf.json")
rss_curl = load("rss_curl.json")
try:
    ir = load("ir.json")
except FileNotFoundError:
    ir = {}

SCALE = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
med = {}
for b in inproc["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    med[b["run_name"]] = b


def ns(name):
    b = med[name]
    return b["cpu_time"] * SCALE[b.get("time_unit", "ns")]


def wall_ns(name):
    b = med[name]
    return b["real_time"] * SCALE[b.get("time_unit", "ns")]


def mbps(name):
    # bytes / CPU second, so preemption by other processes does not count
    b = med[name]
    secs = b["cpu_time"] * SCALE[b.get("time_unit", "ns")] / 1e9
    size = 1024 if "1K" in name else 1 << 20
    return size / secs / 1e6


def allocs(name):
    b = med[name]
    return sum(b.get(k, 0.0) for k in ("lf_allocs", "curl_allocs", "ossl_allocs"))


def paired(a, b, key):
    xs = [x / y for x, y in zip(a[key], b[key]) if y]
    return statistics.median(xs) if xs else float("nan")


def iqr(a, b, key):
    """Interquartile range of the per-repetition ratios: how noisy the pairs were."""
    xs = sorted(x / y for x, y in zip(a[key], b[key]) if y)
    if len(xs) < 4:
        return ""
    q = statistics.quantiles(xs, n=4)
    return f" [{q[0]:.2f}-{q[2]:.2f}]"


rows = []


def row(workload, ours, base, ratio, target, verdict):
    rows.append((workload, ours, base, ratio, target, verdict))


def verdict(ok):
    return "PASS" if ok else "MISS"


# ---- in-process -----------------------------------------------------------------
o, n = ns("BM_ConsentUrl_Lf"), ns("BM_ConsentUrl_Naive")
row("consent URL (ns/op)", f"{o:.0f}", f"{n:.0f} naive", f"{o / n:.3f}",
    "<=160 ns, ratio <=0.10", verdict(o <= 160 and o / n <= 0.10))
a, an = allocs("BM_ConsentUrl_Lf"), allocs("BM_ConsentUrl_Naive")
row("consent URL (allocs/op)", f"{a:g}", f"{an:g} naive", "-", "0", verdict(a == 0))
o, n = ns("BM_ParseCallback_Lf"), ns("BM_ParseCallback_Naive")
row("callback parse (ns/op)", f"{o:.0f}", f"{n:.0f} CURLU", f"{o / n:.3f}", "report", "info")
a, an = allocs("BM_ParseCallback_Lf"), allocs("BM_ParseCallback_Naive")
row("callback parse (allocs/op)", f"{a:g}", f"{an:g} CURLU", "-", "0", verdict(a == 0))
o, n = ns("BM_Webhook1K_Lf"), ns("BM_Webhook1K_EvpMac")
row("webhook verify 1 KiB (ns/op)", f"{o:.0f}", f"{n:.0f} EVP_MAC", f"{o / n:.3f}", "ratio <=1.0",
    verdict(o / n <= 1.0))
a, an = allocs("BM_Webhook1K_Lf"), allocs("BM_Webhook1K_EvpMac")
row("webhook verify 1 KiB (allocs/op)", f"{a:g}", f"{an:g} EVP_MAC", "-", "report", "info")
o, n = wall_ns("BM_Webhook1K_Lf/real_time/threads:2"), wall_ns("BM_Webhook1K_EvpMac/real_time/threads:2")
row("webhook verify 1 KiB, 2 threads (wall ns/op)", f"{o:.0f}", f"{n:.0f} EVP_MAC", f"{o / n:.3f}", "report", "info")
o, n = mbps("BM_Webhook1M_Lf"), mbps("BM_Webhook1M_EvpMac")
row("webhook verify 1 MiB (MB/s)", f"{o:.0f}", f"{n:.0f} EVP_MAC", f"{o / n:.3f}", "ratio >=0.95",
    verdict(o / n >= 0.95))
for name, label in (("BM_AuthNew_SystemStore", "lf_auth_new+free, system store (us)"),
                    ("BM_AuthNew_CaFile", "lf_auth_new+free, ca_file (us)")):
    row(label, f"{ns(name) / 1e3:.1f}", "-", "-", f"report ({allocs(name):g} allocs)", "info")

# ---- exchange ----------------------------------------------------------------------
for t in (1, 2):
    a, b = warm.get(f"lf_t{t}"), warm.get(f"curl_t{t}")
    if not a or not b:
        continue
    rx = paired(a, b, "xps")
    rc = paired(a, b, "cpu_us")
    row(f"exchange warm, {t} thread(s) (exch/s)", f"{a['median_xps']:.0f}", f"{b['median_xps']:.0f} curl+cJSON",
        f"{rx:.3f}{iqr(a, b, 'xps')}", "ratio >=0.95", verdict(rx >= 0.95))
    row(f"exchange warm, {t} thread(s) (client CPU us/exch)", f"{a['median_cpu_us']:.1f}",
        f"{b['median_cpu_us']:.1f} curl+cJSON", f"{rc:.3f}{iqr(a, b, 'cpu_us')}", "ratio <=1.05",
        verdict(rc <= 1.05))
    r = warm.get(f"curl_readcb_t{t}")
    if r:
        row(f"  baseline, body by read callback, {t} thread(s) (exch/s)", f"{r['median_xps']:.0f}",
            f"{b['median_xps']:.0f} curl+cJSON", f"{paired(r, b, 'xps'):.3f}{iqr(r, b, 'xps')}",
            f"(CPU ratio {paired(r, b, 'cpu_us'):.3f})", "info")
    row(f"  server CPU us/exch, {t} thread(s)", f"{a['median_server_us']:.1f}", f"{b['median_server_us']:.1f}", "-",
        "(server is not the limit)", "info")

if async_run:
    # One lf_auth, N lf_exchange_code_async calls kept in flight by its one
    # I/O thread, against one libcurl multi handle with N easy handles on one
    # thread; paired repetitions, as the warm rows.
    a, b = async_run["series"]["lf_async"], async_run["series"]["curl_multi"]
    n = async_run["inflight"]
    rx = paired(a, b, "xps")
    row(f"exchange async, {n} in flight, 1 thread (exch/s)", f"{a['median_xps']:.0f}",
        f"{b['median_xps']:.0f} curl multi", f"{rx:.3f}{iqr(a, b, 'xps')}", "ratio >=0.90", verdict(rx >= 0.90))
    row(f"  async, {n} in flight (client CPU us/exch)", f"{a['median_cpu_us']:.1f}",
        f"{b['median_cpu_us']:.1f} curl multi", f"{paired(a, b, 'cpu_us'):.3f}{iqr(a, b, 'cpu_us')}", "report",
        "info")
    nc = async_run.get("new_conns", {})
    co, cb = nc.get("lf_async", []), nc.get("curl_multi", [])
    runs = f"{sum(1 for x in co if x)}/{len(co)} and {sum(1 for x in cb if x)}/{len(cb)} runs"
    row("  async: connections opened while measured", f"{max(co, default=0)} max", f"{max(cb, default=0)} max", "-",
        f"(0: all reused; >0 in {runs})", "info")
    row(f"  server CPU us/exch, async", f"{a['median_server_us']:.1f}", f"{b['median_server_us']:.1f}", "-",
        "(server is not the limit)", "info")

if ir.get("lf") and ir.get("curl"):
    # The stable cross-check of the CPU rows: instructions against a baseline
    # that sends the same request (its header list with the User-Agent line
    # the contract requires, which libcurl formats byte by byte, ~3 k).
    if ir.get("curl_uahdr"):
        r = ir["lf"] / ir["curl_uahdr"]
        row("exchange warm (instructions/exch, callgrind)", f"{ir['lf']:,}", f"{ir['curl_uahdr']:,} same request",
            f"{r:.3f}", "ratio <=1.05 (stable CPU proxy)", verdict(r <= 1.05))
    r = ir["lf"] / ir["curl"]
    row("  vs the bare baseline (no User-Agent)", f"{ir['lf']:,}", f"{ir['curl']:,} curl+cJSON", f"{r:.3f}",
        "report", "info")
    if ir.get("curl_readcb"):
        row("  baseline, body by read callback (instr/exch)", f"{ir['curl_readcb']:,}", f"{ir['curl']:,} curl+cJSON",
            f"{ir['curl_readcb'] / ir['curl']:.3f}", "(what the read callback costs)", "info")

if ir.get("lf") and "trace_code_off" in ir:
    # Tracing off: the instructions executed in the trace code (src/trace.cpp's
    # functions and the trace-only helpers) per warm exchange with trace NULL,
    # as a share of the exchange. The NULL checks inlined at the three call
    # sites are not in any trace function; docs/BENCHMARKS.md bounds them.
    share = ir["trace_code_off"] / ir["lf"]
    row("tracing off: trace code (instr/exch, callgrind)", f"{ir['trace_code_off']:,.0f}",
        f"{ir['lf']:,} exchange", f"{100 * share:.3f}%", "<=1% of the exchange", verdict(share <= 0.01))
    if ir.get("lf_trace"):
        row("  tracing on, a no-op trace function (instr/exch)", f"{ir['lf_trace']:,}", f"{ir['lf']:,} off",
            f"{ir['lf_trace'] / ir['lf']:.3f}", f"report ({ir['trace_code_on']:,.0f} in trace code)", "info")

lc, cc, lw = cold["lf_cold"], cold["curl_cold"], cold["lf_warm"]
row("exchange cold: new handle each (exch/s)", f"{lc['median_xps']:.0f}", f"{cc['median_xps']:.0f} curl cold",
    f"{paired(lc, cc, 'xps'):.3f}", "report", "info")
row("exchange cold (client CPU us/exch)", f"{lc['median_cpu_us']:.0f}", f"{cc['median_cpu_us']:.0f} curl cold",
    f"{paired(lc, cc, 'cpu_us'):.3f}", "report", "info")
row("  warm vs cold, ours (exch/s)", f"{lw['median_xps']:.0f} warm", f"{lc['median_xps']:.0f} cold",
    f"{paired(lw, lc, 'xps'):.1f}x", "reuse pays", verdict(paired(lw, lc, "xps") > 1))
if "lf_cold_bundle" in cold:
    lb, cb = cold["lf_cold_bundle"], cold["curl_cold_bundle"]
    row("exchange cold, system-size CA file (exch/s)", f"{lb['median_xps']:.0f}",
        f"{cb['median_xps']:.0f} curl cold", f"{paired(lb, cb, 'xps'):.3f}", "report", "info")
    ours_load = lb["median_cpu_us"] - lc["median_cpu_us"]
    curl_load = cb["median_cpu_us"] - cc["median_cpu_us"]
    # A difference of two medians: below zero it is noise around nothing.
    shown = f"{ours_load:.0f}" if ours_load >= 0 else f"~0 ({ours_load:.0f})"
    row("  CA load per new handle (client CPU us)", shown, f"{curl_load:.0f}", "-",
        "shared: <=0.05x curl's (bundle - 1 cert)", verdict(ours_load <= 0.05 * curl_load))

grow_lf = rss_lf["rss_kib_n"] - rss_lf["rss_kib_1k"]
grow_curl = rss_curl["rss_kib_n"] - rss_curl["rss_kib_1k"]
live = rss_lf["live_blocks_n"] - rss_lf["live_blocks_1k"]
ok = grow_lf <= 1024 and live <= 0
row(f"RSS growth 1k -> {rss_lf['total']} exch (KiB)", f"{grow_lf}", f"{grow_curl} curl+cJSON", "-",
    "<=1024 KiB, no live-block growth", verdict(ok))
row("  library live heap blocks 1k -> N", f"{rss_lf['live_blocks_1k']} -> {rss_lf['live_blocks_n']}", "-", "-",
    "no growth", verdict(live <= 0))

# ---- print -------------------------------------------------------------------------
head = ("workload", "ours", "baseline", "ratio", "target", "verdict")
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
line = "+-" + "-+-".join("-" * x for x in w) + "-+"
print(line)
print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |")
print(line)
for r in rows:
    print("| " + " | ".join(str(c).ljust(w[i]) if i == 0 or i >= 4 else str(c).rjust(w[i])
                            for i, c in enumerate(r)) + " |")
print(line)
ctx = inproc.get("context", {})
print(f"ratios: ours / baseline (exchange rows: median of per-repetition ratios [interquartile range]); "
      f"{len(warm[next(iter(warm))]['xps'])} warm / {len(cold['lf_cold']['xps'])} cold interleaved repetitions; "
      f"{ctx.get('num_cpus', '?')} CPUs, load average {', '.join(f'{x:.1f}' for x in ctx.get('load_avg', []))} "
      f"at start; {ctx.get('openssl', '')}; libcurl {ctx.get('libcurl', '').split()[0].split('/')[-1]}")
