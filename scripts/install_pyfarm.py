"""PyFarm's drag-and-drop installer for Maya: drop this file on Maya's viewport.

What it does (Maya calls ``onMayaDroppedPythonFile`` for a ``.py`` file dropped on the viewport, Maya 2017 Update 3
and later; shared/notes/maya.md section 6):

1. copies the Maya side (``maya_plugin/``, ``plug-ins/``, ``icons/``) into ``<MAYA_APP_DIR>/modules/PyFarm/`` and
   writes ``<MAYA_APP_DIR>/modules/PyFarm.mod`` from ``mod/PyFarm.mod`` (the module's path made ``PyFarm``);
2. makes the module known to this session (``loadModule``), loads the ``pyfarm`` plug-in and sets it to autoload.

Nothing is downloaded, so it installs on a studio workstation without internet: the module holds everything the
plug-in needs. The farm client talks HTTP through ``requests`` when Maya's Python happens to have it (a studio may
add it to ``<module>/vendor/py3X``, which ``maya_plugin.maya_ui`` puts on sys.path), and through the standard
library's ``urllib`` otherwise (``maya_plugin.farm_client``; some Maya builds cannot even import ``urllib3``:
aws-deadline/deadline-cloud-for-maya#133).

Step 1 runs on a worker thread (it copies files): Maya stays responsive and a small window shows each step and says
what failed. Step 2 runs on Maya's main thread when it is done.

Outside the drop, ``install(...)`` does the same with explicit paths (tests; ``show=False`` for no window).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from typing import Any, Callable, List, Optional

MODULE_NAME = "PyFarm"
PLUGIN_NAME = "pyfarm"
COPIED = ("maya_plugin", "plug-ins", "icons")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def source_root() -> str:
    """The unpacked PyFarm folder this script belongs to (it sits in its ``scripts/``)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def maya_app_dir() -> str:
    """MAYA_APP_DIR: Maya's answer (``internalVar -userAppDir``), else the variable, else the documented default."""
    try:
        import maya.cmds as cmds
        found = cmds.internalVar(userAppDir=True)
        if found:
            return os.path.normpath(found)
    except (ImportError, RuntimeError, AttributeError):
        pass
    if os.environ.get("MAYA_APP_DIR"):
        return os.environ["MAYA_APP_DIR"]
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(home, "Documents", "maya")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Preferences", "Autodesk", "maya")
    return os.path.join(home, "maya")


class Installer(object):
    """One installation: what goes where, the steps, and what happened (``lines``, ``ok``, ``done``)."""

    def __init__(self, source: Optional[str] = None, app_dir: Optional[str] = None,
                 say: Optional[Callable[[str], Any]] = None) -> None:
        self.source = os.path.abspath(source or source_root())
        self.modules_dir = os.path.join(app_dir or maya_app_dir(), "modules")
        self.target = os.path.join(self.modules_dir, MODULE_NAME)
        self.mod_file = os.path.join(self.modules_dir, MODULE_NAME + ".mod")
        # packages a studio added for this Python (see the module docstring); the installer puts none there
        self.vendor = os.path.join(self.target, "vendor", "py%d%d" % sys.version_info[:2])
        self.lines = []  # type: List[str]
        self.warnings = []  # type: List[str]
        self.error = ""
        self.ok = False
        self.done = threading.Event()
        self._say = say

    def say(self, line: str) -> None:
        self.lines.append(line)
        if self._say is not None:
            self._say(line)

    # -- worker thread -----------------------------------------------------------------------------------------------
    def copy_files(self) -> None:
        if os.path.realpath(self.source) == os.path.realpath(self.target):
            self.say("The files are already in %s." % self.target)
            return
        missing = [name for name in COPIED if not os.path.isdir(os.path.join(self.source, name))]
        if missing:
            raise RuntimeError("%s is not an unpacked PyFarm folder (no %s)" % (self.source, ", ".join(missing)))
        os.makedirs(self.target, exist_ok=True)
        for name in COPIED:
            destination = os.path.join(self.target, name)
            if os.path.isdir(destination):
                shutil.rmtree(destination)
            shutil.copytree(os.path.join(self.source, name), destination, ignore=_IGNORED)
            self.say("Copied %s to %s" % (name, destination))

    def write_mod(self) -> None:
        template = os.path.join(self.source, "mod", MODULE_NAME + ".mod")
        with open(template) as f:
            text = f.read()
        # the specifier's last field is the module's path: relative to the .mod file, i.e. the PyFarm folder beside it
        text = re.sub(r"(?m)^(\+\s+(?:[A-Z]+:\S+\s+)*%s\s+\S+\s+)\S.*$" % MODULE_NAME, r"\g<1>" + MODULE_NAME, text)
        os.makedirs(self.modules_dir, exist_ok=True)
        with open(self.mod_file, "w") as f:
            f.write(text)
        self.say("Wrote the module file %s" % self.mod_file)

    def http_note(self) -> None:
        self.say("Nothing to download: PyFarm talks to the farm through Python's own urllib when Maya's Python has "
                 "no requests package.")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.say("Warning: " + text)

    def run_files(self) -> None:
        """Step 1 (no Maya calls: safe on a worker thread). Sets ``error`` on failure."""
        try:
            self.copy_files()
            self.write_mod()
            self.http_note()
        except (OSError, RuntimeError) as exc:
            self.error = "%s: %s" % (type(exc).__name__, exc)
            self.say("Failed: " + self.error)

    # -- Maya's main thread --------------------------------------------------------------------------------------------
    def finish_in_maya(self) -> None:
        """Step 2: the module in this session, the plug-in loaded and set to autoload."""
        try:
            if self.error:
                return
            import maya.cmds as cmds
            for folder in (self.target, self.vendor):
                if os.path.isdir(folder) and folder not in sys.path:
                    sys.path.append(folder)
            try:
                cmds.loadModule(scan=True)
                cmds.loadModule(allModules=True)
            except RuntimeError as exc:
                self.warn("Maya did not take the module in this session (%s); it will after a restart." % exc)
            if cmds.pluginInfo(PLUGIN_NAME, q=True, loaded=True):
                self.say("PyFarm was already loaded: restart Maya to run the version just installed.")
            else:
                try:
                    cmds.loadPlugin(PLUGIN_NAME)
                except RuntimeError:
                    cmds.loadPlugin(os.path.join(self.target, "plug-ins", PLUGIN_NAME + ".py"))
                self.say("Loaded the PyFarm plug-in: look for the PyFarm shelf.")
            cmds.pluginInfo(PLUGIN_NAME, e=True, autoload=True)
            self.say("The plug-in loads by itself when Maya starts.")
            self.ok = True
        except Exception as exc:  # reported in the window: an installer must say what failed, not raise
            self.error = "%s: %s" % (type(exc).__name__, exc)
            self.say("Failed: " + self.error)
        finally:
            self.done.set()


def install(source: Optional[str] = None, app_dir: Optional[str] = None, show: bool = True) -> Installer:
    """Install from ``source`` into ``app_dir``/modules; step 1 on a worker thread, then step 2 on the main thread
    (``maya.utils.executeDeferred``). Returns at once; ``installer.done`` is set at the end."""
    window = _ProgressWindow() if show else None
    installer = Installer(source, app_dir, say=window.say if window else None)
    if window is not None:
        window.installer = installer
    installer.say("Installing PyFarm from %s into %s" % (installer.source, installer.target))

    def work() -> None:
        installer.run_files()
        import maya.utils
        maya.utils.executeDeferred(_finish, installer, window)

    threading.Thread(target=work, name="pyfarm-install", daemon=True).start()
    return installer


def _finish(installer: Installer, window: Any) -> None:
    installer.finish_in_maya()
    if window is not None:
        window.finished()


class _ProgressWindow(object):
    """A small Qt window over Maya listing what the installer does (lines arrive from the worker thread)."""

    def __init__(self) -> None:
        if source_root() not in sys.path:  # the package being installed brings the Qt shim and the relay
            sys.path.insert(0, source_root())
        from maya_plugin.qt import QtWidgets
        from maya_plugin.ui.tasks import TaskRunner
        parent = None
        try:
            from maya_plugin import maya_ui
            parent = maya_ui.main_window()
        except (ImportError, RuntimeError):
            parent = None
        self.installer = None  # type: Optional[Installer]
        self.dialog = QtWidgets.QDialog(parent)
        self.dialog.setWindowTitle("Installing PyFarm")
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setReadOnly(True)
        self.status = QtWidgets.QLabel("Working ...")
        self.close_button = QtWidgets.QPushButton("Close")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.dialog.close)
        layout = QtWidgets.QVBoxLayout(self.dialog)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.close_button)
        self.dialog.resize(640, 360)
        self.relay = TaskRunner(self.dialog, max_workers=1, name="pyfarm-install-ui")
        self.dialog.show()

    def say(self, line: str) -> None:
        """Thread-safe: the line is appended on Maya's main thread."""
        self.relay.post(self.text.appendPlainText, line)

    def finished(self) -> None:
        installer = self.installer
        if installer is not None and installer.ok:
            text = "PyFarm is installed." + (" With warnings, see above." if installer.warnings else "")
        else:
            text = "The installation failed: %s" % (installer.error if installer is not None else "unknown error")
        self.relay.post(self.status.setText, text)
        self.relay.post(lambda _: self.close_button.setEnabled(True))


def onMayaDroppedPythonFile(*args: Any) -> None:
    """Maya's drag-and-drop entry point."""
    try:
        install()
    except Exception as exc:  # shown in Maya, never a traceback in the artist's face
        message = "PyFarm could not be installed: %s: %s" % (type(exc).__name__, exc)
        try:
            import maya.cmds as cmds
            cmds.confirmDialog(title="PyFarm", message=message, button=["OK"])
        except ImportError:
            print(message)
