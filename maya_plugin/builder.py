"""Builds the job dictionary (CONTRACT sections 1 and 5) from a scene description. Pure: no Maya, no network.

    build_job(scene, frames="1-3") -> {"shot010 2026-11-25 14:03": {"subjobs": {"masterLayer": {"frames": {
        1: {"command": "render -r mr -v 5 -s 1 -e 1 /proj/scenes/shot010.mb", "argv": [...]}, ...}}}, ...}}

Subjobs: one per rendering layer, or one per layer and camera when a layer renders several cameras. A subjob is named
after the layer's display name (``masterLayer``, ``beauty``), or ``<layer>_<camera>`` when the layer is split by
camera; names are made unique, never hold ``/`` and are at most 200 characters.

Frame commands (``argv`` is what runs, ``command`` its POSIX shell-quoted display form; ``shlex.split(command) ==
argv``)::

    render -r <flag> <renderer's usual flags> [-rl <layer node>] [-cam <camera>] -s <first> -e <last> [-b <step>]
           [-proj <project root>] <scene path>

- ``-rl`` (3Delight: ``-lr``) is added when the scene has more than one rendering layer: Render would otherwise render
  them all. It takes the legacy layer node (``defaultRenderLayer``, ``rs_<name>``), not the display name.
- ``-cam`` is added when the layer's renderable cameras are not exactly the subjob's one camera.
- ``-b`` (3Delight: ``-inc``) only when a chunk of several frames has a step above 1.
- ``-proj`` only with ``project_flag=True``. Decision: by default a one-layer, one-camera mental ray scene gets exactly
  the original design's form ``render -r mr -v 5 -s N -e N scene.mb`` (CONTRACT section 5), and every other scene is
  built the same way so that the commands differ only by what the contract says is added. The project root still
  travels in the job's ``project`` key.

A chunk of frames (``frames_per_task`` > 1) is one frame entry keyed by its first frame, with ``last_frame`` (and
``frame_step`` when above 1) recording the rest; chunks never break a step (see ``frames.chunk``).
"""
from __future__ import annotations

import os
import shlex
import time
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Union

from . import frames as _frames
from . import renderers as _renderers
from .errors import FrameListError, SubmitError
from .scene import CameraInfo, LayerInfo, SceneInfo

__all__ = ["Subjob", "build_job", "plan_subjobs", "layer_frames", "wanted_frames", "select_layers",
           "select_cameras", "renderer_for", "frame_argv", "command_string", "default_job_name", "check_name",
           "check_number", "PROGRAM", "MAX_NAME"]

#: The program name a frame starts with: the node maps it to Maya's Render (CONTRACT section 3).
PROGRAM = "render"
#: Job and subjob names are 1 to 200 characters, none of them "/" (CONTRACT section 1).
MAX_NAME = 200

FramesOption = Union[None, str, Iterable[int]]


class Subjob(NamedTuple):
    """One planned subjob: what renders, and how the command names it."""

    name: str
    layer: LayerInfo
    camera: CameraInfo
    renderer: _renderers.Renderer
    frames: List[int]
    use_layer_flag: bool  # add -rl
    use_camera_flag: bool  # add -cam


def check_name(name: Any, what: str = "job") -> str:
    """``name`` if it is a valid job/subjob name (1-200 characters, no "/"); else SubmitError."""
    if not isinstance(name, str) or not name.strip():
        raise SubmitError("the %s name is empty" % what)
    if "/" in name:
        raise SubmitError("the %s name %r holds a '/', which names cannot" % (what, name))
    if len(name) > MAX_NAME:
        raise SubmitError("the %s name is %d characters long; at most %d" % (what, len(name), MAX_NAME))
    return name


def default_job_name(scene_path: str, now: Optional[float] = None) -> str:
    """``"<scene file name without extension> YYYY-MM-DD HH:MM"`` in local time, e.g. ``shot010_v003 2026-11-25 14:03``."""
    base = os.path.basename((scene_path or "").replace("\\", "/").rstrip("/"))
    stem = os.path.splitext(base)[0] or "untitled"
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() if now is None else now))
    name = "%s %s" % (stem.replace("/", "_"), stamp)
    if len(name) > MAX_NAME:
        name = "%s %s" % (stem[:MAX_NAME - len(stamp) - 1], stamp)
    return name


def command_string(argv: Sequence[str]) -> str:
    """``argv`` as one string that POSIX shell-word splitting (``shlex.split``) turns back into exactly ``argv``."""
    return " ".join(shlex.quote(str(a)) for a in argv)


def layer_frames(scene: SceneInfo, layer: LayerInfo) -> List[int]:
    """The frames a layer renders by its render globals: start to end by step, or the current frame when the
    animation flag is off. Fractional values are rounded (preflight warns about them); a step below 1 counts as 1."""
    if not layer.animation:
        return [int(round(scene.current_frame))]
    step = max(1, int(round(layer.step)))
    return _frames.frame_range(int(round(layer.start)), int(round(layer.end)), step)


def wanted_frames(option: FramesOption) -> Optional[List[int]]:
    """The ``frames`` option as frames: None (use each layer's own), a frame list string, or an iterable of ints."""
    if option is None:
        return None
    if isinstance(option, str):
        return _frames.parse_frames(option)
    values = []
    for value in option:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FrameListError("%r is not a whole frame number" % (value,))
        values.append(value)
    if not values:
        raise FrameListError("the frame list is empty")
    return sorted(set(values))


def _names(option: Union[None, str, Iterable[str]]) -> Optional[List[str]]:
    if option is None:
        return None
    if isinstance(option, str):
        return [option]
    return list(option)


def select_layers(scene: SceneInfo, layers: Union[None, str, Iterable[str]] = None) -> List[LayerInfo]:
    """The layers to render: every rendering layer, or those named (node or display name), in the scene's order."""
    names = _names(layers)
    if names is None:
        return list(scene.layers)
    chosen = []  # type: List[LayerInfo]
    for name in names:
        layer = scene.layer(name)
        if layer is None:
            left_out = scene.skipped_layer(name)
            if left_out is not None:
                raise SubmitError("the render layer %r does not render: %s" % (name, left_out.reason))
            raise SubmitError("the scene has no render layer %r (layers that render: %s)"
                              % (name, ", ".join(l.name for l in scene.layers) or "none"))
        if layer not in chosen:
            chosen.append(layer)
    return [l for l in scene.layers if l in chosen]


def select_cameras(layer: LayerInfo, cameras: Union[None, str, Iterable[str]] = None) -> List[CameraInfo]:
    """The cameras a layer renders: its renderable ones, or those named (transform or shape), in the scene's order."""
    names = _names(cameras)
    if names is None:
        return layer.renderable_cameras
    chosen = []  # type: List[CameraInfo]
    for name in names:
        found = [c for c in layer.cameras if name in (c.name, c.shape) or c.name.split("|")[-1] == name]
        if not found:
            raise SubmitError("the scene has no camera %r (cameras: %s)"
                              % (name, ", ".join(c.name for c in layer.cameras) or "none"))
        if len(found) > 1:
            raise SubmitError("several cameras are named %r: %s" % (name, ", ".join(c.name for c in found)))
        if found[0] not in chosen:
            chosen.append(found[0])
    return [c for c in layer.cameras if c in chosen]


def renderer_for(layer: LayerInfo, renderer: Optional[str] = None) -> _renderers.Renderer:
    """The renderer a layer renders with: the ``renderer`` option (``-r`` value or render globals name) or the
    layer's own; SubmitError when the farm does not know it."""
    value = renderer if renderer else layer.renderer
    found = _renderers.resolve(value) if renderer else _renderers.lookup(value)
    if found is None:
        raise SubmitError("the farm does not know the renderer %r (known: %s)"
                          % (value, ", ".join(sorted(_renderers.RENDERERS))))
    return found


def _unique(name: str, taken: set) -> str:
    name = name.replace("/", "_")[:MAX_NAME]
    candidate, n = name, 2
    while candidate in taken:
        suffix = "_%d" % n
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        n += 1
    taken.add(candidate)
    return candidate


def plan_subjobs(scene: SceneInfo, frames: FramesOption = None, layers: Union[None, str, Iterable[str]] = None,
                 cameras: Union[None, str, Iterable[str]] = None, renderer: Optional[str] = None) -> List[Subjob]:
    """The subjobs a submission makes, in order. SubmitError (or FrameListError) for anything that cannot render:
    an unknown layer, camera or renderer, a layer without a camera, a frame list that renders nothing."""
    wanted = wanted_frames(frames)
    chosen = select_layers(scene, layers)
    if not chosen:
        raise SubmitError("the scene has no render layer that renders")
    several_layers = len(scene.layers) > 1
    plan = []  # type: List[Subjob]
    taken = set()  # type: set
    for layer in chosen:
        engine = renderer_for(layer, renderer)
        cams = select_cameras(layer, cameras)
        if not cams:
            raise SubmitError("the render layer %r has no renderable camera" % layer.name)
        layer_frame_list = wanted if wanted is not None else layer_frames(scene, layer)
        if not layer_frame_list:
            raise FrameListError("the render layer %r renders no frame (its range is %g-%g)"
                                 % (layer.name, layer.start, layer.end))
        split = len(cams) > 1
        default_cams = [c.name for c in layer.renderable_cameras]
        for cam in cams:
            name = "%s_%s" % (layer.name, cam.name) if split else layer.name
            plan.append(Subjob(
                name=_unique(name, taken), layer=layer, camera=cam, renderer=engine, frames=list(layer_frame_list),
                use_layer_flag=several_layers, use_camera_flag=default_cams != [cam.name]))
    return plan


def frame_argv(scene_path: str, renderer: _renderers.Renderer, first: int, last: int, step: int = 1,
               layer: Optional[str] = None, camera: Optional[str] = None, project: Optional[str] = None,
               program: str = PROGRAM) -> List[str]:
    """The argument list of one task (see the module docstring for the order)."""
    argv = [program, "-r", renderer.flag] + list(renderer.args)
    if layer:
        argv += [renderer.layer_flag, layer]
    if camera:
        argv += [renderer.camera_flag, camera]
    argv += ["-s", str(first), "-e", str(last)]
    if step != 1 and first != last:
        argv += [renderer.step_flag, str(step)]
    if project:
        argv += ["-proj", project]
    argv.append(scene_path)
    return argv


def check_number(value: Any, what: str, low: int, high: Optional[int] = None) -> int:
    """``value`` if it is a whole number from ``low`` to ``high`` (no upper bound when None); else SubmitError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = "%d to %d" % (low, high) if high is not None else "%d or more" % low
        raise SubmitError("%s must be a whole number, %s; not %r" % (what, span, value))
    return value


def build_job(scene: SceneInfo, frames: FramesOption = None, layers: Union[None, str, Iterable[str]] = None,
              cameras: Union[None, str, Iterable[str]] = None, renderer: Optional[str] = None,
              name: Optional[str] = None, priority: Optional[int] = None, frames_per_task: int = 1,
              max_attempts: Optional[int] = None, project_flag: bool = False, program: str = PROGRAM,
              now: Optional[float] = None) -> Dict[str, Dict[str, Any]]:
    """The job dictionary ``{job name: job}`` for a scene (CONTRACT sections 1 and 5). Frame keys are ints.

    Options as in ``submit.job_from_scene``; ``now`` (epoch seconds) stamps the default name. Raises SubmitError /
    FrameListError when the scene or the options cannot make a job.
    """
    if scene.untitled:
        raise SubmitError("the scene has never been saved: save it so the farm has a file to render")
    job_name = check_name(name, "job") if name is not None else default_job_name(scene.path, now)
    size = check_number(frames_per_task, "frames per task", 1)
    plan = plan_subjobs(scene, frames=frames, layers=layers, cameras=cameras, renderer=renderer)
    project = scene.project if project_flag and scene.project else None

    subjobs = {}  # type: Dict[str, Dict[str, Any]]
    for sub in plan:
        frame_dict = {}  # type: Dict[int, Dict[str, Any]]
        for task in _frames.chunk(sub.frames, size):
            first, last = task[0], task[-1]
            step = task[1] - task[0] if len(task) > 1 else 1
            argv = frame_argv(scene.path, sub.renderer, first, last, step,
                              layer=sub.layer.node if sub.use_layer_flag else None,
                              camera=sub.camera.name if sub.use_camera_flag else None,
                              project=project, program=program)
            entry = {"command": command_string(argv), "argv": argv}  # type: Dict[str, Any]
            if len(task) > 1:
                entry["last_frame"] = last
                if step != 1:
                    entry["frame_step"] = step
            frame_dict[first] = entry
        subjobs[sub.name] = {"layer": sub.layer.name, "layer_node": sub.layer.node, "camera": sub.camera.name,
                             "renderer": sub.renderer.flag, "frames": frame_dict}

    flags = sorted(set(sub.renderer.flag for sub in plan))
    job = {
        "scene": scene.path,
        "renderer": flags[0] if len(flags) == 1 else ",".join(flags),
        "maya_version": scene.maya_version,
        "project": scene.project,
        "output": scene.output,
        "subjobs": subjobs,
    }  # type: Dict[str, Any]
    if priority is not None:
        job["priority"] = check_number(priority, "priority", 0, 100)
    if max_attempts is not None:
        job["max_attempts"] = check_number(max_attempts, "max attempts", 1)
    return {job_name: job}
