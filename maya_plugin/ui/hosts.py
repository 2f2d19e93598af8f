"""The farm's render hosts and their state (a small list: a QTreeWidget is enough).

"Last seen" is counted on the node's clock (``seen_ago``), not this machine's: a workstation whose clock is a minute
off must not show a rendering host as silent for a minute. A host that said goodbye (state ``stopped``) shows as
"left", and its last-seen time is when it left.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

from maya_plugin.qt import QtCore, QtGui, QtWidgets
from maya_plugin.ui.style import format_elapsed

__all__ = ["HostsView", "HOST_COLUMNS"]

HOST_COLUMNS = ("Host", "State", "Slots", "Frames", "Last seen", "Tags", "OS", "CPUs", "Memory")
_STATE_COLORS = {"rendering": "#3d9be9", "idle": "#4caf50", "lost": "#e5534b", "left": "#9aa0a8"}
_STATE_NAMES = {"stopped": "left"}
# Hosts seen this recently are shown as seen now (a heartbeat is 5 s by default).
_NOW_SECONDS = 10.0


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
            state = str(worker.get("state") or "")
            state = _STATE_NAMES.get(state, state)
            tags = worker.get("tags") or ()
            values = [name, state, str(worker.get("slots", "")), str(worker.get("frames", "")),
                      self._seen(worker), ", ".join(str(t) for t in tags) if isinstance(tags, (list, tuple)) else
                      str(tags), str(worker.get("os") or ""), str(worker.get("cpus") or ""),
                      _memory(worker.get("memory"))]
            for column, value in enumerate(values):
                item.setText(column, value)
            item.setForeground(1, QtGui.QColor(_STATE_COLORS.get(state, "#9aa0a8")))
        for name, item in items.items():
            if name not in seen:
                self.takeTopLevelItem(self.indexOfTopLevelItem(item))
        self.setSortingEnabled(True)

    def _seen(self, worker: Dict[str, Any]) -> str:
        ago = worker.get("seen_ago")
        if ago is None:
            last_seen = worker.get("last_seen")
            if not last_seen:
                return ""
            ago = self.clock() - float(last_seen)
        ago = max(0.0, float(ago))
        if ago < _NOW_SECONDS and worker.get("state") not in ("lost", "stopped"):
            return "now"
        return format_elapsed(ago) + " ago"

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.get("state") == "rendering")
