#!/usr/bin/env python3
"""sampler.py: samples the memory of every process of one PostgreSQL server.

Every --interval seconds, until --stop-file exists (or SIGTERM/SIGINT), it
appends one row per process (the postmaster and each of its children) to
--csv:

  t_s, time, pid, role, workload, vmrss_kb, rss_anon_kb, rss_shmem_kb,
  vmhwm_kb, pss_kb, pss_anon_kb, private_kb, memprof_total_bytes

t_s counts from --t0 (seconds since the epoch).  `workload` is 1 for the
pid written into --workload-pid-file (read on each tick until found),
`sampler` marks the sampler's own psql session.  When --backends-query is
given, it is run on each tick through one persistent psql session
(--psql is its command line, JSON list) and its rows are appended to
--backends-csv with t_s in front; if one of its columns is `pid` and one is
a total of context bytes (total_bytes, context_total_bytes,
contexts_total_bytes, memory_total_bytes or total), that figure goes into
memprof_total_bytes.
"""

import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procmem  # noqa: E402

TOTAL_COLUMNS = ("total_bytes", "context_total_bytes", "contexts_total_bytes",
                 "memory_total_bytes", "total")
HEADER = ["t_s", "time", "pid", "role", "workload"] + \
    [f + "_kb" for f in procmem.FIELDS] + ["memprof_total_bytes"]

stop = False


def on_signal(_sig, _frame):
    global stop
    stop = True


class PsqlSession:
    """One psql process kept open; query() returns the CSV text of a query."""

    MARK = "__memprof_sampler_end__"

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd + ["-X", "-q", "--csv", "-P", "pager=off"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.pid = None
        r = self.query("SELECT pg_backend_pid() AS pid")
        if r:
            rows = list(csv.DictReader(io.StringIO(r)))
            if rows:
                self.pid = int(rows[0]["pid"])

    def query(self, sql):
        if self.p.poll() is not None:
            return None
        try:
            self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + self.MARK + "\n")
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                return None
            if line.strip() == self.MARK:
                return "".join(lines)
            lines.append(line)

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        except Exception:
            self.p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postmaster", type=int, required=True)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--t0", type=float, default=None)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--workload-pid-file", default=None)
    ap.add_argument("--psql", default=None, help="JSON list: psql command line for the persistent session")
    ap.add_argument("--backends-query", default=None)
    ap.add_argument("--backends-csv", default=None)
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0 = a.t0 if a.t0 is not None else time.time()

    session = None
    if a.backends_query and a.psql:
        session = PsqlSession(json.loads(a.psql))
    sampler_pid = session.pid if session else None

    out = open(a.csv, "a", newline="")
    w = csv.writer(out)
    if out.tell() == 0:
        w.writerow(HEADER)
    bout = None
    bwriter = None
    workload_pid = None
    next_tick = time.time()
    while not stop and not os.path.exists(a.stop_file):
        now = time.time()
        if now < next_tick:
            time.sleep(min(0.2, next_tick - now))
            continue
        next_tick += a.interval
        if next_tick < now:          # fell behind: do not burst
            next_tick = now + a.interval
        if workload_pid is None and a.workload_pid_file and os.path.exists(a.workload_pid_file):
            try:
                workload_pid = int(open(a.workload_pid_file).read().strip() or 0) or None
            except ValueError:
                workload_pid = None
        t = now - t0
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now))
        totals = {}
        if session:
            text = session.query(a.backends_query)
            if text:
                rows = list(csv.reader(io.StringIO(text)))
                if rows:
                    hdr = rows[0]
                    if bout is None and a.backends_csv:
                        bout = open(a.backends_csv, "a", newline="")
                        bwriter = csv.writer(bout)
                        bwriter.writerow(["t_s"] + hdr)
                    pid_col = hdr.index("pid") if "pid" in hdr else None
                    tot_col = next((hdr.index(c) for c in TOTAL_COLUMNS if c in hdr), None)
                    for r in rows[1:]:
                        if bwriter:
                            bwriter.writerow([f"{t:.2f}"] + r)
                        if pid_col is not None and tot_col is not None and r[pid_col].isdigit():
                            totals[int(r[pid_col])] = r[tot_col]
                    if bout:
                        bout.flush()
        pids = [a.postmaster] + procmem.children(a.postmaster)
        for pid in pids:
            m = procmem.read_mem(pid)
            if m is None:
                continue
            r = "postmaster" if pid == a.postmaster else procmem.role(pid)
            if pid == sampler_pid:
                r = "sampler"
            wl = 1 if pid == workload_pid else 0
            if wl:
                r = "workload"
            w.writerow([f"{t:.2f}", stamp, pid, r, wl] + [m[f] for f in procmem.FIELDS] +
                       [totals.get(pid, "")])
        out.flush()
    out.close()
    if bout:
        bout.close()
    if session:
        session.close()


if __name__ == "__main__":
    main()
