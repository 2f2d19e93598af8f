"""The store in PostgreSQL: one farm shared by several coordinators (CONTRACT section 7).

What changes from the embedded store, and why:

- **Writers take turns, in revision order.** Each write transaction begins by taking the next revision from one row
  (``UPDATE meta ... RETURNING``), whose row lock it holds until it commits. The coordinators' writes are thus
  serialised as SQLite's are within one, commit order is revision order, and the changes feed (``rev > since``)
  never misses a commit that another coordinator made with a lower revision after a client read a higher one. It
  also makes every decision taken inside a write (a lease and its limits, a frame's end) one that no other
  coordinator takes at the same time.
- **Frame counts live in the database** (``subjob_counts``), kept by each transaction's own deltas before it commits:
  every coordinator reads them in its snapshot, consistent with the frames it reads there.
- **Other coordinators' commits are heard** through ``LISTEN``: a commit sends ``NOTIFY`` with its revision; a
  listening thread moves this process's revision on and wakes its long polls. The same channel carries "frames may
  be there" and "kill that attempt" between coordinators, and an advisory lock held by that thread's session makes
  one coordinator of the farm the one that decides which hosts are lost.
- **The database may go away.** A statement that finds the connection broken raises ``StoreError`` (the API answers
  503); the next write connects again.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from farm_node.errors import StoreError
from farm_node.store import schema
from farm_node.store.db import Database, Txn

log = logging.getLogger("farm_node")

CHANNEL = "pyfarm"
# The advisory lock whose holder decides which hosts are lost (one coordinator of the farm at a time).
LIVENESS_LOCK = 0x50794661726D  # "PyFarm"
_PLACEHOLDER = re.compile(r"\?")
_SQL: dict[str, str] = {}


def _pg_sql(sql: str) -> str:
    """The store's SQL for psycopg: ``?`` becomes ``%s`` and a literal ``%`` is doubled. Our statements hold no
    ``?`` inside string literals."""
    out = _SQL.get(sql)
    if out is None:
        out = _SQL[sql] = _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))
    return out


def _words(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


class Connection:
    """A psycopg connection that speaks like the sqlite3 one the store's queries were written for."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, args: Any = ()) -> Any:
        import psycopg
        try:
            if not args:  # no parameters: psycopg sends the text as it is, '%' included
                return self.raw.execute(sql)
            return self.raw.execute(_pg_sql(sql), tuple(args))
        except psycopg.OperationalError as exc:
            raise StoreError("the PostgreSQL store is unreachable (%s); the node keeps trying" % _words(exc)
                             ) from exc

    def executemany(self, sql: str, rows: Any) -> None:
        import psycopg
        try:
            with self.raw.cursor() as cur:
                cur.executemany(_pg_sql(sql), rows)
        except psycopg.OperationalError as exc:
            raise StoreError("the PostgreSQL store is unreachable (%s); the node keeps trying" % _words(exc)
                             ) from exc

    @property
    def broken(self) -> bool:
        return self.raw.closed or self.raw.broken

    def close(self) -> None:
        try:
            self.raw.close()
        except Exception:  # closing a broken connection: nothing left to tell
            pass


def connect(url: str, purpose: str = "") -> Connection:
    """A connection in autocommit mode (the store says BEGIN and COMMIT itself), with words for what goes wrong."""
    import psycopg
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10,
                              application_name=("pyfarm " + purpose).strip())
    except psycopg.OperationalError as exc:
        text = _words(exc)
        if "invalid" in text and "connection option" in text:
            raise StoreError("--store %s is not a PostgreSQL address (%s); it looks like"
                             " postgresql://USER@HOST:PORT/DATABASE" % (_safe(url), text)) from None
        if "password authentication failed" in text or "no pg_hba.conf entry" in text or "role" in text:
            why = "it refused the login (%s): check the user and password in --store" % text
        elif "does not exist" in text:
            why = "%s: create it first (createdb), or name the farm's database in --store" % text
        else:
            why = "%s: is PostgreSQL running there, and reachable from this host?" % text
        raise StoreError("cannot use the PostgreSQL store %s: %s" % (_safe(url), why)) from None
    except psycopg.ProgrammingError as exc:
        raise StoreError("--store %s is not a PostgreSQL address (%s); it looks like"
                         " postgresql://USER@HOST:PORT/DATABASE" % (_safe(url), _words(exc))) from None
    return Connection(raw)


def _safe(url: str) -> str:
    """The address without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresDatabase(Database):
    dialect = "postgresql"
    shared = True

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.path = _safe(url)
        # Who this process is on the channel: its own notifications are not news to it.
        self.origin = "%d-%s" % (os.getpid(), os.urandom(4).hex())
        self._remote: dict[str, list[Callable[[Any], None]]] = {"work": [], "kill": []}
        self._readers: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._all_readers: list[Connection] = []
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self.leader = False  # until the listener's session holds the advisory lock
        with self._lock:
            self._conn = connect(url, "writer")
            self._migrate()
            self.revision = int(self._meta("revision", 0))
            self.floor = int(self._meta("floor", 0))

    def _migrate(self) -> None:
        conn = self._conn
        conn.execute("BEGIN")
        try:
            # One coordinator migrates at a time; the others wait here, then find the work done.
            conn.execute("SELECT pg_advisory_xact_lock(?)", (LIVENESS_LOCK + 1,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY,"
                         " applied DOUBLE PRECISION NOT NULL)")
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            newer = sorted(v for v in done if v > schema.LATEST)
            if newer:
                raise StoreError("the store %s has schema version %d, written by a newer PyFarm; this node knows"
                                 " versions up to %d: run the newer version" % (self.path, newer[-1], schema.LATEST))
            for migration in schema.MIGRATIONS:
                version = migration[0]
                if version in done:
                    continue
                for statement in schema.ddl(migration, "postgresql"):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, extract(epoch from now()))", (version,))
            conn.execute("INSERT INTO meta VALUES ('revision', '0') ON CONFLICT (key) DO NOTHING")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _meta(self, key: str, default: Any) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else row[0]

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self.closed = True
            self._conn.close()
            for db in self._all_readers:
                db.close()
            self._all_readers.clear()
        if self._listener is not None:
            self._listener.join(5)

    # -- writes -------------------------------------------------------------------------------------------------
    def _writer(self) -> Connection:
        if self._conn.broken:
            self._conn = connect(self.url, "writer")
        return self._conn

    def _begin(self) -> int:
        try:
            return self._begin_on(self._writer())
        except StoreError:
            # A writer whose connection died while idle (the network was cut, the server restarted) is found broken
            # only by its next statement: this BEGIN, which wrote nothing. It is made again once, at once, so that
            # the first write after the database is back does not fail for the old connection.
            if not self._conn.broken:
                raise
            return self._begin_on(self._writer())

    def _begin_on(self, conn: Connection) -> int:
        try:
            # The row lock of the revision is held to COMMIT: writers across coordinators take turns (module doc).
            # One round trip for both statements (a text without parameters may hold several).
            cur = conn.execute("BEGIN; UPDATE meta SET value=CAST(CAST(value AS BIGINT) + 1 AS TEXT)"
                               " WHERE key='revision' RETURNING value")
            cur.nextset()  # the UPDATE's result comes after the BEGIN's
            return int(cur.fetchone()[0])
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if not self._conn.broken:
            try:
                self._conn.execute("ROLLBACK")
            except StoreError:
                pass

    def _before_commit(self, txn: Txn) -> None:
        db = txn.db
        for job_id in txn.jobs_touched:
            db.execute("DELETE FROM subjob_counts WHERE job_id=?", (job_id,))
            db.execute("INSERT INTO subjob_counts (job_id, subjob_id, status, n) SELECT job_id, subjob_id, status,"
                       " COUNT(*) FROM frames WHERE job_id=? GROUP BY job_id, subjob_id, status", (job_id,))
        rows = list(txn.deltas())
        if rows:
            db.executemany("INSERT INTO subjob_counts (job_id, subjob_id, status, n) VALUES (?,?,?,?)"
                           " ON CONFLICT (subjob_id, status) DO UPDATE SET n=subjob_counts.n + excluded.n", rows)

    def _commit(self, txn: Txn) -> None:
        # The notification goes with the COMMIT, in one round trip: its text is digits and hex, nothing to quote.
        message = json.dumps({"r": txn.rev, "o": self.origin}, separators=(",", ":"))
        txn.db.execute("SELECT pg_notify('%s', '%s'); COMMIT" % (CHANNEL, message))

    def _notify(self, db: Connection, message: dict[str, Any]) -> None:
        message["o"] = self.origin
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, json.dumps(message, separators=(",", ":"))))

    def floor_now(self) -> int:
        """Another coordinator may have moved the floor of the changes feed (deleted job names)."""
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key='floor'").fetchone()
        self.floor = int(row[0]) if row else 0
        return self.floor

    # -- reads --------------------------------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._lock:
            yield self._conn if self._txn is not None else self._writer()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A REPEATABLE READ transaction on a pooled connection: one view across the statements of an answer."""
        try:
            db = self._readers.get_nowait()
        except queue.Empty:
            db = connect(self.url, "reader")
            with self._lock:
                self._all_readers.append(db)
        ok = False
        try:
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield db
                ok = True
            finally:
                if not db.broken:
                    db.execute("COMMIT")
        finally:
            if ok and not db.broken:
                self._readers.put(db)
            else:
                db.close()

    @contextmanager
    def export_snapshot(self) -> Iterator[Connection]:
        db = connect(self.url, "export")
        try:
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield db
            db.execute("COMMIT")
        finally:
            db.close()

    def stream(self, db: Connection, sql: str, args: tuple = ()) -> Iterator[tuple]:
        # A server-side cursor: the rows come a batch at a time, never all at once.
        with db.raw.cursor(name="stream_%s" % os.urandom(4).hex()) as cur:
            cur.itersize = 2000
            if args:
                cur.execute(_pg_sql(sql), args)
            else:
                cur.execute(sql)
            yield from cur

    def counts_are_cached(self, job_id: int) -> bool:
        return True  # every transaction keeps the counts table up to date

    def counts(self, job_id: int, db: Any = None) -> dict[int, dict[str, int]]:
        def read(conn: Connection) -> dict[int, dict[str, int]]:
            per: dict[int, dict[str, int]] = {sid: {} for (sid,) in conn.execute(
                "SELECT id FROM subjobs WHERE job_id=?", (job_id,))}
            for sid, status, n in conn.execute("SELECT subjob_id, status, n FROM subjob_counts WHERE job_id=?"
                                               " AND n<>0", (job_id,)):
                per.setdefault(sid, {})[status] = n
            return per
        if db is not None:
            return read(db)
        with self.read() as conn:
            return read(conn)

    # -- the other coordinators ---------------------------------------------------------------------------------
    def on_remote(self, kind: str, callback: Callable[[Any], None]) -> None:
        """``callback(data)`` when another coordinator sends ``kind`` ("work", "kill")."""
        self._remote[kind].append(callback)

    def broadcast(self, kind: str, data: Any = None) -> None:
        """Tell the other coordinators (frames may be there; kill an attempt): sent at once, or with the open
        transaction's commit."""
        try:
            with self.read() as db:
                self._notify(db, {kind[0]: data if data is not None else 1})
        except StoreError as exc:  # they hear of it at the host's next heartbeat, or their next lease
            log.warning("cannot tell the other coordinators (%s): %s", kind, exc)

    def start_listening(self) -> threading.Thread:
        t = self._listener = threading.Thread(target=self._listen, name="store-listener", daemon=True)
        t.start()
        return t

    def _listen(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                conn = connect(self.url, "listener")
            except StoreError as exc:
                self.leader = False
                log.warning("%s", exc)
                self._stop.wait(delay)
                delay = min(5.0, delay * 2)
                continue
            delay = 0.2
            try:
                conn.execute("LISTEN %s" % CHANNEL)
                # Commits made while this process was not listening: their revision is news to it.
                self._heard({"r": int(conn.execute("SELECT value FROM meta WHERE key='revision'").fetchone()[0]),
                             "w": 1})
                while not self._stop.is_set():
                    if not self.leader:
                        self.leader = bool(conn.execute("SELECT pg_try_advisory_lock(?)",
                                                        (LIVENESS_LOCK,)).fetchone()[0])
                    for note in conn.raw.notifies(timeout=0.5, stop_after=200):
                        try:
                            message = json.loads(note.payload)
                        except ValueError:
                            continue
                        if message.get("o") != self.origin:
                            self._heard(message)
            except Exception as exc:  # the connection broke: listen again; the lock went with the session
                self.leader = False
                if not self._stop.is_set():
                    log.warning("lost the PostgreSQL listener connection: %s", _words(exc))
                    self._stop.wait(delay)
            finally:
                conn.close()
        self.leader = False

    def _heard(self, message: dict[str, Any]) -> None:
        rev = message.get("r")
        if isinstance(rev, int) and rev > self.revision:
            self.revision = rev
            self._changed(rev)
        if message.get("w"):
            for callback in self._remote["work"]:
                callback(None)
        if message.get("k"):
            for callback in self._remote["kill"]:
                callback(message["k"])


def wait_for_store(url: str, announce: Callable[[str], None], retry: float = 0.5) -> None:
    """Wait for a PostgreSQL that does not answer yet (a node started before its database), saying so once a
    minute; a login refused, a database that does not exist or an address that is not one are errors at once."""
    said = -1e9
    while True:
        try:
            connect(url, "probe").close()
            return
        except StoreError as exc:
            text = str(exc)
            if "refused the login" in text or "does not exist" in text or "not a PostgreSQL address" in text:
                raise
            if time.monotonic() - said > 60:
                announce("waiting for the store: %s" % text)
                said = time.monotonic()
            time.sleep(retry)
