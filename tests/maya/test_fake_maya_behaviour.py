"""The fake maya package behaves as the documented commands do, so tests against it mean something."""
from __future__ import annotations

import pytest

from maya import _scene, _scenes, cmds, mel


def test_return_types_and_empty_answers(maya_scene):
    maya_scene("two_cameras")
    assert cmds.ls(type="renderLayer") == ["defaultRenderLayer"]
    assert cmds.ls(type="noSuchType") == []  # ls: an empty list
    assert cmds.listRelatives("persp", parent=True) is None  # listRelatives: None
    assert cmds.listConnections("defaultRenderGlobals") is None  # listConnections: None
    assert all(isinstance(n, str) for n in cmds.ls(cameras=True))
    assert cmds.getAttr("defaultRenderGlobals.startFrame") == 1001.0
    assert isinstance(cmds.getAttr("defaultRenderGlobals.startFrame"), float)  # time attributes are floats
    assert cmds.getAttr("defaultRenderGlobals.animation") is True
    assert cmds.getAttr("defaultRenderGlobals.imageFilePrefix") is None  # an unset string attribute


def test_cameras_are_shapes_with_transform_parents(maya_scene):
    maya_scene("two_cameras")
    assert cmds.ls(cameras=True) == ["perspShape", "topShape", "frontShape", "sideShape", "cam:mainShape",
                                     "witnessShape"]
    assert cmds.listRelatives("witnessShape", parent=True) == ["witness"]
    assert cmds.listRelatives("witness", children=True) == ["witnessShape"]
    assert cmds.getAttr("witnessShape.renderable") is True
    assert cmds.getAttr("witness.renderable") is True  # a transform passes the attribute on to its shape
    assert cmds.getAttr("topShape.rnd") is False  # short attribute names


def test_unknown_names_raise_as_maya_does(maya_scene):
    maya_scene("two_cameras")
    with pytest.raises(ValueError, match="No object matches name: nothing.renderable"):
        cmds.getAttr("nothing.renderable")
    with pytest.raises(ValueError, match="No object matches name: persp.noSuchAttr"):
        cmds.getAttr("persp.noSuchAttr")
    with pytest.raises(ValueError):
        cmds.listConnections("nothing.message")
    with pytest.raises(TypeError, match="Invalid flag"):
        cmds.ls(noSuchFlag=True)
    with pytest.raises(RuntimeError):
        mel.eval("thisIsNotMel -x")
    with pytest.raises(RuntimeError):
        cmds.editRenderLayerGlobals(currentRenderLayer="persp")


def test_ambiguous_names(maya_scene):
    maya_scene({"cameras": [{"name": "cam", "parent": "a"}, {"name": "cam", "parent": "b"}]})
    assert cmds.ls(cameras=True)[-2:] == ["a|cam|camShape", "b|cam|camShape"]
    with pytest.raises(ValueError, match="More than one object matches name: camShape.renderable"):
        cmds.getAttr("camShape.renderable")
    assert cmds.listRelatives("a|cam|camShape", parent=True) == ["a|cam"]
    assert cmds.listRelatives("a|cam|camShape", parent=True, fullPath=True) == ["|a|cam"]


def test_untitled_scene_and_queries(maya_scene):
    maya_scene("untitled")
    assert cmds.file(q=True, sceneName=True) == ""
    assert cmds.file(query=True, sn=True) == ""
    assert cmds.file(q=True, modified=True) is True
    assert cmds.about(version=True) == "2025"
    assert cmds.about(batch=True) is False
    assert cmds.workspace(q=True, rootDirectory=True) == "/home/artist/maya/projects/default/"
    assert mel.eval('workspace -q -fileRuleEntry "images"') == "images"
    assert mel.eval('workspace -q -fileRuleEntry "noSuchRule"') == ""
    assert cmds.pluginInfo("Mayatomr", q=True, loaded=True) is False
    assert cmds.currentTime(q=True) == 1.0


def test_layers_connections_and_switching(maya_scene):
    scene = maya_scene("render_setup_layers")
    assert cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) == "rs_renderSetupLayer2"
    assert cmds.getAttr("defaultRenderGlobals.startFrame") == 20.0
    cmds.editRenderLayerGlobals(currentRenderLayer="defaultRenderLayer")
    assert cmds.getAttr("defaultRenderGlobals.startFrame") == 1.0
    assert scene.switches == ["defaultRenderLayer"]
    assert cmds.listConnections("rs_renderSetupLayer2.message", type="renderSetupLayer") == ["renderSetupLayer2"]
    assert cmds.listConnections("rs_renderSetupLayer2.message", type="renderLayer") is None
    managed = cmds.listConnections("renderLayerManager.renderLayerId")
    assert managed[0] == "defaultRenderLayer" and "rs_notRenderableLayer" in managed
    assert cmds.listConnections("renderLayerManager.rlmi") == managed  # short attribute name
    assert mel.eval('renderLayerDisplayName "rs_renderSetupLayer2"') == "renderSetupLayer2"
    assert mel.eval('renderLayerDisplayName "defaultRenderLayer"') == "masterLayer"


def test_referenced_layers(maya_scene):
    maya_scene("referenced_layer")
    assert cmds.referenceQuery("ref:beauty", isNodeReferenced=True) is True
    assert cmds.referenceQuery("beauty", isNodeReferenced=True) is False
    with pytest.raises(RuntimeError):
        cmds.editRenderLayerGlobals(currentRenderLayer="ref:beauty")


def test_every_call_is_logged(maya_scene):
    scene = maya_scene("mental_ray_2016")
    cmds.about(version=True)
    mel.eval('workspace -q -fileRuleEntry "images"')
    assert scene.calls == [("about", (), {"version": True}),
                           ("mel.eval", ('workspace -q -fileRuleEntry "images"',), {})]


def test_a_scene_is_always_open():
    _scene.reset()
    assert cmds.file(q=True, sceneName=True) == ""
    assert cmds.ls(type="renderLayer") == ["defaultRenderLayer"]


def test_catalogue_scenes_load():
    for spec in _scenes.CATALOGUE.values():
        assert _scene.load(spec).nodes["defaultRenderLayer"].type == "renderLayer"
    _scene.reset()


def test_render_setup_mode_as_maya_versions_have_it(maya_scene):
    for version, has in (("2016", False), ("2016 Extension 2", True), ("2017", True), ("2027", True)):
        maya_scene({"version": version})
        assert hasattr(cmds, "mayaHasRenderSetup") is has, version
    maya_scene({"version": "2016 Extension 2"})
    assert cmds.mayaHasRenderSetup() is False  # 2016.5 started in legacy mode
    maya_scene({"version": "2024"})
    assert cmds.mayaHasRenderSetup() is True  # Maya's default preference from 2017
    maya_scene({"version": "2024", "render_setup_mode": False})
    assert cmds.mayaHasRenderSetup() is False


def test_switching_to_a_legacy_layer_in_render_setup_mode(maya_scene):
    scene = maya_scene("legacy_in_render_setup")
    cmds.editRenderLayerGlobals(currentRenderLayer="beauty")  # Maya 2024: ignored, no error
    assert cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) == "defaultRenderLayer"
    cmds.editRenderLayerGlobals(currentRenderLayer="rs_fx")
    assert cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) == "rs_fx"
    assert scene.switches == ["rs_fx"]
    maya_scene(_scenes.variant(_scenes.LEGACY_IN_RENDER_SETUP, version="2023"))
    cmds.editRenderLayerGlobals(currentRenderLayer="beauty")
    assert cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) == "beauty"


def test_a_layer_whose_switch_fails(maya_scene):
    maya_scene("flaky_switch")
    with pytest.raises(RuntimeError, match="because of an override to a missing node within a referenced scene"):
        cmds.editRenderLayerGlobals(currentRenderLayer="rs_key")
    assert cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) == "defaultRenderLayer"
    cmds.editRenderLayerGlobals(currentRenderLayer="rs_key")
    assert cmds.editRenderLayerGlobals(q=True, currentRenderLayer=True) == "rs_key"


def test_v_ray_settings_node(maya_scene):
    maya_scene("vray_specific_frames")
    assert cmds.objExists("vraySettings") is True
    assert cmds.ls(type="VRaySettingsNode") == ["vraySettings"]
    assert cmds.getAttr("vraySettings.animType") == 2
    assert cmds.getAttr("vraySettings.animFrames") == "1-3;10"
    maya_scene("two_cameras")
    assert cmds.objExists("vraySettings") is False
    assert cmds.objExists("witness") is True and cmds.objExists("witnessShape.renderable") is True
    with pytest.raises(ValueError):
        cmds.getAttr("vraySettings.animType")
