"""`farm-node`: a thin front end; each subcommand hands its flags to the module that does the work."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from farm_node import __version__
from farm_node.errors import FarmNodeError


def _node_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token", help="access token (default: FARM_TOKEN, else one kept in the data folder)")
    p.add_argument("--name", help="host name this node reports (default: the machine's name)")
    p.add_argument("--slots", type=int, help="frames rendered at once (default 1; 0: render nothing)")
    p.add_argument("--exe", action="append", metavar="NAME=PATH",
                   help="a program this host may run, e.g. render=/usr/autodesk/maya2024/bin/Render (repeatable)")
    p.add_argument("--data-dir", help="where the store, logs and backups live (default: the user data folder)")
    p.add_argument("--config", help="a TOML file of settings (default: FARM_CONFIG)")
    p.add_argument("--max-log-bytes", type=int, help="log bytes kept per attempt (default 512 MiB)")
    p.add_argument("--heartbeat", type=float, help="seconds between a worker's heartbeats (default 5)")
    p.add_argument("--lost-after", type=float, help="seconds of silence before a worker is lost (default 15)")
    p.add_argument("--block-after", type=int, help="failed frames of a job before a host is blocklisted (default 3)")


def _client_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="the node's address (default: FARM_URL, else the node of --data-dir)")
    p.add_argument("--token", help="access token (default: FARM_TOKEN, else the token of --data-dir)")
    p.add_argument("--data-dir", help="data folder of a node on this machine, to find its address and token")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="farm-node", description="PyFarm's render farm node.")
    p.add_argument("--version", action="version", version="%(prog)s " + __version__)
    p.add_argument("-v", "--verbose", action="store_true", help="log what the node does")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("serve", help="run a standalone node: coordinator, store and local renderer")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1: loopback only)")
    s.add_argument("--port", type=int, help="port to listen on (default 8750; 0 picks a free one)")
    s.add_argument("--backup-interval", type=float, help="seconds between automatic XML backups (0: none)")
    s.add_argument("--backup-keep", type=int, help="automatic backups kept (default 24)")
    _node_flags(s)
    w = sub.add_parser("worker", help="run a render host that takes frames from a coordinator")
    w.add_argument("--coordinator", help="the coordinator's address, e.g. http://farm01:8750")
    _node_flags(w)
    d = sub.add_parser("demo", help="render the original design's Job1 on a throwaway node, live")
    d.add_argument("--data-dir", help="keep the demo node's data here (default: a temporary folder)")
    d.add_argument("--seconds", type=float, default=1.5, help="render time per frame of the stand-in")
    b = sub.add_parser("backup", help="save a running node's queue (or one job) as XML")
    b.add_argument("file", help="the XML file to write ('-' for standard output)")
    b.add_argument("--job", help="only this job")
    _client_flags(b)
    r = sub.add_parser("restore", help="load jobs from an XML backup into a running node")
    r.add_argument("file", help="the XML file to read")
    r.add_argument("--replace", action="store_true", help="replace jobs whose names are already on the node")
    _client_flags(r)
    return p


def _flags(ns: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(ns).items() if v is not None and k not in ("command", "verbose", "config")}


def main(argv: list[str] | None = None) -> int:
    p = parser()
    ns = p.parse_args(argv)
    if not ns.command:
        p.print_help()
        return 2
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        if ns.command == "serve":
            from farm_node import config, server
            return server.serve(config.load(_flags(ns), config_file=ns.config))
        if ns.command == "worker":
            from farm_node import config, worker
            return worker.run(config.load(_flags(ns), config_file=ns.config))
        if ns.command == "demo":
            from farm_node import demo
            return demo.run(data_dir=ns.data_dir, seconds=ns.seconds)
        if ns.command in ("backup", "restore"):
            from farm_node import backup_cli
            return backup_cli.run(ns)
    except FarmNodeError as exc:
        print("farm-node: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2
