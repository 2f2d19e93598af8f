"""Synthetic answers of the changes feed, shaped as docs/DESIGN.md describes them (frame keys are ints)."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional


def frame(number: int, status: str = "Queued", host: Optional[str] = None, pid: Optional[int] = None,
          **extra: Any) -> Dict[str, Any]:
    data = {"status": status, "host": host, "pid": pid, "command": "render -s %d -e %d scene.mb" % (number, number),
            "stdout": "", "attempts": 0, "progress": 0, "started": None, "finished": None, "exit_code": None,
            "error": None}
    data.update(extra)
    return data


def counts(frames: Iterable[Dict[str, Any]]) -> Dict[str, int]:
    frames = list(frames)
    out = {"total": len(frames)}
    for key, status in (("complete", "Complete"), ("failed", "Failed"), ("queued", "Queued"),
                        ("rendering", "Rendering"), ("cancelled", "Cancelled")):
        out[key] = sum(1 for f in frames if f["status"] == status)
    return out


def status_of(frames: List[Dict[str, Any]], paused: bool = False) -> str:
    statuses = [f["status"] for f in frames]
    if statuses and all(s == "Complete" for s in statuses):
        return "Complete"
    if "Rendering" in statuses:
        return "Rendering"
    if paused:
        return "Paused"
    if "Queued" in statuses:
        return "Queued"
    if "Failed" in statuses:
        return "Failed"
    return "Cancelled"


def job(subjobs: Dict[str, Dict[int, Dict[str, Any]]], paused: bool = False, submitted: float = 1.0,
        only: Optional[Dict[str, Iterable[int]]] = None, **extra: Any) -> Dict[str, Any]:
    """A job of the feed; ``only`` keeps just those frames of each subjob (a change batch)."""
    all_frames = [f for frames in subjobs.values() for f in frames.values()]
    out = {"status": status_of(all_frames, paused), "frames": counts(all_frames), "priority": 50,
           "paused": paused, "submitted": submitted, "subjobs": {}}
    out.update(extra)
    for name, frames in subjobs.items():
        c = counts(frames.values())
        keep = frames if only is None else {n: frames[n] for n in only.get(name, ())}
        out["subjobs"][name] = {"status": status_of(list(frames.values()), paused), "complete": c["complete"],
                                "total": c["total"], "failed": c["failed"], "frames": dict(keep)}
    return out


def frames(first: int, last: int, status: str = "Queued") -> Dict[int, Dict[str, Any]]:
    return {n: frame(n, status) for n in range(first, last + 1)}
