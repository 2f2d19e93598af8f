"""The scene the fake Maya plays: nodes, attributes, connections and per-layer values, built from plain data.

A scene is described by a dict (every key optional)::

    {
      "file": "/projects/demo/scenes/scene.mb",   # '' = untitled (file -q -sceneName returns '')
      "modified": False,                          # file -q -modified
      "version": "2022",                          # about -version
      "batch": False,                             # about -batch
      "plugins": ["Mayatomr"],                    # loaded plugins (pluginInfo -q -loaded)
      "render_setup_mode": True,                  # mayaHasRenderSetup (default: on from Maya 2017, Maya's default
                                                  # preference; the command does not exist before 2016 Extension 2)
      "project": "/projects/demo/",               # workspace -q -rootDirectory
      "file_rules": {"images": "images"},         # workspace -q -fileRuleEntry
      "current_time": 1.0,                        # currentTime -q
      "render_globals": {"currentRenderer": "mentalRay", "startFrame": 1.0, "endFrame": 3.0,
                         "byFrameStep": 1.0, "animation": True, "imageFilePrefix": None},
      "cameras": [{"name": "camera1", "renderable": True, "shape": "camera1Shape", "parent": None}],
      "layers": [{"name": "defaultRenderLayer", "renderable": True},
                 {"name": "beauty"},                                  # a legacy layer
                 {"name": "lit", "setup": True},                      # Render Setup: nodes rs_lit + lit
                 {"name": "ref:beauty", "referenced": True, "manager": "ref:renderLayerManager"},
                 {"name": "x", "manager": None},                      # connected to no manager
                 {"name": "shadow", "overrides": {"defaultRenderGlobals.startFrame": 5.0,
                                                  "camera1Shape.renderable": False}},
                 {"name": "flaky", "setup": True, "switch_failures": 1}],   # the first switch to it fails
      "current_layer": "defaultRenderLayer",      # the layer node that is current
      "vray_settings": {"animType": 2, "animFrames": "1-3;10", "fileNamePrefix": ""},  # V-Ray's node, when made
    }

Switching layers plays Maya's documented behaviour: a referenced layer cannot be made current (RuntimeError); in
Render Setup mode, Maya 2024 and later silently ignore a switch to a legacy layer (AWS Deadline Cloud PR #388: the
current layer stays what it was); a layer with ``switch_failures`` raises the error Maya gives for an override of a
missing referenced node (Colorbleed PR #248) that many times before its switch works.

Maya's startup cameras persp (renderable), top, front and side (not renderable) are always there; list one in
``cameras`` to change it. ``defaultRenderLayer`` is always there, connected to ``renderLayerManager``. Render globals
left out keep Maya's defaults (Maya Software, 1-10 by 1, animation off, no prefix).
"""
from __future__ import annotations

import copy
import re
from typing import Any, Dict, List, Optional, Tuple

DEFAULT_CAMERAS = (("persp", True), ("top", False), ("front", False), ("side", False))

# long attribute name -> short name, per node type (what Maya accepts either way)
ALIASES = {
    "renderGlobals": {"currentRenderer": "ren", "startFrame": "fs", "endFrame": "ef", "byFrameStep": "bfs",
                      "animation": "an", "imageFilePrefix": "ifp", "extensionPadding": "pad"},
    "renderLayer": {"renderable": "rndr", "identification": "rlid", "displayOrder": "do", "global": "g"},
    "renderLayerManager": {"renderLayerId": "rlmi", "currentRenderLayer": "crl"},
    "renderSetupLayer": {"legacyRenderLayer": "lrl"},
    "camera": {"renderable": "rnd"},
    "VRaySettingsNode": {},
    "transform": {},
    "renderSetup": {},
}
COMMON = {"message": "msg"}

RENDER_GLOBALS_DEFAULTS = {
    "currentRenderer": "mayaSoftware", "startFrame": 1.0, "endFrame": 10.0, "byFrameStep": 1.0,
    "animation": False, "imageFilePrefix": None, "extensionPadding": 1,
}


class Node(object):
    def __init__(self, name: str, type: str, attrs: Optional[Dict[str, Any]] = None, parent: Optional[str] = None,
                 referenced: bool = False) -> None:
        self.name = name
        self.type = type
        self.attrs = dict(attrs or {})
        self.attrs.setdefault("message", None)
        self.parent = parent
        self.referenced = referenced

    def long_attr(self, attr: str) -> Optional[str]:
        """The attribute's long name, or None when the node has no such attribute."""
        base = re.sub(r"\[\d+\]$", "", attr)
        if base in self.attrs:
            return base
        aliases = dict(COMMON)
        aliases.update(ALIASES.get(self.type, {}))
        for long_name, short in aliases.items():
            if base == short and long_name in self.attrs:
                return long_name
        return None


class Scene(object):
    """The open scene of the fake Maya."""

    def __init__(self, spec: Optional[Dict[str, Any]] = None) -> None:
        spec = copy.deepcopy(spec or {})
        self.spec = spec
        self.file = spec.get("file", "")
        self.modified = bool(spec.get("modified", False))
        self.version = str(spec.get("version", "2022"))
        self.batch = bool(spec.get("batch", False))
        self.plugins = set(spec.get("plugins", []))
        self.project = spec.get("project", "")
        self.file_rules = dict(spec.get("file_rules", {"images": "images"}))
        self.current_time = float(spec.get("current_time", 1.0))
        self.has_render_setup = _has_render_setup(self.version)
        self.render_setup_mode = bool(spec.get("render_setup_mode", self.has_render_setup and
                                               (_year(self.version) or 0) >= 2017))
        self.switch_failures = {}  # type: Dict[str, int]
        self.nodes = {}  # type: Dict[str, Node]
        self.order = []  # type: List[str]
        self.connections = []  # type: List[Tuple[str, str]]
        self.layer_values = {}  # type: Dict[str, Dict[str, Any]]
        self.calls = []  # type: List[Tuple[str, tuple, dict]]
        self.switches = []  # type: List[str]

        globals_ = dict(RENDER_GLOBALS_DEFAULTS)
        globals_.update(spec.get("render_globals", {}))
        self.add(Node("defaultRenderGlobals", "renderGlobals", globals_))
        self.add(Node("renderLayerManager", "renderLayerManager", {"renderLayerId": None}))
        if spec.get("vray_settings") is not None:
            vray = {"animType": 1, "animFrames": "", "fileNamePrefix": None}
            vray.update(spec["vray_settings"])
            self.add(Node("vraySettings", "VRaySettingsNode", vray))
        self._add_cameras(spec.get("cameras", []))
        self._add_layers(spec.get("layers", []))
        self.current_layer = spec.get("current_layer", "defaultRenderLayer")

    # -- building ----------------------------------------------------------------------------------------------
    def add(self, node: Node) -> Node:
        if node.name in self.nodes:
            raise ValueError("fake scene: node %r defined twice" % node.name)
        self.nodes[node.name] = node
        self.order.append(node.name)
        return node

    def connect(self, src: str, dst: str) -> None:
        self.connections.append((src, dst))

    def _add_cameras(self, cameras: List[Dict[str, Any]]) -> None:
        # A startup camera listed at the root (no parent) replaces Maya's; any other camera is added after them.
        given = dict((c["name"], c) for c in cameras if not c.get("parent"))
        specs = []
        for name, renderable in DEFAULT_CAMERAS:
            specs.append(given.get(name, {"name": name, "renderable": renderable}))
        startup = set(name for name, _ in DEFAULT_CAMERAS)
        specs.extend(c for c in cameras if c.get("parent") or c["name"] not in startup)
        for cam in specs:
            name = cam["name"]
            shape = cam.get("shape") or (name.split("|")[-1] + "Shape")
            parent = cam.get("parent")
            full = "%s|%s" % (parent, name) if parent else name
            self.add(Node(full, "transform", {}, parent=parent))
            self.add(Node("%s|%s" % (full, shape), "camera", {"renderable": bool(cam.get("renderable", True))},
                          parent=full))

    def _add_layers(self, layers: List[Dict[str, Any]]) -> None:
        if not any(l["name"] == "defaultRenderLayer" for l in layers):
            layers = [{"name": "defaultRenderLayer"}] + list(layers)
        index = 0
        for layer in layers:
            name = layer["name"]
            node = layer.get("node") or ("rs_" + name if layer.get("setup") else name)
            self.add(Node(node, "renderLayer", {"renderable": bool(layer.get("renderable", True)),
                                                "identification": index, "global": node == "defaultRenderLayer"},
                          referenced=bool(layer.get("referenced", False))))
            if layer.get("setup"):
                if "renderSetup" not in self.nodes:
                    self.add(Node("renderSetup", "renderSetup", {}))
                self.add(Node(name, "renderSetupLayer", {"legacyRenderLayer": None},
                              referenced=bool(layer.get("referenced", False))))
                self.connect(node + ".message", name + ".legacyRenderLayer")
            if layer.get("switch_failures"):
                self.switch_failures[node] = int(layer["switch_failures"])
            manager = layer.get("manager", "renderLayerManager")
            if manager is not None:
                if manager not in self.nodes:
                    self.add(Node(manager, "renderLayerManager", {"renderLayerId": None},
                                  referenced=bool(layer.get("referenced", False))))
                self.connect("%s.renderLayerId[%d]" % (manager, index), node + ".identification")
            index += 1
            overrides = {}
            for plug, value in (layer.get("overrides") or {}).items():
                obj, attr = plug.split(".", 1)
                target = self.resolve(obj)
                overrides["%s.%s" % (target.name, target.long_attr(attr) or attr)] = value
            self.layer_values[node] = overrides

    # -- queries the commands use -----------------------------------------------------------------------------
    def short(self, full: str) -> str:
        """The shortest unique name of a node, as ls and listRelatives give it."""
        parts = full.split("|")
        for n in range(1, len(parts) + 1):
            candidate = "|".join(parts[-n:])
            if len(self.matches(candidate)) == 1:
                return candidate
        return "|" + full  # only the absolute path is unique

    def matches(self, name: str) -> List[Node]:
        if name.startswith("|"):  # an absolute DAG path names exactly one node
            name = name.lstrip("|")
            return [self.nodes[name]] if name in self.nodes else []
        if name in self.nodes:
            exact = [self.nodes[name]]
            others = [n for k, n in self.nodes.items() if k != name and k.endswith("|" + name)]
            return exact + others
        return [n for k, n in self.nodes.items() if k.endswith("|" + name)]

    def resolve(self, name: str, what: Optional[str] = None) -> Node:
        found = self.matches(name)
        if not found:
            raise ValueError("No object matches name: %s" % (what or name))
        if len(found) > 1:
            raise ValueError("More than one object matches name: %s" % (what or name))
        return found[0]

    def is_legacy_layer(self, name: str) -> bool:
        """A renderLayer node that is neither the master layer nor linked to a renderSetupLayer."""
        if name == "defaultRenderLayer":
            return False
        return not any(src == name + ".message" and dst.endswith(".legacyRenderLayer")
                       for src, dst in self.connections)

    def children(self, full: str) -> List[Node]:
        return [self.nodes[k] for k in self.order if self.nodes[k].parent == full]

    def get(self, plug: str) -> Any:
        if "." not in plug:
            raise ValueError("No object matches name: %s" % plug)
        obj, attr = plug.split(".", 1)
        node = self.resolve(obj, plug)
        long_name = node.long_attr(attr)
        if long_name is None and node.type == "transform":
            # Maya passes an attribute a transform lacks on to its only shape.
            shapes = self.children(node.name)
            if len(shapes) == 1:
                node = shapes[0]
                long_name = node.long_attr(attr)
        if long_name is None:
            raise ValueError("No object matches name: %s" % plug)
        key = "%s.%s" % (node.name, long_name)
        values = self.layer_values.get(self.current_layer, {})
        if key in values:
            return values[key]
        return node.attrs[long_name]


def _year(version: str) -> Optional[int]:
    match = re.match(r"\s*(\d{4})", version or "")
    return int(match.group(1)) if match else None


def _has_render_setup(version: str) -> bool:
    """Render Setup came with Maya 2016 Extension 2 (2016.5); mayaHasRenderSetup does not exist before."""
    year = _year(version)
    return year is None or year > 2016 or (year == 2016 and "Extension 2" in version)


_current = None  # type: Optional[Scene]


def load(spec: Optional[Dict[str, Any]] = None) -> Scene:
    """Opens a scene described as data (see the module docstring) and returns it."""
    global _current
    _current = Scene(spec)
    return _current


def current() -> Scene:
    """The open scene; a new untitled scene when none was loaded (Maya always has one)."""
    global _current
    if _current is None:
        _current = Scene()
    return _current


def reset() -> None:
    global _current
    _current = None
