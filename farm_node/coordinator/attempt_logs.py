"""The log files of the attempts being rendered: one open file each, its 64 KiB tail, and the coordinator's notes."""
from __future__ import annotations

import logging
import os
import threading
from typing import Any

from farm_node.files import open_private, private_dir
from farm_node.store.health import DiskHealth, disk_full
from farm_node.wire import TAIL_BYTES

log = logging.getLogger("farm_node")

# The most a young attempt's log keeps in memory before it gets its file.
IN_MEMORY_BYTES = 64 * 1024


class AttemptLog:
    """The log file of one running attempt, its 64 KiB tail, and when the tail was last saved.

    A log that cannot be written (the disk is full) stops being written, not the render: the frame renders on with
    its tail kept in memory, which says so (``broken``), and the disk's trouble goes to ``disk`` (health).
    """

    def __init__(self, path: str, cap: int, note_bytes: int = 0, disk: DiskHealth | None = None,
                 in_memory: bool = False) -> None:
        self.path = path
        self.disk = disk
        self.broken: str | None = None
        self.file: Any = None
        self.written = 0
        self.tail = bytearray()
        # A young attempt's log, kept here until it is worth a file (``spill``), or written into the store with the
        # frame's end (``Attempts.finished``): a frame of a few milliseconds does not wait on a file system to make
        # one, which on a busy disk costs more than the frame.
        self.pending: bytearray | None = None
        if in_memory and not os.path.exists(path):
            self.pending = bytearray()
        else:
            self._open_file()
        # Log bytes the render host has sent for this attempt (the file minus the coordinator's own notes): a report
        # replayed after a lost answer or a restart names its offset, and what is already here is not written again.
        self.received = max(0, self.written - note_bytes)
        self.cap = cap
        self.full = self.written >= cap
        self.progress: float | None = None
        self.saved_at = 0.0
        self.lock = threading.Lock()

    def _open_file(self) -> None:
        try:
            private_dir(os.path.dirname(self.path))
            self.file = open_private(self.path, "ab")
            self.written = self.file.tell()
        except OSError as exc:
            self._break(exc)

    def _put(self, data: bytes) -> None:
        """Add bytes at the end of the log (``self.written`` is where they start)."""
        if self.broken is not None:
            return
        if self.pending is not None:
            self.pending += data
            if len(self.pending) <= IN_MEMORY_BYTES:
                return
            data = self._take_pending()
            written = self.written
            self._open_file()
            self.written = written  # where ``data`` starts in the log, not the new file's size
            if self.broken is not None:
                return
        try:
            self.file.write(data)
            self.file.flush()
        except OSError as exc:
            self._break(exc)

    def _take_pending(self) -> bytes:
        data, self.pending = bytes(self.pending or b""), None
        return data

    def spill(self) -> None:
        """Write a log kept in memory into its file, and the rest of it there too: the attempt outlived its youth."""
        if self.pending is None:
            return
        data = self._take_pending()
        written = self.written
        self._open_file()
        self.written = written  # what the render sent, not the empty file's size
        if data:
            self._put(data)

    def send(self) -> None:
        """Write what ``_put`` left for the store (a log kept in the database); called without the log's lock."""

    def in_store(self) -> bytes | None:
        """The whole log of an attempt that never got a file, for its end's transaction (None: it has a file)."""
        return None if self.pending is None else bytes(self.pending)

    def _break(self, exc: OSError) -> None:
        self.broken = "this attempt's log could not be written past byte %d (%s); the render went on without it" % (
            self.written, exc.strerror or exc)
        log.warning("%s: %s", self.path, self.broken)
        if self.disk is not None:
            self.disk.failed("writing the log %s" % self.path, exc)
        self.tail += ("\n[pyfarm] %s\n" % self.broken).encode()
        try:
            if self.file is not None:
                self.file.close()
        except OSError:
            pass

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
        text = bytes(self.tail[-TAIL_BYTES:]).decode("utf-8", "replace")
        if self.broken is not None and self.broken not in text:
            text += "\n[pyfarm] %s\n" % self.broken  # the render's later output pushed the note out of the tail
        return text

    def close(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError as exc:  # the last bytes could not be flushed (a full disk)
                if self.broken is None:
                    self._break(exc)


class AttemptLogs:
    """The open logs by attempt id, as files under the data folder (a store shared by several coordinators keeps
    them in the database instead: db_logs.py)."""

    def __init__(self, data_dir: str, cap: int, disk: DiskHealth | None = None) -> None:
        self.data_dir = data_dir
        self.cap = cap
        # Whether the data folder's disk has room (what /api/health says): a log that cannot be written says so.
        self.disk = disk or DiskHealth(data_dir)
        self._open: dict[int, AttemptLog] = {}
        # Logs closed by a frame's end whose transaction failed (a full disk): the retry takes their tail from here.
        self._ending: dict[int, AttemptLog] = {}

    def path(self, relative: str) -> str:
        return os.path.join(self.data_dir, relative)

    def get_or_open(self, attempt_id: int, relative: str, note_bytes: int, young: bool = False) -> AttemptLog:
        """The attempt's open log; a ``young`` attempt's (one of the node's own slots whose start is not in the
        store yet) begins in memory."""
        alog = self._open.get(attempt_id)
        if alog is None:
            alog = self._open[attempt_id] = AttemptLog(self.path(relative), self.cap, note_bytes, self.disk,
                                                       in_memory=young)
        return alog

    def opened(self, attempt_id: int) -> AttemptLog | None:
        return self._open.get(attempt_id)

    def in_memory(self, attempt_id: int) -> bytes | None:
        """What a young attempt's log holds while it has no file yet (for the log route); None otherwise."""
        alog = self._open.get(attempt_id) or self._ending.get(attempt_id)
        if alog is None:
            return None
        with alog.lock:
            return alog.in_store()

    def close(self, attempt_id: int, to_file: bool = True) -> AttemptLog | None:
        """Close an attempt's log (its render is over); the closed log, if it was open, for its tail. A log still in
        memory goes to its file, unless ``to_file`` is False: the caller writes ``in_store()`` into the store."""
        alog = self._open.pop(attempt_id, None) or self._ending.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                if to_file:
                    alog.spill()
                alog.close()
        return alog

    def keep_ended(self, attempt_id: int, alog: AttemptLog | None) -> None:
        """A closed log whose frame end could not be written: the next try of that end finds it (its tail)."""
        if alog is not None:
            self._ending[attempt_id] = alog

    def note(self, attempt_id: int, relative: str | None, text: str) -> int:
        """Write a line of the coordinator's own into the attempt's log (why it ended, why it goes on), closing the
        log if it is open; returns the bytes written (0 if the file cannot be written)."""
        line = ("\n[pyfarm] %s\n" % text).encode()
        alog = self._open.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                alog.spill()
                alog._put(line)
                written = alog.broken is None
                if written:
                    alog.written += len(line)
                alog.close()
            return len(line) if written else 0
        if relative is None:
            return 0
        path = self.path(relative)
        try:
            private_dir(os.path.dirname(path))
            with open_private(path, "ab") as f:
                f.write(line)
        except OSError as exc:
            log.warning("cannot write to the log %s: %s", path, exc)
            if disk_full(exc):
                self.disk.failed("writing the log %s" % path, exc)
            return 0
        return len(line)

    def remove(self, relative_paths: list[str]) -> None:
        for p in relative_paths:
            try:
                os.remove(self.path(p))
            except OSError:
                pass
