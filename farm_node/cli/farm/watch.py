"""`farm watch [JOB]`: a live table of the farm's jobs (or of one job: its subjobs and rendering frames).

It starts from the summary (small however many frames the farm holds) and then long-polls the changes feed narrowed
to it: each answer carries the changed jobs' fields and subjobs' counts, and frames only of the subjobs of the job
watched (compact rows), so the display is kept with nothing else downloaded. On a terminal it is redrawn in place
and fits the terminal's width; elsewhere each change is printed once, as a line. `farm watch JOB` ends when the job
has ended; `farm watch` runs until Ctrl-C.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from farm_node.cli.farm.connect import add_command

WAIT = 5.0          # seconds of one long poll: the display's clock and "last seen" move at least this often
MIN_REDRAW = 0.25   # seconds between redraws on a busy farm (the feed can answer twenty times a second)
ACTIVE = ("Rendering", "Queued", "Paused")
SHOWN_RENDERING = 200   # rendering frames kept per subjob: more than a terminal shows


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = add_command(sub, "watch", "a live table of the jobs, or of one job's subjobs and rendering frames, "
                                  "redrawn in place",
                    examples="farm watch\nfarm watch shot010_lighting")
    w.add_argument("job", nargs="?", help="watch this job until it ends")
    w.set_defaults(run=run)


class FarmView:
    """The jobs as the feed told them (fields and subjob counts, no frames) and the watched job's rendering frames.

    ``client`` reads the rendering frames of the watched job's subjobs when the view starts and when the feed says
    a subjob changed too much to be sent frame by frame (``refetch``).
    """

    def __init__(self, client: Any, summary: dict[str, Any], job: str | None = None) -> None:
        self.client = client
        self.job = job
        self.revision = summary["revision"]
        self.jobs: dict[str, dict[str, Any]] = {}
        self.rendering: dict[tuple[str, int], dict[str, Any]] = {}
        self.changed: set[str] = set()
        for name, head in summary["jobs"].items():
            self._take(name, head)
        for sname in self.watched_subjobs():
            self._refetch(sname)

    def watched_subjobs(self) -> list[str]:
        return list((self.jobs.get(self.job) or {}).get("subjobs") or {}) if self.job else []

    def apply(self, answer: dict[str, Any]) -> None:
        self.revision = answer["revision"]
        self.changed = set()
        if answer.get("reload"):
            self.changed = set(self.jobs)
            self.jobs = {}
        for name in answer.get("deleted") or ():
            self.jobs.pop(name, None)
            self.changed.add(name)
        for name, head in (answer.get("jobs") or {}).items():
            self._take(name, head, answer)
            self.changed.add(name)
        for job, sname in answer.get("refetch") or ():
            if job == self.job:
                self._refetch(sname)

    def _take(self, name: str, head: dict[str, Any], answer: dict[str, Any] | None = None) -> None:
        """A job's head from the feed (``answer``) or the summary: whole when the job's own row changed, else its
        counts (``counts_only``) to merge into what the view has."""
        from maya_plugin.farm_client import feed_frames

        old = self.jobs.get(name) or {}
        fields = {k: v for k, v in head.items() if k not in ("subjobs", "counts_only")}
        job = dict(old, **fields) if head.get("counts_only") else fields
        subjobs = dict(old.get("subjobs") or {})
        for sname, sub in (head.get("subjobs") or {}).items():
            subjobs[sname] = dict(subjobs.get(sname) or {}, **{k: v for k, v in sub.items() if k != "frame_rows"})
            if name == self.job and answer is not None:
                for number, frame in feed_frames(answer, sub).items():
                    self._frame(sname, number, frame)
        job["subjobs"] = subjobs
        self.jobs[name] = job

    def _frame(self, sname: str, number: int, frame: dict[str, Any]) -> None:
        if frame.get("status") == "Rendering":
            self.rendering[(sname, number)] = dict(self.rendering.get((sname, number)) or {}, **frame)
        else:
            self.rendering.pop((sname, number), None)

    def _refetch(self, sname: str) -> None:
        for key in [k for k in self.rendering if k[0] == sname]:
            del self.rendering[key]
        page = self.client.frames(self.job, sname, 0, SHOWN_RENDERING, status=["Rendering"])
        for frame in page["frames"]:
            self.rendering[(sname, int(frame["number"]))] = frame


def job_row(name: str, job: dict[str, Any]) -> list[str]:
    from farm_node.cli.farm.output import text
    counts = job.get("frames") or {}
    return [name, text(job.get("status")), "%d/%d" % (counts.get("complete", 0), counts.get("total", 0)),
            text(counts.get("failed", 0)), text(counts.get("rendering", 0)), text(job.get("priority")),
            text(job.get("user")), text(job.get("waiting_for"))]


def _job_columns() -> list[Any]:
    from farm_node.cli.farm.output import Column
    return [Column("job", fold=True, min_width=20), Column("status", status=True), Column("done", "right"),
            Column("failed", "right"), Column("rendering", "right"), Column("pri", "right"),
            Column("user", max_width=12), Column("waiting for", wrap=True)]


def _ordered(jobs: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Jobs that still render or wait first, the newest first within each group."""
    items = list(jobs.items())[::-1]
    return [i for i in items if i[1].get("status") in ACTIVE] + [i for i in items if i[1].get("status") not in ACTIVE]


def farm_display(url: str, view: FarmView, workers: list[dict[str, Any]]) -> Any:
    from farm_node.cli.farm.output import group, plain, rich_table
    states: dict[str, int] = {}
    for w in workers:
        states[w.get("state", "?")] = states.get(w.get("state", "?"), 0) + 1
    hosts = ", ".join("%d %s" % (n, s) for s, n in sorted(states.items())) or "none"
    title = "%s  %s  %d job(s)  hosts: %s" % (time.strftime("%H:%M:%S"), url, len(view.jobs), hosts)
    if not view.jobs:
        return group(plain(title), plain("no jobs on the farm"))
    return group(plain(title), rich_table(_job_columns(), [job_row(n, j) for n, j in _ordered(view.jobs)]))


def job_display(name: str, view: FarmView) -> Any:
    from farm_node.cli.farm.output import Column, group, plain, rich_table, text
    job = view.jobs[name]
    counts = job.get("frames") or {}
    head = "%s  %s  %s  %d/%d done, %d failed, %d rendering  priority %s%s" % (
        time.strftime("%H:%M:%S"), name, job.get("status"), counts.get("complete", 0), counts.get("total", 0),
        counts.get("failed", 0), counts.get("rendering", 0), text(job.get("priority")),
        "  user " + text(job.get("user")) if job.get("user") else "")
    parts = [plain(head)]
    if job.get("waiting_for"):
        parts.append(plain("waiting for: " + text(job["waiting_for"])))
    subs = [[s, text(v.get("status")), "%d/%d" % (v.get("complete", 0), v.get("total", 0)), text(v.get("failed", 0))]
            for s, v in (job.get("subjobs") or {}).items()]
    parts.append(rich_table([Column("subjob", fold=True), Column("status", status=True), Column("done", "right"),
                             Column("failed", "right")], subs))
    frames = sorted(view.rendering.items())
    if frames:
        parts.append(rich_table([Column("subjob", fold=True), Column("frame", "right"), Column("host", fold=True),
                                 Column("pid", "right"), Column("try", "right"), Column("%", "right")],
                                [[s, str(n), text(f.get("host")), text(f.get("pid")), text(f.get("attempts")),
                                  "%d" % (f.get("progress") or 0)] for (s, n), f in frames],
                                title="rendering"))
    return group(*parts)


def run(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect, lookup
    from farm_node.cli.farm.output import plain_table
    out = connect.output(ns)
    client = connect.client(ns)
    if ns.job is not None:
        lookup.job_head(client, ns.job)  # the farm's own words for a job it does not have
    view = FarmView(client, client.summary(), ns.job)
    printed: dict[str, list[str]] = {}

    def plain_lines() -> None:
        """Off a terminal: each job's row once, when it changes."""
        for name in [ns.job] if ns.job else list(view.jobs):
            row = job_row(name, view.jobs[name])
            if printed.get(name) != row:
                printed[name] = row
                out.raw(time.strftime("%H:%M:%S ") + plain_table(_job_columns(), [row])[1] + "\n")

    try:
        with out.live() as live:
            last = 0.0
            first = True
            while True:
                if ns.job is not None and ns.job not in view.jobs:
                    from farm_node.errors import NotFound
                    raise NotFound("job %r was deleted" % ns.job)
                news = first or (ns.job in view.changed if ns.job else bool(view.changed))
                first = False
                if out.as_json:
                    if news:
                        out.json_line({"revision": view.revision,
                                       "jobs": {ns.job: view.jobs[ns.job]} if ns.job else view.jobs})
                elif out.tty:
                    live.show(job_display(ns.job, view) if ns.job else
                              farm_display(client.url, view, client.workers()))
                else:
                    plain_lines()
                if ns.job is not None and view.jobs[ns.job].get("status") not in ACTIVE:
                    return 0
                pause = MIN_REDRAW - (time.monotonic() - last)
                if pause > 0:
                    time.sleep(pause)
                last = time.monotonic()
                watch = [(ns.job, s) for s in view.watched_subjobs()]
                view.apply(client.changes(view.revision, wait=WAIT, watch=watch))
    except KeyboardInterrupt:   # how one leaves `farm watch`
        return 0
