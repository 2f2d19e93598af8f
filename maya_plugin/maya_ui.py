"""PyFarm's controls in Maya: the shelf, the Submit dialog's window, and the Monitor docked as a workspace control.

The only module that builds Maya UI controls. Called by the plug-in (``plug-ins/pyfarm.py``) and by the shelf buttons:

    plugin_loaded()      interactive sessions only: the PyFarm shelf (deferred to the next idle moment: at start-up
                         Maya's shelves do not exist yet when plug-ins load)
    plugin_unloaded()    closes the dialog and the Monitor, deletes the workspace control and the shelf
    show_submit()        the Submit dialog for the open scene, parented to Maya's main window
    show_monitor()       the Monitor, in a workspace control tabbed beside the Attribute Editor
    restore_monitor()    the workspace control's ``uiScript``: builds the Monitor into the control; Maya runs it when
                         the control is created and again when it restores a saved workspace after a restart, so it
                         and everything it imports are importable at start-up (the module puts this package on
                         PYTHONPATH)

Decision: a plain ``workspaceControl`` with a ``uiScript``, not ``MayaQWidgetDockableMixin``. One code path builds the
panel both when it is first shown and when Maya restores it after a restart, the panel stays an ordinary QWidget
(the same class ``farm-monitor`` shows as a window), and the mixin's own restore logic and its naming rules are left
out. ``retain=False`` makes closing the tab delete the control; its ``closeCommand`` stops the panel's threads.

Shelf: buttons are matched by label and updated in place, so loading the plug-in again (or Maya restoring the saved
shelf at start-up) never adds duplicates. The farm address and token come from ``FarmSettings`` (what the Submit
dialog remembered).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable, List, Optional

__all__ = ["PLUGIN_NAME", "SHELF_NAME", "MONITOR_CONTROL", "BUTTONS", "interactive", "main_window", "plugin_loaded",
           "plugin_unloaded", "create_shelf", "remove_shelf", "show_submit", "show_monitor", "restore_monitor",
           "close_monitor", "ensure_paths"]

PLUGIN_NAME = "pyfarm"
SHELF_NAME = "PyFarm"
MONITOR_CONTROL = "PyFarmMonitorWorkspaceControl"
MONITOR_LABEL = "PyFarm Monitor"
UI_SCRIPT = "import maya_plugin.maya_ui as pyfarm_ui\npyfarm_ui.restore_monitor()"
CLOSE_SCRIPT = "import maya_plugin.maya_ui as pyfarm_ui\npyfarm_ui.monitor_closed()"

#: (label, icon file on XBMLANGPATH, tooltip, Python command) of the shelf buttons
BUTTONS = (
    ("PyFarm Submit", "pyfarm_submit.png", "Submit the open scene to the render farm",
     "import maya_plugin.maya_ui as pyfarm_ui\npyfarm_ui.show_submit()"),
    ("PyFarm Monitor", "pyfarm_monitor.png", "Watch the render farm's jobs, frames and hosts",
     "import maya_plugin.maya_ui as pyfarm_ui\npyfarm_ui.show_monitor()"),
)


class _State(object):
    """What this module keeps alive between calls (Qt would delete an unreferenced widget)."""

    def __init__(self) -> None:
        self.dialog = None  # type: Any
        self.monitor = None  # type: Any
        self.settings_factory = None  # type: Optional[Callable[[], Any]]
        self.client_factory = None  # type: Optional[Callable[..., Any]]


_state = _State()


# -- environment ----------------------------------------------------------------------------------------------------
def module_root() -> str:
    """The folder holding ``maya_plugin`` (the repository, or the installed module's folder)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_paths() -> List[str]:
    """Put the module's vendored packages for this Python (``vendor/py3X``, made by the installer) on sys.path."""
    added = []
    vendor = os.path.join(module_root(), "vendor", "py%d%d" % sys.version_info[:2])
    if os.path.isdir(vendor) and vendor not in sys.path:
        sys.path.append(vendor)
        added.append(vendor)
    return added


def interactive() -> bool:
    """True in Maya's GUI (not in batch mode, mayapy or a render)."""
    import maya.api.OpenMaya as om
    return om.MGlobal.mayaState() in (om.MGlobal.kInteractive, om.MGlobal.kBaseUIMode)


def main_window() -> Any:
    """Maya's main window as a QWidget (the parent of PyFarm's windows)."""
    import maya.OpenMayaUI as omui
    from maya_plugin.qt import QtWidgets, wrapInstance
    pointer = omui.MQtUtil.mainWindow()
    return wrapInstance(int(pointer), QtWidgets.QWidget) if pointer is not None else None


def _settings() -> Any:
    from maya_plugin.ui.settings import FarmSettings
    return _state.settings_factory() if _state.settings_factory is not None else FarmSettings()


def _client_factory() -> Callable[..., Any]:
    if _state.client_factory is not None:
        return _state.client_factory
    ensure_paths()
    from maya_plugin.farm_client import FarmClient
    return FarmClient


def _alive(widget: Any) -> bool:
    from maya_plugin.qt import isValid
    return widget is not None and isValid(widget)


# -- the plug-in's hooks --------------------------------------------------------------------------------------------
def plugin_loaded() -> None:
    ensure_paths()
    if not interactive():
        return
    import maya.utils
    maya.utils.executeDeferred(create_shelf)


def plugin_unloaded() -> None:
    if _alive(_state.dialog):
        _state.dialog.shutdown()
        _state.dialog.close()
        _state.dialog.deleteLater()
    _state.dialog = None
    close_monitor()
    if interactive():
        remove_shelf()


# -- the shelf --------------------------------------------------------------------------------------------------------
def _shelf_top() -> str:
    import maya.mel as mel
    return mel.eval("$_=$gShelfTopLevel")


def create_shelf() -> Optional[str]:
    """The PyFarm shelf with its buttons, created or updated (buttons matched by label). None outside the GUI."""
    if not interactive():
        return None
    import maya.cmds as cmds
    top = _shelf_top()
    current = cmds.shelfTabLayout(top, q=True, selectTab=True)
    try:
        if not cmds.shelfLayout(SHELF_NAME, exists=True):
            cmds.shelfLayout(SHELF_NAME, parent=top)
        for label, icon, tip, command in BUTTONS:
            _button(label, icon, tip, command)
    finally:
        if current and cmds.shelfTabLayout(top, exists=True):
            cmds.shelfTabLayout(top, e=True, selectTab=current)  # adding a shelf must not change the artist's tab
    return SHELF_NAME


def _button(label: str, icon: str, tip: str, command: str) -> str:
    import maya.cmds as cmds
    values = dict(label=label, image1=icon, annotation=tip, command=command, sourceType="python", style="iconOnly")
    for child in cmds.shelfLayout(SHELF_NAME, q=True, childArray=True) or []:
        if cmds.objectTypeUI(child) == "shelfButton" and cmds.shelfButton(child, q=True, label=True) == label:
            cmds.shelfButton(child, e=True, **values)
            return child
    return cmds.shelfButton(parent=SHELF_NAME, **values)


def remove_shelf() -> None:
    import maya.cmds as cmds
    if cmds.shelfLayout(SHELF_NAME, exists=True):
        cmds.deleteUI(SHELF_NAME, layout=True)


# -- the Submit dialog -------------------------------------------------------------------------------------------------
def show_submit() -> Any:
    """The Submit dialog (one instance), re-reading the open scene each time it is shown."""
    from maya_plugin.ui.scene_source import MayaSceneSource
    from maya_plugin.ui.submit_dialog import SubmitDialog
    if _alive(_state.dialog):
        _state.dialog.reload_scene()
    else:
        from maya_plugin.qt import QtCore
        dialog = SubmitDialog(MayaSceneSource(), _client_factory(), settings=_settings(), parent=main_window())
        dialog.setWindowFlags(dialog.windowFlags() | QtCore.Qt.Window)
        dialog.submitted.connect(_submitted)
        _state.dialog = dialog
    _state.dialog.show()
    _state.dialog.raise_()
    _state.dialog.activateWindow()
    return _state.dialog


def _submitted(name: str) -> None:
    """A job left: an open Monitor that was not connected yet connects to the farm the job went to."""
    if _alive(_state.monitor) and _state.monitor.client is None:
        _state.monitor.connect_to(*_settings().farm())


# -- the Monitor -------------------------------------------------------------------------------------------------------
def show_monitor() -> Any:
    """The Monitor in its workspace control, created beside the Attribute Editor or shown again."""
    import maya.cmds as cmds
    if cmds.workspaceControl(MONITOR_CONTROL, q=True, exists=True):
        cmds.workspaceControl(MONITOR_CONTROL, e=True, restore=True)
        if not _alive(_state.monitor):  # the control outlived its panel: build the panel again
            cmds.deleteUI(MONITOR_CONTROL)
            return show_monitor()
        return _state.monitor
    cmds.workspaceControl(MONITOR_CONTROL, label=MONITOR_LABEL, tabToControl=["AttributeEditor", -1],
                          initialWidth=560, minimumWidth=320, widthProperty="preferred", retain=False,
                          checksPlugins=True, closeCommand=CLOSE_SCRIPT, uiScript=UI_SCRIPT)
    return _state.monitor


def restore_monitor() -> Any:
    """Build the Monitor into the workspace control being created or restored (the control's ``uiScript``)."""
    import maya.OpenMayaUI as omui
    from maya_plugin.qt import getCppPointer
    from maya_plugin.ui.monitor import MonitorPanel
    ensure_paths()
    parent = omui.MQtUtil.getCurrentParent() or omui.MQtUtil.findControl(MONITOR_CONTROL)
    if _alive(_state.monitor):
        _state.monitor.shutdown()
        _state.monitor.deleteLater()
    panel = MonitorPanel(client_factory=_client_factory(), settings=_settings())
    omui.MQtUtil.addWidgetToMayaLayout(int(getCppPointer(panel)[0]), int(parent))
    _state.monitor = panel
    return panel


def monitor_closed() -> None:
    """The workspace control's ``closeCommand``: stop the panel's threads (the control deletes the widget)."""
    if _alive(_state.monitor):
        _state.monitor.shutdown()
    _state.monitor = None


def close_monitor() -> None:
    """Close the Monitor and delete its workspace control (plug-in unload)."""
    import maya.cmds as cmds
    if interactive() and cmds.workspaceControl(MONITOR_CONTROL, q=True, exists=True):
        cmds.workspaceControl(MONITOR_CONTROL, e=True, close=True)  # runs closeCommand
        if cmds.workspaceControl(MONITOR_CONTROL, q=True, exists=True):
            cmds.deleteUI(MONITOR_CONTROL)
    monitor_closed()
