"""The one Qt binding import of the Maya side.

Everything under ``maya_plugin`` that needs Qt imports it from here::

    from maya_plugin.qt import QtCore, QtGui, QtWidgets, Signal, Slot

Decision: a tiny in-house shim, not a vendored Qt.py and not qtpy.

- Maya ships exactly one binding per version: PySide2 up to Maya 2024 (Python 3.7 .. 3.10), PySide6 from Maya 2025
  (Python 3.11+). Maya ships neither Qt.py nor qtpy, and a plug-in cannot download anything at run time, so a
  third-party shim would have to be vendored (Qt.py is about 2,000 lines, most of it mapping Qt4/PyQt members we
  never use).
- The PyFarm widgets use a small, known surface. The differences between PySide2 and PySide6 that touch it are few and
  listed below; a shim this size can be read in one sitting and tested on both bindings (the project's matrix runs
  the UI tests on 3.7 + PySide2 and 3.11 + PySide6).

Which binding: one that is already imported wins (inside Maya that is Maya's own; two Qt bindings in one process
would crash), else PySide6, else PySide2. No environment variable is read.

What it smooths over:

- ``QAction``, ``QActionGroup``, ``QShortcut`` moved from ``QtWidgets`` (Qt 5) to ``QtGui`` (Qt 6): exported here.
- ``exec_()`` became ``exec()``: use ``qt_exec(obj, *args)``.
- ``shiboken2`` / ``shiboken6``: ``wrapInstance``, ``getCppPointer``, ``isValid`` exported here.
- ``int(...)`` of enum members works on both; compare roles as ints (``role == DISPLAY_ROLE``).

With no binding installed, importing this module raises ``QtMissing`` (an ``ImportError``) whose message says what to
install, so ``farm-monitor`` can print it instead of a traceback.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Tuple

__all__ = ["QtCore", "QtGui", "QtWidgets", "Signal", "Slot", "Property", "QAction", "QActionGroup", "QShortcut",
           "wrapInstance", "getCppPointer", "isValid", "qt_exec", "BINDING", "QT_VERSION", "QtMissing",
           "DISPLAY_ROLE", "EDIT_ROLE", "DECORATION_ROLE", "TOOLTIP_ROLE", "FOREGROUND_ROLE", "BACKGROUND_ROLE",
           "TEXT_ALIGNMENT_ROLE", "FONT_ROLE", "USER_ROLE"]

_BINDINGS = (("PySide6", "shiboken6"), ("PySide2", "shiboken2"))


class QtMissing(ImportError):
    """No Qt binding could be imported."""


def _choose() -> Tuple[str, str]:
    for binding, shiboken in _BINDINGS:
        if binding in sys.modules:
            return binding, shiboken
    errors = []
    for binding, shiboken in _BINDINGS:
        try:
            importlib.import_module(binding + ".QtCore")
            return binding, shiboken
        except ImportError as exc:
            errors.append("%s: %s" % (binding, exc))
    raise QtMissing("no Qt binding for Python: install PySide6 (pip install PySide6-Essentials) or PySide2; "
                    "tried " + "; ".join(errors))


BINDING, _SHIBOKEN = _choose()
QtCore = importlib.import_module(BINDING + ".QtCore")  # type: Any
QtGui = importlib.import_module(BINDING + ".QtGui")  # type: Any
QtWidgets = importlib.import_module(BINDING + ".QtWidgets")  # type: Any
_shiboken = importlib.import_module(_SHIBOKEN)  # type: Any

Signal = QtCore.Signal
Slot = QtCore.Slot
Property = QtCore.Property
QT_VERSION = QtCore.qVersion()

_actions_module = QtGui if hasattr(QtGui, "QAction") else QtWidgets
QAction = _actions_module.QAction
QActionGroup = _actions_module.QActionGroup
QShortcut = (QtGui if hasattr(QtGui, "QShortcut") else QtWidgets).QShortcut

wrapInstance = _shiboken.wrapInstance
getCppPointer = _shiboken.getCppPointer
isValid = _shiboken.isValid

DISPLAY_ROLE = int(QtCore.Qt.DisplayRole)
EDIT_ROLE = int(QtCore.Qt.EditRole)
DECORATION_ROLE = int(QtCore.Qt.DecorationRole)
TOOLTIP_ROLE = int(QtCore.Qt.ToolTipRole)
FOREGROUND_ROLE = int(QtCore.Qt.ForegroundRole)
BACKGROUND_ROLE = int(QtCore.Qt.BackgroundRole)
TEXT_ALIGNMENT_ROLE = int(QtCore.Qt.TextAlignmentRole)
FONT_ROLE = int(QtCore.Qt.FontRole)
USER_ROLE = int(QtCore.Qt.UserRole)


def qt_exec(obj: Any, *args: Any) -> Any:
    """``obj.exec()`` on Qt 6, ``obj.exec_()`` on Qt 5 (dialogs, menus, event loops, the application)."""
    method = getattr(obj, "exec", None)
    if method is None:
        method = obj.exec_
    return method(*args)
