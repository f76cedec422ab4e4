#!/usr/bin/env python3
"""baseline_report.py: the memory-budget table of profiling/baseline.sh.

Reads the config (rows.<stage>, budget.<stage>.<metric> in KiB) and the
measurements STAGE.RUN.csv (profiling/tools/measure_session.sql), keeps the
median over runs, prints and writes baseline.md (markdown: one row per
stage and metric with budget and status) and measurements.csv, and exits
1 when a metric is over its budget, 0 otherwise.  With --measure it judges
nothing, prints the figures and writes baseline.conf.proposed with budgets
of 1.5 x the measured figure rounded up to 512 KiB.
"""

import argparse
import collections
import csv
import glob
import math
import os
import re
import statistics
import sys

import mdreport

METRICS = ["ctx_total", "rss_anon", "outside", "vmhwm"]
DESCR = {
    "ctx_total": "memory contexts, total",
    "rss_anon": "RssAnon (heap)",
    "outside": "outside contexts (RssAnon - contexts)",
    "vmhwm": "VmHWM (peak RSS incl. shared)",
}


def read_conf(path):
    rows = collections.OrderedDict()
    budgets = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line or "=" not in line:
                continue
            key, val = (x.strip() for x in line.split("=", 1))
            m = re.match(r"^rows\.(\w+)$", key)
            if m:
                rows[m.group(1)] = int(val)
                continue
            m = re.match(r"^budget\.(\w+)\.(\w+)$", key)
            if m:
                if m.group(2) not in METRICS:
                    raise SystemExit(f"baseline_report: unknown metric {m.group(2)} in {path}")
                budgets[(m.group(1), m.group(2))] = float(val)
                continue
            raise SystemExit(f"baseline_report: cannot read line '{line}' in {path}")
    return rows, budgets


def measure(out, stage):
    """Median of each figure over the runs of a stage (KiB), or None."""
    runs = []
    for p in sorted(glob.glob(os.path.join(out, f"{stage}.[0-9]*.csv"))):
        with open(p, newline="") as f:
            r = list(csv.DictReader(f))
        if r:
            runs.append(r[0])
    if not runs:
        return None

    def med(key, scale=1.0):
        vals = [float(r[key]) * scale for r in runs if r.get(key) not in (None, "")]
        return statistics.median(vals) if vals else None
    m = {
        "contexts": med("contexts"),
        "ctx_total": med("ctx_total_bytes", 1 / 1024),
        "ctx_used": med("ctx_used_bytes", 1 / 1024),
        "rss_anon": med("rss_anon_kb"),
        "vmrss": med("vmrss_kb"),
        "vmhwm": med("vmhwm_kb"),
        "pss_anon": med("pss_anon_kb"),
        "runs": len(runs),
        "counted_by": runs[0].get("counted_by", ""),
    }
    m["outside"] = m["rss_anon"] - m["ctx_total"] if m["rss_anon"] is not None and m["ctx_total"] is not None else None
    return m


def grown(out, stage, n=5):
    def load(p):
        acc = collections.defaultdict(lambda: [0, 0, 0])
        if not os.path.exists(p):
            return None
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                x = acc[r["path"]]
                x[0] += 1
                x[1] += int(r["total_bytes"])
                x[2] += int(r["used_bytes"])
        return acc
    b, a = load(os.path.join(out, f"{stage}.before.csv")), load(os.path.join(out, f"{stage}.after.csv"))
    if not b or not a:
        return []
    got = []
    for p in set(a) | set(b):
        x, y = b.get(p, [0, 0, 0]), a.get(p, [0, 0, 0])
        if y[1] != x[1] or y[0] != x[0]:
            got.append((p, y[0] - x[0], y[1] - x[1], y[2] - x[2]))
    got.sort(key=lambda g: -g[2])
    return got[:n]


def kib(v):
    if v is None:
        return "-"
    if abs(v) >= 1024:
        return f"{v / 1024:.1f} MiB"
    return f"{v:.0f} KiB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conf", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workload", default="")
    ap.add_argument("--measure", action="store_true")
    a = ap.parse_args()

    rows, budgets = read_conf(a.conf)
    stages = ["connect", "load"] + list(rows)
    meas = {s: measure(a.out, s) for s in stages}
    missing = [s for s in stages if meas[s] is None]
    if missing:
        print(f"baseline_report: no measurement for {', '.join(missing)}", file=sys.stderr)
        return 2

    L = ["# memprof memory baseline: one backend\n"]
    L.append(f"config: `{a.conf}`; workload: `{a.workload}`; each stage in a fresh session, "
             f"median of {a.repeat} run(s); figures in KiB/MiB (1024).\n")
    L.append("| stage | rows | metric | value | budget | status |")
    L.append("|---|---|---|---|---|---|")
    over = []
    with open(os.path.join(a.out, "measurements.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stage", "rows", "metric", "value_kib", "budget_kib", "status"])
        for s in stages:
            m = meas[s]
            for k in METRICS:
                v = m[k]
                b = budgets.get((s, k))
                if a.measure or b is None:
                    status = "-"
                elif v is not None and v > b:
                    status = "**OVER**"
                    over.append(f"{s} {k}: {kib(v)} > {kib(b)}")
                else:
                    status = "ok"
                L.append(f"| {s} | {rows.get(s, '-')} | {DESCR[k]} | {kib(v)} | {kib(b)} | {status} |")
                w.writerow([s, rows.get(s, ""), k, f"{v:.0f}" if v is not None else "",
                            f"{b:.0f}" if b is not None else "", status.strip("*").lower()])

    L.append("\n## RSS against memory contexts\n")
    L.append("| stage | contexts | context total | context used | RssAnon | outside contexts | VmRSS | VmHWM | Pss_Anon | counted by |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for s in stages:
        m = meas[s]
        L.append(f"| {s} | {m['contexts']:.0f} | {kib(m['ctx_total'])} | {kib(m['ctx_used'])} | {kib(m['rss_anon'])} | "
                 f"{kib(m['outside'])} | {kib(m['vmrss'])} | {kib(m['vmhwm'])} | {kib(m['pss_anon'])} | {m['counted_by']} |")
    d = meas["load"]["ctx_total"] - meas["connect"]["ctx_total"]
    L.append(f"\nmemprof loaded and used (load - connect): contexts {d:+.0f} KiB, "
             f"RssAnon {meas['load']['rss_anon'] - meas['connect']['rss_anon']:+.0f} KiB.")

    for s in rows:
        g = grown(a.out, s)
        if g:
            L.extend(mdreport.context_table(
                f"\n### {s}: contexts that grew over the workload (memprof_contexts before/after)\n", g,
                lambda dc, dt, du: (f"{dc:+d}", f"{dt:+,d}", f"{du:+,d}")))

    L.append("\n## verdict\n")
    if a.measure:
        L.append("measure mode: nothing judged; proposal in baseline.conf.proposed")
        with open(os.path.join(a.out, "baseline.conf.proposed"), "w") as f:
            f.write("# proposed by profiling/baseline.sh --measure: 1.5 x measured, rounded up to 512 KiB\n")
            for s in rows:
                f.write(f"rows.{s} = {rows[s]}\n")
            for s in stages:
                for k in ("ctx_total", "rss_anon", "vmhwm"):
                    v = meas[s][k]
                    f.write(f"budget.{s}.{k} = {int(math.ceil(v * 1.5 / 512) * 512)}\n")
    elif over:
        L.append("**OVER BUDGET**: " + "; ".join(over))
    else:
        L.append(f"**WITHIN BUDGET**: every metric with a budget in {os.path.basename(a.conf)} is within it.")
    md = os.path.join(a.out, "baseline.md")
    return mdreport.finish(md, L, f"verdict: {'over budget' if over else ('measured' if a.measure else 'within budget')} "
                           f"(table: {md})", 1 if over else 0)


if __name__ == "__main__":
    sys.exit(main())
