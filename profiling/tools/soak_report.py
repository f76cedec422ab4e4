#!/usr/bin/env python3
"""soak_report.py: verdict, report and plot for profiling/soak.sh.

Reads samples.csv (sampler.py: one row per process per sample) and
iterations.csv (the workload session's memprof_contexts sums), fits
least-squares lines after the warm-up (statistics.linear_regression),
writes report.md and (with --plot) soak.png through gnuplot, prints the report, and exits 1 when leaking,
0 when stable, 2 when nothing could be judged (no process sampled often
enough: the run was too short for its sampling interval).

Rules (thresholds are options, printed in the report):
  per process judged: RssAnon (KiB) against minutes; leaking when
      slope > --rate KiB/min and slope * window_minutes > --min-growth KiB;
  workload session: memprof_contexts used bytes against iteration number;
      leaking when slope > --iter-bytes and slope * iterations > --min-ctx-growth KiB.
A process is judged when it appears in at least half of the samples after
the warm-up and at least 4 of them; the sampler's own session is not.
"""

import argparse
import collections
import math
import os
import shutil
import statistics
import subprocess
import sys

import ctxdiff
import mdreport
from ctxdiff import read_csv


def fit(xs, ys):
    """Least-squares line y = a + b x: (slope b, r squared), with Python's
    statistics.linear_regression and statistics.correlation (Python 3.10+).
    No slope when x does not vary; r squared is 1 when y does not vary (a
    flat line fits it exactly)."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return 0.0, 0.0
    slope = statistics.linear_regression(xs, ys).slope
    if len(set(ys)) < 2:
        return slope, 1.0
    return slope, statistics.correlation(xs, ys) ** 2


def size(b):
    """Bytes in the unit style of the HTML report (docs/report.md, "Units"):
    pg_size_pretty's units (1024-based bytes, kB, MB, GB, TB), the exact
    count under 1024, else at most 3 significant digits: one decimal under
    100 ("95.4 kB"), none from 100 ("954 kB")."""
    b = float(b)
    sign = "-" if b < 0 else ""
    v = abs(b)
    if v < 1024:
        return f"{sign}{math.floor(v + 0.5)} bytes"
    units = ["bytes", "kB", "MB", "GB", "TB"]
    u = 0
    while v >= 1024 and u < len(units) - 1:
        v /= 1024
        u += 1
    # halves round up, as JavaScript's Math.round in the HTML report
    tenths = math.floor(v * 10 + 0.5)
    if tenths < 1000:
        return f"{sign}{tenths // 10}.{tenths % 10} {units[u]}"
    r = math.floor(v + 0.5)
    if r >= 1024 and u < len(units) - 1:
        return f"{sign}1.0 {units[u + 1]}"
    return f"{sign}{r} {units[u]}"


def kib(v):
    """A figure in KiB, written with size()."""
    return size(float(v) * 1024)


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def ctx_diff(out):
    return ctxdiff.ctx_diff(out, grown_only=True)


def plot(out, samples, iters, judged, t_warm):
    gp = shutil.which("gnuplot")
    if not gp:
        print("soak_report: gnuplot not found, no plot", file=sys.stderr)
        return None
    data = os.path.join(out, "soak-plot.dat")
    titles = []
    with open(data, "w") as f:
        for pid in judged:
            rows = samples[pid]
            titles.append(f"{pid} {rows[0]['role']}"[:40].replace('"', "'"))
            f.write(f"# {pid}\n")
            for r in rows:
                f.write(f"{float(r['t_s']) / 60:.4f} {(num(r['rss_anon_kb']) or 0) / 1024:.3f}\n")
            f.write("\n\n")
    wdat = os.path.join(out, "soak-workload.dat")
    with open(wdat, "w") as f:
        for r in iters:
            f.write("{:.4f} {:.3f} {:.3f} {:.3f} {:.3f}\n".format(
                float(r["t_s"]) / 60, (num(r["vmrss_kb"]) or 0) / 1024, (num(r["rss_anon_kb"]) or 0) / 1024,
                (num(r["ctx_total_bytes"]) or 0) / 1048576, (num(r["ctx_used_bytes"]) or 0) / 1048576))
    png = os.path.join(out, "soak.png")
    script = os.path.join(out, "soak.gnuplot")
    tlist = " ".join(f'"{t}"' for t in titles)
    with open(script, "w") as f:
        f.write(f"""set terminal pngcairo size 1200,900 noenhanced
set output '{png}'
set datafile separator whitespace
set multiplot layout 2,1 title 'memprof soak: {os.path.basename(out)}'
set xlabel 'minutes'
set ylabel 'RssAnon, MB (1024 x 1024 bytes)'
set key outside right top
set grid
set arrow 1 from {t_warm / 60:.4f}, graph 0 to {t_warm / 60:.4f}, graph 1 nohead dashtype 2
set label 1 'end of warm-up' at {t_warm / 60:.4f}, graph 0.95 left offset 0.5,0
set title 'every process: resident anonymous memory (heap)'
titles = '{tlist}'
plot for [i=0:{max(len(titles) - 1, 0)}] '{data}' index i using 1:2 with lines title word(titles, i+1)
set title 'workload session: RSS against memory-context totals (the gap is memory outside contexts)'
set ylabel 'MB (1024 x 1024 bytes)'
plot '{wdat}' using 1:2 with linespoints title 'VmRSS', \\
     '' using 1:3 with linespoints title 'RssAnon', \\
     '' using 1:4 with linespoints title 'contexts total', \\
     '' using 1:5 with linespoints title 'contexts used'
unset multiplot
""")
    r = subprocess.run([gp, script], capture_output=True, text=True)
    if r.returncode != 0:
        # pngcairo may be missing: try the gd png terminal
        with open(script) as f:
            s = f.read().replace("pngcairo size 1200,900 noenhanced", "png size 1200,900 noenhanced")
        with open(script, "w") as f:
            f.write(s)
        r = subprocess.run([gp, script], capture_output=True, text=True)
    if r.returncode != 0:
        print("soak_report: gnuplot failed: " + r.stderr.strip()[:500], file=sys.stderr)
        return None
    return png


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--iterations", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--rate", type=float, default=256, help="KiB/minute")
    ap.add_argument("--iter-bytes", type=float, default=512)
    ap.add_argument("--min-growth", type=float, default=4096, help="KiB")
    ap.add_argument("--min-ctx-growth", type=float, default=1024, help="KiB")
    ap.add_argument("--workload", default="")
    ap.add_argument("--plot", action="store_true")
    a = ap.parse_args()

    rows = read_csv(a.samples)
    iters = read_csv(a.iterations)
    if not rows:
        print("soak_report: no samples", file=sys.stderr)
        return 2
    t_end = max(float(r["t_s"]) for r in rows)
    if iters:
        t_end = max(t_end, max(float(r["t_s"]) for r in iters))
    t_warm = t_end * a.warmup / 100.0
    ticks = sorted({r["t_s"] for r in rows if float(r["t_s"]) >= t_warm})

    by_pid = collections.OrderedDict()
    for r in rows:
        by_pid.setdefault(int(r["pid"]), []).append(r)

    lines = []
    lines.append("# memprof soak report\n")
    lines.append(f"workload: `{a.workload}`  ")
    lines.append(f"run: {t_end:.0f} s, {len(iters) and iters[-1]['iter']} iterations, "
                 f"{len(ticks)} samples after the warm-up (first {a.warmup:g}% = {t_warm:.0f} s left out)\n")
    lines.append("thresholds: leaking when RssAnon grows faster than "
                 f"**{a.rate:g} KiB/minute** (least-squares slope) and by more than **{a.min_growth:g} KiB** "
                 "over the measured window; for the workload session, when memprof_contexts used bytes grow "
                 f"faster than **{a.iter_bytes:g} bytes/iteration** and by more than **{a.min_ctx_growth:g} KiB**.\n")

    leaking = []
    judged = []
    lines.append("## every process (RssAnon)\n")
    lines.append("| pid | role | samples | RssAnon after warm-up | RssAnon last | VmRSS last | PSS last | slope KiB/min | r² | fitted growth | verdict |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for pid, rs in by_pid.items():
        post = [r for r in rs if float(r["t_s"]) >= t_warm and num(r["rss_anon_kb"]) is not None]
        role = rs[-1]["role"]
        judge = role != "sampler" and len(post) >= max(4, len(ticks) / 2)
        if len(post) >= 2:
            xs = [float(r["t_s"]) / 60 for r in post]
            ys = [num(r["rss_anon_kb"]) for r in post]
            slope, r2 = fit(xs, ys)
            window = xs[-1] - xs[0]
            growth = slope * window
        else:
            slope = r2 = growth = 0.0
        if judge:
            judged.append(pid)
            bad = slope > a.rate and growth > a.min_growth
            verdict = "**LEAKING**" if bad else "stable"
            if bad:
                leaking.append(f"pid {pid} ({role}): RssAnon +{slope:.0f} KiB/min, +{kib(growth)} over the window")
        else:
            verdict = "not judged (" + ("our sampler" if role == "sampler" else "short-lived") + ")"
        first, last = (post or rs)[0], rs[-1]
        lines.append(f"| {pid} | {role} | {len(post)} | {kib(num(first['rss_anon_kb']) or 0)} | "
                     f"{kib(num(last['rss_anon_kb']) or 0)} | {kib(num(last['vmrss_kb']) or 0)} | "
                     f"{kib(num(last['pss_kb']) or 0)} | {slope:.1f} | {r2:.2f} | {kib(growth)} | {verdict} |")

    # memprof_backends' per-process context totals, when the sampler had them
    mt = {pid: [r for r in rs if num(r.get("memprof_total_bytes")) is not None and float(r["t_s"]) >= t_warm]
          for pid, rs in by_pid.items()}
    if any(mt.values()):
        lines.append("\n## every process (memprof_backends context totals)\n")
        lines.append("| pid | role | total first | total last | slope KiB/min | verdict |")
        lines.append("|---|---|---|---|---|---|")
        for pid, rs in mt.items():
            if len(rs) < 2 or pid not in judged:
                continue
            xs = [float(r["t_s"]) / 60 for r in rs]
            ys = [num(r["memprof_total_bytes"]) / 1024 for r in rs]
            slope, _ = fit(xs, ys)
            growth = slope * (xs[-1] - xs[0])
            bad = slope > a.rate and growth > a.min_growth
            if bad:
                leaking.append(f"pid {pid}: memprof_backends context total +{slope:.0f} KiB/min")
            lines.append(f"| {pid} | {rs[-1]['role']} | {kib(ys[0])} | {kib(ys[-1])} | {slope:.1f} | "
                         f"{'**LEAKING**' if bad else 'stable'} |")

    lines.append("\n## workload session (memprof_contexts, sampled inside the session)\n")
    post = [r for r in iters if float(r["t_s"]) >= t_warm and num(r["ctx_used_bytes"]) is not None]
    session_judged = len(post) >= 3
    if session_judged:
        xs = [float(r["iter"]) for r in post]
        ys = [num(r["ctx_used_bytes"]) for r in post]
        slope, r2 = fit(xs, ys)
        growth = slope * (xs[-1] - xs[0])
        bad = slope > a.iter_bytes and growth / 1024 > a.min_ctx_growth
        ts = [float(r["t_s"]) / 60 for r in post]
        slope_t, _ = fit(ts, ys)
        if bad:
            leaking.append(f"workload session: memprof_contexts used bytes +{slope:.0f} bytes/iteration "
                           f"(+{kib(growth / 1024)} over {xs[-1] - xs[0]:.0f} iterations)")
        first, last = post[0], post[-1]
        lines.append(f"- iterations {first['iter']}..{last['iter']}: used bytes {kib(ys[0] / 1024)} -> {kib(ys[-1] / 1024)}; "
                     f"slope **{slope:.1f} bytes/iteration** ({slope_t / 1024:.1f} KiB/min), r² {r2:.2f}, "
                     f"fitted growth {kib(growth / 1024)}: {'**LEAKING**' if bad else 'stable'}")
        ra = num(last["rss_anon_kb"])
        ct = num(last["ctx_total_bytes"])
        if ra is not None and ct is not None:
            lines.append(f"- at the end: RssAnon {kib(ra)}, VmRSS {kib(num(last['vmrss_kb']) or 0)}, "
                         f"{last['contexts']} contexts holding {kib(ct / 1024)} (used {kib(num(last['ctx_used_bytes']) / 1024)}); "
                         f"**outside memory contexts: {kib(ra - ct / 1024)}** (RssAnon minus context total: "
                         "malloc outside palloc, libraries, stack, allocator overhead)")
    else:
        lines.append(f"- only {len(post)} in-session samples after the warm-up: not judged (run longer or sample more often)")

    how, diff = ctx_diff(a.out)
    if how:
        lines.extend(mdreport.context_table(
            f"\n## contexts that grew in the workload session over the measured window ({how})\n", diff[:15],
            lambda dc, dt, du: (f"{dc:+.0f}", f"{'+' if dt > 0 else ''}{size(dt)}", f"{'+' if du > 0 else ''}{size(du)}")))
        if len(diff) <= 1:
            lines.append("| (none grew) | | | |")

    png = plot(a.out, by_pid, iters, judged, t_warm) if a.plot else None
    if png:
        lines.append(f"\nplot: `{png}`")

    md = os.path.join(a.out, "report.md")
    lines.append("\n## verdict\n")
    if not leaking and not judged:
        # nothing was measured long enough to call it stable
        why = (f"no process was sampled often enough after the warm-up to be judged "
               f"({len(ticks)} samples after the first {t_warm:.0f} s of a {t_end:.0f} s run; "
               f"a process needs at least 4, and half of them)")
        if not session_judged:
            why += f", and the workload session has only {len(post)} in-session samples (needs 3)"
        lines.append(f"**NOT JUDGED**: {why}. Run longer (--duration) or sample more often (--interval).")
        return mdreport.finish(md, lines, f"verdict: not judged: {why}; run longer (--duration) or sample more "
                               f"often (--interval); report: {md}", 2, verdict_file=sys.stderr)
    if leaking:
        lines.append("**LEAKING**:\n")
        lines.extend(f"- {l}" for l in leaking)
    else:
        lines.append(f"**STABLE**: no judged process grew faster than {a.rate:g} KiB/minute (and by more than "
                     f"{a.min_growth:g} KiB), and the workload session's contexts grew by at most "
                     f"{a.iter_bytes:g} bytes/iteration (or by less than {a.min_ctx_growth:g} KiB).")
    return mdreport.finish(md, lines, f"verdict: {'leaking' if leaking else 'stable'} (thresholds: RssAnon {a.rate:g} "
                           f"KiB/minute, minimum growth {a.min_growth:g} KiB; contexts {a.iter_bytes:g} bytes/iteration, "
                           f"minimum growth {a.min_ctx_growth:g} KiB); report: {md}", 1 if leaking else 0)


if __name__ == "__main__":
    sys.exit(main())
