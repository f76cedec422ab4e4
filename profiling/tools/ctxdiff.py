"""ctxdiff.py: the contexts that changed around a workload, shared by the
report writers (heaptrack_report.py, soak_report.py).

Reads OUT/memprof_diff.csv when the script could use memprof_diff, or else
folds OUT/ctx_before.csv and OUT/ctx_after.csv (memprof_contexts dumps) by
path.  Returns (source, rows), rows as (path, contexts_delta,
total_bytes_delta, used_bytes_delta) with a "(total)" row first; source is
None when there is nothing to compare.
"""

import collections
import csv
import os


def read_csv(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return 0.0


def ctx_diff(out, grown_only):
    """grown_only: keep paths that grew (soak); else every path that moved,
    largest change first (heaptrack)."""
    def keep(d):
        return any(x > 0 for x in d) if grown_only else any(d)

    def order(g):
        return -max(g[2], g[3]) if grown_only else -abs(g[2]) - abs(g[3])

    rows = read_csv(os.path.join(out, "memprof_diff.csv"))
    if rows and "used_bytes_delta" in rows[0]:
        got = [(r.get("path_names") or r.get("path") or "(total)", _num(r.get("contexts_delta")),
                _num(r.get("total_bytes_delta")), _num(r.get("used_bytes_delta"))) for r in rows]
        got = [g for g in got if keep(g[1:])]
        got.sort(key=lambda g: (g[0] != "(total)", order(g)))
        return "memprof_diff", got

    before = read_csv(os.path.join(out, "ctx_before.csv"))
    after = read_csv(os.path.join(out, "ctx_after.csv"))
    if not before or not after:
        return None, []

    def fold(rs):
        acc = collections.defaultdict(lambda: [0, 0, 0])
        for r in rs:
            x = acc[r["path"]]
            x[0] += 1
            x[1] += int(r["total_bytes"])
            x[2] += int(r["used_bytes"])
        return acc

    fb, fa = fold(before), fold(after)
    got = []
    for path in set(fa) | set(fb):
        x, y = fb.get(path, [0, 0, 0]), fa.get(path, [0, 0, 0])
        d = (y[0] - x[0], y[1] - x[1], y[2] - x[2])
        if keep(d):
            got.append((path,) + d)
    got.sort(key=order)
    got.insert(0, ("(total)", len(after) - len(before),
                   sum(v[1] for v in fa.values()) - sum(v[1] for v in fb.values()),
                   sum(v[2] for v in fa.values()) - sum(v[2] for v in fb.values())))
    return "memprof_contexts before/after", got
