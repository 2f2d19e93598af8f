"""The plug-in, the shelf and the docked Monitor, against the fake ``maya`` package (tests/fake_maya)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from maya import _scene, _ui_cmds, cmds, mel, utils
from maya.api import OpenMaya as om
from maya_plugin import maya_ui
from maya_plugin.qt import QtWidgets, getCppPointer
from maya_plugin.ui.settings import FarmSettings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(REPO, "plug-ins", "pyfarm.py")
WAIT = 60000


@pytest.fixture
def maya_session(qapp, settings, monkeypatch):
    """A fresh fake Maya GUI session; PyFarm's settings in a temporary file."""
    _scene.reset()
    _ui_cmds.reset()
    om.MGlobal._state = None
    monkeypatch.setattr(maya_ui._state, "settings_factory", lambda: FarmSettings(settings))
    tidy = maya_ui.plugin_unloaded  # the real one, even if a test replaced it
    yield
    if cmds.pluginInfo("pyfarm", q=True, loaded=True):
        cmds.unloadPlugin("pyfarm")
    tidy()
    utils.processIdleEvents()
    _ui_cmds.reset()
    _scene.reset()
    om.MGlobal._state = None


def shelf_buttons():
    children = cmds.shelfLayout("PyFarm", q=True, childArray=True) or []
    return [(cmds.shelfButton(c, q=True, label=True), cmds.shelfButton(c, q=True, command=True)) for c in children]


def test_the_plugin_builds_the_shelf_once_and_removes_it_on_unload(maya_session):
    assert cmds.loadPlugin(PLUGIN) == ["pyfarm"]
    assert not cmds.shelfLayout("PyFarm", exists=True)  # deferred: Maya's shelves come after plug-ins at start-up
    utils.processIdleEvents()
    assert [label for label, _ in shelf_buttons()] == ["PyFarm Submit", "PyFarm Monitor"]
    assert cmds.shelfTabLayout(mel.eval("$_=$gShelfTopLevel"), q=True, selectTab=True) == "Custom"
    assert cmds.pluginInfo("pyfarm", q=True, vendor=True) == "PyFarm"
    for child in cmds.shelfLayout("PyFarm", q=True, childArray=True):
        assert cmds.shelfButton(child, q=True, sourceType=True) == "python"
        assert cmds.shelfButton(child, q=True, image1=True).startswith("pyfarm_")

    # loading again, and the shelf built again: still two buttons
    cmds.unloadPlugin("pyfarm")
    assert not cmds.shelfLayout("PyFarm", exists=True)
    cmds.loadPlugin(PLUGIN)
    utils.processIdleEvents()
    maya_ui.create_shelf()
    assert len(shelf_buttons()) == 2

    cmds.unloadPlugin("pyfarm")
    assert not cmds.shelfLayout("PyFarm", exists=True)
    assert not cmds.pluginInfo("pyfarm", q=True, loaded=True)


def test_a_shelf_restored_from_prefs_is_updated_not_duplicated(maya_session):
    # Maya restores the shelf it saved at the last exit before the plug-in loads: the buttons are already there
    top = mel.eval("$_=$gShelfTopLevel")
    cmds.shelfLayout("PyFarm", parent=top)
    cmds.shelfButton(parent="PyFarm", label="PyFarm Submit", command="print('old')", sourceType="python")
    cmds.shelfButton(parent="PyFarm", label="PyFarm Monitor", command="print('old')", sourceType="python")
    cmds.shelfButton(parent="PyFarm", label="my own button", command="print('mine')", sourceType="python")
    cmds.shelfTabLayout(top, e=True, selectTab="Custom")
    cmds.loadPlugin(PLUGIN)
    utils.processIdleEvents()
    buttons = shelf_buttons()
    assert [label for label, _ in buttons] == ["PyFarm Submit", "PyFarm Monitor", "my own button"]
    assert "show_submit" in buttons[0][1] and "show_monitor" in buttons[1][1]
    assert buttons[2][1] == "print('mine')"


def test_no_shelf_in_batch_mode(maya_session):
    _scene.current().batch = True
    cmds.loadPlugin(PLUGIN)
    utils.processIdleEvents()
    assert cmds.pluginInfo("pyfarm", q=True, loaded=True)
    assert not cmds.shelfLayout("PyFarm", exists=True)
    cmds.unloadPlugin("pyfarm")


def test_errors_are_shown_not_raised(maya_session, monkeypatch):
    def broken():
        raise RuntimeError("the shelf could not be made")
    monkeypatch.setattr(maya_ui, "plugin_loaded", broken)
    monkeypatch.setattr(maya_ui, "plugin_unloaded", broken)
    assert cmds.loadPlugin(PLUGIN) == ["pyfarm"]
    cmds.unloadPlugin("pyfarm")
    utils.processIdleEvents()
    errors = [entry for entry in _ui_cmds.shown if entry[0] == "error"]
    assert len(errors) == 2 and "the shelf could not be made" in errors[0][1]
    assert any(entry[0] == "confirmDialog" for entry in _ui_cmds.shown)


def test_the_monitor_docks_beside_the_attribute_editor(maya_session):
    panel = maya_ui.show_monitor()
    control = maya_ui.MONITOR_CONTROL
    assert cmds.workspaceControl(control, q=True, exists=True)
    assert cmds.workspaceControl(control, q=True, tabToControl=True) == ["AttributeEditor", -1]
    assert cmds.workspaceControl(control, q=True, retain=True) is False
    assert panel is not None and panel.parent() is _ui_cmds._find(control).widget
    assert panel.window() is _ui_cmds._find(control).widget.window()  # inside Maya's main window
    assert maya_ui.show_monitor() is panel  # shown again, not built twice
    assert len([c for c in _ui_cmds._controls.values() if c.kind == "workspaceControl"]) == 1

    # closing the tab stops the panel's threads and deletes the control; showing it again builds a new one
    cmds.workspaceControl(control, e=True, close=True)
    assert not cmds.workspaceControl(control, q=True, exists=True)
    assert panel.runner.closed
    again = maya_ui.show_monitor()
    assert again is not panel and cmds.workspaceControl(control, q=True, exists=True)


def test_the_monitor_comes_back_after_a_restart(maya_session):
    maya_ui.show_monitor()
    script = cmds.workspaceControl(maya_ui.MONITOR_CONTROL, q=True, uiScript=True)
    flags = dict(_ui_cmds._find(maya_ui.MONITOR_CONTROL).flags)
    # a new Maya: nothing of ours in memory; Maya re-creates the saved control and runs its uiScript
    maya_ui.plugin_unloaded()
    _ui_cmds.reset()
    maya_ui._state.monitor = None
    cmds.workspaceControl(maya_ui.MONITOR_CONTROL, label=flags["label"], uiScript=script)
    panel = maya_ui._state.monitor
    assert panel is not None and panel.parent() is _ui_cmds._find(maya_ui.MONITOR_CONTROL).widget


def test_the_restore_script_imports_at_start_up_without_qt_or_the_network():
    # the uiScript imports maya_plugin.maya_ui first: it must import with nothing but the package on the path
    code = ("import sys, maya_plugin.maya_ui as m; "
            "assert not [n for n in sys.modules if n.startswith(('PySide', 'requests', 'maya_plugin.ui'))]; "
            "print(m.UI_SCRIPT)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    assert out.returncode == 0, out.stdout
    assert "restore_monitor()" in out.stdout


def test_the_docked_monitor_watches_the_remembered_farm(qtbot, maya_session, settings, farm_node_server,
                                                         unique_name):
    FarmSettings(settings).set_farm(farm_node_server.url, farm_node_server.token)
    name = unique_name("docked")
    farm_node_server.client().submit({name: {"subjobs": {"s": {"frames": {1: {"command": "render -s 1 -e 1 a.mb"}}}}}})
    panel = maya_ui.show_monitor()
    assert panel.client.url == farm_node_server.url
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    watcher = panel.watcher
    maya_ui.close_monitor()
    assert not cmds.workspaceControl(maya_ui.MONITOR_CONTROL, q=True, exists=True)
    assert panel.runner.closed and not watcher.running


def test_the_submit_dialog_is_one_window_over_maya_and_goes_with_the_plugin(maya_session):
    from maya import _scenes
    _scene.load(_scenes.MENTAL_RAY_2016)
    cmds.loadPlugin(PLUGIN)
    utils.processIdleEvents()
    dialog = maya_ui.show_submit()
    assert getCppPointer(dialog.parent())[0] == getCppPointer(maya_ui.main_window())[0]
    assert dialog.isVisible()
    assert [dialog.layers_list.item(i).text() for i in range(dialog.layers_list.count())] == ["masterLayer"]
    assert maya_ui.show_submit() is dialog
    maya_ui.show_monitor()
    cmds.unloadPlugin("pyfarm")
    assert not dialog.isVisible()
    assert not cmds.workspaceControl(maya_ui.MONITOR_CONTROL, q=True, exists=True)
    assert not cmds.shelfLayout("PyFarm", exists=True)
    assert isinstance(maya_ui.main_window(), QtWidgets.QWidget)
