"""`farm-node backup` and `farm-node restore`: talk to a running node through FarmClient (the one arrow from
`farm_node` to `maya_plugin`: the client is the same one the panel and the Maya side use)."""
from __future__ import annotations

import argparse
import os
import sys

from farm_node.cli.common import client_flags, locate


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="save a running node's queue (or one job) as XML")
    b.add_argument("file", help="the XML file to write ('-' for standard output)")
    b.add_argument("--job", help="only this job")
    client_flags(b)
    b.set_defaults(run=run)
    r = sub.add_parser("restore", help="load jobs from an XML backup into a running node")
    r.add_argument("file", help="the XML file to read")
    r.add_argument("--replace", action="store_true", help="replace jobs whose names are already on the node")
    client_flags(r)
    r.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from maya_plugin.farm_client import FarmClient, FarmError
    url, token = locate(ns.url, ns.token, ns.data_dir)
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
