"""The worker's reports on disk, in the order they were made, until the coordinator has taken them.

While the coordinator cannot be reached the reports wait here, and a restart of the worker keeps them; they are
replayed in order when it answers again. A half-written last line (the worker died writing it) is dropped on start.
"""
from __future__ import annotations

import collections
import json
import os
import threading
from typing import Any

from farm_node.files import read_int, write_int
from farm_node.wire import ENDS

# A batch of reports sent at once: at most this many records, or about this many bytes of them.
BATCH_RECORDS = 500
BATCH_BYTES = 4 * 1024 * 1024


class Spool:
    """The worker's reports on disk, in the order they were made, until the coordinator has taken them.

    ``spool.jsonl`` holds one JSON record a line; ``spool.pos`` the offset up to which the coordinator answered. When
    everything is delivered the file is emptied.
    """

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, "spool.jsonl")
        self._pos_path = os.path.join(folder, "spool.pos")
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self._pending: collections.deque[tuple[int, int]] = collections.deque()
        self._counts: collections.Counter[int] = collections.Counter()
        self._ended: set[int] = set()
        self._file = open(self.path, "ab")
        self._size = self._file.tell()
        self._pos = read_int(self._pos_path)
        if self._pos > self._size:
            self._pos = 0  # the file was emptied after everything was delivered; the offset was not yet rewritten
        offset = self._pos
        with open(self.path, "rb") as f:
            f.seek(offset)
            for line in f:
                try:
                    record = json.loads(line) if line.endswith(b"\n") else None
                except ValueError:
                    record = None
                if record is None:
                    break  # a line half written when the worker died: that report was never made
                offset += len(line)
                self._track(offset, record)
        if offset < self._size:
            os.ftruncate(self._file.fileno(), offset)
            self._size = offset
        if self._pending:
            self.ready.set()

    def _track(self, end: int, record: dict[str, Any]) -> None:
        attempt = record.get("attempt")
        self._pending.append((end, attempt))
        self._counts[attempt] += 1
        if record.get("type") in ENDS:
            self._ended.add(attempt)

    def append(self, record: dict[str, Any], sync: bool = False) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self._file.write(line)
            self._file.flush()
            if sync:
                os.fsync(self._file.fileno())
            self._size += len(line)
            self._track(self._size, record)
        self.ready.set()

    def batch(self) -> list[tuple[dict[str, Any], int]]:
        """The next records not yet delivered, each with the offset just after it."""
        out: list[tuple[dict[str, Any], int]] = []
        with self._lock:
            if not self._pending:
                return out
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                offset, size = self._pos, 0
                while offset < self._size and len(out) < BATCH_RECORDS and size < BATCH_BYTES:
                    line = f.readline()
                    if not line:
                        break
                    offset += len(line)
                    size += len(line)
                    out.append((json.loads(line), offset))
        return out

    def ack(self, end: int) -> None:
        """The coordinator answered every record up to ``end``."""
        with self._lock:
            self._pos = end
            while self._pending and self._pending[0][0] <= end:
                _, attempt = self._pending.popleft()
                self._counts[attempt] -= 1
                if not self._counts[attempt]:
                    del self._counts[attempt]
                    self._ended.discard(attempt)
            if self._pos >= self._size:
                os.ftruncate(self._file.fileno(), 0)
                self._size = self._pos = 0
            write_int(self._pos_path, self._pos)

    def attempts(self) -> set[int]:
        """Attempts with reports still to deliver."""
        with self._lock:
            return set(self._counts)

    def ended(self, attempt: int) -> bool:
        with self._lock:
            return attempt in self._ended

    def empty(self) -> bool:
        with self._lock:
            return not self._pending

    def close(self) -> None:
        with self._lock:
            self._file.close()
