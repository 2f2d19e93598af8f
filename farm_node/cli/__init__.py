"""`farm-node`: a thin front end, one module per subcommand (``add_parser(sub)`` and ``run(ns)``).

Each ``run`` imports what it needs when it runs, so `farm-node --help` loads no web server and no database.
"""
from __future__ import annotations

import argparse
import logging
import sys

from farm_node import __version__
from farm_node.errors import FarmNodeError


def parser() -> argparse.ArgumentParser:
    from farm_node.cli import backup, demo, serve, worker
    p = argparse.ArgumentParser(prog="farm-node", description="PyFarm's render farm node.")
    p.add_argument("--version", action="version", version="%(prog)s " + __version__)
    p.add_argument("-v", "--verbose", action="store_true", help="log what the node does")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in (serve, worker, demo, backup):
        module.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    ns = p.parse_args(argv)
    if not ns.command:
        p.print_help()
        return 2
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return ns.run(ns)
    except FarmNodeError as exc:
        print("farm-node: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
