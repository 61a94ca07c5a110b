"""Nothing a `storywatch run` or `serve` started outlives it, however it ends.

Prefect's temporary API server, the extraction workers and Dask's workers are child processes
(some of them grandchildren). When the CLI ends normally they are stopped by their owners; when
it is killed (SIGKILL, the OOM killer, a supervisor giving up) they would be reparented to init
and keep running, holding ports, memory and the parent's stdout pipe.

`start(db)` spawns a small watchdog process. It holds the read end of a pipe whose only write
end the CLI holds, so the end of the CLI, by any means, is an end-of-file it cannot miss (a CLI
that ends normally writes a byte first, and the watchdog just leaves). While
the CLI lives, the watchdog notes every process descended from it (from /proc, with each one's
start time, so a reused PID is never mistaken for one of ours). When the CLI is gone it sends
SIGTERM to those still running, SIGKILL to any left two seconds later, and marks the pass that
was running in the warehouse `interrupted` (the file is free by then: its only writer is gone).

Why a watchdog rather than the alternatives: a parent-death signal (prctl PR_SET_PDEATHSIG)
has to be set inside each child, and Prefect starts its server itself; a process group the CLI
owns would take the CLI out of the terminal's foreground group, so Ctrl-C would stop reaching
it. Linux only (it reads /proc); elsewhere `start` does nothing.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

_SNAPSHOT_SECONDS = 0.5
_GRACE_SECONDS = 2.0


def start(db: Path | None = None) -> subprocess.Popen | None:
    """Start the watchdog for this process (once; a no-op where there is no /proc)."""
    if not Path("/proc/self/stat").exists():
        return None
    read_end, write_end = os.pipe()
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "storywatch.flows.lifeline", str(os.getpid()), str(read_end), str(db or "")],
        pass_fds=(read_end,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C meant for the CLI must not stop its watchdog
    )
    os.close(read_end)
    os.set_inheritable(write_end, False)  # only this process holds it: its end is the signal
    atexit.register(os.write, write_end, _DONE)  # a normal end says so: nothing to mark, nothing to touch
    return watchdog


_DONE = b"d"


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent PID, start time in clock ticks) of a live process, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2:].split()
    return int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """PID -> start time of every live process descended from `root`."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found:
                parents.setdefault(found[0], []).append(int(entry.name))
                starts[int(entry.name)] = found[1]
    out: dict[int, int] = {}
    stack = list(parents.get(root, []))
    while stack:
        pid = stack.pop()
        if pid not in out:
            out[pid] = starts[pid]
            stack += parents.get(pid, [])
    return out


def _still_ours(pid: int, started: int) -> bool:
    found = _stat(pid)
    return found is not None and found[1] == started


def _stop(processes: dict[int, int]) -> None:
    """SIGTERM the processes still alive (and still the same processes), SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = {pid: s for pid, s in processes.items() if _still_ours(pid, s)}
        for pid in alive:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        if sig == signal.SIGTERM and alive:
            deadline = time.monotonic() + _GRACE_SECONDS
            while time.monotonic() < deadline and any(_still_ours(p, s) for p, s in alive.items()):
                time.sleep(0.05)


def _mark_interrupted(db: str) -> None:
    """The pass the CLI was running, if any, is `interrupted` (the next pass would say so too)."""
    if not db or not Path(db).exists():
        return
    from storywatch.errors import WarehouseError
    from storywatch.warehouse.store import Warehouse

    try:  # the dead writer's lock goes with it; allow a moment
        with Warehouse.open(db, wait_seconds=5) as wh:
            wh.mark_interrupted()
    except WarehouseError:
        pass  # another pass holds the file: it marks the run when it starts


def watch(parent: int, read_end: int, db: str) -> None:
    """Note the parent's descendants until its end of the pipe closes, then stop them."""
    seen: dict[int, int] = {}
    me = os.getpid()
    while True:
        ready, _, _ = select.select([read_end], [], [], _SNAPSHOT_SECONDS)
        if ready:
            ended = os.read(read_end, 1)
            if ended == _DONE:
                return  # the parent ended normally: its owners stopped what it started
            if not ended:
                break  # end of file with no word: the parent was killed
        seen.update({pid: s for pid, s in descendants(parent).items() if pid != me})
    _stop(seen)
    _mark_interrupted(db)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")
