"""The Monitor's columns, declared once: what each shows, how it sorts, how wide it starts (a table, not if-chains).

``JOB_COLUMNS`` are the columns of the jobs tree (jobs and their subjobs): each says what a job row and a subjob row
show and the Python sort key of a job (the tree sorts its few thousand jobs itself, one key per job, never a Python
call per comparison). ``FRAME_COLUMNS`` are the columns of a subjob's frames table: each names the node's sort key
(``GET .../frames?sort=KEY``): the node sorts a 100,000-frame subjob, the panel only shows pages of it.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, NamedTuple, Optional

from maya_plugin.qt import USER_ROLE
from maya_plugin.ui.nodes import KIND_JOB
from maya_plugin.ui.style import format_elapsed

__all__ = ["Column", "FrameColumn", "JOB_COLUMNS", "FRAME_COLUMNS", "STATUS_ORDER", "STATUS_ROLE", "PROGRESS_ROLE",
           "PROGRESS_TEXT_ROLE", "KIND_ROLE", "NODE_ROLE", "FRAME_ROLE", "job_counts", "progress_text",
           "frame_progress", "elapsed", "format_time"]

STATUS_ROLE = USER_ROLE + 1          # str: the row's status
PROGRESS_ROLE = USER_ROLE + 2        # float 0..100: done fraction (job, subjob) or render progress (frame)
SORT_ROLE = USER_ROLE + 3            # kept for callers of the old tree; the models sort without it
KIND_ROLE = USER_ROLE + 4            # KIND_JOB or KIND_SUBJOB
NODE_ROLE = USER_ROLE + 5            # the JobNode or SubjobNode
PROGRESS_TEXT_ROLE = USER_ROLE + 6   # str drawn on the progress bar
FRAME_ROLE = USER_ROLE + 7           # the frame's dictionary (a row of a page), or None while its page is away

#: what needs a look first
STATUS_ORDER = {name: i for i, name in enumerate(("Rendering", "Failed", "Queued", "Paused", "Cancelled",
                                                  "Complete"))}


def job_counts(node: Any) -> Dict[str, int]:
    """(done, total, failed) of a job or subjob row, from the counts the farm sent."""
    data = node.data
    counts = data.get("frames") if node.kind == KIND_JOB else data
    counts = counts if isinstance(counts, dict) else {}
    return {"complete": int(counts.get("complete") or 0), "total": int(counts.get("total") or 0),
            "failed": int(counts.get("failed") or 0)}


def progress_text(node: Any) -> str:
    c = job_counts(node)
    text = "%d / %d" % (c["complete"], c["total"])
    return text + (" (%d failed)" % c["failed"] if c["failed"] else "")


def job_progress(node: Any) -> float:
    c = job_counts(node)
    return 100.0 * c["complete"] / c["total"] if c["total"] else 0.0


def format_time(epoch: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(epoch)))
    except (TypeError, ValueError):
        return ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class Column(NamedTuple):
    """A column of the jobs tree: its title, width, what a job and a subjob row show, a job's sort key."""
    title: str
    width: int
    job: Callable[[Any], str]
    subjob: Callable[[Any], str]
    key: Callable[[Any], Any]
    right: bool = False


def _status(node: Any) -> str:
    return node.data.get("status") or "Queued"


JOB_COLUMNS = (
    Column("Name", 260, lambda j: j.name, lambda s: s.name, lambda j: j.name.lower()),
    Column("Status", 80, _status, _status, lambda j: STATUS_ORDER.get(_status(j), 99)),
    Column("Progress", 150, progress_text, progress_text, job_progress),
    Column("User", 80, lambda j: _text(j.data.get("user")), lambda s: "", lambda j: _text(j.data.get("user")).lower()),
    Column("Priority", 60, lambda j: _text(j.data.get("priority")), lambda s: "",
           lambda j: int(j.data.get("priority") or 0), right=True),
    Column("Submitted", 120, lambda j: format_time(j.data.get("submitted")), lambda s: "",
           lambda j: float(j.data.get("submitted") or 0)),
    Column("Waiting for", 220, lambda j: _text(j.data.get("waiting_for")), lambda s: "",
           lambda j: _text(j.data.get("waiting_for")).lower()),
)
(JOB_NAME, JOB_STATUS, JOB_PROGRESS, JOB_USER, JOB_PRIORITY, JOB_SUBMITTED, JOB_WAITING) = range(len(JOB_COLUMNS))


def frame_progress(frame: Dict[str, Any]) -> float:
    if frame.get("status") == "Complete":
        return 100.0
    try:
        return max(0.0, min(100.0, float(frame.get("progress") or 0)))
    except (TypeError, ValueError):
        return 0.0


def elapsed(frame: Dict[str, Any], now: float) -> Optional[float]:
    started = frame.get("started")
    if not started:
        return None
    finished = frame.get("finished")
    if not finished:
        if frame.get("status") != "Rendering":
            return None
        finished = now
    return max(0.0, float(finished) - float(started))


def _label(frame: Dict[str, Any]) -> str:
    number, last = frame.get("number"), frame.get("last_frame")
    if isinstance(last, int) and last != number:
        return "%s-%s" % (number, last)
    return _text(number)


def _frame_progress_text(frame: Dict[str, Any]) -> str:
    if frame.get("status") in ("Rendering", "Complete", "Failed"):
        return "%d%%" % int(frame_progress(frame))
    return ""


class FrameColumn(NamedTuple):
    """A column of the frames table: its title, width, the node's sort key, what a frame shows (given now)."""
    title: str
    width: int
    sort: str
    text: Callable[[Dict[str, Any], float], str]
    right: bool = False


FRAME_COLUMNS = (
    FrameColumn("Frame", 80, "number", lambda f, now: _label(f), right=True),
    FrameColumn("Status", 80, "status", lambda f, now: f.get("status") or "Queued"),
    FrameColumn("Progress", 110, "progress", lambda f, now: _frame_progress_text(f)),
    FrameColumn("Host", 100, "host", lambda f, now: _text(f.get("host"))),
    FrameColumn("PID", 60, "pid", lambda f, now: _text(f.get("pid")), right=True),
    FrameColumn("Attempts", 65, "attempts", lambda f, now: _text(f.get("attempts") or ""), right=True),
    FrameColumn("Elapsed", 70, "elapsed", lambda f, now: format_elapsed(elapsed(f, now)), right=True),
    FrameColumn("Started", 120, "started", lambda f, now: format_time(f.get("started")) if f.get("started") else ""),
    FrameColumn("Exit", 45, "exit_code", lambda f, now: _text(f.get("exit_code")), right=True),
)
(FRAME_NUMBER, FRAME_STATUS, FRAME_PROGRESS, FRAME_HOST, FRAME_PID, FRAME_ATTEMPTS, FRAME_ELAPSED, FRAME_STARTED,
 FRAME_EXIT) = range(len(FRAME_COLUMNS))
