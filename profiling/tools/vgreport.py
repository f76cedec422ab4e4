#!/usr/bin/env python3
"""vgreport.py: summarise valgrind memcheck logs of a PostgreSQL server.

Reads every vg.PID.log in --logs (one per process: valgrind's
--log-file=vg.%p.log with --trace-children=yes), finds the errors that
survived the suppressions:

  definite / indirect   "N bytes in M blocks are definitely|indirectly lost"
  invalid_read/_write   "Invalid read|write of size N"
  invalid_free          "Invalid free() / delete / delete[] / realloc()"
  mismatched_free       "Mismatched free() / delete / delete []"
  uninit_cond           "Conditional jump or move depends on uninitialised value(s)"
  uninit_value          "Use of uninitialised value of size N"
  uninit_syscall        "Syscall param ... points to / contains uninitialised byte(s)"
  overlap, fishy        "Source and destination overlap", "fishy" arguments

groups them by kind and stack (the same stack in many backends is one
row), and marks a group OURS when any frame of any of its stacks (the
access, the allocation, the origin) matches --ours (except memprof's hook
adapters and wrapped context methods that only passed the call on, see
stack_is_ours) (a regular expression,
default: memprof, which names memprof.so, memprof_test.so, memprof's
functions and namespace) or lies under --root (our source tree).  Writes
--report (markdown) and --suggest (valgrind suppressions generated for
the groups that are not ours, a starting point for postgres.supp), prints
the report, and exits 1 when a group is ours (or, with --strict, when there
is any group at all), 0 otherwise; 2 when no log was found.
"""

import argparse
import collections
import glob
import os
import re
import sys

LINE = re.compile(r"^==(\d+)== ?(.*)$")
FRAME = re.compile(r"^\s*(?:at|by) 0x[0-9A-Fa-f]+: (.*)$")
LEAK = re.compile(r"^([\d,]+)(?: \(([\d,]+) direct, ([\d,]+) indirect\))? bytes in ([\d,]+) blocks are "
                  r"(definitely|indirectly) lost in loss record")
KINDS = [
    (re.compile(r"^Invalid read of size"), "invalid_read"),
    (re.compile(r"^Invalid write of size"), "invalid_write"),
    (re.compile(r"^Invalid free\(\)|^Invalid (delete|realloc)"), "invalid_free"),
    (re.compile(r"^Mismatched free\(\)"), "mismatched_free"),
    (re.compile(r"^Conditional jump or move depends on uninitialised"), "uninit_cond"),
    (re.compile(r"^Use of uninitialised value of size"), "uninit_value"),
    (re.compile(r"^Syscall param .* (points to|contains) uninitialised"), "uninit_syscall"),
    (re.compile(r"^Source and destination overlap"), "overlap"),
    (re.compile(r"^Argument '.*' of function .* has a fishy"), "fishy"),
    (re.compile(r"^Jump to the invalid address"), "invalid_jump"),
    (re.compile(r"^Process terminating with default action of signal"), "fatal_signal"),
]
# frames that say nothing about who is responsible
NOISE = re.compile(r"vgpreload_|^(malloc|calloc|realloc|free|operator new|operator delete|memcpy|memmove|"
                   r"memset|strlen|strdup|__GI_|_IO_|new_do_write|fwrite|write \(|pwrite)")


def parse_log(path):
    """Yields (pid, kind, headline, bytes, blocks, stacks) for each record."""
    blocks = collections.defaultdict(list)
    order = []
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, text = m.group(1), m.group(2)
            if pid not in blocks:
                blocks[pid] = [[]]
                order.append(pid)
            if text.strip() == "":
                if blocks[pid][-1]:
                    blocks[pid].append([])
            else:
                blocks[pid][-1].append(text)
    for pid in order:
        for b in blocks[pid]:
            if not b:
                continue
            head = b[0].strip()
            kind = None
            nbytes = nblocks = 0
            lm = LEAK.match(head)
            if lm:
                kind = "definite" if lm.group(5) == "definitely" else "indirect"
                total = int(lm.group(1).replace(",", ""))
                direct = lm.group(2)
                nbytes = int(direct.replace(",", "")) if direct else total
                nblocks = int(lm.group(4).replace(",", ""))
            else:
                for rx, k in KINDS:
                    if rx.match(head):
                        kind = k
                        break
            if kind is None:
                continue
            stacks = [[]]
            for line in b[1:]:
                fm = FRAME.match(line)
                if fm:
                    stacks[-1].append(fm.group(1).strip())
                elif stacks[-1]:
                    stacks.append([])
                    stacks[-1].append("# " + line.strip())
                else:
                    stacks[-1].append("# " + line.strip())
            stacks = [s for s in stacks if any(not x.startswith("# ") for x in s)]
            yield int(pid), kind, head, nbytes, nblocks, stacks


def frame_key(frame):
    """A frame without addresses: the function and where it is."""
    return re.sub(r"0x[0-9A-Fa-f]+", "", frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--ours", default="memprof")
    ap.add_argument("--root", action="append", default=[])
    ap.add_argument("--report", required=True)
    ap.add_argument("--suggest", default=None)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--title", default="valgrind memcheck")
    a = ap.parse_args()

    ours_rx = re.compile(a.ours)
    roots = [os.path.realpath(r) + "/" for r in a.root]

    def is_ours(frame):
        if ours_rx.search(frame):
            return True
        return any(r in frame for r in roots)

    # memprof's executor/utility/log/transaction hook adapters and its
    # wrapped memory-context methods sit in the stack of nearly everything
    # PostgreSQL does while memprof is loaded; they are ours only when the
    # error is in them (the innermost frame past libc and valgrind's own),
    # not when they merely passed the call on
    passthrough_rx = re.compile(
        r"Memprof(ExecutorStart|ExecutorRun|ExecutorFinish|ExecutorEnd|ProcessUtility|"
        r"EmitLogHook|XactCallback)|memprof::\(anonymous namespace\)::W(Alloc|Free|Realloc|Reset|Delete)<")
    outer_rx = re.compile(r"vgpreload|/libc\.so|ld-linux|libstdc\+\+")

    def stack_is_ours(stack):
        frames = [f for f in stack if not f.startswith("# ")]
        first = 0
        while first < len(frames) and outer_rx.search(frames[first]):
            first += 1
        for i, f in enumerate(frames):
            if not is_ours(f):
                continue
            if passthrough_rx.search(f) and i != first:
                continue
            return True
        return False

    logs = sorted(glob.glob(os.path.join(a.logs, "vg.*.log")))
    if not logs:
        print(f"vgreport: no vg.*.log in {a.logs}", file=sys.stderr)
        return 2
    groups = collections.OrderedDict()
    summaries = collections.Counter()
    incomplete = []
    for path in logs:
        with open(path, errors="replace") as f:
            text = f.read()
        if "ERROR SUMMARY" not in text and text.strip():
            incomplete.append(os.path.basename(path))
        for m in re.finditer(r"ERROR SUMMARY: ([\d,]+) errors from [\d,]+ contexts \(suppressed: ([\d,]+) from", text):
            summaries["errors"] += int(m.group(1).replace(",", ""))
            summaries["suppressed"] += int(m.group(2).replace(",", ""))
        for m in re.finditer(r"(definitely|indirectly) lost: ([\d,]+) bytes", text):
            summaries[m.group(1)] += int(m.group(2).replace(",", ""))
        for pid, kind, head, nbytes, nblocks, stacks in parse_log(path):
            main_stack = [f for f in stacks[0] if not f.startswith("# ")]
            key = (kind, tuple(frame_key(f) for f in main_stack[:12]))
            g = groups.get(key)
            if g is None:
                g = groups[key] = {"kind": kind, "head": head, "bytes": 0, "blocks": 0, "count": 0,
                                   "pids": set(), "stacks": stacks, "ours": False}
            g["bytes"] += nbytes
            g["blocks"] += nblocks
            g["count"] += 1
            g["pids"].add(pid)
            if any(stack_is_ours(s) for s in stacks):
                g["ours"] = True

    ours = [g for g in groups.values() if g["ours"]]
    others = [g for g in groups.values() if not g["ours"]]

    def totals(gs):
        t = collections.Counter()
        for g in gs:
            if g["kind"] in ("definite", "indirect"):
                t[g["kind"] + "_bytes"] += g["bytes"]
            else:
                t[g["kind"]] += g["count"]
        return t

    lines = [f"# {a.title}\n"]
    lines.append(f"{len(logs)} process logs in `{a.logs}`; valgrind's own totals over them: "
                 f"{summaries['errors']} errors shown, {summaries['suppressed']} suppressed; "
                 f"definitely lost {summaries['definitely']:,} bytes, indirectly lost {summaries['indirectly']:,} bytes "
                 "(after suppressions).\n")
    if incomplete:
        lines.append(f"**{len(incomplete)} logs have no ERROR SUMMARY** (process killed before valgrind "
                     f"finished): {', '.join(incomplete[:10])}\n")
    lines.append(f"Attribution: a group is **ours** when a frame of any of its stacks matches `{a.ours}`"
                 + (f" or lies under {', '.join(roots)}" if roots else "") + ".\n")
    to, tt = totals(ours), totals(others)
    lines.append("| | ours (memprof / the workload) | PostgreSQL and libraries |")
    lines.append("|---|---|---|")
    for k in ["definite_bytes", "indirect_bytes", "invalid_read", "invalid_write", "invalid_free",
              "mismatched_free", "uninit_cond", "uninit_value", "uninit_syscall", "overlap", "fishy",
              "invalid_jump", "fatal_signal"]:
        if to[k] or tt[k] or k in ("definite_bytes", "indirect_bytes", "invalid_read", "invalid_write",
                                   "uninit_cond", "uninit_value"):
            label = k.replace("_bytes", " lost (bytes)").replace("_", " ")
            lines.append(f"| {label} | {to[k]:,} | {tt[k]:,} |")

    def show(title, gs):
        lines.append(f"\n## {title}: {len(gs)} distinct stacks\n")
        for g in sorted(gs, key=lambda g: (-g["bytes"], -g["count"])):
            what = f"{g['bytes']:,} bytes in {g['blocks']:,} blocks" if g["kind"] in ("definite", "indirect") \
                else f"{g['count']} times"
            lines.append(f"### {g['kind']}: {what}, {len(g['pids'])} processes\n")
            lines.append("```")
            lines.append(g["head"])
            for i, s in enumerate(g["stacks"]):
                shown = 0
                for f in s:
                    if f.startswith("# "):
                        lines.append("  " + f[2:])
                        continue
                    mark = " <== ours" if is_ours(f) else ""
                    lines.append(f"    {'at' if shown == 0 else 'by'} {f}{mark}")
                    shown += 1
                    if shown >= 16:
                        lines.append("    ...")
                        break
            lines.append("```")
    show("OURS (fail the run)", ours)
    show("PostgreSQL and libraries (" + ("fail the run: --strict" if a.strict else "reported, not failing") + ")",
         others)

    fail = bool(ours) or (a.strict and bool(others))
    lines.append("\n## verdict\n")
    if ours:
        lines.append(f"**FAIL**: {len(ours)} error or leak stacks involve memprof or the workload's code.")
    elif fail:
        lines.append(f"**FAIL** (--strict): {len(others)} unsuppressed stacks in PostgreSQL or libraries.")
    else:
        lines.append("**PASS**: no definitely or indirectly lost bytes and no invalid access or use of "
                     "uninitialised memory involve memprof or the workload's code"
                     + (f"; {len(others)} stacks elsewhere are listed above." if others else "."))
    text = "\n".join(lines) + "\n"
    with open(a.report, "w") as f:
        f.write(text)

    if a.suggest:
        with open(a.suggest, "w") as f:
            f.write("# valgrind suppressions generated by vgreport.py for stacks that are not ours;\n"
                    "# review before copying any into profiling/valgrind/postgres.supp\n")
            for i, g in enumerate(others):
                kind = {"definite": "Leak", "indirect": "Leak", "invalid_read": None, "invalid_write": None,
                        "uninit_cond": "Cond", "uninit_syscall": "Param"}.get(g["kind"])
                if kind is None:
                    continue
                f.write("{\n   pg_suggested_%d_%s\n   Memcheck:%s\n" % (i, g["kind"], kind))
                if kind == "Param":
                    pm = re.match(r"Syscall param (\S+)", g["head"])
                    f.write(f"   {pm.group(1) if pm else '*'}\n")
                if kind == "Leak":
                    f.write(f"   match-leak-kinds: {'definite' if g['kind'] == 'definite' else 'indirect'}\n")
                for fr in g["stacks"][0][:8]:
                    if fr.startswith("# "):
                        continue
                    fm = re.match(r"(.+?) \((?:in )?(.*)\)$", fr)
                    fn = fm.group(1) if fm else fr
                    obj = fm.group(2) if fm else ""
                    if fn == "???":
                        f.write(f"   obj:{obj}\n" if obj.startswith("/") else "   ...\n")
                    else:
                        f.write(f"   fun:{fn.split('(')[0].strip()}\n")
                f.write("}\n")
    print(text)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
