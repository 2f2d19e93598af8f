"""Fixtures of the UI tests: offscreen Qt, the fake ``maya`` package on the path, synthetic feed answers.

The tests that need a real farm node take the ``farm_node_server`` fixture of ``tests/conftest.py``.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(_HERE))
FAKE_MAYA = os.path.join(REPO, "tests", "fake_maya")
for _path in (REPO, FAKE_MAYA):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import pytest  # noqa: E402

from maya_plugin.qt import QtCore  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    """A QSettings in a temporary INI file (never the user's own)."""
    return QtCore.QSettings(str(tmp_path / "pyfarm.ini"), QtCore.QSettings.IniFormat)
