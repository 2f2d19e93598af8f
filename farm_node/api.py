"""The node's HTTP API (CONTRACT section 2) on FastAPI: routes, authentication, errors as JSON. No SQL here.

Handlers that touch the store are plain functions, which FastAPI runs in its thread pool; the changes feed is the one
coroutine, so that a hundred idle long polls cost a hundred parked futures, not a hundred threads.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import os
from typing import Any, AsyncIterator

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from farm_node import __version__
from farm_node.coordinator import Coordinator
from farm_node.errors import (Conflict, FarmNodeError, JobSpecError, NotFound, ProgramNotAllowed, QueueXMLError,
                              StaleAttempt)

MAX_BODY = 64 * 1024 * 1024
# Bodies up to this size are parsed on the event loop; bigger ones (a submission, a log batch) in a thread.
INLINE_JSON = 64 * 1024
MAX_WAIT = 60.0
# A waiting long poll woken by a change waits this long more: a frame's end, the next one's lease and its start come
# within a millisecond or two, and one answer for all of them costs a third of the work and of the panel's repaints.
COALESCE_SECONDS = 0.005
# A long poll that sends back the revision of an answer given less than this long ago waits out the rest: on a busy
# farm a monitor is sent batches twenty times a second, not a frame at a time as fast as it can ask.
ANSWER_INTERVAL = 0.05

_JOB_DICT_SCHEMA = {
    "type": "object",
    "description": "A job dictionary (CONTRACT section 1): job name -> {subjobs: {name: {frames: {number: "
                   "{command, argv?}}}}, priority?, max_attempts?, frame_timeout?}",
    "additionalProperties": {"type": "object"},
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


class ChangeSignal:
    """Wakes the long polls of the changes feed; ``notify`` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._closing = False
        # Long polls parked now (counted on the loop's thread). With none, a commit does not wake the loop: a poll
        # that parks later checks the revision first, and the revision is set before the commit notifies.
        self._waiting = 0
        # revision -> when an answer carrying it was given (loop time), for the last few answers.
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

    def bind(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def close(self) -> None:
        """The node is stopping: answer every waiting long poll now rather than after the graceful wait."""
        self._closing = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._fire)

    def notify(self, _revision: int = 0) -> None:
        loop = self._loop
        if self._waiting and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        if event is not None:
            event.set()

    async def wait(self, is_new: Any, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        self._waiting += 1
        try:
            while True:
                event = self._event
                if event is None or self._closing or is_new():
                    return
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return
                try:
                    await asyncio.wait_for(event.wait(), left)
                except asyncio.TimeoutError:
                    return
        finally:
            self._waiting -= 1


class TokenAuth:
    """Every /api route but /api/health needs the node's token. Checked here, before routing, for every request:
    a route added later cannot be left open by forgetting it, and a refused call costs no routing at all."""

    OPEN = frozenset({"/api/health"})
    MESSAGE = json.dumps({"error": "this node needs its token: send the header 'Authorization: Bearer <token>' (the"
                                   " token is printed by `farm-node serve` and kept in its data folder)"}).encode()

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = ("Bearer " + token).encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if (path == "/api" or path.startswith("/api/")) and path not in self.OPEN:
                given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
                if not hmac.compare_digest(given, self.expected):
                    await send({"type": "http.response.start", "status": 401,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(self.MESSAGE)).encode()),
                                            (b"www-authenticate", b"Bearer")]})
                    await send({"type": "http.response.body", "body": self.MESSAGE})
                    return
        await self.app(scope, receive, send)


def create_app(coordinator: Coordinator, token: str, node_name: str, lifespan: Any = None) -> FastAPI:
    app = FastAPI(title="PyFarm node", version=__version__, lifespan=lifespan,
                  description="A render farm node: jobs, subjobs and frames of Maya renders. Every /api route but "
                              "/api/health needs `Authorization: Bearer <token>`.")
    signal = ChangeSignal()
    app.state.changes = signal
    app.state.coordinator = coordinator
    coordinator.store.on_change(signal.notify)
    app.add_middleware(TokenAuth, token=token)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)

    @app.exception_handler(FarmNodeError)
    async def _farm_error(_request: Request, exc: FarmNodeError) -> JSONResponse:
        if isinstance(exc, JobSpecError):
            return JSONResponse({"error": str(exc), "path": exc.path}, status_code=422)
        status = {NotFound: 404, Conflict: 409, StaleAttempt: 409, QueueXMLError: 400,
                  ProgramNotAllowed: 400}.get(type(exc), 400)
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(404)
    async def _not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "no such route on this node"}, status_code=404)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _bad_params(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": "%s: %s" % (where, first.get("msg", "invalid")), "path": where},
                            status_code=422)

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

    @app.get("/api/health", tags=["node"])
    def health() -> dict:
        return {"status": "ok", "version": __version__, "node": node_name}

    @app.post("/api/jobs", status_code=201, tags=["jobs"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": _JOB_DICT_SCHEMA}}}})
    async def submit(request: Request) -> Any:
        body = await read_json(request)
        names = await run_in_threadpool(coordinator.submit, body)
        return JSONResponse({"jobs": names}, status_code=201)

    @app.get("/api/jobs", tags=["jobs"])
    def jobs() -> Any:
        return _json_response(coordinator.queue())

    @app.get("/api/summary", tags=["jobs"])
    def summary() -> Any:
        return _json_response(coordinator.summary())

    @app.get("/api/jobs/{job}", tags=["jobs"])
    def job(job: str) -> Any:
        return _json_response(coordinator.job(job))

    @app.delete("/api/jobs/{job}", tags=["jobs"])
    def delete(job: str) -> Any:
        return coordinator.delete(job)

    @app.post("/api/jobs/{job}/pause", tags=["jobs"])
    def pause(job: str) -> Any:
        return coordinator.pause(job)

    @app.post("/api/jobs/{job}/resume", tags=["jobs"])
    def resume(job: str) -> Any:
        return coordinator.resume(job)

    @app.post("/api/jobs/{job}/cancel", tags=["jobs"])
    def cancel(job: str) -> Any:
        return coordinator.cancel(job)

    @app.post("/api/jobs/{job}/retry", tags=["jobs"])
    async def retry(job: str, request: Request) -> Any:
        body = await read_json(request) or {}
        if not isinstance(body, dict):
            raise ApiError(422, "the retry body is an object: {\"subjob\": name, \"frames\": [numbers]}")
        subjob = body.get("subjob")
        frames = body.get("frames")
        if subjob is not None and not isinstance(subjob, str):
            raise ApiError(422, "subjob must be a name", path="subjob")
        if frames is not None and (not isinstance(frames, list)
                                   or not all(isinstance(f, int) and not isinstance(f, bool) for f in frames)):
            raise ApiError(422, "frames must be a list of frame numbers", path="frames")
        return await run_in_threadpool(coordinator.retry, job, subjob, frames)

    @app.delete("/api/jobs/{job}/blocklist", tags=["jobs"])
    def clear_blocklist(job: str, host: str | None = None) -> Any:
        return coordinator.clear_blocklist(job, host)

    @app.get("/api/jobs/{job}/subjobs/{subjob}/frames/{frame}/log", tags=["jobs"])
    def frame_log(job: str, subjob: str, frame: int, offset: int = Query(0, ge=0),
                  attempt: int | None = Query(None, ge=1)) -> Any:
        path = coordinator.log_path(job, subjob, frame, attempt)
        size = os.path.getsize(path) if path and os.path.exists(path) else 0
        start = min(offset, size)
        headers = {"X-Log-Next-Offset": str(size), "X-Log-Size": str(size)}
        if not path or start >= size:
            return Response(b"", media_type="text/plain; charset=utf-8", headers=headers)
        return StreamingResponse(_file_range(path, start, size), media_type="text/plain; charset=utf-8",
                                 headers=headers)

    @app.get("/api/changes", tags=["jobs"])
    async def changes(since: int = Query(0, ge=0), wait: float = Query(0.0, ge=0)) -> Any:
        wait = min(wait, MAX_WAIT)
        store = coordinator.store
        if wait > 0:
            pause = min(signal.pause_for(since), wait)
            if pause > 0:
                await asyncio.sleep(pause)
            # Only a client that is up to date waits; one whose revision is above the node's (another life of the
            # store) is answered at once, with a reload.
            if store.revision == since:
                await signal.wait(lambda: store.revision != since, wait - pause)
                if store.revision != since:
                    await asyncio.sleep(COALESCE_SECONDS)
        answer = await run_in_threadpool(coordinator.changes, since)
        signal.answered(answer["revision"])
        return _json_response(answer)

    @app.get("/api/workers", tags=["node"])
    def workers() -> Any:
        return {"workers": coordinator.workers()}

    from farm_node import worker_api
    worker_api.install(app, coordinator, ApiError, read_json, _json_response)

    from farm_node import queue_api
    queue_api.install(app, coordinator, ApiError)
    return app


def _json_response(data: Any) -> Response:
    # json.dumps with ASCII escapes: frame logs can hold anything, and this never fails on odd characters.
    return Response(json.dumps(data, separators=(",", ":")).encode(), media_type="application/json")


async def _file_range(path: str, start: int, end: int) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = await run_in_threadpool(f.read, min(left, 1024 * 1024))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
