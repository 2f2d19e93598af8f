"""Pre-flight checks: what the artist is told before a job leaves. Pure: works on a ``SceneInfo``, no Maya.

Each finding is a ``Check(severity, code, message)``. ``error`` blocks the submission, ``warning`` and ``info`` do not.

| code | severity | when |
|---|---|---|
| ``untitled`` | error | the scene was never saved, so there is no file to render |
| ``unsaved`` | warning | unsaved changes: the farm renders the file as last saved |
| ``bad_frames`` | error | the ``frames`` option does not parse (the message names the bad part) |
| ``no_layer`` | error | no render layer renders (or none was chosen) |
| ``unknown_layer`` | error | a layer named in the ``layers`` option does not render or does not exist |
| ``layer_left_out`` | info | a layer is left out: referenced, not connected to the renderLayerManager, not renderable |
| ``unknown_renderer`` | error | a renderer the farm does not know (see ``renderers.RENDERERS``) |
| ``mental_ray_unsupported`` | error | mental ray on Maya 2019 or later, which has none |
| ``mental_ray_plugin`` | error | mental ray on Maya 2017/2018 without NVIDIA's Mayatomr plugin loaded |
| ``unknown_camera`` | error | a camera named in the ``cameras`` option does not exist |
| ``no_camera`` | error | a layer has no renderable camera |
| ``default_cameras_only`` | warning | only persp/top/front/side are renderable (usually a forgotten shot camera) |
| ``no_frames`` | error | a layer's range renders nothing (end before start) |
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
from typing import Iterable, List, NamedTuple, Optional, Sequence, Union

from . import builder as _builder
from . import renderers as _renderers
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
               renderer: Optional[str] = None, local_prefixes: Optional[Iterable[str]] = None) -> List[Check]:
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
        add(INFO, "layer_left_out", "Render layer %s is left out: %s." % (left_out.name, left_out.reason))

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

        try:
            cams = _builder.select_cameras(layer, cameras)
        except SubmitError as exc:
            _once(checks, told, ERROR, "unknown_camera", "%s." % _capital(str(exc)))
        else:
            if not cams:
                add(ERROR, "no_camera", "Render layer %s has no renderable camera." % layer.name)
            elif cameras is None and all(c.default for c in cams):
                default_only.append(layer.name)

        if wanted is None:
            if layer.animation and not all(_whole(v) for v in (layer.start, layer.end, layer.step)):
                add(WARNING, "fractional_frames", "Render layer %s: the range %g-%g by %g is not in whole frames; "
                    "it is rounded." % (layer.name, layer.start, layer.end, layer.step))
            try:
                if not _builder.layer_frames(scene, layer):
                    add(ERROR, "no_frames", "Render layer %s renders no frame: its range ends (%g) before it "
                        "starts (%g)." % (layer.name, layer.end, layer.start))
            except SubmitError as exc:
                add(ERROR, "no_frames", "Render layer %s: %s." % (layer.name, exc))

    if default_only:
        add(WARNING, "default_cameras_only", "Only Maya's default cameras (persp/top/front/side) are renderable in "
            "render layer%s %s. Make your shot camera renderable or choose cameras."
            % ("s" if len(default_only) > 1 else "", ", ".join(default_only)))

    if scene.output and is_local_path(scene.output, resolve_local_prefixes(local_prefixes)):
        add(WARNING, "local_output", "The output folder %s is on a local drive of this machine; the render nodes "
            "write into their own disks instead. Set the project's images folder to a network share." % scene.output)
    return checks


def _once(checks: List[Check], told: set, severity: str, code: str, message: str) -> None:
    if (code, message) not in told:
        told.add((code, message))
        checks.append(Check(severity, code, message))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
