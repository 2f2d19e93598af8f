"""The log files of the attempts being rendered: one open file each, its 64 KiB tail, and the coordinator's notes."""
from __future__ import annotations

import logging
import os
import threading

from farm_node.wire import TAIL_BYTES

log = logging.getLogger("farm_node")


class AttemptLog:
    """The log file of one running attempt, its 64 KiB tail, and when the tail was last saved."""

    def __init__(self, path: str, cap: int, note_bytes: int = 0) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.file = open(path, "ab")
        self.written = self.file.tell()
        # Log bytes the render host has sent for this attempt (the file minus the coordinator's own notes): a report
        # replayed after a lost answer or a restart names its offset, and what is already here is not written again.
        self.received = max(0, self.written - note_bytes)
        self.cap = cap
        self.full = self.written >= cap
        self.tail = bytearray()
        self.progress: float | None = None
        self.saved_at = 0.0
        self.lock = threading.Lock()

    def _put(self, data: bytes) -> None:
        """Add bytes at the end of the log (``self.written`` is where they start)."""
        self.file.write(data)
        self.file.flush()

    def write(self, data: bytes) -> bool:
        if data and not self.full:
            room = self.cap - self.written
            if len(data) >= room:
                note = ("\n[pyfarm] log truncated: this attempt's log keeps its first %d bytes; the process keeps"
                        " running and the frame's stdout still shows its last 64 KiB\n" % self.cap).encode()
                self._put(data[:room] + note)
                self.written = self.cap
                self.full = True
            else:
                self._put(data)
                self.written += len(data)
        if data:
            self.tail += data
            if len(self.tail) > 2 * TAIL_BYTES:
                del self.tail[:-TAIL_BYTES]
        return not self.full

    def set_tail(self, tail: bytes) -> None:
        self.tail = bytearray(tail[-TAIL_BYTES:])

    def text(self) -> str:
        return bytes(self.tail[-TAIL_BYTES:]).decode("utf-8", "replace")

    def close(self) -> None:
        self.file.close()


class AttemptLogs:
    """The open logs by attempt id, as files under the data folder (a store shared by several coordinators keeps
    them in the database instead: db_logs.py)."""

    def __init__(self, data_dir: str, cap: int) -> None:
        self.data_dir = data_dir
        self.cap = cap
        self._open: dict[int, AttemptLog] = {}

    def path(self, relative: str) -> str:
        return os.path.join(self.data_dir, relative)

    def get_or_open(self, attempt_id: int, relative: str, note_bytes: int) -> AttemptLog:
        alog = self._open.get(attempt_id)
        if alog is None:
            alog = self._open[attempt_id] = AttemptLog(self.path(relative), self.cap, note_bytes)
        return alog

    def close(self, attempt_id: int) -> AttemptLog | None:
        """Close an attempt's log (its render is over); the closed log, if it was open, for its tail."""
        alog = self._open.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                alog.close()
        return alog

    def note(self, attempt_id: int, relative: str | None, text: str) -> int:
        """Write a line of the coordinator's own into the attempt's log (why it ended, why it goes on), closing the
        log if it is open; returns the bytes written (0 if the file cannot be written)."""
        line = ("\n[pyfarm] %s\n" % text).encode()
        alog = self._open.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                alog._put(line)
                alog.written += len(line)
                alog.close()
            return len(line)
        if relative is None:
            return 0
        path = self.path(relative)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "ab") as f:
                f.write(line)
        except OSError as exc:
            log.warning("cannot write to the log %s: %s", path, exc)
            return 0
        return len(line)

    def remove(self, relative_paths: list[str]) -> None:
        for p in relative_paths:
            try:
                os.remove(self.path(p))
            except OSError:
                pass
