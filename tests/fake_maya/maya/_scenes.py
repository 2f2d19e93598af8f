"""The test scenes, as data for ``maya._scene.load``. Each names what it covers and where its shape comes from."""
from __future__ import annotations

import copy
from typing import Any, Dict

_STARTUP_OFF = [{"name": "persp", "renderable": False}]


def variant(base: Dict[str, Any], **changes: Any) -> Dict[str, Any]:
    """A copy of a scene with top-level keys replaced (``render_globals`` is merged)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if key == "render_globals":
            out.setdefault("render_globals", {}).update(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# The original design's scene (shared/seed): mental ray on Maya 2016, one layer, one camera, frames 1-3.
MENTAL_RAY_2016 = {
    "file": "/projects/demo/scenes/scene.mb",
    "version": "2016",
    "plugins": ["Mayatomr"],
    "project": "/projects/demo/",
    "file_rules": {"images": "images"},
    "render_globals": {"currentRenderer": "mentalRay", "startFrame": 1, "endFrame": 3, "animation": True},
    "cameras": _STARTUP_OFF + [{"name": "camera1"}],
    "layers": [{"name": "defaultRenderLayer"}],
}

# Legacy render layers: the master layer switched off, two renderable layers (one overriding the range and the
# renderer), one layer that is not renderable. Maya 2016 Software.
LEGACY_LAYERS = {
    "file": "/jobs/show/shot010/lighting/shot010_lighting_v003.mb",
    "version": "2016",
    "project": "/jobs/show/shot010/",
    "file_rules": {"images": "renders"},
    "render_globals": {"currentRenderer": "mayaSoftware", "startFrame": 1, "endFrame": 10, "animation": True,
                       "imageFilePrefix": "<RenderLayer>/<Scene>"},
    "cameras": _STARTUP_OFF + [{"name": "shotCam"}],
    "layers": [
        {"name": "defaultRenderLayer", "renderable": False},
        {"name": "beauty"},
        {"name": "shadow", "overrides": {"defaultRenderGlobals.startFrame": 5, "defaultRenderGlobals.endFrame": 8,
                                         "defaultRenderGlobals.currentRenderer": "mayaHardware2"}},
        {"name": "wip", "renderable": False},
    ],
    "current_layer": "beauty",
}

# Render Setup layers, modelled on DCM job_bundle_output_tests/layers/scene/layers.ma (Maya 2023) and its oracle
# expected_job_bundle (parameter_values.yaml, template.yaml): renderer mayaHardware2; masterLayer 1-10 [camera1,
# persp]; layerFrameRange1 1-10 [camera1, persp]; renderSetupLayer2 20-30 [camera1, camera2, camera3];
# layerDefaultFrames 1-10 [camera1]; renderSetupLayer4 1-20 [camera1, persp]; notRenderableLayer left out.
RENDER_SETUP_LAYERS = {
    "file": "/projects/layers/scenes/layers.ma",
    "version": "2023",
    "project": "/projects/layers/",
    "file_rules": {"images": "images"},
    "render_globals": {"currentRenderer": "mayaHardware2", "startFrame": 1, "endFrame": 10, "animation": True},
    "cameras": [{"name": "camera1"}, {"name": "camera2", "renderable": False},
                {"name": "camera3", "renderable": False}],
    "layers": [
        {"name": "defaultRenderLayer"},
        {"name": "layerFrameRange1", "setup": True,
         "overrides": {"defaultRenderGlobals.startFrame": 1, "defaultRenderGlobals.endFrame": 10}},
        {"name": "renderSetupLayer2", "setup": True,
         "overrides": {"defaultRenderGlobals.startFrame": 20, "defaultRenderGlobals.endFrame": 30,
                       "perspShape.renderable": False, "camera2Shape.renderable": True,
                       "camera3Shape.renderable": True,
                       "defaultRenderGlobals.imageFilePrefix": "<RenderLayer>/<Camera>/<Scene>"}},
        {"name": "layerDefaultFrames", "setup": True, "overrides": {"perspShape.renderable": False}},
        {"name": "renderSetupLayer4", "setup": True, "overrides": {"defaultRenderGlobals.endFrame": 20}},
        {"name": "notRenderableLayer", "setup": True, "renderable": False},
    ],
    "current_layer": "rs_renderSetupLayer2",
}

# One layer rendering two cameras (Arnold, Maya 2022), one of them in a namespace.
TWO_CAMERAS = {
    "file": "/projects/stereo/scenes/stereo_v001.ma",
    "version": "2022",
    "project": "/projects/stereo/",
    "render_globals": {"currentRenderer": "arnold", "startFrame": 1001, "endFrame": 1004, "animation": True},
    "cameras": _STARTUP_OFF + [{"name": "cam:main"}, {"name": "witness"}],
    "layers": [{"name": "defaultRenderLayer"}],
}

# Layers from elsewhere, after DCM job_bundle_output_tests/referenced_layers (an imported renderLayerManager): a
# referenced layer, a layer of an imported file's manager, and a layer of the main manager. V-Ray, Maya 2020.
REFERENCED_LAYER = {
    "file": "/projects/refs/scenes/referenced_layers.ma",
    "version": "2020",
    "project": "/projects/refs/",
    "render_globals": {"currentRenderer": "vray", "startFrame": 1, "endFrame": 2, "animation": True},
    "cameras": _STARTUP_OFF + [{"name": "camera1"}],
    "layers": [
        {"name": "defaultRenderLayer"},
        {"name": "ref:beauty", "referenced": True, "manager": "ref:renderLayerManager"},
        {"name": "imported_scene_beauty", "manager": "imported_scene_renderLayerManager"},
        {"name": "beauty"},
    ],
    # V-Ray's own prefix, with the layer token V-Ray asks for when a scene has layers (Chaos docs, Common tab).
    "vray_settings": {"fileNamePrefix": "<Layer>/<Scene>"},
}

# Animation off: only the current frame renders (DL MEL; DCM scene.py). Redshift, Maya 2024.
ANIMATION_OFF = {
    "file": "/projects/still/scenes/still.mb",
    "version": "2024",
    "project": "/projects/still/",
    "current_time": 42.0,
    "render_globals": {"currentRenderer": "redshift", "startFrame": 1, "endFrame": 100, "animation": False},
    "cameras": _STARTUP_OFF + [{"name": "camera1"}],
}

# A new scene that was never saved: only Maya's startup cameras, persp renderable.
UNTITLED = {
    "file": "",
    "modified": True,
    "version": "2025",
    "project": "/home/artist/maya/projects/default/",
}

# A render step of 2 (defaultRenderGlobals.byFrameStep, ".bfs" in a .ma): Render keeps it for every task that does
# not say -b (notes, section 8). Maya Software, Maya 2022, frames 1-6.
STEP_TWO = {
    "file": "/projects/steps/scenes/steps_v002.mb",
    "version": "2022",
    "project": "/projects/steps/",
    "render_globals": {"currentRenderer": "mayaSoftware", "startFrame": 1, "endFrame": 6, "byFrameStep": 2,
                       "animation": True},
    "cameras": _STARTUP_OFF + [{"name": "shotCam"}],
}

# V-Ray "Specific frames" (vraySettings.animType 2, animFrames "1-3;10") over a 1-24 range: V-Ray renders its list
# (DL DeadlineGetFrameList; notes, section 8). Maya 2023; V-Ray's image prefix lives in vraySettings.fileNamePrefix.
VRAY_SPECIFIC_FRAMES = {
    "file": "/projects/vray/scenes/hero_v010.ma",
    "version": "2023",
    "project": "/projects/vray/",
    "render_globals": {"currentRenderer": "vray", "startFrame": 1, "endFrame": 24, "animation": True},
    "cameras": _STARTUP_OFF + [{"name": "heroCam"}],
    "vray_settings": {"animType": 2, "animFrames": "1-3;10", "fileNamePrefix": "<Scene>/<Camera>"},
}

# Two renderable cameras whose prefix already names the camera: nothing for the farm to add.
TWO_CAMERAS_NAMED = variant(TWO_CAMERAS, render_globals={"imageFilePrefix": "<Camera>/<Scene>"})

# Two renderable cameras with V-Ray, whose prefix (vraySettings.fileNamePrefix) lacks <Camera>: the farm cannot
# rename V-Ray's images on the command line, so the scene is refused until the prefix names the camera.
VRAY_TWO_CAMERAS = variant(TWO_CAMERAS, render_globals={"currentRenderer": "vray"},
                           vray_settings={"fileNamePrefix": "<Scene>"})

# Legacy render layers in a Render Setup scene on Maya 2024: Maya ignores switches to them without a word (AWS
# Deadline Cloud PR #388). One Render Setup layer beside them renders as usual.
LEGACY_IN_RENDER_SETUP = {
    "file": "/projects/mixed/scenes/mixed_v004.mb",
    "version": "2024",
    "render_setup_mode": True,
    "project": "/projects/mixed/",
    "render_globals": {"currentRenderer": "arnold", "startFrame": 1, "endFrame": 4, "animation": True,
                       "imageFilePrefix": "<RenderLayer>/<Scene>"},
    "cameras": _STARTUP_OFF + [{"name": "shotCam"}],
    "layers": [
        {"name": "defaultRenderLayer", "renderable": False},
        {"name": "beauty"},
        {"name": "shadow", "overrides": {"defaultRenderGlobals.endFrame": 2}},
        {"name": "fx", "setup": True},
    ],
}

# The same layers on a Maya 2024 in legacy mode: they read (and render) only there.
LEGACY_LAYERS_2024 = variant(LEGACY_IN_RENDER_SETUP, render_setup_mode=False,
                             layers=LEGACY_IN_RENDER_SETUP["layers"][:3])

# A Render Setup layer whose first switch fails as Maya's does for an override of a missing referenced node
# (Colorbleed PR #248), and one whose switch keeps failing.
FLAKY_SWITCH = {
    "file": "/projects/flaky/scenes/flaky.ma",
    "version": "2025",
    "project": "/projects/flaky/",
    "render_globals": {"currentRenderer": "arnold", "startFrame": 1, "endFrame": 2, "animation": True,
                       "imageFilePrefix": "<RenderLayer>/<Scene>"},
    "cameras": _STARTUP_OFF + [{"name": "shotCam"}],
    "layers": [{"name": "defaultRenderLayer"},
               {"name": "key", "setup": True, "switch_failures": 1,
                "overrides": {"defaultRenderGlobals.endFrame": 3}}],
}
BROKEN_SWITCH = variant(FLAKY_SWITCH, layers=[{"name": "defaultRenderLayer"},
                                              {"name": "key", "setup": True, "switch_failures": 2}])

CATALOGUE = {
    "mental_ray_2016": MENTAL_RAY_2016,
    "legacy_layers": LEGACY_LAYERS,
    "render_setup_layers": RENDER_SETUP_LAYERS,
    "two_cameras": TWO_CAMERAS,
    "referenced_layer": REFERENCED_LAYER,
    "animation_off": ANIMATION_OFF,
    "untitled": UNTITLED,
    "step_two": STEP_TWO,
    "vray_specific_frames": VRAY_SPECIFIC_FRAMES,
    "two_cameras_named": TWO_CAMERAS_NAMED,
    "vray_two_cameras": VRAY_TWO_CAMERAS,
    "legacy_in_render_setup": LEGACY_IN_RENDER_SETUP,
    "legacy_layers_2024": LEGACY_LAYERS_2024,
    "flaky_switch": FLAKY_SWITCH,
    "broken_switch": BROKEN_SWITCH,
}
