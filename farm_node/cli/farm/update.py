"""`farm set JOB KEY=VALUE ...`: change a job (``PATCH /api/jobs/{job}``, docs/API.md section 6)."""
from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from farm_node.cli.farm.connect import add_command
from farm_node.errors import ConfigError


def _int(text: str) -> int:
    return int(text)


def _seconds(text: str) -> float | None:
    return None if text.lower() in ("none", "null", "") else float(text)


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _limits(text: str) -> dict[str, int]:
    out = {}
    for part in _tags(text):
        name, _, units = part.partition(":")
        out[name.strip()] = int(units) if units.strip() else 1
    return out


# How each key the node knows is typed on the command line; any other key is sent as JSON (or as a string), and
# the farm says what it thinks of it.
KEYS: dict[str, tuple[Callable[[str], Any], str]] = {
    "priority": (_int, "0 to 100, higher first"),
    "max_attempts": (_int, "attempts a frame gets before it is Failed"),
    "frame_timeout": (_seconds, "seconds a frame may render, or none"),
    "requires": (_tags, "host tags, comma-separated: gpu,linux (empty: none)"),
    "limits": (_limits, "limit:units, comma-separated: arnold:1,nuke:2 (empty: none)"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = add_command(sub, "set", "change a job: priority, max_attempts, frame_timeout, requires, limits",
                    examples="farm set shot010_lighting priority=80\n"
                             "farm set shot010_lighting max_attempts=5 frame_timeout=3600\n"
                             "farm set shot010_lighting requires=gpu,linux limits=arnold:1")
    s.add_argument("job", help="the job's name")
    s.add_argument("changes", nargs="+", metavar="KEY=VALUE",
                   help="; ".join("%s: %s" % (k, h) for k, (_, h) in KEYS.items()))
    s.set_defaults(run=run)


def parse_changes(items: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("%r is not KEY=VALUE (e.g. priority=80)" % item)
        if key in KEYS:
            try:
                fields[key] = KEYS[key][0](value.strip())
            except ValueError:
                raise ConfigError("%s=%s: %s is %s" % (key, value, key, KEYS[key][1])) from None
        else:
            try:
                fields[key] = json.loads(value)
            except ValueError:
                fields[key] = value
    return fields


def run(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    from farm_node.cli.farm.output import text
    out = connect.output(ns)
    fields = parse_changes(ns.changes)
    job = connect.client(ns).update(ns.job, **fields)
    if out.as_json:
        out.json(job)
    else:
        now = ", ".join("%s=%s" % (k, text(job.get(k, v)) if isinstance(job, dict) else text(v))
                        for k, v in fields.items())
        out.line("%s: %s" % (ns.job, now))
    return 0
