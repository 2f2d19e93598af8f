"""Reads the open Maya scene into a plain description the job builder works on.

The only module of the plugin that imports ``maya.cmds`` / ``maya.mel`` for scene queries; it imports them inside
``read_scene`` so the module itself imports without Maya. Every call and the Maya fact it relies on is listed in
``MAYA_CALLS`` below (sources: ``shared/notes/maya.md`` section 2).

What it reads:

- the scene file (``''`` when untitled) and whether it has unsaved changes, Maya's version, whether mental ray's
  plugin is loaded, whether Maya runs in Render Setup mode, the project root and the workspace's ``images`` rule (the
  output folder);
- the render layers that will render: every ``renderLayer`` node that is not referenced, is connected to the main
  ``renderLayerManager`` and is renderable. The others are listed in ``SceneInfo.skipped`` with the reason. Legacy
  layers of a Maya 2024 or later in Render Setup mode are not read at all (Maya ignores switches to them there: AWS
  Deadline Cloud PR #388) and are listed in ``SceneInfo.ignored_legacy``;
- for each such layer, after switching to it (``editRenderLayerGlobals``, switched back in a ``finally``): the
  renderer, frame range, step, animation flag and image prefix of ``defaultRenderGlobals``, and the cameras with their
  ``renderable`` flag (layers may override all of these). For V-Ray, its own ``vraySettings`` node: the "Specific
  frames" list when ``animType`` is 2, and the image prefix ``fileNamePrefix``.

A switch is checked by asking Maya which layer is current afterwards; one that failed (an error, or a switch Maya
ignored) is tried once more, then reading gives up with a SceneError that names the layer.

Layer names: ``LayerInfo.node`` is the legacy ``renderLayer`` node, what ``Render -rl`` takes (``defaultRenderLayer``,
``rs_<name>`` for Render Setup); ``LayerInfo.name`` is what the artist sees (``masterLayer``, the Render Setup layer's
name found through the ``rs_X.message -> X.legacyRenderLayer`` connection, else ``renderLayerDisplayName``).

Maya's ``RuntimeError`` and ``ValueError`` (unknown node or attribute) become ``SceneError``.
"""
from __future__ import annotations

import re
from typing import Any, List, NamedTuple, Optional, Tuple

from .errors import SceneError
from .renderers import MENTAL_RAY_PLUGIN

__all__ = ["CameraInfo", "LayerInfo", "SkippedLayer", "SceneInfo", "read_scene", "DEFAULT_CAMERAS", "DEFAULT_LAYER",
           "MASTER_LAYER", "MAYA_CALLS", "NOT_RENDERABLE", "RENDER_SETUP_IGNORES_LEGACY", "VRAY_SPECIFIC_FRAMES",
           "SWITCH_ATTEMPTS"]

#: The master layer's node, and its name in the UI (DL ``GetRenderLayerDisplayName``).
DEFAULT_LAYER = "defaultRenderLayer"
MASTER_LAYER = "masterLayer"
#: Maya's startup cameras (DL ``IsDefaultCamera``).
DEFAULT_CAMERAS = ("persp", "top", "front", "side")
#: From this Maya on, switching to a legacy layer in Render Setup mode is silently ignored (AWS Deadline Cloud PR #388).
RENDER_SETUP_IGNORES_LEGACY = 2024
#: ``vraySettings.animType`` for "Specific frames": V-Ray renders ``vraySettings.animFrames`` (notes, section 8).
VRAY_SPECIFIC_FRAMES = 2
#: Why a layer the artist switched off is left out (preflight does not report it: nothing to fix).
NOT_RENDERABLE = "not renderable"
#: A layer switch is tried this many times before reading gives up.
SWITCH_ATTEMPTS = 2

#: (call, the documented fact it relies on) for every maya.cmds / maya.mel call this module makes.
MAYA_CALLS = (
    ("cmds.file(q=True, sceneName=True)", "the open scene's path; '' when untitled (DCM scene.py; OC sn=True)"),
    ("cmds.file(q=True, modified=True)", "unsaved changes (DL `file -q -modified`; DCM mf=True)"),
    ("cmds.about(version=True)", "Maya's version string, e.g. '2022' (int() of it picks the Qt binding: notes s.1)"),
    ("cmds.pluginInfo('Mayatomr', q=True, loaded=True)", "whether mental ray's plugin is loaded (mgear query)"),
    ("cmds.mayaHasRenderSetup()",
     "whether Maya runs in Render Setup mode; the command does not exist before 2016.5 (ayon-maya lib.py)"),
    ("cmds.workspace(q=True, rootDirectory=True)", "the project root (CGRU)"),
    ("mel.eval('workspace -q -fileRuleEntry \"images\"')",
     "the images folder, relative to the project root; the cmds form did not work for DCM (DCM scene.py; DL)"),
    ("cmds.currentTime(q=True)", "the frame rendered when defaultRenderGlobals.animation is off (DCM scene.py)"),
    ("cmds.ls(type='renderLayer')", "every legacy render layer node, Render Setup's rs_ nodes included (DCM)"),
    ("cmds.referenceQuery(node, isNodeReferenced=True)", "referenced layers are left out (DCM render_layers.py)"),
    ("cmds.listConnections('renderLayerManager.renderLayerId')",
     "the layers of the main renderLayerManager; others are left out (DL getRenderableRenderLayers)"),
    ("cmds.getAttr(node + '.renderable')", "layers that do not render are left out (DCM render_layers.py)"),
    ("cmds.listConnections(node + '.message', type='renderSetupLayer')",
     "Render Setup layer X is linked by rs_X.message -> X.legacyRenderLayer; resolve by connection (ayon-maya)"),
    ("mel.eval('renderLayerDisplayName \"node\"')", "a layer's UI name (DCM render_layers.py)"),
    ("cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True)", "the current layer, to switch back to (DCM)"),
    ("cmds.editRenderLayerGlobals(currentRenderLayer=node)",
     "switching layers makes getAttr return that layer's values (DCM saved_current_render_layer)"),
    ("cmds.getAttr('defaultRenderGlobals.currentRenderer')", "the renderer; it can differ per layer (DCM scene.py)"),
    ("cmds.getAttr('defaultRenderGlobals.startFrame' / '.endFrame' / '.byFrameStep' / '.animation')",
     "the frame range, step and animation flag (DL MEL 1136-1138; DCM scene.py)"),
    ("cmds.getAttr('defaultRenderGlobals.imageFilePrefix')", "the image prefix; empty means <Scene> (DCM renderers.py)"),
    ("cmds.ls(cameras=True)", "camera SHAPE nodes (DCM cameras.py)"),
    ("cmds.listRelatives(shape, parent=True)", "the camera's transform, the name -cam takes (DCM; OC; DL -cam)"),
    ("cmds.getAttr(shape + '.renderable')",
     "renderable cameras; read on the shape and caught per camera, as DL does (DL deadlineGetRenderableCameras)"),
    ("cmds.objExists('vraySettings')", "V-Ray's settings node exists only once V-Ray made it (DCM renderers.py)"),
    ("cmds.getAttr('vraySettings.animType' / '.animFrames')",
     "animType 2 is 'Specific frames': V-Ray renders the animFrames list (DL DeadlineGetFrameList; notes s.8)"),
    ("cmds.getAttr('vraySettings.fileNamePrefix')",
     "V-Ray's image prefix; it does not update defaultRenderGlobals.imageFilePrefix (DCM renderers.py)"),
)


class CameraInfo(NamedTuple):
    """A camera: ``name`` is its transform (what ``-cam`` takes), ``shape`` its shape node."""

    name: str
    shape: str
    renderable: bool
    default: bool  # one of Maya's startup cameras persp/top/front/side (at the root of the DAG)


class LayerInfo(NamedTuple):
    """A render layer as it renders, with the render globals' values seen while it is the current layer.

    ``start``, ``end`` and ``step`` are Maya's values as they are (floats, in the scene's time unit).
    """

    node: str  # the renderLayer node: what Render -rl takes
    name: str  # the name the artist sees (masterLayer, the Render Setup layer's name)
    renderer: str  # defaultRenderGlobals.currentRenderer on this layer
    start: float
    end: float
    step: float
    animation: bool  # False: only the current frame renders
    prefix: str  # the image prefix ('' means <Scene>): imageFilePrefix, or vraySettings.fileNamePrefix for V-Ray
    cameras: Tuple[CameraInfo, ...]  # every camera, each with its renderable flag on this layer
    render_setup: bool = False  # a Render Setup layer (rs_ node linked to a renderSetupLayer)
    frame_list: Optional[str] = None  # V-Ray "Specific frames" (vraySettings.animFrames, as written), else None

    @property
    def legacy(self) -> bool:
        """A layer of the legacy render layer system (not the master layer, not a Render Setup layer)."""
        return self.node != DEFAULT_LAYER and not self.render_setup

    @property
    def renderable_cameras(self) -> List[CameraInfo]:
        return [c for c in self.cameras if c.renderable]


class SkippedLayer(NamedTuple):
    """A render layer left out, and why."""

    node: str
    name: str
    reason: str


class SceneInfo(NamedTuple):
    """The open scene, as the job builder and the pre-flight checks need it."""

    path: str  # the scene file; '' when untitled
    modified: bool  # unsaved changes
    maya_version: str  # cmds.about(version=True), e.g. "2022"
    project: str  # the project root ('' if unknown), as Maya gives it (forward slashes, trailing '/')
    output: str  # the images folder: the workspace's images rule joined to the project root
    current_frame: float
    current_layer: str  # the layer node that was current before reading (and is current again after)
    renderer: str  # the current layer's renderer (what the render globals show the artist)
    layers: Tuple[LayerInfo, ...]  # the layers that render, in ls order
    skipped: Tuple[SkippedLayer, ...] = ()  # the layers left out, and why
    mental_ray_loaded: bool = False
    render_setup_mode: bool = False  # Maya runs in Render Setup mode (mayaHasRenderSetup)
    ignored_legacy: Tuple[SkippedLayer, ...] = ()  # legacy layers Maya ignores in Render Setup mode (2024 and later)

    @property
    def untitled(self) -> bool:
        return not self.path

    @property
    def maya_year(self) -> Optional[int]:
        return maya_year(self.maya_version)

    def layer(self, name: str) -> Optional[LayerInfo]:
        """The rendering layer named ``name`` (its node or its display name), or None."""
        for layer in self.layers:
            if name in (layer.node, layer.name):
                return layer
        return None

    def skipped_layer(self, name: str) -> Optional[SkippedLayer]:
        """The left-out layer named ``name`` (its node or its display name), or None."""
        for layer in self.skipped + self.ignored_legacy:
            if name in (layer.node, layer.name):
                return layer
        return None


def maya_year(version: str) -> Optional[int]:
    """The year in a Maya version string ("2022", "2016 Extension 2", "2017ff05"), or None."""
    match = re.match(r"\s*(\d{4})", version or "")
    return int(match.group(1)) if match else None


def join_rule(root: str, rule: str) -> str:
    """A workspace file rule made absolute against the project root (rules may be absolute already)."""
    rule = (rule or "").strip()
    if not rule:
        return root
    if rule.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[/\\]", rule):
        return rule
    if not root:
        return rule
    return root.rstrip("/\\") + "/" + rule


def _maya() -> Tuple[Any, Any]:
    try:
        import maya.cmds as cmds
        import maya.mel as mel
    except ImportError as exc:
        raise SceneError("Maya is not available here: the scene can only be read inside Maya", exc)
    return cmds, mel


def read_scene() -> SceneInfo:
    """Reads the open scene through maya.cmds. Raises SceneError when Maya refuses a query."""
    cmds, mel = _maya()
    try:
        return _read(cmds, mel)
    except (RuntimeError, ValueError) as exc:
        raise SceneError("Maya could not read the scene: %s" % (str(exc).strip() or type(exc).__name__), exc)


def _read(cmds: Any, mel: Any) -> SceneInfo:
    # Whether the scene has unsaved changes comes first: switching layers below must not be what the artist sees.
    path = cmds.file(q=True, sceneName=True) or ""
    modified = bool(cmds.file(q=True, modified=True))
    version = str(cmds.about(version=True) or "")
    mental_ray = bool(cmds.pluginInfo(MENTAL_RAY_PLUGIN, q=True, loaded=True))
    setup_mode = _render_setup_mode(cmds)
    project = cmds.workspace(q=True, rootDirectory=True) or ""
    images = mel.eval('workspace -q -fileRuleEntry "images"') or ""
    current_frame = float(cmds.currentTime(q=True))
    current_layer = cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) or DEFAULT_LAYER
    renderer = cmds.getAttr("defaultRenderGlobals.currentRenderer") or ""

    nodes, left_out = _layer_nodes(cmds)
    skipped = [SkippedLayer(node, _display_name(cmds, mel, node)[0], why) for node, why in left_out]
    ignored = []  # type: List[SkippedLayer]
    if setup_mode and (maya_year(version) or 0) >= RENDER_SETUP_IGNORES_LEGACY:
        # Switching to these would be ignored without a word: every value read would be another layer's.
        for node in list(nodes):
            name, render_setup = _display_name(cmds, mel, node)
            if node != DEFAULT_LAYER and not render_setup:
                nodes.remove(node)
                ignored.append(SkippedLayer(node, name, "a legacy render layer, which Maya %d and later ignore in "
                                                        "Render Setup mode" % RENDER_SETUP_IGNORES_LEGACY))
    # The current layer is read first, without a switch (switching is slow in heavy scenes); the result keeps ls order.
    visit = sorted(nodes, key=lambda n: n != current_layer)
    read = {}  # type: dict
    active = current_layer
    try:
        for node in visit:
            if node != active:
                active = None  # until Maya confirms the switch, the current layer is not known
                _switch(cmds, node)
                active = node
            read[node] = _read_layer(cmds, mel, node)
    finally:
        if active != current_layer:
            _switch(cmds, current_layer)
    layers = [read[n] for n in nodes]  # type: List[LayerInfo]

    return SceneInfo(
        path=path, modified=modified, maya_version=version, project=project, output=join_rule(project, images),
        current_frame=current_frame, current_layer=current_layer, renderer=renderer, layers=tuple(layers),
        skipped=tuple(skipped), mental_ray_loaded=mental_ray, render_setup_mode=setup_mode,
        ignored_legacy=tuple(ignored))


def _render_setup_mode(cmds: Any) -> bool:
    try:
        query = cmds.mayaHasRenderSetup
    except AttributeError:  # Maya before 2016.5: legacy render layers only
        return False
    return bool(query())


def _switch(cmds: Any, node: str) -> None:
    """Makes ``node`` the current layer, checked; one failed switch is tried again before giving up."""
    problem = ""
    for _attempt in range(SWITCH_ATTEMPTS):
        try:
            cmds.editRenderLayerGlobals(currentRenderLayer=node)
        except RuntimeError as exc:
            problem = str(exc).strip() or type(exc).__name__
            continue
        now = cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True)
        if now == node:
            return
        problem = "Maya stayed on render layer %s" % now
    raise SceneError("Maya did not switch to render layer %s (tried %d times): %s" % (node, SWITCH_ATTEMPTS, problem))


def _layer_nodes(cmds: Any) -> Tuple[List[str], List[Tuple[str, str]]]:
    """The layer nodes that render, and (node, reason) for those left out."""
    managed = set(cmds.listConnections("renderLayerManager.renderLayerId") or [])
    keep, skipped = [], []
    for node in cmds.ls(type="renderLayer") or []:
        if cmds.referenceQuery(node, isNodeReferenced=True):
            skipped.append((node, "referenced from another file"))
        elif node not in managed:
            skipped.append((node, "not connected to the scene's renderLayerManager"))
        elif not cmds.getAttr(node + ".renderable"):
            skipped.append((node, NOT_RENDERABLE))
        else:
            keep.append(node)
    return keep, skipped


def _display_name(cmds: Any, mel: Any, node: str) -> Tuple[str, bool]:
    """(the name the artist sees, whether it is a Render Setup layer)."""
    if node == DEFAULT_LAYER:
        return MASTER_LAYER, False
    setup = cmds.listConnections(node + ".message", type="renderSetupLayer") or []
    if setup:
        return setup[0], True
    return mel.eval('renderLayerDisplayName "%s"' % node) or node, False


def _read_layer(cmds: Any, mel: Any, node: str) -> LayerInfo:
    name, render_setup = _display_name(cmds, mel, node)
    renderer = cmds.getAttr("defaultRenderGlobals.currentRenderer") or ""
    prefix = cmds.getAttr("defaultRenderGlobals.imageFilePrefix") or ""
    frame_list = None  # type: Optional[str]
    if renderer == "vray" and cmds.objExists("vraySettings"):
        prefix = cmds.getAttr("vraySettings.fileNamePrefix") or ""
        if cmds.getAttr("vraySettings.animType") == VRAY_SPECIFIC_FRAMES:
            frame_list = cmds.getAttr("vraySettings.animFrames") or ""
    return LayerInfo(
        node=node,
        name=name,
        renderer=renderer,
        start=float(cmds.getAttr("defaultRenderGlobals.startFrame")),
        end=float(cmds.getAttr("defaultRenderGlobals.endFrame")),
        step=float(cmds.getAttr("defaultRenderGlobals.byFrameStep")),
        animation=bool(cmds.getAttr("defaultRenderGlobals.animation")),
        prefix=prefix,
        cameras=tuple(_read_cameras(cmds)),
        render_setup=render_setup,
        frame_list=frame_list,
    )


def _read_cameras(cmds: Any) -> List[CameraInfo]:
    cameras = []
    for shape in cmds.ls(cameras=True) or []:
        parents = cmds.listRelatives(shape, parent=True) or []
        name = parents[0] if parents else shape
        try:
            renderable = bool(cmds.getAttr(shape + ".renderable"))
        except (RuntimeError, ValueError):
            # DL wraps this read in `catch`: a camera whose flag cannot be read is not one to render.
            renderable = False
        cameras.append(CameraInfo(name=name, shape=shape, renderable=renderable,
                                  default=name.lstrip("|") in DEFAULT_CAMERAS))
    return cameras
