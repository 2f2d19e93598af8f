"""The Monitor's jobs tree: every job of the farm and its subjobs, with their counts, never their frames.

``JobTreeModel`` is a QAbstractItemModel of two levels, fed with the narrowed changes feed (``apply_changes``: job
heads with counts, see docs/API.md "Reads that stay small"). Frames are not here: the frames table shows pages of
the one subjob that is open (``frames_model.FramesModel``), so the model's size grows with the jobs, not the frames.

It sorts and filters itself: one Python key per job (``columns.JOB_COLUMNS``), one ``sorted`` of the visible jobs,
one ``layoutChanged`` when the order moved. A QSortFilterProxyModel would compare rows through Python ``data()``
calls. Every structural change costs the tree view a layout of all its rows (two Python calls a job), so new jobs
are inserted where the order puts them, and jobs whose sort key changed on the feed are moved by one re-sort
``RESORT_MS`` later (at most one layout per interval however fast the feed, and rows do not jump under the cursor
at every frame); a sort the wrangler asks for is at once. It never resets: a changed job is a ``dataChanged`` of
its row and of its subjobs' rows (repainted at most every ``UPDATE_MS``), a new one a row insertion, a deleted or
filtered-out one a row removal, a job whose subjobs changed is removed and inserted again; expansion and selection
stay. Indexes carry an integer id looked up in a table, so a stale index finds nothing.
"""
from __future__ import annotations

import bisect
import itertools
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from maya_plugin.qt import (BACKGROUND_ROLE, DECORATION_ROLE, DISPLAY_ROLE, FONT_ROLE, FOREGROUND_ROLE,
                            TEXT_ALIGNMENT_ROLE, TOOLTIP_ROLE, QtCore)
from maya_plugin.ui.columns import (JOB_COLUMNS, JOB_NAME, JOB_STATUS, KIND_ROLE, NODE_ROLE, PROGRESS_ROLE,
                                    PROGRESS_TEXT_ROLE, STATUS_ROLE, format_time, job_progress, progress_text)
from maya_plugin.ui.nodes import KIND_JOB, JobNode, SubjobNode
from maya_plugin.ui.proxy import JobFilter
from maya_plugin.ui.style import status_color, status_icon

__all__ = ["JobTreeModel", "STATUS_ROLE", "PROGRESS_ROLE", "PROGRESS_TEXT_ROLE", "KIND_ROLE", "NODE_ROLE"]

_RIGHT = int(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
_INVALID = QtCore.QModelIndex
_COLUMNS = len(JOB_COLUMNS)
# Roles these models never answer, answered first: a delegate asks every cell for them at every paint.
_UNUSED_ROLES = frozenset((FONT_ROLE, BACKGROUND_ROLE, int(QtCore.Qt.CheckStateRole),
                           int(QtCore.Qt.SizeHintRole)))
_COUNT_KEYS = ("complete", "total", "failed", "queued", "rendering", "cancelled")
# Jobs whose sort key changed on the feed move this long after (one re-sort for every answer in between).
RESORT_MS = 500
# Changed rows on screen are repainted at once, then at most once in this interval (a busy farm's feed answers
# twenty times a second, and each repaint of the tree costs Python calls for every cell on screen).
UPDATE_MS = 200


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
    """Jobs > subjobs, updated incrementally from the narrowed changes feed; sorted and filtered in Python."""

    #: emitted after every applied batch (counts for the summary line may have changed)
    summaryChanged = QtCore.Signal()

    def __init__(self, parent: Any = None, clock: Callable[[], float] = time.time) -> None:
        super(JobTreeModel, self).__init__(parent)
        self.clock = clock
        self.by_name = {}  # type: Dict[str, JobNode]     every job of the farm
        self.jobs = []  # type: List[JobNode]             the visible ones, in order
        self._nodes = {}  # type: Dict[int, Any]
        self._ids = itertools.count(1)
        self.totals = Counter()  # type: Counter
        self.revision = 0
        self.filter = JobFilter()
        self.sort_column = JOB_NAME
        self.descending = False
        #: a callable giving the (first, last) job rows on screen, set by the view's owner; None: every row
        self.visible_rows = None  # type: Optional[Callable[[], Tuple[int, int]]]
        self._resort_timer = QtCore.QTimer(self)
        self._resort_timer.setSingleShot(True)
        self._resort_timer.setInterval(RESORT_MS)
        self._resort_timer.timeout.connect(self._resort)
        self._dirty = {}  # type: Dict[int, JobNode]     changed jobs not yet repainted
        self._last_update = -1e9
        self._update_timer = QtCore.QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.timeout.connect(self._flush_changed)
        self._counted = {}  # type: Dict[str, Dict[str, int]]   what each job adds to ``totals``

    @property
    def resort_pending(self) -> bool:
        """Whether jobs whose sort key changed wait for the next re-sort."""
        return self._resort_timer.isActive()

    # -- what the panel asks --------------------------------------------------------------------------------------
    def node(self, index: Any) -> Any:
        """The node behind an index of this model (None for the root or a stale index)."""
        if not index.isValid():
            return None
        return self._nodes.get(index.internalId())

    def index_of(self, node: Any, column: int = 0) -> Any:
        if node is None or node.job.row < 0:
            return _INVALID()
        return self.createIndex(node.row, column, node.id)

    def find(self, job: str, subjob: Optional[str] = None) -> Any:
        """The node of a job or subjob name (visible or not), or None."""
        node = self.by_name.get(job)
        if node is None or subjob is None:
            return node
        return node.by_name.get(subjob)

    # -- Qt's model interface -------------------------------------------------------------------------------------
    def columnCount(self, parent: Any = _INVALID()) -> int:
        return len(JOB_COLUMNS)

    # rowCount, hasChildren and index are what a view calls for every job at each layout (a sort, a row added): 900
    # jobs, 1,800 calls. They read the node by the index's id alone: an invalid index (the root) has the id 0, which
    # no node has (ids count from 1), so the root needs no isValid() call of its own.
    def rowCount(self, parent: Any = _INVALID()) -> int:
        node = self._nodes.get(parent.internalId())
        if node is None:
            return 0 if parent.isValid() else len(self.jobs)
        return len(node.subjobs) if node.kind == KIND_JOB and parent.column() == 0 else 0

    def hasChildren(self, parent: Any = _INVALID()) -> bool:
        node = self._nodes.get(parent.internalId())
        if node is None:
            return not parent.isValid() and bool(self.jobs)
        return node.kind == KIND_JOB and bool(node.subjobs) and parent.column() == 0

    def index(self, row: int, column: int, parent: Any = _INVALID()) -> Any:
        node = self._nodes.get(parent.internalId())
        if node is None:
            if parent.isValid():
                return _INVALID()
            children = self.jobs  # type: List[Any]
        elif node.kind == KIND_JOB:
            children = node.subjobs
        else:
            return _INVALID()
        if 0 <= row < len(children) and 0 <= column < _COLUMNS:
            return self.createIndex(row, column, children[row].id)
        return _INVALID()

    def parent(self, index: Any = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super(JobTreeModel, self).parent()
        if not index.isValid():
            return _INVALID()
        node = self._nodes.get(index.internalId())
        if node is None or node.kind == KIND_JOB or node.job.row < 0:
            return _INVALID()
        return self.createIndex(node.job.row, 0, node.job.id)

    def headerData(self, section: int, orientation: Any, role: int = DISPLAY_ROLE) -> Any:
        if orientation == QtCore.Qt.Horizontal and role == DISPLAY_ROLE and 0 <= section < len(JOB_COLUMNS):
            return JOB_COLUMNS[section].title
        return None


    # No flags() here: Qt's own (selectable, enabled) is C++; a Python one is called twice per row at every layout.

    def data(self, index: Any, role: int = DISPLAY_ROLE) -> Any:
        role = int(role)
        if role in _UNUSED_ROLES:  # four of the seven roles a delegate asks each cell for at every paint
            return None
        node = self._nodes.get(index.internalId()) if index.isValid() else None
        if node is None:
            return None
        column = index.column()
        if role == DISPLAY_ROLE:
            spec = JOB_COLUMNS[column]
            return spec.job(node) if node.kind == KIND_JOB else spec.subjob(node)
        if role == STATUS_ROLE:
            return node.status
        if role == PROGRESS_ROLE:
            return job_progress(node)
        if role == PROGRESS_TEXT_ROLE:
            return progress_text(node)
        if role == NODE_ROLE:
            return node
        if role == KIND_ROLE:
            return node.kind
        if role == FOREGROUND_ROLE and column == JOB_STATUS:
            return status_color(node.status)
        if role == DECORATION_ROLE and column == JOB_NAME:
            return status_icon(node.status)
        if role == TEXT_ALIGNMENT_ROLE and JOB_COLUMNS[column].right:
            return _RIGHT
        if role == TOOLTIP_ROLE:
            return self._tooltip(node)
        return None

    def sort(self, column: int, order: Any = QtCore.Qt.AscendingOrder) -> None:
        """Sort the jobs by one column (subjobs keep the farm's order); one key per job, no per-comparison call."""
        if not 0 <= column < len(JOB_COLUMNS):
            return
        self.sort_column = column
        self.descending = order == QtCore.Qt.DescendingOrder
        self._resort()

    # -- the filter ---------------------------------------------------------------------------------------------------
    def set_filter(self, statuses: Iterable[str] = (), text: str = "") -> None:
        """Show only jobs holding frames in ``statuses`` (or paused, for ``Paused``) whose name or user holds
        ``text``; empty: every job."""
        wanted = JobFilter(statuses, text)
        if wanted == self.filter:
            return
        self.filter = wanted
        self._refilter(list(self.by_name.values()))
        self._resort()

    def _refilter(self, nodes: Iterable[JobNode]) -> None:
        """Remove the rows of ``nodes`` that no longer pass, add (at the end) those that now do."""
        gone = [n for n in nodes if n.row >= 0 and not self.filter.passes(n)]
        for first, last in reversed(_runs(n.row for n in gone)):
            self.beginRemoveRows(_INVALID(), first, last)
            for node in self.jobs[first:last + 1]:
                node.row = -1
            del self.jobs[first:last + 1]
            for row in range(first, len(self.jobs)):
                self.jobs[row].row = row
            self.endRemoveRows()
        come = [n for n in nodes if n.row < 0 and n.name in self.by_name and self.filter.passes(n)]
        if come:
            self._insert_sorted(come)

    def _insert_sorted(self, nodes: List[JobNode]) -> None:
        """Insert job rows where the order puts them: one insertion per run of neighbours, no re-sort."""
        key = self._key()
        keys = [key(n) for n in self.jobs]  # the rows' order, ascending either way for bisect
        if self.descending:
            keys.reverse()
        places = []  # type: List[Tuple[int, JobNode]]
        for node in sorted(nodes, key=key, reverse=self.descending):
            at = bisect.bisect_left(keys, key(node))
            places.append((len(keys) - at if self.descending else at, node))
        places.sort(key=lambda p: p[0])  # stable: the new rows of one place keep their order
        shift = i = 0
        while i < len(places):
            j = i
            while j + 1 < len(places) and places[j + 1][0] == places[i][0]:
                j += 1
            first = places[i][0] + shift
            run = [p[1] for p in places[i:j + 1]]
            self.beginInsertRows(_INVALID(), first, first + len(run) - 1)
            self.jobs[first:first] = run
            for row in range(first, len(self.jobs)):
                self.jobs[row].row = row
            self.endInsertRows()
            shift += len(run)
            i = j + 1

    def _key(self) -> Callable[[JobNode], Any]:
        key = JOB_COLUMNS[self.sort_column].key
        return lambda node: (key(node), node.name)

    def _resort_soon(self) -> None:
        if not self._resort_timer.isActive():
            self._resort_timer.start()

    def _resort(self) -> None:
        self._resort_timer.stop()
        ordered = sorted(self.jobs, key=self._key(), reverse=self.descending)
        if ordered == self.jobs:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        nodes = [self._nodes.get(i.internalId()) if i.isValid() else None for i in old]
        self.jobs = ordered
        for row, node in enumerate(ordered):
            node.row = row
        new = [self.createIndex(n.row, i.column(), n.id) if n is not None and n.job.row >= 0 else _INVALID()
               for i, n in zip(old, nodes)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # -- applying the feed ----------------------------------------------------------------------------------------
    def apply_changes(self, changes: Dict[str, Any]) -> None:
        """Apply one answer of the narrowed changes feed (or of the whole one: frames are ignored); never resets.
        New jobs take their place in the order at once; jobs whose sort key changed move at the next re-sort
        (``RESORT_MS``). A ``partial`` answer (a slice of a big one, more to come) leaves the totals to the last."""
        jobs = changes.get("jobs") or {}
        gone = set(changes.get("deleted") or ())
        if changes.get("reload"):
            gone.update(name for name in self.by_name if name not in jobs)
        for name in gone:
            self._remove_job(name)
            self._count(name, None)
        changed = []  # type: List[JobNode]
        fresh = []  # type: List[JobNode]
        for name, head in jobs.items():
            node = self.by_name.get(name)
            subjobs = head.get("subjobs") or {}
            if node is not None and list(subjobs) != [s.name for s in node.subjobs]:
                self._remove_job(name)
                node = None
            if node is None:
                fresh.append(self._build_job(name, head))
            elif self._update_job(node, head):
                changed.append(node)
        for node in fresh:
            self.by_name[node.name] = node
            self._register(node)
        for node in changed + fresh:
            self._count(node.name, node)
        self._changed_soon(changed)
        self._refilter(changed + fresh)
        if changed and self.sort_column != JOB_NAME:  # a name never changes: only another key may move a job
            self._resort_soon()
        if "revision" in changes:
            self.revision = int(changes["revision"])
        if not changes.get("partial"):
            self.summaryChanged.emit()

    def clear(self) -> None:
        """Forget every job (one removal of all rows, not a reset)."""
        if self.jobs:
            self.beginRemoveRows(_INVALID(), 0, len(self.jobs) - 1)
            self.jobs = []
            self.endRemoveRows()
        self.by_name = {}
        self._nodes = {}
        self._dirty = {}
        self._counted = {}
        self.totals = Counter()
        self.revision = 0
        self.summaryChanged.emit()

    # -- internals ------------------------------------------------------------------------------------------------
    @staticmethod
    def _head(job: Dict[str, Any]) -> Dict[str, Any]:
        return {k: v for k, v in job.items() if k not in ("subjobs", "counts_only")}

    @staticmethod
    def _subjob_head(sub: Dict[str, Any]) -> Dict[str, Any]:
        return {k: v for k, v in sub.items() if k != "frames"}

    def _build_job(self, name: str, job: Dict[str, Any]) -> JobNode:
        node = JobNode(next(self._ids), name, self._head(job))
        for row, (s_name, sub) in enumerate((job.get("subjobs") or {}).items()):
            s_node = SubjobNode(next(self._ids), node, s_name, self._subjob_head(sub), row)
            node.subjobs.append(s_node)
            node.by_name[s_name] = s_node
        return node

    def _update_job(self, node: JobNode, job: Dict[str, Any]) -> bool:
        """Take a job's new head; False when it says nothing new (a reload after a reconnect repeats most heads:
        those rows are neither repainted nor re-sorted)."""
        # A head of counts alone is merged; a whole head replaces (a key it lacks, like a cleared blocklist, went).
        merge = bool(job.get("counts_only"))
        head = self._head(job)
        if merge:
            head = dict(node.data, **head)
        moved = head != node.data
        node.data = head
        for s_name, sub in (job.get("subjobs") or {}).items():
            s_node = node.by_name[s_name]
            s_head = self._subjob_head(sub)
            if merge:
                s_head = dict(s_node.data, **s_head)
            if s_head != s_node.data:
                moved = True
                s_node.data = s_head
        return moved

    def _register(self, job: JobNode) -> None:
        self._nodes[job.id] = job
        for sub in job.subjobs:
            self._nodes[sub.id] = sub

    def _remove_job(self, name: str) -> None:
        node = self.by_name.pop(name, None)
        if node is None:
            return
        if node.row >= 0:
            row = node.row
            self.beginRemoveRows(_INVALID(), row, row)
            del self.jobs[row]
            for later in self.jobs[row:]:
                later.row -= 1
            node.row = -1
            self.endRemoveRows()
        self._nodes.pop(node.id, None)
        for sub in node.subjobs:
            self._nodes.pop(sub.id, None)

    def _count(self, name: str, node: Optional[JobNode]) -> None:
        """``totals`` without what job ``name`` added before, with what it adds now (None: it is gone); a batch
        costs its own jobs, not the farm's."""
        totals = self.totals
        for key, value in self._counted.pop(name, {}).items():
            totals[key] -= value
            if not totals[key]:
                del totals[key]
        if node is None:
            return
        frames = node.data.get("frames") or {}
        mine = {}
        for key in _COUNT_KEYS:
            try:
                value = int(frames.get(key) or 0)
            except (TypeError, ValueError):
                value = 0
            if value:
                mine[key.capitalize()] = value
                totals[key.capitalize()] += value
        self._counted[name] = mine

    def _changed_soon(self, nodes: List[JobNode]) -> None:
        """Repaint these jobs' rows now, or at the end of the interval when rows were repainted less than
        ``UPDATE_MS`` ago (every change of the interval in one repaint)."""
        for node in nodes:
            self._dirty[node.id] = node
        if not self._dirty or self._update_timer.isActive():
            return
        wait = self._last_update + UPDATE_MS / 1000.0 - time.monotonic()
        if wait <= 0:
            self._flush_changed()
        else:
            self._update_timer.start(int(wait * 1000) + 1)

    def _flush_changed(self) -> None:
        self._update_timer.stop()
        nodes = [n for n in self._dirty.values() if n.row >= 0 and self._nodes.get(n.id) is n]
        self._dirty = {}
        self._last_update = time.monotonic()
        self._emit_changed(nodes)

    def _emit_changed(self, nodes: List[JobNode]) -> None:
        # Only rows on screen are told: a tree view spends Python calls on every row of a dataChanged (its parent,
        # its children), 100 changed jobs cost 80 ms that way, and a row scrolled into view is painted from the
        # nodes as they are anyway.
        if self.visible_rows is not None:
            first_row, last_row = self.visible_rows()
            nodes = [n for n in nodes if first_row <= n.row <= last_row]
        last = len(JOB_COLUMNS) - 1
        for first, end in _runs(n.row for n in nodes):
            self.dataChanged.emit(self.createIndex(first, 0, self.jobs[first].id),
                                  self.createIndex(end, last, self.jobs[end].id))
        for node in nodes:
            if node.subjobs:
                self.dataChanged.emit(self.createIndex(0, 0, node.subjobs[0].id),
                                      self.createIndex(len(node.subjobs) - 1, last, node.subjobs[-1].id))

    @staticmethod
    def _tooltip(node: Any) -> Optional[str]:
        parts = [node.name]
        keys = ("user", "scene", "renderer", "waiting_for") if node.kind == KIND_JOB else ("layer", "camera")
        for key in keys:
            if node.data.get(key):
                parts.append("%s: %s" % (key.replace("_", " "), node.data[key]))
        if node.kind == KIND_JOB and node.data.get("submitted"):
            parts.append("submitted: %s" % format_time(node.data["submitted"]))
        return "\n".join(parts)
