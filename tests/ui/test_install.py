"""The drag-and-drop installer and the module file, against the fake maya package and a stand-in ``mayapy``."""
from __future__ import annotations

import importlib.util
import os
import stat
import sys
import textwrap

import pytest

from maya import _scene, _ui_cmds, cmds, utils
from maya.api import OpenMaya as om

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WAIT = 60000

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in mayapy is a POSIX script")


def load_installer():
    spec = importlib.util.spec_from_file_location("install_pyfarm", os.path.join(REPO, "scripts", "install_pyfarm.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_mayapy(folder, has_requests):
    """A mayapy stand-in: answers the requests check, and for pip records its arguments and makes the package."""
    path = folder / "mayapy"
    log = folder / "pip-args.txt"
    path.write_text(textwrap.dedent("""\
        #!%s
        import os, sys
        if sys.argv[1:3] == ["-c", "import requests"]:
            sys.exit(0 if %r or os.path.isdir(os.path.join(os.environ.get("PYTHONPATH", ""), "requests")) else 1)
        if sys.argv[1:4] == ["-m", "pip", "install"]:
            open(%r, "w").write("\\n".join(sys.argv[1:]))
            target = sys.argv[sys.argv.index("--target") + 1]
            os.makedirs(os.path.join(target, "requests"))
            open(os.path.join(target, "requests", "__init__.py"), "w").close()
            print("Collecting requests"); print("Successfully installed requests-2.31.0")
            sys.exit(0)
        sys.exit(3)
        """ % (sys.executable, has_requests, str(log))))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path), log


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


def test_install_copies_the_module_adds_requests_and_loads_the_plugin(qtbot, maya_session, tmp_path):
    mayapy, pip_log = fake_mayapy(tmp_path, has_requests=False)
    installer = load_installer().install(source=REPO, app_dir=str(maya_session), mayapy=mayapy, show=False,
                                         python_tag="py37")
    wait_done(qtbot, installer)
    assert installer.ok, installer.lines
    module = maya_session / "modules" / "PyFarm"
    for name in ("maya_plugin/maya_ui.py", "maya_plugin/ui/monitor.py", "plug-ins/pyfarm.py",
                 "icons/pyfarm_submit.png", "icons/pyfarm_monitor.png"):
        assert (module / name).is_file(), name
    assert not list(module.rglob("__pycache__"))
    # the module file: Maya reads it, finds the module and its paths
    mod = (maya_session / "modules" / "PyFarm.mod").read_text()
    assert mod.splitlines()[0] == "+ PyFarm 0.1.0 PyFarm"
    assert cmds.getModulePath(moduleName="PyFarm") == str(module).replace("\\", "/")
    assert str(module / "plug-ins") in os.environ["MAYA_PLUG_IN_PATH"].split(os.pathsep)
    # requests for Maya's Python, into the module
    args = pip_log.read_text().split("\n")
    assert args[:3] == ["-m", "pip", "install"] and args[args.index("--target") + 1] == str(module / "vendor" / "py37")
    assert (module / "vendor" / "py37" / "requests" / "__init__.py").is_file()
    # the plug-in: loaded from the module, set to autoload
    assert cmds.pluginInfo("pyfarm", q=True, loaded=True)
    assert cmds.pluginInfo("pyfarm", q=True, autoload=True) is True
    assert cmds.pluginInfo("pyfarm", q=True, path=True) == str(module / "plug-ins" / "pyfarm.py")
    utils.processIdleEvents()
    assert cmds.shelfLayout("PyFarm", exists=True)


def test_requests_already_there_is_not_installed_again(qtbot, maya_session, tmp_path):
    mayapy, pip_log = fake_mayapy(tmp_path, has_requests=True)
    installer = load_installer().install(source=REPO, app_dir=str(maya_session), mayapy=mayapy, show=False)
    wait_done(qtbot, installer)
    assert installer.ok and not pip_log.exists()
    assert "Maya's Python already has requests." in installer.lines


def test_a_failing_pip_is_said_and_the_plugin_still_loads(qtbot, maya_session, tmp_path):
    mayapy = tmp_path / "mayapy"
    mayapy.write_text("#!/bin/sh\necho 'ERROR: Could not find a version that satisfies the requirement requests'\n"
                      "exit 1\n")
    mayapy.chmod(0o755)
    installer = load_installer().install(source=REPO, app_dir=str(maya_session), mayapy=str(mayapy), show=False)
    wait_done(qtbot, installer)
    assert installer.ok
    assert installer.warnings and "Could not find a version" in installer.warnings[0]
    assert cmds.pluginInfo("pyfarm", q=True, loaded=True)


def test_dropping_the_file_on_maya_shows_the_steps(qtbot, maya_session, tmp_path, monkeypatch):
    mayapy, _ = fake_mayapy(tmp_path / "", has_requests=True)
    monkeypatch.setenv("MAYA_APP_DIR", str(maya_session))
    monkeypatch.setenv("MAYA_LOCATION", str(tmp_path / "maya-location"))
    (tmp_path / "maya-location" / "bin").mkdir(parents=True)
    os.symlink(mayapy, str(tmp_path / "maya-location" / "bin" / "mayapy"))
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
    assert "The plug-in loads by itself when Maya starts." in text


def test_the_repository_module_file_points_at_the_repository():
    from maya import _ui_cmds as ui
    (module,) = ui.parse_mod(os.path.join(REPO, "mod", "PyFarm.mod"))
    assert module["name"] == "PyFarm" and module["path"] == REPO
    assert ("PYTHONPATH", True, REPO) in module["env"]  # maya_plugin importable from the module's root
