"""The progress bars of the Monitor's tree and frames table (a delegate: painted, no widget per row)."""
from __future__ import annotations

from typing import Any

from maya_plugin.qt import QtCore, QtGui, QtWidgets
from maya_plugin.ui.columns import PROGRESS_ROLE, PROGRESS_TEXT_ROLE, STATUS_ROLE
from maya_plugin.ui.style import status_color

__all__ = ["ProgressDelegate"]


class ProgressDelegate(QtWidgets.QStyledItemDelegate):
    """A bar in the row's status colour, filled to ``PROGRESS_ROLE`` (0..100), with ``PROGRESS_TEXT_ROLE`` on it."""

    def paint(self, painter: Any, option: Any, index: Any) -> None:
        value = index.data(PROGRESS_ROLE)
        if value is None:
            super(ProgressDelegate, self).paint(painter, option, index)
            return
        text = index.data(PROGRESS_TEXT_ROLE) or ""
        status = index.data(STATUS_ROLE)
        painter.save()
        if option.state & QtWidgets.QStyle.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        rect = QtCore.QRectF(option.rect.adjusted(3, 3, -3, -3))
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        painter.setPen(QtCore.Qt.NoPen)
        painter.setBrush(QtGui.QColor(128, 128, 128, 55))
        painter.drawRoundedRect(rect, 3, 3)
        fraction = max(0.0, min(1.0, float(value) / 100.0))
        if fraction > 0:
            filled = QtCore.QRectF(rect)
            filled.setWidth(max(4.0, rect.width() * fraction))
            color = status_color(status)
            color.setAlpha(200)
            painter.setBrush(color)
            painter.drawRoundedRect(filled, 3, 3)
        if text:
            painter.setPen(option.palette.color(QtGui.QPalette.Text))
            painter.drawText(rect, int(QtCore.Qt.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: Any, index: Any) -> Any:
        hint = super(ProgressDelegate, self).sizeHint(option, index)
        return QtCore.QSize(max(hint.width(), 90), hint.height())
