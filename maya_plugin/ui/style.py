"""Colours and small formatting helpers shared by the widgets (no widgets here)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from maya_plugin.qt import QtGui

__all__ = ["STATUSES", "STATUS_COLORS", "SEVERITY_COLORS", "status_color", "status_icon", "format_elapsed"]

#: frame statuses of the contract, in the order the UI lists them; ``Paused`` is a job/subjob status only
STATUSES = ("Queued", "Rendering", "Complete", "Failed", "Cancelled", "Paused")

#: readable on Maya's dark grey and on a light desktop theme
STATUS_COLORS = {
    "Queued": "#9aa0a8",
    "Rendering": "#3d9be9",
    "Complete": "#4caf50",
    "Failed": "#e5534b",
    "Cancelled": "#b07d48",
    "Paused": "#e0b341",
}  # type: Dict[str, str]

SEVERITY_COLORS = {"error": "#e5534b", "warning": "#e0b341", "info": "#9aa0a8"}  # type: Dict[str, str]

_icons = {}  # type: Dict[str, Any]


def status_color(status: Optional[str]) -> Any:
    """The QColor of a status (grey for one we do not know)."""
    return QtGui.QColor(STATUS_COLORS.get(status or "", "#9aa0a8"))


def status_icon(status: Optional[str]) -> Any:
    """A small round QIcon in the status colour (made once per status; needs a QGuiApplication)."""
    key = status or ""
    icon = _icons.get(key)
    if icon is None:
        pixmap = QtGui.QPixmap(12, 12)
        pixmap.fill(QtGui.QColor(0, 0, 0, 0))
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        painter.setPen(QtGui.QColor(0, 0, 0, 0))
        painter.setBrush(status_color(status))
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = _icons[key] = QtGui.QIcon(pixmap)
    return icon


def format_elapsed(seconds: Optional[float]) -> str:
    """``42s``, ``3:07``, ``1:02:03``; empty for None."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%d:%02d:%02d" % (hours, minutes, secs)
    if minutes:
        return "%d:%02d" % (minutes, secs)
    return "%ds" % secs
