"""What the Submit button does: read the open scene, check it, build the job, send it (CONTRACT section 5).

    preflight(**options) -> [Check, ...]            what the dialog shows before the job leaves
    job_from_scene(**options) -> job dictionary     raises PreflightFailed when an error-severity check fails
    submit_scene(url, token=None, **options) -> job name

Options (all optional, the same for the three):

- what renders: ``frames`` (a frame list such as ``"1-100x2,150"`` or a list of ints; default each layer's own:
  V-Ray's specific frames, else the render globals' range, else the current frame of a still), ``layers`` (names, node
  or display; default every layer that renders), ``cameras`` (transform names; default each layer's renderable
  cameras), ``renderer`` (the ``-r`` value, or a render globals name; default each layer's own), ``frames_per_task``
  (default 1), ``project_flag`` (``-proj <project root>``: None, the default, when the scene lies in its project; True
  always; False never; see ``builder``);
- the job: ``name`` (default ``"<scene file name>_<YYYY-MM-DD>_<HH-MM>"``), ``priority`` (0-100), ``max_attempts``
  (1-1000), and the farm fields of CONTRACT section 6: ``requires`` (host tags), ``limits`` ({name: units}),
  ``depends_on`` (job names), ``paused`` (bool), ``comment`` (text), ``frame_timeout`` (seconds above 0), ``user``
  (default the login, ``getpass.getuser()``; the job always carries it);
- the checks: ``local_prefixes`` (for the local output check, see ``preflight``), ``scene`` (a ``SceneInfo``
  already read; default: read the open scene now) and ``now`` (epoch seconds for the default name).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from . import builder as _builder
from . import preflight as _preflight
from .errors import FarmConflict, PreflightFailed, SubmitError
from .preflight import Check
from .scene import SceneInfo, read_scene

__all__ = ["preflight", "job_from_scene", "submit_scene", "MAX_RENAMES"]

#: How many times submit_scene retries with a numbered name when its default name is taken on the farm.
MAX_RENAMES = 20


Names = Union[None, str, Iterable[str]]
Frames = Union[None, str, Iterable[int]]

#: (option, code, check) for the job options that are checked before the scene is (errors, named by option).
_OPTION_CHECKS = (
    ("name", "bad_name", lambda v: _builder.check_name(v, "job")),
    ("priority", "bad_priority", lambda v: _builder.check_number(v, "priority", 0, 100)),
    ("frames_per_task", "bad_frames_per_task", lambda v: _builder.check_number(v, "frames per task", 1)),
    ("max_attempts", "bad_max_attempts",
     lambda v: _builder.check_number(v, "max attempts", 1, _builder.MAX_ATTEMPTS)),
    ("requires", "bad_requires", _builder.check_tags),
    ("limits", "bad_limits", _builder.check_limits),
    ("depends_on", "bad_depends_on", _builder.check_depends_on),
    ("paused", "bad_paused", _builder.check_paused),
    ("comment", "bad_comment", _builder.check_comment),
    ("frame_timeout", "bad_frame_timeout", _builder.check_frame_timeout),
)


def preflight(frames: Frames = None, layers: Names = None, cameras: Names = None, renderer: Optional[str] = None,
              name: Optional[str] = None, priority: Optional[int] = None, frames_per_task: int = 1,
              max_attempts: Optional[int] = None, project_flag: Optional[bool] = None, requires: Names = None,
              limits: Optional[Mapping[str, int]] = None, depends_on: Names = None, paused: Optional[bool] = None,
              comment: Optional[str] = None, frame_timeout: Optional[float] = None, user: Optional[str] = None,
              local_prefixes: Optional[Iterable[str]] = None, scene: Optional[SceneInfo] = None,
              now: Optional[float] = None) -> List[Check]:
    """Every pre-flight finding for the open scene (or ``scene``) and these options; errors first.

    Besides the scene checks (see ``preflight``), the options are checked: ``bad_name``, ``bad_priority``,
    ``bad_frames_per_task``, ``bad_max_attempts``, ``bad_requires``, ``bad_limits``, ``bad_depends_on`` (a bad name,
    or the job itself), ``bad_paused``, ``bad_comment``, ``bad_frame_timeout`` (errors). ``user`` and ``now`` are
    accepted and unused, so the dialog can pass one set of options to all three functions.
    Raises SceneError when the scene cannot be read.
    """
    info = scene if scene is not None else read_scene()
    checks = _preflight.run_checks(info, frames=frames, layers=layers, cameras=cameras, renderer=renderer,
                                   local_prefixes=local_prefixes, project_flag=project_flag)
    given = {"name": name, "priority": priority, "frames_per_task": frames_per_task, "max_attempts": max_attempts,
             "requires": requires, "limits": limits, "depends_on": depends_on, "paused": paused, "comment": comment,
             "frame_timeout": frame_timeout}
    job_name = name if isinstance(name, str) else (_builder.default_job_name(info.path, now) if info.path else None)
    for option, code, check in _OPTION_CHECKS:
        value = given[option]
        if value is not None:
            try:
                if option == "depends_on":
                    _builder.check_depends_on(value, job_name)
                else:
                    check(value)
            except SubmitError as exc:
                checks.append(Check(_preflight.ERROR, code, "%s." % (str(exc)[:1].upper() + str(exc)[1:])))
    order = {_preflight.ERROR: 0, _preflight.WARNING: 1, _preflight.INFO: 2}
    return sorted(checks, key=lambda c: order.get(c.severity, 3))


def job_from_scene(frames: Frames = None, layers: Names = None, cameras: Names = None,
                   renderer: Optional[str] = None, name: Optional[str] = None, priority: Optional[int] = None,
                   frames_per_task: int = 1, max_attempts: Optional[int] = None, project_flag: Optional[bool] = None,
                   requires: Names = None, limits: Optional[Mapping[str, int]] = None, depends_on: Names = None,
                   paused: Optional[bool] = None, comment: Optional[str] = None,
                   frame_timeout: Optional[float] = None, user: Optional[str] = None,
                   local_prefixes: Optional[Iterable[str]] = None, scene: Optional[SceneInfo] = None,
                   now: Optional[float] = None) -> Dict[str, Dict[str, Any]]:
    """The job dictionary ``{name: job}`` for the open scene (or ``scene``), frame keys as ints.

    Raises PreflightFailed (a SubmitError, with ``.checks``) listing the blocking checks, FrameListError /
    SubmitError for options that cannot make a job, SceneError when Maya cannot read the scene.
    """
    info = scene if scene is not None else read_scene()
    options = dict(frames=frames, layers=layers, cameras=cameras, renderer=renderer, name=name, priority=priority,
                   frames_per_task=frames_per_task, max_attempts=max_attempts, project_flag=project_flag,
                   requires=requires, limits=limits, depends_on=depends_on, paused=paused, comment=comment,
                   frame_timeout=frame_timeout, user=user)
    checks = preflight(local_prefixes=local_prefixes, scene=info, now=now, **options)
    blocking = _preflight.errors(checks)
    if blocking:
        raise PreflightFailed("The job cannot be submitted:\n" + "\n".join("- " + c.message for c in blocking),
                              checks)
    return _builder.build_job(info, now=now, **options)


def submit_scene(url: str, token: Optional[str] = None, client: Any = None, **options: Any) -> str:
    """Builds the job for the open scene and sends it to the farm node at ``url``; returns the job's name.

    When no ``name`` was given and the default one is taken on the farm (two submissions in one minute), the job is
    sent again as ``"<name>_2"``, ``_3``... ``client`` (anything with ``submit(job) -> names``) replaces the
    ``FarmClient(url, token)`` this would make. Raises what job_from_scene raises, and FarmError subclasses.
    """
    job = job_from_scene(**options)
    if client is None:
        from .farm_client import FarmClient
        client = FarmClient(url, token)
    (name, body), = job.items()
    attempt = 1
    while True:
        candidate = name if attempt == 1 else "%s_%d" % (name, attempt)
        try:
            names = client.submit({candidate: body})
        except FarmConflict:
            if options.get("name") is not None or attempt > MAX_RENAMES:
                raise
            attempt += 1
            continue
        return names[0] if names else candidate
