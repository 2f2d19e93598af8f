"""The node's SQLite store: the only module that speaks SQL.

One file under the data folder, in WAL mode: a committed change survives a SIGKILL of the node. Every change bumps one
revision counter and stamps the rows it touched with it, which is what the changes feed reads. One writing
connection under one lock (the coordinator is the single writer, and SQLite serialises writers anyway); the big reads
that clients ask for (the changes feed, whole jobs) take a connection of their own from a pool and read a snapshot,
so that a monitor polling the queue never holds up a render host's report.
"""
from __future__ import annotations

import json
import queue
import sqlite3
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from farm_node import scheduler
from farm_node.errors import Conflict, NotFound
from farm_node.jobspec import JobSpec, split_command

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    frame_timeout REAL,
    paused INTEGER NOT NULL DEFAULT 0,
    submitted REAL NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    rev INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subjobs (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    UNIQUE (job_id, name)
);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    subjob_id INTEGER NOT NULL REFERENCES subjobs(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    host TEXT,
    pid INTEGER,
    command TEXT NOT NULL,
    argv TEXT NOT NULL,
    stdout TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    progress REAL NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    error TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    attempt_id INTEGER,
    rev INTEGER NOT NULL,
    UNIQUE (subjob_id, number)
);
CREATE INDEX IF NOT EXISTS frames_job ON frames (job_id);
CREATE INDEX IF NOT EXISTS frames_queued ON frames (job_id, number, subjob_id) WHERE status='Queued';
CREATE INDEX IF NOT EXISTS frames_rev ON frames (rev);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER,
    started REAL,
    finished REAL,
    exit_code INTEGER,
    outcome TEXT NOT NULL DEFAULT 'running',
    error TEXT,
    log_path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_frame ON attempts (frame_id);
CREATE INDEX IF NOT EXISTS attempts_live ON attempts (host) WHERE outcome='running';
CREATE TABLE IF NOT EXISTS tombstones (name TEXT NOT NULL, rev INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocklist (job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                                      host TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
                                      blocked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, host));
CREATE TABLE IF NOT EXISTS hosts (name TEXT PRIMARY KEY, slots INTEGER NOT NULL, info TEXT NOT NULL DEFAULT '{}',
                                  worker_id TEXT, last_seen REAL, lost INTEGER NOT NULL DEFAULT 0);
-- Indexes of stores written before: every status change moved a frame's entry in them, the partial indexes above
-- change only when a frame leaves the queue or an attempt ends.
DROP INDEX IF EXISTS frames_next;
DROP INDEX IF EXISTS attempts_running;
"""
# Columns added after a store file may already exist: (table, column, declaration).
_ADDED_COLUMNS = (
    # Bytes of "[pyfarm] ..." notes the coordinator wrote into an attempt's log, so that the bytes the render host
    # sent can be told from them (a replayed report must not write its log bytes twice).
    ("attempts", "note_bytes", "INTEGER NOT NULL DEFAULT 0"),
)

_FRAME_COLS = ("id, job_id, subjob_id, number, status, host, pid, command, argv, stdout, attempts, exit_code, progress,"
               " started, finished, error, extra, attempt_id")
# Keys of a frame dictionary that come straight from columns (CONTRACT section 1, docs/DESIGN.md).
_FRAME_FIELDS = ("status", "host", "pid", "command", "stdout", "argv", "attempts", "exit_code", "progress", "started",
                 "finished", "error")
# How many tombstones (deleted job names) the changes feed keeps; a client further behind is told to reload.
_TOMBSTONES_KEPT = 5000
# A changes answer with more frames than this is sent as a reload: the whole queue is cheaper to apply.
_CHANGES_LIMIT = 50000


def frame_dict(row: sqlite3.Row | tuple) -> dict[str, Any]:
    (_id, _job, _sub, _num, status, host, pid, command, argv, stdout, attempts, exit_code, progress, started,
     finished, error, extra, _att) = row
    d = {"status": status, "host": host, "pid": pid, "command": command, "stdout": stdout,
         "argv": json.loads(argv), "attempts": attempts, "exit_code": exit_code, "progress": progress,
         "started": started, "finished": finished, "error": error}
    if extra != "{}":
        for k, v in json.loads(extra).items():
            d.setdefault(k, v)
    return d


_UPDATE_SQL: dict[tuple, str] = {}


def _update_sql(table: str, columns: tuple[str, ...], extra: str = "") -> str:
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

    def __init__(self, store: "Store", rev: int) -> None:
        self.store = store
        self.rev = rev
        self.db = store._db
        # Jobs whose cached frame counts must be recounted after this transaction (new, restored, deleted)...
        self.jobs_touched: set[int] = set()
        # ...and, for status changes of single frames, the count changes themselves: job -> subjob -> status -> n.
        self.count_deltas: dict[int, dict[int, dict[str, int]]] = {}

    def count_status_change(self, job_id: int, subjob_id: int, old: str, new: str) -> None:
        if old != new:
            per = self.count_deltas.setdefault(job_id, {}).setdefault(subjob_id, {})
            per[old] = per.get(old, 0) - 1
            per[new] = per.get(new, 0) + 1


class Store:
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
            self._db.executescript(_SCHEMA)
            for table, column, decl in _ADDED_COLUMNS:
                if column not in {r[1] for r in self._db.execute("PRAGMA table_info(%s)" % table)}:
                    self._db.execute("ALTER TABLE %s ADD COLUMN %s %s" % (table, column, decl))
            # The revision is the highest one stamped on a row: writing it into meta at every commit would cost
            # each frame's report a fifth more. Stores written before kept it in meta; a client that saw a
            # revision that stamped nothing (and is now above this one) is told to reload, see ``changes``.
            stamped = [int(self._meta("revision", 0))]
            for table in ("frames", "jobs", "tombstones"):
                stamped.append(self._db.execute("SELECT COALESCE(MAX(rev), 0) FROM %s" % table).fetchone()[0])
            self.revision = max(stamped)
            self.floor = int(self._meta("floor", 0))
            if self._meta("schema", None) is None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

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
            txn = self._txn = Txn(self, self.revision + 1)
            try:
                yield txn
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._txn = None
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
            # Set last: a snapshot reader that sees this revision also sees its rows and its counts.
            self.revision = txn.rev
        for listener in self._listeners:
            listener(txn.rev)

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

    # -- jobs ---------------------------------------------------------------------------------------------------
    def insert_jobs(self, txn: Txn, specs: Iterable[JobSpec], now: float) -> list[str]:
        db = txn.db
        names = []
        for spec in specs:
            if db.execute("SELECT 1 FROM jobs WHERE name=?", (spec.name,)).fetchone():
                raise Conflict("a job named %r is already on the farm" % spec.name)
            cur = db.execute("INSERT INTO jobs (name, priority, max_attempts, frame_timeout, paused, submitted, extra,"
                             " rev) VALUES (?,?,?,?,0,?,?,?)",
                             (spec.name, spec.priority, spec.max_attempts, spec.frame_timeout, now,
                              json.dumps(spec.extra), txn.rev))
            job_id = cur.lastrowid
            for sub in spec.subjobs:
                sid = db.execute("INSERT INTO subjobs (job_id, name, extra) VALUES (?,?,?)",
                                 (job_id, sub.name, json.dumps(sub.extra))).lastrowid
                db.executemany(
                    "INSERT INTO frames (job_id, subjob_id, number, status, command, argv, extra, rev)"
                    " VALUES (?,?,?,'Queued',?,?,?,?)",
                    [(job_id, sid, f.number, f.command, json.dumps(f.argv),
                      json.dumps(f.extra) if f.extra else "{}", txn.rev) for f in sub.frames])
            txn.jobs_touched.add(job_id)
            names.append(spec.name)
        return names

    def insert_restored(self, txn: Txn, name: str, job: dict[str, Any], subjobs: Iterable[tuple[str, dict]],
                        now: float) -> None:
        """Insert one job read back from an XML backup, keeping each frame's recorded state.

        ``subjobs`` yields ``(name, subjob)`` whose ``frames`` yields ``(number, frame)``; frames that were rendering
        come back queued (their process is gone), with the attempt the interruption took given back.
        """
        db = txn.db
        extra = {k: v for k, v in job.items() if k not in ("status", "frames", "subjobs", "priority", "max_attempts",
                                                             "frame_timeout", "paused", "submitted")}
        job_id = db.execute("INSERT INTO jobs (name, priority, max_attempts, frame_timeout, paused, submitted, extra,"
                            " rev) VALUES (?,?,?,?,?,?,?,?)",
                            (name, job.get("priority", 50), job.get("max_attempts", 3), job.get("frame_timeout"),
                             1 if job.get("paused") else 0, job.get("submitted") or now, json.dumps(extra),
                             txn.rev)).lastrowid
        for sname, sub in subjobs:
            sextra = {k: v for k, v in sub.items() if k not in ("status", "complete", "total", "failed", "frames")}
            sid = db.execute("INSERT INTO subjobs (job_id, name, extra) VALUES (?,?,?)",
                             (job_id, sname, json.dumps(sextra))).lastrowid
            rows = []
            for number, f in sub.get("frames", ()):
                status = f.get("status") or scheduler.QUEUED
                attempts = int(f.get("attempts") or 0)
                if status == scheduler.RENDERING:
                    status, attempts = scheduler.QUEUED, max(0, attempts - 1)
                fextra = {k: v for k, v in f.items() if k not in _FRAME_FIELDS}
                command = f.get("command") or ""
                argv = f.get("argv") or split_command("%s.subjobs.%s.frames.%s.command" % (name, sname, number),
                                                      command)
                rows.append((job_id, sid, int(number), status, f.get("host"), f.get("pid"), command,
                             json.dumps(argv), f.get("stdout") or "", attempts, f.get("exit_code"),
                             f.get("progress") or 0, f.get("started"), f.get("finished"), f.get("error"),
                             json.dumps(fextra) if fextra else "{}", txn.rev))
                if len(rows) >= 5000:
                    self._insert_frame_rows(db, rows)
                    rows = []
            self._insert_frame_rows(db, rows)
        txn.jobs_touched.add(job_id)

    @staticmethod
    def _insert_frame_rows(db: sqlite3.Connection, rows: list) -> None:
        if rows:
            db.executemany("INSERT INTO frames (job_id, subjob_id, number, status, host, pid, command, argv, stdout,"
                           " attempts, exit_code, progress, started, finished, error, extra, rev)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def job_row(self, name: str) -> sqlite3.Row:
        with self.read() as db:
            db.row_factory = sqlite3.Row
            try:
                row = db.execute("SELECT * FROM jobs WHERE name=?", (name,)).fetchone()
            finally:
                db.row_factory = None
        if row is None:
            raise NotFound("no job named %r on this farm" % name)
        return row

    def job_names(self) -> list[str]:
        with self.read() as db:
            return [r[0] for r in db.execute("SELECT name FROM jobs ORDER BY id")]

    def set_paused(self, txn: Txn, job_id: int, paused: bool) -> None:
        txn.db.execute("UPDATE jobs SET paused=?, rev=? WHERE id=?", (1 if paused else 0, txn.rev, job_id))
        txn.jobs_touched.add(job_id)

    def delete_job(self, txn: Txn, job_id: int, name: str) -> None:
        txn.db.execute("DELETE FROM jobs WHERE id=?", (job_id,))
        txn.db.execute("INSERT INTO tombstones VALUES (?, ?)", (name, txn.rev))
        txn.jobs_touched.add(job_id)
        count = txn.db.execute("SELECT COUNT(*) FROM tombstones").fetchone()[0]
        if count > _TOMBSTONES_KEPT:
            cut = txn.db.execute("SELECT rev FROM tombstones ORDER BY rev DESC LIMIT 1 OFFSET ?",
                                 (_TOMBSTONES_KEPT,)).fetchone()[0]
            txn.db.execute("DELETE FROM tombstones WHERE rev<=?", (cut,))
            txn.db.execute("INSERT OR REPLACE INTO meta VALUES ('floor', ?)", (cut,))
            self.floor = cut

    # -- frames -------------------------------------------------------------------------------------------------
    def frames_where(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.read() as db:
            return db.execute("SELECT %s FROM frames WHERE %s" % (_FRAME_COLS, sql), args).fetchall()

    def frame_row(self, job_id: int, subjob: str, number: int) -> tuple:
        with self.read() as db:
            row = db.execute("SELECT %s FROM frames WHERE job_id=? AND number=? AND subjob_id="
                             "(SELECT id FROM subjobs WHERE job_id=? AND name=?)"
                             % _FRAME_COLS,
                             (job_id, number, job_id, subjob)).fetchone()
        if row is None:
            raise NotFound("no frame %s of subjob %r in this job" % (number, subjob))
        return row

    def update_frames(self, txn: Txn, job_id: int, frame_ids: Iterable[int], old_status: str | None = None,
                      subjob_id: int | None = None, **fields: Any) -> int:
        """Set ``fields`` on the frames and stamp them with this revision.

        ``old_status`` and ``subjob_id``, when the caller knows them for a single frame, save reading them back.
        """
        ids = list(frame_ids)
        if not ids:
            return 0
        if old_status is not None and subjob_id is not None and len(ids) == 1 and "argv" not in fields:
            if "status" in fields and job_id in self._counts:
                txn.count_status_change(job_id, subjob_id, old_status, fields["status"])
            return txn.db.execute(_update_sql("frames", tuple(fields), ", rev=?"),
                                  (*fields.values(), txn.rev, ids[0])).rowcount
        cols = ", ".join("%s=?" % k for k in fields)
        values = [json.dumps(v) if k == "argv" else v for k, v in fields.items()]
        new_status = fields.get("status")
        n = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            if new_status is not None and job_id in self._counts:
                for subjob_id, old in txn.db.execute("SELECT subjob_id, status FROM frames WHERE id IN (%s)"
                                                     % ",".join("?" * len(chunk)), chunk):
                    txn.count_status_change(job_id, subjob_id, old, new_status)
            n += txn.db.execute("UPDATE frames SET %s, rev=? WHERE id IN (%s)" % (cols, ",".join("?" * len(chunk))),
                                (*values, txn.rev, *chunk)).rowcount
        return n

    def queued_frames(self, job_id: int, limit: int) -> list[tuple]:
        with self.read() as db:
            return db.execute("SELECT %s FROM frames WHERE job_id=? AND status='Queued' ORDER BY number, subjob_id"
                              " LIMIT ?" % _FRAME_COLS, (job_id, limit)).fetchall()

    def runnable_jobs(self, host: str | None = None) -> list[dict[str, Any]]:
        """Unpaused jobs that have queued frames (and that have not blocklisted ``host``), with what the scheduler
        orders them by."""
        sql = ("SELECT id, name, priority, frame_timeout, max_attempts FROM jobs j WHERE paused=0 AND"
               " EXISTS (SELECT 1 FROM frames f WHERE f.job_id=j.id AND f.status='Queued')")
        args: tuple = ()
        if host is not None:
            sql += " AND id NOT IN (SELECT job_id FROM blocklist WHERE host=? AND blocked=1)"
            args = (host,)
        with self.read() as db:
            rows = db.execute(sql, args).fetchall()
        return [{"id": r[0], "name": r[1], "priority": r[2], "frame_timeout": r[3], "max_attempts": r[4]}
                for r in rows]

    def subjob_id(self, job_id: int, name: str) -> int | None:
        with self.read() as db:
            row = db.execute("SELECT id FROM subjobs WHERE job_id=? AND name=?", (job_id, name)).fetchone()
        return None if row is None else row[0]

    def subjob_name(self, subjob_id: int) -> str:
        with self.read() as db:
            return db.execute("SELECT name FROM subjobs WHERE id=?", (subjob_id,)).fetchone()[0]

    def frame_attempts(self, frame_id: int) -> tuple[int, int]:
        """The attempts a frame has used and its job's ``max_attempts``."""
        with self.read() as db:
            return db.execute("SELECT f.attempts, j.max_attempts FROM frames f JOIN jobs j ON j.id=f.job_id"
                              " WHERE f.id=?", (frame_id,)).fetchone()

    # -- attempts -----------------------------------------------------------------------------------------------
    def attempt_count(self, frame_id: int) -> int:
        """Attempts ever made at a frame (a retry resets the frame's ``attempts``, not this: log names stay unique)."""
        with self.read() as db:
            return db.execute("SELECT COUNT(*) FROM attempts WHERE frame_id=?", (frame_id,)).fetchone()[0]

    def new_attempt(self, txn: Txn, frame_id: int, number: int, host: str, now: float, log_path: str) -> int:
        return txn.db.execute("INSERT INTO attempts (frame_id, number, host, started, log_path) VALUES (?,?,?,?,?)",
                              (frame_id, number, host, now, log_path)).lastrowid

    def attempt(self, attempt_id: int) -> dict[str, Any] | None:
        with self.read() as db:
            row = db.execute("SELECT a.id, a.frame_id, a.number, a.host, a.pid, a.outcome, a.log_path, f.attempt_id,"
                             " f.job_id, f.status, f.attempts, j.max_attempts, a.started, a.note_bytes, f.subjob_id"
                             " FROM attempts a JOIN frames f ON f.id=a.frame_id JOIN jobs j ON j.id=f.job_id"
                             " WHERE a.id=?",
                             (attempt_id,)).fetchone()
        if row is None:
            return None
        keys = ("id", "frame_id", "number", "host", "pid", "outcome", "log_path", "current", "job_id",
                "frame_status", "attempts", "max_attempts", "started", "note_bytes", "subjob_id")
        return dict(zip(keys, row))

    def update_attempt(self, txn: Txn, attempt_id: int, **fields: Any) -> None:
        txn.db.execute(_update_sql("attempts", tuple(fields)), (*fields.values(), attempt_id))

    def frame_state(self, txn: Txn, frame_id: int) -> tuple[int | None, str] | None:
        """A frame's current attempt and status as this transaction sees them."""
        return txn.db.execute("SELECT attempt_id, status FROM frames WHERE id=?", (frame_id,)).fetchone()

    def record_start(self, txn: Txn, attempt_id: int, pid: int, started: float) -> None:
        """A started report written late (the node's own slots): the attempt gets its pid, and its frame the pid,
        host and start time while the attempt is still the frame's current one."""
        db = txn.db
        db.execute("UPDATE attempts SET pid=? WHERE id=? AND pid IS NULL", (pid, attempt_id))
        db.execute("UPDATE frames SET host=(SELECT host FROM attempts WHERE id=?), pid=?, started=?, rev=?"
                   " WHERE id=(SELECT frame_id FROM attempts WHERE id=?) AND attempt_id=?",
                   (attempt_id, pid, started, txn.rev, attempt_id, attempt_id))

    def add_note_bytes(self, txn: Txn, attempt_id: int, n: int) -> None:
        txn.db.execute("UPDATE attempts SET note_bytes=note_bytes+? WHERE id=?", (n, attempt_id))

    def latest_attempt(self, frame_id: int) -> int | None:
        with self.read() as db:
            return db.execute("SELECT MAX(id) FROM attempts WHERE frame_id=?", (frame_id,)).fetchone()[0]

    def retire_lost_attempts(self, txn: Txn, frame_ids: Iterable[int]) -> None:
        """Lost attempts of these frames may no longer come back (a user retried the frames)."""
        ids = list(frame_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            txn.db.execute("UPDATE attempts SET outcome='retired' WHERE outcome='lost' AND frame_id IN (%s)"
                           % ",".join("?" * len(chunk)), chunk)

    def running_attempts(self, host: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT a.id, a.frame_id, a.host, a.pid, a.started, f.job_id, a.log_path FROM attempts a"
               " JOIN frames f ON f.id=a.frame_id AND f.attempt_id=a.id WHERE a.outcome='running'")
        args: tuple = ()
        if host is not None:
            sql += " AND a.host=?"
            args = (host,)
        with self.read() as db:
            rows = db.execute(sql, args).fetchall()
        keys = ("id", "frame_id", "host", "pid", "started", "job_id", "log_path")
        return [dict(zip(keys, r)) for r in rows]

    def attempt_logs(self, frame_id: int) -> list[tuple[int, str]]:
        with self.read() as db:
            return db.execute("SELECT number, log_path FROM attempts WHERE frame_id=? ORDER BY number",
                              (frame_id,)).fetchall()

    def job_log_paths(self, job_id: int) -> list[str]:
        with self.read() as db:
            return [r[0] for r in db.execute("SELECT a.log_path FROM attempts a JOIN frames f ON f.id=a.frame_id"
                                             " WHERE f.job_id=?", (job_id,))]

    # -- render hosts -------------------------------------------------------------------------------------------
    def save_host(self, name: str, slots: int, info: dict[str, Any], worker_id: str | None, last_seen: float,
                  lost: bool) -> None:
        """Remember a remote render host across restarts (not a change of the queue: no revision)."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO hosts VALUES (?,?,?,?,?,?)",
                             (name, slots, json.dumps(info), worker_id, last_seen, 1 if lost else 0))

    def hosts(self) -> list[dict[str, Any]]:
        with self.read() as db:
            rows = db.execute("SELECT name, slots, info, worker_id, last_seen, lost FROM hosts ORDER BY name"
                              ).fetchall()
        return [{"name": r[0], "slots": r[1], "info": json.loads(r[2]), "worker_id": r[3], "last_seen": r[4],
                 "lost": bool(r[5])} for r in rows]

    # -- blocklist ----------------------------------------------------------------------------------------------
    def count_failure(self, txn: Txn, job_id: int, host: str, limit: int) -> bool:
        """Count a failed frame of ``job_id`` on ``host``; True when the host just got blocklisted for the job."""
        db = txn.db
        db.execute("INSERT INTO blocklist (job_id, host, failures) VALUES (?,?,1) ON CONFLICT(job_id, host)"
                   " DO UPDATE SET failures=failures+1", (job_id, host))
        failures, blocked = db.execute("SELECT failures, blocked FROM blocklist WHERE job_id=? AND host=?",
                                       (job_id, host)).fetchone()
        if limit and failures >= limit and not blocked:
            db.execute("UPDATE blocklist SET blocked=1 WHERE job_id=? AND host=?", (job_id, host))
            db.execute("UPDATE jobs SET rev=? WHERE id=?", (txn.rev, job_id))
            txn.jobs_touched.add(job_id)
            return True
        return False

    def blocklist(self, job_id: int | None = None) -> list[tuple[str, str]]:
        sql = "SELECT j.name, b.host FROM blocklist b JOIN jobs j ON j.id=b.job_id WHERE b.blocked=1"
        args: tuple = ()
        if job_id is not None:
            sql += " AND b.job_id=?"
            args = (job_id,)
        with self.read() as db:
            return db.execute(sql, args).fetchall()

    def clear_blocklist(self, txn: Txn, job_id: int, host: str | None = None) -> None:
        if host is None:
            txn.db.execute("DELETE FROM blocklist WHERE job_id=?", (job_id,))
        else:
            txn.db.execute("DELETE FROM blocklist WHERE job_id=? AND host=?", (job_id, host))
        txn.db.execute("UPDATE jobs SET rev=? WHERE id=?", (txn.rev, job_id))
        txn.jobs_touched.add(job_id)

    # -- reading jobs back as job dictionaries -----------------------------------------------------------------
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

    def _job_head(self, db: sqlite3.Connection, row: tuple) -> tuple[dict[str, Any], dict[int, tuple]]:
        job_id, name, priority, max_attempts, frame_timeout, paused, submitted, extra = row[:8]
        per = self.counts(job_id)
        total: dict[str, int] = {}
        for c in per.values():
            for k, v in c.items():
                total[k] = total.get(k, 0) + v
        job = {"status": scheduler.derive_status(total, bool(paused)), "frames": scheduler.summary(total),
               "subjobs": {}, "priority": priority, "max_attempts": max_attempts, "paused": bool(paused),
               "submitted": submitted, "frame_timeout": frame_timeout}
        blocked = [r[0] for r in db.execute("SELECT host FROM blocklist WHERE job_id=? AND blocked=1", (job_id,))]
        if blocked:
            job["blocklist"] = blocked
        for k, v in json.loads(extra).items():
            job.setdefault(k, v)
        subs: dict[int, tuple] = {}
        for sid, sname, sextra in db.execute("SELECT id, name, extra FROM subjobs WHERE job_id=? ORDER BY id",
                                             (job_id,)):
            c = per.get(sid, {})
            s = scheduler.summary(c)
            sub = {"status": scheduler.derive_status(c, bool(paused)), "complete": s["complete"],
                   "total": s["total"], "failed": s["failed"], "frames": {}}
            for k, v in json.loads(sextra).items():
                sub.setdefault(k, v)
            job["subjobs"][sname] = sub
            subs[sid] = (sname, sub)
        return job, subs

    _JOB_HEAD_SQL = "SELECT id, name, priority, max_attempts, frame_timeout, paused, submitted, extra FROM jobs"

    def job_dict(self, name: str) -> dict[str, Any]:
        with self.snapshot() as db:
            row = db.execute(self._JOB_HEAD_SQL + " WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NotFound("no job named %r on this farm" % name)
            return self._full_job(db, row)

    def _full_job(self, db: sqlite3.Connection, row: tuple) -> dict[str, Any]:
        job, subs = self._job_head(db, row)
        for frow in db.execute("SELECT %s FROM frames WHERE job_id=? ORDER BY subjob_id, number" % _FRAME_COLS,
                               (row[0],)):
            subs[frow[2]][1]["frames"][str(frow[3])] = frame_dict(frow)
        return job

    def queue_dict(self) -> dict[str, Any]:
        with self.snapshot() as db:
            return self._queue(db)

    def summary_dict(self) -> dict[str, Any]:
        """Every job with its subjobs and their counts, no frames: what stays small with a million frames."""
        with self.snapshot() as db:
            revision = self.revision
            jobs = {row[1]: self._job_head(db, row)[0] for row in db.execute(self._JOB_HEAD_SQL + " ORDER BY id")}
        for job in jobs.values():
            for sub in job["subjobs"].values():
                del sub["frames"]
        return {"revision": revision, "jobs": jobs}

    def _queue(self, db: sqlite3.Connection) -> dict[str, Any]:
        return {row[1]: self._full_job(db, row) for row in db.execute(self._JOB_HEAD_SQL + " ORDER BY id").fetchall()}

    def iter_jobs_for_export(self, name: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Jobs with their frames read in batches from one snapshot of the store, for an XML backup.

        A connection of its own in one read transaction: WAL gives it a fixed view of the queue while the node
        keeps writing, and the backup never holds the whole queue in memory.
        """
        db = sqlite3.connect(self.path, check_same_thread=False)
        try:
            db.execute("BEGIN")
            heads = db.execute(self._JOB_HEAD_SQL + (" WHERE name=?" if name else "") + " ORDER BY id",
                               (name,) if name else ()).fetchall()
            for row in heads:
                job_id, jname, priority, max_attempts, frame_timeout, paused, submitted, extra = row
                job: dict[str, Any] = {"priority": priority, "max_attempts": max_attempts, "paused": bool(paused),
                                       "submitted": submitted, "frame_timeout": frame_timeout}
                for k, v in json.loads(extra).items():
                    job.setdefault(k, v)
                subjobs = db.execute("SELECT id, name, extra FROM subjobs WHERE job_id=? ORDER BY id",
                                     (job_id,)).fetchall()
                job["subjobs"] = ((sname, dict(json.loads(sextra), frames=self._snapshot_frames(db, sid)))
                                  for sid, sname, sextra in subjobs)
                yield jname, job
            db.execute("COMMIT")
        finally:
            db.close()

    @staticmethod
    def _snapshot_frames(db: sqlite3.Connection, subjob_id: int) -> Iterator[tuple[int, dict[str, Any]]]:
        cursor = db.execute("SELECT %s FROM frames WHERE subjob_id=? ORDER BY number" % _FRAME_COLS, (subjob_id,))
        while True:
            rows = cursor.fetchmany(2000)
            if not rows:
                return
            for r in rows:
                yield r[3], frame_dict(r)

    def changes(self, since: int) -> dict[str, Any]:
        """What changed after revision ``since``, in the job dictionary's shape (docs/DESIGN.md)."""
        # Read before the snapshot begins: the snapshot holds at least everything up to it (a frame changed after
        # it may come twice, which the client applies twice to the same effect).
        revision = self.revision
        if since == revision:
            return {"revision": revision, "reload": False, "jobs": {}, "deleted": []}
        with self.snapshot() as db:
            # Above the revision: the client saw another life of this store (a revision that stamped no row, then
            # a restart), or another store. Below the floor: what it missed is no longer known.
            if since <= 0 or since < self.floor or since > revision:
                return {"revision": revision, "reload": True, "jobs": self._queue(db), "deleted": []}
            changed = db.execute("SELECT COUNT(*) FROM frames WHERE rev>?", (since,)).fetchone()[0]
            if changed > _CHANGES_LIMIT:
                return {"revision": revision, "reload": True, "jobs": self._queue(db), "deleted": []}
            deleted = [r[0] for r in db.execute("SELECT name FROM tombstones WHERE rev>? ORDER BY rev", (since,))]
            job_ids = {r[0] for r in db.execute("SELECT id FROM jobs WHERE rev>?", (since,))}
            frames = db.execute("SELECT %s FROM frames WHERE rev>? ORDER BY job_id, subjob_id, number"
                                % _FRAME_COLS, (since,)).fetchall()
            job_ids.update(f[1] for f in frames)
            jobs: dict[str, Any] = {}
            heads: dict[int, tuple[dict, dict]] = {}
            for job_id in sorted(job_ids):
                row = db.execute(self._JOB_HEAD_SQL + " WHERE id=?", (job_id,)).fetchone()
                if row is None:
                    continue
                job, subs = self._job_head(db, row)
                jobs[row[1]] = job
                heads[job_id] = (job, subs)
            for f in frames:
                head = heads.get(f[1])
                if head:
                    head[1][f[2]][1]["frames"][str(f[3])] = frame_dict(f)
            return {"revision": revision, "reload": False, "jobs": jobs, "deleted": deleted}
