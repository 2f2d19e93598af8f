"""The render guard: kills a render host's renders when the host's process dies, whatever killed it (POSIX).

``runner.py`` starts one guard per worker or node process, the first time it starts a render, as
``python -I render_guard.py TOKEN`` in a session of its own (a Ctrl-C at the terminal never reaches it). The guard
reads its standard input, a pipe whose only writer is that process: ``+PGID`` when a render's process group starts,
``-PGID`` when it is over. End of file means the writer is gone — an exit, a crash, a SIGKILL, the OOM killer alike,
since the kernel closes a dead process's descriptors — and the guard then kills every process group still listed, and
every process whose environment carries its ``TOKEN`` (``PYFARM_RENDER_GUARD``, set on every render it guards): that
catches a render the host was starting when it died (forked, its group not written yet) and a grandchild that left
its group. Then it exits.

Why not PR_SET_PDEATHSIG: Linux only (macOS has none), it fires when the *thread* that forked exits rather than the
process, it reaches only the process it is set in (not the grandchildren), and it must be set between fork and exec
(a ``preexec_fn``, unsafe in a threaded process). A pipe's end of file is the one parent-death signal every POSIX
system has. A guard killed on its own is started again by the host (``runner._Guard``).

Stdlib only and run by path in isolated mode, so it imports nothing of farm_node (its folder is not on sys.path);
psutil, when the node's interpreter has it, finds the marked processes on every POSIX system, ``/proc`` without it.
"""
from __future__ import annotations

import os
import signal
import sys
import time

MARKER = "PYFARM_RENDER_GUARD"
# How often the guard reads what its host wrote (see _lines).
POLL_SECONDS = 0.2


def _kill_group(pgid: int) -> None:
    if pgid <= 1 or pgid == os.getpgid(0):
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:  # already gone, or not ours any more
        pass


def _marked(token: str) -> list[int]:
    """Pids of the processes whose environment says this guard guards them."""
    wanted = "%s=%s" % (MARKER, token)
    me = os.getpid()
    found = []
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        for proc in psutil.process_iter():
            try:
                if proc.pid != me and proc.environ().get(MARKER) == token:
                    found.append(proc.pid)
            except (psutil.Error, OSError):
                pass
        return found
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found
    needle = wanted.encode()
    for pid in pids:
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                if pid != me and needle in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            pass
    return found


def _kill_marked(token: str) -> None:
    for pid in _marked(token):
        try:
            _kill_group(os.getpgid(pid))
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _lines(fd: int):  # type: ignore[no-untyped-def]
    """The pipe's lines as they come, read every ``POLL_SECONDS``; ends at end of file.

    Not a blocking read: a reader waiting in read() is woken by every write, and on a virtual machine waking a process
    on the other CPU costs the host more than the write (two a frame, 0.35 ms of a 1 ms trivial frame). A reader
    that sleeps is not woken: the host's writes land in the pipe's buffer (64 KiB: thousands of frames' lines), and
    the guard acts at most ``POLL_SECONDS`` after its host died.
    """
    os.set_blocking(fd, False)
    rest = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            time.sleep(POLL_SECONDS)
            continue
        if not chunk:
            return
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines


def main(argv: list[str]) -> int:
    token = argv[1] if len(argv) > 1 else ""
    groups: set[int] = set()
    os.chdir("/")  # a guard must not hold a folder (a test's, a mount) busy
    for line in _lines(sys.stdin.fileno()):
        word = line.strip()
        try:
            pgid = int(word[1:])
        except ValueError:
            continue
        if word.startswith(b"+"):
            groups.add(pgid)
        elif word.startswith(b"-"):
            groups.discard(pgid)
    for pgid in sorted(groups):
        _kill_group(pgid)
    if token:
        _kill_marked(token)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
