"""`farm-node serve`: a standalone node (coordinator, store, local render slots)."""
from __future__ import annotations

import argparse

from farm_node.cli.common import config_flags, node_flags


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="run a standalone node: coordinator, store and local renderer")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1: loopback only)")
    s.add_argument("--port", type=int, help="port to listen on (default 8750; 0 picks a free one)")
    s.add_argument("--backup-interval", type=float, help="seconds between automatic XML backups (0: none)")
    s.add_argument("--backup-keep", type=int, help="automatic backups kept (default 24)")
    s.add_argument("--store", help="where the farm is kept: the embedded SQLite file under --data-dir (default), or"
                                   " postgresql://USER@HOST:PORT/DB, which several coordinators can share")
    s.add_argument("--worker-token", help="the render hosts' token (default: FARM_WORKER_TOKEN, else one kept in"
                                          " DATA_DIR/worker-token)")
    node_flags(s)
    s.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from farm_node import config, server
    return server.serve(config.load(config_flags(ns), config_file=ns.config))
