"""`farm submit FILE.json`: send a job dictionary (docs/API.md section 1) from a file or standard input."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from farm_node.cli.farm.connect import add_command
from farm_node.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = add_command(sub, "submit", "submit a job dictionary from a JSON file ('-': standard input)",
                    examples="farm submit shot010.json\npython make_job.py | farm submit -")
    s.add_argument("file", help="a JSON file holding {job name: job, ...}, or '-' for standard input")
    s.add_argument("--user", help="the user a job without one is submitted for (default: your login)")
    s.set_defaults(run=run)


def read_jobs(path: str) -> dict[str, Any]:
    try:
        if path == "-":
            jobs = json.load(sys.stdin)
        else:
            with open(path, encoding="utf-8") as f:
                jobs = json.load(f)
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s is not JSON: %s" % ("standard input" if path == "-" else path, exc)) from None
    if not isinstance(jobs, dict) or not jobs:
        raise ConfigError("a job dictionary is a JSON object of jobs by name: {\"Job1\": {\"subjobs\": ...}}")
    return jobs


def run(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    out = connect.output(ns)
    jobs = read_jobs(ns.file)
    user = ns.user or _login()
    for job in jobs.values():
        # Who submitted it (docs/API.md section 6); a job that names its user keeps it.
        if isinstance(job, dict) and user and "user" not in job:
            job["user"] = user
    names = connect.client(ns).submit(jobs)
    if out.as_json:
        out.json({"jobs": names})
    else:
        out.line("submitted %s" % ", ".join(names))
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no login name to be had (a container without a passwd entry)
        return ""
