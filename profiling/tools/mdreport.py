"""mdreport.py: the markdown pieces the report writers share
(baseline_report.py, heaptrack_report.py, soak_report.py).
"""

import sys


def context_table(heading, rows, cells):
    """The lines of a table of contexts that changed: HEADING, the header,
    then one line per (path, contexts delta, total bytes delta, used bytes
    delta) of ROWS, CELLS(contexts, total, used) writing the three figures."""
    lines = [heading, "| path | contexts Δ | total bytes Δ | used bytes Δ |", "|---|---|---|---|"]
    for path, dc, dt, du in rows:
        lines.append(f"| {path} | {' | '.join(cells(dc, dt, du))} |")
    return lines


def finish(path, lines, verdict, status, verdict_file=sys.stdout):
    """The end of a report writer: LINES, one per line, into the file PATH
    and printed, then the one-line VERDICT (into VERDICT_FILE); returns
    STATUS, the exit status."""
    text = "\n".join(lines) + "\n"
    with open(path, "w") as f:
        f.write(text)
    print(text)
    print(verdict, file=verdict_file)
    return status
