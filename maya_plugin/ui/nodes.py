"""The three kinds of rows of the Monitor's model: a job, a subjob, a frame.

Plain objects with ``__slots__`` (a 10,000-frame job is 10,000 of them). Each keeps the farm's own dictionary for its
level (``data``: the job without ``subjobs``, the subjob without ``frames``, the frame as sent), its row under its
parent, and, for jobs and subjobs, ``counts``: how many of its frames are in each status, kept up to date by the model.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

__all__ = ["JobNode", "SubjobNode", "FrameNode", "KIND_JOB", "KIND_SUBJOB", "KIND_FRAME"]

KIND_JOB, KIND_SUBJOB, KIND_FRAME = 0, 1, 2


class JobNode(object):
    __slots__ = ("id", "name", "data", "subjobs", "by_name", "row", "counts")
    kind = KIND_JOB

    def __init__(self, node_id: int, name: str, data: Dict[str, Any]) -> None:
        self.id = node_id
        self.name = name
        self.data = data
        self.subjobs = []  # type: List[SubjobNode]
        self.by_name = {}  # type: Dict[str, SubjobNode]
        self.row = 0
        self.counts = Counter()  # type: Counter

    @property
    def job(self) -> "JobNode":
        return self


class SubjobNode(object):
    __slots__ = ("id", "job", "name", "data", "frames", "numbers", "by_number", "row", "counts")
    kind = KIND_SUBJOB

    def __init__(self, node_id: int, job: JobNode, name: str, data: Dict[str, Any]) -> None:
        self.id = node_id
        self.job = job
        self.name = name
        self.data = data
        self.frames = []  # type: List[FrameNode]
        self.numbers = []  # type: List[int]
        self.by_number = {}  # type: Dict[int, FrameNode]
        self.row = 0
        self.counts = Counter()  # type: Counter


class FrameNode(object):
    __slots__ = ("id", "subjob", "number", "data", "row")
    kind = KIND_FRAME

    def __init__(self, node_id: int, subjob: SubjobNode, number: int, data: Dict[str, Any]) -> None:
        self.id = node_id
        self.subjob = subjob
        self.number = number
        self.data = data
        self.row = 0

    @property
    def job(self) -> JobNode:
        return self.subjob.job

    @property
    def status(self) -> str:
        return self.data.get("status") or "Queued"

    @property
    def label(self) -> str:
        last = self.data.get("last_frame")
        if isinstance(last, int) and last != self.number:
            return "%d-%d" % (self.number, last)
        return str(self.number)
