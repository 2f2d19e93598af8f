"""`farm-node backup` and `farm-node restore`, and the work they share with `farm backup` / `farm restore`.

Both talk to a running node through FarmClient (the one arrow from `farm_node` to `maya_plugin`: the client is the
same one the panel and the Maya side use), stream the XML in chunks and show their progress on a terminal. A restore
reads the file's job names first and asks the farm which it has: a name that is taken is refused before the file is
sent (a big queue file takes seconds to upload, and the node would refuse it at the end).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from farm_node.cli.common import CLIENT_EXAMPLE, client_flags
from farm_node.errors import Conflict, QueueXMLError

CHUNK = 1 << 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="save a running node's queue (or one job) as XML",
                       description="Save a running node's queue (or one job) as XML (docs/queue-xml.md).",
                       epilog="examples:\n  farm-node backup queue.xml\n  farm-node backup shot010.xml --job shot010"
                              "\n\n" + CLIENT_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("file", help="the XML file to write ('-' for standard output)")
    b.add_argument("--job", help="only this job")
    client_flags(b)
    b.set_defaults(run=run)
    r = sub.add_parser("restore", help="load jobs from an XML backup into a running node",
                       description="Load the jobs of an XML backup into a running node. A job name the node has "
                                   "already is refused before the file is sent, unless --replace.",
                       epilog="examples:\n  farm-node restore queue.xml\n  farm-node restore queue.xml --replace\n\n"
                              + CLIENT_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("file", help="the XML file to read")
    r.add_argument("--replace", action="store_true", help="replace jobs whose names are already on the node")
    client_flags(r)
    r.set_defaults(run=run)


class _Quiet:
    """No progress shown (what ``save`` and ``load`` get when the caller shows none)."""

    def stage(self, description: str, total: int | None = None) -> None:
        pass

    def update(self, done: int, total: int | None = None) -> None:
        pass


def save(client: Any, path: str, job: str | None = None, progress: Any = None) -> int:
    """Write the queue (or ``job``) to ``path`` ('-': standard output); returns the bytes written. A file is written
    beside its place and renamed when whole, so a broken transfer never leaves a half backup under its name."""
    progress = progress or _Quiet()
    progress.stage("receiving the queue" if job is None else "receiving job %s" % job)
    if path == "-":
        return client.backup_to(sys.stdout.buffer, job, progress=progress.update)
    tmp = path + ".part"
    try:
        with open(tmp, "wb") as f:
            written = client.backup_to(f, job, progress=progress.update)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return written


def job_names(path: str, progress: Any = None) -> list[str]:
    """The names of the jobs in an XML queue file, read with expat: names only, fast (the node checks the rest).

    A file that is not well-formed, holds a DTD (a queue file never does: no entity can be declared), is not a
    PyFarm queue, or names a job twice raises QueueXMLError.
    """
    from xml.parsers import expat
    progress = progress or _Quiet()
    parser = expat.ParserCreate(namespace_separator=" ")
    names: list[str] = []
    depth = 0
    queue_ns = ""

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, queue_ns
        namespace, _, local = tag.rpartition(" ")
        if depth == 0:
            if local != "queue" or not namespace.startswith("urn:pyfarm:queue:"):
                raise QueueXMLError("%s is not a PyFarm queue file (its root element is <%s>)" % (path, local))
            queue_ns = namespace
        elif depth == 1 and local == "job" and namespace == queue_ns:
            names.append(attrs.get("name", ""))
        depth += 1

    def end(_tag: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_args: Any) -> None:
        raise QueueXMLError("%s holds a DTD, which a queue file never does" % path)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    size = os.path.getsize(path)
    progress.stage("reading the job names of %s" % os.path.basename(path), size)
    done = 0
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(CHUNK)
                parser.Parse(chunk, not chunk)
                if not chunk:
                    break
                done += len(chunk)
                progress.update(done, size)
    except expat.ExpatError as exc:
        raise QueueXMLError("%s is not well-formed XML: %s" % (path, exc)) from None
    seen: set[str] = set()
    twice = [n for n in names if n in seen or seen.add(n)]
    if twice:
        raise QueueXMLError("%s holds a job name twice: %s" % (path, ", ".join(repr(n) for n in twice)))
    return names


def load(client: Any, path: str, replace: bool = False, progress: Any = None) -> list[str]:
    """Restore the jobs of ``path`` into the farm; returns their names. Taken names are refused before sending."""
    progress = progress or _Quiet()
    names = job_names(path, progress)
    if not replace:
        existing = client.summary()["jobs"]
        taken = [n for n in names if n in existing]
        if taken:
            # The node's own words for the same refusal (farm_node.backup.restore), with the flag to say.
            raise Conflict("jobs already on the farm: %s (restore with --replace to overwrite them)"
                           % ", ".join(repr(n) for n in taken))
    size = os.path.getsize(path)
    progress.stage("sending %s" % os.path.basename(path), size)

    def sent(done: int, total: int) -> None:
        progress.update(done, total)
        if done >= total:
            progress.stage("the node restores %d job(s)" % len(names))

    with open(path, "rb") as f:
        return client.restore_from(f, size, replace=replace, progress=sent)


def run(ns: argparse.Namespace) -> int:
    from farm_node.cli.common import locate
    from farm_node.cli.farm.output import Output
    from farm_node.errors import ConfigError, FarmNodeError
    from maya_plugin.farm_client import FarmClient, FarmError
    url, token = locate(ns.url, ns.token, ns.data_dir)
    client = FarmClient(url, token, timeout=600)
    try:
        with Output().progress() as progress:
            if ns.command == "backup":
                written = save(client, ns.file, ns.job, progress)
            else:
                names = load(client, ns.file, ns.replace, progress)
        if ns.command == "backup":
            if ns.file != "-":
                print("saved %s (%d bytes) from %s" % (ns.file, written, url), file=sys.stderr)
        else:
            print("restored %d job(s) into %s: %s" % (len(names), url, ", ".join(names)), file=sys.stderr)
        return 0
    except ConfigError:
        raise
    except (FarmError, FarmNodeError) as exc:
        print("farm-node %s: %s" % (ns.command, exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print("farm-node %s: %s: %s" % (ns.command, ns.file, exc.strerror), file=sys.stderr)
        return 1
