"""`farm watch [JOB]`: a live table of the farm's jobs (or of one job: its subjobs and rendering frames).

It starts from the summary (small however many frames the farm holds) and then long-polls the changes feed, whose
answers carry every changed job's fields and subjobs' counts and only the frames that changed: the display is
kept from those, with no further download. On a terminal it is redrawn in place and fits the terminal's width;
elsewhere each change is printed once, as a line. `farm watch JOB` ends when the job has ended; `farm watch` runs
until Ctrl-C.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from farm_node.cli.farm.connect import add_command

WAIT = 5.0          # seconds of one long poll: the display's clock and "last seen" move at least this often
MIN_REDRAW = 0.25   # seconds between redraws on a busy farm (the feed can answer twenty times a second)
ACTIVE = ("Rendering", "Queued", "Paused")


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = add_command(sub, "watch", "a live table of the jobs, or of one job's subjobs and rendering frames, "
                                  "redrawn in place",
                    examples="farm watch\nfarm watch shot010_lighting")
    w.add_argument("job", nargs="?", help="watch this job until it ends")
    w.set_defaults(run=run)


class FarmView:
    """The jobs as the feed told them: fields and subjob counts (no frames), and each job's rendering frames."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.revision = summary["revision"]
        self.jobs: dict[str, dict[str, Any]] = {}
        self.rendering: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
        self.changed: set[str] = set()
        for name, job in summary["jobs"].items():
            self._take(name, job, replace=True)

    def apply(self, answer: dict[str, Any]) -> None:
        self.revision = answer["revision"]
        self.changed = set()
        if answer.get("reload"):
            self.changed = set(self.jobs)
            self.jobs, self.rendering = {}, {}
        for name in answer.get("deleted") or ():
            self.jobs.pop(name, None)
            self.rendering.pop(name, None)
            self.changed.add(name)
        for name, job in (answer.get("jobs") or {}).items():
            self._take(name, job, replace=bool(answer.get("reload")))
            self.changed.add(name)

    def _take(self, name: str, job: dict[str, Any], replace: bool) -> None:
        old = {} if replace else (self.jobs.get(name) or {}).get("subjobs") or {}
        subjobs = dict(old)
        frames = self.rendering.setdefault(name, {})
        for sname, sub in (job.get("subjobs") or {}).items():
            for number, frame in (sub.get("frames") or {}).items():
                if frame.get("status") == "Rendering":
                    frames[(sname, int(number))] = frame
                else:
                    frames.pop((sname, int(number)), None)
            subjobs[sname] = {k: v for k, v in sub.items() if k != "frames"}
        self.jobs[name] = dict({k: v for k, v in job.items() if k != "subjobs"}, subjobs=subjobs)


def job_row(name: str, job: dict[str, Any]) -> list[str]:
    from farm_node.cli.farm.output import text
    counts = job.get("frames") or {}
    return [name, text(job.get("status")), "%d/%d" % (counts.get("complete", 0), counts.get("total", 0)),
            text(counts.get("failed", 0)), text(counts.get("rendering", 0)), text(job.get("priority")),
            text(job.get("user")), text(job.get("waiting_for"))]


def _job_columns() -> list[Any]:
    from farm_node.cli.farm.output import Column
    return [Column("job", fold=True, min_width=20), Column("status", status=True), Column("done", "right"),
            Column("failed", "right"), Column("rendering", "right"), Column("pri", "right"), Column("user", max_width=12),
            Column("waiting for", wrap=True)]


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
    frames = sorted(view.rendering.get(name, {}).items())
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
    summary = client.summary()
    if ns.job is not None and ns.job not in summary["jobs"]:
        lookup.job_head(client, ns.job)  # the farm's own words for a job it does not have
    view = FarmView(summary)
    printed: dict[str, list[str]] = {}

    def plain_lines() -> None:
        """Off a terminal: each job row (and frame start) once, when it changes."""
        names = [ns.job] if ns.job else list(view.jobs)
        for name in names:
            if name not in view.jobs:
                continue
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
                view.apply(client.changes(view.revision, wait=WAIT))
    except KeyboardInterrupt:   # how one leaves `farm watch`
        return 0
