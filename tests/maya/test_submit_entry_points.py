"""maya_plugin.submit: preflight, job_from_scene and submit_scene (CONTRACT section 5) on the fake Maya."""
from __future__ import annotations

import getpass
import time

import pytest

from maya import _scenes
from maya_plugin import submit
from maya_plugin.errors import FarmConflict, FarmUnavailable, PreflightFailed, SceneError, SubmitError

NOW = time.mktime((2026, 11, 25, 14, 3, 0, 0, 0, -1))


class RecordingClient(object):
    """Stands in for FarmClient.submit: records jobs; names in ``taken`` answer 409 as the node does."""

    def __init__(self, taken=()):
        self.taken = set(taken)
        self.sent = []

    def submit(self, job):
        self.sent.append(job)
        (name,) = job
        if name in self.taken:
            raise FarmConflict("a job named %s already exists" % name, status=409)
        self.taken.add(name)
        return [name]


def test_job_from_scene_reads_the_open_scene(maya_scene):
    maya_scene("mental_ray_2016")
    jobs = submit.job_from_scene(frames="1-3", name="Job1", priority=60)
    frames = jobs["Job1"]["subjobs"]["masterLayer"]["frames"]
    assert [frames[f]["command"] for f in sorted(frames)] == [
        "render -r mr -v 5 -proj /projects/demo/ -s %d -e %d /projects/demo/scenes/scene.mb" % (f, f)
        for f in (1, 2, 3)]
    assert jobs["Job1"]["priority"] == 60
    assert jobs["Job1"]["user"] == getpass.getuser()


def test_default_options_use_the_render_globals(maya_scene):
    maya_scene("legacy_layers")
    (name, job), = submit.job_from_scene(now=NOW).items()
    assert name == "shot010_lighting_v003_2026-11-25_14-03"
    assert sorted(job["subjobs"]["beauty"]["frames"]) == list(range(1, 11))
    assert sorted(job["subjobs"]["shadow"]["frames"]) == [5, 6, 7, 8]


def test_blocking_checks_raise_with_every_finding(maya_scene):
    maya_scene("untitled")
    with pytest.raises(PreflightFailed) as info:
        submit.job_from_scene()
    error = info.value
    assert isinstance(error, SubmitError)
    assert str(error) == ("The job cannot be submitted:\n"
                          "- The scene has never been saved. Save it where the render nodes can read it.")
    assert [c.code for c in error.checks] == ["untitled", "default_cameras_only", "local_output", "still"]


def test_mental_ray_on_a_new_maya_is_refused_before_sending(maya_scene):
    maya_scene(_scenes.variant(_scenes.MENTAL_RAY_2016, version="2022", plugins=[]))
    client = RecordingClient()
    with pytest.raises(PreflightFailed) as info:
        submit.submit_scene("http://127.0.0.1:1", client=client)
    assert "mental ray" in str(info.value)
    assert client.sent == []


def test_preflight_lists_errors_first_and_checks_options(maya_scene):
    maya_scene(_scenes.variant(_scenes.MENTAL_RAY_2016, modified=True))
    checks = submit.preflight(name="a/b", priority=500, frames_per_task=0, max_attempts=0, frames="x0")
    assert [(c.severity, c.code) for c in checks] == [
        ("error", "bad_frames"), ("error", "bad_name"), ("error", "bad_priority"),
        ("error", "bad_frames_per_task"), ("error", "bad_max_attempts"), ("warning", "unsaved")]
    assert submit.preflight(name="ok", priority=50, frames="1-2") == [checks[-1]]


def test_the_farm_options_are_checked_and_carried(maya_scene):
    maya_scene("mental_ray_2016")
    checks = submit.preflight(name="lit", requires=["gpu,cpu"], limits={"arnold": 0}, depends_on=["lit"],
                              paused="no", comment=3, frame_timeout=-5, max_attempts=5000)
    assert [(c.severity, c.code) for c in checks] == [
        ("error", "bad_max_attempts"), ("error", "bad_requires"), ("error", "bad_limits"), ("error", "bad_depends_on"),
        ("error", "bad_paused"), ("error", "bad_comment"), ("error", "bad_frame_timeout")]
    assert "cannot depend on itself" in checks[3].message
    with pytest.raises(PreflightFailed):
        submit.job_from_scene(name="lit", frame_timeout=0)
    client = RecordingClient()
    name = submit.submit_scene("http://farm", client=client, name="lit", requires=["gpu"], limits={"arnold": 1},
                               depends_on=["sim"], paused=True, comment="v2", max_attempts=4, frame_timeout=600.5,
                               user="artist", frames="1")
    job = client.sent[0][name]
    assert dict((k, job[k]) for k in ("requires", "limits", "depends_on", "paused", "comment", "max_attempts",
                                      "frame_timeout", "user")) == {
        "requires": ["gpu"], "limits": {"arnold": 1}, "depends_on": ["sim"], "paused": True, "comment": "v2",
        "max_attempts": 4, "frame_timeout": 600.5, "user": "artist"}


def test_a_scene_already_read_can_be_passed(maya_scene):
    maya_scene("two_cameras")
    from maya_plugin.scene import read_scene
    info = read_scene()
    maya_scene("untitled")  # the open scene changed; the given description is used
    jobs = submit.job_from_scene(scene=info, name="stereo")
    assert sorted(jobs["stereo"]["subjobs"]) == ["masterLayer_cam:main", "masterLayer_witness"]


def test_submit_scene_returns_the_name(maya_scene):
    maya_scene("mental_ray_2016")
    client = RecordingClient()
    assert submit.submit_scene("http://farm:8765", client=client, name="Job1", frames="1") == "Job1"
    assert list(client.sent[0]) == ["Job1"]


def test_a_taken_default_name_is_numbered(maya_scene):
    maya_scene("mental_ray_2016")
    client = RecordingClient(taken=["scene_2026-11-25_14-03", "scene_2026-11-25_14-03_2"])
    assert submit.submit_scene("http://farm", client=client, now=NOW) == "scene_2026-11-25_14-03_3"
    assert [list(j)[0] for j in client.sent] == ["scene_2026-11-25_14-03", "scene_2026-11-25_14-03_2",
                                                 "scene_2026-11-25_14-03_3"]


def test_a_taken_chosen_name_is_an_error(maya_scene):
    maya_scene("mental_ray_2016")
    client = RecordingClient(taken=["Job1"])
    with pytest.raises(FarmConflict):
        submit.submit_scene("http://farm", client=client, name="Job1")
    assert len(client.sent) == 1


def test_submit_scene_uses_farm_client(maya_scene):
    """Without a client, submit_scene makes a FarmClient; an unreachable node is FarmUnavailable."""
    maya_scene("mental_ray_2016")
    with pytest.raises(FarmUnavailable):
        submit.submit_scene("http://127.0.0.1:9", token="t", name="nowhere")


def test_no_maya_is_a_scene_error(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "maya.cmds", None)
    with pytest.raises(SceneError):
        submit.job_from_scene()
    with pytest.raises(SceneError):
        submit.preflight()
