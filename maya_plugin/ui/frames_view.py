"""The frames pane: the open subjob's frames in a table of pages, with the node-side filter (status, host, range).

The table asks ``FramesModel`` for the rows on screen only, and tells it which rows those are when it scrolls.
Selections are read as ranges (``selection_ranges``), never as one index per row: "select all" of 100,000 frames
is one range, and an action on it acts on the whole subjob.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from maya_plugin.qt import QtCore, QtWidgets, Signal
from maya_plugin.ui.columns import FRAME_COLUMNS, FRAME_PROGRESS
from maya_plugin.ui.delegates import ProgressDelegate
from maya_plugin.ui.frames_model import FrameQuery, FramesModel
from maya_plugin.ui.style import STATUSES

__all__ = ["FramesPane", "parse_range"]

_RANGE = re.compile(r"^\s*(-?\d+)\s*(?:(?:-|\.\.|:)\s*(-?\d+))?\s*$")


def parse_range(text: str) -> Tuple[Optional[int], Optional[int]]:
    """``"10-20"`` -> (10, 20), ``"7"`` -> (7, 7), empty -> (None, None); ValueError for anything else."""
    if not text.strip():
        return None, None
    match = _RANGE.match(text)
    if not match:
        raise ValueError("a frame range is FIRST-LAST or one frame, not %r" % text)
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    return min(first, last), max(first, last)


class FramesPane(QtWidgets.QWidget):
    """One subjob's frames, paged from the node."""

    #: the current frame: (job, subjob, frame dictionary), or None
    currentFrameChanged = Signal(object)
    #: the selection changed (read it with ``selection_ranges``)
    selectionChanged = Signal()

    def __init__(self, fetch: Callable[..., Any], parent: Any = None, clock: Callable[[], float] = time.time) -> None:
        super(FramesPane, self).__init__(parent)
        self.total_hint = 0
        self.title = QtWidgets.QLabel("Open a subjob to see its frames.")
        self.title.setObjectName("PyFarmFramesTitle")
        self.status_combo = QtWidgets.QComboBox()
        self.status_combo.addItem("All statuses", "")
        for status in STATUSES:
            if status != "Paused":
                self.status_combo.addItem(status, status)
        self.host_edit = QtWidgets.QLineEdit()
        self.host_edit.setPlaceholderText("host")
        self.range_edit = QtWidgets.QLineEdit()
        self.range_edit.setPlaceholderText("frames, e.g. 1001-1100")
        self.filter_error = ""
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.host_edit)
        bar.addWidget(self.range_edit)

        self.model = FramesModel(fetch, self, clock=clock)
        self.view = QtWidgets.QTableView()
        self.view.setObjectName("PyFarmFrameTable")
        self.view.setModel(self.model)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setShowGrid(False)
        self.view.setSortingEnabled(True)
        self.view.setItemDelegateForColumn(FRAME_PROGRESS, ProgressDelegate(self.view))
        rows = self.view.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QtWidgets.QHeaderView.Fixed)
        rows.setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        # A header draws each section knowing whether its whole column is selected, which Qt finds by asking every
        # row of the selection (100,000 Python calls after "select all"): the header gets a selection of its own.
        header.setSelectionModel(QtCore.QItemSelectionModel(self.model, header))
        header.setStretchLastSection(True)
        for column, spec in enumerate(FRAME_COLUMNS):
            header.resizeSection(column, spec.width)
        self.view.sortByColumn(0, QtCore.Qt.AscendingOrder)
        self.view.verticalScrollBar().valueChanged.connect(self._visible_changed)
        self.model.modelReset.connect(self._visible_changed)
        self.model.rowsInserted.connect(self._visible_changed)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.selectionModel().selectionChanged.connect(lambda *a: self.selectionChanged.emit())
        self.model.pageLoaded.connect(self._page_loaded)
        self.status_combo.currentIndexChanged.connect(self._filter_changed)
        self.host_edit.editingFinished.connect(self._filter_changed)
        self.range_edit.editingFinished.connect(self._filter_changed)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

    # -- what the panel tells it ------------------------------------------------------------------------------------
    @property
    def key(self) -> Optional[Tuple[str, str]]:
        return self.model.key

    def open(self, job: str, subjob: str, total: int) -> None:
        """Show ``job``/``subjob`` (``total`` frames, from the summary), sorted and filtered as the pane is now."""
        self.total_hint = int(total)
        self.model.show(self._query(job, subjob), self.total_hint)
        self._title()

    def close_subjob(self) -> None:
        self.model.show(None)
        self.title.setText("Open a subjob to see its frames.")

    def set_total(self, total: int) -> None:
        """The subjob's frame count changed (a new head): an unfiltered view grows or shrinks with it."""
        self.total_hint = int(total)

    def resizeEvent(self, event: Any) -> None:
        super(FramesPane, self).resizeEvent(event)
        self._visible_changed()

    # -- reading the selection ------------------------------------------------------------------------------------
    def selection_ranges(self) -> List[Tuple[int, int]]:
        """Selected rows as sorted, merged (top, bottom) ranges: one range for "select all"."""
        spans = sorted((r.top(), r.bottom()) for r in self.view.selectionModel().selection())
        merged = []  # type: List[Tuple[int, int]]
        for top, bottom in spans:
            if merged and top <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], bottom))
            else:
                merged.append((top, bottom))
        return merged

    def selected_count(self) -> int:
        return sum(bottom - top + 1 for top, bottom in self.selection_ranges())

    def whole_subjob_selected(self) -> bool:
        """Every frame of the subjob is selected (no filter, every row)."""
        query = self.model.query
        return (query is not None and not query.filtered and self.model.total > 0
                and self.selection_ranges() == [(0, self.model.total - 1)])

    def loaded_selection(self) -> Tuple[List[Dict[str, Any]], bool]:
        """The selected frames whose pages are here, and whether that is all of the selection."""
        frames, whole = [], True
        for top, bottom in self.selection_ranges():
            for row in range(top, bottom + 1):
                frame = self.model.frame_at(row)
                if frame is None:
                    whole = False
                else:
                    frames.append(frame)
        return frames, whole

    def current_frame(self) -> Optional[Dict[str, Any]]:
        index = self.view.currentIndex()
        return self.model.frame_at(index.row()) if index.isValid() else None

    def select_frames(self, numbers: List[int]) -> int:
        """Select the rows of these frames that are here; returns how many were."""
        selection = QtCore.QItemSelection()
        rows = sorted(r for r in (self.model.row_of(n) for n in numbers) if r >= 0)
        last = len(FRAME_COLUMNS) - 1
        for row in rows:
            selection.select(self.model.index(row, 0), self.model.index(row, last))
        flags = QtCore.QItemSelectionModel.ClearAndSelect | QtCore.QItemSelectionModel.Rows
        self.view.selectionModel().select(selection, flags)
        if rows:
            self.view.selectionModel().setCurrentIndex(self.model.index(rows[0], 0),
                                                       QtCore.QItemSelectionModel.NoUpdate)
            self.view.scrollTo(self.model.index(rows[0], 0))
            self._current_changed(self.model.index(rows[0], 0), None)
        return len(rows)

    # -- internals ------------------------------------------------------------------------------------------------
    def _query(self, job: str, subjob: str) -> FrameQuery:
        header = self.view.horizontalHeader()
        column = header.sortIndicatorSection()
        sort = FRAME_COLUMNS[column].sort if 0 <= column < len(FRAME_COLUMNS) else "number"
        status = self.status_combo.currentData()
        host = self.host_edit.text().strip() or None
        try:
            first, last = parse_range(self.range_edit.text())
            self.filter_error = ""
        except ValueError as exc:
            first = last = None
            self.filter_error = str(exc)
        return FrameQuery(job, subjob, sort, header.sortIndicatorOrder() == QtCore.Qt.DescendingOrder,
                          (status,) if status else (), host, first, last)

    def _filter_changed(self, *args: Any) -> None:
        key = self.model.key
        if key is None:
            return
        query = self._query(*key)
        if query != self.model.query:
            self.model.show(query, self.total_hint)
            self._title()

    def _title(self) -> None:
        query = self.model.query
        if query is None:
            return
        shown = "%d frames" % self.model.total if (query.filtered or self.model.total) else "reading..."
        if query.filtered:
            shown += " of %d" % self.total_hint
        self.title.setText("%s / %s: %s" % (query.job, query.subjob, shown))

    def _page_loaded(self, page: int) -> None:
        self._title()

    def _visible_changed(self, *args: Any) -> None:
        height = self.view.viewport().height()
        first = self.view.rowAt(0)
        last = self.view.rowAt(max(0, height - 1))
        if first < 0:
            first = 0
        if last < 0:
            last = first + max(1, height // max(1, self.view.verticalHeader().defaultSectionSize()))
        self.model.set_visible(first, last)

    def _current_changed(self, current: Any, previous: Any) -> None:
        query = self.model.query
        frame = self.model.frame_at(current.row()) if current is not None and current.isValid() else None
        if query is None or frame is None:
            self.currentFrameChanged.emit(None)
            return
        self.currentFrameChanged.emit((query.job, query.subjob, frame))
