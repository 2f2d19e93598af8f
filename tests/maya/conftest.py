"""Test set-up for the Maya side's job building: the fake ``maya`` package on sys.path, and a scene loader."""
from __future__ import annotations

import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))
_FAKE = os.path.join(_ROOT, "tests", "fake_maya")
for _path in (_FAKE, _ROOT):
    if _path not in sys.path:
        sys.path.insert(0, _path)


@pytest.fixture
def maya_scene():
    """``maya_scene(spec_or_name)`` opens a fake scene (a dict, or a name from ``maya._scenes.CATALOGUE``)."""
    from maya import _scene, _scenes

    def load(spec):
        if isinstance(spec, str):
            spec = _scenes.CATALOGUE[spec]
        return _scene.load(spec)

    yield load
    _scene.reset()
