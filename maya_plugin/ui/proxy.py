"""Sorting and the status filter of the Monitor's tree.

``StatusFilterProxy`` sorts by the model's ``SORT_ROLE`` (so the comparisons are Qt's, on plain values) and filters
by status: a frame passes when its status is in the filter, a job or subjob when it holds such frames (the model
counts them incrementally, so filtering a 10,000-frame job does not walk its frames). ``Paused`` lets a paused job
through with all its rows.
"""
from __future__ import annotations

from typing import Any, Iterable

from maya_plugin.qt import QtCore
from maya_plugin.ui.model import SORT_ROLE
from maya_plugin.ui.nodes import KIND_FRAME
from maya_plugin.ui.style import STATUSES

__all__ = ["StatusFilterProxy"]


class StatusFilterProxy(QtCore.QSortFilterProxyModel):
    """Sorting by ``SORT_ROLE`` and a filter on statuses (empty filter: everything)."""

    def __init__(self, parent: Any = None) -> None:
        super(StatusFilterProxy, self).__init__(parent)
        self._statuses = frozenset()  # type: frozenset
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def statuses(self) -> frozenset:
        return self._statuses

    def set_statuses(self, statuses: Iterable[str]) -> None:
        statuses = frozenset(s for s in statuses if s in STATUSES)
        if statuses == self._statuses:
            return
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9 (invalidateFilter is deprecated there)
            self.beginFilterChange()
            self._statuses = statuses
            self.endFilterChange()
        else:
            self._statuses = statuses
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:
        if not self._statuses:
            return True
        model = self.sourceModel()
        node = model.node(model.index(source_row, 0, source_parent))
        if node is None:
            return False
        if "Paused" in self._statuses and node.job.data.get("paused"):
            return True
        if node.kind == KIND_FRAME:
            return node.status in self._statuses
        return any(node.counts.get(s) for s in self._statuses)
