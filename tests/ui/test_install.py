"""Installing on a studio workstation: the drag-and-drop installer and the module file (against the fake maya
package, offline), and what ``farm-monitor`` says on a Linux box that lacks Qt's system libraries."""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from maya import _scene, _ui_cmds, cmds, utils
from maya.api import OpenMaya as om

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WAIT = 60000



def load_installer():
    spec = importlib.util.spec_from_file_location("install_pyfarm", os.path.join(REPO, "scripts", "install_pyfarm.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def maya_session(qapp, monkeypatch, tmp_path):
    _scene.reset()
    _ui_cmds.reset()
    om.MGlobal._state = None
    monkeypatch.setenv("MAYA_MODULE_PATH", str(tmp_path / "maya" / "modules"))
    for var in ("MAYA_PLUG_IN_PATH", "MAYA_SCRIPT_PATH", "XBMLANGPATH", "PYTHONPATH"):  # loadModule adds to them
        monkeypatch.setenv(var, os.environ.get(var, ""))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path / "maya"
    if cmds.pluginInfo("pyfarm", q=True, loaded=True):
        cmds.unloadPlugin("pyfarm")
    utils.processIdleEvents()
    _ui_cmds.reset()
    _scene.reset()


def wait_done(qtbot, installer):
    qtbot.waitUntil(lambda: utils.processIdleEvents() >= 0 and installer.done.is_set(), timeout=WAIT)


@pytest.fixture
def offline(monkeypatch):
    """No network and no child process while installing: a studio workstation without internet."""
    tried = []

    def refuse(what):
        def call(*args, **kwargs):
            tried.append(what)
            raise OSError("offline: %s refused by the test" % what)
        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    return tried


def test_install_copies_the_module_and_loads_the_plugin_offline(qtbot, maya_session, offline):
    installer = load_installer().install(source=REPO, app_dir=str(maya_session), show=False)
    wait_done(qtbot, installer)
    assert installer.ok, installer.lines
    assert offline == []  # nothing downloaded, no pip, no mayapy
    assert installer.warnings == []
    module = maya_session / "modules" / "PyFarm"
    for name in ("maya_plugin/maya_ui.py", "maya_plugin/farm_client.py", "maya_plugin/ui/monitor.py",
                 "plug-ins/pyfarm.py", "icons/pyfarm_submit.png", "icons/pyfarm_monitor.png"):
        assert (module / name).is_file(), name
    assert not list(module.rglob("__pycache__"))
    assert not (module / "vendor").exists()
    assert any("Nothing to download" in line for line in installer.lines)
    # the module file: Maya reads it, finds the module and its paths
    mod = (maya_session / "modules" / "PyFarm.mod").read_text()
    assert mod.splitlines()[0] == "+ PyFarm 0.1.0 PyFarm"
    assert cmds.getModulePath(moduleName="PyFarm") == str(module).replace("\\", "/")
    assert str(module / "plug-ins") in os.environ["MAYA_PLUG_IN_PATH"].split(os.pathsep)
    # the plug-in: loaded from the module, set to autoload
    assert cmds.pluginInfo("pyfarm", q=True, loaded=True)
    assert cmds.pluginInfo("pyfarm", q=True, autoload=True) is True
    assert cmds.pluginInfo("pyfarm", q=True, path=True) == str(module / "plug-ins" / "pyfarm.py")
    utils.processIdleEvents()
    assert cmds.shelfLayout("PyFarm", exists=True)


def test_the_installed_module_talks_to_a_farm_without_requests(qtbot, maya_session, farm_node_server, unique_name):
    """The module as installed, in a Python that cannot import requests (as some Maya builds): urllib does it."""
    installer = load_installer().install(source=REPO, app_dir=str(maya_session), show=False)
    wait_done(qtbot, installer)
    assert installer.ok, installer.lines
    module = str(maya_session / "modules" / "PyFarm")
    name = unique_name("offline")
    code = textwrap.dedent("""\
        import sys
        sys.modules["requests"] = None  # "import requests" fails, as in a Maya without it
        sys.path.insert(0, %r)
        import maya_plugin
        from maya_plugin.farm_client import FarmClient
        assert maya_plugin.__file__.startswith(%r), maya_plugin.__file__
        client = FarmClient(%r, %r)
        print(type(client._transport).__name__)
        print(client.submit({%r: {"subjobs": {"s": {"frames": {1: {"command": "render -s 1 -e 1 a.mb"}}}}}}))
        print(sorted(client.job(%r)["subjobs"]["s"]["frames"]))
        """ % (module, module, farm_node_server.url, farm_node_server.token, name, name))
    out = subprocess.run([sys.executable, "-I", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["_UrllibTransport", "[%r]" % name, "[1]"]


def test_dropping_the_file_on_maya_shows_the_steps(qtbot, maya_session, monkeypatch, offline):
    monkeypatch.setenv("MAYA_APP_DIR", str(maya_session))
    installer_module = load_installer()
    made = []
    real_install = installer_module.install
    monkeypatch.setattr(installer_module, "install", lambda **kw: made.append(real_install(**kw)) or made[-1])
    installer_module.onMayaDroppedPythonFile()
    installer = made[0]
    wait_done(qtbot, installer)
    assert installer.ok, installer.lines
    from maya_plugin.qt import QtWidgets
    windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.windowTitle() == "Installing PyFarm"]
    windows += [w for w in QtWidgets.QApplication.allWidgets() if w.windowTitle() == "Installing PyFarm"]
    assert windows
    qtbot.waitUntil(lambda: "PyFarm is installed." in windows[0].findChildren(QtWidgets.QLabel)[0].text(),
                    timeout=WAIT)
    text = windows[0].findChildren(QtWidgets.QPlainTextEdit)[0].toPlainText()
    assert "Wrote the module file" in text
    assert "Nothing to download" in text
    assert "The plug-in loads by itself when Maya starts." in text
    assert offline == []


def test_the_repository_module_file_points_at_the_repository():
    from maya import _ui_cmds as ui
    (module,) = ui.parse_mod(os.path.join(REPO, "mod", "PyFarm.mod"))
    assert module["name"] == "PyFarm" and module["path"] == REPO
    assert ("PYTHONPATH", True, REPO) in module["env"]  # maya_plugin importable from the module's root


FARM_MONITOR = textwrap.dedent("""\
    import sys
    from maya_plugin import monitor_cli
    missing = set(sys.argv[1].split(",")) - {""}
    monitor_cli._load_library = lambda name: name not in missing  # the dynamic linker of a bare box
    sys.exit(monitor_cli.main(["--url", "http://127.0.0.1:9"]))
    """)


def farm_monitor(missing, **env):
    environ = dict(os.environ)
    environ.update(env)
    return subprocess.run([sys.executable, "-c", FARM_MONITOR, ",".join(missing)], cwd=REPO, env=environ,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's X11 libraries are a Linux matter")
def test_farm_monitor_names_the_system_packages_qt_needs():
    from maya_plugin.qt import QT_VERSION
    out = farm_monitor(["libxcb-cursor.so.0", "libxcb-icccm.so.4"], QT_QPA_PLATFORM="xcb", DISPLAY=":97")
    assert out.returncode == 2, out.stderr  # said and exited: Qt never started, so it did not abort
    wanted = ["libxcb-icccm4"] + (["libxcb-cursor0"] if not QT_VERSION.startswith("5.") else [])
    assert "sudo apt install %s " % " ".join(sorted(wanted)) in out.stderr
    assert "sudo dnf install %s " % " ".join(sorted(
        ["xcb-util-wm"] + (["xcb-util-cursor"] if not QT_VERSION.startswith("5.") else []))) in out.stderr
    assert "Traceback" not in out.stderr and "core dumped" not in out.stderr
    # Everything there but no display.
    out = farm_monitor([], QT_QPA_PLATFORM="xcb", DISPLAY="")
    assert out.returncode == 2 and "no display is set" in out.stderr


def test_farm_monitor_names_the_package_when_qt_cannot_be_imported():
    code = textwrap.dedent("""\
        import sys
        class Broken(object):  # PySide6 found, but QtGui's libEGL is not on this machine
            def find_module(self, name, path=None):
                return self if name == "maya_plugin.qt" else None
            def find_spec(self, name, path=None, target=None):
                if name == "maya_plugin.qt":
                    raise ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
                return None
        sys.meta_path.insert(0, Broken())
        from maya_plugin import monitor_cli
        sys.exit(monitor_cli.main(["--url", "http://127.0.0.1:9"]))
        """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=120)
    assert out.returncode == 2
    assert "sudo apt install libegl1 " in out.stderr and "sudo dnf install mesa-libEGL " in out.stderr
    assert "Traceback" not in out.stderr


def test_the_readme_names_the_packages_farm_monitor_asks_for():
    from maya_plugin.monitor_cli import XCB_LIBRARIES
    readme = open(os.path.join(REPO, "README.md")).read()
    section = readme[readme.index("## For Maya artists"):readme.index("## Configuration reference")]
    for _library, debian, redhat, qt in XCB_LIBRARIES:
        if qt != "5":
            assert debian in section and redhat in section, debian
