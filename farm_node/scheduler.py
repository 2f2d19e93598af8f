"""Pure decisions of the farm: what status a set of frames adds up to, what a failed attempt does, which job next.

No SQL and no processes here: the store hands in rows, the coordinator carries the decisions out.
"""
from __future__ import annotations

from typing import Iterable, Mapping

QUEUED, RENDERING, COMPLETE, FAILED, CANCELLED = "Queued", "Rendering", "Complete", "Failed", "Cancelled"
FRAME_STATUSES = (QUEUED, RENDERING, COMPLETE, FAILED, CANCELLED)
PAUSED = "Paused"


def derive_status(counts: Mapping[str, int], paused: bool) -> str:
    """CONTRACT section 1: all Complete; else any Rendering; else Paused; else any Queued; else any Failed."""
    total = sum(counts.values())
    if total and counts.get(COMPLETE, 0) == total:
        return COMPLETE
    if counts.get(RENDERING, 0):
        return RENDERING
    if paused:
        return PAUSED
    if counts.get(QUEUED, 0):
        return QUEUED
    if counts.get(FAILED, 0):
        return FAILED
    return CANCELLED


def summary(counts: Mapping[str, int]) -> dict[str, int]:
    """The derived counts of a job's ``frames`` (and a subjob's own keys): the contract's three, then the rest."""
    return {
        "complete": counts.get(COMPLETE, 0),
        "total": sum(counts.values()),
        "failed": counts.get(FAILED, 0),
        "queued": counts.get(QUEUED, 0),
        "rendering": counts.get(RENDERING, 0),
        "cancelled": counts.get(CANCELLED, 0),
    }


def after_failure(attempts: int, max_attempts: int) -> str:
    """A failed attempt sends the frame back to the queue while attempts remain."""
    return QUEUED if attempts < max_attempts else FAILED


def job_order(jobs: Iterable[Mapping]) -> list:
    """Jobs in the order their frames start: higher priority first, then submission order (the job's id)."""
    return sorted(jobs, key=lambda j: (-j["priority"], j["id"]))
