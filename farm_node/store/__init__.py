"""The node's store: the only package that speaks SQL.

    Store          one class for its callers: the database (db.py), jobs and hosts (jobs.py), frames and attempts
                   (frames.py); ``store.reader`` is its QueueReader
    QueueReader    snapshot reads of the queue as job dictionaries (views.py), for the HTTP layer and backups
    Txn            a write transaction (``with store.write() as txn``)
    FrameRow, JobRow, AttemptRow, RunningAttempt, RunnableJob, HostRow   typed rows (rows.py)
"""
from __future__ import annotations

from farm_node.store.db import Txn
from farm_node.store.frames import FramesMixin
from farm_node.store.jobs import JobsMixin
from farm_node.store.rows import AttemptRow, FrameRow, HostRow, JobRow, RunnableJob, RunningAttempt, frame_dict
from farm_node.store.schema import LATEST as SCHEMA_VERSION
from farm_node.store.views import QueueReader

__all__ = ["Store", "QueueReader", "Txn", "FrameRow", "JobRow", "AttemptRow", "RunningAttempt", "RunnableJob",
           "HostRow", "frame_dict", "SCHEMA_VERSION"]


class Store(JobsMixin, FramesMixin):
    """The store of one node: ``Store(path)`` opens (or makes) the SQLite file at ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.reader = QueueReader(self)
