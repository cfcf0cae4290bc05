#!/usr/bin/env python3
"""Top functions of a callgrind dump, per operation.

Usage: cgtop.py FILE OPS [--top K] [--callers SUBSTR ...] [--inclusive SUBSTR ...]
                           [--sum SUBSTR ...]

Reads the callgrind format directly (no callgrind_annotate), so that
functions in stripped libraries (OpenSSL's assembly, libcurl internals) are
shown as object!address instead of being merged into "???".
  exclusive  instructions spent in the function itself
  inclusive  exclusive + everything it called
Prints, per operation: the total, the top K functions by exclusive Ir, then
for each --inclusive substring the inclusive Ir of matching functions, and
for each --callers substring who called the matching functions and how much
(inclusive Ir of those calls). With --sum, one line "matched N Ir/op": the
inclusive Ir of every call into a function matching any --sum substring from
a function matching none (so a matched function called by another counts
once), plus the exclusive Ir of matched functions that were never called
(the dump's own root).
"""
import argparse
import collections
import os
import re

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("ops", type=int)
ap.add_argument("--top", type=int, default=12)
ap.add_argument("--callers", action="append", default=[])
ap.add_argument("--inclusive", action="append", default=[])
ap.add_argument("--sum", action="append", default=[])
args = ap.parse_args()

names = {"ob": {}, "fl": {}, "fn": {}}
name_re = re.compile(r"^\((\d+)\)(?: (.*))?$")


def resolve(kind, value):
    m = name_re.match(value)
    if not m:
        return value
    ident, name = m.group(1), m.group(2)
    table = names["fl" if kind in ("fl", "fi", "fe", "cfi", "cfl") else kind.lstrip("c")]
    if name is not None:
        table[ident] = name
    return table.get(ident, "?")


excl = collections.Counter()
incl_calls = collections.Counter()
callers = collections.defaultdict(collections.Counter)
ob = fn = cob = cfn = None
after_calls = False
total = 0
with open(args.file) as f:
    for line in f:
        line = line.rstrip("\n")
        if not line:
            continue
        c = line[0]
        if c.isdigit() or c in "+-*":
            parts = line.split()
            ir = int(parts[1]) if len(parts) > 1 else 0
            if after_calls:
                incl_calls[(ob, fn)] += ir
                callers[(cob or ob, cfn)][(ob, fn)] += ir
                after_calls = False
                cob = None  # cob= applies to one call only
            else:
                excl[(ob, fn)] += ir
                total += ir
            continue
        key, _, value = line.partition("=")
        if key == "ob":
            ob = resolve("ob", value)
        elif key == "fn":
            fn = resolve("fn", value)
            cob = None
        elif key == "cob":
            cob = resolve("ob", value)
        elif key == "cfn":
            cfn = resolve("fn", value)
        elif key in ("fl", "fi", "fe", "cfi", "cfl"):
            resolve(key, value)
        elif key == "calls":
            after_calls = True


def label(k):
    o, f_ = k
    return f"{os.path.basename(o or '?')}!{f_}"


n = args.ops
print(f"  total {total / n:,.0f} Ir/op")
print("  top functions by exclusive Ir/op:")
for k, v in excl.most_common(args.top):
    print(f"    {v / n:>10,.0f}  {100.0 * v / total:5.1f}%  {label(k)[:120]}")
for sub in args.inclusive:
    for k in sorted(set(excl) | set(incl_calls), key=lambda k: -(excl[k] + incl_calls[k])):
        if sub in (k[1] or ""):
            v = excl[k] + incl_calls[k]
            print(f"  inclusive {v / n:>10,.0f} Ir/op  {label(k)[:110]}")
for sub in args.callers:
    for k in [k for k in callers if sub in (k[1] or "")]:
        print(f"  callers of {label(k)[:100]}:")
        for ck, v in callers[k].most_common(8):
            print(f"    {v / n:>10,.0f}  {label(ck)[:110]}")
if args.sum:
    def matched(k):
        return any(sub in (k[1] or "") for sub in args.sum)

    got = 0
    called = set()
    for callee, by in callers.items():
        if matched(callee):
            called.add(callee)
            got += sum(v for caller, v in by.items() if not matched(caller))
    got += sum(v for k, v in excl.items() if matched(k) and k not in called)
    print(f"  matched {got / n:,.1f} Ir/op")
