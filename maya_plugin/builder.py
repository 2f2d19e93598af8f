"""Builds the job dictionary (CONTRACT sections 1, 5 and 6) from a scene description. Pure: no Maya, no network.

    build_job(scene, frames="1-3") -> {"shot010_2026-11-25_14-03": {"subjobs": {"masterLayer": {"frames": {
        1: {"command": "render -r mr -v 5 -proj /proj/ -s 1 -e 1 /proj/scenes/shot010.mb", "argv": [...]}, ...}}},
        "user": "artist", ...}}

Subjobs: one per rendering layer, or one per layer and camera when a layer renders several cameras. A subjob is named
after the layer's display name (``masterLayer``, ``beauty``), or ``<layer>_<camera>`` when the layer is split by
camera; names are made unique, never hold ``/`` and are at most 200 characters.

Frame commands (``argv`` is what runs, ``command`` its POSIX shell-quoted display form; ``shlex.split(command) ==
argv``)::

    render -r <flag> <renderer's usual flags> [-proj <project root>] [-rl <layer node>] [-cam <camera>]
           [-im <image prefix>] [-s <first> -e <last> [-b <step>]] <scene path>

Every flag rests on a fact of ``shared/notes/maya.md`` (section 8 unless said): Render keeps the scene's own value
for every flag it is not given, so what a task needs is given explicitly.

- ``-proj`` when the scene file lies inside the project root Maya has set (``project_flag`` None, the default; True:
  whenever the project is known; False: never). Without it the render host opens the scene in its own default
  project, where project-relative textures and the images folder resolve elsewhere (Autodesk: "use this Maya project
  to load the file"; Deadline and CGRU pass it on every task). A scene outside its project gets none: that project is
  most likely the artist's own default one, which a render host cannot open (preflight warns).
- ``-rl`` (3Delight: ``-lr``) when the scene has more than one rendering layer: Render would otherwise render them
  all. It takes the legacy layer node (``defaultRenderLayer``, ``rs_<name>``), not the display name (section 2).
- ``-cam`` when the layer's renderable cameras are not exactly the subjob's one camera (section 2).
- ``-im`` when the scene's image prefix would let two tasks write one file: with several rendering layers it must
  hold ``<Layer>``/``<RenderLayer>``/``%l``, with several cameras ``<Camera>``/``%c``; missing tokens are put in front
  as folders, the way AWS Deadline Cloud does (``<Layer>/<Camera>/<prefix>``, an empty prefix being ``<Scene>``). Maya
  adds such folders by itself only when the scene has several renderable layers or cameras, and whether
  ``Render -cam`` counts the others is not documented. For renderers that name images elsewhere (``renderers``:
  no ``image_flag``) the build is refused instead, saying how to fix the prefix.
- ``-s``/``-e`` on every task, and ``-b`` (3Delight: ``-inc``) on every task of several frames, ``-b 1`` too: a
  scene whose step is 2 would otherwise render 1 and 3 of a task ``-s 1 -e 3`` and never frame 2.
- No frame flag at all for a still (animation off in the render globals, no ``frames`` option): Render then renders
  the scene's current frame, and the image has no frame number, as Deadline sends it. A frame list given on a still
  renders numbered frames (a start frame turns animation on: Deadline's MayaBatch ``GetStartFrameCommand``).

The frames of a layer: the ``frames`` option; else V-Ray's "Specific frames" list (``vraySettings.animType`` 2, as
the artist wrote it: ``1-3;10``); else the render globals' range and step; else (animation off) the current frame.

A chunk of frames (``frames_per_task`` > 1) is one frame entry keyed by its first frame, with ``last_frame`` (and
``frame_step`` when above 1) recording the rest; chunks never break a step (see ``frames.chunk``).

The job carries the farm fields of CONTRACT section 6 when given: ``requires`` (host tags), ``limits`` ({name:
units}), ``depends_on`` (job names), ``paused``, ``comment``, ``max_attempts`` (1 to 1000), ``frame_timeout``
(seconds above 0); and always ``user``, the submitter's login (``getpass.getuser()`` unless given).
"""
from __future__ import annotations

import os
import re
import shlex
import time
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from . import frames as _frames
from . import renderers as _renderers
from .errors import FrameListError, SubmitError
from .farm_fields import (
    MAX_ATTEMPTS,
    MAX_NAME,
    Names,
    _names,
    check_comment,
    check_depends_on,
    check_frame_timeout,
    check_limits,
    check_name,
    check_number,
    check_paused,
    check_tags,
    login,
)
from .farm_fields import word as _word
from .scene import CameraInfo, LayerInfo, SceneInfo

__all__ = ["Subjob", "build_job", "plan_subjobs", "layer_frames", "is_still", "wanted_frames", "select_layers",
           "select_cameras", "renderer_for", "frame_argv", "command_string", "default_job_name", "check_name",
           "check_number", "check_tags", "check_limits", "check_depends_on", "check_frame_timeout", "check_comment",
           "check_paused", "scene_in_project", "project_for", "unique_prefix", "image_naming", "login", "PROGRAM",
           "MAX_NAME", "MAX_ATTEMPTS", "LAYER_TOKENS", "CAMERA_TOKENS"]

#: The program name a frame starts with: the node maps it to Maya's Render (CONTRACT section 3).
PROGRAM = "render"
#: Image prefix tokens that make a name differ per layer, and per camera (DCM renderers.py; DL ForceRenderLayerToken).
LAYER_TOKENS = ("<layer>", "<renderlayer>", "%l")
CAMERA_TOKENS = ("<camera>", "%c")

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
    image_prefix: Optional[str] = None  # add -im with this prefix
    still: bool = False  # no frame flags: the scene's current frame, without a frame number


def default_job_name(scene_path: str, now: Optional[float] = None) -> str:
    """``"<scene file name without extension>_YYYY-MM-DD_HH-MM"`` in local time, e.g.
    ``shot010_v003_2026-11-25_14-03``: no spaces and no colons (they need quoting in shells and are refused in Windows
    file names), spaces and colons of the file name becoming ``_``."""
    base = os.path.basename((scene_path or "").replace("\\", "/").rstrip("/"))
    stem = re.sub(r"[\s:]+", "_", os.path.splitext(base)[0]).strip("_") or "untitled"
    stamp = time.strftime("%Y-%m-%d_%H-%M", time.localtime(time.time() if now is None else now))
    return "%s_%s" % (stem[:MAX_NAME - len(stamp) - 1], stamp)


def command_string(argv: Sequence[str]) -> str:
    """``argv`` as one string that POSIX shell-word splitting (``shlex.split``) turns back into exactly ``argv``."""
    return " ".join(shlex.quote(str(a)) for a in argv)


def is_still(layer: LayerInfo) -> bool:
    """The layer renders one image of the current frame: animation off, and no V-Ray frame list."""
    return not layer.animation and layer.frame_list is None


def layer_frames(scene: SceneInfo, layer: LayerInfo) -> List[int]:
    """The frames a layer renders by its own settings: V-Ray's specific frames, else start to end by step, else the
    current frame when the animation flag is off. Fractional values are rounded (preflight warns about them); a step
    below 1 counts as 1."""
    if layer.frame_list is not None:
        return _frames.parse_vray_frames(layer.frame_list)
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


def select_layers(scene: SceneInfo, layers: Names = None) -> List[LayerInfo]:
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


def select_cameras(layer: LayerInfo, cameras: Names = None) -> List[CameraInfo]:
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


def _norm_path(path: str) -> Tuple[str, bool]:
    """(a path with ``/`` separators and no trailing one, whether it is a Windows path: compared ignoring case)."""
    p = (path or "").replace("\\", "/")
    windows = bool(re.match(r"^[A-Za-z]:", p)) or p.startswith("//")
    return p.rstrip("/"), windows


def scene_in_project(scene_path: str, project: str) -> bool:
    """Whether the scene file lies inside the project root (whole path components; Windows paths in any case)."""
    path, win_path = _norm_path(scene_path)
    root, win_root = _norm_path(project)
    if not path or not root:
        return False
    if win_path or win_root:
        path, root = path.lower(), root.lower()
    return path.startswith(root + "/")


def project_for(scene: SceneInfo, project_flag: Optional[bool] = None) -> Optional[str]:
    """The ``-proj`` value for this scene: see the module docstring; None for no ``-proj``."""
    if project_flag is False or not scene.project:
        return None
    if project_flag is True or scene_in_project(scene.path, scene.project):
        return scene.project
    return None


def _has_token(prefix: str, tokens: Sequence[str]) -> bool:
    low = prefix.lower()
    return any(token in low for token in tokens)


def unique_prefix(prefix: str, by_layer: bool, by_camera: bool) -> str:
    """``prefix`` ('' is ``<Scene>``) with ``<Layer>`` / ``<Camera>`` folders put in front where their tokens are
    missing, as AWS Deadline Cloud does: ``unique_prefix("", True, True) == "<Layer>/<Camera>/<Scene>"``."""
    base = prefix or "<Scene>"
    sections = base.split("/")
    if by_camera and not _has_token(base, CAMERA_TOKENS):
        sections.insert(0, "<Camera>")
    if by_layer and not _has_token(base, LAYER_TOKENS):
        sections.insert(0, "<Layer>")
    return "/".join(sections)


def image_naming(layer: LayerInfo, renderer: _renderers.Renderer, by_layer: bool,
                 by_camera: bool) -> Tuple[Optional[str], Optional[str]]:
    """(the ``-im`` prefix a layer's tasks need or None, why the scene cannot be rendered without images overwriting
    each other or None). ``by_layer``: the scene renders several layers; ``by_camera``: this layer several cameras."""
    wanted = unique_prefix(layer.prefix, by_layer, by_camera)
    if wanted == (layer.prefix or "<Scene>"):
        return None, None
    if renderer.image_flag:
        return wanted, None
    missing = [token for needed, token, tokens in ((by_layer, "<Layer>", LAYER_TOKENS),
                                                   (by_camera, "<Camera>", CAMERA_TOKENS))
               if needed and not _has_token(layer.prefix or "<Scene>", tokens)]
    what = " and ".join(("several render layers" if t == "<Layer>" else "several cameras") for t in missing)
    setting = "its File Name Prefix" if renderer.name == "vray" else "the image file name prefix"
    return None, ("render layer %s renders %s, but the image prefix %r has no %s, so their images would overwrite "
                  "each other; the farm cannot change %s's image names on the command line. Add %s to %s in the "
                  "Render Settings (for example %s)"
                  % (layer.name, what, layer.prefix or "<Scene>", " or ".join(missing), renderer.label,
                     " and ".join(missing), setting, wanted))


def _unique(name: str, taken: set) -> str:
    name = name.replace("/", "_")[:MAX_NAME]
    candidate, n = name, 2
    while candidate in taken:
        suffix = "_%d" % n
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        n += 1
    taken.add(candidate)
    return candidate


def plan_subjobs(scene: SceneInfo, frames: FramesOption = None, layers: Names = None, cameras: Names = None,
                 renderer: Optional[str] = None) -> List[Subjob]:
    """The subjobs a submission makes, in order. SubmitError (or FrameListError) for anything that cannot render:
    an unknown layer, camera or renderer, a layer without a camera, a frame list that renders nothing, images that
    would overwrite each other."""
    if scene.ignored_legacy:
        # Maya renders such a scene as masterLayer over and over, whatever the command says (AWS DCM PR #388).
        raise SubmitError("the scene has legacy render layers (%s) while Maya runs in Render Setup mode, which "
                          "ignores them: convert them to Render Setup layers or switch Maya to legacy render layers"
                          % ", ".join(l.name for l in scene.ignored_legacy))
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
        still = wanted is None and is_still(layer)
        layer_frame_list = wanted if wanted is not None else layer_frames(scene, layer)
        if not layer_frame_list:
            raise FrameListError("the render layer %r renders no frame (its range is %g-%g)"
                                 % (layer.name, layer.start, layer.end))
        split = len(cams) > 1
        default_cams = [c.name for c in layer.renderable_cameras]
        prefix, problem = image_naming(layer, engine, several_layers, split or len(default_cams) > 1)
        if problem:
            raise SubmitError(problem)
        for cam in cams:
            name = "%s_%s" % (layer.name, cam.name) if split else layer.name
            plan.append(Subjob(
                name=_unique(name, taken), layer=layer, camera=cam, renderer=engine, frames=list(layer_frame_list),
                use_layer_flag=several_layers, use_camera_flag=default_cams != [cam.name], image_prefix=prefix,
                still=still))
    return plan


def frame_argv(scene_path: str, renderer: _renderers.Renderer, first: int, last: int, step: int = 1,
               layer: Optional[str] = None, camera: Optional[str] = None, project: Optional[str] = None,
               program: str = PROGRAM, image: Optional[str] = None, still: bool = False) -> List[str]:
    """The argument list of one task (see the module docstring for the order and the reason for each flag)."""
    argv = [program, "-r", renderer.flag] + list(renderer.args)
    if project:
        argv += ["-proj", project]
    if layer:
        argv += [renderer.layer_flag, layer]
    if camera:
        argv += [renderer.camera_flag, camera]
    if image:
        if not renderer.image_flag:
            raise SubmitError("%s cannot be given image names on the command line" % renderer.label)
        argv += [renderer.image_flag, image]
    if not still:
        argv += ["-s", str(first), "-e", str(last)]
        if first != last:
            argv += [renderer.step_flag, str(step)]
    argv.append(scene_path)
    return argv


def build_job(scene: SceneInfo, frames: FramesOption = None, layers: Names = None, cameras: Names = None,
              renderer: Optional[str] = None, name: Optional[str] = None, priority: Optional[int] = None,
              frames_per_task: int = 1, max_attempts: Optional[int] = None, project_flag: Optional[bool] = None,
              requires: Names = None, limits: Optional[Mapping[str, int]] = None, depends_on: Names = None,
              paused: Optional[bool] = None, comment: Optional[str] = None, frame_timeout: Optional[float] = None,
              user: Optional[str] = None, program: str = PROGRAM,
              now: Optional[float] = None) -> Dict[str, Dict[str, Any]]:
    """The job dictionary ``{job name: job}`` for a scene (CONTRACT sections 1, 5 and 6). Frame keys are ints.

    Options as in ``submit.job_from_scene``; ``now`` (epoch seconds) stamps the default name. Raises SubmitError /
    FrameListError when the scene or the options cannot make a job.
    """
    if scene.untitled:
        raise SubmitError("the scene has never been saved: save it so the farm has a file to render")
    job_name = check_name(name, "job") if name is not None else default_job_name(scene.path, now)
    size = check_number(frames_per_task, "frames per task", 1)
    farm = _farm_fields(job_name, priority, max_attempts, requires, limits, depends_on, paused, comment,
                        frame_timeout)
    plan = plan_subjobs(scene, frames=frames, layers=layers, cameras=cameras, renderer=renderer)
    project = project_for(scene, project_flag)

    subjobs = {}  # type: Dict[str, Dict[str, Any]]
    for sub in plan:
        frame_dict = {}  # type: Dict[int, Dict[str, Any]]
        tasks = [[sub.frames[0]]] if sub.still else _frames.chunk(sub.frames, size)
        for task in tasks:
            first, last = task[0], task[-1]
            step = task[1] - task[0] if len(task) > 1 else 1
            argv = frame_argv(scene.path, sub.renderer, first, last, step,
                              layer=sub.layer.node if sub.use_layer_flag else None,
                              camera=sub.camera.name if sub.use_camera_flag else None,
                              project=project, program=program, image=sub.image_prefix, still=sub.still)
            entry = {"command": command_string(argv), "argv": argv}  # type: Dict[str, Any]
            if len(task) > 1:
                entry["last_frame"] = last
                if step != 1:
                    entry["frame_step"] = step
            frame_dict[first] = entry
        body = {"layer": sub.layer.name, "layer_node": sub.layer.node, "camera": sub.camera.name,
                "renderer": sub.renderer.flag, "frames": frame_dict}  # type: Dict[str, Any]
        if sub.image_prefix:
            body["image_prefix"] = sub.image_prefix
        if sub.still:
            body["still"] = True
        subjobs[sub.name] = body

    flags = sorted(set(sub.renderer.flag for sub in plan))
    job = {
        "scene": scene.path,
        "renderer": flags[0] if len(flags) == 1 else ",".join(flags),
        "maya_version": scene.maya_version,
        "project": scene.project,
        "output": scene.output,
        "user": _word(user, "the user") if user is not None else login(),
        "subjobs": subjobs,
    }  # type: Dict[str, Any]
    job.update(farm)
    return {job_name: job}


def _farm_fields(job_name: str, priority: Optional[int], max_attempts: Optional[int], requires: Names,
                 limits: Optional[Mapping[str, int]], depends_on: Names, paused: Optional[bool],
                 comment: Optional[str], frame_timeout: Optional[float]) -> Dict[str, Any]:
    """The job keys of CONTRACT section 6 that were given, checked; keys left out keep the farm's defaults."""
    out = {}  # type: Dict[str, Any]
    if priority is not None:
        out["priority"] = check_number(priority, "priority", 0, 100)
    if max_attempts is not None:
        out["max_attempts"] = check_number(max_attempts, "max attempts", 1, MAX_ATTEMPTS)
    if requires is not None and check_tags(requires):
        out["requires"] = check_tags(requires)
    if limits is not None and check_limits(limits):
        out["limits"] = check_limits(limits)
    if depends_on is not None and check_depends_on(depends_on, job_name):
        out["depends_on"] = check_depends_on(depends_on, job_name)
    if paused is not None and check_paused(paused):
        out["paused"] = True
    if comment is not None and check_comment(comment).strip():
        out["comment"] = comment.strip()
    if frame_timeout is not None:
        out["frame_timeout"] = check_frame_timeout(frame_timeout)
    return out
