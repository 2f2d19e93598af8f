"""The two kinds of rows of the Monitor's jobs tree: a job and a subjob (frames live in the frames table's pages).

Plain objects with ``__slots__``. Each keeps the farm's own dictionary for its level (``data``: the job without
``subjobs``, the subjob without ``frames``), its row under its parent (a job's ``row`` is -1 while the filter hides
it), and an integer id. ``items`` are the Qt items of its row (``tree_cells``: what the tree shows lives in C++) and
``cells`` the plain values last written into them.
"""
from __future__ import annotations

from typing import Any, Dict, List

__all__ = ["JobNode", "SubjobNode", "KIND_JOB", "KIND_SUBJOB"]

KIND_JOB, KIND_SUBJOB = 0, 1


class JobNode(object):
    __slots__ = ("id", "name", "data", "subjobs", "by_name", "row", "items", "cells")
    kind = KIND_JOB

    def __init__(self, node_id: int, name: str, data: Dict[str, Any]) -> None:
        self.id = node_id
        self.name = name
        self.data = data
        self.subjobs = []  # type: List[SubjobNode]
        self.by_name = {}  # type: Dict[str, SubjobNode]
        self.row = -1
        self.items = []  # type: List[Any]
        self.cells = None  # type: Any

    @property
    def job(self) -> "JobNode":
        return self

    @property
    def status(self) -> str:
        return self.data.get("status") or "Queued"

    def count(self, status: str) -> int:
        """Frames of the job in ``status`` (the counts of the farm's ``frames`` key)."""
        frames = self.data.get("frames") or {}
        try:
            return int(frames.get(status.lower()) or 0)
        except (TypeError, ValueError, AttributeError):
            return 0


class SubjobNode(object):
    __slots__ = ("id", "job", "name", "data", "row", "items", "cells")
    kind = KIND_SUBJOB

    def __init__(self, node_id: int, job: JobNode, name: str, data: Dict[str, Any], row: int) -> None:
        self.id = node_id
        self.job = job
        self.name = name
        self.data = data
        self.row = row
        self.items = []  # type: List[Any]
        self.cells = None  # type: Any

    @property
    def status(self) -> str:
        return self.data.get("status") or "Queued"

    @property
    def total(self) -> int:
        return int(self.data.get("total") or 0)
