"""The queue saved as XML and brought back: on demand (API, command line) and by itself (rolling backups).

The XML itself is ``queue_xml``'s business; this module connects it to the store, streaming both ways so that a
100,000-frame queue never sits in memory as one tree. A restore reads the file twice: once to check all of it (and
learn the job names), once inside a single transaction to insert it, so a file that is wrong anywhere changes nothing.
"""
from __future__ import annotations

import asyncio
import glob
import logging
import os
import time
from typing import Any, Iterator

from farm_node import queue_xml
from farm_node.errors import Conflict, QueueXMLError
from farm_node.jobspec import check_frame_fields, check_job_fields, check_name
from farm_node.store import QueueReader

log = logging.getLogger("farm_node")

BACKUP_PATTERN = "queue-%Y%m%d-%H%M%S.xml"


def export_chunks(reader: QueueReader, job: str | None = None) -> Iterator[bytes]:
    """The queue (or one job) as XML, in chunks, read from a snapshot of the store."""
    return queue_xml.iter_dump_queue(reader.iter_jobs_for_export(job), created=time.time())


def write_backup(reader: QueueReader, path: str, job: str | None = None) -> dict[str, int]:
    """Write the queue to ``path`` atomically: a crash leaves the previous file whole."""
    return queue_xml.atomic_write_queue(path, reader.iter_jobs_for_export(job), created=time.time())


class _Peek:
    def __init__(self, it: Iterator) -> None:
        self._it = it
        self._next: Any = None
        self._has = False

    def peek(self) -> Any:
        if not self._has:
            self._next = next(self._it, None)
            self._has = True
        return self._next

    def take(self) -> Any:
        item = self.peek()
        self._has = False
        return item


def _nested(records: Iterator) -> Iterator[tuple[str, dict, Iterator]]:
    """Flat records to ``(job name, job fields, subjobs)`` whose subjobs' frames are read as they are consumed."""
    it = _Peek(records)

    def frames() -> Iterator[tuple[int, dict]]:
        while it.peek() is not None and it.peek()[0] == "frame":
            _, number, fields = it.take()
            yield number, fields

    def subjobs() -> Iterator[tuple[str, dict]]:
        while it.peek() is not None and it.peek()[0] == "subjob":
            _, name, fields = it.take()
            yield name, dict(fields, frames=frames())
            for _ in frames():  # anything the consumer left
                pass

    while it.peek() is not None:
        kind, name, fields = it.take()
        if kind != "job":
            raise QueueXMLError("a %s outside a job in the queue file" % kind)
        yield name, fields, subjobs()


def restore(coordinator: Any, path: str, replace: bool = False) -> list[str]:
    """Bring the jobs of an XML queue file into the farm; returns their names.

    Refuses a name already on the farm unless ``replace``; frames that were rendering come back queued.
    """
    names = []
    job = subjob = None
    allow_mel = getattr(getattr(coordinator, "actions", None), "allow_mel", False)
    for kind, key, fields in queue_xml.iter_records(path):
        # The same rules as a submission: a restored job must be one the farm could have been sent.
        if kind == "job":
            job = check_name(key, key, "job")
            check_job_fields(job, fields)
            names.append(key)
        elif kind == "subjob":
            subjob = check_name("%s.subjobs.%s" % (job, key), key, "subjob")
        elif kind == "frame":
            check_frame_fields("%s.subjobs.%s.frames.%s" % (job, subjob, key), key, fields, allow_mel)
    if len(set(names)) != len(names):
        raise QueueXMLError("the queue file holds a job name twice")
    existing = set(coordinator.store.job_names())
    taken = [n for n in names if n in existing]
    if taken and not replace:
        raise Conflict("jobs already on the farm: %s (restore with replace to overwrite them)"
                       % ", ".join(repr(n) for n in taken))
    for name in taken:
        coordinator.delete(name)
    store = coordinator.store
    now = time.time()
    with store.write() as txn:
        for name, fields, subjobs in _nested(queue_xml.iter_records(path)):
            store.insert_restored(txn, name, fields, subjobs, now)
    coordinator.wake_workers()
    return names


class RollingBackups:
    """Saves the queue into DATA_DIR/backups every ``interval`` seconds, keeping the newest ``keep`` files."""

    def __init__(self, reader: QueueReader, data_dir: str, interval: float, keep: int) -> None:
        self.reader = reader
        self.folder = os.path.join(data_dir, "backups")
        self.interval = interval
        self.keep = max(1, keep)
        self._last_revision = -1

    def run_once(self, now: float | None = None) -> str | None:
        """Write one backup if the queue changed since the last one; returns its path."""
        if self.reader.revision == self._last_revision:
            return None
        revision = self.reader.revision
        os.makedirs(self.folder, exist_ok=True)
        path = os.path.join(self.folder, time.strftime(BACKUP_PATTERN, time.gmtime(now or time.time())))
        write_backup(self.reader, path)
        self._last_revision = revision
        self.prune()
        return path

    def prune(self) -> None:
        files = sorted(glob.glob(os.path.join(self.folder, "queue-*.xml")))
        # A backup killed mid-write leaves its temporary file beside the others; only this loop writes here.
        stale = glob.glob(os.path.join(self.folder, ".queue-*.tmp"))
        for old in files[:-self.keep] + stale:
            try:
                os.remove(old)
            except OSError:
                pass

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                path = await asyncio.to_thread(self.run_once)
                if path:
                    log.info("queue backed up to %s", path)
            except Exception:  # a failed backup must not stop the next one; the previous file is intact
                log.exception("automatic backup failed")
