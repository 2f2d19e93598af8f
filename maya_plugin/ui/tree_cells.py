"""What each cell of the jobs tree shows, kept in Qt's own items (``QStandardItem``), written only when it changes.

The jobs tree's display lives in C++. A layout of the tree (a sort, rows added or removed) walks every job, and a
paint asks each cell on screen for seven roles. Through a Python model that was two Python calls a job for the
layout (``index``, ``hasChildren``, 1,800 for 900 jobs) and one a role for the paint; each call from C++ into
Python costs microseconds of the GUI thread (Maya's). Held in items, both are C++ alone: a sort of 900 jobs, laid
out and painted, went from 15.5 ms to 4-7 ms here. The Python model keeps the farm's dictionaries (the nodes) and
decides the order; it writes a cell when one of its plain values (``cells``) changed, never a whole row again.
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

from maya_plugin.qt import (DECORATION_ROLE, DISPLAY_ROLE, FOREGROUND_ROLE, TEXT_ALIGNMENT_ROLE, TOOLTIP_ROLE,
                            USER_ROLE, QtCore, QtGui)
from maya_plugin.ui.columns import (JOB_COLUMNS, JOB_NAME, JOB_PROGRESS, JOB_STATUS, KIND_ROLE, NODE_ROLE,
                                    PROGRESS_ROLE, PROGRESS_TEXT_ROLE, STATUS_ROLE, format_time, job_progress,
                                    progress_text)
from maya_plugin.ui.nodes import KIND_JOB
from maya_plugin.ui.style import status_color, status_icon

__all__ = ["RANK_ROLE", "new_row", "write_cells"]

#: a row's place in the order the Python model chose (the role Qt's own sort reads: no Python call per comparison)
RANK_ROLE = USER_ROLE + 8

_RIGHT = int(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
# Rows are selected, never edited or dragged (an item's own flags would allow both).
_JOB_FLAGS = QtCore.Qt.ItemIsSelectable | QtCore.Qt.ItemIsEnabled
_SUBJOB_FLAGS = _JOB_FLAGS | QtCore.Qt.ItemNeverHasChildren
# The columns whose cells carry the row's status (its icon, its colour, the progress bar's colour).
_STATUS_COLUMNS = (JOB_NAME, JOB_STATUS, JOB_PROGRESS)
# The columns whose cells carry the row's progress (the bar's, and the row's first cell, read by whoever has a row).
_PROGRESS_COLUMNS = (JOB_NAME, JOB_PROGRESS)

Cell = Tuple[str, str, Optional[str], float, str]  # text, status, tooltip, progress, progress text


def cells(node: Any) -> List[Cell]:
    """The plain values of each of a row's cells: what a change is found on."""
    status = node.status
    tip = tooltip(node)
    progress, ptext = job_progress(node), progress_text(node)
    job = node.kind == KIND_JOB
    return [(spec.job(node) if job else spec.subjob(node), status, tip, progress, ptext) for spec in JOB_COLUMNS]


def tooltip(node: Any) -> Optional[str]:
    parts = [node.name]
    keys = ("user", "scene", "renderer", "waiting_for") if node.kind == KIND_JOB else ("layer", "camera")
    for key in keys:
        if node.data.get(key):
            parts.append("%s: %s" % (key.replace("_", " "), node.data[key]))
    if node.kind == KIND_JOB and node.data.get("submitted"):
        parts.append("submitted: %s" % format_time(node.data["submitted"]))
    return "\n".join(parts)


def new_row(node: Any, rank: int) -> List[Any]:
    """The items of a job's or a subjob's row, filled (not yet in a model: no signal)."""
    flags = _JOB_FLAGS if node.kind == KIND_JOB else _SUBJOB_FLAGS
    items = []
    for column, spec in enumerate(JOB_COLUMNS):
        item = QtGui.QStandardItem()
        item.setFlags(flags)
        if spec.right:
            item.setData(_RIGHT, TEXT_ALIGNMENT_ROLE)
        items.append(item)
    first = items[0]
    first.setData(node, NODE_ROLE)
    first.setData(node.kind, KIND_ROLE)
    first.setData(rank, RANK_ROLE)
    write_cells(items, node, None)
    return items


def write_cells(items: List[Any], node: Any, old: Optional[List[Cell]]) -> bool:
    """Write into a row's items what changed since ``old`` (None: a new row); True when anything did. The caller
    blocks the model's signals around a batch of these and tells the view of the rows on screen itself."""
    new = cells(node)
    node.cells = new
    if old == new:
        return False
    for column, item in enumerate(items):
        now = new[column]
        was = old[column] if old is not None else ("", None, None, None, None)
        if was == now:
            continue
        text, status, tip, progress, ptext = now
        if was[0] != text:
            item.setData(text, DISPLAY_ROLE)
        if was[1] != status and column in _STATUS_COLUMNS:
            item.setData(status, STATUS_ROLE)
            if column == JOB_NAME:
                item.setData(status_icon(status), DECORATION_ROLE)
            elif column == JOB_STATUS:
                item.setData(status_color(status), FOREGROUND_ROLE)
        if was[2] != tip:
            item.setData(tip, TOOLTIP_ROLE)
        if column in _PROGRESS_COLUMNS and (was[3], was[4]) != (progress, ptext):
            item.setData(progress, PROGRESS_ROLE)
            item.setData(ptext, PROGRESS_TEXT_ROLE)
    return True
