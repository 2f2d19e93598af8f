"""Reading one job without downloading more than the command shows.

A job's fields and its subjobs' counts come from the summary (``GET /api/summary``: small however many frames the
farm holds). Its frames come with the whole job (``GET /api/jobs/{job}``, every frame with its log tail): until the
node can send a job's frames a page at a time (issue 11's paged frames route, which should replace
``job_with_frames``), a job of more than FETCH_CAP frames is not downloaded for a listing.
"""
from __future__ import annotations

from typing import Any

from farm_node.errors import ConfigError

FETCH_CAP = 20_000
ENDED = ("Complete", "Failed", "Cancelled")


def job_head(client: Any, name: str) -> dict[str, Any]:
    """The job's fields and subjobs with their counts, no frames."""
    jobs = client.summary()["jobs"]
    if name in jobs:
        return jobs[name]
    # Not on the farm: asking for it gets the farm's own words (404). Should it have arrived meanwhile, use it.
    job = client.job(name)
    for sub in job.get("subjobs", {}).values():
        sub.pop("frames", None)
    return job


def job_with_frames(client: Any, name: str, head: dict[str, Any]) -> dict[str, Any]:
    """The whole job, frames included, for a job of at most FETCH_CAP frames."""
    total = (head.get("frames") or {}).get("total") or 0
    if total > FETCH_CAP:
        raise ConfigError(
            "%s has %d frames: listing them would download the whole job with every frame's log tail (this node "
            "cannot send frames a page at a time yet; at most %d are fetched). `farm show %s` shows its subjobs, "
            "`farm log %s SUBJOB FRAME` one frame's log" % (name, total, FETCH_CAP, name, name))
    return client.job(name)


def frame_of(client: Any, name: str, head: dict[str, Any], subjob: str, number: int) -> dict[str, Any] | None:
    """One frame, or None for a job too big to download for one frame (no one-frame route yet: issue 11)."""
    if ((head.get("frames") or {}).get("total") or 0) > FETCH_CAP:
        return None
    sub = (client.job(name).get("subjobs") or {}).get(subjob) or {}
    return (sub.get("frames") or {}).get(number)
