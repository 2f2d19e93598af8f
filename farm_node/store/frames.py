"""The store on frames and their attempts: what a lease, a report and a job action read and write."""
from __future__ import annotations

import json
from typing import Any, Collection, Iterable, Sequence

from farm_node import scheduler
from farm_node.errors import NotFound
from farm_node.store import scheduling
from farm_node.store.db import Database, Txn, update_sql
from farm_node.store.rows import FRAME_COLS, AttemptRow, FrameRow, RunnableJob, RunningAttempt

# Ids per statement of a chunked ``IN (...)``: SQLite's default limit on host parameters is far above it.
_CHUNK = 500

_ATTEMPT_SQL = ("SELECT a.id, a.frame_id, a.number, a.host, a.pid, a.outcome, a.log_path, f.attempt_id, f.job_id,"
                " f.status, f.attempts, j.max_attempts, a.started, a.note_bytes, f.subjob_id"
                " FROM attempts a JOIN frames f ON f.id=a.frame_id JOIN jobs j ON j.id=f.job_id WHERE a.id=?")


def _marks(n: int) -> str:
    return ",".join("?" * n)


class FramesMixin(Database):
    # -- frames -------------------------------------------------------------------------------------------------
    def frames_of(self, job_id: int, statuses: Sequence[str] | None = None, subjob_id: int | None = None
                  ) -> list[FrameRow]:
        """A job's frames (of one subjob, in some statuses), in the order of their subjob and number."""
        sql = "SELECT %s FROM frames WHERE job_id=?" % FRAME_COLS
        args: list[Any] = [job_id]
        if subjob_id is not None:
            sql += " AND subjob_id=?"
            args.append(subjob_id)
        if statuses is not None:
            sql += " AND status IN (%s)" % _marks(len(statuses))
            args.extend(statuses)
        with self.read() as db:
            return [FrameRow._make(r) for r in db.execute(sql + " ORDER BY subjob_id, number", args)]

    def frame_row(self, job_id: int, subjob: str, number: int) -> FrameRow:
        with self.read() as db:
            row = db.execute("SELECT %s FROM frames WHERE job_id=? AND number=? AND subjob_id="
                             "(SELECT id FROM subjobs WHERE job_id=? AND name=?)" % FRAME_COLS,
                             (job_id, number, job_id, subjob)).fetchone()
        if row is None:
            raise NotFound("no frame %s of subjob %r in this job" % (number, subjob))
        return FrameRow._make(row)

    def update_frames(self, txn: Txn, job_id: int, frame_ids: Iterable[int], old_status: str | None = None,
                      subjob_id: int | None = None, **fields: Any) -> int:
        """Set ``fields`` on the frames and stamp them with this revision.

        ``old_status`` and ``subjob_id``, when the caller knows them for a single frame, save reading them back.
        """
        ids = list(frame_ids)
        if not ids:
            return 0
        if fields.get("status") == scheduler.QUEUED:
            self.mark_queued(txn, job_id)
        if old_status is not None and subjob_id is not None and len(ids) == 1 and "argv" not in fields:
            if "status" in fields and self.counts_are_cached(job_id):
                txn.count_status_change(job_id, subjob_id, old_status, fields["status"])
            return txn.db.execute(update_sql("frames", tuple(fields), ", rev=?"),
                                  (*fields.values(), txn.rev, ids[0])).rowcount
        cols = ", ".join("%s=?" % k for k in fields)
        values = [json.dumps(v) if k == "argv" else v for k, v in fields.items()]
        new_status = fields.get("status")
        n = 0
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            if new_status is not None and self.counts_are_cached(job_id):
                for sid, old in txn.db.execute("SELECT subjob_id, status FROM frames WHERE id IN (%s)"
                                               % _marks(len(chunk)), chunk):
                    txn.count_status_change(job_id, sid, old, new_status)
            n += txn.db.execute("UPDATE frames SET %s, rev=? WHERE id IN (%s)" % (cols, _marks(len(chunk))),
                                (*values, txn.rev, *chunk)).rowcount
        return n

    def update_frames_in(self, txn: Txn, job_id: int, statuses: Sequence[str], subjob_id: int | None = None,
                         **fields: Any) -> int:
        """Set ``fields`` on every frame of a job (or subjob) in ``statuses``, in one statement: a cancel or a
        retry of 100,000 frames is one UPDATE, and the job's counts are recounted once after the commit."""
        sql = "UPDATE frames SET %s, rev=? WHERE job_id=? AND status IN (%s)" % (
            ", ".join("%s=?" % k for k in fields), _marks(len(statuses)))
        args: list[Any] = [*fields.values(), txn.rev, job_id, *statuses]
        if subjob_id is not None:
            sql += " AND subjob_id=?"
            args.append(subjob_id)
        n = txn.db.execute(sql, args).rowcount
        if n:
            txn.jobs_touched.add(job_id)
            if fields.get("status") == scheduler.QUEUED:
                self.mark_queued(txn, job_id)
        return n

    # -- what a lease reads (docs/DESIGN.md, "Scheduling") ------------------------------------------------------
    def queued_frames(self, job_id: int, limit: int, only: Collection[int] = (), skip: Collection[int] = ()
                      ) -> list[FrameRow]:
        """A job's next ``limit`` queued frames by number (then subjob), of the subjobs ``only`` or not in
        ``skip``."""
        sql = "SELECT %s FROM frames WHERE job_id=? AND status='Queued'" % FRAME_COLS
        args: list[Any] = [job_id]
        for ids, op in ((only, "IN"), (skip, "NOT IN")):
            if ids:
                sql += " AND subjob_id %s (%s)" % (op, _marks(len(ids)))
                args.extend(ids)
        with self.read() as db:
            return [FrameRow._make(r) for r in db.execute(sql + " ORDER BY number, subjob_id LIMIT ?",
                                                          (*args, limit))]

    def runnable_jobs(self, host: str | None = None, skip: Collection[int] = ()) -> list[RunnableJob]:
        """Unpaused jobs that may have queued frames (but those of ``skip``), with what the scheduler orders them by,
        what their frames need and whether ``host`` is blocklisted for them. One statement on the jobs flagged
        ``queued`` (the partial index ``jobs_queued``): finished jobs cost nothing, however many the store keeps."""
        sql = ("SELECT j.id, j.name, j.priority, j.frame_timeout, j.max_attempts, j.sched, EXISTS (SELECT 1 FROM"
               " blocklist b WHERE b.job_id=j.id AND b.host=? AND b.blocked=1) FROM jobs j WHERE j.queued=1 AND"
               " j.paused=0")
        skip = list(skip) if len(skip) <= _CHUNK else []
        if skip:
            sql += " AND j.id NOT IN (%s)" % _marks(len(skip))
        with self.read() as db:
            return [RunnableJob(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]))
                    for r in db.execute(sql, (host or "", *skip))]

    def mark_queued(self, txn: Txn, job_id: int) -> None:
        """The job has queued frames again: the leases read it (every path that queues a frame comes here)."""
        txn.db.execute("UPDATE jobs SET queued=1 WHERE id=? AND queued=0", (job_id,))

    def clear_queued(self, job_ids: Iterable[int]) -> None:
        """Jobs a lease found without queued frames leave the leases' reads. Checked again in the statement, so it
        is right in any transaction (or in one of its own)."""
        with self.write() as txn:
            for job_id in job_ids:
                txn.db.execute("UPDATE jobs SET queued=0 WHERE id=? AND queued=1 AND NOT EXISTS (SELECT 1 FROM frames"
                               " f WHERE f.job_id=? AND f.status='Queued')", (job_id, job_id))

    def job_states(self, names: Iterable[str]) -> dict[str, tuple[int, str]]:
        """The id and status of each job named (those on the farm), as this transaction sees them."""
        with self.read() as db:
            return scheduling.job_states(db, names)

    def blocklisted_hosts(self, job_id: int) -> list[str]:
        with self.read() as db:
            return scheduling.blocklisted(db, job_id)

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
            used, most = db.execute("SELECT f.attempts, j.max_attempts FROM frames f JOIN jobs j ON j.id=f.job_id"
                                    " WHERE f.id=?", (frame_id,)).fetchone()
        return used, most

    def frame_state(self, txn: Txn, frame_id: int) -> tuple[int | None, str] | None:
        """A frame's current attempt and status as this transaction sees them."""
        row = txn.db.execute("SELECT attempt_id, status FROM frames WHERE id=?", (frame_id,)).fetchone()
        return None if row is None else (row[0], row[1])

    # -- attempts -----------------------------------------------------------------------------------------------
    def attempt_count(self, frame_id: int) -> int:
        """Attempts ever made at a frame (a retry resets the frame's ``attempts``, not this: log names stay unique)."""
        with self.read() as db:
            return db.execute("SELECT COUNT(*) FROM attempts WHERE frame_id=?", (frame_id,)).fetchone()[0]

    def new_attempt(self, txn: Txn, frame_id: int, number: int, host: str, now: float, log_path: str,
                    holds: dict[str, int] | None = None) -> int:
        """A running attempt; ``holds``: the limit units it holds until it ends (what the limits' use is summed
        from)."""
        text = json.dumps(holds, sort_keys=True) if holds else None
        return txn.db.execute("INSERT INTO attempts (frame_id, number, host, started, log_path, holds)"
                              " VALUES (?,?,?,?,?,?) RETURNING id",
                              (frame_id, number, host, now, log_path, text)).fetchone()[0]

    def attempt_holds(self, attempt_id: int) -> tuple[str, dict[str, int]] | None:
        """An attempt's job (its name) and the limit units it holds (or held)."""
        with self.read() as db:
            row = db.execute("SELECT j.name, a.holds FROM attempts a JOIN frames f ON f.id=a.frame_id JOIN jobs j"
                             " ON j.id=f.job_id WHERE a.id=?", (attempt_id,)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]) if row[1] else {})

    def attempt(self, attempt_id: int) -> AttemptRow | None:
        with self.read() as db:
            row = db.execute(_ATTEMPT_SQL, (attempt_id,)).fetchone()
        return None if row is None else AttemptRow._make(row)

    def attempt_host(self, attempt_id: int | None) -> str | None:
        if attempt_id is None:
            return None
        with self.read() as db:
            row = db.execute("SELECT host FROM attempts WHERE id=?", (attempt_id,)).fetchone()
        return None if row is None else row[0]

    def update_attempt(self, txn: Txn, attempt_id: int, **fields: Any) -> None:
        txn.db.execute(update_sql("attempts", tuple(fields)), (*fields.values(), attempt_id))

    def record_start(self, txn: Txn, attempt_id: int, pid: int, started: float, stdout: str | None = None) -> None:
        """A started report written late (the node's own slots): the attempt gets its pid, and its frame the pid,
        host and start time (and the output so far, ``stdout``) while the attempt is still the frame's current one."""
        db = txn.db
        db.execute("UPDATE attempts SET pid=? WHERE id=? AND pid IS NULL", (pid, attempt_id))
        more = "" if stdout is None else ", stdout=?"
        db.execute("UPDATE frames SET host=(SELECT host FROM attempts WHERE id=?), pid=?, started=?%s, rev=?"
                   " WHERE id=(SELECT frame_id FROM attempts WHERE id=?) AND attempt_id=?" % more,
                   (attempt_id, pid, started, *(() if stdout is None else (stdout,)), txn.rev, attempt_id,
                    attempt_id))

    def add_note_bytes(self, txn: Txn, attempt_id: int, n: int) -> None:
        txn.db.execute("UPDATE attempts SET note_bytes=note_bytes+? WHERE id=?", (n, attempt_id))

    def latest_attempt(self, frame_id: int) -> int | None:
        with self.read() as db:
            return db.execute("SELECT MAX(id) FROM attempts WHERE frame_id=?", (frame_id,)).fetchone()[0]

    def retire_lost_attempts(self, txn: Txn, frame_ids: Iterable[int]) -> None:
        """Lost attempts of these frames may no longer come back (a user retried the frames)."""
        ids = list(frame_ids)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            txn.db.execute("UPDATE attempts SET outcome=? WHERE outcome=? AND frame_id IN (%s)" % _marks(len(chunk)),
                           (scheduler.Outcome.RETIRED, scheduler.Outcome.LOST, *chunk))

    def retire_lost_attempts_in(self, txn: Txn, job_id: int, statuses: Sequence[str],
                                subjob_id: int | None = None) -> None:
        """``retire_lost_attempts`` for every frame of a job (or subjob) in ``statuses``, in one statement."""
        sql = ("UPDATE attempts SET outcome=? WHERE outcome=? AND frame_id IN (SELECT id FROM frames"
               " WHERE job_id=? AND status IN (%s)" % _marks(len(statuses)))
        args: list[Any] = [scheduler.Outcome.RETIRED, scheduler.Outcome.LOST, job_id, *statuses]
        if subjob_id is not None:
            sql += " AND subjob_id=?"
            args.append(subjob_id)
        txn.db.execute(sql + ")", args)

    def running_attempts(self, host: str | None = None) -> list[RunningAttempt]:
        sql = ("SELECT a.id, a.frame_id, a.host, a.pid, a.started, f.job_id, a.log_path FROM attempts a"
               " JOIN frames f ON f.id=a.frame_id AND f.attempt_id=a.id WHERE a.outcome='running'")
        args: tuple = ()
        if host is not None:
            sql += " AND a.host=?"
            args = (host,)
        with self.read() as db:
            return [RunningAttempt._make(r) for r in db.execute(sql, args)]

    def attempt_logs(self, frame_id: int) -> list[tuple[int, str]]:
        """``(attempt number, log path)`` of a frame's attempts, oldest first."""
        with self.read() as db:
            return [(r[0], r[1]) for r in db.execute("SELECT number, log_path FROM attempts WHERE frame_id=?"
                                                     " ORDER BY number", (frame_id,))]

    def attempt_log(self, frame_id: int, number: int | None = None) -> tuple[int, str] | None:
        """``(attempt id, log path)`` of a frame's latest attempt, or of its attempt ``number``; None if none."""
        with self.read() as db:
            if number is None:
                row = db.execute("SELECT id, log_path FROM attempts WHERE frame_id=? ORDER BY number DESC LIMIT 1",
                                 (frame_id,)).fetchone()
            else:
                row = db.execute("SELECT id, log_path FROM attempts WHERE frame_id=? AND number=?",
                                 (frame_id, number)).fetchone()
        return None if row is None else (int(row[0]), row[1])

    def attempt_log_text(self, attempt_id: int) -> bytes | None:
        """The log an attempt that ended young keeps in the store (None: its log is a file, or it has none)."""
        with self.read() as db:
            row = db.execute("SELECT log_text FROM attempts WHERE id=?", (attempt_id,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def job_log_paths(self, job_id: int) -> list[str]:
        with self.read() as db:
            return [r[0] for r in db.execute("SELECT a.log_path FROM attempts a JOIN frames f ON f.id=a.frame_id"
                                             " WHERE f.job_id=?", (job_id,))]
