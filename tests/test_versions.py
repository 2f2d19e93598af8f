"""One version number, everywhere it is written."""
from __future__ import annotations

import os
import re

import farm_node
import maya_plugin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_package_module_and_project_versions_agree():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        project = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    with open(os.path.join(ROOT, "mod", "PyFarm.mod")) as f:
        module = f.readline().split()[2]
    assert farm_node.__version__ == maya_plugin.__version__ == project == module
