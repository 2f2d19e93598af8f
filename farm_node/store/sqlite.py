"""The embedded store: one SQLite file under the data folder, in WAL mode.

A committed change survives a SIGKILL of the node. One writing connection under one lock (the coordinator is the
single writer, and SQLite serialises writers anyway); the big reads that clients ask for (the changes feed, whole
jobs) take a connection of their own from a pool and read a snapshot, so that a monitor polling the queue never holds
up a render host's report. Frame counts are cached in memory and kept up to date by each commit's deltas: this
process is the store's only writer.
"""
from __future__ import annotations

import queue
import sqlite3
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from farm_node.errors import StoreError
from farm_node.store import schema
from farm_node.store.db import Database, Txn


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.url = path
        self._conn = self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode keeps every committed transaction through a crash of the process (not of the OS).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        # Cached frame counts, job -> subjob -> status -> n. Written after commits under the store lock and read by
        # snapshot readers that do not take it, so every access holds this lock and readers get copies.
        self._counts: dict[int, dict[int, dict[str, int]]] = {}
        self._counts_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers: list[sqlite3.Connection] = []
        with self._lock:
            self._migrate()
            # The revision is the highest one stamped on a row: writing it into meta at every commit would cost
            # each frame's report a fifth more. Stores written before kept it in meta; a client that saw a
            # revision that stamped nothing (and is now above this one) is told to reload, see ``changes``.
            stamped = [int(self._meta("revision", 0))]
            for table in ("frames", "jobs", "tombstones"):
                stamped.append(self._db.execute("SELECT COALESCE(MAX(rev), 0) FROM %s" % table).fetchone()[0])
            self.revision = max(stamped)
            self.floor = int(self._meta("floor", 0))

    def _migrate(self) -> None:
        """Apply the migrations this store lacks, in one transaction; refuse a store of a newer schema."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                       " applied REAL NOT NULL)")
            done = {r[0] for r in db.execute("SELECT version FROM schema_migrations")}
            newer = sorted(v for v in done if v > schema.LATEST)
            if newer:
                raise StoreError("the store %s has schema version %d, written by a newer PyFarm; this node knows"
                                 " versions up to %d: run the newer version" % (self.path, newer[-1], schema.LATEST))
            for migration in schema.MIGRATIONS:
                version = migration[0]
                if version in done:
                    continue
                for statement in schema.ddl(migration, "sqlite"):
                    db.execute(statement)
                if version == 1:
                    self._upgrade_first_wave()
                db.execute("INSERT INTO schema_migrations VALUES (?, strftime('%s','now'))", (version,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _upgrade_first_wave(self) -> None:
        """A store made before the migrations already had migration 1's tables, maybe without its later columns."""
        for table, column, decl in schema.FIRST_WAVE_COLUMNS:
            if column not in {r[1] for r in self._db.execute("PRAGMA table_info(%s)" % table)}:
                self._db.execute("ALTER TABLE %s ADD COLUMN %s %s" % (table, column, decl))
        for index in schema.FIRST_WAVE_INDEXES:
            self._db.execute("DROP INDEX IF EXISTS %s" % index)

    def _meta(self, key: str, default: Any) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else row[0]

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()
            for db in self._all_readers:
                db.close()
            self._all_readers.clear()

    # -- writes -------------------------------------------------------------------------------------------------
    def _begin(self) -> int:
        self._db.execute("BEGIN IMMEDIATE")
        return self.revision + 1

    def _after_commit(self, txn: Txn) -> None:
        with self._counts_lock:
            for job_id in txn.jobs_touched:
                self._counts.pop(job_id, None)
            # Keep the cached counts of a job whose frames only changed status: recounting a 100,000-frame job
            # after every frame would make each changes answer cost a scan of the job.
            for job_id, subjob_id, status, n in txn.deltas():
                cached = self._counts.get(job_id)
                if cached is None:
                    continue
                counts = cached.setdefault(subjob_id, {})
                counts[status] = counts.get(status, 0) + n
                if not counts[status]:
                    del counts[status]

    # -- reads --------------------------------------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on a pooled connection of its own (WAL lets it read while the writer commits)."""
        try:
            db = self._readers.get_nowait()
        except queue.Empty:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA query_only=ON")
            with self._lock:
                self._all_readers.append(db)
        try:
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")
        finally:
            self._readers.put(db)

    @contextmanager
    def export_snapshot(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for a long read: the pool's stay free for the monitors meanwhile."""
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("BEGIN")
            yield db
            db.execute("COMMIT")
        finally:
            db.close()

    def counts_are_cached(self, job_id: int) -> bool:
        return job_id in self._counts

    def counts(self, job_id: int, db: Any = None) -> dict[int, dict[str, int]]:
        with self._counts_lock:
            cached = self._counts.get(job_id)
            if cached is not None:
                return {sid: dict(c) for sid, c in cached.items()}
        with self.read() as conn:
            with self._counts_lock:
                cached = self._counts.get(job_id)
                if cached is not None:
                    return {sid: dict(c) for sid, c in cached.items()}
            per: dict[int, dict[str, int]] = {}
            for sid in conn.execute("SELECT id FROM subjobs WHERE job_id=?", (job_id,)):
                per[sid[0]] = {}
            for sid, status, n in conn.execute("SELECT subjob_id, status, COUNT(*) FROM frames WHERE job_id=?"
                                               " GROUP BY subjob_id, status", (job_id,)):
                per.setdefault(sid, {})[status] = n
            if self._txn is None:  # counts seen inside a transaction may yet be rolled back
                with self._counts_lock:
                    self._counts[job_id] = {sid: dict(c) for sid, c in per.items()}
            return per
