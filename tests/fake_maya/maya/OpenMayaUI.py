"""The fake ``maya.OpenMayaUI`` (tests only): ``MQtUtil``, with a real Qt main window standing in for Maya's.

``mainWindow()`` returns the address (an int, as ``int(ptr)`` of Maya's answer) of a QMainWindow named "MayaWindow";
``getCurrentParent()`` the workspace control whose ``-uiScript`` is running (else the main window);
``findControl(name)`` a control's widget; ``addWidgetToMayaLayout(widget, parent)`` puts a widget in a control's
layout, as Maya's does. Widgets are created on first use (a QApplication must exist).
"""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["MQtUtil"]

_window = []  # type: list


def _main_window() -> Any:
    from maya_plugin.qt import QtWidgets, isValid
    if not _window or not isValid(_window[0]):
        window = QtWidgets.QMainWindow()
        window.setObjectName("MayaWindow")
        window.setWindowTitle("Autodesk Maya (fake)")
        window.resize(1280, 800)
        _window[:] = [window]
    return _window[0]


def _pointer(widget: Any) -> Optional[int]:
    from maya_plugin.qt import getCppPointer
    return int(getCppPointer(widget)[0]) if widget is not None else None


def _widget(address: Any) -> Any:
    from maya_plugin.qt import QtWidgets, wrapInstance
    return wrapInstance(int(address), QtWidgets.QWidget)


class MQtUtil(object):
    @staticmethod
    def mainWindow() -> Optional[int]:
        return _pointer(_main_window())

    @staticmethod
    def getCurrentParent() -> Optional[int]:
        from maya import _ui_cmds
        item = _ui_cmds.current_parent()
        if item is None:
            return _pointer(_main_window())
        return _pointer(item.widget)

    @staticmethod
    def findControl(name: str, parent: Any = None) -> Optional[int]:
        from maya import _ui_cmds
        item = _ui_cmds._find(name)
        if item is not None and item.widget is not None:
            return _pointer(item.widget)
        from maya_plugin.qt import QtWidgets
        found = _main_window().findChild(QtWidgets.QWidget, str(name).split("|")[-1])
        return _pointer(found) if found is not None else None

    findLayout = findControl
    findWindow = findControl

    @staticmethod
    def addWidgetToMayaLayout(widget: Any, parent: Any) -> None:
        child, host = _widget(widget), _widget(parent)
        layout = host.layout()
        if layout is None:
            raise RuntimeError("addWidgetToMayaLayout: the parent has no layout")
        layout.addWidget(child)
        child.show()

    @staticmethod
    def fullName(address: Any) -> str:
        return _widget(address).objectName()
