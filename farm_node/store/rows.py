"""The store's rows, typed: what every query outside the store reads, by name, never by position.

Each row is a ``NamedTuple`` made straight from a query's tuple (``Row._make``), so typing a row costs next to nothing
on the hot paths (a lease, a frame's end). The column lists the queries select are made from the fields here, so a
row's layout is written down once.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, NamedTuple, Optional

from farm_node.scheduler import NOTHING, JobNeeds, needs_from_record


class FrameRow(NamedTuple):
    id: int
    job_id: int
    subjob_id: int
    number: int
    status: str
    host: Optional[str]
    pid: Optional[int]
    command: str
    argv: str            # JSON list of strings
    stdout: str
    attempts: int
    exit_code: Optional[int]
    progress: float
    started: Optional[float]
    finished: Optional[float]
    error: Optional[str]
    extra: str           # JSON object of the submission's other keys
    attempt_id: Optional[int]

    def extra_dict(self) -> dict[str, Any]:
        return {} if self.extra == "{}" else json.loads(self.extra)

    def argv_list(self) -> list[str]:
        return json.loads(self.argv)


FRAME_COLS = ", ".join(FrameRow._fields)
# Keys of a frame dictionary that come straight from columns (CONTRACT section 1, docs/DESIGN.md).
FRAME_FIELDS = ("status", "host", "pid", "command", "stdout", "argv", "attempts", "exit_code", "progress", "started",
                "finished", "error")


def frame_dict(row: tuple) -> dict[str, Any]:
    """A frame of the job dictionary from a ``FRAME_COLS`` row (a FrameRow or the plain tuple)."""
    (_id, _job, _sub, _num, status, host, pid, command, argv, stdout, attempts, exit_code, progress, started,
     finished, error, extra, _att) = row
    d = {"status": status, "host": host, "pid": pid, "command": command, "stdout": stdout,
         "argv": json.loads(argv), "attempts": attempts, "exit_code": exit_code, "progress": progress,
         "started": started, "finished": finished, "error": error}
    if extra != "{}":
        for k, v in json.loads(extra).items():
            d.setdefault(k, v)
    return d


class JobRow(NamedTuple):
    id: int
    name: str
    priority: int
    max_attempts: int
    frame_timeout: Optional[float]
    paused: bool
    submitted: float
    extra: str


JOB_COLS = ", ".join(JobRow._fields)


class RunnableJob(NamedTuple):
    """What the scheduler orders the jobs that may start a frame by, and what a lease needs of them."""
    id: int
    name: str
    priority: int
    frame_timeout: Optional[float]
    max_attempts: int
    sched: Optional[str] = None    # JSON of scheduler.needs_record: what its frames need (None: nothing)
    blocked_here: bool = False     # the host that leases is blocklisted for this job

    @property
    def needs(self) -> JobNeeds:
        return _needs(self.sched)


@lru_cache(maxsize=4096)
def _needs(sched: Optional[str]) -> JobNeeds:
    """A job's needs, parsed once per distinct record (a lease reads the same few again and again)."""
    return needs_from_record(json.loads(sched)) if sched else NOTHING


class AttemptRow(NamedTuple):
    """An attempt with what its frame and job say of it (``current``: the frame's current attempt id)."""
    id: int
    frame_id: int
    number: int
    host: str
    pid: Optional[int]
    outcome: str
    log_path: str
    current: Optional[int]
    job_id: int
    frame_status: str
    attempts: int
    max_attempts: int
    started: Optional[float]
    note_bytes: int
    subjob_id: int


class RunningAttempt(NamedTuple):
    """An attempt that is its frame's current one and still running, as a host's reconciliation needs it."""
    id: int
    frame_id: int
    host: str
    pid: Optional[int]
    started: Optional[float]
    job_id: int
    log_path: str


class HostRow(NamedTuple):
    """A remote render host as the store remembers it across restarts."""
    name: str
    slots: int
    info: dict
    worker_id: Optional[str]
    last_seen: Optional[float]
    lost: bool
