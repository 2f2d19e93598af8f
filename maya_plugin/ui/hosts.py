"""The farm's render hosts and their state (a small list: a QTreeWidget is enough)."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

from maya_plugin.qt import QtCore, QtGui, QtWidgets
from maya_plugin.ui.style import format_elapsed

__all__ = ["HostsView", "HOST_COLUMNS"]

HOST_COLUMNS = ("Host", "State", "Slots", "Frames", "Last seen", "OS", "CPUs", "Memory")
_STATE_COLORS = {"rendering": "#3d9be9", "idle": "#4caf50", "lost": "#e5534b"}


def _memory(value: Any) -> str:
    try:
        return "%.0f GB" % (float(value) / 2 ** 30)
    except (TypeError, ValueError):
        return ""


class HostsView(QtWidgets.QTreeWidget):
    """One row per host of ``client.workers()``; ``update_workers`` replaces the rows' contents in place."""

    def __init__(self, parent: Any = None, clock: Callable[[], float] = time.time) -> None:
        super(HostsView, self).__init__(parent)
        self.clock = clock
        self.setHeaderLabels(list(HOST_COLUMNS))
        self.setRootIsDecorated(False)
        self.setSortingEnabled(True)
        self.sortByColumn(0, QtCore.Qt.AscendingOrder)
        self.workers = []  # type: List[Dict[str, Any]]

    def update_workers(self, workers: List[Dict[str, Any]]) -> None:
        self.workers = list(workers)
        items = {}  # type: Dict[str, Any]
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            items[item.text(0)] = item
        seen = set()
        self.setSortingEnabled(False)
        for worker in workers:
            name = str(worker.get("name") or "?")
            seen.add(name)
            item = items.get(name)
            if item is None:
                item = QtWidgets.QTreeWidgetItem([name])
                self.addTopLevelItem(item)
            last_seen = worker.get("last_seen")
            ago = format_elapsed(self.clock() - float(last_seen)) + " ago" if last_seen else ""
            state = str(worker.get("state") or "")
            values = [name, state, str(worker.get("slots", "")), str(worker.get("frames", "")), ago,
                      str(worker.get("os") or ""), str(worker.get("cpus") or ""), _memory(worker.get("memory"))]
            for column, value in enumerate(values):
                item.setText(column, value)
            item.setForeground(1, QtGui.QColor(_STATE_COLORS.get(state, "#9aa0a8")))
        for name, item in items.items():
            if name not in seen:
                self.takeTopLevelItem(self.indexOfTopLevelItem(item))
        self.setSortingEnabled(True)

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.get("state") == "rendering")
