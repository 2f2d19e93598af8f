"""maya_plugin.scene.read_scene against the fake Maya's scenes: the exact description it gives back."""
from __future__ import annotations

import sys

import pytest

from maya import _scenes
from maya_plugin import scene as scene_mod
from maya_plugin.errors import SceneError
from maya_plugin.scene import CameraInfo, LayerInfo, read_scene


def cam(name, renderable=True, shape=None, default=None):
    return CameraInfo(name=name, shape=shape or name + "Shape", renderable=renderable,
                      default=name in ("persp", "top", "front", "side") if default is None else default)


STARTUP_OFF = (cam("persp", False), cam("top", False), cam("front", False), cam("side", False))


def test_the_original_designs_mental_ray_scene(maya_scene):
    maya_scene("mental_ray_2016")
    info = read_scene()
    assert info.path == "/projects/demo/scenes/scene.mb"
    assert not info.untitled and not info.modified
    assert info.maya_version == "2016" and info.maya_year == 2016
    assert info.mental_ray_loaded is True
    assert info.project == "/projects/demo/"
    assert info.output == "/projects/demo/images"
    assert info.renderer == "mentalRay"
    assert info.current_layer == "defaultRenderLayer"
    assert info.skipped == ()
    assert info.layers == (LayerInfo(
        node="defaultRenderLayer", name="masterLayer", renderer="mentalRay", start=1.0, end=3.0, step=1.0,
        animation=True, prefix="", cameras=STARTUP_OFF + (cam("camera1"),), render_setup=False),)
    assert [c.name for c in info.layers[0].renderable_cameras] == ["camera1"]


def test_legacy_layers_leave_out_the_ones_that_do_not_render(maya_scene):
    scene = maya_scene("legacy_layers")
    info = read_scene()
    assert [(l.node, l.name, l.renderer, l.start, l.end) for l in info.layers] == [
        ("beauty", "beauty", "mayaSoftware", 1.0, 10.0),
        ("shadow", "shadow", "mayaHardware2", 5.0, 8.0),
    ]
    assert info.skipped == (("defaultRenderLayer", "masterLayer", "not renderable"), ("wip", "wip", "not renderable"))
    assert info.layers[0].prefix == "<RenderLayer>/<Scene>"
    assert info.output == "/jobs/show/shot010/renders"
    # The current layer (beauty) is read without a switch; shadow needs one, and beauty is current again after.
    assert scene.switches == ["shadow", "beauty"]
    assert scene.current_layer == "beauty"
    assert info.current_layer == "beauty" and info.renderer == "mayaSoftware"


def test_render_setup_layers_follow_the_dcm_layers_oracle(maya_scene):
    """DCM job_bundle_output_tests/layers: per-layer frames and cameras, rs_ nodes for -rl, names for humans."""
    scene = maya_scene("render_setup_layers")
    info = read_scene()
    got = [(l.node, l.name, l.render_setup, "%g-%g" % (l.start, l.end), sorted(c.name for c in l.renderable_cameras))
           for l in info.layers]
    assert got == [
        ("defaultRenderLayer", "masterLayer", False, "1-10", ["camera1", "persp"]),
        ("rs_layerFrameRange1", "layerFrameRange1", True, "1-10", ["camera1", "persp"]),
        ("rs_renderSetupLayer2", "renderSetupLayer2", True, "20-30", ["camera1", "camera2", "camera3"]),
        ("rs_layerDefaultFrames", "layerDefaultFrames", True, "1-10", ["camera1"]),
        ("rs_renderSetupLayer4", "renderSetupLayer4", True, "1-20", ["camera1", "persp"]),
    ]
    assert info.skipped == (("rs_notRenderableLayer", "notRenderableLayer", "not renderable"),)
    assert info.skipped_layer("notRenderableLayer").node == "rs_notRenderableLayer"
    assert all(l.renderer == "mayaHardware2" for l in info.layers)
    assert info.layer("renderSetupLayer2").prefix == "<RenderLayer>/<Camera>/<Scene>"
    assert info.layer("rs_renderSetupLayer2") is info.layer("renderSetupLayer2")
    # Switched back to the layer that was current, in a finally.
    assert scene.current_layer == "rs_renderSetupLayer2"
    assert scene.switches[-1] == "rs_renderSetupLayer2"
    assert "rs_renderSetupLayer2" not in scene.switches[:-1]


def test_a_renamed_legacy_node_is_found_through_its_connection(maya_scene):
    """The rs_ name is only a default: the display name comes from the rs_X.message -> X connection."""
    maya_scene({"file": "/p/s.ma", "layers": [{"name": "beauty", "setup": True, "node": "legacyBeautyNode"}]})
    info = read_scene()
    assert [(l.node, l.name, l.render_setup) for l in info.layers] == [
        ("defaultRenderLayer", "masterLayer", False), ("legacyBeautyNode", "beauty", True)]


def test_two_renderable_cameras(maya_scene):
    maya_scene("two_cameras")
    info = read_scene()
    (layer,) = info.layers
    assert layer.renderable_cameras == [cam("cam:main", shape="cam:mainShape"), cam("witness")]
    assert info.renderer == "arnold"
    assert (layer.start, layer.end) == (1001.0, 1004.0)


def test_referenced_and_foreign_layers_are_left_out(maya_scene):
    maya_scene("referenced_layer")
    info = read_scene()
    assert [l.node for l in info.layers] == ["defaultRenderLayer", "beauty"]
    assert info.skipped == (
        ("ref:beauty", "ref:beauty", "referenced from another file"),
        ("imported_scene_beauty", "imported_scene_beauty", "not connected to the scene's renderLayerManager"),
    )


def test_animation_off_renders_the_current_frame(maya_scene):
    maya_scene("animation_off")
    info = read_scene()
    (layer,) = info.layers
    assert layer.animation is False
    assert info.current_frame == 42.0
    assert layer.renderer == "redshift"


def test_untitled_scene(maya_scene):
    maya_scene("untitled")
    info = read_scene()
    assert info.path == "" and info.untitled and info.modified
    assert [c.name for c in info.layers[0].renderable_cameras] == ["persp"]
    assert info.layers[0].renderable_cameras[0].default is True
    assert info.maya_year == 2025


def test_cameras_under_groups_keep_unique_names(maya_scene):
    maya_scene({"file": "/p/s.ma", "cameras": [
        {"name": "shot", "parent": "grpA"}, {"name": "shot", "parent": "grpB", "renderable": False},
        {"name": "persp", "parent": "rig", "renderable": True}]})
    cameras = read_scene().layers[0].cameras
    by_name = dict((c.name, c) for c in cameras)
    assert by_name["grpA|shot"].renderable and by_name["grpA|shot"].shape == "grpA|shot|shotShape"
    assert not by_name["grpB|shot"].renderable
    # A camera called persp under a group is not Maya's startup camera.
    assert by_name["rig|persp"].default is False and by_name["|persp"].default is True


def test_an_unreadable_camera_flag_means_not_renderable(maya_scene, monkeypatch):
    scene = maya_scene("two_cameras")
    real_get = scene.get

    def get(plug):
        if plug.startswith("witnessShape."):
            raise RuntimeError("cannot read")
        return real_get(plug)

    monkeypatch.setattr(scene, "get", get)
    layer = read_scene().layers[0]
    assert [c.name for c in layer.renderable_cameras] == ["cam:main"]


def test_maya_errors_become_scene_errors_and_the_layer_is_restored(maya_scene, monkeypatch):
    scene = maya_scene("legacy_layers")
    real_get = scene.get

    def get(plug):
        if scene.current_layer == "shadow" and plug == "defaultRenderGlobals.endFrame":
            raise RuntimeError("// Error: something broke")
        return real_get(plug)

    monkeypatch.setattr(scene, "get", get)
    with pytest.raises(SceneError) as info:
        read_scene()
    assert "something broke" in str(info.value)
    assert isinstance(info.value.detail, RuntimeError)
    assert scene.current_layer == "beauty"


def test_unknown_node_value_error_becomes_scene_error(maya_scene, monkeypatch):
    scene = maya_scene("mental_ray_2016")
    del scene.nodes["defaultRenderGlobals"]
    with pytest.raises(SceneError) as info:
        read_scene()
    assert "No object matches name: defaultRenderGlobals.currentRenderer" in str(info.value)


def test_without_maya_reading_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "maya.cmds", None)
    with pytest.raises(SceneError) as info:
        read_scene()
    assert "inside Maya" in str(info.value)


def test_every_call_made_is_documented(maya_scene):
    """Each maya.cmds / maya.mel command the reading calls is listed in scene.MAYA_CALLS with its source."""
    from maya import _scenes
    for name in sorted(set(_scenes.CATALOGUE) - {"broken_switch"}):
        scene = maya_scene(name)
        read_scene()
        documented = " ".join(call for call, _fact in scene_mod.MAYA_CALLS)
        for command, args, kwargs in scene.calls:
            if command == "mel.eval":
                assert args[0].split()[0] in documented, args
            else:
                assert "cmds.%s(" % command in documented, command
                for flag in kwargs:
                    assert flag in documented, (command, flag)


def test_render_setup_mode_is_read_where_maya_has_it(maya_scene):
    maya_scene("render_setup_layers")
    assert read_scene().render_setup_mode is True
    maya_scene("legacy_layers")  # Maya 2016: no mayaHasRenderSetup command at all
    assert read_scene().render_setup_mode is False
    maya_scene("legacy_layers_2024")
    assert read_scene().render_setup_mode is False


def test_legacy_layers_of_a_render_setup_scene_are_not_read(maya_scene):
    """Maya 2024+ ignores switches to them in Render Setup mode: reading them would give another layer's values."""
    scene = maya_scene("legacy_in_render_setup")
    info = read_scene()
    assert [l.node for l in info.layers] == ["rs_fx"]
    reason = "a legacy render layer, which Maya 2024 and later ignore in Render Setup mode"
    assert info.ignored_legacy == (("beauty", "beauty", reason), ("shadow", "shadow", reason))
    assert info.skipped == (("defaultRenderLayer", "masterLayer", "not renderable"),)
    assert scene.switches == ["rs_fx", "defaultRenderLayer"]  # never asked to switch to a legacy layer
    assert info.skipped_layer("beauty").reason == reason
    # The same scene in an older Maya: its legacy layers switch and read.
    maya_scene(_scenes.variant(_scenes.LEGACY_IN_RENDER_SETUP, version="2023"))
    info = read_scene()
    assert [(l.node, l.end, l.legacy) for l in info.layers] == [
        ("beauty", 4.0, True), ("shadow", 2.0, True), ("rs_fx", 4.0, False)]
    assert info.ignored_legacy == ()


def test_a_failed_switch_is_tried_once_more(maya_scene):
    scene = maya_scene("flaky_switch")
    info = read_scene()
    assert [(l.node, l.end) for l in info.layers] == [("defaultRenderLayer", 2.0), ("rs_key", 3.0)]
    switches = [c for c in scene.calls if c[0] == "editRenderLayerGlobals" and "currentRenderLayer" in c[2]
                and not c[2].get("q")]
    assert [c[2]["currentRenderLayer"] for c in switches] == ["rs_key", "rs_key", "defaultRenderLayer"]
    assert scene.current_layer == "defaultRenderLayer"


def test_a_switch_that_fails_twice_gives_up_and_names_the_layer(maya_scene):
    scene = maya_scene("broken_switch")
    with pytest.raises(SceneError) as info:
        read_scene()
    assert str(info.value) == ("Maya did not switch to render layer rs_key (tried 2 times): Cannot switch from "
                               "'defaultRenderLayer' to 'rs_key' because of an override to a missing node within a "
                               "referenced scene.")
    assert scene.current_layer == "defaultRenderLayer"


def test_an_ignored_switch_is_caught(maya_scene, monkeypatch):
    """Were a switch silently ignored, the values read would be the wrong layer's: the check after it catches it."""
    scene = maya_scene("legacy_layers_2024")
    scene.render_setup_mode = True  # the mode changed after reading it (a stale preference, a script)
    from maya_plugin import scene as reading
    monkeypatch.setattr(reading, "_render_setup_mode", lambda cmds: False)
    with pytest.raises(SceneError) as info:
        read_scene()
    assert "Maya stayed on render layer" in str(info.value)


def test_v_ray_settings_are_read_for_v_ray_layers(maya_scene):
    maya_scene("vray_specific_frames")
    (layer,) = read_scene().layers
    assert (layer.renderer, layer.frame_list, layer.prefix) == ("vray", "1-3;10", "<Scene>/<Camera>")
    maya_scene(_scenes.variant(_scenes.VRAY_SPECIFIC_FRAMES, vray_settings={"animType": 1}))
    assert read_scene().layers[0].frame_list is None
    # Without V-Ray's node (V-Ray never loaded in the scene), the render globals' prefix.
    maya_scene(_scenes.variant(_scenes.TWO_CAMERAS, render_globals={"currentRenderer": "vray",
                                                                    "imageFilePrefix": "<Camera>/x"}))
    assert read_scene().layers[0].prefix == "<Camera>/x"
    # Another renderer never reads vraySettings, even when the node is there.
    scene = maya_scene(_scenes.variant(_scenes.VRAY_SPECIFIC_FRAMES, render_globals={"currentRenderer": "arnold"}))
    assert read_scene().layers[0].frame_list is None
    assert not [c for c in scene.calls if "vraySettings" in str(c[1])]


@pytest.mark.parametrize("version,year", [("2022", 2022), ("2016 Extension 2", 2016), ("2017ff05", 2017),
                                          ("", None), ("Preview", None)])
def test_maya_year(version, year):
    assert scene_mod.maya_year(version) == year


@pytest.mark.parametrize("root,rule,joined", [
    ("/projects/demo/", "images", "/projects/demo/images"),
    ("/projects/demo", "renders/final", "/projects/demo/renders/final"),
    ("/projects/demo/", "", "/projects/demo/"),
    ("/projects/demo/", "/net/renders", "/net/renders"),
    ("C:/proj/", "D:/renders", "D:/renders"),
    ("", "images", "images"),
])
def test_images_rule_joined_to_the_project(root, rule, joined):
    assert scene_mod.join_rule(root, rule) == joined
