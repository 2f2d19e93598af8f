"""The Monitor's item model: jobs, their subjobs, their frames.

``JobTreeModel`` is a QAbstractItemModel over an index of three levels of small node objects. It is fed with the
answers of the changes feed (``apply_changes``) and applies them incrementally:

- a changed job, subjob or frame emits ``dataChanged`` for its row (contiguous rows merged into one range);
- a new job is one ``beginInsertRows`` (its subjobs and frames come with it), a deleted one ``beginRemoveRows``;
- a job whose shape changed (new subjobs or frames, which only a reload or a re-submission brings) is removed and
  inserted again;
- a ``reload`` is applied as the difference from what the model holds, job by job.

It never resets, so a 10,000-frame job keeps its scroll position, selection and expansion while it renders.

Indexes carry an integer id (``internalId``) looked up in a table, not a pointer, so a stale index can only find
nothing. Elapsed times read a clock given to the model (``clock``, default ``time.time``); ``tick()`` refreshes the
elapsed column of the rendering frames.
"""
from __future__ import annotations

import itertools
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from maya_plugin.qt import (DECORATION_ROLE, DISPLAY_ROLE, FOREGROUND_ROLE, TEXT_ALIGNMENT_ROLE,
                            TOOLTIP_ROLE, USER_ROLE, QtCore)
from maya_plugin.ui.nodes import KIND_FRAME, KIND_JOB, KIND_SUBJOB, FrameNode, JobNode, SubjobNode
from maya_plugin.ui.style import format_elapsed, status_color, status_icon

__all__ = ["JobTreeModel", "COLUMNS",
           "COL_NAME", "COL_STATUS", "COL_PROGRESS", "COL_HOST", "COL_PID", "COL_ATTEMPTS", "COL_ELAPSED",
           "COL_PRIORITY", "STATUS_ROLE", "PROGRESS_ROLE", "SORT_ROLE", "KIND_ROLE", "NODE_ROLE",
           "PROGRESS_TEXT_ROLE"]

COLUMNS = ("Name", "Status", "Progress", "Host", "PID", "Attempts", "Elapsed", "Priority")
(COL_NAME, COL_STATUS, COL_PROGRESS, COL_HOST, COL_PID, COL_ATTEMPTS, COL_ELAPSED, COL_PRIORITY) = range(len(COLUMNS))

STATUS_ROLE = USER_ROLE + 1          # str: the row's status
PROGRESS_ROLE = USER_ROLE + 2        # float 0..100: done fraction (job, subjob) or render progress (frame)
SORT_ROLE = USER_ROLE + 3            # a value of one type per column and level, for sorting
KIND_ROLE = USER_ROLE + 4            # KIND_JOB, KIND_SUBJOB or KIND_FRAME
NODE_ROLE = USER_ROLE + 5            # the JobNode, SubjobNode or FrameNode
PROGRESS_TEXT_ROLE = USER_ROLE + 6   # str drawn on the progress bar

_STATUS_ORDER = {name: i for i, name in enumerate(("Rendering", "Failed", "Queued", "Paused", "Cancelled",
                                                   "Complete"))}
_RIGHT = int(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
_INVALID = QtCore.QModelIndex


def _without(mapping: Dict[str, Any], key: str) -> Dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def _runs(rows: Iterable[int]) -> List[Tuple[int, int]]:
    """Contiguous (first, last) runs of a set of rows."""
    out = []  # type: List[Tuple[int, int]]
    for row in sorted(rows):
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


class JobTreeModel(QtCore.QAbstractItemModel):
    """Jobs > subjobs > frames, updated incrementally from the changes feed."""

    #: emitted after every applied batch (counts for the summary line may have changed)
    summaryChanged = QtCore.Signal()

    def __init__(self, parent: Any = None, clock: Callable[[], float] = time.time) -> None:
        super(JobTreeModel, self).__init__(parent)
        self.clock = clock
        self.jobs = []  # type: List[JobNode]
        self.by_name = {}  # type: Dict[str, JobNode]
        self._nodes = {}  # type: Dict[int, Any]
        self._ids = itertools.count(1)
        self.totals = Counter()  # type: Counter
        self.rendering = set()  # type: Set[FrameNode]
        self.revision = 0

    # -- what the panel asks --------------------------------------------------------------------------------------
    def node(self, index: Any) -> Any:
        """The node behind an index of this model (None for the root or a stale index)."""
        if not index.isValid():
            return None
        return self._nodes.get(index.internalId())

    def index_of(self, node: Any, column: int = 0) -> Any:
        if node is None:
            return _INVALID()
        return self.createIndex(node.row, column, node.id)

    def find(self, job: str, subjob: Optional[str] = None, frame: Optional[int] = None) -> Any:
        """The node for a job, subjob or frame name, or None."""
        node = self.by_name.get(job)
        if node is None or subjob is None:
            return node
        sub = node.by_name.get(subjob)
        if sub is None or frame is None:
            return sub
        return sub.by_number.get(int(frame))

    def hosts_busy(self) -> Set[str]:
        return {f.data.get("host") for f in self.rendering if f.data.get("host")}

    # -- Qt's model interface -------------------------------------------------------------------------------------
    def columnCount(self, parent: Any = _INVALID()) -> int:
        return len(COLUMNS)

    def rowCount(self, parent: Any = _INVALID()) -> int:
        if not parent.isValid():
            return len(self.jobs)
        if parent.column() > 0:
            return 0
        node = self._nodes.get(parent.internalId())
        if node is None:
            return 0
        if node.kind == KIND_JOB:
            return len(node.subjobs)
        if node.kind == KIND_SUBJOB:
            return len(node.frames)
        return 0

    def hasChildren(self, parent: Any = _INVALID()) -> bool:
        return self.rowCount(parent) > 0

    def index(self, row: int, column: int, parent: Any = _INVALID()) -> Any:
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return _INVALID()
        if not parent.isValid():
            children = self.jobs  # type: List[Any]
        else:
            node = self._nodes.get(parent.internalId())
            if node is None or node.kind == KIND_FRAME:
                return _INVALID()
            children = node.subjobs if node.kind == KIND_JOB else node.frames
        if row >= len(children):
            return _INVALID()
        return self.createIndex(row, column, children[row].id)

    def parent(self, index: Any = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super(JobTreeModel, self).parent()
        if not index.isValid():
            return _INVALID()
        node = self._nodes.get(index.internalId())
        if node is None or node.kind == KIND_JOB:
            return _INVALID()
        up = node.job if node.kind == KIND_SUBJOB else node.subjob
        return self.createIndex(up.row, 0, up.id)

    def headerData(self, section: int, orientation: Any, role: int = DISPLAY_ROLE) -> Any:
        if orientation == QtCore.Qt.Horizontal and role == DISPLAY_ROLE and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: Any) -> Any:
        if not index.isValid():
            return QtCore.Qt.NoItemFlags
        return QtCore.Qt.ItemIsEnabled | QtCore.Qt.ItemIsSelectable

    def data(self, index: Any, role: int = DISPLAY_ROLE) -> Any:
        if not index.isValid():
            return None
        node = self._nodes.get(index.internalId())
        if node is None:
            return None
        role = int(role)
        column = index.column()
        if role == DISPLAY_ROLE:
            return self._display(node, column)
        if role == STATUS_ROLE:
            return self._status(node)
        if role == PROGRESS_ROLE:
            return self._progress(node)
        if role == PROGRESS_TEXT_ROLE:
            return self._progress_text(node)
        if role == SORT_ROLE:
            return self._sort_key(node, column)
        if role == KIND_ROLE:
            return node.kind
        if role == NODE_ROLE:
            return node
        if role == FOREGROUND_ROLE and column == COL_STATUS:
            return status_color(self._status(node))
        if role == DECORATION_ROLE and column == COL_NAME:
            return status_icon(self._status(node))
        if role == TEXT_ALIGNMENT_ROLE and column in (COL_PID, COL_ATTEMPTS, COL_ELAPSED, COL_PRIORITY):
            return _RIGHT
        if role == TOOLTIP_ROLE:
            return self._tooltip(node)
        return None

    # -- cell values ----------------------------------------------------------------------------------------------
    @staticmethod
    def _status(node: Any) -> str:
        return node.data.get("status") or "Queued"

    @staticmethod
    def _counts(node: Any) -> Tuple[int, int]:
        if node.kind == KIND_JOB:
            frames = node.data.get("frames") or {}
            return int(frames.get("complete") or 0), int(frames.get("total") or 0)
        return int(node.data.get("complete") or 0), int(node.data.get("total") or 0)

    def _progress(self, node: Any) -> float:
        if node.kind == KIND_FRAME:
            if node.status == "Complete":
                return 100.0
            try:
                return max(0.0, min(100.0, float(node.data.get("progress") or 0)))
            except (TypeError, ValueError):
                return 0.0
        done, total = self._counts(node)
        return 100.0 * done / total if total else 0.0

    def _progress_text(self, node: Any) -> str:
        if node.kind == KIND_FRAME:
            if node.status in ("Rendering", "Complete", "Failed"):
                return "%d%%" % int(self._progress(node))
            return ""
        done, total = self._counts(node)
        failed = node.counts.get("Failed", 0)
        text = "%d / %d" % (done, total)
        return text + (" (%d failed)" % failed if failed else "")

    def _elapsed(self, frame: FrameNode) -> Optional[float]:
        started = frame.data.get("started")
        if not started:
            return None
        finished = frame.data.get("finished")
        if not finished:
            if frame.status != "Rendering":
                return None
            finished = self.clock()
        return max(0.0, float(finished) - float(started))

    def _display(self, node: Any, column: int) -> Any:
        if column == COL_NAME:
            return node.label if node.kind == KIND_FRAME else node.name
        if column == COL_STATUS:
            return self._status(node)
        if column == COL_PROGRESS:
            return self._progress_text(node)
        if node.kind == KIND_JOB:
            if column == COL_PRIORITY:
                priority = node.data.get("priority")
                return "" if priority is None else str(priority)
            return ""
        if node.kind == KIND_SUBJOB:
            return ""
        data = node.data
        if column == COL_HOST:
            return data.get("host") or ""
        if column == COL_PID:
            pid = data.get("pid")
            return "" if pid is None else str(pid)
        if column == COL_ATTEMPTS:
            attempts = data.get("attempts")
            return "" if not attempts else str(attempts)
        if column == COL_ELAPSED:
            return format_elapsed(self._elapsed(node))
        return ""

    def _sort_key(self, node: Any, column: int) -> Any:
        if column == COL_NAME:
            if node.kind == KIND_FRAME:
                return node.number
            return node.name.lower()
        if column == COL_STATUS:
            return _STATUS_ORDER.get(self._status(node), 99)
        if column == COL_PROGRESS:
            return self._progress(node)
        if node.kind != KIND_FRAME:
            if column == COL_PRIORITY and node.kind == KIND_JOB:
                return int(node.data.get("priority") or 0)
            return node.name.lower() if column == COL_HOST else 0
        if column == COL_HOST:
            return node.data.get("host") or ""
        if column == COL_PID:
            return int(node.data.get("pid") or 0)
        if column == COL_ATTEMPTS:
            return int(node.data.get("attempts") or 0)
        if column == COL_ELAPSED:
            return float(self._elapsed(node) or 0.0)
        return 0

    def _tooltip(self, node: Any) -> Optional[str]:
        if node.kind == KIND_JOB:
            parts = [node.name]
            for key in ("scene", "renderer"):
                if node.data.get(key):
                    parts.append("%s: %s" % (key, node.data[key]))
            return "\n".join(parts)
        if node.kind == KIND_SUBJOB:
            parts = [node.name]
            for key in ("layer", "camera"):
                if node.data.get(key):
                    parts.append("%s: %s" % (key, node.data[key]))
            return "\n".join(parts)
        parts = [node.data.get("command") or ""]
        if node.data.get("error"):
            parts.append("error: %s" % node.data["error"])
        if node.data.get("exit_code") not in (None, 0):
            parts.append("exit code %s" % node.data["exit_code"])
        return "\n".join(p for p in parts if p) or None

    # -- applying the feed ----------------------------------------------------------------------------------------
    def apply_changes(self, changes: Dict[str, Any]) -> None:
        """Apply one answer of the changes feed (see docs/DESIGN.md); never resets the model."""
        jobs = changes.get("jobs") or {}
        if changes.get("reload"):
            for name in [j.name for j in self.jobs if j.name not in jobs]:
                self._remove_job(name)
        for name in changes.get("deleted") or ():
            self._remove_job(name)
        changed_jobs = set()  # type: Set[JobNode]
        changed_subjobs = set()  # type: Set[SubjobNode]
        changed_frames = {}  # type: Dict[SubjobNode, Set[int]]
        new_jobs = []  # type: List[Tuple[str, Dict[str, Any]]]
        full = bool(changes.get("reload"))
        for name, job in jobs.items():
            node = self.by_name.get(name)
            if node is None:
                new_jobs.append((name, job))
            elif not self._same_shape(node, job, full):
                self._remove_job(name)
                new_jobs.append((name, job))
            else:
                self._update_job(node, job, changed_jobs, changed_subjobs, changed_frames)
        if new_jobs:
            new_jobs.sort(key=lambda item: (item[1].get("submitted") or 0, item[0]))
            self._insert_jobs(new_jobs)
        self._emit_changed(changed_jobs, changed_subjobs, changed_frames)
        if "revision" in changes:
            self.revision = int(changes["revision"])
        self.summaryChanged.emit()

    def tick(self) -> None:
        """Refresh the elapsed column of the rendering frames (call it every second or so)."""
        by_subjob = {}  # type: Dict[SubjobNode, Set[int]]
        for frame in self.rendering:
            by_subjob.setdefault(frame.subjob, set()).add(frame.row)
        for subjob, rows in by_subjob.items():
            parent = self.index_of(subjob)
            for first, last in _runs(rows):
                self.dataChanged.emit(self.index(first, COL_ELAPSED, parent), self.index(last, COL_ELAPSED, parent))

    def clear(self) -> None:
        """Remove every job (one removal of all rows, not a reset)."""
        if not self.jobs:
            return
        self.beginRemoveRows(_INVALID(), 0, len(self.jobs) - 1)
        for job in self.jobs:
            self._forget_job(job)
        self.jobs = []
        self.by_name = {}
        self.endRemoveRows()
        self.summaryChanged.emit()

    # -- internals ------------------------------------------------------------------------------------------------
    @staticmethod
    def _same_shape(node: JobNode, job: Dict[str, Any], full: bool) -> bool:
        subjobs = job.get("subjobs") or {}
        if full and set(subjobs) != set(node.by_name):
            return False
        for name, sub in subjobs.items():
            known = node.by_name.get(name)
            if known is None:
                return False
            frames = sub.get("frames") or {}
            if full and len(frames) != len(known.by_number):
                return False
            for number in frames:
                if int(number) not in known.by_number:
                    return False
        return True

    def _build_job(self, name: str, job: Dict[str, Any]) -> JobNode:
        node = JobNode(next(self._ids), name, _without(job, "subjobs"))
        for s_row, (s_name, sub) in enumerate((job.get("subjobs") or {}).items()):
            s_node = SubjobNode(next(self._ids), node, s_name, _without(sub, "frames"))
            s_node.row = s_row
            frames = sorted(((int(k), v) for k, v in (sub.get("frames") or {}).items()), key=lambda kv: kv[0])
            for f_row, (number, data) in enumerate(frames):
                f_node = FrameNode(next(self._ids), s_node, number, data)
                f_node.row = f_row
                s_node.frames.append(f_node)
                s_node.by_number[number] = f_node
                s_node.counts[f_node.status] += 1
            s_node.numbers = [f.number for f in s_node.frames]
            node.subjobs.append(s_node)
            node.by_name[s_name] = s_node
            node.counts.update(s_node.counts)
        return node

    def _register(self, job: JobNode) -> None:
        self._nodes[job.id] = job
        for sub in job.subjobs:
            self._nodes[sub.id] = sub
            for frame in sub.frames:
                self._nodes[frame.id] = frame
                if frame.status == "Rendering":
                    self.rendering.add(frame)
        self.totals.update(job.counts)

    def _forget_job(self, job: JobNode) -> None:
        self._nodes.pop(job.id, None)
        for sub in job.subjobs:
            self._nodes.pop(sub.id, None)
            for frame in sub.frames:
                self._nodes.pop(frame.id, None)
                self.rendering.discard(frame)
        self.totals.subtract(job.counts)
        self.totals = +self.totals

    def _insert_jobs(self, items: List[Tuple[str, Dict[str, Any]]]) -> None:
        nodes = [self._build_job(name, job) for name, job in items]
        first = len(self.jobs)
        self.beginInsertRows(_INVALID(), first, first + len(nodes) - 1)
        for offset, node in enumerate(nodes):
            node.row = first + offset
            self.jobs.append(node)
            self.by_name[node.name] = node
            self._register(node)
        self.endInsertRows()

    def _remove_job(self, name: str) -> None:
        node = self.by_name.get(name)
        if node is None:
            return
        row = node.row
        self.beginRemoveRows(_INVALID(), row, row)
        del self.jobs[row]
        del self.by_name[name]
        for later in self.jobs[row:]:
            later.row -= 1
        self._forget_job(node)
        self.endRemoveRows()

    def _update_job(self, node: JobNode, job: Dict[str, Any], changed_jobs: Set[JobNode],
                    changed_subjobs: Set[SubjobNode], changed_frames: Dict[SubjobNode, Set[int]]) -> None:
        node.data = _without(job, "subjobs")
        changed_jobs.add(node)
        for s_name, sub in (job.get("subjobs") or {}).items():
            s_node = node.by_name[s_name]
            s_node.data = _without(sub, "frames")
            changed_subjobs.add(s_node)
            frames = sub.get("frames") or {}
            if not frames:
                continue
            rows = changed_frames.setdefault(s_node, set())
            for number, data in frames.items():
                f_node = s_node.by_number[int(number)]
                old, new = f_node.status, data.get("status") or "Queued"
                f_node.data = data
                if old != new:
                    for counter in (s_node.counts, node.counts, self.totals):
                        counter[old] -= 1
                        counter[new] += 1
                        if counter[old] <= 0:
                            del counter[old]
                    if new == "Rendering":
                        self.rendering.add(f_node)
                    else:
                        self.rendering.discard(f_node)
                rows.add(f_node.row)

    def _alive(self, node: Any) -> bool:
        return self._nodes.get(node.id) is node

    def _emit_rows(self, parent: Any, rows: Iterable[int]) -> None:
        last = len(COLUMNS) - 1
        for first, end in _runs(rows):
            self.dataChanged.emit(self.index(first, 0, parent), self.index(end, last, parent))

    def _emit_changed(self, changed_jobs: Set[JobNode], changed_subjobs: Set[SubjobNode],
                      changed_frames: Dict[SubjobNode, Set[int]]) -> None:
        for subjob, rows in changed_frames.items():
            if self._alive(subjob):
                self._emit_rows(self.index_of(subjob), rows)
        by_job = {}  # type: Dict[JobNode, Set[int]]
        for subjob in changed_subjobs:
            if self._alive(subjob):
                by_job.setdefault(subjob.job, set()).add(subjob.row)
        for job, rows in by_job.items():
            self._emit_rows(self.index_of(job), rows)
        self._emit_rows(_INVALID(), [job.row for job in changed_jobs if self._alive(job)])
