"""The Monitor's jobs tree: every job of the farm and its subjobs, with their counts, never their frames.

``JobTreeModel`` is a ``QStandardItemModel`` of two levels, fed with the narrowed changes feed (``apply_changes``:
job heads with counts, see docs/API.md "Reads that stay small"). Frames are not here: the frames table shows pages of
the one subjob that is open (``frames_model.FramesModel``), so the model's size grows with the jobs, not the frames.

What the tree shows is held in Qt's items (``tree_cells``), so a layout and a paint of the tree make no Python call
per row; the Python side keeps the farm's dictionaries (``nodes``), writes a cell only when it changed, and decides
the order: one Python key per job (``columns.JOB_COLUMNS``), one ``sorted`` of the visible jobs, and Qt's own sort
by the rank that gives (one ``layoutChanged``, no Python call per comparison). New jobs are inserted where the order
puts them, and jobs whose sort key changed on the feed are moved by one re-sort ``RESORT_MS`` later (at most one
layout per interval however fast the feed, and rows do not jump under the cursor at every frame); a sort the
wrangler asks for is at once. It never resets: a changed job is a ``dataChanged`` of its row and of its subjobs'
rows when on screen (at most every ``UPDATE_MS``), a new one a row insertion, a deleted or filtered-out one a row
removal, a job whose subjobs changed is removed and inserted again; expansion and selection stay. As with any Qt
model, an index is good until the model changes; what must outlive a change is a ``QPersistentModelIndex``.
"""
from __future__ import annotations

import bisect
import itertools
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from maya_plugin.qt import QtCore, QtGui
from maya_plugin.ui.columns import (JOB_COLUMNS, JOB_NAME, KIND_ROLE, NODE_ROLE, PROGRESS_ROLE, PROGRESS_TEXT_ROLE,
                                    STATUS_ROLE)
from maya_plugin.ui.nodes import JobNode, SubjobNode
from maya_plugin.ui.proxy import JobFilter
from maya_plugin.ui.tree_cells import RANK_ROLE, new_row, write_cells

__all__ = ["JobTreeModel", "STATUS_ROLE", "PROGRESS_ROLE", "PROGRESS_TEXT_ROLE", "KIND_ROLE", "NODE_ROLE"]

_INVALID = QtCore.QModelIndex
_COUNT_KEYS = ("complete", "total", "failed", "queued", "rendering", "cancelled")
# Jobs whose sort key changed on the feed move this long after (one re-sort for every answer in between).
RESORT_MS = 500
# Changed rows on screen are repainted at once, then at most once in this interval (a busy farm's feed answers
# twenty times a second).
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


class JobTreeModel(QtGui.QStandardItemModel):
    """Jobs > subjobs, updated incrementally from the narrowed changes feed; sorted and filtered in Python, shown
    from Qt's items."""

    #: emitted after every applied batch (counts for the summary line may have changed)
    summaryChanged = QtCore.Signal()

    def __init__(self, parent: Any = None, clock: Callable[[], float] = time.time) -> None:
        super(JobTreeModel, self).__init__(0, len(JOB_COLUMNS), parent)
        self.setHorizontalHeaderLabels([spec.title for spec in JOB_COLUMNS])
        self.setSortRole(RANK_ROLE)
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
        """The node behind an index of this model (None for the root, or an index of another model)."""
        if not index.isValid() or index.model() is not self:
            return None
        node = index.sibling(index.row(), 0).data(NODE_ROLE)
        return node if node is not None and self._nodes.get(node.id) is node else None

    def index_of(self, node: Any, column: int = 0) -> Any:
        if node is None or node.job.row < 0 or self._nodes.get(node.id) is not node:
            return _INVALID()
        if node is node.job:
            return self.index(node.row, column)
        return self.index(node.row, column, self.index(node.job.row, 0))

    def find(self, job: str, subjob: Optional[str] = None) -> Any:
        """The node of a job or subjob name (visible or not), or None."""
        node = self.by_name.get(job)
        if node is None or subjob is None:
            return node
        return node.by_name.get(subjob)

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
            for row in range(last, first - 1, -1):
                node = self.jobs[row]
                node.items = self.takeRow(row)  # the row's items (its subjobs with them) wait for the filter
                node.row = -1
            del self.jobs[first:last + 1]
            for row in range(first, len(self.jobs)):
                self.jobs[row].row = row
        come = [n for n in nodes if n.row < 0 and n.name in self.by_name and self.filter.passes(n)]
        if come:
            self._insert_sorted(come)

    def _insert_sorted(self, nodes: List[JobNode]) -> None:
        """Insert job rows where the order puts them, no re-sort (the view lays out once, on its next paint)."""
        key = self._key()
        keys = [key(n) for n in self.jobs]  # the rows' order, ascending either way for bisect
        if self.descending:
            keys.reverse()
        places = []  # type: List[Tuple[int, JobNode]]
        for node in sorted(nodes, key=key, reverse=self.descending):
            at = bisect.bisect_left(keys, key(node))
            places.append((len(keys) - at if self.descending else at, node))
        places.sort(key=lambda p: p[0])  # stable: the new rows of one place keep their order
        root = self.invisibleRootItem()
        shift = i = 0
        while i < len(places):
            j = i
            while j + 1 < len(places) and places[j + 1][0] == places[i][0]:
                j += 1
            first = places[i][0] + shift
            run = [p[1] for p in places[i:j + 1]]
            self.jobs[first:first] = run
            # One insertion a run of neighbours (their first cells, with their subjobs), then their other cells
            # unannounced: the view reads them when it lays the new rows out, on its next paint.
            root.insertRows(first, [node.items[0] for node in run])
            blocked = self.blockSignals(True)
            try:
                for k, node in enumerate(run):
                    for column in range(1, len(node.items)):
                        root.setChild(first + k, column, node.items[column])
            finally:
                self.blockSignals(blocked)
            shift += len(run)
            i = j + 1
        if places:
            for row in range(places[0][0], len(self.jobs)):
                self.jobs[row].row = row

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
        # The order is Python's, one key per job; Qt moves the rows by it (persistent indexes, expansion and the
        # selection follow) in one layout change, comparing ranks in C++.
        blocked = self.blockSignals(True)
        try:
            for row, node in enumerate(ordered):
                node.items[0].setData(row, RANK_ROLE)
        finally:
            self.blockSignals(blocked)
        QtGui.QStandardItemModel.sort(self, 0, QtCore.Qt.AscendingOrder)
        self.jobs = ordered
        for row, node in enumerate(ordered):
            node.row = row

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
            self.removeRows(0, len(self.jobs))
            self.jobs = []
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
        node.items = new_row(node, 0)
        for row, (s_name, sub) in enumerate((job.get("subjobs") or {}).items()):
            s_node = SubjobNode(next(self._ids), node, s_name, self._subjob_head(sub), row)
            s_node.items = new_row(s_node, row)
            node.items[0].appendRow(s_node.items)
            node.subjobs.append(s_node)
            node.by_name[s_name] = s_node
        return node

    def _update_job(self, node: JobNode, job: Dict[str, Any]) -> bool:
        """Take a job's new head and write the cells it changed; False when it says nothing new (a reload after a
        reconnect repeats most heads: those rows are neither written, repainted nor re-sorted)."""
        # A head of counts alone is merged; a whole head replaces (a key it lacks, like a cleared blocklist, went).
        merge = bool(job.get("counts_only"))
        head = self._head(job)
        if merge:
            head = dict(node.data, **head)
        moved = head != node.data
        node.data = head
        changed = [node] if moved else []
        for s_name, sub in (job.get("subjobs") or {}).items():
            s_node = node.by_name[s_name]
            s_head = self._subjob_head(sub)
            if merge:
                s_head = dict(s_node.data, **s_head)
            if s_head != s_node.data:
                moved = True
                s_node.data = s_head
                changed.append(s_node)
        if moved:
            # the view hears of the rows on screen from _emit_changed, once an interval; not of every cell now
            blocked = self.blockSignals(True)
            try:
                for one in changed:  # a job's own cells show its head alone, a subjob's its own
                    write_cells(one.items, one, one.cells)
            finally:
                self.blockSignals(blocked)
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
            del self.jobs[row]
            for later in self.jobs[row:]:
                later.row -= 1
            node.row = -1
            self.removeRow(row)
        node.items = []
        self._nodes.pop(node.id, None)
        for sub in node.subjobs:
            self._nodes.pop(sub.id, None)
            sub.items = []

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
        # Only rows on screen are told (their cells were written when the feed came): a row scrolled into view is
        # painted from its items as they are.
        if self.visible_rows is not None:
            first_row, last_row = self.visible_rows()
            nodes = [n for n in nodes if first_row <= n.row <= last_row]
        last = len(JOB_COLUMNS) - 1
        for first, end in _runs(n.row for n in nodes):
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))
        for node in nodes:
            if node.subjobs:
                parent = self.index(node.row, 0)
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(node.subjobs) - 1, last, parent))
