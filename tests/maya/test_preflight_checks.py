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
                 "animation_off"):
        assert errors(checks_for(maya_scene, name)) == [], name


def test_the_original_scene_is_clean(maya_scene):
    assert checks_for(maya_scene, "mental_ray_2016") == []


def test_untitled_scene(maya_scene):
    checks = checks_for(maya_scene, "untitled")
    assert found(checks) == [(ERROR, "untitled"), (WARNING, "default_cameras_only"), (WARNING, "local_output")]
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


def test_no_renderable_layer(maya_scene):
    checks = checks_for(maya_scene, {"file": "/p/s.ma", "layers": [{"name": "defaultRenderLayer",
                                                                     "renderable": False}]})
    assert found(checks) == [(ERROR, "no_layer"), (INFO, "layer_left_out")]


def test_no_renderable_camera(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, cameras=[{"name": "persp", "renderable": False},
                                                             {"name": "camera1", "renderable": False}])
    checks = checks_for(maya_scene, spec)
    assert checks == [Check(ERROR, "no_camera", "Render layer masterLayer has no renderable camera.")]


def test_a_layer_override_can_leave_a_layer_without_camera(maya_scene):
    spec = _scenes.variant(_scenes.LEGACY_LAYERS)
    spec["layers"][2]["overrides"]["shotCamShape.renderable"] = False
    assert found(checks_for(maya_scene, spec)) == [(ERROR, "no_camera"), (INFO, "layer_left_out"),
                                                   (INFO, "layer_left_out")]


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
    checks = checks_for(maya_scene, "two_cameras", renderer="mr")
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


def test_fractional_frames_warn(maya_scene):
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, render_globals={"startFrame": 1.5, "endFrame": 3})
    assert found(checks_for(maya_scene, spec)) == [(WARNING, "fractional_frames")]


def test_unknown_layer_and_camera_options(maya_scene):
    checks = checks_for(maya_scene, "render_setup_layers", layers=["nope"])
    assert found(checks) == [(ERROR, "unknown_layer"), (INFO, "layer_left_out")]
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
    spec = _scenes.variant(_scenes.MENTAL_RAY_2016, project="C:/Users/artist/Documents/maya/projects/demo/")
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
