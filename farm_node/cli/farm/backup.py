"""`farm backup FILE.xml [--job NAME]` and `farm restore FILE.xml [--replace]`: as `farm-node backup/restore`
(the same code, farm_node/cli/backup.py), with their progress shown on a terminal."""
from __future__ import annotations

import argparse

from farm_node.cli.farm.connect import add_command
from farm_node.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = add_command(sub, "backup", "save the farm's queue (or one job) as XML, with its progress shown",
                    examples="farm backup queue.xml\nfarm backup shot010.xml --job shot010_lighting\n"
                             "farm backup - | gzip > queue.xml.gz")
    b.add_argument("file", help="the XML file to write ('-': standard output)")
    b.add_argument("--job", help="only this job")
    b.set_defaults(run=run_backup)
    r = add_command(sub, "restore", "load the jobs of an XML backup into the farm, with its progress shown; a job "
                                    "name the farm has already is refused before the file is sent, unless "
                                    "--replace", examples="farm restore queue.xml\nfarm restore queue.xml --replace")
    r.add_argument("file", help="the XML file to read")
    r.add_argument("--replace", action="store_true", help="replace the jobs whose names the farm has already")
    r.set_defaults(run=run_restore)


def run_backup(ns: argparse.Namespace) -> int:
    from farm_node.cli import backup
    from farm_node.cli.farm import connect
    out = connect.output(ns)
    client = connect.client(ns, timeout=600)
    try:
        with out.progress() as progress:
            written = backup.save(client, ns.file, ns.job, progress)
    except OSError as exc:
        raise ConfigError("cannot write %s: %s" % (ns.file, exc.strerror)) from None
    answer = {"file": ns.file, "bytes": written, "job": ns.job, "url": client.url}
    if ns.file == "-":
        out.note("saved %d bytes from %s" % (written, client.url))
    elif out.as_json:
        out.json(answer)
    else:
        out.line("saved %s (%d bytes) from %s" % (ns.file, written, client.url))
    return 0


def run_restore(ns: argparse.Namespace) -> int:
    from farm_node.cli import backup
    from farm_node.cli.farm import connect
    out = connect.output(ns)
    client = connect.client(ns, timeout=600)
    try:
        with out.progress() as progress:
            names = backup.load(client, ns.file, ns.replace, progress)
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (ns.file, exc.strerror)) from None
    if out.as_json:
        out.json({"jobs": names})
    else:
        out.line("restored %d job(s) into %s: %s" % (len(names), client.url, ", ".join(names)))
    return 0
