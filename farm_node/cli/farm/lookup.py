"""Reading one job without downloading more than the command shows.

A job's fields and its subjobs' counts come from its head (``GET /api/jobs/{job}?frames=false``), its frames a page
at a time (``GET /api/jobs/{job}/subjobs/{subjob}/frames``, compact rows without log tails): however many frames a
job holds, a command reads what it prints.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

ENDED = ("Complete", "Failed", "Cancelled")
PAGE = 5000          # the node's largest page


def job_head(client: Any, name: str) -> dict[str, Any]:
    """The job's fields and subjobs with their counts, no frames (the farm's own words if it has no such job)."""
    return client.job(name, frames=False)


def frames(client: Any, name: str, subjob: str, statuses: Sequence[str] = (), limit: int | None = None
           ) -> tuple[int, Iterator[dict[str, Any]]]:
    """How many frames of ``subjob`` have one of ``statuses`` (all: none given), and the first ``limit`` of them
    (all: None) in frame order, read a page at a time as they are consumed."""
    first = client.frames(name, subjob, 0, min(PAGE, limit) if limit is not None else PAGE, status=statuses or None)
    total = first["total"]
    wanted = total if limit is None else min(limit, total)

    def rows() -> Iterator[dict[str, Any]]:
        page, given = first, 0
        while True:
            for frame in page["frames"]:
                if given >= wanted:
                    return
                given += 1
                yield frame
            if given >= wanted or not page["frames"]:
                return
            page = client.frames(name, subjob, given, min(PAGE, wanted - given), status=statuses or None)
    return total, rows()


def frame_of(client: Any, name: str, subjob: str, number: int) -> tuple[int, dict[str, Any] | None]:
    """The store's revision and one frame (None if the subjob has no such frame)."""
    page = client.frames(name, subjob, 0, 1, first=number, last=number)
    return page["revision"], (page["frames"][0] if page["frames"] else None)
