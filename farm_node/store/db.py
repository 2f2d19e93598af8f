"""The store's database, whatever the engine: write transactions (a write inside a write is a savepoint of it), the
revision, snapshot readers, the cached frame counts and the change listeners.

Two engines implement the few things that differ (``sqlite.py``, the embedded default; ``pg.py``, PostgreSQL for a
farm of several coordinators): how a connection is made, how a write transaction begins and takes its revision,
where the frame counts live, and how a snapshot is read. Every query of the store is written once, in the SQL both
engines speak (``?`` placeholders; the PostgreSQL connection turns them into its own).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

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

    def __init__(self, db: Any, rev: int) -> None:
        self.rev = rev
        self.db = db
        # Jobs whose frame counts must be recounted after this transaction (new, restored, deleted, set-based)...
        self.jobs_touched: set[int] = set()
        # ...and, for status changes of single frames, the count changes themselves: job -> subjob -> status -> n.
        self.count_deltas: dict[int, dict[int, dict[str, int]]] = {}

    def count_status_change(self, job_id: int, subjob_id: int, old: str, new: str) -> None:
        if old != new:
            per = self.count_deltas.setdefault(job_id, {}).setdefault(subjob_id, {})
            per[old] = per.get(old, 0) - 1
            per[new] = per.get(new, 0) + 1

    def deltas(self) -> Iterator[tuple[int, int, str, int]]:
        """``(job, subjob, status, n)`` of the status changes of jobs that are not recounted anyway."""
        for job_id, per in self.count_deltas.items():
            if job_id in self.jobs_touched:
                continue
            for subjob_id, delta in per.items():
                for status, n in delta.items():
                    if n:
                        yield job_id, subjob_id, status, n


class Database:
    """The transaction machinery every engine shares. ``self._conn`` is the writing connection, used under
    ``self._lock`` (one writer per process; the engine serialises writers across processes)."""

    dialect = ""
    # Whether other coordinators may share this store (and what only then matters: hearing of their changes, one of
    # them deciding liveness, logs in the database).
    shared = False

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._listeners: list[Callable[[int], None]] = []
        self._txn: Txn | None = None  # the write transaction open now (only its thread can see it: the lock)
        self._conn: Any = None
        self.closed = False
        self.revision = 0
        self.floor = 0
        # Whether this process decides which hosts are lost (with a shared store, one coordinator of the farm does).
        self.leader = True

    # -- what an engine provides --------------------------------------------------------------------------------
    def _begin(self) -> int:
        """Begin a write transaction on ``self._conn``; its revision."""
        raise NotImplementedError

    def _before_commit(self, txn: Txn) -> None:
        """Inside the transaction, just before COMMIT."""

    def _after_commit(self, txn: Txn) -> None:
        """After COMMIT, still under the store lock."""

    def _commit(self, txn: Txn) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A read transaction of its own: a fixed view of the store, taken without the store lock."""
        raise NotImplementedError
        yield

    def counts(self, job_id: int, db: Any = None) -> dict[int, dict[str, int]]:
        """Per subjob id, how many frames are in each status; a copy. ``db``: the snapshot to read them in, for an
        engine that keeps them in the database."""
        raise NotImplementedError

    def counts_are_cached(self, job_id: int) -> bool:
        """Whether a status change of a single frame must be counted as a delta in its transaction."""
        raise NotImplementedError

    def stream(self, db: Any, sql: str, args: tuple = ()) -> Iterator[tuple]:
        """The rows of a big query, fetched a batch at a time (an export must not hold the queue in memory)."""
        cursor = db.execute(sql, args)
        while True:
            rows = cursor.fetchmany(2000)
            if not rows:
                return
            yield from rows

    @contextmanager
    def export_snapshot(self) -> Iterator[Any]:
        """A snapshot for a long read (an XML backup): by default the same as ``snapshot``."""
        with self.snapshot() as db:
            yield db

    def close(self) -> None:
        raise NotImplementedError

    def on_remote(self, kind: str, callback: Callable[[Any], None]) -> None:
        """``callback(data)`` when another coordinator sends ``kind``: none does on a store of one coordinator."""

    def broadcast(self, kind: str, data: Any = None) -> None:
        """Tell the other coordinators: nobody to tell on a store of one coordinator."""

    def start_listening(self) -> None:
        """Hear of the other coordinators' commits: none on a store of one coordinator."""

    # -- shared -------------------------------------------------------------------------------------------------
    def on_change(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(revision)`` after every committed change (from the committing thread, or for another
        process's commit from the thread that hears of it)."""
        self._listeners.append(listener)

    def _changed(self, revision: int) -> None:
        for listener in self._listeners:
            listener(revision)

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
            rev = self._begin()  # first: it may connect again (a PostgreSQL writer found broken)
            txn = self._txn = Txn(self._conn, rev)
            try:
                yield txn
                self._before_commit(txn)
                self._commit(txn)
            except BaseException:
                self._rollback()
                raise
            finally:
                self._txn = None
            self._after_commit(txn)
            # Set last: a snapshot reader that sees this revision also sees its rows and its counts.
            self.revision = max(self.revision, txn.rev)
        self._changed(txn.rev)

    @contextmanager
    def _savepoint(self, txn: Txn) -> Iterator[None]:
        deltas = {j: {sid: dict(c) for sid, c in per.items()} for j, per in txn.count_deltas.items()}
        touched = set(txn.jobs_touched)
        self._conn.execute("SAVEPOINT nested")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO SAVEPOINT nested")
            self._conn.execute("RELEASE SAVEPOINT nested")
            txn.count_deltas, txn.jobs_touched = deltas, touched
            raise
        self._conn.execute("RELEASE SAVEPOINT nested")

    @contextmanager
    def read(self) -> Iterator[Any]:
        """The writer's connection, for small reads that must see the store as it is now (inside a write, too)."""
        with self._lock:
            yield self._conn
