#!/usr/bin/env python3
"""heaptrack_report.py: report and verdict for profiling/heaptrack.sh.

Reads heaptrack_print's output (--print: the whole run; --memprof: the same
with --filter-bt-function memprof), the session's own figures
(mem_before.csv / mem_after.csv: contexts and /proc/self/status) and the
context diff (memprof_diff.csv, or ctx_before.csv / ctx_after.csv), writes
report.md, prints it, and exits 1 when the peak heap is over --max-peak MiB
or the peak under memprof's functions is over --max-memprof-peak MiB (or
heaptrack recorded nothing), else 0.

heaptrack_print writes sizes with 1000-based suffixes (K = 10^3 bytes,
M = 10^6, G = 10^9); they are converted to bytes here.
"""

import argparse
import collections
import os
import re
import sys

import ctxdiff
import mdreport
from ctxdiff import read_csv

UNITS = {"": 1, "B": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def size(s):
    m = re.match(r"^([\d.]+)([KMGT]?)B?$", s.strip())
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def mib(b):
    return f"{b / 1048576:.2f} MiB"


def sections(text):
    """{section title: [lines]} for heaptrack_print's upper-case sections."""
    out = collections.OrderedDict()
    cur = None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            cur = line.strip()
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


def top_entries(lines, n):
    """Top-level entries: (amount text, calls, function, object)."""
    got = []
    i = 0
    while i < len(lines) and len(got) < n:
        line = lines[i]
        m = re.match(r"^(\S+) (?:peak memory consumed over|calls to allocation functions with) (\S+)", line)
        m2 = re.match(r"^(\d+) calls to allocation functions with (\S+) peak consumption from", line)
        if m2:
            amount, calls = m2.group(2), m2.group(1)
        elif m and "peak memory consumed" in line:
            amount, calls = m.group(1), m.group(2)
        elif re.match(r"^(\d+) temporary allocations of (\d+) allocations in total", line):
            mm = re.match(r"^(\d+) temporary allocations of (\d+)", line)
            amount, calls = mm.group(1) + " temporary", mm.group(2)
        else:
            i += 1
            continue
        fn = lines[i + 1].strip() if i + 1 < len(lines) else "?"
        obj = lines[i + 2].strip() if i + 2 < len(lines) else ""
        obj = obj[3:] if obj.startswith("in ") else obj
        # callers: the first named frames of the entry's first backtrace
        # (the allocating function is often static, so only an address)
        via = []
        j = i + 3
        if j < len(lines) and lines[j].rstrip().endswith("from:"):
            j += 1
        while j < len(lines) and lines[j].startswith(" ") and len(via) < 2:
            t = lines[j].strip()
            if lines[j].startswith("    ") and not lines[j].startswith("      ") \
                    and not t.startswith("0x") and not t.startswith("in "):
                via.append(t.split("(")[0])
            j += 1
        got.append((amount, calls, fn, obj, " < ".join(via)))
        i += 3
    return got


def ctx_diff(out):
    return ctxdiff.ctx_diff(out, grown_only=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--print", dest="printed", required=True)
    ap.add_argument("--memprof", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--max-peak", type=float, default=256)
    ap.add_argument("--max-memprof-peak", type=float, default=64)
    ap.add_argument("--workload", default="")
    ap.add_argument("--iterations", default="")
    a = ap.parse_args()

    text = open(a.printed, errors="replace").read()
    summ = {}
    for key, rx in [("calls", r"calls to allocation functions: (\d+)"),
                    ("temporary", r"temporary memory allocations: (\d+)"),
                    ("peak", r"peak heap memory consumption: (\S+)"),
                    ("peak_rss", r"peak RSS \(including heaptrack overhead\): (\S+)"),
                    ("leaked", r"total memory leaked: (\S+)"),
                    ("runtime", r"total runtime: (\S+)")]:
        m = re.search(rx, text)
        summ[key] = m.group(1) if m else None
    sec = sections(text)
    peak = size(summ["peak"]) if summ["peak"] else None
    calls = int(summ["calls"]) if summ["calls"] else 0

    mtext = open(a.memprof, errors="replace").read() if os.path.exists(a.memprof) else ""
    msec = sections(mtext)
    memprof_peak = 0.0
    memprof_sites = 0
    for amount, _calls, _fn, _obj, _via in top_entries(msec.get("PEAK MEMORY CONSUMERS", []), 10 ** 9):
        v = size(amount)
        if v is not None:
            memprof_peak += v
            memprof_sites += 1

    L = ["# heaptrack: the workload's backend\n"]
    L.append(f"workload: `{a.workload}` x{a.iterations} in one session; data file: `{a.data}` "
             f"(open with `heaptrack_gui {a.data}` or `heaptrack_print -f {a.data}`)\n")
    L.append("| figure | value |")
    L.append("|---|---|")
    L.append(f"| calls to allocation functions | {summ['calls']} |")
    L.append(f"| temporary allocations | {summ['temporary']} |")
    L.append(f"| **peak heap** | {summ['peak']} ({mib(peak) if peak is not None else '?'}) |")
    L.append(f"| peak under memprof's functions | {mib(memprof_peak)} ({memprof_sites} allocation sites) |")
    L.append(f"| peak RSS with heaptrack | {summ['peak_rss']} |")
    L.append(f"| not freed when the backend exited | {summ['leaked']} (not judged: long-lived memory is not freed at exit) |")
    L.append(f"| time attached | {summ['runtime']} |")

    for title, key in [("top allocation sites by peak memory", "PEAK MEMORY CONSUMERS"),
                       ("top allocation sites by number of calls", "MOST CALLS TO ALLOCATION FUNCTIONS"),
                       ("top sites of temporary allocations", "MOST TEMPORARY ALLOCATIONS")]:
        ents = top_entries(sec.get(key, []), a.top)
        if not ents:
            continue
        L.append(f"\n## {title}\n")
        L.append("| amount | calls | allocating function | in | called from |")
        L.append("|---|---|---|---|---|")
        for amount, c, fn, obj, via in ents:
            L.append(f"| {amount} | {c} | `{fn[:80]}` | {os.path.basename(obj)} | {via[:80]} |")
    ments = top_entries(msec.get("PEAK MEMORY CONSUMERS", []), a.top)
    if ments:
        L.append("\n## allocations under memprof's functions, by peak (--filter-bt-function memprof)\n")
        L.append("| peak | calls | allocating function | in | called from |")
        L.append("|---|---|---|---|---|")
        for amount, c, fn, obj, via in ments:
            L.append(f"| {amount} | {c} | `{fn[:80]}` | {os.path.basename(obj)} | {via[:80]} |")

    before = read_csv(os.path.join(a.out, "mem_before.csv"))
    after = read_csv(os.path.join(a.out, "mem_after.csv"))
    if before and after:
        L.append("\n## the session's memory: RSS against memory contexts\n")
        L.append("| when | contexts | context total | context used | RssAnon | VmRSS | outside contexts (RssAnon - context total) |")
        L.append("|---|---|---|---|---|---|---|")
        for name, r in (("before the workload", before[0]), ("after the workload", after[0])):
            ct = int(r["ctx_total_bytes"])
            ra = int(r["rss_anon_kb"]) * 1024
            L.append(f"| {name} | {r['contexts']} | {mib(ct)} | {mib(int(r['ctx_used_bytes']))} | {mib(ra)} | "
                     f"{mib(int(r['vmrss_kb']) * 1024)} | {mib(ra - ct)} |")
    how, diff = ctx_diff(a.out)
    if how:
        L.extend(mdreport.context_table(f"\n## contexts that changed over the workload ({how})\n", diff[:15],
                                        lambda dc, dt, du: (f"{dc:+.0f}", f"{dt:+,.0f}", f"{du:+,.0f}")))

    problems = []
    if calls == 0 or peak is None:
        problems.append("heaptrack recorded no allocations")
    if peak is not None and peak > a.max_peak * 1048576:
        problems.append(f"peak heap {mib(peak)} is over the budget of {a.max_peak:g} MiB")
    if memprof_peak > a.max_memprof_peak * 1048576:
        problems.append(f"peak under memprof's functions {mib(memprof_peak)} is over the budget of "
                        f"{a.max_memprof_peak:g} MiB")
    L.append("\n## verdict\n")
    if problems:
        L.append("**FAIL**: " + "; ".join(problems))
    else:
        L.append(f"**PASS**: peak heap {mib(peak)} <= {a.max_peak:g} MiB, peak under memprof's functions "
                 f"{mib(memprof_peak)} <= {a.max_memprof_peak:g} MiB.")
    md = os.path.join(a.out, "report.md")
    return mdreport.finish(md, L, f"peak heap: {mib(peak) if peak is not None else 'none'}; "
                           f"verdict: {'FAIL' if problems else 'pass'} (report: {md})", 1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main())
