"""`farm hosts` (the render hosts) and `farm blocklist JOB [--clear [HOST]]` (the hosts a job no longer gets)."""
from __future__ import annotations

import argparse
from typing import Any

from farm_node.cli.farm.connect import add_command

ALL = "\0all"    # --clear without a host


def add_parser(sub: argparse._SubParsersAction) -> None:
    h = add_command(sub, "hosts", "list the render hosts: state, tags, slots, frames in hand, last seen",
                    examples="farm hosts\nfarm hosts --json")
    h.set_defaults(run=run_hosts)
    b = add_command(sub, "blocklist", "show the hosts a job has blocklisted (after failing its frames), or let them "
                                      "render it again",
                    examples="farm blocklist shot010_lighting\nfarm blocklist shot010_lighting --clear\n"
                             "farm blocklist shot010_lighting --clear render07")
    b.add_argument("job", help="the job's name")
    b.add_argument("--clear", nargs="?", const=ALL, metavar="HOST",
                   help="clear the job's blocklist, or only HOST's entry")
    b.set_defaults(run=run_blocklist)


def host_rows(workers: list[dict[str, Any]]) -> list[list[str]]:
    from farm_node.cli.farm.output import ago, text
    return [[text(w.get("name")), text(w.get("state")), text(w.get("tags")), text(w.get("slots")),
             text(w.get("frames")), ago(w.get("last_seen"), seconds=w.get("seen_ago")),
             text(w.get("blocklisted"))] for w in workers]


def run_hosts(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    from farm_node.cli.farm.output import Column
    out = connect.output(ns)
    workers = connect.client(ns).workers()
    if out.as_json:
        out.json({"workers": workers})
        return 0
    if not workers:
        out.line("no render hosts")
        return 0
    columns = [Column("host", fold=True), Column("state", status=True), Column("tags", wrap=True),
               Column("slots", "right"), Column("frames", "right"), Column("last seen"),
               Column("blocklisted by", wrap=True)]
    out.table(columns, host_rows(workers))
    return 0


def run_blocklist(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect, lookup
    out = connect.output(ns)
    client = connect.client(ns)
    if ns.clear is not None:
        answer = client.clear_blocklist(ns.job, None if ns.clear == ALL else ns.clear)
    else:
        answer = {"job": ns.job, "blocklist": list(lookup.job_head(client, ns.job).get("blocklist") or [])}
    if out.as_json:
        out.json(answer)
        return 0
    hosts = answer.get("blocklist") or []
    if ns.clear is not None:
        cleared = "the blocklist of %s" % ns.job if ns.clear == ALL else "%s from the blocklist of %s" % (
            ns.clear, ns.job)
        out.line("cleared %s%s" % (cleared, "; still blocklisted: " + ", ".join(hosts) if hosts else ""))
    elif hosts:
        out.line("%s is not rendered by: %s" % (ns.job, ", ".join(hosts)))
    else:
        out.line("%s has no blocklisted host" % ns.job)
    return 0
