"""The fake ``maya.OpenMaya`` (API 1.0; tests only): ``MGlobal`` as PyFarm uses it.

``MGlobal.mayaState()`` follows the open scene's batch flag (the same one ``cmds.about(batch=True)`` answers):
``kBatch`` in batch mode, else ``kInteractive``. Messages shown with ``displayError`` / ``displayWarning`` /
``displayInfo`` are kept in ``maya._ui_cmds.shown``.
"""
from __future__ import annotations

from maya.api.OpenMaya import MGlobal, MObject  # noqa: F401  (one MGlobal for both APIs)

__all__ = ["MGlobal", "MObject"]
