"""The fake ``maya.cmds``: the scene queries the plugin makes, played against ``maya._scene.current()``.

Behaviour follows the documented commands: names are str; ``ls`` returns ``[]`` when nothing matches while
``listRelatives`` and ``listConnections`` return ``None``; ``getAttr`` raises ``ValueError("No object matches name:
...")`` for an unknown node or attribute and ``"More than one object matches name"`` for an ambiguous one; time
attributes (``startFrame``, ``endFrame``, ``byFrameStep``) come back as floats; ``file -q -sceneName`` is ``''`` for an
untitled scene. Long and short flag names are both accepted; a flag this fake does not play raises ``TypeError`` (Maya
raises ``TypeError`` for a flag a command does not have). Every call is logged in ``current().calls``.
``mayaHasRenderSetup`` exists only for a scene of Maya 2016 Extension 2 or later, as in Maya (getting it from an
older Maya's ``cmds`` raises AttributeError).

UI commands (shelves, workspace controls, plugins) live in ``maya._ui_cmds``, owned by the UI tests, and are
imported at the end of this module.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional

from maya._flags import long_flags as _flags
from maya import _scene

_TIME_ATTRS = ("startFrame", "endFrame", "byFrameStep")


def _played(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _scene.current().calls.append((func.__name__, args, dict(kwargs)))
        return func(*args, **kwargs)
    return wrapper


@_played
def file(*args: Any, **kwargs: Any) -> Any:
    f = _flags("file", kwargs, {"query": "q", "sceneName": "sn", "modified": "mf"})
    scene = _scene.current()
    if f.get("query") and f.get("sceneName"):
        return scene.file
    if f.get("query") and f.get("modified"):
        return scene.modified
    raise TypeError("the fake maya.cmds.file plays only -q -sceneName and -q -modified")


@_played
def about(*args: Any, **kwargs: Any) -> Any:
    f = _flags("about", kwargs, {"version": "v", "batch": "b"})
    scene = _scene.current()
    if f.get("version"):
        return scene.version
    if f.get("batch"):
        return scene.batch
    raise TypeError("about: no query flag given")


@_played
def pluginInfo(*args: Any, **kwargs: Any) -> Any:
    f = _flags("pluginInfo", kwargs, {"query": "q", "loaded": "l"})
    if not args:
        raise RuntimeError("pluginInfo: no plug-in named")
    if f.get("query") and f.get("loaded"):
        name = str(args[0])
        return name in _scene.current().plugins
    raise TypeError("the fake maya.cmds.pluginInfo plays only -q -loaded")


@_played
def workspace(*args: Any, **kwargs: Any) -> Any:
    f = _flags("workspace", kwargs, {"query": "q", "rootDirectory": "rd"})
    if f.get("query") and f.get("rootDirectory"):
        return _scene.current().project
    raise TypeError("the fake maya.cmds.workspace plays only -q -rootDirectory")


@_played
def currentTime(*args: Any, **kwargs: Any) -> Any:
    f = _flags("currentTime", kwargs, {"query": "q"})
    scene = _scene.current()
    if f.get("query"):
        return scene.current_time
    if args:
        scene.current_time = float(args[0])
        return scene.current_time
    raise TypeError("currentTime: give a time or -q")


@_played
def editRenderLayerGlobals(*args: Any, **kwargs: Any) -> Any:
    f = _flags("editRenderLayerGlobals", kwargs, {"query": "q", "currentRenderLayer": "crl"})
    scene = _scene.current()
    if f.get("query"):
        if f.get("currentRenderLayer"):
            return scene.current_layer
        raise TypeError("editRenderLayerGlobals: nothing to query")
    if "currentRenderLayer" in f:
        name = f["currentRenderLayer"]
        found = [n for n in scene.matches(name) if n.type == "renderLayer"]
        if not found:
            raise RuntimeError("editRenderLayerGlobals: %s is not a render layer" % name)
        node = found[0].name
        if found[0].referenced:
            raise RuntimeError("editRenderLayerGlobals: the referenced render layer %s cannot be made current" % name)
        if scene.switch_failures.get(node, 0) > 0:
            scene.switch_failures[node] -= 1
            raise RuntimeError("Cannot switch from '%s' to '%s' because of an override to a missing node within a "
                               "referenced scene." % (scene.current_layer, node))
        if (scene.render_setup_mode and (_scene._year(scene.version) or 0) >= 2024
                and scene.is_legacy_layer(node)):
            return None  # Maya 2024+ in Render Setup mode ignores the switch, without an error (DCM PR #388)
        scene.current_layer = node
        scene.switches.append(node)
        return None
    raise TypeError("editRenderLayerGlobals: no flag given")


def _time(attr: str, value: Any) -> Any:
    if attr.split(".")[-1] in _TIME_ATTRS and value is not None:
        return float(value)
    return value


@_played
def getAttr(*args: Any, **kwargs: Any) -> Any:
    _flags("getAttr", kwargs, {})
    if len(args) != 1:
        raise TypeError("getAttr takes one attribute")
    scene = _scene.current()
    plug = str(args[0])
    value = scene.get(plug)
    node_name, attr = plug.split(".", 1)
    node = scene.resolve(node_name, plug)
    long_name = node.long_attr(attr) or attr
    return _time(long_name, value)


@_played
def ls(*args: Any, **kwargs: Any) -> List[str]:
    f = _flags("ls", kwargs, {"type": "typ", "cameras": "ca", "long": "l"})
    scene = _scene.current()
    names = list(scene.order)
    if args:
        wanted = set()
        for pattern in args:
            for node in scene.matches(str(pattern)):
                wanted.add(node.name)
        names = [n for n in names if n in wanted]
    if "type" in f:
        types = f["type"] if isinstance(f["type"], (list, tuple)) else [f["type"]]
        names = [n for n in names if scene.nodes[n].type in types]
    if f.get("cameras"):
        names = [n for n in names if scene.nodes[n].type == "camera"]
    if f.get("long"):
        return ["|" + n if scene.nodes[n].parent is not None or scene.nodes[n].type == "transform" else n
                for n in names]
    return [scene.short(n) for n in names]


@_played
def listRelatives(*args: Any, **kwargs: Any) -> Optional[List[str]]:
    f = _flags("listRelatives", kwargs, {"parent": "p", "children": "c", "fullPath": "f"})
    scene = _scene.current()
    objects = []  # type: List[str]
    for arg in args:
        objects.extend(arg if isinstance(arg, (list, tuple)) else [arg])
    out = []  # type: List[str]
    for obj in objects:
        node = scene.resolve(str(obj))
        if f.get("parent"):
            related = [node.parent] if node.parent else []
        else:
            related = [c.name for c in scene.children(node.name)]
        for name in related:
            shown = "|" + name if f.get("fullPath") else scene.short(name)
            if shown not in out:
                out.append(shown)
    return out or None


def _plug_parts(plug: str) -> List[str]:
    node, _, attr = plug.partition(".")
    return [node, attr.split("[")[0]]


@_played
def listConnections(*args: Any, **kwargs: Any) -> Optional[List[str]]:
    f = _flags("listConnections", kwargs, {"type": "t", "source": "s", "destination": "d"})
    if len(args) != 1:
        raise TypeError("listConnections: give one node or attribute")
    scene = _scene.current()
    target = str(args[0])
    node_name, _, attr = target.partition(".")
    node = scene.resolve(node_name, target)
    long_attr = None
    if attr:
        long_attr = node.long_attr(attr)
        if long_attr is None:
            raise ValueError("No object matches name: %s" % target)
    source = f.get("source", True)
    destination = f.get("destination", True)
    out = []  # type: List[str]
    for src, dst in scene.connections:
        src_node, src_attr = _plug_parts(src)
        dst_node, dst_attr = _plug_parts(dst)
        if destination and src_node == node.name and long_attr in (None, src_attr):
            other = dst_node
        elif source and dst_node == node.name and long_attr in (None, dst_attr):
            other = src_node
        else:
            continue
        if "type" in f and scene.nodes[other].type != f["type"]:
            continue
        out.append(scene.short(other))
    return out or None


@_played
def referenceQuery(*args: Any, **kwargs: Any) -> Any:
    f = _flags("referenceQuery", kwargs, {"isNodeReferenced": "inr"})
    if len(args) != 1:
        raise TypeError("referenceQuery: give one node")
    scene = _scene.current()
    found = scene.matches(str(args[0]))
    if len(found) != 1:
        raise RuntimeError("referenceQuery: %s is not a unique node" % args[0])
    if f.get("isNodeReferenced"):
        return found[0].referenced
    raise TypeError("the fake maya.cmds.referenceQuery plays only -isNodeReferenced")


@_played
def objExists(*args: Any, **kwargs: Any) -> bool:
    _flags("objExists", kwargs, {})
    if len(args) != 1:
        raise TypeError("objExists takes one object")
    return len(_scene.current().matches(str(args[0]).split(".")[0])) > 0


def _has_render_setup(*args: Any, **kwargs: Any) -> bool:
    _flags("mayaHasRenderSetup", kwargs, {})
    return _scene.current().render_setup_mode


_has_render_setup.__name__ = "mayaHasRenderSetup"
_mayaHasRenderSetup = _played(_has_render_setup)


def __getattr__(name: str) -> Any:
    # Commands that only some Maya versions have: getting one that the open scene's Maya lacks fails as in that Maya.
    if name == "mayaHasRenderSetup" and _scene.current().has_render_setup:
        return _mayaHasRenderSetup
    raise AttributeError("module 'maya.cmds' has no attribute %r" % name)


try:
    from maya._ui_cmds import *  # noqa: F401,F403  (UI commands of the fake, owned by the UI tests)
except ImportError:
    pass
