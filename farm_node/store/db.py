"""The store's database: one SQLite file, its transactions, its revision, its snapshot readers, its cached counts.

One file under the data folder, in WAL mode: a committed change survives a SIGKILL of the node. Every change bumps
one revision counter and stamps the rows it touched with it, which is what the changes feed reads. One writing
connection under one lock (the coordinator is the single writer, and SQLite serialises writers anyway); the big reads
that clients ask for (the changes feed, whole jobs) take a connection of their own from a pool and read a snapshot,
so that a monitor polling the queue never holds up a render host's report.
"""
from __future__ import annotations

import queue
import sqlite3
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from farm_node.errors import StoreError
from farm_node.store import schema

_UPDATE_SQL: dict[tuple, str] = {}


def update_sql(table: str, columns: tuple[str, ...], extra: str = "") -> str:
    """``UPDATE table SET a=?, b=?{extra} WHERE id=?``, made once per set of columns (they come from code, not
    from input)."""
    key = (table, columns, extra)
    sql = _UPDATE_SQL.get(key)
    if sql is None:
        sql = _UPDATE_SQL[key] = "UPDATE %s SET %s%s WHERE id=?" % (table, ", ".join("%s=?" % c for c in columns),
                                                                     extra)
    return sql


class Txn:
    """One write transaction; ``rev`` is the revision its changes are stamped with."""

    def __init__(self, db: sqlite3.Connection, rev: int) -> None:
        self.rev = rev
        self.db = db
        # Jobs whose cached frame counts must be recounted after this transaction (new, restored, deleted)...
        self.jobs_touched: set[int] = set()
        # ...and, for status changes of single frames, the count changes themselves: job -> subjob -> status -> n.
        self.count_deltas: dict[int, dict[int, dict[str, int]]] = {}

    def count_status_change(self, job_id: int, subjob_id: int, old: str, new: str) -> None:
        if old != new:
            per = self.count_deltas.setdefault(job_id, {}).setdefault(subjob_id, {})
            per[old] = per.get(old, 0) - 1
            per[new] = per.get(new, 0) + 1


class Database:
    """The connection, the transaction machinery and the caches every part of the store shares."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode keeps every committed transaction through a crash of the process (not of the OS).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._lock = threading.RLock()
        self._listeners: list[Callable[[int], None]] = []
        # Cached frame counts, job -> subjob -> status -> n. Written after commits under the store lock and read by
        # snapshot readers that do not take it, so every access holds this lock and readers get copies.
        self._counts: dict[int, dict[int, dict[str, int]]] = {}
        self._counts_lock = threading.Lock()
        self.closed = False
        self._txn: Txn | None = None  # the write transaction open now (only its thread can see it: the lock)
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
            for version, sql in schema.MIGRATIONS:
                if version in done:
                    continue
                for statement in schema.ddl(sql, "sqlite"):
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

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()
            for db in self._all_readers:
                db.close()
            self._all_readers.clear()

    def _meta(self, key: str, default: Any) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else row[0]

    def on_change(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(revision)`` after every committed change (from the committing thread)."""
        self._listeners.append(listener)

    @property
    def in_transaction(self) -> bool:
        return self._txn is not None

    @contextmanager
    def write(self) -> Iterator[Txn]:
        """A write transaction. Inside another one of the same thread it is a savepoint of that one: its changes
        commit with the outer transaction, and an exception undoes only its own."""
        with self._lock:
            outer = self._txn
            if outer is not None:
                with self._savepoint(outer):
                    yield outer
                return
            self._db.execute("BEGIN IMMEDIATE")
            txn = self._txn = Txn(self._db, self.revision + 1)
            try:
                yield txn
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._txn = None
            self._apply_counts(txn)
            # Set last: a snapshot reader that sees this revision also sees its rows and its counts.
            self.revision = txn.rev
        for listener in self._listeners:
            listener(txn.rev)

    def _apply_counts(self, txn: Txn) -> None:
        with self._counts_lock:
            for job_id in txn.jobs_touched:
                self._counts.pop(job_id, None)
            # Keep the cached counts of a job whose frames only changed status: recounting a 100,000-frame job
            # after every frame would make each changes answer cost a scan of the job.
            for job_id, per in txn.count_deltas.items():
                cached = self._counts.get(job_id)
                if cached is None:
                    continue
                for subjob_id, delta in per.items():
                    counts = cached.setdefault(subjob_id, {})
                    for status, n in delta.items():
                        counts[status] = counts.get(status, 0) + n
                        if not counts[status]:
                            del counts[status]

    @contextmanager
    def _savepoint(self, txn: Txn) -> Iterator[None]:
        deltas = {j: {sid: dict(c) for sid, c in per.items()} for j, per in txn.count_deltas.items()}
        touched = set(txn.jobs_touched)
        self._db.execute("SAVEPOINT inner")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO inner")
            self._db.execute("RELEASE inner")
            txn.count_deltas, txn.jobs_touched = deltas, touched
            raise
        self._db.execute("RELEASE inner")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The writer's connection, for small reads that must see the store as it is now (inside a write, too)."""
        with self._lock:
            yield self._db

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on a pooled connection of its own: a fixed view of the store (WAL lets it read while
        the writer commits), taken without the store lock."""
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

    def counts_are_cached(self, job_id: int) -> bool:
        return job_id in self._counts

    def counts(self, job_id: int) -> dict[int, dict[str, int]]:
        """Per subjob id, how many frames are in each status (cached until a write touches the job); a copy."""
        with self._counts_lock:
            cached = self._counts.get(job_id)
            if cached is not None:
                return {sid: dict(c) for sid, c in cached.items()}
        with self.read() as db:
            with self._counts_lock:
                cached = self._counts.get(job_id)
                if cached is not None:
                    return {sid: dict(c) for sid, c in cached.items()}
            per: dict[int, dict[str, int]] = {}
            for sid in db.execute("SELECT id FROM subjobs WHERE job_id=?", (job_id,)):
                per[sid[0]] = {}
            for sid, status, n in db.execute("SELECT subjob_id, status, COUNT(*) FROM frames WHERE job_id=?"
                                             " GROUP BY subjob_id, status", (job_id,)):
                per.setdefault(sid, {})[status] = n
            if self._txn is None:  # counts seen inside a transaction may yet be rolled back
                with self._counts_lock:
                    self._counts[job_id] = {sid: dict(c) for sid, c in per.items()}
            return per
