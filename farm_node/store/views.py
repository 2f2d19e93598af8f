"""Reads of the queue as job dictionaries, from snapshots: what clients ask for, never what a decision needs.

``QueueReader`` is what the HTTP layer is handed: it reads through the store's pool of snapshot connections and its
cached counts, and writes nothing. A whole job read counts its frames from the rows it reads, so its counts always
agree with its frames; the heads of the changes feed and of the summary use the cached counts, which may be a
commit newer than their snapshot (the next answer brings that commit's frames).
"""
from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Sequence

from farm_node import scheduler
from farm_node.errors import JobSpecError, NotFound
from farm_node.store.db import Database
from farm_node.scheduler import HostView
from farm_node.store.rows import FRAME_COLS, frame_dict
from farm_node.store.scheduling import FarmFacts

# A changes answer with more frames than this is sent as a reload: the whole queue is cheaper to apply.
CHANGES_LIMIT = 50000
# A watched subjob with more changed frames than this since the client's revision is not sent frame by frame in the
# narrowed feed: it is named in "refetch", and the client reads again the page it shows (a cancel of 100,000 frames
# costs the client one page, not 100,000 rows).
WATCH_LIMIT = 2000
# Rows one page of frames may hold (numbers only: many more, they are what "select all" of a filtered view needs).
PAGE_LIMIT = 5000
NUMBERS_LIMIT = 1000000

# A frame of a page or of the narrowed feed, compact: no stdout tail and no argv (the log view fetches the log). The
# feed leaves the command out too: it never changes once submitted, and the page the client shows carries it. The
# feed sends its frames as rows of these columns ("frame_columns", "frame_rows"): the rows come from SQLite as tuples
# and go out as JSON arrays, with no dictionary made for each frame on either side (half the bytes, and half the
# node's time, of frames keyed by number).
_FEED_COLS = ("number", "status", "host", "pid", "attempts", "progress", "started", "finished", "exit_code", "error")
FEED_COLUMNS = list(_FEED_COLS)
_PAGE_COLS = _FEED_COLS + ("command", "extra")
# How each sortable key of a page orders frames (a SQL expression; "?" is the reader's now, for elapsed). Ties go by
# frame number, so pages never overlap; frames without a value come last either way. The status order is the
# panel's: what needs a look first.
PAGE_SORTS = {
    "number": "number",
    "status": "CASE status WHEN 'Rendering' THEN 0 WHEN 'Failed' THEN 1 WHEN 'Queued' THEN 2 WHEN 'Cancelled' THEN 3"
              " ELSE 4 END",
    "progress": "CASE WHEN status='Complete' THEN 100 ELSE progress END",
    "host": "host",
    "pid": "pid",
    "attempts": "attempts",
    "started": "started",
    "finished": "finished",
    "elapsed": "COALESCE(finished, ?) - started",
    "exit_code": "exit_code",
}

_JOB_HEAD_SQL = "SELECT id, name, priority, max_attempts, frame_timeout, paused, submitted, extra FROM jobs"


class QueueReader:
    def __init__(self, db: Database) -> None:
        self._store = db
        self._hosts: Callable[[], list[HostView]] | None = None

    def use_hosts(self, hosts: Callable[[], list[HostView]]) -> None:
        """Where a job's ``waiting_for`` learns of the render hosts: the coordinator's registry, as its leases do."""
        self._hosts = hosts

    @property
    def revision(self) -> int:
        return self._store.revision

    def on_change(self, listener: Any) -> None:
        self._store.on_change(listener)

    def job_exists(self, name: str) -> bool:
        with self._store.snapshot() as db:
            return db.execute("SELECT 1 FROM jobs WHERE name=?", (name,)).fetchone() is not None

    # -- job dictionaries ---------------------------------------------------------------------------------------
    def _job_head(self, db: sqlite3.Connection, row: tuple, per: dict[int, dict[str, int]] | None = None,
                  facts: FarmFacts | None = None, blocked: list[str] | None = None,
                  subjob_rows: Iterable[tuple] | None = None) -> tuple[dict[str, Any], dict[int, tuple]]:
        """A job's head and its subjobs' (``subs``: id -> (name, dictionary)); ``blocked`` and ``subjob_rows`` (id,
        name, extra) when the caller read them for many jobs at once (``_heads``)."""
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
        if blocked is None:
            blocked = [r[0] for r in db.execute("SELECT host FROM blocklist WHERE job_id=? AND blocked=1",
                                                (job_id,))]
        if blocked:
            job["blocklist"] = blocked
        keys = json.loads(extra)
        for k, v in keys.items():
            job.setdefault(k, v)
        # CONTRACT section 6: every job says who sent it, what it needs, and why it waits (null: nothing holds it).
        for k, default in (("user", None), ("comment", None), ("requires", []), ("limits", {}), ("depends_on", [])):
            job.setdefault(k, type(default)() if default is not None else None)
        subs: dict[int, tuple] = {}
        subjob_keys: dict[int, dict[str, Any]] = {}
        if subjob_rows is None:
            subjob_rows = db.execute("SELECT id, name, extra FROM subjobs WHERE job_id=? ORDER BY id", (job_id,))
        for sid, sname, sextra in subjob_rows:
            c = per.get(sid, {})
            s = scheduler.summary(c)
            sub = {"status": scheduler.derive_status(c, bool(paused)), "complete": s["complete"],
                   "total": s["total"], "failed": s["failed"], "frames": {}, "waiting_for": None}
            subjob_keys[sid] = json.loads(sextra)
            for k, v in subjob_keys[sid].items():
                sub.setdefault(k, v)
            job["subjobs"][sname] = sub
            subs[sid] = (sname, sub)
        queued = [sid for sid in subs if per.get(sid, {}).get(scheduler.QUEUED)]
        job["waiting_for"] = None
        if queued:
            facts = facts or FarmFacts(db, self._hosts)
            job["waiting_for"], texts = facts.waiting_for(keys, subjob_keys, queued, bool(paused), blocked)
            for sid, text in texts.items():
                subs[sid][1]["waiting_for"] = text
        return job, subs

    def _heads(self, db: sqlite3.Connection, rows: list[tuple], facts: FarmFacts
               ) -> Iterator[tuple[tuple, dict[str, Any], dict[int, tuple]]]:
        """``_job_head`` of many jobs, their subjobs and blocklists read in one statement each for all of them (a
        summary of 900 jobs, or a poll after a retry of 100, is three statements, not two per job)."""
        subjobs, blocked = _subjobs_and_blocklists(db, [r[0] for r in rows])
        for row in rows:
            job, subs = self._job_head(db, row, facts=facts, blocked=blocked.get(row[0], []),
                                       subjob_rows=subjobs.get(row[0], ()))
            yield row, job, subs

    def _full_job(self, db: sqlite3.Connection, row: tuple, facts: FarmFacts | None = None) -> dict[str, Any]:
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
        job, subs = self._job_head(db, row, per, facts)
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
        facts = FarmFacts(db, self._hosts)
        return {row[1]: self._full_job(db, row, facts) for row in db.execute(_JOB_HEAD_SQL + " ORDER BY id").fetchall()}

    def summary_dict(self) -> dict[str, Any]:
        """Every job with its subjobs and their counts, no frames: what stays small with a million frames."""
        with self._store.snapshot() as db:
            revision = self._store.revision
            facts = FarmFacts(db, self._hosts)
            rows = db.execute(_JOB_HEAD_SQL + " ORDER BY id").fetchall()
            jobs = {row[1]: job for row, job, _ in self._heads(db, rows, facts)}
        for job in jobs.values():
            for sub in job["subjobs"].values():
                del sub["frames"]
        return {"revision": revision, "jobs": jobs}

    def job_head(self, name: str) -> dict[str, Any]:
        """One job as the summary holds it: its fields, counts and subjobs, no frames."""
        with self._store.snapshot() as db:
            row = db.execute(_JOB_HEAD_SQL + " WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NotFound("no job named %r on this farm" % name)
            job = self._job_head(db, row)[0]
        for sub in job["subjobs"].values():
            del sub["frames"]
        return job

    # -- pages of frames ----------------------------------------------------------------------------------------
    def frame_page(self, job: str, subjob: str, offset: int = 0, limit: int = 200, sort: str = "number",
                   descending: bool = False, statuses: Sequence[str] = (), host: str | None = None,
                   first: int | None = None, last: int | None = None, now: float = 0.0,
                   numbers: bool = False) -> dict[str, Any]:
        """Frames ``offset`` to ``offset + limit`` of one subjob, sorted by ``sort`` (a key of ``PAGE_SORTS``) and
        filtered (statuses, host, frame range), as compact rows; ``total`` is how many frames pass the filter.
        With ``numbers``, only their frame numbers (what an action on a whole filtered view needs)."""
        if sort not in PAGE_SORTS:
            raise JobSpecError("sort", "frames sort by one of %s" % ", ".join(PAGE_SORTS))
        bad = [s for s in statuses if s not in scheduler.FRAME_STATUSES]
        if bad:
            raise JobSpecError("status", "no frame status %r (one of %s)" % (bad[0],
                                                                            ", ".join(scheduler.FRAME_STATUSES)))
        revision = self._store.revision
        with self._store.snapshot() as db:
            ids = _subjob_ids(db, job, subjob)
            if ids is None:
                raise NotFound("no subjob %r of a job named %r on this farm" % (subjob, job))
            job_id, sid = ids
            where, args = "subjob_id=?", [sid]
            if statuses:
                where += " AND status IN (%s)" % ",".join("?" * len(statuses))
                args.extend(statuses)
            if host is not None:
                where += " AND host=?"
                args.append(host)
            if first is not None:
                where += " AND number>=?"
                args.append(first)
            if last is not None:
                where += " AND number<=?"
                args.append(last)
            if host is None and first is None and last is None:  # the cached counts know it (no scan of 100,000)
                counts = self._store.counts(job_id, db).get(sid, {})
                total = sum(n for s, n in counts.items() if not statuses or s in statuses)
            else:
                total = db.execute("SELECT COUNT(*) FROM frames WHERE " + where, args).fetchone()[0]
            direction = " DESC" if descending else ""
            key = PAGE_SORTS[sort]
            if sort == "number":
                order, key_args = "number" + direction, []
            elif sort in ("status", "progress", "attempts"):
                order, key_args = "%s%s, number%s" % (key, direction, direction), []
            else:  # a key that may be NULL: those frames last, whichever way
                order = "(%s) IS NULL, %s%s, number%s" % (key, key, direction, direction)
                key_args = [now, now] if "?" in key else []
            cols = "number" if numbers else ", ".join(_PAGE_COLS)
            rows = db.execute("SELECT %s FROM frames WHERE %s ORDER BY %s LIMIT ? OFFSET ?" % (cols, where, order),
                              args + key_args + [limit, offset]).fetchall()
        answer: dict[str, Any] = {"revision": revision, "total": total, "offset": offset}
        if numbers:
            answer["numbers"] = [r[0] for r in rows]
        else:
            answer["frames"] = [_page_frame(r) for r in rows]
        return answer

    # -- the narrowed changes feed ------------------------------------------------------------------------------
    def watched_changes(self, since: int, watch: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
        """What changed after ``since`` for a client that shows the summary and some subjobs' frames.

        Every changed job comes with its subjobs and counts, never their frames, except the changed frames of the
        watched subjobs (``watch``: (job, subjob) names), as ``frame_rows`` of the answer's ``frame_columns``; a
        watched subjob with more than ``WATCH_LIMIT`` changed frames is named in ``refetch`` instead. A job whose own
        row changed (pause, blocklist, ...) comes whole; one whose frames alone changed comes as its counts
        (``counts_only``), to merge into what the client has. A reload (``since`` 0, too old, or of another life of
        the store) is the summary, every watched subjob in ``refetch``: a reconnect costs the summary, not the queue.
        """
        store = self._store
        revision = store.revision
        if since == revision:
            return {"revision": revision, "reload": False, "jobs": {}, "deleted": [], "refetch": [],
                    "frame_columns": FEED_COLUMNS}
        with store.snapshot() as db:
            watched: dict[int, tuple[str, str]] = {}
            for jname, sname in watch:
                sid = _subjob_id(db, jname, sname)
                if sid is not None:
                    watched[sid] = (jname, sname)
            facts = FarmFacts(db, self._hosts)
            if since <= 0 or since < store.floor or since > revision:
                rows = db.execute(_JOB_HEAD_SQL + " ORDER BY id").fetchall()
                jobs = {row[1]: job for row, job, _ in self._heads(db, rows, facts)}
                for job in jobs.values():
                    for sub in job["subjobs"].values():
                        del sub["frames"]
                return {"revision": revision, "reload": True, "jobs": jobs, "deleted": [],
                        "refetch": [list(w) for w in watched.values()], "frame_columns": FEED_COLUMNS}
            deleted = [r[0] for r in db.execute("SELECT name FROM tombstones WHERE rev>? ORDER BY rev", (since,))]
            whole = {r[0] for r in db.execute("SELECT id FROM jobs WHERE rev>?", (since,))}
            # The changed frames' jobs and subjobs counted by SQL through the rev index ("+0": grouping by a bare
            # column made SQLite walk the job or subjob index instead, a scan of a million frames for a thousand).
            changed: dict[int, int] = {}
            jobs_changed = set()
            for job_id, subjob_id, n in db.execute("SELECT job_id+0, subjob_id+0, COUNT(*) FROM frames WHERE rev>?"
                                                   " GROUP BY 1, 2", (since,)):
                jobs_changed.add(job_id)
                if subjob_id in watched:
                    changed[subjob_id] = n
            counted = jobs_changed - whole
            sent, refetch = self._watched_frames(db, since, watched, changed)
            jobs: dict[str, Any] = {}
            rows = list(_rows_in(db, _JOB_HEAD_SQL + " WHERE id IN (%s)", sorted(whole)))
            for row, job, subs in self._heads(db, rows, facts):
                for sid, (_, sub) in subs.items():
                    del sub["frames"]
                    if sid in sent:
                        sub["frame_rows"] = sent[sid]
                jobs[row[1]] = job
            jobs.update(self._count_heads(db, sorted(counted), sent, facts))
        return {"revision": revision, "reload": False, "jobs": jobs, "deleted": deleted, "refetch": refetch,
                "frame_columns": FEED_COLUMNS}

    @staticmethod
    def _watched_frames(db: Any, since: int, watched: dict[int, tuple[str, str]], changed: dict[int, int]
                        ) -> tuple[dict[int, list[tuple]], list[list[str]]]:
        """The changed frames of each watched subjob with at most ``WATCH_LIMIT`` of them, as rows of
        ``_FEED_COLS`` in frame order; the others, to ``refetch``."""
        small = sorted(sid for sid, n in changed.items() if n <= WATCH_LIMIT)
        refetch = [list(watched[sid]) for sid, n in sorted(changed.items()) if n > WATCH_LIMIT]
        sent: dict[int, list[tuple]] = {}
        # "subjob_id+0": the rev index, not the subjob's (which would read all 100,000 frames of a big one); one
        # statement a subjob (a monitor watches one), so that its rows come as they are, with nothing to strip
        sql = "SELECT %s FROM frames WHERE rev>? AND subjob_id+0=? ORDER BY number" % ", ".join(_FEED_COLS)
        for sid in small:
            sent[sid] = db.execute(sql, (since, sid)).fetchall()
        return sent, refetch

    def _count_heads(self, db: Any, job_ids: list[int], sent: dict[int, dict[str, Any]],
                     facts: FarmFacts | None = None) -> dict[str, Any]:
        """Jobs whose frames alone changed: status and counts of the job and of each subjob (and watched frames).
        Their rows, subjobs and blocklists are read in one statement each, for all of them (100 jobs changed in a
        poll cost three statements, not four hundred)."""
        subjobs, blocked = _subjobs_and_blocklists(db, job_ids)
        out: dict[str, Any] = {}
        for job_id, name, paused, extra in _rows_in(db, "SELECT id, name, paused, extra FROM jobs WHERE id IN (%s)",
                                                    job_ids):
            per = self._store.counts(job_id, db)
            total: dict[str, int] = {}
            for c in per.values():
                for k, v in c.items():
                    total[k] = total.get(k, 0) + v
            job: dict[str, Any] = {"counts_only": True, "status": scheduler.derive_status(total, bool(paused)),
                                   "frames": scheduler.summary(total), "paused": bool(paused), "subjobs": {}}
            subs = subjobs.get(job_id, ())
            for sid, sname, _ in subs:
                c = per.get(sid, {})
                s = scheduler.summary(c)
                sub: dict[str, Any] = {"status": scheduler.derive_status(c, bool(paused)),
                                       "complete": s["complete"], "total": s["total"], "failed": s["failed"],
                                       "waiting_for": None}
                if sid in sent:
                    sub["frame_rows"] = sent[sid]
                job["subjobs"][sname] = sub
            # A job whose frames alone changed may have started (or stopped) waiting: its waiting_for comes too.
            job["waiting_for"] = None
            queued = [sid for sid, _, _ in subs if per.get(sid, {}).get(scheduler.QUEUED)]
            if queued:
                facts = facts or FarmFacts(db, self._hosts)
                job["waiting_for"], texts = facts.waiting_for(
                    _parsed(extra), {sid: _parsed(x) for sid, _, x in subs}, queued, bool(paused),
                    blocked.get(job_id, []))
                names = {sid: sname for sid, sname, _ in subs}
                for sid, text in texts.items():
                    job["subjobs"][names[sid]]["waiting_for"] = text
            out[name] = job
        return out

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
            facts = FarmFacts(db, self._hosts)
            for job_id in sorted(job_ids):
                row = db.execute(_JOB_HEAD_SQL + " WHERE id=?", (job_id,)).fetchone()
                if row is None:
                    continue
                job, subs = self._job_head(db, row, facts=facts)
                jobs[row[1]] = job
                heads[job_id] = (job, subs)
            for f in frames:
                head = heads.get(f[1])
                if head:
                    head[1][f[2]][1]["frames"][str(f[3])] = frame_dict(f)
            return {"revision": revision, "reload": False, "jobs": jobs, "deleted": deleted}




def _subjob_ids(db: Any, job: str, subjob: str) -> tuple[int, int] | None:
    row = db.execute("SELECT j.id, s.id FROM subjobs s JOIN jobs j ON j.id=s.job_id WHERE j.name=? AND s.name=?",
                     (job, subjob)).fetchone()
    return None if row is None else (row[0], row[1])


def _subjob_id(db: Any, job: str, subjob: str) -> int | None:
    ids = _subjob_ids(db, job, subjob)
    return None if ids is None else ids[1]


def _subjobs_and_blocklists(db: Any, job_ids: list[int]
                            ) -> tuple[dict[int, list[tuple[int, str, str]]], dict[int, list[str]]]:
    """For many jobs at once: each one's subjobs ``(id, name, extra)`` in order, and the hosts that blocklisted it."""
    subjobs: dict[int, list[tuple[int, str, str]]] = {}
    for sid, job_id, sname, sextra in _rows_in(db, "SELECT id, job_id, name, extra FROM subjobs"
                                                    " WHERE job_id IN (%s) ORDER BY id", job_ids):
        subjobs.setdefault(job_id, []).append((sid, sname, sextra))
    blocked: dict[int, list[str]] = {}
    for job_id, host in _rows_in(db, "SELECT job_id, host FROM blocklist WHERE job_id IN (%s) AND blocked=1",
                                 job_ids):
        blocked.setdefault(job_id, []).append(host)
    return subjobs, blocked


def _rows_in(db: Any, sql: str, ids: list[int], chunk: int = 500) -> Iterator[tuple]:
    """The rows of ``sql % marks`` for ``ids``, in chunks of ``IN (...)`` (the engines bound host parameters)."""
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        yield from db.execute(sql % ",".join("?" * len(part)), part).fetchall()


@lru_cache(maxsize=4096)
def _parsed(extra: str) -> dict[str, Any]:
    """A job's or subjob's ``extra`` keys, parsed once per distinct text (read, never changed, by the heads)."""
    return json.loads(extra)


def _page_frame(r: tuple) -> dict[str, Any]:
    d = dict(zip(_PAGE_COLS[:-1], r[:-1]))
    if r[-1] != "{}":
        for k, v in json.loads(r[-1]).items():
            d.setdefault(k, v)
    return d
