"""How a `farm` command reaches the farm: the flags every command shares, its client and its output."""
from __future__ import annotations

import argparse
import textwrap
from typing import Any

from farm_node.cli.common import CLIENT_EXAMPLE, client_flags

TIMEOUT = 60.0      # seconds; a summary of a big farm or a big job takes a while to build and send


def common_flags(p: argparse.ArgumentParser, default: Any = None) -> None:
    """--url, --token, --data-dir and --json: on `farm` itself and on every command (``default=SUPPRESS`` there,
    so that ``farm --json jobs`` and ``farm jobs --json`` both work)."""
    client_flags(p, default)
    p.add_argument("--json", action="store_true", default=False if default is None else default,
                   help="print the API's answer as JSON instead of a table")


def add_command(sub: argparse._SubParsersAction, name: str, summary: str, examples: str = "",
                description: str | None = None) -> argparse.ArgumentParser:
    """A `farm NAME` parser with the shared flags, and its examples and the way to the farm in ``--help``."""
    epilog = ("examples:\n" + "".join("  %s\n" % e for e in examples.strip().splitlines()) + "\n"
              if examples else "") + CLIENT_EXAMPLE
    description = textwrap.fill(description or summary[0].upper() + summary[1:] + ".", 78)
    p = sub.add_parser(name, help=summary, description=description,
                       epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_flags(p, argparse.SUPPRESS)
    return p


def client(ns: argparse.Namespace, timeout: float = TIMEOUT) -> Any:
    from farm_node.cli.common import locate
    from maya_plugin.farm_client import FarmClient
    url, token = locate(ns.url, ns.token, ns.data_dir)
    return FarmClient(url, token, timeout=timeout)


def output(ns: argparse.Namespace) -> Any:
    from farm_node.cli.farm.output import Output
    return Output(as_json=bool(ns.json))
