"""Reads of the queue as job dictionaries, from snapshots: what clients ask for, never what a decision needs.

``QueueReader`` is what the HTTP layer is handed: it reads through the store's pool of snapshot connections and its
cached counts, and writes nothing. A whole job read counts its frames from the rows it reads, so its counts always
agree with its frames; the heads of the changes feed and of the summary use the cached counts, which may be a
commit newer than their snapshot (the next answer brings that commit's frames).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterator

from farm_node import scheduler
from farm_node.errors import NotFound
from farm_node.store.db import Database
from farm_node.store.rows import FRAME_COLS, frame_dict

# A changes answer with more frames than this is sent as a reload: the whole queue is cheaper to apply.
CHANGES_LIMIT = 50000

_JOB_HEAD_SQL = "SELECT id, name, priority, max_attempts, frame_timeout, paused, submitted, extra FROM jobs"


class QueueReader:
    def __init__(self, db: Database) -> None:
        self._store = db

    @property
    def revision(self) -> int:
        return self._store.revision

    def on_change(self, listener: Any) -> None:
        self._store.on_change(listener)

    def job_exists(self, name: str) -> bool:
        with self._store.snapshot() as db:
            return db.execute("SELECT 1 FROM jobs WHERE name=?", (name,)).fetchone() is not None

    # -- job dictionaries ---------------------------------------------------------------------------------------
    def _job_head(self, db: sqlite3.Connection, row: tuple, per: dict[int, dict[str, int]] | None = None
                  ) -> tuple[dict[str, Any], dict[int, tuple]]:
        job_id, name, priority, max_attempts, frame_timeout, paused, submitted, extra = row[:8]
        if per is None:
            per = self._store.counts(job_id, db)
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

    def _full_job(self, db: sqlite3.Connection, row: tuple) -> dict[str, Any]:
        frames: dict[int, dict[str, Any]] = {}
        per: dict[int, dict[str, int]] = {}
        for frow in db.execute("SELECT %s FROM frames WHERE job_id=? ORDER BY subjob_id, number" % FRAME_COLS,
                               (row[0],)):
            counts = per.get(frow[2])
            if counts is None:
                counts = per[frow[2]] = {}
                frames[frow[2]] = {}
            counts[frow[4]] = counts.get(frow[4], 0) + 1
            frames[frow[2]][str(frow[3])] = frame_dict(frow)
        job, subs = self._job_head(db, row, per)
        for sid, (_, sub) in subs.items():
            sub["frames"] = frames.get(sid, {})
        return job

    def job_dict(self, name: str) -> dict[str, Any]:
        with self._store.snapshot() as db:
            row = db.execute(_JOB_HEAD_SQL + " WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NotFound("no job named %r on this farm" % name)
            return self._full_job(db, row)

    def queue_dict(self) -> dict[str, Any]:
        with self._store.snapshot() as db:
            return self._queue(db)

    def _queue(self, db: sqlite3.Connection) -> dict[str, Any]:
        return {row[1]: self._full_job(db, row) for row in db.execute(_JOB_HEAD_SQL + " ORDER BY id").fetchall()}

    def summary_dict(self) -> dict[str, Any]:
        """Every job with its subjobs and their counts, no frames: what stays small with a million frames."""
        with self._store.snapshot() as db:
            revision = self._store.revision
            jobs = {row[1]: self._job_head(db, row)[0] for row in db.execute(_JOB_HEAD_SQL + " ORDER BY id")}
        for job in jobs.values():
            for sub in job["subjobs"].values():
                del sub["frames"]
        return {"revision": revision, "jobs": jobs}

    # -- export -------------------------------------------------------------------------------------------------
    def iter_jobs_for_export(self, name: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Jobs with their frames read in batches from one snapshot of the store, for an XML backup.

        A connection of its own in one read transaction: WAL gives it a fixed view of the queue while the node
        keeps writing, and the backup never holds the whole queue in memory.
        """
        with self._store.export_snapshot() as db:
            heads = db.execute(_JOB_HEAD_SQL + (" WHERE name=?" if name else "") + " ORDER BY id",
                               (name,) if name else ()).fetchall()
            for row in heads:
                job_id, jname, priority, max_attempts, frame_timeout, paused, submitted, extra = row
                job: dict[str, Any] = {"priority": priority, "max_attempts": max_attempts, "paused": bool(paused),
                                       "submitted": submitted, "frame_timeout": frame_timeout}
                for k, v in json.loads(extra).items():
                    job.setdefault(k, v)
                subjobs = db.execute("SELECT id, name, extra FROM subjobs WHERE job_id=? ORDER BY id",
                                     (job_id,)).fetchall()
                job["subjobs"] = ((sname, dict(json.loads(sextra), frames=self._frames_of_subjob(db, sid)))
                                  for sid, sname, sextra in subjobs)
                yield jname, job

    def _frames_of_subjob(self, db: Any, subjob_id: int) -> Iterator[tuple[int, dict[str, Any]]]:
        for r in self._store.stream(db, "SELECT %s FROM frames WHERE subjob_id=? ORDER BY number" % FRAME_COLS,
                                    (subjob_id,)):
            yield r[3], frame_dict(r)

    # -- the changes feed ---------------------------------------------------------------------------------------
    def changes(self, since: int) -> dict[str, Any]:
        """What changed after revision ``since``, in the job dictionary's shape (docs/DESIGN.md)."""
        store = self._store
        # Read before the snapshot begins: the snapshot holds at least everything up to it (a frame changed after
        # it may come twice, which the client applies twice to the same effect).
        revision = store.revision
        if since == revision:
            return {"revision": revision, "reload": False, "jobs": {}, "deleted": []}
        with store.snapshot() as db:
            # Above the revision: the client saw another life of this store (a revision that stamped no row, then
            # a restart), or another store. Below the floor: what it missed is no longer known.
            if since <= 0 or since < store.floor or since > revision:
                return {"revision": revision, "reload": True, "jobs": self._queue(db), "deleted": []}
            changed = db.execute("SELECT COUNT(*) FROM frames WHERE rev>?", (since,)).fetchone()[0]
            if changed > CHANGES_LIMIT:
                return {"revision": revision, "reload": True, "jobs": self._queue(db), "deleted": []}
            deleted = [r[0] for r in db.execute("SELECT name FROM tombstones WHERE rev>? ORDER BY rev", (since,))]
            job_ids = {r[0] for r in db.execute("SELECT id FROM jobs WHERE rev>?", (since,))}
            frames = db.execute("SELECT %s FROM frames WHERE rev>? ORDER BY job_id, subjob_id, number"
                                % FRAME_COLS, (since,)).fetchall()
            job_ids.update(f[1] for f in frames)
            jobs: dict[str, Any] = {}
            heads: dict[int, tuple[dict, dict]] = {}
            for job_id in sorted(job_ids):
                row = db.execute(_JOB_HEAD_SQL + " WHERE id=?", (job_id,)).fetchone()
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
