"""maya_plugin.builder against the fake scenes: the exact job dictionaries, subjobs and commands."""
from __future__ import annotations

import shlex
import time

import pytest

from maya_plugin.builder import build_job, default_job_name, plan_subjobs
from maya_plugin.errors import FrameListError, SubmitError
from maya_plugin.scene import read_scene

NOW = time.mktime((2026, 11, 25, 14, 3, 0, 0, 0, -1))  # local time, as the default name shows it


def job_of(jobs):
    (name, job), = jobs.items()
    return name, job


def commands(job):
    return dict((sub, dict((f, entry["command"]) for f, entry in body["frames"].items()))
                for sub, body in job["subjobs"].items())


def test_the_original_designs_job(maya_scene):
    maya_scene("mental_ray_2016")
    jobs = build_job(read_scene(), now=NOW)
    scene = "/projects/demo/scenes/scene.mb"
    assert jobs == {"scene 2026-11-25 14:03": {
        "scene": scene, "renderer": "mr", "maya_version": "2016", "project": "/projects/demo/",
        "output": "/projects/demo/images",
        "subjobs": {"masterLayer": {
            "layer": "masterLayer", "layer_node": "defaultRenderLayer", "camera": "camera1", "renderer": "mr",
            "frames": {
                1: {"command": "render -r mr -v 5 -s 1 -e 1 " + scene,
                    "argv": ["render", "-r", "mr", "-v", "5", "-s", "1", "-e", "1", scene]},
                2: {"command": "render -r mr -v 5 -s 2 -e 2 " + scene,
                    "argv": ["render", "-r", "mr", "-v", "5", "-s", "2", "-e", "2", scene]},
                3: {"command": "render -r mr -v 5 -s 3 -e 3 " + scene,
                    "argv": ["render", "-r", "mr", "-v", "5", "-s", "3", "-e", "3", scene]},
            }}}}}
    # Frame keys are ints, as the original design's loop expects.
    assert all(isinstance(k, int) for k in jobs["scene 2026-11-25 14:03"]["subjobs"]["masterLayer"]["frames"])


def test_original_design_job_options(maya_scene):
    maya_scene("mental_ray_2016")
    name, job = job_of(build_job(read_scene(), name="Job1", priority=80, max_attempts=5, frames="2-3"))
    assert name == "Job1"
    assert job["priority"] == 80 and job["max_attempts"] == 5
    assert commands(job) == {"masterLayer": {2: "render -r mr -v 5 -s 2 -e 2 /projects/demo/scenes/scene.mb",
                                             3: "render -r mr -v 5 -s 3 -e 3 /projects/demo/scenes/scene.mb"}}


def test_project_flag_adds_proj_before_the_scene(maya_scene):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="1", project_flag=True))
    assert commands(job) == {"masterLayer": {
        1: "render -r mr -v 5 -s 1 -e 1 -proj /projects/demo/ /projects/demo/scenes/scene.mb"}}


def test_legacy_layers_get_rl_with_the_node_name(maya_scene):
    maya_scene("legacy_layers")
    name, job = job_of(build_job(read_scene(), now=NOW))
    assert name == "shot010_lighting_v003 2026-11-25 14:03"
    scene = "/jobs/show/shot010/lighting/shot010_lighting_v003.mb"
    assert commands(job) == {
        "beauty": dict((f, "render -r sw -rl beauty -s %d -e %d %s" % (f, f, scene)) for f in range(1, 11)),
        "shadow": dict((f, "render -r hw2 -rl shadow -s %d -e %d %s" % (f, f, scene)) for f in range(5, 9)),
    }
    assert job["renderer"] == "hw2,sw"
    assert job["subjobs"]["shadow"]["renderer"] == "hw2"
    assert job["output"] == "/jobs/show/shot010/renders"


def test_render_setup_layers_split_by_camera(maya_scene):
    maya_scene("render_setup_layers")
    _, job = job_of(build_job(read_scene(), now=NOW))
    scene = "/projects/layers/scenes/layers.ma"
    subs = job["subjobs"]
    assert list(subs) == [
        "masterLayer_persp", "masterLayer_camera1",
        "layerFrameRange1_persp", "layerFrameRange1_camera1",
        "renderSetupLayer2_camera1", "renderSetupLayer2_camera2", "renderSetupLayer2_camera3",
        "layerDefaultFrames",
        "renderSetupLayer4_persp", "renderSetupLayer4_camera1",
    ]
    frames_of = dict((sub, sorted(body["frames"])) for sub, body in subs.items())
    assert frames_of["renderSetupLayer2_camera2"] == list(range(20, 31))
    assert frames_of["renderSetupLayer4_camera1"] == list(range(1, 21))
    assert frames_of["layerDefaultFrames"] == list(range(1, 11))
    assert subs["renderSetupLayer2_camera3"]["frames"][20]["command"] == (
        "render -r hw2 -rl rs_renderSetupLayer2 -cam camera3 -s 20 -e 20 " + scene)
    assert subs["masterLayer_persp"]["frames"][10]["command"] == (
        "render -r hw2 -rl defaultRenderLayer -cam persp -s 10 -e 10 " + scene)
    # One renderable camera: no -cam, the layer's name alone.
    assert subs["layerDefaultFrames"]["frames"][1]["command"] == (
        "render -r hw2 -rl rs_layerDefaultFrames -s 1 -e 1 " + scene)
    assert subs["renderSetupLayer2_camera1"]["layer"] == "renderSetupLayer2"
    assert subs["renderSetupLayer2_camera1"]["layer_node"] == "rs_renderSetupLayer2"
    assert subs["renderSetupLayer2_camera1"]["camera"] == "camera1"


def test_choosing_layers_and_cameras(maya_scene):
    maya_scene("render_setup_layers")
    _, job = job_of(build_job(read_scene(), layers=["renderSetupLayer2", "masterLayer"], cameras=["camera1"],
                              frames="5", renderer="arnold"))
    scene = "/projects/layers/scenes/layers.ma"
    assert commands(job) == {
        "masterLayer": {5: "render -r arnold -ai:lve 2 -rl defaultRenderLayer -cam camera1 -s 5 -e 5 " + scene},
        "renderSetupLayer2": {5: "render -r arnold -ai:lve 2 -rl rs_renderSetupLayer2 -cam camera1 -s 5 -e 5 "
                                 + scene},
    }


def test_layers_by_node_name_and_a_non_renderable_camera(maya_scene):
    maya_scene("render_setup_layers")
    _, job = job_of(build_job(read_scene(), layers="rs_layerDefaultFrames", cameras="camera2", frames="1"))
    assert commands(job) == {"layerDefaultFrames": {
        1: "render -r hw2 -rl rs_layerDefaultFrames -cam camera2 -s 1 -e 1 /projects/layers/scenes/layers.ma"}}


def test_two_cameras_one_subjob_each(maya_scene):
    maya_scene("two_cameras")
    _, job = job_of(build_job(read_scene(), now=NOW))
    scene = "/projects/stereo/scenes/stereo_v001.ma"
    assert commands(job) == {
        "masterLayer_cam:main": dict((f, "render -r arnold -ai:lve 2 -cam cam:main -s %d -e %d %s" % (f, f, scene))
                                     for f in range(1001, 1005)),
        "masterLayer_witness": dict((f, "render -r arnold -ai:lve 2 -cam witness -s %d -e %d %s" % (f, f, scene))
                                    for f in range(1001, 1005)),
    }
    assert job["subjobs"]["masterLayer_witness"]["camera"] == "witness"


def test_referenced_layers_are_not_rendered(maya_scene):
    maya_scene("referenced_layer")
    _, job = job_of(build_job(read_scene()))
    scene = "/projects/refs/scenes/referenced_layers.ma"
    assert commands(job) == {
        "masterLayer": {1: "render -r vray -rl defaultRenderLayer -s 1 -e 1 " + scene,
                        2: "render -r vray -rl defaultRenderLayer -s 2 -e 2 " + scene},
        "beauty": {1: "render -r vray -rl beauty -s 1 -e 1 " + scene,
                   2: "render -r vray -rl beauty -s 2 -e 2 " + scene},
    }
    with pytest.raises(SubmitError) as info:
        build_job(read_scene(), layers=["ref:beauty"])
    assert "does not render: referenced from another file" in str(info.value)


def test_animation_off_renders_the_current_frame(maya_scene):
    maya_scene("animation_off")
    _, job = job_of(build_job(read_scene()))
    assert commands(job) == {"masterLayer": {42: "render -r redshift -s 42 -e 42 /projects/still/scenes/still.mb"}}


def test_frames_per_task_chunks(maya_scene):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="1-10,20-30x5", frames_per_task=4))
    frames = job["subjobs"]["masterLayer"]["frames"]
    scene = "/projects/demo/scenes/scene.mb"
    assert frames == {
        1: {"command": "render -r mr -v 5 -s 1 -e 4 " + scene, "last_frame": 4,
            "argv": ["render", "-r", "mr", "-v", "5", "-s", "1", "-e", "4", scene]},
        5: {"command": "render -r mr -v 5 -s 5 -e 8 " + scene, "last_frame": 8,
            "argv": ["render", "-r", "mr", "-v", "5", "-s", "5", "-e", "8", scene]},
        9: {"command": "render -r mr -v 5 -s 9 -e 10 " + scene, "last_frame": 10,
            "argv": ["render", "-r", "mr", "-v", "5", "-s", "9", "-e", "10", scene]},
        20: {"command": "render -r mr -v 5 -s 20 -e 30 -b 5 " + scene, "last_frame": 30, "frame_step": 5,
             "argv": ["render", "-r", "mr", "-v", "5", "-s", "20", "-e", "30", "-b", "5", scene]},
    }


def test_3delight_uses_its_own_layer_and_step_flags(maya_scene):
    maya_scene("legacy_layers")
    _, job = job_of(build_job(read_scene(), renderer="3delight", layers="beauty", frames="1-5x2",
                              frames_per_task=3))
    assert commands(job) == {"beauty": {
        1: "render -r 3delight -lr beauty -s 1 -e 5 -inc 2 /jobs/show/shot010/lighting/shot010_lighting_v003.mb"}}


@pytest.mark.parametrize("option,flag", [("sw", "sw"), ("mayaSoftware", "sw"), ("hw2", "hw2"), ("vray", "vray"),
                                         ("redshift", "redshift"), ("renderman", "renderman"), ("rman", "rman"),
                                         ("renderManRIS", "rman -ris"), ("arnold", "arnold -ai:lve 2")])
def test_renderer_option(maya_scene, option, flag):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="7", renderer=option))
    assert job["subjobs"]["masterLayer"]["frames"][7]["command"] == (
        "render -r %s -s 7 -e 7 /projects/demo/scenes/scene.mb" % flag)


def test_negative_frames(maya_scene):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="-2--1"))
    frames = job["subjobs"]["masterLayer"]["frames"]
    assert frames[-2]["argv"] == ["render", "-r", "mr", "-v", "5", "-s", "-2", "-e", "-2",
                                  "/projects/demo/scenes/scene.mb"]
    assert shlex.split(frames[-1]["command"]) == frames[-1]["argv"]


def test_subjob_names_are_unique_and_valid(maya_scene):
    maya_scene({"file": "/p/s.ma", "cameras": [{"name": "persp", "renderable": False}, {"name": "b_c"},
                                               {"name": "c"}],
                "layers": [{"name": "defaultRenderLayer", "renderable": False}, {"name": "a"}, {"name": "a_b"}],
                "render_globals": {"animation": True, "endFrame": 1}})
    info = read_scene()
    # layer a with camera b_c and layer a_b with camera c both read "a_b_c".
    names = [s.name for s in plan_subjobs(info)]
    assert names == ["a_b_c", "a_c", "a_b_b_c", "a_b_c_2"]
    long_layer = "L" * 250
    maya_scene({"file": "/p/s.ma", "layers": [{"name": long_layer}]})
    for name in build_job(read_scene(), name="j")["j"]["subjobs"]:
        assert 1 <= len(name) <= 200 and "/" not in name


def test_default_job_name():
    assert default_job_name("/jobs/shot010/shot010_lighting_v003.mb", NOW) == "shot010_lighting_v003 2026-11-25 14:03"
    assert default_job_name("C:\\proj\\scenes\\a b.ma", NOW) == "a b 2026-11-25 14:03"
    assert default_job_name("", NOW) == "untitled 2026-11-25 14:03"
    assert len(default_job_name("/p/" + "x" * 400 + ".mb", NOW)) == 200


@pytest.mark.parametrize("kwargs,message", [
    ({"name": "a/b"}, "holds a '/'"),
    ({"name": ""}, "name is empty"),
    ({"name": "n" * 201}, "at most 200"),
    ({"priority": 101}, "priority must be a whole number, 0 to 100"),
    ({"priority": True}, "priority must be"),
    ({"max_attempts": 0}, "max attempts must be a whole number, 1 or more"),
    ({"frames_per_task": 0}, "frames per task must be"),
    ({"layers": ["nope"]}, "no render layer 'nope'"),
    ({"cameras": ["nope"]}, "no camera 'nope'"),
    ({"renderer": "povray"}, "does not know the renderer 'povray'"),
])
def test_bad_options(maya_scene, kwargs, message):
    maya_scene("mental_ray_2016")
    with pytest.raises(SubmitError) as info:
        build_job(read_scene(), **kwargs)
    assert message in str(info.value)


def test_bad_frames_and_empty_ranges(maya_scene):
    maya_scene("mental_ray_2016")
    with pytest.raises(FrameListError):
        build_job(read_scene(), frames="10-1")
    maya_scene({"file": "/p/s.ma", "render_globals": {"animation": True, "startFrame": 10, "endFrame": 1}})
    with pytest.raises(FrameListError) as info:
        build_job(read_scene())
    assert "renders no frame" in str(info.value)


def test_untitled_scene_cannot_build(maya_scene):
    maya_scene("untitled")
    with pytest.raises(SubmitError) as info:
        build_job(read_scene())
    assert "never been saved" in str(info.value)
