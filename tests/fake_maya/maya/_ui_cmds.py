"""UI commands of the fake ``maya.cmds`` (tests only, never shipped): shelves, workspace controls, plug-ins, modules.

``maya.cmds`` ends with ``from maya._ui_cmds import *``, so these are ``cmds.shelfLayout`` and so on. They behave as
the documented Maya commands do, as far as PyFarm uses them (Maya's command reference, help.autodesk.com ... Commands;
shared/notes/maya.md sections 5 and 6):

- controls have unique short names; creating one whose name exists raises ``RuntimeError``; a created control returns
  its full path (``ShelfLayout|PyFarm|shelfButton1``); ``-exists`` answers for a short or full name;
- ``shelfLayout -q -childArray`` returns the children's short names, or ``None`` when there are none;
- ``deleteUI`` of a name that does not exist raises ``RuntimeError``; deleting a layout deletes its children;
- ``workspaceControl`` with ``-uiScript`` runs the script at once, with the control as the current parent
  (``MQtUtil.getCurrentParent()``); the script is Python when given from Python, run in ``__main__``'s namespace;
  ``-close`` runs ``-closeCommand`` and, with ``-retain false``, deletes the control;
- ``loadPlugin`` finds a plug-in by path or on ``MAYA_PLUG_IN_PATH``, imports it, refuses a file without
  ``initializePlugin``, and calls it; an exception there fails the load (``RuntimeError``). ``unloadPlugin`` calls
  ``uninitializePlugin``. ``pluginInfo -q -loaded`` also knows the scene's loaded plug-ins (``_scene.current()``);
- ``loadModule -scan`` / ``-allModules`` read the ``.mod`` files of ``MAYA_MODULE_PATH`` (specifier lines
  ``+ [KEY:value ...] Name Version Path``, entries ``VAR+:=rel``, ``VAR+=abs``, ``VAR:=rel``, ``VAR=abs``; a blank line
  ends a specifier's entries) and put each module's ``plug-ins``, ``scripts`` and ``icons`` on the paths;
- ``evalDeferred`` / ``maya.utils.executeDeferred`` queue work for the next idle moment (``maya.utils``).

``reset()`` puts the UI back as Maya starts: one shelf tab layout with the "Custom" shelf, no plug-ins loaded.
Everything shown to the user (``confirmDialog``, ``displayError`` ...) is kept in ``shown``.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional

from maya._flags import long_flags as _flags
from maya import _scene

__all__ = ["shelfTabLayout", "shelfLayout", "shelfButton", "deleteUI", "control", "objectTypeUI", "workspaceControl",
           "loadPlugin", "unloadPlugin", "pluginInfo", "loadModule", "getModulePath", "evalDeferred", "confirmDialog",
           "internalVar", "lsUI"]

SHELF_TOP = "ShelfLayout"
MAIN_WINDOW = "MayaWindow"


class _Control(object):
    def __init__(self, name: str, kind: str, parent: Optional[str], flags: Dict[str, Any]) -> None:
        self.name = name
        self.kind = kind
        self.parent = parent
        self.flags = dict(flags)
        self.widget = None  # type: Any

    def path(self) -> str:
        parts = [self.name]
        parent = self.parent
        while parent:
            parts.insert(0, parent)
            parent = _controls[parent].parent if parent in _controls else None
        return "|".join(parts)


_controls = OrderedDict()  # type: OrderedDict
_plugins = OrderedDict()  # type: OrderedDict
_modules = OrderedDict()  # type: OrderedDict
_counters = {}  # type: Dict[str, int]
_current_parent = []  # type: List[str]
shown = []  # type: List[tuple]


def reset() -> None:
    """Maya's UI as it starts: the shelf tab layout with a "Custom" shelf; no plug-in, no module loaded."""
    for record in list(_plugins.values()):
        record["module"] = None
    for item in list(_controls.values()):
        _drop_widget(item)
    _controls.clear()
    _plugins.clear()
    _modules.clear()
    _counters.clear()
    del _current_parent[:]
    del shown[:]
    _controls[SHELF_TOP] = _Control(SHELF_TOP, "shelfTabLayout", None, {"selectTab": "Custom"})
    _controls["Custom"] = _Control("Custom", "shelfLayout", SHELF_TOP, {})
    from maya import utils
    utils._pending[:] = []


def _log(command: str, args: tuple, kwargs: Dict[str, Any]) -> None:
    _scene.current().calls.append((command, args, dict(kwargs)))


_COMMON = {"query": "q", "edit": "e", "exists": "ex", "parent": "p"}


def _short(name: str) -> str:
    return str(name).split("|")[-1]


def _find(name: Any) -> Optional[_Control]:
    if name is None:
        return None
    return _controls.get(_short(name))


def _require(name: Any, command: str) -> _Control:
    item = _find(name)
    if item is None:
        raise RuntimeError("%s: Object '%s' not found." % (command, name))
    return item


def _new_name(kind: str) -> str:
    while True:
        _counters[kind] = _counters.get(kind, 0) + 1
        name = "%s%d" % (kind, _counters[kind])
        if name not in _controls:
            return name


def _create(kind: str, name: Optional[str], parent: Optional[str], flags: Dict[str, Any]) -> _Control:
    if name and _short(name) in _controls:
        raise RuntimeError("Object's name '%s' is not unique." % name)
    if parent is not None and _find(parent) is None:
        raise RuntimeError("Object '%s' not found." % parent)
    item = _Control(_short(name) if name else _new_name(kind), kind,
                    _find(parent).name if parent is not None else None, flags)
    _controls[item.name] = item
    return item


def _children(name: str) -> List[_Control]:
    return [c for c in _controls.values() if c.parent == name]


def _drop_widget(item: _Control) -> None:
    if item.widget is not None:
        try:
            item.widget.setParent(None)
            item.widget.deleteLater()
        except RuntimeError:
            pass
        item.widget = None


def _delete(item: _Control) -> None:
    for child in _children(item.name):
        _delete(child)
    _drop_widget(item)
    _controls.pop(item.name, None)


# -- shelves -----------------------------------------------------------------------------------------------------
def mel_eval(expr: str) -> Any:
    """The MEL the fake ``maya.mel.eval`` does not know itself: ``$gShelfTopLevel``."""
    if re.match(r"^\s*(\$_\s*=\s*)?\$gShelfTopLevel\s*;?\s*$", expr):
        return SHELF_TOP
    raise RuntimeError("Error occurred during execution of MEL script (the fake maya.mel does not play %r)" % expr)


def shelfTabLayout(*args: Any, **kwargs: Any) -> Any:
    _log("shelfTabLayout", args, kwargs)
    f = _flags("shelfTabLayout", kwargs, dict(_COMMON, selectTab="st", childArray="ca"))
    name = args[0] if args else None
    if f.get("exists"):
        return _find(name) is not None
    item = _require(name, "shelfTabLayout")
    if f.get("query"):
        if f.get("selectTab"):
            return item.flags.get("selectTab")
        if f.get("childArray"):
            return [c.name for c in _children(item.name)] or None
        raise TypeError("shelfTabLayout: nothing to query")
    if f.get("edit") and "selectTab" in f:
        _require(f["selectTab"], "shelfTabLayout")
        item.flags["selectTab"] = _short(f["selectTab"])
        return None
    raise TypeError("the fake shelfTabLayout plays -exists, -q -selectTab/-childArray, -e -selectTab")


def shelfLayout(*args: Any, **kwargs: Any) -> Any:
    _log("shelfLayout", args, kwargs)
    f = _flags("shelfLayout", kwargs, dict(_COMMON, childArray="ca"))
    name = args[0] if args else None
    if f.get("exists"):
        item = _find(name)
        return item is not None and item.kind == "shelfLayout"
    if f.get("query"):
        item = _require(name, "shelfLayout")
        if f.get("childArray"):
            return [c.name for c in _children(item.name)] or None
        raise TypeError("shelfLayout: nothing to query")
    if f.get("edit"):
        _require(name, "shelfLayout")
        return None
    parent = f.get("parent", SHELF_TOP)
    top = _require(parent, "shelfLayout")
    if top.kind != "shelfTabLayout":
        raise RuntimeError("shelfLayout: the parent of a shelf must be a shelfTabLayout")
    item = _create("shelfLayout", name, parent, {})
    top.flags["selectTab"] = item.name  # a new shelf becomes the current one, as in Maya
    return item.path()


_BUTTON_FLAGS = dict(_COMMON, label="l", command="c", image="i", image1="i1", annotation="ann", style="st",
                     sourceType="stp", imageOverlayLabel="iol", noDefaultPopup="ndp", enable="en")


def shelfButton(*args: Any, **kwargs: Any) -> Any:
    _log("shelfButton", args, kwargs)
    f = _flags("shelfButton", kwargs, _BUTTON_FLAGS)
    name = args[0] if args else None
    if f.get("exists"):
        item = _find(name)
        return item is not None and item.kind == "shelfButton"
    values = dict((k, v) for k, v in f.items() if k not in _COMMON)
    if f.get("query"):
        item = _require(name, "shelfButton")
        (flag,) = [k for k, v in values.items() if v]
        return item.flags.get(flag)
    if f.get("edit"):
        item = _require(name, "shelfButton")
        item.flags.update(values)
        return None
    if "parent" not in f:
        raise RuntimeError("shelfButton: no parent layout (the fake has no current parent)")
    if _require(f["parent"], "shelfButton").kind != "shelfLayout":
        raise RuntimeError("shelfButton: the parent must be a shelf")
    values.setdefault("sourceType", "mel")
    return _create("shelfButton", name, f["parent"], values).path()


def objectTypeUI(*args: Any, **kwargs: Any) -> str:
    _log("objectTypeUI", args, kwargs)
    _flags("objectTypeUI", kwargs, {})
    return _require(args[0], "objectTypeUI").kind


def control(*args: Any, **kwargs: Any) -> Any:
    _log("control", args, kwargs)
    f = _flags("control", kwargs, dict(_COMMON, visible="vis"))
    name = args[0] if args else None
    if f.get("exists"):
        return _find(name) is not None
    item = _require(name, "control")
    if f.get("query") and f.get("visible"):
        return bool(item.flags.get("visible", True))
    raise TypeError("the fake control plays -exists and -q -visible")


def lsUI(*args: Any, **kwargs: Any) -> Any:
    _log("lsUI", args, kwargs)
    f = _flags("lsUI", kwargs, {"type": "typ", "controls": "ctl", "long": "l"})
    kinds = f.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    out = [c.path() if f.get("long") else c.name for c in _controls.values() if not kinds or c.kind in kinds]
    return out or None


def deleteUI(*args: Any, **kwargs: Any) -> None:
    _log("deleteUI", args, kwargs)
    _flags("deleteUI", kwargs, {"control": "ctl", "layout": "lay", "window": "wnd", "menu": "m"})
    for name in args:
        _delete(_require(name, "deleteUI"))


# -- workspace controls --------------------------------------------------------------------------------------------
_WORKSPACE_FLAGS = dict(_COMMON, label="l", uiScript="ui", closeCommand="cc", retain="rt", floating="fl",
                        tabToControl="ttc", dockToControl="dtc", dockToMainWindow="dtm", initialWidth="iw",
                        initialHeight="ih", minimumWidth="mw", widthProperty="wp", heightProperty="hp",
                        restore="rs", close="cl", visible="vis", checksPlugins="cp", requiredPlugin="rp",
                        loadImmediately="li", **{"raise": "r"})


def _run_script(script: Any) -> None:
    if callable(script):
        script()
        return
    namespace = sys.modules["__main__"].__dict__
    exec(compile(str(script), "<workspaceControl script>", "exec"), namespace)


def workspaceControl(*args: Any, **kwargs: Any) -> Any:
    _log("workspaceControl", args, kwargs)
    f = _flags("workspaceControl", kwargs, _WORKSPACE_FLAGS)
    if not args:
        raise RuntimeError("workspaceControl: a name is needed")
    name = _short(args[0])
    item = _find(name)
    if f.get("exists"):
        return item is not None and item.kind == "workspaceControl"
    if f.get("query"):
        item = _require(name, "workspaceControl")
        (flag,) = [k for k, v in f.items() if k != "query" and v]
        if flag == "visible":
            return bool(item.flags.get("visible", True))
        return item.flags.get(flag)
    if f.get("edit"):
        item = _require(name, "workspaceControl")
        if f.get("close"):
            item.flags["visible"] = False
            if item.widget is not None:
                item.widget.hide()
            if item.flags.get("closeCommand"):
                _run_script(item.flags["closeCommand"])
            if not item.flags.get("retain", True):
                _delete(item)
            return None
        if f.get("restore") or f.get("visible"):
            item.flags["visible"] = True
            if item.widget is not None:
                item.widget.show()
        elif "visible" in f:
            item.flags["visible"] = False
            if item.widget is not None:
                item.widget.hide()
        for key in ("label", "uiScript", "closeCommand", "retain", "floating", "tabToControl"):
            if key in f:
                item.flags[key] = f[key]
        return None
    if "uiScript" not in f:
        raise RuntimeError("workspaceControl: -uiScript is required for a new workspace control")
    item = _create("workspaceControl", name, None, dict((k, v) for k, v in f.items() if k not in _COMMON))
    item.flags.setdefault("visible", True)
    item.widget = _container(item.name)
    _current_parent.append(item.name)
    try:
        _run_script(f["uiScript"])
    finally:
        _current_parent.pop()
    return item.name


def _container(name: str) -> Any:
    from maya import OpenMayaUI
    from maya_plugin.qt import QtWidgets
    widget = QtWidgets.QWidget(OpenMayaUI._main_window())
    widget.setObjectName(name)
    widget.setWindowFlags(widget.windowFlags())
    QtWidgets.QVBoxLayout(widget).setContentsMargins(0, 0, 0, 0)
    widget.show()
    return widget


def current_parent() -> Optional[_Control]:
    return _controls.get(_current_parent[-1]) if _current_parent else None


# -- plug-ins --------------------------------------------------------------------------------------------------------
def _plugin_file(name: str) -> Optional[str]:
    if os.path.isfile(name):
        return os.path.abspath(name)
    candidates = [name] if name.endswith(".py") else [name + ".py", name]
    for folder in os.environ.get("MAYA_PLUG_IN_PATH", "").split(os.pathsep):
        for candidate in candidates:
            path = os.path.join(folder, candidate)
            if folder and os.path.isfile(path):
                return os.path.abspath(path)
    return None


def _plugin_name(path_or_name: str) -> str:
    return os.path.splitext(os.path.basename(path_or_name))[0]


def loadPlugin(*args: Any, **kwargs: Any) -> List[str]:
    _log("loadPlugin", args, kwargs)
    f = _flags("loadPlugin", kwargs, {"quiet": "qt", "addCallback": "ac"})
    loaded = []
    for arg in args:
        name = _plugin_name(arg)
        if name in _plugins and _plugins[name]["module"] is not None:
            loaded.append(name)  # Maya: already loaded, nothing happens
            continue
        path = _plugin_file(str(arg))
        if path is None:
            if f.get("quiet"):
                continue
            raise RuntimeError("Plug-in, \"%s\", was not found on MAYA_PLUG_IN_PATH." % arg)
        spec = importlib.util.spec_from_file_location("_maya_plugin_%s" % name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        if not hasattr(module, "initializePlugin"):
            raise RuntimeError("%s: initializePlugin function could not be found in plug-in" % path)
        from maya.api import OpenMaya
        mobject = OpenMaya.MObject()
        try:
            module.initializePlugin(mobject)
        except Exception as exc:
            raise RuntimeError("(%s) initialize failed: %s" % (name, exc))
        record = _plugins.setdefault(name, {"autoload": False})
        record.update(path=path, module=module, mobject=mobject)
        _scene.current().plugins.add(name)
        loaded.append(name)
    return loaded


def unloadPlugin(*args: Any, **kwargs: Any) -> List[str]:
    _log("unloadPlugin", args, kwargs)
    _flags("unloadPlugin", kwargs, {"force": "f"})
    out = []
    for arg in args:
        name = _plugin_name(arg)
        record = _plugins.get(name)
        if record is None or record.get("module") is None:
            raise RuntimeError("Plug-in '%s' is not loaded." % arg)
        module = record["module"]
        if hasattr(module, "uninitializePlugin"):
            try:
                module.uninitializePlugin(record["mobject"])
            except Exception as exc:
                raise RuntimeError("(%s) uninitialize failed: %s" % (name, exc))
        record["module"] = None
        _scene.current().plugins.discard(name)
        out.append(name)
    return out


def pluginInfo(*args: Any, **kwargs: Any) -> Any:
    _log("pluginInfo", args, kwargs)
    f = _flags("pluginInfo", kwargs, {"query": "q", "edit": "e", "loaded": "l", "autoload": "a", "path": "p",
                                      "vendor": "vd", "version": "v", "registered": "r"})
    if not args:
        raise RuntimeError("pluginInfo: no plug-in named")
    name = _plugin_name(str(args[0]))
    record = _plugins.get(name)
    if f.get("edit"):
        if "autoload" in f:
            if record is None:
                raise RuntimeError("pluginInfo: Plug-in '%s' is not loaded." % name)
            record["autoload"] = bool(f["autoload"])
            return None
        raise TypeError("pluginInfo: nothing to edit")
    if f.get("query"):
        live = record is not None and record.get("module") is not None
        if f.get("loaded"):
            return live or str(args[0]) in _scene.current().plugins
        if f.get("registered"):
            return record is not None
        if record is None:
            raise RuntimeError("pluginInfo: Plug-in '%s' is not loaded." % name)
        if f.get("autoload"):
            return record["autoload"]
        if f.get("path"):
            return record["path"]
        from maya.api import OpenMaya
        fn = OpenMaya.MFnPlugin._registry.get(id(record.get("mobject")))
        if f.get("vendor"):
            return fn.vendor if fn else "Unknown"
        if f.get("version"):
            return fn.version if fn else "Unknown"
    raise TypeError("the fake pluginInfo plays -q -loaded/-autoload/-path/-vendor/-version, -e -autoload")


# -- modules --------------------------------------------------------------------------------------------------------
_SPEC = re.compile(r"^\+\s+((?:[A-Z]+:\S+\s+)*)(\S+)\s+(\S+)\s+(.+?)\s*$")
_ENTRY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(\+?)(:?)=\s*(.*?)\s*$")


def parse_mod(path: str) -> List[Dict[str, Any]]:
    """The modules a .mod file describes: name, version, path (absolute), env entries, conditions."""
    out = []  # type: List[Dict[str, Any]]
    current = None  # type: Optional[Dict[str, Any]]
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            match = _SPEC.match(line)
            if match:
                conditions = dict(c.split(":", 1) for c in match.group(1).split())
                location = match.group(4)
                if not os.path.isabs(location):
                    location = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), location))
                current = {"name": match.group(2), "version": match.group(3), "path": location,
                           "conditions": conditions, "env": [], "file": path}
                out.append(current)
                continue
            if not line.strip():
                current = None  # Maya stops reading entries at a blank line
                continue
            if current is None:
                continue
            match = _ENTRY.match(line)
            if match:
                var, append, relative, value = match.groups()
                if relative:
                    value = os.path.normpath(os.path.join(current["path"], value))
                current["env"].append((var, bool(append), value))
    return out


def _scan() -> None:
    for folder in os.environ.get("MAYA_MODULE_PATH", "").split(os.pathsep):
        if not folder or not os.path.isdir(folder):
            continue
        for entry in sorted(os.listdir(folder)):
            path = os.path.join(folder, entry)
            if os.path.isfile(path):
                try:
                    modules = parse_mod(path)
                except (OSError, UnicodeDecodeError):
                    continue
                for module in modules:
                    _modules.setdefault(module["name"], module)


def _add_path(var: str, value: str) -> None:
    parts = [p for p in os.environ.get(var, "").split(os.pathsep) if p]
    if value not in parts:
        parts.append(value)
    os.environ[var] = os.pathsep.join(parts)
    if var == "PYTHONPATH" and value not in sys.path:
        sys.path.append(value)


def _load_module(module: Dict[str, Any]) -> None:
    root = module["path"]
    _add_path("MAYA_PLUG_IN_PATH", os.path.join(root, "plug-ins"))
    _add_path("MAYA_SCRIPT_PATH", os.path.join(root, "scripts"))
    _add_path("PYTHONPATH", os.path.join(root, "scripts"))
    _add_path("XBMLANGPATH", os.path.join(root, "icons"))
    for var, append, value in module["env"]:
        if append:
            _add_path(var, value)
        else:
            os.environ[var] = value
    module["loaded"] = True


def loadModule(*args: Any, **kwargs: Any) -> Any:
    _log("loadModule", args, kwargs)
    f = _flags("loadModule", kwargs, {"scan": "sc", "allModules": "a", "load": "ld"})
    if f.get("scan"):
        _scan()
        return sorted(_modules)
    if f.get("allModules"):
        _scan()
        for module in _modules.values():
            if not module.get("loaded"):
                _load_module(module)
        return sorted(_modules)
    if f.get("load"):
        for module in parse_mod(f["load"]):
            _modules[module["name"]] = module
            _load_module(module)
        return None
    raise TypeError("the fake loadModule plays -scan, -allModules and -load")


def getModulePath(*args: Any, **kwargs: Any) -> str:
    _log("getModulePath", args, kwargs)
    f = _flags("getModulePath", kwargs, {"moduleName": "mn"})
    name = f.get("moduleName")
    if name not in _modules:
        _scan()
    if name not in _modules:
        raise RuntimeError("getModulePath: Module '%s' not found." % name)
    return _modules[name]["path"].replace("\\", "/")


# -- the rest ---------------------------------------------------------------------------------------------------------
def evalDeferred(*args: Any, **kwargs: Any) -> None:
    _log("evalDeferred", args, kwargs)
    f = _flags("evalDeferred", kwargs, {"lowestPriority": "low", "lowPriority": "lp", "evaluateNext": "en"})
    from maya import utils
    for arg in args:
        work = arg if callable(arg) else (lambda script=arg: _run_script(script))  # type: Callable[[], Any]
        utils.executeDeferred(work, _lowest=bool(f.get("lowestPriority")))


def confirmDialog(*args: Any, **kwargs: Any) -> str:
    _log("confirmDialog", args, kwargs)
    f = _flags("confirmDialog", kwargs, {"title": "t", "message": "m", "button": "b", "defaultButton": "db",
                                         "cancelButton": "cb", "dismissString": "ds", "icon": "icn"})
    shown.append(("confirmDialog", f.get("title", ""), f.get("message", "")))
    buttons = f.get("button") or ["Confirm"]
    buttons = [buttons] if isinstance(buttons, str) else buttons
    return f.get("defaultButton") or buttons[0]


def internalVar(*args: Any, **kwargs: Any) -> str:
    _log("internalVar", args, kwargs)
    f = _flags("internalVar", kwargs, {"userAppDir": "uad", "userPrefDir": "upd", "userScriptDir": "usd"})
    app = os.environ.get("MAYA_APP_DIR") or os.path.join(os.path.expanduser("~"), "maya")
    version = _scene.current().version
    if f.get("userAppDir"):
        return app.replace("\\", "/").rstrip("/") + "/"
    if f.get("userPrefDir"):
        return "%s/%s/prefs/" % (app.replace("\\", "/").rstrip("/"), version)
    if f.get("userScriptDir"):
        return "%s/%s/scripts/" % (app.replace("\\", "/").rstrip("/"), version)
    raise TypeError("internalVar: no flag given")


def _init() -> None:
    if SHELF_TOP not in _controls:
        reset()


_init()
