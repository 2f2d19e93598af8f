"""Pre-flight checks: what the artist is told before a job leaves. Pure: works on a ``SceneInfo``, no Maya.

Each finding is a ``Check(severity, code, message)``. ``error`` blocks the submission, ``warning`` and ``info`` do not.

| code | severity | when |
|---|---|---|
| ``untitled`` | error | the scene was never saved, so there is no file to render |
| ``unsaved`` | warning | unsaved changes: the farm renders the file as last saved |
| ``bad_frames`` | error | the ``frames`` option does not parse (the message names the bad part) |
| ``no_layer`` | error | no render layer renders (or none was chosen) |
| ``unknown_layer`` | error | a layer named in the ``layers`` option does not render or does not exist |
| ``layer_left_out`` | info | a layer is left out: referenced, or not connected to the renderLayerManager (a layer that
is merely not renderable is not reported: the artist switched it off) |
| ``legacy_in_render_setup`` | error | legacy render layers while Maya 2024+ runs in Render Setup mode, which ignores
them: every layer would render as masterLayer (AWS Deadline Cloud PR #388) |
| ``legacy_layers`` | warning | legacy render layers on Maya 2024+: the render hosts' Maya must run in legacy mode |
| ``unknown_renderer`` | error | a renderer the farm does not know (see ``renderers.RENDERERS``) |
| ``mental_ray_unsupported`` | error | mental ray on Maya 2019 or later, which has none |
| ``mental_ray_plugin`` | error | mental ray on Maya 2017/2018 without NVIDIA's Mayatomr plugin loaded |
| ``unknown_camera`` | error | a camera named in the ``cameras`` option does not exist |
| ``no_camera`` | error | a layer has no renderable camera |
| ``default_cameras_only`` | warning | only persp/top/front/side are renderable (usually a forgotten shot camera) |
| ``no_frames`` | error | a layer's range renders nothing (end before start), or V-Ray's frame list is bad |
| ``vray_frames`` | info | V-Ray renders its "Specific frames" list: the frames it reads there |
| ``still`` | info | animation is off: one image of the current frame, named without a frame number |
| ``image_names`` | info | the farm names a layer's images with ``-im`` so that tasks do not overwrite each other |
| ``image_names_collide`` | error | images would overwrite each other, and the farm cannot rename this renderer's |
| ``outside_project`` | warning | the scene is not inside the Maya project set: its tasks get no ``-proj`` |
| ``fractional_frames`` | warning | the render globals' start, end or step is not a whole frame (it is rounded) |
| ``local_output`` | warning | the output folder is on a local drive of the artist's machine |

Local output heuristic: a render node cannot write into the artist's own disk, so an output folder under one of the
local prefixes is reported. UNC paths (``\\\\server\\share``, ``//server/share``) are never local. The prefixes are
configurable: the ``local_prefixes`` argument, else the ``FARM_LOCAL_PREFIXES`` environment variable (a ``;``-separated
list, read when the checks run), else ``DEFAULT_LOCAL_PREFIXES``: the Windows system drive letters ``C:`` and ``D:``
(other letters are usually mapped network drives in a studio) and, on Linux/macOS, the per-machine folders ``/tmp``,
``/var/tmp``, ``/private/tmp``, ``/home``, ``/Users`` and ``/root`` (studios mount shares elsewhere, e.g. ``/mnt``,
``/net``, ``/Volumes/<share>``, ``/jobs``). Where home directories are network mounts, drop ``/home`` from the list.
A drive-letter prefix (``X:``) matches any path on that drive, case-insensitively; others match whole path components.
"""
from __future__ import annotations

import os
import re
from typing import Any, Iterable, List, NamedTuple, Optional, Sequence, Union

from . import builder as _builder
from . import frames as _frames
from . import renderers as _renderers
from . import scene as _scene
from .errors import SubmitError
from .scene import SceneInfo

__all__ = ["Check", "ERROR", "WARNING", "INFO", "DEFAULT_LOCAL_PREFIXES", "run_checks", "errors",
           "resolve_local_prefixes", "is_local_path"]

ERROR = "error"
WARNING = "warning"
INFO = "info"

DEFAULT_LOCAL_PREFIXES = ("C:", "D:", "/tmp", "/var/tmp", "/private/tmp", "/home", "/Users", "/root")


class Check(NamedTuple):
    """One finding. ``severity`` is ``error`` (blocks the submission), ``warning`` or ``info``."""

    severity: str
    code: str
    message: str


def errors(checks: Iterable[Check]) -> List[Check]:
    """The checks that block the submission."""
    return [c for c in checks if c.severity == ERROR]


def resolve_local_prefixes(value: Optional[Iterable[str]] = None) -> List[str]:
    """The local path prefixes in force: ``value``, else ``FARM_LOCAL_PREFIXES`` (``;``-separated), else the defaults."""
    if value is not None:
        return [str(p) for p in value]
    env = os.environ.get("FARM_LOCAL_PREFIXES")
    if env is not None and env.strip():
        return [p.strip() for p in env.split(";") if p.strip()]
    return list(DEFAULT_LOCAL_PREFIXES)


def is_local_path(path: str, prefixes: Sequence[str]) -> bool:
    """Whether ``path`` lies under one of ``prefixes`` (see the module docstring). UNC paths are never local."""
    p = (path or "").replace("\\", "/")
    if not p or p.startswith("//"):
        return False
    for prefix in prefixes:
        pre = prefix.replace("\\", "/").rstrip("/")
        if re.match(r"^[A-Za-z]:$", pre):
            if p[:2].lower() == pre.lower():
                return True
        elif pre and (p == pre or p.startswith(pre + "/")):
            return True
    return False


def _whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-6


def run_checks(scene: SceneInfo, frames: Union[None, str, Iterable[int]] = None,
               layers: Union[None, str, Iterable[str]] = None, cameras: Union[None, str, Iterable[str]] = None,
               renderer: Optional[str] = None, local_prefixes: Optional[Iterable[str]] = None,
               project_flag: Optional[bool] = None) -> List[Check]:
    """Every finding for this scene and these submission options (the same options as ``job_from_scene``)."""
    checks = []  # type: List[Check]
    add = lambda severity, code, message: checks.append(Check(severity, code, message))  # noqa: E731

    if scene.untitled:
        add(ERROR, "untitled", "The scene has never been saved. Save it where the render nodes can read it.")
    elif scene.modified:
        add(WARNING, "unsaved", "The scene has unsaved changes; the farm renders the file as it was last saved. "
                                "Save the scene first to render what you see.")

    wanted = None
    try:
        wanted = _builder.wanted_frames(frames)
    except SubmitError as exc:
        add(ERROR, "bad_frames", "Frame list: %s." % exc)

    for left_out in scene.skipped:
        if left_out.reason != _scene.NOT_RENDERABLE:
            add(INFO, "layer_left_out", "Render layer %s is left out: %s." % (left_out.name, left_out.reason))

    if scene.ignored_legacy:
        names = [l.name for l in scene.ignored_legacy]
        add(ERROR, "legacy_in_render_setup",
            "Render layer%s %s %s legacy render layer%s, but Maya runs in Render Setup mode, and Maya %d and later "
            "ignore legacy layers there: every layer would render as masterLayer, one over the other. Convert the "
            "scene to Render Setup layers, or switch Maya to legacy render layers (Preferences > Rendering > "
            "Preferred Render Setup system), restart Maya and submit again."
            % (_plural(names), ", ".join(names), "is a" if len(names) == 1 else "are",
               "" if len(names) == 1 else "s", _scene.RENDER_SETUP_IGNORES_LEGACY))

    chosen = []
    if not scene.layers:
        add(ERROR, "no_layer", "No render layer renders: make at least one layer renderable.")
    else:
        try:
            chosen = _builder.select_layers(scene, layers)
        except SubmitError as exc:
            add(ERROR, "unknown_layer", "%s." % _capital(str(exc)))
        else:
            if not chosen:
                add(ERROR, "no_layer", "No render layer was chosen.")

    year = scene.maya_year
    told = set()
    default_only = []
    stills = []
    several_layers = len(scene.layers) > 1
    legacy = [l.name for l in chosen if l.legacy]
    if legacy and (year or 0) >= _scene.RENDER_SETUP_IGNORES_LEGACY and not scene.ignored_legacy:
        add(WARNING, "legacy_layers",
            "Render layer%s %s use%s the legacy render layer system. Maya %d and later render legacy layers only in "
            "legacy mode: the render hosts' Maya must run with MAYA_ENABLE_LEGACY_RENDER_LAYERS=1 (as Deadline sets "
            "it), or every layer renders as masterLayer."
            % (_plural(legacy), ", ".join(legacy), "s" if len(legacy) == 1 else "", _scene.RENDER_SETUP_IGNORES_LEGACY))
    for layer in chosen:
        try:
            engine = _builder.renderer_for(layer, renderer)
        except SubmitError as exc:
            where = "" if renderer else "Render layer %s: " % layer.name
            _once(checks, told, ERROR, "unknown_renderer", "%s%s." % (where, _capital(str(exc)) if not where else exc))
            engine = None
        if engine is not None and engine.flag == "mr":
            support = _renderers.mental_ray_support(year)
            if support == "unsupported":
                _once(checks, told, ERROR, "mental_ray_unsupported",
                      "The scene renders with mental ray, which Maya %s does not have (mental ray ended with Maya "
                      "2018). Choose another renderer." % scene.maya_version)
            elif support == "plugin" and not scene.mental_ray_loaded:
                _once(checks, told, ERROR, "mental_ray_plugin",
                      "The scene renders with mental ray, but its plugin (%s) is not loaded: Maya %s needs NVIDIA's "
                      "separate mental ray download. Load the plugin or choose another renderer."
                      % (_renderers.MENTAL_RAY_PLUGIN, scene.maya_version))

        cams = []  # type: List[Any]
        try:
            cams = _builder.select_cameras(layer, cameras)
        except SubmitError as exc:
            _once(checks, told, ERROR, "unknown_camera", "%s." % _capital(str(exc)))
        else:
            if not cams:
                add(ERROR, "no_camera", "Render layer %s has no renderable camera." % layer.name)
            elif cameras is None and all(c.default for c in cams):
                default_only.append(layer.name)

        if engine is not None and cams:
            by_camera = len(cams) > 1 or len(layer.renderable_cameras) > 1
            prefix, problem = _builder.image_naming(layer, engine, several_layers, by_camera)
            if problem:
                add(ERROR, "image_names_collide", "%s." % _capital(problem))
            elif prefix:
                base = layer.prefix or "<Scene>"
                added = prefix.split("/")[:prefix.count("/") - base.count("/")]
                add(INFO, "image_names", "Render layer %s: the farm names its images %s (-im), so that no two tasks "
                    "write the same file: the image prefix %s has no %s." % (
                        layer.name, prefix, base, " or ".join(added)))

        if wanted is None:
            if layer.frame_list is not None:
                try:
                    got = _builder.layer_frames(scene, layer)
                except SubmitError as exc:
                    add(ERROR, "no_frames", "Render layer %s: V-Ray's specific frames %r: %s." % (
                        layer.name, layer.frame_list, exc))
                else:
                    add(INFO, "vray_frames", "Render layer %s renders V-Ray's specific frames %s (set as %r in the "
                        "Render Settings)." % (layer.name, _frames.format_frames(got), layer.frame_list))
                continue
            if _builder.is_still(layer):
                stills.append(layer.name)
                continue
            if not all(_whole(v) for v in (layer.start, layer.end, layer.step)):
                add(WARNING, "fractional_frames", "Render layer %s: the range %g-%g by %g is not in whole frames; "
                    "it is rounded." % (layer.name, layer.start, layer.end, layer.step))
            try:
                if not _builder.layer_frames(scene, layer):
                    add(ERROR, "no_frames", "Render layer %s renders no frame: its range ends (%g) before it "
                        "starts (%g)." % (layer.name, layer.end, layer.start))
            except SubmitError as exc:
                add(ERROR, "no_frames", "Render layer %s: %s." % (layer.name, exc))

    if stills:
        add(INFO, "still", "Animation is off in the render settings of render layer%s %s: one image renders, named "
            "without a frame number, of the frame that is current in the saved scene (frame %d now: save the scene "
            "after moving the time slider). Type frames to render a numbered sequence instead."
            % (_plural(stills), ", ".join(stills), int(round(scene.current_frame))))

    if default_only:
        add(WARNING, "default_cameras_only", "Only Maya's default cameras (persp/top/front/side) are renderable in "
            "render layer%s %s. Make your shot camera renderable or choose cameras."
            % ("s" if len(default_only) > 1 else "", ", ".join(default_only)))

    if (scene.project and project_flag is None and not scene.untitled
            and not _builder.scene_in_project(scene.path, scene.project)):
        add(WARNING, "outside_project", "The scene is not inside the Maya project that is set (%s), so the farm "
            "renders it without -proj, in each render host's own default project: textures and images relative to "
            "the project resolve there. Set the scene's project (File > Set Project) and submit again."
            % scene.project)

    if scene.output and is_local_path(scene.output, resolve_local_prefixes(local_prefixes)):
        add(WARNING, "local_output", "The output folder %s is on a local drive of this machine; the render nodes "
            "write into their own disks instead. Set the project's images folder to a network share." % scene.output)
    return checks


def _once(checks: List[Check], told: set, severity: str, code: str, message: str) -> None:
    if (code, message) not in told:
        told.add((code, message))
        checks.append(Check(severity, code, message))


def _plural(names: List[str]) -> str:
    return "s" if len(names) > 1 else ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
