#!/usr/bin/env python3
"""vgreport.py: summarise valgrind memcheck's XML output of a PostgreSQL server.

Reads every vg.PID.xml in --logs (one per process: valgrind's --xml=yes
--xml-file=vg.%p.xml with --trace-children=yes) with xml.etree, takes the
<error> records that survived the suppressions, by their <kind>:

  definite / indirect   Leak_DefinitelyLost, Leak_IndirectlyLost (the bytes
                        of a definitely lost block, not those of the blocks
                        it points to, which have their own indirect record)
  invalid_read/_write   InvalidRead, InvalidWrite
  invalid_free          InvalidFree
  mismatched_free       MismatchedFree
  uninit_cond           UninitCondition
  uninit_value          UninitValue
  uninit_syscall        SyscallParam on uninitialised bytes
  overlap, fishy        Overlap, FishyValue
  invalid_jump          InvalidJump
  fatal_signal          a <fatal_signal> record (the process was killed)

groups them by kind and stack (the same stack in many backends is one
row), and marks a group OURS when any frame of any of its stacks (the
access, the allocation, the origin) matches --ours (except memprof's hook
adapters and wrapped context methods that only passed the call on, see
stack_is_ours) (a regular expression,
default: memprof, which names memprof.so, memprof_test.so, memprof's
functions and namespace) or lies under --root (our source tree).  Writes
--report (markdown; it states how many error records were read from the
XML against valgrind's own <errorcounts>) and --suggest (the suppressions
valgrind generated, --gen-suppressions=all, for the groups that are not
ours: a starting point for postgres.supp), prints the report, and exits 1
when a group is ours (or, with --strict, when there is any group at all),
0 otherwise; 2 when no XML file was found.
"""

import argparse
import collections
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

KINDS = {
    "Leak_DefinitelyLost": "definite",
    "Leak_IndirectlyLost": "indirect",
    "InvalidRead": "invalid_read",
    "InvalidWrite": "invalid_write",
    "InvalidFree": "invalid_free",
    "MismatchedFree": "mismatched_free",
    "UninitCondition": "uninit_cond",
    "UninitValue": "uninit_value",
    "SyscallParam": "uninit_syscall",
    "Overlap": "overlap",
    "FishyValue": "fishy",
    "InvalidJump": "invalid_jump",
}
DIRECT = re.compile(r"^[\d,]+ \(([\d,]+) direct, [\d,]+ indirect\) bytes")


def frame_text(fr):
    """A <frame> as valgrind's text output shows it: "fn (dir/file:line)"
    or "fn (in obj)"."""
    fn = fr.findtext("fn") or "???"
    file = fr.findtext("file")
    if file:
        d = fr.findtext("dir")
        where = (d + "/" + file if d else file) + (":" + fr.findtext("line") if fr.findtext("line") else "")
        return f"{fn} ({where})"
    obj = fr.findtext("obj")
    return f"{fn} (in {obj})" if obj else fn


def stack_list(st):
    return [frame_text(fr) for fr in st.findall("frame")]


def read_xml(path):
    """Parses one process's XML file, also one cut short (a process killed
    before valgrind finished).  Returns a dict: pid, records (pid, kind,
    headline, bytes, blocks, stacks, unique, suppression text), counts
    (unique -> count from <errorcounts>), suppressed (sum of <suppcounts>),
    finished (the FINISHED status and the closing tag were read), error
    (a parse error other than the file ending early)."""
    res = {"pid": None, "records": [], "counts": {}, "suppressed": 0, "finished": False,
           "closed": False, "other_errors": 0, "error": None}
    parser = ET.XMLPullParser(events=("end",))
    with open(path, "rb") as f:
        data = f.read()
    depth_ok = True
    try:
        parser.feed(data)
    except ET.ParseError as e:
        depth_ok = False
        res["error"] = str(e)

    def handle(el):
        tag = el.tag
        if tag == "pid" and res["pid"] is None:
            res["pid"] = int(el.text)
        elif tag == "status" and el.findtext("state") == "FINISHED":
            res["finished"] = True
        elif tag == "errorcounts":
            for pair in el.findall("pair"):
                res["counts"][pair.findtext("unique")] = int(pair.findtext("count"))
        elif tag == "suppcounts":
            res["suppressed"] += sum(int(p.findtext("count")) for p in el.findall("pair"))
        elif tag == "valgrindoutput":
            res["closed"] = True
        elif tag == "error":
            xkind = el.findtext("kind") or ""
            what = el.findtext("what") or el.findtext("xwhat/text") or xkind
            kind = KINDS.get(xkind)
            if kind == "uninit_syscall" and "uninitialised" not in what:
                kind = None
            nbytes = nblocks = 0
            if kind in ("definite", "indirect"):
                nbytes = int(el.findtext("xwhat/leakedbytes") or 0)
                nblocks = int(el.findtext("xwhat/leakedblocks") or 0)
                dm = DIRECT.match(what)
                if dm:
                    nbytes = int(dm.group(1).replace(",", ""))
            # the stacks in order, each after its explanation (auxwhat,
            # origin) as a "# " line
            stacks = []
            note = None
            for ch in el:
                if ch.tag in ("auxwhat", "xauxwhat"):
                    note = ch.text if ch.tag == "auxwhat" else ch.findtext("text")
                elif ch.tag == "stack":
                    s = stack_list(ch)
                    stacks.append((["# " + note.strip()] if note else []) + s)
                    note = None
            stacks = [s for s in stacks if any(not x.startswith("# ") for x in s)]
            supp = el.findtext("suppression/rawtext")
            res["records"].append({"kind": kind, "xkind": xkind, "head": what.strip(), "bytes": nbytes,
                                   "blocks": nblocks, "stacks": stacks or [[]], "unique": el.findtext("unique"),
                                   "supp": supp.strip() if supp else None})
            el.clear()
        elif tag == "fatal_signal":
            name = el.findtext("signame") or ("signal " + (el.findtext("signo") or "?"))
            stacks = [stack_list(st) for st in el.findall("stack")]
            res["records"].append({"kind": "fatal_signal", "xkind": "fatal_signal",
                                   "head": f"Process terminating with default action of signal {name}",
                                   "bytes": 0, "blocks": 0, "stacks": stacks or [[]], "unique": None, "supp": None})

    for _event, el in parser.read_events():
        handle(el)
    if depth_ok:
        try:
            parser.close()
        except ET.ParseError as e:
            res["error"] = str(e)
        for _event, el in parser.read_events():
            handle(el)
    if res["pid"] is None:
        m = re.search(r"vg\.(\d+)\.xml$", path)
        res["pid"] = int(m.group(1)) if m else 0
    return res


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

    logs = sorted(glob.glob(os.path.join(a.logs, "vg.*.xml")))
    if not logs:
        print(f"vgreport: no vg.*.xml in {a.logs}", file=sys.stderr)
        return 2
    groups = collections.OrderedDict()
    summaries = collections.Counter()
    incomplete = []
    unreadable = []
    for path in logs:
        if os.path.getsize(path) == 0:
            continue
        x = read_xml(path)
        if x["error"] and not (x["records"] or x["pid"]):
            unreadable.append(f"{os.path.basename(path)} ({x['error']})")
            continue
        if not (x["finished"] and x["closed"]):
            incomplete.append(os.path.basename(path))
        # valgrind's own count of the errors it reported, against the
        # records read: every non-leak record has its <unique> in
        # <errorcounts>, which counts how often it occurred
        summaries["counted_records"] += len(x["counts"])
        summaries["errors"] += sum(x["counts"].values())
        summaries["suppressed"] += x["suppressed"]
        for r in x["records"]:
            if r["xkind"].startswith("Leak_"):
                summaries["leak_records"] += 1
                if r["kind"] == "definite":
                    summaries["definitely"] += r["bytes"]
                elif r["kind"] == "indirect":
                    summaries["indirectly"] += r["bytes"]
            elif r["unique"] is not None:
                summaries["error_records"] += 1
                if r["unique"] in x["counts"]:
                    summaries["error_records_counted"] += 1
                r["occurrences"] = x["counts"].get(r["unique"], 1)
            kind = r["kind"]
            if kind is None:
                summaries["other_records"] += 1
                continue
            stacks = r["stacks"]
            main_stack = [f for f in stacks[0] if not f.startswith("# ")]
            key = (kind, tuple(frame_key(f) for f in main_stack[:12]))
            g = groups.get(key)
            if g is None:
                g = groups[key] = {"kind": kind, "head": r["head"], "bytes": 0, "blocks": 0, "count": 0,
                                   "occurrences": 0, "pids": set(), "stacks": stacks, "ours": False,
                                   "supp": r["supp"]}
            g["bytes"] += r["bytes"]
            g["blocks"] += r["blocks"]
            g["count"] += 1
            g["occurrences"] += r.get("occurrences", 1)
            g["pids"].add(x["pid"])
            if any(stack_is_ours(s) for s in stacks):
                g["ours"] = True
    if unreadable and len(unreadable) == len(logs):
        print("vgreport: no XML file could be read: " + "; ".join(unreadable[:5]), file=sys.stderr)
        return 2

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
    lines.append(f"{len(logs)} process XML files in `{a.logs}` (valgrind --xml=yes); valgrind's own totals over "
                 f"them: {summaries['errors']} errors counted in <errorcounts>, {summaries['suppressed']} suppressed "
                 f"(<suppcounts>); leak records: definitely lost {summaries['definitely']:,} bytes, indirectly lost "
                 f"{summaries['indirectly']:,} bytes (after suppressions).\n")
    lines.append(f"XML: {summaries['error_records']} error records read, {summaries['counted_records']} in "
                 f"valgrind's errorcounts ({summaries['error_records_counted']} of the records matched there by "
                 f"their unique id); {summaries['leak_records']} leak records read.\n")
    if incomplete:
        lines.append(f"**{len(incomplete)} XML files are not finished** (process killed before valgrind "
                     f"finished): {', '.join(incomplete[:10])}\n")
    if unreadable:
        lines.append(f"**{len(unreadable)} XML files could not be read**: {'; '.join(unreadable[:10])}\n")
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
                else f"{g['count']} times" + (f" ({g['occurrences']} occurrences)" if g["occurrences"] != g["count"] else "")
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
                name = "pg_suggested_%d_%s" % (i, g["kind"])
                if g["supp"]:
                    # valgrind's own (--gen-suppressions=all), named, its
                    # first 8 frames kept (a suppression matches a prefix)
                    out, frames = [], 0
                    for ln in g["supp"].splitlines():
                        st = ln.strip()
                        if st.startswith(("fun:", "obj:", "...")) and st != "...}":
                            frames += 1
                            if frames > 8:
                                continue
                        out.append("   " + name if st == "<insert_a_suppression_name_here>" else ln)
                    f.write("\n".join(out) + "\n")
                    continue
                f.write("{\n   %s\n   Memcheck:%s\n" % (name, kind))
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
