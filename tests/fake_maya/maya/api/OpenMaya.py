"""The fake ``maya.api.OpenMaya`` (Python API 2.0; tests only): what a plug-in file needs.

``MFnPlugin(mobject, vendor="Unknown", version="Unknown", apiVersion="Any")`` as documented (Python API 2.0
reference, MFnPlugin); ``registerCommand`` / ``deregisterCommand`` keep a table. ``MGlobal.mayaState()`` answers
``kBatch`` when the open scene is in batch mode (``cmds.about(batch=True)``), else ``kInteractive``; tests may set
``MGlobal._state`` to force a state (``kBaseUIMode``, ``kLibraryApp``).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = ["MGlobal", "MObject", "MFnPlugin", "MPxCommand"]


class MObject(object):
    """An opaque handle (a plug-in's, here)."""


class MPxCommand(object):
    def __init__(self) -> None:
        pass


class MGlobal(object):
    kInteractive = 0
    kBatch = 1
    kLibraryApp = 2
    kBaseUIMode = 3
    _state = None  # type: Optional[int]

    @classmethod
    def mayaState(cls) -> int:
        if cls._state is not None:
            return cls._state
        from maya import _scene
        return cls.kBatch if _scene.current().batch else cls.kInteractive

    @staticmethod
    def displayError(message: str) -> None:
        from maya import _ui_cmds
        _ui_cmds.shown.append(("error", str(message)))

    @staticmethod
    def displayWarning(message: str) -> None:
        from maya import _ui_cmds
        _ui_cmds.shown.append(("warning", str(message)))

    @staticmethod
    def displayInfo(message: str) -> None:
        from maya import _ui_cmds
        _ui_cmds.shown.append(("info", str(message)))


class MFnPlugin(object):
    _registry = {}  # type: Dict[int, "MFnPlugin"]

    def __init__(self, obj: Optional[MObject] = None, vendor: str = "Unknown", version: str = "Unknown",
                 apiVersion: str = "Any") -> None:
        if obj is not None and not isinstance(obj, MObject):
            raise TypeError("MFnPlugin: an MObject is expected")
        known = MFnPlugin._registry.get(id(obj)) if obj is not None else None
        if known is not None and (vendor, version) == ("Unknown", "Unknown"):
            vendor, version = known.vendor, known.version
        self.obj = obj
        self.vendor = vendor
        self.version = version
        self.apiVersion = apiVersion
        self.commands = known.commands if known is not None else {}  # type: Dict[str, Any]
        if obj is not None:
            MFnPlugin._registry[id(obj)] = self

    def registerCommand(self, name: str, creator: Any, syntax: Any = None) -> None:
        if name in self.commands:
            raise RuntimeError("registerCommand: %s is already registered" % name)
        self.commands[name] = creator

    def deregisterCommand(self, name: str) -> None:
        if name not in self.commands:
            raise RuntimeError("deregisterCommand: %s is not registered" % name)
        del self.commands[name]
