"""The worker protocol's vocabulary and limits, shared by the coordinator, its HTTP routes and the render hosts.

One place for what crosses the wire between a coordinator and a render host (docs/DESIGN.md, "Worker protocol"):
the size limits, the per-record answers, how a report's record is checked and decoded, and what a lease carries.
"""
from __future__ import annotations

import base64
import binascii
import math
from typing import Any

# A frame's stdout in the job dictionary is its log's last 64 KiB (CONTRACT section 1).
TAIL_BYTES = 64 * 1024
DEFAULT_MAX_LOG_BYTES = 512 * 1024 * 1024
# Names of hosts (and of jobs and subjobs, jobspec.MAX_NAME) are at most this long.
MAX_NAME = 200
# Integers that cross the wire (attempt ids, pids, offsets, exit codes) fit the store's 64-bit signed integers.
MAX_INT = 2 ** 63 - 1
# The longest a long poll waits, in seconds.
MAX_WAIT = 60.0
# Render's flags whose value is code it runs (MEL, or Python through MEL): refused at submit and on the render host
# unless the node allows them (--allow-mel), since whoever may submit could otherwise run anything on every host.
CODE_FLAGS = frozenset({"-prerender", "-postrender", "-prelayer", "-postlayer", "-preframe", "-postframe"})


def code_flag(argv: list[str]) -> str | None:
    """The first of ``CODE_FLAGS`` in a frame's arguments (any case), or None."""
    for word in argv[1:]:
        if word.lower() in CODE_FLAGS:
            return word
    return None


# The reports of a host that end a frame: its slot is free for the next one.
ENDS = ("finished", "interrupted", "abandoned")


class ReportResult:
    """The answer to one record of a host's reports."""
    OK = "ok"
    FULL = "full"      # the attempt's log is full: send only the tail from now on
    STALE = "stale"    # the attempt is not this host's current one: stop its render, drop its reports
    BAD = "bad"        # the record is malformed


def decode_report(record: Any) -> dict[str, Any] | None:
    """A report with its log bytes (base64 on the wire) as bytes; None if it is malformed."""
    if not isinstance(record, dict):
        return None
    out = dict(record)
    try:
        for key in ("data", "tail"):
            if out.get(key) is not None:
                out[key] = base64.b64decode(out[key], validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None
    for key in ("attempt", "offset", "exit_code", "pid"):
        if out.get(key) is not None and (isinstance(out[key], bool) or not isinstance(out[key], int)
                                         or not -MAX_INT - 1 <= out[key] <= MAX_INT):
            return None
    progress = out.get("progress")
    if progress is not None and (isinstance(progress, bool) or not isinstance(progress, (int, float))
                                 or not math.isfinite(progress)):
        return None
    if out.get("reason") is not None and not isinstance(out["reason"], str):
        return None
    if out.get("error") is not None and not isinstance(out["error"], str):
        return None
    return out


def lease_entry(attempt: int, job: str, subjob: str, frame: int, argv: list[str], timeout: float | None,
                last_frame: Any) -> dict[str, Any]:
    """One leased frame as a render host receives it; ``frames`` is how many frames its command renders."""
    frames = (int(last_frame) - frame + 1) if isinstance(last_frame, int) and last_frame >= frame else 1
    return {"attempt": attempt, "job": job, "subjob": subjob, "frame": frame, "argv": argv, "timeout": timeout,
            "frames": frames}
