"""`farm limits` and `farm limit NAME CAPACITY | --delete`: the farm-wide limits (licences and the like) of
docs/API.md section 6."""
from __future__ import annotations

import argparse

from farm_node.cli.farm.connect import add_command
from farm_node.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    ls = add_command(sub, "limits", "list the farm's limits: capacity and units in use",
                     examples="farm limits")
    ls.set_defaults(run=run_limits)
    one = add_command(sub, "limit", "set a limit's capacity (making it if need be), or delete it",
                      examples="farm limit arnold 4\nfarm limit arnold --delete")
    one.add_argument("name", help="the limit's name, e.g. arnold")
    one.add_argument("capacity", type=int, nargs="?", help="units the farm's rendering frames may hold at once")
    one.add_argument("--delete", action="store_true", help="remove the limit")
    one.set_defaults(run=run_limit)


def run_limits(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    from farm_node.cli.farm.output import Column, text
    out = connect.output(ns)
    limits = connect.client(ns).limits()
    if out.as_json:
        out.json({"limits": limits})
        return 0
    if not limits:
        out.line("no limits on the farm")
        return 0
    out.table([Column("limit", fold=True), Column("in use", "right"), Column("capacity", "right")],
              [[name, text(v.get("in_use")), text(v.get("capacity"))] for name, v in sorted(limits.items())])
    return 0


def run_limit(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    if ns.delete == (ns.capacity is not None):
        raise ConfigError("give a capacity (farm limit %s 4) or --delete, one of them" % ns.name)
    out = connect.output(ns)
    client = connect.client(ns)
    if ns.delete:
        answer = client.delete_limit(ns.name)
        message = "deleted limit %s" % ns.name
    else:
        answer = client.set_limit(ns.name, ns.capacity)
        message = "limit %s: capacity %d" % (ns.name, ns.capacity)
    if out.as_json:
        out.json(answer)
    else:
        out.line(message)
    return 0
