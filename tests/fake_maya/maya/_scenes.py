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

CATALOGUE = {
    "mental_ray_2016": MENTAL_RAY_2016,
    "legacy_layers": LEGACY_LAYERS,
    "render_setup_layers": RENDER_SETUP_LAYERS,
    "two_cameras": TWO_CAMERAS,
    "referenced_layer": REFERENCED_LAYER,
    "animation_off": ANIMATION_OFF,
    "untitled": UNTITLED,
}
