"""The pids of the node's own renders between their start and the store, kept in a journal file meanwhile.

A frame's "started" report (its pid) is worth a commit of its own only for a render that runs long enough to be
looked at: for a short frame it is written with the frame's end, one commit instead of two, and otherwise a moment
later (``Coordinator.STARTED_DEFER``). Until it is in the store, the pid is a line in this journal, written before
the report returns (an append, no fsync: what it guards against is a crash of the node, not of the machine, whose
renders die with it). A node that starts again after a SIGKILL reads the journal to kill the renders it left behind
whose pids the store does not have.
"""
from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("farm_node")

# The journal is emptied once it is this big and every pid in it is in the store.
COMPACT_BYTES = 1024 * 1024


class StartJournal:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[int, float]] = {}
        self._taken = 0  # entries taken out for a transaction that has not committed yet
        self._fd: int | None = None
        self._size = 0
        self.ready = threading.Event()

    def read(self) -> dict[int, tuple[int, float]]:
        """What the journal file holds (attempt -> pid, start time); a half-written last line is ignored."""
        out: dict[int, tuple[int, float]] = {}
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except OSError:
            return out
        for line in data.split(b"\n")[:-1]:
            parts = line.split()
            if len(parts) == 3:
                try:
                    out[int(parts[0])] = (int(parts[1]), float(parts[2]))
                except ValueError:
                    continue
        return out

    def reset(self) -> None:
        """Empty the journal: every pid in it is in the store, or its render is gone."""
        with self._lock:
            self._truncate()

    def add(self, attempt: int, pid: int, started: float) -> None:
        line = b"%d %d %.3f\n" % (attempt, pid, started)
        with self._lock:
            # Pending first: the store gets the start even when the journal cannot be written (a full disk); only
            # the guard against a crash of the node is missing for this render then.
            self._pending[attempt] = (pid, started)
            try:
                if self._fd is None:
                    folder = os.path.dirname(self.path)
                    if folder:
                        os.makedirs(folder, mode=0o700, exist_ok=True)
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND
                                       | getattr(os, "O_BINARY", 0), 0o600)
                    self._size = os.fstat(self._fd).st_size
                os.write(self._fd, line)
                self._size += len(line)
            except OSError as exc:
                log.warning("cannot write the start journal %s (%s): the start of attempt %d is not guarded against"
                            " a crash of the node", self.path, exc.strerror or exc, attempt)
        self.ready.set()

    def take(self, attempt: int) -> tuple[int, float] | None:
        """The attempt's pid and start time if the store does not have them yet; call ``done`` after the commit."""
        with self._lock:
            entry = self._pending.pop(attempt, None)
            if entry is not None:
                self._taken += 1
            return entry

    def take_all(self) -> dict[int, tuple[int, float]]:
        with self._lock:
            entries, self._pending = self._pending, {}
            self._taken += len(entries)
            self.ready.clear()
            return entries

    def give_back(self, entries: dict[int, tuple[int, float]]) -> None:
        """Taken entries whose transaction rolled back: pending again."""
        with self._lock:
            for attempt, entry in entries.items():
                self._pending.setdefault(attempt, entry)
        self.ready.set()

    def done(self, n: int = 1) -> None:
        """``n`` taken entries are committed (or their transaction failed: the journal still has them)."""
        with self._lock:
            self._taken -= n
            if self._size >= COMPACT_BYTES and not self._pending and not self._taken:
                self._truncate()

    def holds(self, attempt: int) -> bool:
        """Whether the attempt's start is here and not in the store yet: a render younger than the defer."""
        with self._lock:
            return attempt in self._pending

    def pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _truncate(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
        else:
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            except OSError:
                pass
        self._size = 0
