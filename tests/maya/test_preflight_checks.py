"""maya_plugin.preflight: each finding, its severity and its code, on fake scenes."""
from __future__ import annotations

import pytest

from maya import _scenes
from maya_plugin.preflight import (DEFAULT_LOCAL_PREFIXES, ERROR, INFO, WARNING, Check, errors, is_local_path,
                                   resolve_local_prefixes, run_checks)
from maya_plugin.scene import read_scene


def found(checks):
    return sorted((c.severity, c.code) for c in checks)


def checks_for(maya_scene, spec, **options):
    maya_scene(spec)
    return run_checks(read_scene(), **options)


def test_clean_scenes_have_no_blocking_check(maya_scene):
    for name in ("mental_ray_2016", "legacy_layers", "render_setup_layers", "two_cameras", "referenced_layer",
                 "animation_off", "step_two", "vray_specific_frames", "two_cameras_named", "legacy_layers_2024",
                 "flaky_switch"):
        assert errors(checks_for(maya_scene, name)) == [], name


def test_the_original_scene_is_clean(maya_scene):
    assert checks_for(maya_scene, "mental_ray_2016") == []


def test_untitled_scene(maya_scene):
    checks = checks_for(maya_scene, "untitled")
    assert found(checks) == [(ERROR, "untitled"), (INFO, "still"), (WARNING, "default_cameras_only"),
                             (WARNING, "local_output")]
    # A never-saved scene is not also reported as unsaved.
    assert "unsaved" not in [c.code for c in checks]


def test_unsaved_changes_warn(maya_scene):
    checks = checks_for(maya_scene, _scenes.variant(_scenes.MENTAL_RAY_2016, modified=True))
    assert checks == [Check(WARNING, "unsaved", "The scene has unsaved changes; the farm renders the file as it was "
                                                "last saved. Save the scene first to render what you see.")]


def test_layers_left_out_are_told(maya_scene):
    checks = checks_for(maya_scene, "referenced_layer")
    assert checks == [
        Check(INFO, "layer_left_out", "Render layer ref:beauty is left out: referenced from another file."),
        Check(INFO, "layer_left_out", "Render layer imported_scene_beauty is left out: not connected to the "
                                      "scene's renderLayerManager."),
    ]


def test_layers_switched_off_are_not_noise(maya_scene):
    """A legacy scene with its master layer (and a work-in-progress layer) switched off has nothing to report."""
    assert checks_for(maya_scene, "legacy_layers") == []


def test_no_renderable_layer(maya_scene):
    checks = checks_for(maya_scene, {"file": "/p/s.ma", "layers": [{"name": "defaultRenderLayer",
                                                                     "renderable": False}]})
    assert found(checks) == [(ERROR, "no_layer")]


def test_no_renderable_camera(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, cameras=[{"name": "persp", "renderable": False},
                                                             {"name": "camera1", "renderable": False}])
    checks = checks_for(maya_scene, spec)
    assert checks == [Check(ERROR, "no_camera", "Render layer masterLayer has no renderable camera.")]


def test_a_layer_override_can_leave_a_layer_without_camera(maya_scene):
    spec = _scenes.variant(_scenes.LEGACY_LAYERS)
    spec["layers"][2]["overrides"]["shotCamShape.renderable"] = False
    assert found(checks_for(maya_scene, spec)) == [(ERROR, "no_camera")]


def test_only_default_cameras(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, cameras=[{"name": "persp", "renderable": True},
                                                             {"name": "camera1", "renderable": False}])
    assert found(checks_for(maya_scene, spec)) == [(WARNING, "default_cameras_only")]
    # Choosing the camera on purpose is not warned about.
    assert checks_for(maya_scene, spec, cameras=["persp"]) == []


def test_unknown_renderer(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, render_globals={"currentRenderer": "povray"})
    checks = checks_for(maya_scene, spec)
    assert found(checks) == [(ERROR, "unknown_renderer")]
    assert "Render layer masterLayer: the farm does not know the renderer 'povray'" in checks[0].message
    checks = checks_for(maya_scene, "mental_ray_2016", renderer="povray")
    assert found(checks) == [(ERROR, "unknown_renderer")]
    assert checks[0].message.startswith("The farm does not know the renderer 'povray'")


@pytest.mark.parametrize("version,plugins,code", [
    ("2016", [], None),  # bundled
    ("2016 Extension 2", ["Mayatomr"], None),
    ("2017", ["Mayatomr"], None),
    ("2018", ["Mayatomr"], None),
    ("2017", [], "mental_ray_plugin"),
    ("2018", [], "mental_ray_plugin"),
    ("2019", ["Mayatomr"], "mental_ray_unsupported"),
    ("2022", [], "mental_ray_unsupported"),
    ("2027", [], "mental_ray_unsupported"),
])
def test_mental_ray_by_maya_version(maya_scene, version, plugins, code):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, version=version, plugins=plugins)
    checks = checks_for(maya_scene, spec)
    assert [c.code for c in checks] == ([code] if code else [])
    assert all(c.severity == ERROR for c in checks)


def test_mental_ray_chosen_as_an_option_is_checked_too(maya_scene):
    checks = errors(checks_for(maya_scene, "two_cameras", renderer="mr"))
    assert [c.code for c in checks] == ["mental_ray_unsupported"]
    assert "Maya 2022 does not have" in checks[0].message


def test_mental_ray_is_reported_once_for_many_layers(maya_scene):
    spec = _scenes.variant(_scenes.LEGACY_LAYERS, version="2020")
    checks = checks_for(maya_scene, spec, renderer="mentalRay")
    assert [c.code for c in checks if c.severity == ERROR] == ["mental_ray_unsupported"]


def test_frames_that_render_nothing(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, render_globals={"startFrame": 10, "endFrame": 1})
    checks = checks_for(maya_scene, spec)
    assert checks == [Check(ERROR, "no_frames",
                            "Render layer masterLayer renders no frame: its range ends (1) before it starts (10).")]
    # A frame list given by the artist replaces the layer's range.
    assert checks_for(maya_scene, spec, frames="1-3") == []


def test_bad_frame_option(maya_scene):
    checks = checks_for(maya_scene, "mental_ray_2016", frames="10-1")
    assert checks == [Check(ERROR, "bad_frames",
                            "Frame list: '10-1': the range ends before it starts (write 1-10).")]


def test_every_bad_part_of_a_frame_list_is_named(maya_scene):
    checks = checks_for(maya_scene, "mental_ray_2016", frames="1-5, abc, 10-1 20 x0")
    assert checks == [Check(ERROR, "bad_frames", "Frame list: 'abc' is not a frame (12), a range (1-100) or a "
                            "stepped range (1-100x5); '10-1': the range ends before it starts (write 1-10); 'x0' is "
                            "not a frame (12), a range (1-100) or a stepped range (1-100x5).")]


def test_fractional_frames_warn(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, render_globals={"startFrame": 1.5, "endFrame": 3})
    assert found(checks_for(maya_scene, spec)) == [(WARNING, "fractional_frames")]


def test_unknown_layer_and_camera_options(maya_scene):
    checks = checks_for(maya_scene, "render_setup_layers", layers=["nope"])
    assert found(checks) == [(ERROR, "unknown_layer")]
    assert checks[-1].message.startswith("The scene has no render layer 'nope'")
    checks = checks_for(maya_scene, "render_setup_layers", cameras=["nope"])
    assert [c.code for c in errors(checks)] == ["unknown_camera"]  # once, not once per layer
    checks = checks_for(maya_scene, "render_setup_layers", layers=["notRenderableLayer"])
    assert "does not render: not renderable" in errors(checks)[0].message


@pytest.mark.parametrize("output,local", [
    ("C:/Users/artist/Documents/maya/projects/default/images", True),
    ("c:\\renders", True),
    ("D:/renders", True),
    ("P:/show/renders", False),
    ("//fileserver/renders/shot010", False),
    ("\\\\fileserver\\renders", False),
    ("/tmp/renders", True),
    ("/tmp", True),
    ("/tmpfs/renders", False),
    ("/var/tmp/x", True),
    ("/home/artist/maya/projects/default/images", True),
    ("/Users/artist/Documents/maya/projects/default/images", True),
    ("/private/tmp/x", True),
    ("/mnt/projects/renders", False),
    ("/Volumes/projects/renders", False),
    ("/jobs/show/renders", False),
    ("", False),
])
def test_local_output_heuristic(output, local):
    assert is_local_path(output, DEFAULT_LOCAL_PREFIXES) is local


def test_local_output_check(maya_scene, monkeypatch):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, project="C:/Users/artist/Documents/maya/projects/demo/",
                           file="C:/Users/artist/Documents/maya/projects/demo/scenes/scene.mb")
    checks = checks_for(maya_scene, spec)
    assert found(checks) == [(WARNING, "local_output")]
    assert "C:/Users/artist/Documents/maya/projects/demo/images" in checks[0].message
    # The prefixes are configurable: by argument, or by FARM_LOCAL_PREFIXES.
    assert checks_for(maya_scene, spec, local_prefixes=["/tmp"]) == []
    monkeypatch.setenv("FARM_LOCAL_PREFIXES", "/projects ; E:")
    assert resolve_local_prefixes() == ["/projects", "E:"]
    assert found(checks_for(maya_scene, "mental_ray_2016")) == [(WARNING, "local_output")]
    assert checks_for(maya_scene, spec) == []
    monkeypatch.setenv("FARM_LOCAL_PREFIXES", "")
    assert resolve_local_prefixes() == list(DEFAULT_LOCAL_PREFIXES)


def test_a_still_says_which_frame_and_name_render(maya_scene):
    checks = checks_for(maya_scene, "animation_off")
    assert checks == [Check(INFO, "still", "Animation is off in the render settings of render layer masterLayer: one "
                            "image renders, named without a frame number, of the frame that is current in the saved "
                            "scene (frame 42 now: save the scene after moving the time slider). Type frames to render "
                            "a numbered sequence instead.")]
    assert checks_for(maya_scene, "animation_off", frames="1-3") == []


def test_v_ray_specific_frames_are_shown_as_read(maya_scene):
    assert checks_for(maya_scene, "vray_specific_frames") == [Check(
        INFO, "vray_frames", "Render layer masterLayer renders V-Ray's specific frames 1-3,10 (set as '1-3;10' in the "
                             "Render Settings).")]
    spec = _scenes.variant(_scenes.VRAY_SPECIFIC_FRAMES, vray_settings={"animType": 2, "animFrames": ""})
    checks = checks_for(maya_scene, spec)
    assert found(checks) == [(ERROR, "no_frames")]
    assert "V-Ray is set to render specific frames, but its frame list is empty" in checks[0].message


def test_images_named_per_camera_and_layer(maya_scene):
    assert checks_for(maya_scene, "two_cameras") == [Check(
        INFO, "image_names", "Render layer masterLayer: the farm names its images <Camera>/<Scene> (-im), so that no "
                             "two tasks write the same file: the image prefix <Scene> has no <Camera>.")]
    assert checks_for(maya_scene, "two_cameras_named") == []
    messages = [c.message for c in checks_for(maya_scene, "render_setup_layers")]
    assert ("Render layer masterLayer: the farm names its images <Layer>/<Camera>/<Scene> (-im), so that no two "
            "tasks write the same file: the image prefix <Scene> has no <Layer> or <Camera>.") in messages
    assert not any("renderSetupLayer2" in m for m in messages)  # its prefix names layer and camera


def test_images_that_the_farm_cannot_rename_are_refused(maya_scene):
    checks = checks_for(maya_scene, "vray_two_cameras")
    assert checks == [Check(ERROR, "image_names_collide", "Render layer masterLayer renders several cameras, but the "
                            "image prefix '<Scene>' has no <Camera>, so their images would overwrite each other; the "
                            "farm cannot change V-Ray's image names on the command line. Add <Camera> to its File "
                            "Name Prefix in the Render Settings (for example <Camera>/<Scene>).")]
    # RenderMan chosen for a scene with several layers whose prefix lacks <Layer>
    checks = checks_for(maya_scene, "render_setup_layers", renderer="renderman")
    assert "image_names_collide" in [c.code for c in errors(checks)]


def test_legacy_layers_in_a_render_setup_scene(maya_scene):
    checks = checks_for(maya_scene, "legacy_in_render_setup")
    assert checks == [Check(ERROR, "legacy_in_render_setup", "Render layers beauty, shadow are legacy render layers, "
                            "but Maya runs in Render Setup mode, and Maya 2024 and later ignore legacy layers there: "
                            "every layer would render as masterLayer, one over the other. Convert the scene to Render "
                            "Setup layers, or switch Maya to legacy render layers (Preferences > Rendering > Preferred "
                            "Render Setup system), restart Maya and submit again.")]
    # Choosing the Render Setup layer alone does not help: Maya renders the scene as a whole.
    assert [c.code for c in errors(checks_for(maya_scene, "legacy_in_render_setup", layers=["fx"]))] == [
        "legacy_in_render_setup"]
    checks = checks_for(maya_scene, "legacy_in_render_setup", layers=["beauty"])
    assert "The render layer 'beauty' does not render: a legacy render layer" in " ".join(c.message for c in checks)


def test_legacy_layers_on_maya_2024_warn_about_the_render_hosts(maya_scene):
    checks = checks_for(maya_scene, "legacy_layers_2024")
    assert checks == [Check(WARNING, "legacy_layers", "Render layers beauty, shadow use the legacy render layer "
                            "system. Maya 2024 and later render legacy layers only in legacy mode: the render hosts' "
                            "Maya must run with MAYA_ENABLE_LEGACY_RENDER_LAYERS=1 (as Deadline sets it), or every "
                            "layer renders as masterLayer.")]
    # Before 2024 Maya switched legacy layers in either mode.
    assert checks_for(maya_scene, _scenes.variant(_scenes.LEGACY_LAYERS_2024, version="2023")) == []


def test_a_scene_outside_its_project(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, file="/mnt/incoming/scene.mb")
    checks = checks_for(maya_scene, spec)
    assert found(checks) == [(WARNING, "outside_project")]
    assert "not inside the Maya project that is set (/projects/demo/)" in checks[0].message
    assert checks_for(maya_scene, spec, project_flag=True) == []
    assert checks_for(maya_scene, spec, project_flag=False) == []
