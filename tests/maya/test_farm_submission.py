"""Jobs built from fake scenes, submitted to a REAL farm node (stand-in Render as ``render``), rendered to the end.

Uses the ``farm_node_server`` fixture of tests/conftest.py: ``farm-node serve`` on 127.0.0.1 in its own process, so
these tests run from Python 3.7 as well.
"""
from __future__ import annotations

import os
import time
import uuid

import pytest

from maya import _scenes
from maya_plugin import submit
from maya_plugin.farm_client import FarmClient


def wait_complete(client, name, timeout=90.0):
    deadline = time.time() + timeout
    job = client.job(name)
    while time.time() < deadline:
        job = client.job(name)
        if job["status"] in ("Complete", "Failed", "Cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError("job %s did not finish in %ss: %r" % (name, timeout, job["status"]))


def scene_file(tmp_path, folder, base):
    path = tmp_path / folder / "scenes" / base
    path.parent.mkdir(parents=True)
    path.write_text("//Maya ASCII 2023 scene\n")
    return str(path)


def pngs(root):
    found = []
    for folder, _dirs, files in os.walk(root):
        found.extend(os.path.join(folder, f) for f in files if f.endswith(".png"))
    return found


def test_the_original_design_job_renders_on_a_real_node(maya_scene, farm_node_server, tmp_path):
    path = scene_file(tmp_path, "it's a \"farm\" test", "shot 010.mb")
    maya_scene(_scenes.variant(_scenes.MENTAL_RAY_2016, file=path))
    name = "original-%s" % uuid.uuid4().hex[:8]
    assert submit.submit_scene(farm_node_server.url, farm_node_server.token, name=name) == name

    job = wait_complete(FarmClient(farm_node_server.url, farm_node_server.token), name)
    assert job["status"] == "Complete"
    assert job["frames"]["complete"] == 3 and job["frames"]["total"] == 3
    assert job["scene"] == path and job["renderer"] == "mr" and job["maya_version"] == "2016"
    sub = job["subjobs"]["masterLayer"]
    assert sub["layer"] == "masterLayer" and sub["camera"] == "camera1"
    for frame in (1, 2, 3):
        entry = sub["frames"][frame]
        assert entry["status"] == "Complete"
        assert entry["argv"] == ["render", "-r", "mr", "-v", "5", "-s", str(frame), "-e", str(frame), path]
        assert entry["command"] == "render -r mr -v 5 -s %d -e %d '%s'" % (
            frame, frame, path.replace("'", "'\"'\"'"))
        assert "completed" in entry["stdout"]
    assert len(pngs(os.path.join(os.path.dirname(path), "images"))) == 3


def test_layers_cameras_and_chunks_render_on_a_real_node(maya_scene, farm_node_server, tmp_path):
    path = scene_file(tmp_path, "layers", "layers.ma")
    maya_scene(_scenes.variant(_scenes.RENDER_SETUP_LAYERS, file=path))
    name = submit.submit_scene(farm_node_server.url, farm_node_server.token, frames="1-3",
                               layers=["masterLayer", "renderSetupLayer2", "layerDefaultFrames"], frames_per_task=2,
                               name="layers-%s" % uuid.uuid4().hex[:8])
    job = wait_complete(FarmClient(farm_node_server.url, farm_node_server.token), name)
    assert job["status"] == "Complete"
    assert sorted(job["subjobs"]) == ["layerDefaultFrames", "masterLayer_camera1", "masterLayer_persp",
                                      "renderSetupLayer2_camera1", "renderSetupLayer2_camera2",
                                      "renderSetupLayer2_camera3"]
    cam2 = job["subjobs"]["renderSetupLayer2_camera2"]
    assert sorted(cam2["frames"]) == [1, 3]
    assert cam2["frames"][1]["last_frame"] == 2
    assert cam2["frames"][1]["argv"] == ["render", "-r", "hw2", "-rl", "rs_renderSetupLayer2", "-cam", "camera2",
                                         "-s", "1", "-e", "2", "-b", "1", path]
    assert cam2["layer_node"] == "rs_renderSetupLayer2"
    # 6 subjobs x 3 frames, each a real image of its own (the -im prefixes name layer and camera).
    assert job["frames"]["complete"] == 12  # frame entries: chunks 1-2 and 3 per subjob
    assert len(set(pngs(os.path.join(os.path.dirname(path), "images")))) == 18


@pytest.mark.parametrize("spec,renderer", [(_scenes.TWO_CAMERAS, "arnold"), (_scenes.ANIMATION_OFF, "redshift"),
                                           (_scenes.REFERENCED_LAYER, "vray")])
def test_other_renderers_render_on_a_real_node(maya_scene, farm_node_server, tmp_path, spec, renderer):
    path = scene_file(tmp_path, renderer, "scene.ma")
    maya_scene(_scenes.variant(spec, file=path))
    name = submit.submit_scene(farm_node_server.url, farm_node_server.token,
                               name="%s-%s" % (renderer, uuid.uuid4().hex[:8]))
    job = wait_complete(FarmClient(farm_node_server.url, farm_node_server.token), name)
    assert job["status"] == "Complete", job
    assert job["renderer"] == renderer


def project_scene(tmp_path, base):
    """A scene inside its own Maya project (``<project>/scenes/<base>``): its tasks get -proj."""
    project = tmp_path / "project"
    path = project / "scenes" / base
    path.parent.mkdir(parents=True)
    path.write_text("//Maya ASCII 2023 scene\n")
    return str(project).replace("\\", "/") + "/", str(path)


def test_steps_projects_and_stills_render_on_a_real_node(maya_scene, farm_node_server, tmp_path):
    """Every task says its step and its project; a still renders one image into the project's images folder."""
    project, path = project_scene(tmp_path, "steps.mb")
    client = FarmClient(farm_node_server.url, farm_node_server.token)
    maya_scene(_scenes.variant(_scenes.STEP_TWO, file=path, project=project))
    name = submit.submit_scene(farm_node_server.url, farm_node_server.token, frames="1-6", frames_per_task=3,
                               name="steps-%s" % uuid.uuid4().hex[:8], comment="two chunks", user="artist")
    job = wait_complete(client, name)
    assert job["status"] == "Complete", job
    assert job["user"] == "artist" and job["comment"] == "two chunks"
    frames = job["subjobs"]["masterLayer"]["frames"]
    assert frames[1]["argv"] == ["render", "-r", "sw", "-proj", project, "-s", "1", "-e", "3", "-b", "1", path]
    assert frames[4]["argv"] == ["render", "-r", "sw", "-proj", project, "-s", "4", "-e", "6", "-b", "1", path]
    # -proj puts the images in the project's images folder, all six frames (none skipped by the scene's step 2).
    assert len(pngs(os.path.join(project, "images"))) == 6

    maya_scene(_scenes.variant(_scenes.ANIMATION_OFF, file=path, project=project))
    name = submit.submit_scene(farm_node_server.url, farm_node_server.token, name="still-%s" % uuid.uuid4().hex[:8])
    job = wait_complete(client, name)
    assert job["status"] == "Complete", job
    assert job["subjobs"]["masterLayer"]["frames"][42]["argv"] == ["render", "-r", "redshift", "-proj", project, path]


def test_two_cameras_write_images_of_their_own_on_a_real_node(maya_scene, farm_node_server, tmp_path):
    project, path = project_scene(tmp_path, "stereo.ma")
    maya_scene(_scenes.variant(_scenes.TWO_CAMERAS, file=path, project=project))
    name = submit.submit_scene(farm_node_server.url, farm_node_server.token, frames="1-2",
                               name="cams-%s" % uuid.uuid4().hex[:8])
    job = wait_complete(FarmClient(farm_node_server.url, farm_node_server.token), name)
    assert job["status"] == "Complete", job
    images = pngs(os.path.join(project, "images"))
    assert len(set(images)) == 4  # 2 cameras x 2 frames, none written over another
    assert sorted(set(os.path.basename(os.path.dirname(p)) for p in images)) == ["cam_main", "witness"]
