"""Where the Submit dialog gets its scene from: a "scene source" object handed to it.

A scene source has four methods. Only ``snapshot`` reads the scene, on the GUI thread (Maya's commands only work
there; reading switches render layers, so the dialog does it when it opens, on "Re-read scene" and once more at
Submit, not at every keystroke). The others work on what it read, so ``submit`` can run on a worker thread with the
network call:

    snapshot() -> scene state                       the scene read now (``maya_plugin.scene.SceneInfo`` in Maya)
    describe(snapshot) -> SceneSummary              what the form lists: layers, cameras, renderer, defaults
    preflight(snapshot, **options) -> [Check]       the pre-flight findings (``maya_plugin.preflight.Check``)
    submit(client, snapshot, **options) -> name     builds the job and sends it with ``client``; raises SubmitError
                                                    (PreflightFailed, FrameListError, ...) or FarmError

Options are those of ``maya_plugin.submit.job_from_scene``; an option left at the scene's default is not passed, so
each layer keeps its own frame range and cameras.

``MayaSceneSource`` goes through ``maya_plugin.submit`` and ``maya_plugin.scene`` (the only readers of ``maya.cmds``):
its ``submit`` is ``submit.submit_scene`` on the snapshot, which also renames a default job name taken on the farm.
``StaticSceneSource`` serves a fixed description and a job-building callable (tests, and the dialog outside Maya).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

__all__ = ["SceneSummary", "MayaSceneSource", "StaticSceneSource"]


class SceneSummary(NamedTuple):
    """What the Submit dialog shows of a scene before the artist changes anything."""

    path: str  # the scene file ('' when untitled)
    default_name: str  # the job name used when the field is left empty
    default_frames: str  # a frame list, for the placeholder ("1-10"; per layer when they differ)
    layers: Tuple[Tuple[str, bool], ...]  # (name, checked by default)
    cameras: Tuple[Tuple[str, bool], ...]  # (transform name, renderable by default)
    renderer: str  # the scene's renderer (render globals name, e.g. "arnold")
    renderers: Tuple[Tuple[str, str], ...]  # (render globals name, label) the farm knows


class MayaSceneSource(object):
    """The open Maya scene (through ``maya_plugin.submit``)."""

    def describe(self, info: Any) -> SceneSummary:
        from maya_plugin import builder, frames, renderers
        from maya_plugin.errors import SubmitError
        per_layer = []  # type: List[str]
        for layer in info.layers:
            try:
                listed = frames.format_frames(builder.layer_frames(info, layer))
            except SubmitError:  # a V-Ray list that does not read: the pre-flight checks say why
                listed = "?"
            per_layer.append("%s (a still: no frame number)" % listed if builder.is_still(layer) else listed)
        default_frames = per_layer[0] if len(set(per_layer)) == 1 else "each layer's own frames"
        cameras = {}  # type: Dict[str, bool]
        for layer in info.layers:
            for camera in layer.cameras:
                cameras[camera.name] = cameras.get(camera.name, False) or camera.renderable
        default_name = builder.default_job_name(info.path) if info.path else ""
        return SceneSummary(
            path=info.path, default_name=default_name, default_frames=default_frames or "",
            layers=tuple((layer.name, True) for layer in info.layers),
            cameras=tuple(sorted(cameras.items(), key=lambda kv: (not kv[1], kv[0]))),
            renderer=info.renderer,
            renderers=tuple((r.name, r.label) for r in renderers.RENDERERS.values()))

    def snapshot(self) -> Any:
        from maya_plugin import scene
        return scene.read_scene()

    def preflight(self, snapshot: Any, **options: Any) -> List[Any]:
        from maya_plugin import submit
        return submit.preflight(scene=snapshot, **options)

    def submit(self, client: Any, snapshot: Any, **options: Any) -> str:
        from maya_plugin import submit
        return submit.submit_scene(client.url, client.token, client=client, scene=snapshot, **options)


class StaticSceneSource(object):
    """A fixed scene description; ``build(**options)`` makes the job dictionary, ``checks(**options)`` the findings."""

    def __init__(self, summary: SceneSummary, build: Callable[..., Dict[str, Any]],
                 checks: Optional[Callable[..., Sequence[Any]]] = None) -> None:
        self.summary = summary
        self._build = build
        self._checks = checks
        self.calls = []  # type: List[Tuple[str, Dict[str, Any]]]

    def describe(self, snapshot: Any) -> SceneSummary:
        return self.summary

    def snapshot(self) -> Any:
        return self.summary

    def preflight(self, snapshot: Any, **options: Any) -> List[Any]:
        self.calls.append(("preflight", dict(options)))
        return list(self._checks(**options)) if self._checks else []

    def submit(self, client: Any, snapshot: Any, **options: Any) -> str:
        self.calls.append(("submit", dict(options)))
        job = self._build(**options)
        names = client.submit(job)
        return names[0] if names else next(iter(job))
