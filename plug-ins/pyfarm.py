"""PyFarm's Maya plug-in: loads the PyFarm shelf (Submit, Monitor) in interactive sessions, removes its UI on unload.

Maya finds this file on MAYA_PLUG_IN_PATH (the PyFarm module's ``plug-ins`` folder, see ``mod/PyFarm.mod`` and
docs/maya-install.md). It only wires Maya to ``maya_plugin.maya_ui``; in batch mode and mayapy it does nothing but
register. A failure is shown to the artist (Script Editor and a dialog), never raised as a traceback, so a broken
install cannot stop Maya from starting.
"""
from __future__ import annotations

import os
import sys

#: Python API 2.0 (Autodesk's "A first plug-in" examples; DCM uses the same module-level flag)
maya_useNewAPI = True

VENDOR = "PyFarm"


def _version() -> str:
    try:
        from maya_plugin import __version__
        return __version__
    except ImportError:  # the plug-in must still register so that the artist can see and unload it
        return "unknown"


def _module_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_importable() -> None:
    """The module's .mod file puts its root on PYTHONPATH; when the plug-in was loaded by path instead, do it here."""
    root = _module_root()
    if os.path.isdir(os.path.join(root, "maya_plugin")) and root not in sys.path:
        try:
            import maya_plugin  # noqa: F401
        except ImportError:
            sys.path.append(root)


def _show_error(message: str) -> None:
    import maya.api.OpenMaya as om
    om.MGlobal.displayError(message)
    if om.MGlobal.mayaState() in (om.MGlobal.kInteractive, om.MGlobal.kBaseUIMode):
        import maya.cmds as cmds
        import maya.utils
        maya.utils.executeDeferred(lambda: cmds.confirmDialog(title="PyFarm", message=message, button=["OK"]))


def initializePlugin(mobject: object) -> None:
    import maya.api.OpenMaya as om
    _make_importable()
    om.MFnPlugin(mobject, VENDOR, _version())
    try:
        from maya_plugin import maya_ui
        maya_ui.plugin_loaded()
    except Exception as exc:  # shown to the artist; the plug-in stays loaded so it can be unloaded cleanly
        _show_error("PyFarm could not set up its shelf: %s: %s" % (type(exc).__name__, exc))


def uninitializePlugin(mobject: object) -> None:
    import maya.api.OpenMaya as om
    om.MFnPlugin(mobject)
    try:
        from maya_plugin import maya_ui
        maya_ui.plugin_unloaded()
    except Exception as exc:  # shown, not raised: Maya must be able to unload the plug-in
        _show_error("PyFarm could not remove its shelf and windows: %s: %s" % (type(exc).__name__, exc))
