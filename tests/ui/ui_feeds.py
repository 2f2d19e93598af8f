"""Synthetic answers of the narrowed changes feed and of frame pages, shaped as docs/API.md describes them."""
from __future__ import annotations

from typing import Any, Dict, List, Optional


def frame(number: int, status: str = "Queued", host: Optional[str] = None, pid: Optional[int] = None,
          **extra: Any) -> Dict[str, Any]:
    """A compact frame of a page (the feed sends the same keys but ``number`` and ``command``)."""
    data = {"number": number, "status": status, "host": host, "pid": pid, "attempts": 0, "progress": 0,
            "started": None, "finished": None, "exit_code": None, "error": None,
            "command": "render -s %d -e %d scene.mb" % (number, number)}
    data.update(extra)
    return data


def counts(statuses: Dict[str, int]) -> Dict[str, int]:
    out = {k.lower(): int(statuses.get(k, 0)) for k in ("Complete", "Failed", "Queued", "Rendering", "Cancelled")}
    out["total"] = sum(statuses.values())
    return out


def job(subjobs: Dict[str, Dict[str, int]], status: str = "Queued", paused: bool = False, submitted: float = 1.0,
        **extra: Any) -> Dict[str, Any]:
    """A job head: ``subjobs`` maps names to frame counts by status, e.g. {"beauty": {"Queued": 10}}."""
    total: Dict[str, int] = {}
    for per in subjobs.values():
        for k, v in per.items():
            total[k] = total.get(k, 0) + v
    out = {"status": status, "frames": counts(total), "priority": 50, "paused": paused, "submitted": submitted,
           "subjobs": {}}
    out.update(extra)
    for name, per in subjobs.items():
        c = counts(per)
        out["subjobs"][name] = {"status": status, "complete": c["complete"], "total": c["total"],
                                "failed": c["failed"]}
    return out


def feed(jobs: Dict[str, Any], revision: int = 1, reload: bool = False, deleted: List[str] = (),
         refetch: List[List[str]] = ()) -> Dict[str, Any]:
    return {"revision": revision, "reload": reload, "jobs": jobs, "deleted": list(deleted), "refetch": list(refetch)}


class FakePages(object):
    """A subjob's frames served as the node serves pages (frame order or status order, a status filter), with the
    requests recorded; ``answer_all()`` delivers what was asked (as the panel's thread pool would, later)."""

    STATUS_ORDER = {"Rendering": 0, "Failed": 1, "Queued": 2, "Cancelled": 3, "Complete": 4}

    def __init__(self, n: int, revision: int = 1) -> None:
        self.frames = {i: frame(i) for i in range(1, n + 1)}
        self.revision = revision
        self.asked: List[Any] = []
        self.waiting: List[Any] = []

    def fetch(self, query: Any, offset: int, limit: int, done: Any, failed: Any) -> None:
        self.asked.append((query, offset, limit))
        self.waiting.append((query, offset, limit, done))

    def answer(self, query: Any, offset: int, limit: int) -> Dict[str, Any]:
        rows = [f for f in self.frames.values() if not query.statuses or f["status"] in query.statuses]
        if query.sort == "status":
            rows.sort(key=lambda f: (self.STATUS_ORDER[f["status"]], f["number"]), reverse=query.descending)
        elif query.descending:
            rows.reverse()
        return {"revision": self.revision, "total": len(rows), "offset": offset,
                "frames": [dict(f) for f in rows[offset:offset + limit]]}

    def answer_all(self) -> int:
        n = 0
        while self.waiting:
            query, offset, limit, done = self.waiting.pop(0)
            done(self.answer(query, offset, limit))
            n += 1
        return n
