"""maya_plugin.builder against the fake scenes: the exact job dictionaries, subjobs and commands."""
from __future__ import annotations

import getpass
import shlex
import time

import pytest

from maya import _scenes
from maya_plugin.builder import build_job, default_job_name, plan_subjobs, scene_in_project, unique_prefix
from maya_plugin.errors import FrameListError, SceneError, SubmitError
from maya_plugin.scene import read_scene

NOW = time.mktime((2026, 11, 25, 14, 3, 0, 0, 0, -1))  # local time, as the default name shows it


def job_of(jobs):
    (name, job), = jobs.items()
    return name, job


def commands(job):
    return dict((sub, dict((f, entry["command"]) for f, entry in body["frames"].items()))
                for sub, body in job["subjobs"].items())


def test_the_original_designs_job(maya_scene):
    """CONTRACT section 5: the seed scene's commands read ``render -r mr -v 5 -proj /proj/ -s 1 -e 1 scene``."""
    maya_scene("mental_ray_2016")
    jobs = build_job(read_scene(), now=NOW)
    scene = "/projects/demo/scenes/scene.mb"
    assert jobs == {"scene_2026-11-25_14-03": {
        "scene": scene, "renderer": "mr", "maya_version": "2016", "project": "/projects/demo/",
        "output": "/projects/demo/images", "user": getpass.getuser(),
        "subjobs": {"masterLayer": {
            "layer": "masterLayer", "layer_node": "defaultRenderLayer", "camera": "camera1", "renderer": "mr",
            "frames": {
                1: {"command": "render -r mr -v 5 -proj /projects/demo/ -s 1 -e 1 " + scene,
                    "argv": ["render", "-r", "mr", "-v", "5", "-proj", "/projects/demo/", "-s", "1", "-e", "1", scene]},
                2: {"command": "render -r mr -v 5 -proj /projects/demo/ -s 2 -e 2 " + scene,
                    "argv": ["render", "-r", "mr", "-v", "5", "-proj", "/projects/demo/", "-s", "2", "-e", "2", scene]},
                3: {"command": "render -r mr -v 5 -proj /projects/demo/ -s 3 -e 3 " + scene,
                    "argv": ["render", "-r", "mr", "-v", "5", "-proj", "/projects/demo/", "-s", "3", "-e", "3", scene]},
            }}}}}
    # Frame keys are ints, as the original design's loop expects.
    assert all(isinstance(k, int) for k in jobs["scene_2026-11-25_14-03"]["subjobs"]["masterLayer"]["frames"])


def test_original_design_job_options(maya_scene):
    maya_scene("mental_ray_2016")
    name, job = job_of(build_job(read_scene(), name="Job1", priority=80, max_attempts=5, frames="2-3"))
    assert name == "Job1"
    assert job["priority"] == 80 and job["max_attempts"] == 5
    assert commands(job) == {"masterLayer": {
        2: "render -r mr -v 5 -proj /projects/demo/ -s 2 -e 2 /projects/demo/scenes/scene.mb",
        3: "render -r mr -v 5 -proj /projects/demo/ -s 3 -e 3 /projects/demo/scenes/scene.mb"}}


def test_proj_only_for_a_scene_inside_its_project(maya_scene):
    """-proj by default when the scene file lies in the project Maya has set; project_flag forces it either way."""
    maya_scene("mental_ray_2016")
    info = read_scene()
    assert commands(job_of(build_job(info, frames="1", project_flag=False))[1]) == {"masterLayer": {
        1: "render -r mr -v 5 -s 1 -e 1 /projects/demo/scenes/scene.mb"}}
    # A scene opened from elsewhere while the default project is set: that project is the artist's own.
    maya_scene(_scenes.variant(_scenes.MENTAL_RAY_2016, file="/mnt/incoming/scene.mb",
                               project="/home/artist/maya/projects/default/"))
    info = read_scene()
    assert commands(job_of(build_job(info, frames="1"))[1]) == {"masterLayer": {
        1: "render -r mr -v 5 -s 1 -e 1 /mnt/incoming/scene.mb"}}
    assert commands(job_of(build_job(info, frames="1", project_flag=True))[1]) == {"masterLayer": {
        1: "render -r mr -v 5 -proj /home/artist/maya/projects/default/ -s 1 -e 1 /mnt/incoming/scene.mb"}}


@pytest.mark.parametrize("path,project,inside", [
    ("/projects/demo/scenes/scene.mb", "/projects/demo/", True),
    ("/projects/demo/scenes/scene.mb", "/projects/demo", True),
    ("/projects/demo2/scenes/scene.mb", "/projects/demo/", False),
    ("/projects/demo", "/projects/demo/", False),
    ("P:/Show/Shot010/scenes/a.mb", "p:/show/shot010/", True),
    ("\\\\server\\jobs\\show\\scenes\\a.mb", "//server/jobs/show/", True),
    ("/Projects/Demo/scenes/a.mb", "/projects/demo/", False),  # POSIX paths are case-sensitive
    ("/projects/demo/a.mb", "", False),
])
def test_scene_in_project(path, project, inside):
    assert scene_in_project(path, project) is inside


def test_legacy_layers_get_rl_with_the_node_name(maya_scene):
    maya_scene("legacy_layers")
    name, job = job_of(build_job(read_scene(), now=NOW))
    assert name == "shot010_lighting_v003_2026-11-25_14-03"
    scene = "/jobs/show/shot010/lighting/shot010_lighting_v003.mb"
    # The prefix <RenderLayer>/<Scene> already names the layer: no -im.
    assert commands(job) == {
        "beauty": dict((f, "render -r sw -proj /jobs/show/shot010/ -rl beauty -s %d -e %d %s" % (f, f, scene))
                       for f in range(1, 11)),
        "shadow": dict((f, "render -r hw2 -proj /jobs/show/shot010/ -rl shadow -s %d -e %d %s" % (f, f, scene))
                       for f in range(5, 9)),
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
    # renderSetupLayer2's own prefix <RenderLayer>/<Camera>/<Scene> names layer and camera: no -im.
    assert subs["renderSetupLayer2_camera3"]["frames"][20]["command"] == (
        "render -r hw2 -proj /projects/layers/ -rl rs_renderSetupLayer2 -cam camera3 -s 20 -e 20 " + scene)
    # The master layer's prefix is empty (<Scene>): the farm puts <Layer> and <Camera> in front, as DCM does.
    assert subs["masterLayer_persp"]["frames"][10]["command"] == (
        "render -r hw2 -proj /projects/layers/ -rl defaultRenderLayer -cam persp -im '<Layer>/<Camera>/<Scene>' "
        "-s 10 -e 10 " + scene)
    assert subs["masterLayer_persp"]["image_prefix"] == "<Layer>/<Camera>/<Scene>"
    # One renderable camera: no -cam, the layer's name alone, and only <Layer> is needed.
    assert subs["layerDefaultFrames"]["frames"][1]["command"] == (
        "render -r hw2 -proj /projects/layers/ -rl rs_layerDefaultFrames -im '<Layer>/<Scene>' -s 1 -e 1 " + scene)
    assert "image_prefix" not in subs["renderSetupLayer2_camera3"]
    assert subs["renderSetupLayer2_camera1"]["layer"] == "renderSetupLayer2"
    assert subs["renderSetupLayer2_camera1"]["layer_node"] == "rs_renderSetupLayer2"
    assert subs["renderSetupLayer2_camera1"]["camera"] == "camera1"


def test_choosing_layers_and_cameras(maya_scene):
    maya_scene("render_setup_layers")
    _, job = job_of(build_job(read_scene(), layers=["renderSetupLayer2", "masterLayer"], cameras=["camera1"],
                              frames="5", renderer="arnold"))
    scene = "/projects/layers/scenes/layers.ma"
    # masterLayer renders two cameras by default: choosing one still names its images by camera.
    assert commands(job) == {
        "masterLayer": {5: "render -r arnold -ai:lve 2 -proj /projects/layers/ -rl defaultRenderLayer -cam camera1 "
                           "-im '<Layer>/<Camera>/<Scene>' -s 5 -e 5 " + scene},
        "renderSetupLayer2": {5: "render -r arnold -ai:lve 2 -proj /projects/layers/ -rl rs_renderSetupLayer2 "
                                 "-cam camera1 -s 5 -e 5 " + scene},
    }


def test_layers_by_node_name_and_a_non_renderable_camera(maya_scene):
    maya_scene("render_setup_layers")
    _, job = job_of(build_job(read_scene(), layers="rs_layerDefaultFrames", cameras="camera2", frames="1"))
    assert commands(job) == {"layerDefaultFrames": {
        1: "render -r hw2 -proj /projects/layers/ -rl rs_layerDefaultFrames -cam camera2 -im '<Layer>/<Scene>' "
           "-s 1 -e 1 /projects/layers/scenes/layers.ma"}}


def test_two_cameras_one_subjob_each_with_camera_in_the_image_names(maya_scene):
    """Two renderable cameras, a prefix without <Camera>: each camera's tasks name their images by camera (-im)."""
    maya_scene("two_cameras")
    _, job = job_of(build_job(read_scene(), now=NOW))
    scene = "/projects/stereo/scenes/stereo_v001.ma"
    assert commands(job) == {
        "masterLayer_cam:main": dict((f, "render -r arnold -ai:lve 2 -proj /projects/stereo/ -cam cam:main "
                                         "-im '<Camera>/<Scene>' -s %d -e %d %s" % (f, f, scene))
                                     for f in range(1001, 1005)),
        "masterLayer_witness": dict((f, "render -r arnold -ai:lve 2 -proj /projects/stereo/ -cam witness "
                                        "-im '<Camera>/<Scene>' -s %d -e %d %s" % (f, f, scene))
                                    for f in range(1001, 1005)),
    }
    assert job["subjobs"]["masterLayer_witness"]["camera"] == "witness"
    argv = job["subjobs"]["masterLayer_witness"]["frames"][1001]["argv"]
    assert argv[argv.index("-im") + 1] == "<Camera>/<Scene>"  # one argument, no shell in between


def test_two_cameras_whose_prefix_names_the_camera(maya_scene):
    maya_scene("two_cameras_named")
    _, job = job_of(build_job(read_scene(), frames="1001"))
    scene = "/projects/stereo/scenes/stereo_v001.ma"
    assert commands(job) == {
        "masterLayer_cam:main": {1001: "render -r arnold -ai:lve 2 -proj /projects/stereo/ -cam cam:main "
                                       "-s 1001 -e 1001 " + scene},
        "masterLayer_witness": {1001: "render -r arnold -ai:lve 2 -proj /projects/stereo/ -cam witness "
                                      "-s 1001 -e 1001 " + scene},
    }


def test_two_cameras_with_v_ray_are_refused_until_the_prefix_names_the_camera(maya_scene):
    """V-Ray names its images from vraySettings.fileNamePrefix: the farm cannot fix them, so it refuses."""
    maya_scene("vray_two_cameras")
    with pytest.raises(SubmitError) as info:
        build_job(read_scene())
    assert str(info.value) == (
        "render layer masterLayer renders several cameras, but the image prefix '<Scene>' has no <Camera>, so their "
        "images would overwrite each other; the farm cannot change V-Ray's image names on the command line. Add "
        "<Camera> to its File Name Prefix in the Render Settings (for example <Camera>/<Scene>)")
    # Named by camera in V-Ray's own prefix: it builds, without -im.
    maya_scene(_scenes.variant(_scenes.VRAY_TWO_CAMERAS, vray_settings={"fileNamePrefix": "<Camera>/<Scene>"}))
    _, job = job_of(build_job(read_scene(), frames="1001"))
    assert commands(job)["masterLayer_witness"] == {1001: "render -r vray -proj /projects/stereo/ -cam witness "
                                                          "-s 1001 -e 1001 /projects/stereo/scenes/stereo_v001.ma"}


@pytest.mark.parametrize("prefix,by_layer,by_camera,wanted", [
    ("", False, False, "<Scene>"),
    ("", True, True, "<Layer>/<Camera>/<Scene>"),
    ("renders/<Scene>", False, True, "<Camera>/renders/<Scene>"),
    ("<RenderLayer>/<Scene>", True, True, "<Camera>/<RenderLayer>/<Scene>"),
    ("%l/%c/shot", True, True, "%l/%c/shot"),
    ("<scene>_<camera>", True, True, "<Layer>/<scene>_<camera>"),
])
def test_unique_prefix(prefix, by_layer, by_camera, wanted):
    assert unique_prefix(prefix, by_layer, by_camera) == wanted


def test_referenced_layers_are_not_rendered(maya_scene):
    maya_scene("referenced_layer")
    _, job = job_of(build_job(read_scene()))
    scene = "/projects/refs/scenes/referenced_layers.ma"
    assert commands(job) == {
        "masterLayer": {1: "render -r vray -proj /projects/refs/ -rl defaultRenderLayer -s 1 -e 1 " + scene,
                        2: "render -r vray -proj /projects/refs/ -rl defaultRenderLayer -s 2 -e 2 " + scene},
        "beauty": {1: "render -r vray -proj /projects/refs/ -rl beauty -s 1 -e 1 " + scene,
                   2: "render -r vray -proj /projects/refs/ -rl beauty -s 2 -e 2 " + scene},
    }
    with pytest.raises(SubmitError) as info:
        build_job(read_scene(), layers=["ref:beauty"])
    assert "does not render: referenced from another file" in str(info.value)


def test_a_still_has_no_frame_flags(maya_scene):
    """Animation off: one task without -s/-e, as Deadline sends it; Render renders the current frame, unnumbered."""
    maya_scene("animation_off")
    _, job = job_of(build_job(read_scene(), frames_per_task=5))
    assert commands(job) == {"masterLayer": {42: "render -r redshift -proj /projects/still/ "
                                                 "/projects/still/scenes/still.mb"}}
    assert job["subjobs"]["masterLayer"]["still"] is True
    # Frames typed by the artist render as a numbered sequence.
    _, job = job_of(build_job(read_scene(), frames="1-2"))
    assert commands(job) == {"masterLayer": {
        1: "render -r redshift -proj /projects/still/ -s 1 -e 1 /projects/still/scenes/still.mb",
        2: "render -r redshift -proj /projects/still/ -s 2 -e 2 /projects/still/scenes/still.mb"}}
    assert "still" not in job["subjobs"]["masterLayer"]


def test_every_task_of_several_frames_says_its_step(maya_scene):
    """A scene whose step is 2: a task -s 1 -e 3 without -b would render 1 and 3, never 2 (notes, section 8)."""
    maya_scene("step_two")
    scene = "/projects/steps/scenes/steps_v002.mb"
    _, job = job_of(build_job(read_scene(), frames="1-6", frames_per_task=3))
    assert commands(job) == {"masterLayer": {
        1: "render -r sw -proj /projects/steps/ -s 1 -e 3 -b 1 " + scene,
        4: "render -r sw -proj /projects/steps/ -s 4 -e 6 -b 1 " + scene}}
    assert job["subjobs"]["masterLayer"]["frames"][1]["last_frame"] == 3
    # The scene's own range and step, 1-6 by 2: one task of 1, 3, 5.
    _, job = job_of(build_job(read_scene(), frames_per_task=3))
    assert commands(job) == {"masterLayer": {1: "render -r sw -proj /projects/steps/ -s 1 -e 5 -b 2 " + scene}}
    assert job["subjobs"]["masterLayer"]["frames"][1]["frame_step"] == 2
    # One frame per task needs no step.
    _, job = job_of(build_job(read_scene()))
    assert commands(job) == {"masterLayer": dict(
        (f, "render -r sw -proj /projects/steps/ -s %d -e %d %s" % (f, f, scene)) for f in (1, 3, 5))}


def test_v_ray_specific_frames_are_rendered_as_the_artist_set_them(maya_scene):
    """vraySettings.animType 2 with animFrames "1-3;10": frames 1, 2, 3 and 10, not the render globals' 1-24."""
    maya_scene("vray_specific_frames")
    scene = "/projects/vray/scenes/hero_v010.ma"
    _, job = job_of(build_job(read_scene()))
    assert commands(job) == {"masterLayer": dict(
        (f, "render -r vray -proj /projects/vray/ -s %d -e %d %s" % (f, f, scene)) for f in (1, 2, 3, 10))}
    _, job = job_of(build_job(read_scene(), frames_per_task=4))
    assert commands(job) == {"masterLayer": {1: "render -r vray -proj /projects/vray/ -s 1 -e 3 -b 1 " + scene,
                                             10: "render -r vray -proj /projects/vray/ -s 10 -e 10 " + scene}}
    # A list the artist typed wins over V-Ray's.
    _, job = job_of(build_job(read_scene(), frames="5"))
    assert list(commands(job)["masterLayer"]) == [5]
    # animType 1 (standard): the render globals' range.
    maya_scene(_scenes.variant(_scenes.VRAY_SPECIFIC_FRAMES, vray_settings={"animType": 1, "animFrames": "1-3;10"},
                               render_globals={"endFrame": 3}))
    assert list(commands(job_of(build_job(read_scene()))[1])["masterLayer"]) == [1, 2, 3]


def test_a_bad_v_ray_frame_list_is_refused(maya_scene):
    maya_scene(_scenes.variant(_scenes.VRAY_SPECIFIC_FRAMES, vray_settings={"animType": 2, "animFrames": "1-3;x"}))
    with pytest.raises(FrameListError) as info:
        build_job(read_scene())
    assert "'x' is not a frame" in str(info.value)


def test_legacy_layers_in_a_render_setup_scene_are_refused(maya_scene):
    maya_scene("legacy_in_render_setup")
    with pytest.raises(SubmitError) as info:
        build_job(read_scene())
    assert "legacy render layers (beauty, shadow)" in str(info.value)
    # In legacy mode the same layers render, each with -rl.
    maya_scene("legacy_layers_2024")
    _, job = job_of(build_job(read_scene()))
    assert commands(job)["shadow"] == dict(
        (f, "render -r arnold -ai:lve 2 -proj /projects/mixed/ -rl shadow -s %d -e %d "
            "/projects/mixed/scenes/mixed_v004.mb" % (f, f)) for f in (1, 2))


def test_frames_per_task_chunks(maya_scene):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="1-10,20-30x5", frames_per_task=4, project_flag=False))
    frames = job["subjobs"]["masterLayer"]["frames"]
    scene = "/projects/demo/scenes/scene.mb"
    assert frames == {
        1: {"command": "render -r mr -v 5 -s 1 -e 4 -b 1 " + scene, "last_frame": 4,
            "argv": ["render", "-r", "mr", "-v", "5", "-s", "1", "-e", "4", "-b", "1", scene]},
        5: {"command": "render -r mr -v 5 -s 5 -e 8 -b 1 " + scene, "last_frame": 8,
            "argv": ["render", "-r", "mr", "-v", "5", "-s", "5", "-e", "8", "-b", "1", scene]},
        9: {"command": "render -r mr -v 5 -s 9 -e 10 -b 1 " + scene, "last_frame": 10,
            "argv": ["render", "-r", "mr", "-v", "5", "-s", "9", "-e", "10", "-b", "1", scene]},
        20: {"command": "render -r mr -v 5 -s 20 -e 30 -b 5 " + scene, "last_frame": 30, "frame_step": 5,
             "argv": ["render", "-r", "mr", "-v", "5", "-s", "20", "-e", "30", "-b", "5", scene]},
    }


def test_3delight_uses_its_own_layer_and_step_flags(maya_scene):
    maya_scene("legacy_layers")
    _, job = job_of(build_job(read_scene(), renderer="3delight", layers="beauty", frames="1-5x2",
                              frames_per_task=3))
    assert commands(job) == {"beauty": {
        1: "render -r 3delight -proj /jobs/show/shot010/ -lr beauty -s 1 -e 5 -inc 2 "
           "/jobs/show/shot010/lighting/shot010_lighting_v003.mb"}}
    _, job = job_of(build_job(read_scene(), renderer="3delight", layers="beauty", frames="1-2", frames_per_task=2))
    assert commands(job)["beauty"][1].endswith(" -lr beauty -s 1 -e 2 -inc 1 "
                                               "/jobs/show/shot010/lighting/shot010_lighting_v003.mb")


@pytest.mark.parametrize("option,flag", [("sw", "sw"), ("mayaSoftware", "sw"), ("hw2", "hw2"), ("vray", "vray"),
                                         ("redshift", "redshift"), ("renderman", "renderman"), ("rman", "rman"),
                                         ("renderManRIS", "rman -ris"), ("arnold", "arnold -ai:lve 2")])
def test_renderer_option(maya_scene, option, flag):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="7", renderer=option))
    assert job["subjobs"]["masterLayer"]["frames"][7]["command"] == (
        "render -r %s -proj /projects/demo/ -s 7 -e 7 /projects/demo/scenes/scene.mb" % flag)


def test_negative_frames(maya_scene):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), frames="-2--1", project_flag=False))
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


def test_default_job_name_has_no_spaces_or_colons():
    assert default_job_name("/jobs/shot010/shot010_lighting_v003.mb", NOW) == "shot010_lighting_v003_2026-11-25_14-03"
    assert default_job_name("C:\\proj\\scenes\\a b.ma", NOW) == "a_b_2026-11-25_14-03"
    assert default_job_name("/p/take: 2 .mb", NOW) == "take_2_2026-11-25_14-03"
    assert default_job_name("", NOW) == "untitled_2026-11-25_14-03"
    assert len(default_job_name("/p/" + "x" * 400 + ".mb", NOW)) == 200
    for path in ("/p/a b:c.mb", "/p/  .mb", "C:/x y/z : w.ma"):
        name = default_job_name(path, NOW)
        assert " " not in name and ":" not in name, name


@pytest.mark.parametrize("kwargs,message", [
    ({"name": "a/b"}, "holds a '/'"),
    ({"name": ""}, "name is empty"),
    ({"name": "n" * 201}, "at most 200"),
    ({"priority": 101}, "priority must be a whole number, 0 to 100"),
    ({"priority": True}, "priority must be"),
    ({"max_attempts": 0}, "max attempts must be a whole number, 1 to 1000"),
    ({"max_attempts": 1001}, "max attempts must be a whole number, 1 to 1000"),
    ({"requires": ["gpu", ""]}, "a required host tag must be a name"),
    ({"requires": "gpu,linux"}, "holds a comma or a space"),
    ({"limits": ["arnold"]}, "limits must map limit names to units"),
    ({"limits": {"arnold": 0}}, "the units of limit arnold must be a whole number, 1 or more"),
    ({"depends_on": ["a/b"]}, "holds a '/'"),
    ({"name": "J", "depends_on": ["J"]}, "cannot depend on itself"),
    ({"paused": "yes"}, "paused must be true or false"),
    ({"comment": 5}, "the comment must be text"),
    ({"frame_timeout": 0}, "the frame timeout must be a number of seconds above 0"),
    ({"frame_timeout": True}, "the frame timeout must be"),
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


def test_the_farm_fields_of_contract_section_6(maya_scene):
    maya_scene("mental_ray_2016")
    _, job = job_of(build_job(read_scene(), name="lit", requires=["gpu", "linux", "gpu"], limits={"mtoa": 2},
                              depends_on=["sim", "cache"], paused=True, comment="  client notes v2 ",
                              max_attempts=7, frame_timeout=3600, user="artist"))
    assert dict((k, job[k]) for k in ("requires", "limits", "depends_on", "paused", "comment", "max_attempts",
                                      "frame_timeout", "user")) == {
        "requires": ["gpu", "linux"], "limits": {"mtoa": 2}, "depends_on": ["sim", "cache"], "paused": True,
        "comment": "client notes v2", "max_attempts": 7, "frame_timeout": 3600, "user": "artist"}
    # Left out or empty: the keys are absent (the farm's defaults apply), but the user is always there.
    _, job = job_of(build_job(read_scene(), name="lit", requires=[], limits={}, depends_on=[], paused=False,
                              comment=" "))
    assert not set(job) & {"requires", "limits", "depends_on", "paused", "comment", "max_attempts", "frame_timeout"}
    assert job["user"] == getpass.getuser()


def test_the_user_when_the_login_cannot_be_found(maya_scene, monkeypatch):
    maya_scene("mental_ray_2016")

    def no_login():
        raise OSError("No username set in the environment")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert job_of(build_job(read_scene(), name="j"))[1]["user"] == "unknown"
