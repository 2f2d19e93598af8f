"""The changes feed (``GET /api/changes``): a long poll that answers with what changed after a revision.

A long poll that is up to date parks until a commit; woken, it waits ``COALESCE_SECONDS`` more so that a frame's end,
the next one's lease and its start go in one answer. A long poll that sends back the revision of an answer given less
than ``ANSWER_INTERVAL`` ago waits out the rest first: on a busy farm a monitor gets a batch twenty times a second,
not every frame as fast as it can ask. Each answer says what it cost the node in a ``Server-Timing`` header.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from farm_node.http.common import ApiError, Wakeup, json_response
from farm_node.http.schemas import answers
from farm_node.store import QueueReader
from farm_node.wire import MAX_WAIT

# A waiting long poll woken by a change waits this long more: a frame's end, the next one's lease and its start come
# within a millisecond or two, and one answer for all of them costs a third of the work and of the panel's repaints.
COALESCE_SECONDS = 0.005
# A long poll that sends back the revision of an answer given less than this long ago waits out the rest.
ANSWER_INTERVAL = 0.05


class AnswerPacing:
    """When answers carrying each revision were given (loop time), for the last few."""

    def __init__(self) -> None:
        self._answered: dict[int, float] = {}

    def answered(self, revision: int) -> None:
        self._answered[revision] = asyncio.get_running_loop().time()
        if len(self._answered) > 256:
            for old in list(self._answered)[:128]:
                del self._answered[old]

    def pause_for(self, since: int) -> float:
        """Seconds left of ``ANSWER_INTERVAL`` since an answer carried revision ``since`` (0 if none did lately)."""
        at = self._answered.get(since)
        if at is None:
            return 0.0
        return max(0.0, at + ANSWER_INTERVAL - asyncio.get_running_loop().time())


def router(reader: QueueReader, changes: Wakeup) -> APIRouter:
    r = APIRouter()
    pacing = AnswerPacing()
    reader.on_change(changes.notify)

    @r.get("/api/changes", tags=["jobs"], responses=answers(422, ok_text="what changed after since"))
    async def feed(since: int = Query(0, ge=0), wait: float = Query(0.0, ge=0),
                   view: str | None = Query(None, pattern="^summary$", description="summary: jobs and subjobs with "
                                            "counts, frames only of the watched subjobs"),
                   watch: list[str] = Query([], description="JOB/SUBJOB whose frames a summary view follows")
                   ) -> Any:
        pairs = []
        for item in watch:
            parts = item.split("/")
            if len(parts) != 2 or not all(parts):
                raise ApiError(422, "watch: JOB/SUBJOB (names hold no '/'), not %r" % item[:200], path="watch")
            pairs.append((parts[0], parts[1]))
        if pairs and view is None:
            raise ApiError(422, "watch goes with view=summary", path="watch")
        wait = min(wait, MAX_WAIT)
        if wait > 0:
            pause = min(pacing.pause_for(since), wait)
            if pause > 0:
                await asyncio.sleep(pause)
            # Only a client that is up to date waits; one whose revision is above the node's (another life of the
            # store) is answered at once, with a reload.
            if reader.revision == since:
                await changes.wait(lambda: reader.revision != since, wait - pause)
                if reader.revision != since:
                    await asyncio.sleep(COALESCE_SECONDS)
        started = time.perf_counter()
        if view is None:
            answer = await run_in_threadpool(reader.changes, since)
        else:
            answer = await run_in_threadpool(reader.watched_changes, since, pairs)
        pacing.answered(answer["revision"])
        response = json_response(answer)
        # What the answer cost the node, its wait aside (W3C Server-Timing): a client's own transport and a busy
        # machine's scheduling are not in it, and a slow poll can be told from a slow network.
        response.headers["Server-Timing"] = "answer;dur=%.3f" % ((time.perf_counter() - started) * 1000)
        return response

    return r
