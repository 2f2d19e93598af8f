"""The store on jobs, their blocklists and the remote hosts it remembers."""
from __future__ import annotations

import json
from typing import Any, Iterable

from farm_node import scheduler
from farm_node.errors import Conflict, NotFound
from farm_node.jobspec import JobSpec, split_command
from farm_node.store.db import Database, Txn
from farm_node.store.rows import FRAME_FIELDS, JOB_COLS, HostRow, JobRow

# How many tombstones (deleted job names) the changes feed keeps; a client further behind is told to reload.
TOMBSTONES_KEPT = 5000
# Job keys of an XML restore that are columns or derived, not the job's own extra keys.
_RESTORED_JOB_KEYS = ("status", "frames", "subjobs", "priority", "max_attempts", "frame_timeout", "paused",
                      "submitted")
_RESTORED_SUBJOB_KEYS = ("status", "complete", "total", "failed", "frames")


class JobsMixin(Database):
    # -- jobs ---------------------------------------------------------------------------------------------------
    def insert_jobs(self, txn: Txn, specs: Iterable[JobSpec], now: float) -> list[str]:
        db = txn.db
        names = []
        for spec in specs:
            if db.execute("SELECT 1 FROM jobs WHERE name=?", (spec.name,)).fetchone():
                raise Conflict("a job named %r is already on the farm" % spec.name)
            job_id = db.execute("INSERT INTO jobs (name, priority, max_attempts, frame_timeout, paused, submitted,"
                                " extra, rev) VALUES (?,?,?,?,0,?,?,?) RETURNING id",
                                (spec.name, spec.priority, spec.max_attempts, spec.frame_timeout, now,
                                 json.dumps(spec.extra), txn.rev)).fetchone()[0]
            for sub in spec.subjobs:
                sid = db.execute("INSERT INTO subjobs (job_id, name, extra) VALUES (?,?,?) RETURNING id",
                                 (job_id, sub.name, json.dumps(sub.extra))).fetchone()[0]
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
        extra = {k: v for k, v in job.items() if k not in _RESTORED_JOB_KEYS}
        job_id = db.execute("INSERT INTO jobs (name, priority, max_attempts, frame_timeout, paused, submitted, extra,"
                            " rev) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                            (name, job.get("priority", 50), job.get("max_attempts", 3), job.get("frame_timeout"),
                             1 if job.get("paused") else 0, job.get("submitted") or now, json.dumps(extra),
                             txn.rev)).fetchone()[0]
        for sname, sub in subjobs:
            sextra = {k: v for k, v in sub.items() if k not in _RESTORED_SUBJOB_KEYS}
            sid = db.execute("INSERT INTO subjobs (job_id, name, extra) VALUES (?,?,?) RETURNING id",
                             (job_id, sname, json.dumps(sextra))).fetchone()[0]
            rows = []
            for number, f in sub.get("frames", ()):
                status = f.get("status") or scheduler.QUEUED
                attempts = int(f.get("attempts") or 0)
                if status == scheduler.RENDERING:
                    status, attempts = scheduler.QUEUED, max(0, attempts - 1)
                fextra = {k: v for k, v in f.items() if k not in FRAME_FIELDS}
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
    def _insert_frame_rows(db: Any, rows: list) -> None:
        if rows:
            db.executemany("INSERT INTO frames (job_id, subjob_id, number, status, host, pid, command, argv, stdout,"
                           " attempts, exit_code, progress, started, finished, error, extra, rev)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def job_row(self, name: str) -> JobRow:
        with self.read() as db:
            row = db.execute("SELECT %s FROM jobs WHERE name=?" % JOB_COLS, (name,)).fetchone()
        if row is None:
            raise NotFound("no job named %r on this farm" % name)
        return JobRow._make(row)

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
        if count > TOMBSTONES_KEPT:
            cut = txn.db.execute("SELECT rev FROM tombstones ORDER BY rev DESC LIMIT 1 OFFSET ?",
                                 (TOMBSTONES_KEPT,)).fetchone()[0]
            txn.db.execute("DELETE FROM tombstones WHERE rev<=?", (cut,))
            txn.db.execute("INSERT INTO meta VALUES ('floor', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                           (str(cut),))  # meta's values are text (PostgreSQL does not cast a number into one)
            self.floor = cut

    # -- blocklist ----------------------------------------------------------------------------------------------
    def count_failure(self, txn: Txn, job_id: int, host: str, limit: int) -> bool:
        """Count a failed frame of ``job_id`` on ``host``; True when the host just got blocklisted for the job."""
        db = txn.db
        db.execute("INSERT INTO blocklist (job_id, host, failures) VALUES (?,?,1) ON CONFLICT(job_id, host)"
                   " DO UPDATE SET failures=blocklist.failures+1", (job_id, host))
        failures, blocked = db.execute("SELECT failures, blocked FROM blocklist WHERE job_id=? AND host=?",
                                       (job_id, host)).fetchone()
        if limit and failures >= limit and not blocked:
            db.execute("UPDATE blocklist SET blocked=1 WHERE job_id=? AND host=?", (job_id, host))
            db.execute("UPDATE jobs SET rev=? WHERE id=?", (txn.rev, job_id))
            txn.jobs_touched.add(job_id)
            return True
        return False

    def blocklist(self, job_id: int | None = None) -> list[tuple[str, str]]:
        """``(job name, host)`` of every host a job no longer gives frames to (or of one job's)."""
        sql = "SELECT j.name, b.host FROM blocklist b JOIN jobs j ON j.id=b.job_id WHERE b.blocked=1"
        args: tuple = ()
        if job_id is not None:
            sql += " AND b.job_id=?"
            args = (job_id,)
        with self.read() as db:
            return [(r[0], r[1]) for r in db.execute(sql, args)]

    def clear_blocklist(self, txn: Txn, job_id: int, host: str | None = None) -> None:
        if host is None:
            txn.db.execute("DELETE FROM blocklist WHERE job_id=?", (job_id,))
        else:
            txn.db.execute("DELETE FROM blocklist WHERE job_id=? AND host=?", (job_id, host))
        txn.db.execute("UPDATE jobs SET rev=? WHERE id=?", (txn.rev, job_id))
        txn.jobs_touched.add(job_id)

    # -- render hosts -------------------------------------------------------------------------------------------
    def save_host(self, name: str, slots: int, info: dict[str, Any], worker_id: str | None, last_seen: float,
                  lost: bool) -> None:
        """Remember a remote render host across restarts (not a change of the queue: no revision)."""
        with self.read() as db:
            db.execute("INSERT INTO hosts (name, slots, info, worker_id, last_seen, lost) VALUES (?,?,?,?,?,?)"
                       " ON CONFLICT(name) DO UPDATE SET slots=excluded.slots,"
                       " info=excluded.info, worker_id=excluded.worker_id, last_seen=excluded.last_seen,"
                       " lost=excluded.lost",
                       (name, slots, json.dumps(info), worker_id, last_seen, 1 if lost else 0))

    def hosts(self) -> list[HostRow]:
        with self.read() as db:
            rows = db.execute("SELECT name, slots, info, worker_id, last_seen, lost FROM hosts ORDER BY name"
                              ).fetchall()
        return [HostRow(r[0], r[1], json.loads(r[2]), r[3], r[4], bool(r[5])) for r in rows]
