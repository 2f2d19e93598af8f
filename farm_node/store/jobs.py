"""The store on jobs, their blocklists and the remote hosts it remembers."""
from __future__ import annotations

import json
from typing import Any, Iterable

from farm_node import scheduler
from farm_node.errors import Conflict, JobSpecError, NotFound
from farm_node.jobspec import JobSpec, scheduling_keys, split_command
from farm_node.scheduler import LimitState
from farm_node.store import scheduling
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
        specs = list(specs)
        self._check_needs(txn, specs)
        for spec in specs:
            if db.execute("SELECT 1 FROM jobs WHERE name=?", (spec.name,)).fetchone():
                raise Conflict("a job named %r is already on the farm" % spec.name)
            job_id = db.execute("INSERT INTO jobs (name, priority, max_attempts, frame_timeout, paused, submitted,"
                                " extra, rev) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                                (spec.name, spec.priority, spec.max_attempts, spec.frame_timeout,
                                 1 if spec.paused else 0, now, json.dumps(spec.extra), txn.rev)).fetchone()[0]
            subjob_keys: dict[int, dict[str, Any]] = {}
            for sub in spec.subjobs:
                sid = db.execute("INSERT INTO subjobs (job_id, name, extra) VALUES (?,?,?) RETURNING id",
                                 (job_id, sub.name, json.dumps(sub.extra))).fetchone()[0]
                subjob_keys[sid] = sub.extra
                db.executemany(
                    "INSERT INTO frames (job_id, subjob_id, number, status, command, argv, extra, rev)"
                    " VALUES (?,?,?,'Queued',?,?,?,?)",
                    [(job_id, sid, f.number, f.command, json.dumps(f.argv),
                      json.dumps(f.extra) if f.extra else "{}", txn.rev) for f in sub.frames])
            self._set_needs(txn, job_id, spec.extra, subjob_keys)
            txn.jobs_touched.add(job_id)
            names.append(spec.name)
        return names

    def _set_needs(self, txn: Txn, job_id: int, job: dict[str, Any], subjobs: dict[int, dict[str, Any]]) -> None:
        """What the job's frames need, kept for its leases (``jobs.sched``; NULL: nothing, the fast path)."""
        record = scheduler.needs_record(job, subjobs)
        txn.db.execute("UPDATE jobs SET sched=? WHERE id=?", (json.dumps(record) if record else None, job_id))

    def _check_needs(self, txn: Txn, specs: list[JobSpec]) -> None:
        """What a submission needs of the farm: its limits exist (with room for one frame), its dependencies are on
        the farm or in the submission, and no job comes to depend on itself."""
        limits = self._limits_in(txn)
        new = {spec.name: list(spec.extra.get("depends_on") or ()) for spec in specs}
        for spec in specs:
            self._check_limits(spec.name, spec.extra.get("limits") or {}, limits)
            for sub in spec.subjobs:
                self._check_limits("%s.subjobs.%s" % (spec.name, sub.name), sub.extra.get("limits") or {}, limits)
            known = {n for n in new[spec.name] if n in new} | set(scheduling.job_statuses(txn.db, new[spec.name]))
            for i, dep in enumerate(new[spec.name]):
                if dep not in known:
                    raise JobSpecError("%s.depends_on.%d" % (spec.name, i), "no job named %r on this farm (a job"
                                       " depends only on jobs on the farm, or submitted with it)" % dep)
        self._check_cycles(txn, new)

    def _check_limits(self, path: str, wanted: dict[str, int], limits: dict[str, int]) -> None:
        for name, units in wanted.items():
            where = "%slimits.%s" % (path + "." if path else "", name)
            if name not in limits:
                raise JobSpecError(where, "no limit named %r on this farm (PUT"
                                   " /api/limits/%s with {\"capacity\": N} makes one)" % (name, name))
            if units > limits[name]:
                raise JobSpecError(where, "a frame would hold %d units of limit %s, whose"
                                   " capacity is %d: it could never start" % (units, name, limits[name]))

    def _check_cycles(self, txn: Txn, new: dict[str, list[str]]) -> None:
        def depends_on(name: str) -> list[str]:
            if name in new:
                return new[name]
            return list(self.dependencies_of(txn, name))

        cycle = scheduler.dependency_cycle(new, depends_on)
        if cycle:
            raise JobSpecError("%s.depends_on" % cycle[0], "a cycle of dependencies: %s (none of them could ever"
                               " start)" % " -> ".join(cycle))

    def dependencies_of(self, txn: Txn, name: str) -> tuple[str, ...]:
        row = txn.db.execute("SELECT sched FROM jobs WHERE name=?", (name,)).fetchone()
        return scheduler.needs_from_record(json.loads(row[0])).job.depends_on if row and row[0] else ()

    @staticmethod
    def _limits_in(txn: Txn) -> dict[str, int]:
        return {name: capacity for name, capacity in txn.db.execute("SELECT name, capacity FROM limits")}

    def update_job(self, txn: Txn, job: JobRow, changes: dict[str, Any]) -> None:
        """A PATCH of a job (``jobspec.parse_patch``'s changes): its columns, its keys and what its frames need. Its
        running frames keep the limit units they were leased with."""
        db = txn.db
        limits = self._limits_in(txn)
        self._check_limits("", changes.get("limits") or {}, limits)
        if "depends_on" in changes:
            deps = list(changes["depends_on"])
            known = set(scheduling.job_statuses(db, deps))
            for i, dep in enumerate(deps):
                if dep not in known:
                    raise JobSpecError("depends_on.%d" % i, "no job named %r on this farm" % dep)
            self._check_cycles(txn, {job.name: deps})
        columns = {k: changes[k] for k in ("priority", "max_attempts", "frame_timeout") if k in changes}
        extra = json.loads(job.extra)
        extra.update({k: v for k, v in changes.items() if k not in columns})
        db.execute("UPDATE jobs SET %s extra=?, rev=? WHERE id=?" % "".join("%s=?, " % k for k in columns),
                   (*columns.values(), json.dumps(extra), txn.rev, job.id))
        subjobs = {sid: json.loads(sextra) for sid, sextra in db.execute("SELECT id, extra FROM subjobs WHERE"
                                                                         " job_id=?", (job.id,))}
        self._set_needs(txn, job.id, extra, subjobs)  # its frames' counts are as they were: nothing to recount

    # -- limits (licences and the like) -------------------------------------------------------------------------
    def limits_now(self) -> dict[str, LimitState]:
        with self.read() as db:
            return scheduling.limit_states(db)

    def set_limit(self, txn: Txn, name: str, capacity: int) -> None:
        txn.db.execute("INSERT INTO limits (name, capacity) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET"
                       " capacity=excluded.capacity", (name, capacity))
        self.touch_waiting(txn)

    def delete_limit(self, txn: Txn, name: str) -> None:
        """Remove a limit; refused (Conflict, naming them) while rendering frames hold some of its units."""
        if txn.db.execute("SELECT 1 FROM limits WHERE name=?", (name,)).fetchone() is None:
            raise NotFound("no limit named %r on this farm" % name)
        holders = self.limit_holders(txn, name)
        if holders:
            shown = ", ".join("%s %s frame %d" % h for h in holders[:5])
            raise Conflict("limit %s is held by %d rendering frame(s) (%s%s): delete it when they end, or cancel"
                           " them" % (name, len(holders), shown, " and more" if len(holders) > 5 else ""))
        txn.db.execute("DELETE FROM limits WHERE name=?", (name,))
        self.touch_waiting(txn)

    @staticmethod
    def limit_holders(txn: Txn, name: str) -> list[tuple[str, str, int]]:
        """``(job, subjob, frame)`` of the running attempts holding units of limit ``name``."""
        rows = txn.db.execute("SELECT a.holds, j.name, s.name, f.number FROM attempts a JOIN frames f ON"
                              " f.id=a.frame_id JOIN subjobs s ON s.id=f.subjob_id JOIN jobs j ON j.id=f.job_id"
                              " WHERE a.outcome='running' AND a.holds IS NOT NULL ORDER BY j.name, s.name, f.number"
                              ).fetchall()
        return [(job, sub, number) for holds, job, sub, number in rows if name in json.loads(holds)]

    @staticmethod
    def touch_waiting(txn: Txn) -> None:
        """Jobs that may wait (queued frames) are stamped with this revision: what they wait for may read
        differently now (a limit, a host, a dependency changed) and the changes feed brings their heads again."""
        txn.db.execute("UPDATE jobs SET rev=? WHERE queued=1", (txn.rev,))

    def insert_restored(self, txn: Txn, name: str, job: dict[str, Any], subjobs: Iterable[tuple[str, dict]],
                        now: float) -> None:
        """Insert one job read back from an XML backup, keeping each frame's recorded state.

        ``subjobs`` yields ``(name, subjob)`` whose ``frames`` yields ``(number, frame)``; frames that were rendering
        come back queued (their process is gone), with the attempt the interruption took given back.
        """
        db = txn.db
        extra = {k: v for k, v in job.items() if k not in _RESTORED_JOB_KEYS}
        scheduling_keys(name, extra, job=name)
        job_id = db.execute("INSERT INTO jobs (name, priority, max_attempts, frame_timeout, paused, submitted, extra,"
                            " rev) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                            (name, job.get("priority", 50), job.get("max_attempts", 3), job.get("frame_timeout"),
                             1 if job.get("paused") else 0, job.get("submitted") or now, json.dumps(extra),
                             txn.rev)).fetchone()[0]
        subjob_keys: dict[int, dict[str, Any]] = {}
        queued = False
        for sname, sub in subjobs:
            sextra = {k: v for k, v in sub.items() if k not in _RESTORED_SUBJOB_KEYS}
            scheduling_keys("%s.subjobs.%s" % (name, sname), sextra, job=None)
            sid = db.execute("INSERT INTO subjobs (job_id, name, extra) VALUES (?,?,?) RETURNING id",
                             (job_id, sname, json.dumps(sextra))).fetchone()[0]
            subjob_keys[sid] = sextra
            rows = []
            for number, f in sub.get("frames", ()):
                status = f.get("status") or scheduler.QUEUED
                attempts = int(f.get("attempts") or 0)
                if status == scheduler.RENDERING:
                    status, attempts = scheduler.QUEUED, max(0, attempts - 1)
                queued = queued or status == scheduler.QUEUED
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
        # A restored job keeps what it needs (a limit or a dependency missing on this farm: it waits, and says so).
        self._set_needs(txn, job_id, extra, subjob_keys)
        if not queued:
            db.execute("UPDATE jobs SET queued=0 WHERE id=?", (job_id,))
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
