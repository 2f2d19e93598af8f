"""``farm-monitor``: the panel as a window outside Maya; a clear message without Qt."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from maya_plugin import monitor_cli, qt
from maya_plugin.qt import QtCore, QtWidgets

WAIT = 60000
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("how", ["flags", "environment"])
def test_farm_monitor_opens_the_panel_on_the_given_farm(qtbot, farm_node_server, unique_name, monkeypatch, how):
    if how == "flags":
        monkeypatch.delenv("FARM_URL", raising=False)
        argv = ["--url", farm_node_server.url, "--token", farm_node_server.token]
    else:
        monkeypatch.setenv("FARM_URL", farm_node_server.url)
        monkeypatch.setenv("FARM_TOKEN", farm_node_server.token)
        argv = []
    name = unique_name("cli")
    farm_node_server.client().submit({name: {"subjobs": {"s": {"frames": {1: {"command": "render -s 1 -e 1 a.mb"}}}}}})
    seen = {}
    # the application's own exec() would run its aboutToQuit clean-up inside this test process, so main() runs a
    # local event loop instead, which ends when the panel shows the job (or after WAIT)
    loop = QtCore.QEventLoop()
    run = qt.qt_exec
    monkeypatch.setattr(qt, "qt_exec", lambda app: run(loop))

    def look():
        panels = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.objectName() == "PyFarmMonitor"
                  and w.isVisible()]
        if panels and panels[-1].model.find(name) is not None:
            seen["panel"] = panels[-1]
            seen["title"] = panels[-1].windowTitle()
            loop.quit()
        elif "stop" not in seen:
            QtCore.QTimer.singleShot(50, look)

    QtCore.QTimer.singleShot(0, look)
    guard = QtCore.QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(WAIT)
    try:
        assert monitor_cli.main(argv) == 0
    finally:
        guard.stop()
        seen["stop"] = True
    assert seen.get("title") == "PyFarm Monitor"
    assert seen["panel"].runner.closed  # threads stopped when the window's loop ended
    seen["panel"].close()


def test_without_qt_it_says_what_to_install():
    code = ("import sys; sys.modules['maya_plugin.qt'] = None\n"
            "from maya_plugin import monitor_cli\n"
            "sys.exit(monitor_cli.main(['--url', 'http://127.0.0.1:9']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    assert out.returncode == 2
    assert 'pip install "pyfarm[qt]"' in out.stderr
    assert "Traceback" not in out.stderr
