"""The attempts' logs in the database, for a store that several coordinators share: a log written through one
coordinator is read through any other (CONTRACT section 7), with the same per-attempt cap as a log file.

A log is the attempt's chunks in order (``log_chunks``: attempt, where the chunk starts, its bytes); the offset of a
chunk is its key, so a replayed write lands on the same key and is not kept twice.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Iterator

from farm_node.coordinator.attempt_logs import AttemptLog, AttemptLogs
from farm_node.errors import StoreError
from farm_node.wire import TAIL_BYTES


class DatabaseLog(AttemptLog):
    def __init__(self, store: Any, attempt_id: int, cap: int, note_bytes: int = 0) -> None:
        self.store = store
        self.attempt_id = attempt_id
        self.path = "db:%d" % attempt_id
        self.disk = None
        self.file = None
        self.broken: str | None = None
        self.written = store.log_size(attempt_id)
        self.received = max(0, self.written - note_bytes)
        self.cap = cap
        self.full = self.written >= cap
        self.tail = bytearray()
        self.pending = None  # in the database from the first byte
        self.unsent: list[tuple[int, bytes]] = []
        self.progress: float | None = None
        self.saved_at = 0.0
        self.lock = threading.Lock()

    def _put(self, data: bytes) -> None:
        # Under the log's lock: the chunk is only queued with its offset; ``send`` writes it without that lock, for
        # writing the store takes the store's lock, which comes before a log's (coordinator/core.py, lock order).
        if self.broken is None:
            self.unsent.append((self.written, data))

    def send(self) -> None:
        with self.lock:
            chunks, self.unsent = self.unsent, []
        for start, data in chunks:  # a chunk's offset is its key: two senders at once cannot misplace one
            try:
                self.store.append_log(self.attempt_id, start, data)
            except StoreError as exc:
                # The store went away: this log stops (the render does not), and its tail says so, as a full disk's
                # does.
                with self.lock:
                    self.broken = ("this attempt's log could not be written past byte %d (%s); the render went on"
                                   " without it" % (start, exc))
                    self.tail += ("\n[pyfarm] %s\n" % self.broken).encode()
                    self.unsent.clear()
                return

    def close(self) -> None:
        pass


class DatabaseLogs(AttemptLogs):
    def __init__(self, store: Any, data_dir: str, cap: int) -> None:
        super().__init__(data_dir, cap)
        self.store = store

    def get_or_open(self, attempt_id: int, relative: str, note_bytes: int, young: bool = False) -> AttemptLog:
        alog = self._open.get(attempt_id)
        if alog is None:
            alog = self._open[attempt_id] = DatabaseLog(self.store, attempt_id, self.cap, note_bytes)
        return alog

    def note(self, attempt_id: int, relative: str | None, text: str) -> int:
        line = ("\n[pyfarm] %s\n" % text).encode()
        alog = self._open.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                alog._put(line)
                if alog.broken is not None:
                    return 0
                alog.written += len(line)
            alog.send()
            return 0 if alog.broken is not None else len(line)
        self.store.append_log(attempt_id, self.store.log_size(attempt_id), line)
        return len(line)

    def remove(self, relative_paths: list[str]) -> None:
        pass  # the chunks went with their attempts (ON DELETE CASCADE)


class LogSource:
    """One attempt's log for the log route: its size now, and its bytes from an offset."""

    def __init__(self, size: int, chunks: Any) -> None:
        self.size = size
        self._chunks = chunks

    def chunks(self, start: int) -> Iterator[bytes]:
        return self._chunks(start, self.size)


def file_source(path: str | None) -> LogSource:
    size = os.path.getsize(path) if path and os.path.exists(path) else 0

    def chunks(start: int, end: int) -> Iterator[bytes]:
        with open(path, "rb") as f:  # type: ignore[arg-type]
            f.seek(start)
            left = end - start
            while left > 0:
                chunk = f.read(min(left, 1024 * 1024))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    return LogSource(size, chunks)


def bytes_source(data: bytes) -> LogSource:
    return LogSource(len(data), lambda start, end: iter((data[start:end],)) if end > start else iter(()))


def database_source(store: Any, attempt_id: int | None) -> LogSource:
    if attempt_id is None:
        return LogSource(0, lambda start, end: iter(()))
    return LogSource(store.log_size(attempt_id), lambda start, end: store.read_log(attempt_id, start, end))


__all__ = ["DatabaseLog", "DatabaseLogs", "LogSource", "bytes_source", "file_source", "database_source", "TAIL_BYTES"]
