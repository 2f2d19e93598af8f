"""`farm-node backup` and `farm-node restore`: talk to a running node through FarmClient."""
from __future__ import annotations

import argparse
import json
import os
import sys

from farm_node.errors import ConfigError


def _locate(ns: argparse.Namespace) -> tuple[str, str]:
    """The node's address and token: flags, then FARM_URL/FARM_TOKEN, then the files of a local node's data folder."""
    url = ns.url or os.environ.get("FARM_URL")
    token = ns.token or os.environ.get("FARM_TOKEN")
    if not url or not token:
        from farm_node.config import load
        data_dir = load({"data_dir": ns.data_dir} if ns.data_dir else {}).resolved_data_dir()
        if not url:
            try:
                with open(os.path.join(data_dir, "node.json"), encoding="utf-8") as f:
                    url = json.load(f)["url"]
            except (OSError, ValueError, KeyError):
                raise ConfigError("no node to talk to: give --url (or FARM_URL), or --data-dir of a node running on"
                                  " this machine") from None
        if not token:
            try:
                with open(os.path.join(data_dir, "token"), encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError:
                raise ConfigError("no token: give --token (or FARM_TOKEN)") from None
    return url, token


def run(ns: argparse.Namespace) -> int:
    from maya_plugin.farm_client import FarmClient, FarmError
    url, token = _locate(ns)
    client = FarmClient(url, token, timeout=600)
    try:
        if ns.command == "backup":
            data = client.backup_xml(ns.job)
            if ns.file == "-":
                sys.stdout.buffer.write(data)
            else:
                tmp = ns.file + ".part"
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, ns.file)
                print("saved %s (%d bytes) from %s" % (ns.file, len(data), url), file=sys.stderr)
            return 0
        with open(ns.file, "rb") as f:
            data = f.read()
        names = client.restore_xml(data, replace=ns.replace)
        print("restored %d job(s) into %s: %s" % (len(names), url, ", ".join(names)), file=sys.stderr)
        return 0
    except FarmError as exc:
        print("farm-node %s: %s" % (ns.command, exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print("farm-node %s: %s: %s" % (ns.command, ns.file, exc.strerror), file=sys.stderr)
        return 1
