"""The node's store: the only package that speaks SQL.

    Store          the embedded store (SQLite, sqlite.py): jobs and hosts (jobs.py), frames and attempts (frames.py)
                   over the shared transaction machinery (db.py); ``store.reader`` is its QueueReader
    PostgresStore  the same on PostgreSQL (pg.py), for a farm of several coordinators
    open_store     the one the configuration names (``--store``)
    QueueReader    snapshot reads of the queue as job dictionaries (views.py), for the HTTP layer and backups
    Txn            a write transaction (``with store.write() as txn``)
    FrameRow, JobRow, AttemptRow, RunningAttempt, RunnableJob, HostRow   typed rows (rows.py)
"""
from __future__ import annotations

import os

from farm_node.store.db import Txn
from farm_node.store.farm import FarmHost, FarmMixin
from farm_node.store.frames import FramesMixin
from farm_node.store.jobs import JobsMixin
from farm_node.store.rows import AttemptRow, FrameRow, HostRow, JobRow, RunnableJob, RunningAttempt, frame_dict
from farm_node.store.schema import LATEST as SCHEMA_VERSION
from farm_node.store.sqlite import SqliteDatabase
from farm_node.store.views import QueueReader

__all__ = ["Store", "PostgresStore", "open_store", "QueueReader", "Txn", "FrameRow", "JobRow", "AttemptRow",
           "RunningAttempt", "RunnableJob", "HostRow", "FarmHost", "frame_dict", "SCHEMA_VERSION"]


class Store(JobsMixin, FramesMixin, FarmMixin, SqliteDatabase):
    """The embedded store: ``Store(path)`` opens (or makes) the SQLite file at ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.reader = QueueReader(self)


def postgres_store(url: str) -> "JobsMixin":
    """The store in the PostgreSQL database at ``url`` (psycopg is imported only for such a store)."""
    from farm_node.store.pg import PostgresDatabase

    class PostgresStore(JobsMixin, FramesMixin, FarmMixin, PostgresDatabase):
        def __init__(self, url: str) -> None:
            super().__init__(url)
            self.reader = QueueReader(self)

    return PostgresStore(url)


PostgresStore = postgres_store


def open_store(url: str, data_dir: str) -> "JobsMixin":
    """The store ``--store`` names: empty for the embedded SQLite file ``DATA_DIR/farm.sqlite``, or a
    ``postgresql://`` address."""
    if not url:
        return Store(os.path.join(data_dir, "farm.sqlite"))
    if url.startswith(("postgresql://", "postgres://")):
        return postgres_store(url)
    from farm_node.errors import ConfigError
    raise ConfigError("--store takes a postgresql://USER@HOST:PORT/DATABASE address (or nothing, for the embedded"
                      " SQLite store), not %r" % url)
