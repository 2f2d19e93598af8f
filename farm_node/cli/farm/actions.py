"""`farm pause`, `resume`, `cancel`, `delete` and `retry`: the job actions of docs/API.md section 2."""
from __future__ import annotations

import argparse
import sys

from farm_node.cli.farm.connect import add_command
from farm_node.errors import ConfigError

SIMPLE = {
    "pause": ("pause a job: no new frame of it starts (rendering frames finish)", "paused {job}"),
    "resume": ("resume a paused job", "resumed {job}"),
    "cancel": ("cancel a job: its queued frames are cancelled and its rendering ones killed",
               "cancelled {cancelled} frame(s) of {job}"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name, (summary, _) in SIMPLE.items():
        p = add_command(sub, name, summary, examples="farm %s shot010_lighting" % name)
        p.add_argument("job", help="the job's name")
        p.set_defaults(run=run)
    d = add_command(sub, "delete", "delete a job, killing its rendering frames first",
                    examples="farm delete shot010_lighting\nfarm delete shot010_lighting --yes")
    d.add_argument("job", help="the job's name")
    d.add_argument("--yes", "-y", action="store_true", help="do not ask first (needed when not at a terminal)")
    d.set_defaults(run=run_delete)
    r = add_command(sub, "retry", "queue a job's failed and cancelled frames again, or the frames named",
                    examples="farm retry shot010_lighting\nfarm retry shot010_lighting --subjob beauty"
                             " --frames 1-10,15")
    r.add_argument("job", help="the job's name")
    r.add_argument("--subjob", help="only this subjob (alone: every frame of it, whatever its status)")
    r.add_argument("--frames", type=frame_list, metavar="LIST",
                   help="only these frames, e.g. 1-10,15 or 1-100x5 (whatever their status)")
    r.set_defaults(run=run_retry)


def frame_list(text: str) -> list[int]:
    from maya_plugin.errors import FrameListError
    from maya_plugin.frames import parse_frames
    try:
        return parse_frames(text)
    except FrameListError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    out = connect.output(ns)
    answer = getattr(connect.client(ns), ns.command)(ns.job)
    if out.as_json:
        out.json(answer)
    else:
        out.line(SIMPLE[ns.command][1].format(**dict(answer, job=ns.job)))
    return 0


def run_delete(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect, lookup
    out = connect.output(ns)
    client = connect.client(ns)
    if not ns.yes:
        if not sys.stdin.isatty():
            raise ConfigError("delete %s: say --yes to delete a job when no one is at the terminal to ask" % ns.job)
        head = lookup.job_head(client, ns.job)
        counts = head.get("frames") or {}
        sys.stderr.write("delete job %s (%s, %d/%d frames complete, %d rendering)? [y/N] " % (
            ns.job, head.get("status"), counts.get("complete", 0), counts.get("total", 0), counts.get("rendering", 0)))
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            out.note("not deleted")
            return 1
    answer = client.delete(ns.job)
    if out.as_json:
        out.json(answer)
    else:
        out.line("deleted %s" % ns.job)
    return 0


def run_retry(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    out = connect.output(ns)
    answer = connect.client(ns).retry(ns.job, ns.subjob, ns.frames)
    if out.as_json:
        out.json(answer)
    else:
        out.line("queued %d frame(s) of %s again" % (answer.get("retried", 0), ns.job))
    return 0
