"""Flags shared by the `farm-node` subcommands, and the one way a client command finds its node."""
from __future__ import annotations

import argparse
import json
import os
from typing import Any

from farm_node.errors import ConfigError


def node_flags(p: argparse.ArgumentParser) -> None:
    """The flags of a host that renders (`serve` and `worker`)."""
    from farm_node.config import Config
    d = Config()
    p.add_argument("--token", help="access token (default: FARM_TOKEN, else one kept in the data folder); a worker"
                                   " takes the coordinator's worker token")
    p.add_argument("--token-file", help="read the token from this file instead (keeps it out of `ps`)")
    p.add_argument("--name", help="host name this node reports (default: the machine's name)")
    p.add_argument("--tags", action="append", metavar="TAG[,TAG...]",
                   help="this host's tags, e.g. gpu,arnold (repeatable): jobs that require tags render only on hosts"
                        " holding them all")
    p.add_argument("--map", dest="path_map", action="append", metavar="FROM=TO",
                   help="map a path prefix in a frame's arguments before it runs here, e.g."
                        " Z:/projects=/mnt/projects (repeatable)")
    p.add_argument("--allow-mel", action="store_true", default=None,
                   help="let frames use Render's flags that run MEL (-preRender, -postRender, -preFrame, ...)")
    p.add_argument("--slots", type=int, help="frames rendered at once (default %d; 0: render nothing)" % d.slots)
    p.add_argument("--exe", action="append", metavar="NAME=PATH",
                   help="a program this host may run, e.g. render=/usr/autodesk/maya2024/bin/Render (repeatable)")
    p.add_argument("--data-dir", help="where the store, logs and backups live (default: the user data folder)")
    p.add_argument("--config", help="a TOML file of settings (default: FARM_CONFIG)")
    p.add_argument("--max-log-bytes", type=int,
                   help="log bytes kept per attempt (default %d MiB)" % (d.max_log_bytes // 2 ** 20))
    p.add_argument("--heartbeat", type=float, help="seconds between a worker's heartbeats (default %g)" % d.heartbeat)
    p.add_argument("--lost-after", type=float,
                   help="seconds of silence before a worker is lost (default %g)" % d.lost_after)
    p.add_argument("--block-after", type=int,
                   help="failed frames of a job before a host is blocklisted (default %d)" % d.block_after)


def client_flags(p: argparse.ArgumentParser, default: Any = None) -> None:
    """The flags of a command that talks to a running node.

    ``default=argparse.SUPPRESS`` lets a subcommand repeat flags its parent parser has: a value given before the
    subcommand is then not overwritten by the subcommand's default.
    """
    p.add_argument("--url", default=default,
                   help="the node's address, e.g. http://farm01:8750 (default: FARM_URL, else the node of --data-dir)")
    p.add_argument("--token", default=default,
                   help="the node's access token (default: FARM_TOKEN, else the token file of --data-dir)")
    p.add_argument("--data-dir", default=default,
                   help="data folder of a node running on this machine, to read its address and token from"
                        " (default: the user data folder)")


CLIENT_EXAMPLE = """The farm is found from --url and --token, else FARM_URL and FARM_TOKEN, else
the files of a node running on this machine (--data-dir, or the user data
folder). For example:
  export FARM_URL=http://farm01:8750
  export FARM_TOKEN=$(cat ~/.local/share/pyfarm/token)
"""


def config_flags(ns: argparse.Namespace) -> dict[str, Any]:
    """The flags given on the command line, for ``config.load``."""
    return {k: v for k, v in vars(ns).items() if v is not None and k not in ("command", "verbose", "config", "run")}


def locate(url: str | None, token: str | None, data_dir: str | None) -> tuple[str, str]:
    """The node's address and token: flags, then FARM_URL/FARM_TOKEN, then the files of a local node's data folder."""
    url = url or os.environ.get("FARM_URL")
    token = token or os.environ.get("FARM_TOKEN")
    if not url or not token:
        from farm_node.config import load
        folder = load({"data_dir": data_dir} if data_dir else {}).resolved_data_dir()
        if not url:
            try:
                with open(os.path.join(folder, "node.json"), encoding="utf-8") as f:
                    url = json.load(f)["url"]
            except (OSError, ValueError, KeyError):
                raise ConfigError("no node to talk to: give --url (or FARM_URL), or --data-dir of a node running on"
                                  " this machine") from None
        if not token:
            try:
                with open(os.path.join(folder, "token"), encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError:
                raise ConfigError("no token: give --token (or FARM_TOKEN)") from None
    return url, token
