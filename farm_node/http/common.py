"""What every route module of the HTTP layer shares: its error, its body readers, its JSON answer, and the one
signal that wakes long polls parked on the event loop."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any, AsyncIterator, Callable

import orjson
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


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _NotJsonNumber(ValueError):
    pass


def _pairs(pairs: list) -> dict:
    # Python's json keeps the last of two equal keys without a word: two frames 7 or two jobs of one name would
    # silently be one. Refused instead, by name.
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return d


def _constant(name: str) -> Any:
    raise _NotJsonNumber("%s is not a JSON number" % name)


# A \uD800-\uDFFF escape: a lone one decodes to a str that no store or answer can encode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def parse_json(raw: bytes) -> Any:
    """A body's JSON, or ApiError (400, 422) saying what is wrong with it: not JSON, NaN or Infinity, nested too
    deep, a lone surrogate, a key twice in one object."""
    try:
        data = json.loads(raw, object_pairs_hook=_pairs, parse_constant=_constant)
    except _DuplicateKey as exc:
        raise ApiError(422, "the key %s appears twice in one object: each job, subjob, frame and field is named"
                            " once" % json.dumps(exc.key), path=exc.key) from None
    except RecursionError:
        raise ApiError(400, "the body is not valid JSON: it is nested too deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "the body is not valid JSON: %s" % exc) from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ApiError(400, "the body holds a lone UTF-16 surrogate (\\u%04x): text must be valid Unicode"
                           % ord(exc.object[exc.start])) from None
        except RecursionError:
            raise ApiError(400, "the body is not valid JSON: it is nested too deep") from None
    return data


async def read_json(request: Request) -> Any:
    raw = await read_body(request)
    if not raw.strip():
        return None
    # A worker's heartbeat or lease is parsed here at once: a thread costs more than a small parse.
    return parse_json(raw) if len(raw) <= INLINE_JSON else await run_in_threadpool(parse_json, raw)


def json_body(data: Any) -> bytes:
    """``data`` as JSON. orjson writes the big answers (a 100,000-frame job, a changes batch) ten times faster than
    the json module; what it refuses (a lone surrogate an XML restore may carry, a number beyond 64 bits, a type it
    does not know) is written by json.dumps with ASCII escapes, which never fails on odd characters."""
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(data, separators=(",", ":")).encode()


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json_body(data), status_code=status, media_type="application/json")


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
