"""`farm jobs` (one line a job) and `farm show JOB` (a job with its subjobs, and its frames with ``--frames``)."""
from __future__ import annotations

import argparse
import fnmatch
from typing import Any

from farm_node.cli.farm.connect import add_command

JOB_STATUSES = ("Queued", "Rendering", "Paused", "Complete", "Failed", "Cancelled")
FRAME_STATUSES = ("Queued", "Rendering", "Complete", "Failed", "Cancelled")
SHOWN_FRAMES = 200


def add_parser(sub: argparse._SubParsersAction) -> None:
    j = add_command(sub, "jobs", "list the jobs, one line each: status, frames done, failed, priority, user and "
                                 "what a job waits for",
                    examples="farm jobs\nfarm jobs --status Failed,Rendering\nfarm jobs --user anna --name 'shot01*'")
    j.add_argument("--status", type=_statuses(JOB_STATUSES), help="only jobs of these statuses (comma-separated: "
                   + ", ".join(JOB_STATUSES) + ")")
    j.add_argument("--user", help="only the jobs this user submitted")
    j.add_argument("--name", metavar="GLOB", help="only jobs whose name matches, e.g. 'shot01*'")
    j.set_defaults(run=run_jobs)

    s = add_command(sub, "show", "show a job with its subjobs, and with --frames its frames",
                    examples="farm show shot010_lighting\nfarm show shot010_lighting --frames --status Failed")
    s.add_argument("job", help="the job's name")
    s.add_argument("--frames", action="store_true", help="list the frames too")
    s.add_argument("--status", type=_statuses(FRAME_STATUSES + ("Paused",)),
                   help="only subjobs and frames of these statuses (comma-separated)")
    s.add_argument("--subjob", help="only this subjob")
    s.add_argument("--limit", type=int, default=SHOWN_FRAMES, metavar="N",
                   help="frames listed at most (default %d; 0: all; --json lists all)" % SHOWN_FRAMES)
    s.set_defaults(run=run_show)


def _statuses(known: tuple[str, ...]) -> Any:
    by_lower = {s.lower(): s for s in known}

    def parse(text: str) -> set[str]:
        out = set()
        for part in text.split(","):
            part = part.strip()
            if part.lower() not in by_lower:
                raise argparse.ArgumentTypeError("unknown status %r (one of %s)" % (part, ", ".join(known)))
            out.add(by_lower[part.lower()])
        return out
    return parse


def run_jobs(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    from farm_node.cli.farm.output import Column, text
    out = connect.output(ns)
    summary = connect.client(ns).summary()
    jobs = {name: job for name, job in summary["jobs"].items()
            if (not ns.status or job.get("status") in ns.status)
            and (not ns.user or job.get("user") == ns.user)
            and (not ns.name or fnmatch.fnmatchcase(name, ns.name))}
    if out.as_json:
        out.json({"revision": summary.get("revision"), "jobs": jobs})
        return 0
    columns = [Column("job", fold=True, min_width=20), Column("status", status=True), Column("done", "right"),
               Column("failed", "right"), Column("pri", "right"), Column("user", max_width=12),
               Column("waiting for", wrap=True)]
    rows = []
    for name, job in jobs.items():
        counts = job.get("frames") or {}
        rows.append([name, text(job.get("status")), "%d/%d" % (counts.get("complete", 0), counts.get("total", 0)),
                     text(counts.get("failed", 0)), text(job.get("priority")), text(job.get("user")),
                     text(job.get("waiting_for"))])
    if not rows:
        out.line("no jobs" + (" match" if ns.status or ns.user or ns.name else " on the farm"))
        return 0
    out.table(columns, rows)
    return 0


def job_fields(name: str, job: dict[str, Any]) -> list[tuple[str, str]]:
    from farm_node.cli.farm.output import text, when
    counts = job.get("frames") or {}
    pairs = [("job", name), ("status", text(job.get("status"))),
             ("frames", "%d/%d complete, %d failed, %d rendering, %d queued, %d cancelled" % tuple(
                 counts.get(k, 0) for k in ("complete", "total", "failed", "rendering", "queued", "cancelled"))),
             ("priority", text(job.get("priority"))), ("max attempts", text(job.get("max_attempts"))),
             ("frame timeout", text(job.get("frame_timeout"))), ("paused", text(job.get("paused"))),
             ("user", text(job.get("user"))), ("submitted", when(job.get("submitted"))),
             ("waiting for", text(job.get("waiting_for"))), ("depends on", text(job.get("depends_on"))),
             ("requires", text(job.get("requires"))), ("limits", text(job.get("limits"))),
             ("blocklist", text(job.get("blocklist")))]
    if job.get("comment"):
        pairs.append(("comment", text(job["comment"])))
    return pairs


def run_show(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect, lookup
    from farm_node.cli.farm.output import Column, text
    out = connect.output(ns)
    client = connect.client(ns)
    job = lookup.job_head(client, ns.job)
    subjobs = {name: sub for name, sub in (job.get("subjobs") or {}).items() if not ns.subjob or name == ns.subjob}
    if ns.subjob and not subjobs:
        from farm_node.errors import NotFound
        raise NotFound("no subjob named %r in job %r" % (ns.subjob, ns.job))
    statuses = sorted(ns.status or ())
    if not ns.frames and statuses:
        subjobs = {n: s for n, s in subjobs.items() if s.get("status") in statuses}
    frame_rows: list[tuple[str, dict[str, Any]]] = []
    matching = 0
    if ns.frames:
        # Pages of the frames shown, never the whole job: --json lists every frame that passes the filter.
        left = None if out.as_json or ns.limit <= 0 else ns.limit
        frame_statuses = [s for s in statuses if s in FRAME_STATUSES]
        for sname, sub in subjobs.items():
            if statuses and not frame_statuses:  # --status Paused: a state of jobs and subjobs, never of a frame
                sub["frames"] = {}
                continue
            total, rows = lookup.frames(client, ns.job, sname, frame_statuses, left)
            matching += total
            kept = list(rows)
            frame_rows += [(sname, f) for f in kept]
            sub["frames"] = {str(f["number"]): f for f in kept}
            if left is not None:
                left -= len(kept)
    if out.as_json:
        out.json(dict(job, subjobs=subjobs))
        return 0
    out.fields(job_fields(ns.job, job))
    sub_columns = [Column("subjob", fold=True), Column("status", status=True), Column("done", "right"),
                   Column("failed", "right"), Column("layer", fold=True), Column("camera", fold=True)]
    out.table(sub_columns, [[name, text(s.get("status")), "%d/%d" % (s.get("complete", 0), s.get("total", 0)),
                             text(s.get("failed", 0)), text(s.get("layer")), text(s.get("camera"))]
                            for name, s in subjobs.items()])
    if ns.frames:
        more = matching - len(frame_rows)
        frame_columns = [Column("subjob", fold=True), Column("frame", "right"), Column("status", status=True),
                         Column("host", fold=True), Column("pid", "right"), Column("try", "right"),
                         Column("%", "right"), Column("exit", "right"), Column("error", wrap=True)]
        out.table(frame_columns, [[s, text(f.get("number")), text(f.get("status")), text(f.get("host")),
                                   text(f.get("pid")), text(f.get("attempts")), _percent(f),
                                   text(f.get("exit_code")), text(f.get("error"))] for s, f in frame_rows],
                  caption="%d more frame(s): --limit 0 lists all" % more if more else None)
    return 0


def _percent(frame: dict[str, Any]) -> str:
    progress = frame.get("progress")
    if not isinstance(progress, (int, float)) or frame.get("status") not in ("Rendering", "Complete"):
        return ""
    return "%d" % progress
