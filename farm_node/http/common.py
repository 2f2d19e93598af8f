"""What every route module of the HTTP layer shares: its error, its body readers, its JSON answer, and the one
signal that wakes long polls parked on the event loop."""
from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

MAX_BODY = 64 * 1024 * 1024
# Bodies up to this size are parsed on the event loop; bigger ones (a submission, a log batch) in a thread.
INLINE_JSON = 64 * 1024


class ApiError(Exception):
    """An answer other than 200 decided by a route: ``status``, a message in words, and extra JSON keys."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


async def read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise ApiError(413, "the body is larger than this node accepts (%d MiB)" % (MAX_BODY // 2 ** 20))
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "the body is larger than this node accepts (%d MiB)" % (MAX_BODY // 2 ** 20))
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    raw = await read_body(request)
    if not raw.strip():
        return None
    try:
        # A worker's heartbeat or lease is parsed here at once: a thread costs more than a small parse.
        return json.loads(raw) if len(raw) <= INLINE_JSON else await run_in_threadpool(json.loads, raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "the body is not valid JSON: %s" % exc) from None


def json_response(data: Any, status: int = 200) -> Response:
    # json.dumps with ASCII escapes: frame logs can hold anything, and this never fails on odd characters.
    return Response(json.dumps(data, separators=(",", ":")).encode(), status_code=status,
                    media_type="application/json")


async def file_range(path: str, start: int, end: int) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = await run_in_threadpool(f.read, min(left, 1024 * 1024))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


class Wakeup:
    """Wakes the long polls parked on the server's event loop; ``notify`` may be called from any thread.

    It binds to the loop of its first waiter. A notify with no poll parked does not touch the loop at all: a poll
    that parks later checks its condition after it counts itself as waiting, so no change falls between the two.
    ``close`` (the node stops) answers every parked poll now rather than after the graceful wait.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._waiting = 0  # counted on the loop's thread
        self.closing = False

    def notify(self, *_args: Any) -> None:
        if self._waiting:
            self._call(self._fire)

    def close(self) -> None:
        self.closing = True
        self._call(self._fire)

    def _call(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        if event is not None:
            event.set()

    async def wait(self, ready: Callable[[], bool], timeout: float, request: Request | None = None) -> None:
        """Until ``ready()``, ``timeout`` seconds, closing, or the client of ``request`` went away (checked every
        second)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._event = loop, asyncio.Event()
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            while not self.closing and not ready():
                left = deadline - loop.time()
                if left <= 0:
                    return
                event = self._event
                assert event is not None
                try:
                    await asyncio.wait_for(event.wait(), min(left, 1.0) if request is not None else left)
                except asyncio.TimeoutError:
                    if request is not None and await request.is_disconnected():
                        return
        finally:
            self._waiting -= 1
