"""procmem: memory of PostgreSQL processes from /proc (shared by the tools).

Fields, all in KiB as the kernel reports them:
  vmrss      VmRSS, resident set size (includes shared memory the process touched)
  rss_anon   RssAnon, resident anonymous memory: the heap (malloc, so every
             memory context), stacks; what a leak makes grow
  rss_shmem  RssShmem, resident shared memory (shared_buffers and the like)
  vmhwm      VmHWM, peak VmRSS
  pss        Pss from smaps_rollup (shared pages divided among their users)
  pss_anon   Pss_Anon
  private    Private_Clean + Private_Dirty (pages only this process maps,
             which includes shared-memory pages nobody else has touched)
"""

import os

FIELDS = ["vmrss", "rss_anon", "rss_shmem", "vmhwm", "pss", "pss_anon", "private"]

_STATUS = {"VmRSS:": "vmrss", "RssAnon:": "rss_anon", "RssShmem:": "rss_shmem", "VmHWM:": "vmhwm"}
_ROLLUP = {"Pss:": "pss", "Pss_Anon:": "pss_anon"}


def read_mem(pid):
    """The FIELDS of one process, or None when it is gone."""
    out = dict.fromkeys(FIELDS, "")
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in _STATUS:
                    out[_STATUS[parts[0]]] = int(parts[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    try:
        priv = 0
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                if parts[0] in _ROLLUP:
                    out[_ROLLUP[parts[0]]] = int(parts[1])
                elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                    priv += int(parts[1])
        out["private"] = priv
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def role(pid):
    """What the process says it is: 'postgres: checkpointer' -> 'checkpointer'."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return "gone"
    if cmd.startswith("postgres: "):
        cmd = cmd[len("postgres: "):]
        # a client backend: "user db [local] idle" -> "backend user db"
        if "[local]" in cmd or "(" in cmd:
            words = cmd.split()
            return "backend " + " ".join(words[:2])
        return cmd
    if "postgres" in cmd and " -D " in cmd:
        return "postmaster"
    return cmd[:40]


def children(ppid):
    """Pids whose parent is ppid."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        rest = s[s.rfind(")") + 2:].split()
        if len(rest) > 1 and int(rest[1]) == ppid:
            kids.append(int(d))
    return sorted(kids)
