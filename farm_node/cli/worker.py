"""`farm-node worker`: a render host of a coordinator."""
from __future__ import annotations

import argparse

from farm_node.cli.common import config_flags, node_flags


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("worker", help="run a render host that takes frames from a coordinator")
    w.add_argument("--coordinator", help="the coordinator's address, e.g. http://farm01:8750")
    node_flags(w)
    w.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from farm_node import config, worker
    return worker.run(config.load(config_flags(ns), config_file=ns.config))
