"""The node's HTTP API (CONTRACT section 2) on FastAPI: routers, authentication, errors as JSON. No SQL here, no
processes: the routes reach the farm only through the coordinator and the queue reader they are handed.

Handlers that touch the store are plain functions, which FastAPI runs in its thread pool; the long polls (changes,
worker lease and heartbeat) are coroutines, so that a hundred idle long polls cost a hundred parked futures.

The node's errors become statuses here, in one table::

    JobSpecError 422 (with "path"), NotFound 404, Conflict 409, StaleAttempt 409, QueueXMLError 400,
    ProgramNotAllowed 400, any other FarmNodeError 400; ApiError its own status;
    and what input can still provoke below the checks: OverflowError 422 (a number beyond 64 bits reached the
    store), a database driver's DataError 422 (PostgreSQL's out of range, a NUL in text),
    RecursionError 400, UnicodeError 400; anything else a JSON 500, logged, the connection kept.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from farm_node import __version__, backup
from farm_node.coordinator import Coordinator
from farm_node.errors import (
    Conflict,
    FarmNodeError,
    JobSpecError,
    NotFound,
    ProgramNotAllowed,
    QueueXMLError,
    StaleAttempt,
    StoreError,
)
from farm_node.http import changes, jobs, limits, queue, schemas, workers
from farm_node.http.common import ApiError, Wakeup, json_response
from farm_node.store import QueueReader
from farm_node.store.health import DiskHealth, disk_full

def _message(text: str, **extra: Any) -> bytes:
    return json.dumps({"error": text, **extra}).encode()


log = logging.getLogger("farm_node")

# StoreError 503: the store cannot be used now (a PostgreSQL gone away): nothing changed, ask again (a render host's
# reports wait in its spool, and it tries its next coordinator).
_STATUS = {NotFound: 404, Conflict: 409, StaleAttempt: 409, QueueXMLError: 400, ProgramNotAllowed: 400,
           StoreError: 503}


# Python's own errors that only input can provoke past the routes' checks: a 4xx, never a 500.
_INPUT_ERRORS: tuple[tuple[type, int, str], ...] = (
    (OverflowError, 422, "a number in the request is out of range (integers are 64-bit signed)"),
    (RecursionError, 400, "the request is nested too deep"),
    (UnicodeError, 400, "the request holds text that is not valid Unicode"),
)


def _input_error(exc: BaseException) -> tuple[int, str] | None:
    for kind, status, message in _INPUT_ERRORS:
        if isinstance(exc, kind):
            return status, message
    # A database driver's DataError (PEP 249: "problems with the processed data"; PostgreSQL's SQLSTATE class 22, a
    # number out of range, a NUL in text): what OverflowError is on SQLite. Told by its standard name, so this
    # layer imports no driver.
    if any(kind.__name__ == "DataError" for kind in type(exc).__mro__):
        return 422, "a value in the request cannot be stored or looked up: %s" % (str(exc).splitlines() or [""])[0]
    return None


class JsonErrors:
    """The last word on an exception no handler took: a JSON answer (CONTRACT section 2) instead of Starlette's
    text 500, and no exception left for the server, which would drop the connection and the client's next request
    on it with it."""

    def __init__(self, app: Any, disk: DiskHealth | None = None) -> None:
        self.app = app
        self.disk = disk

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the one place that answers for everything else
            known = _input_error(exc)
            if known is None and disk_full(exc):
                # 507 Insufficient Storage: nothing was changed; a render host's reports wait in its spool.
                reason = "the node's disk is full: nothing was changed; free space under its data folder"
                if self.disk is not None:
                    self.disk.failed("%s %s" % (scope.get("method"), scope.get("path")), exc)
                    reason = self.disk.problem() or reason
                known = (507, reason)
            if known is None:
                log.exception("%s %s failed", scope.get("method"), scope.get("path"))
                known = (500, "the node failed to answer this request (%s); its log has the details"
                         % type(exc).__name__)
            if started:
                return  # the answer is on its way; it ends short, the connection stays usable for the server
            body = _message(known[1], path=scope.get("path", ""))
            await send({"type": "http.response.start", "status": known[0],
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})


class TokenAuth:
    """Every /api route but /api/health needs a token, checked here, before routing, for every request: a route
    added later cannot be left open by forgetting it, and a refused call costs no routing at all.

    Two secrets (CONTRACT section 9): the worker protocol (/api/worker/...) takes the render hosts' token, every other
    route the clients' token. The other kind's token is refused with 403 and says so; no token or a wrong one, 401.
    """

    OPEN = frozenset({"/api/health"})
    WORKER_PREFIX = "/api/worker/"
    MESSAGE = _message("this node needs its token: send the header 'Authorization: Bearer <token>' (the token is"
                       " printed by `farm-node serve` and kept in its data folder)")
    WORKER_MESSAGE = _message("the worker protocol needs the node's worker token (farm-node worker --token-file"
                              " FILE, a copy of the coordinator's DATA_DIR/worker-token), not the clients' token")
    NOT_FOR_CLIENTS = _message("the worker token is for render hosts only: clients send the node's token (file"
                               " 'token' in its data folder)")
    NOT_FOR_WORKERS = _message("this is the clients' token: render hosts send the node's worker token (file"
                               " 'worker-token' in its data folder)")

    def __init__(self, app: Any, token: str, worker_token: str | None = None) -> None:
        self.app = app
        self.expected = ("Bearer " + token).encode()
        self.expected_worker = ("Bearer " + worker_token).encode() if worker_token else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if (path == "/api" or path.startswith("/api/")) and path not in self.OPEN:
                given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
                refusal = self._refusal(path, given)
                if refusal is not None:
                    status, body = refusal
                    await send({"type": "http.response.start", "status": status,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode()),
                                            (b"www-authenticate", b"Bearer")]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    def _refusal(self, path: str, given: bytes) -> tuple[int, bytes] | None:
        worker_route = path.startswith(self.WORKER_PREFIX)
        if self.expected_worker is None:  # one token for both (an app built without a worker token)
            return None if hmac.compare_digest(given, self.expected) else (401, self.MESSAGE)
        mine, other = ((self.expected_worker, self.expected) if worker_route else
                       (self.expected, self.expected_worker))
        if hmac.compare_digest(given, mine):
            return None
        if hmac.compare_digest(given, other):
            return 403, self.NOT_FOR_WORKERS if worker_route else self.NOT_FOR_CLIENTS
        return 401, self.WORKER_MESSAGE if worker_route else self.MESSAGE


def create_app(coordinator: Coordinator, reader: QueueReader, token: str, node_name: str,
               lifespan: Any = None, worker_token: str | None = None, disk: DiskHealth | None = None) -> FastAPI:
    """The app; ``app.state.close_polls()`` answers every parked long poll (the node is stopping)."""
    # No redirect of /api/jobs/ to /api/jobs: a client that drops a job named "." from the URL would be sent the
    # whole queue; 404 instead.
    app = FastAPI(title="PyFarm node", version=__version__, lifespan=lifespan, redirect_slashes=False,
                  description="A render farm node: jobs, subjobs and frames of Maya renders. Every /api route but "
                              "/api/health needs `Authorization: Bearer <token>`.")
    app.add_middleware(TokenAuth, token=token, worker_token=worker_token)

    disk = disk or getattr(coordinator.logs, "disk", None)
    app.add_middleware(JsonErrors, disk=disk)
    # json_response, not JSONResponse: its ASCII escapes never fail on the odd characters a message may quote.

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return json_response({"error": exc.message, **exc.extra}, exc.status)

    @app.exception_handler(FarmNodeError)
    async def _farm_error(_request: Request, exc: FarmNodeError) -> Response:
        if isinstance(exc, JobSpecError):
            return json_response({"error": str(exc), "path": exc.path}, 422)
        return json_response({"error": str(exc)}, _STATUS.get(type(exc), 400))

    @app.exception_handler(404)
    async def _not_found(_request: Request, _exc: Exception) -> Response:
        return json_response({"error": "no such route on this node"}, 404)

    @app.exception_handler(405)
    async def _not_allowed(request: Request, _exc: Exception) -> Response:
        return json_response({"error": "%s is not a method of this route" % request.method,
                              "path": request.url.path}, 405)

    @app.exception_handler(RequestValidationError)
    async def _bad_params(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return json_response({"error": "%s: %s" % (where, first.get("msg", "invalid")), "path": where}, 422)

    feed, work, orders = Wakeup(), Wakeup(), Wakeup()
    app.include_router(jobs.router(coordinator, reader, node_name, disk))
    app.include_router(changes.router(reader, feed))
    app.include_router(workers.router(coordinator, work, orders))
    app.include_router(limits.router(coordinator))
    app.include_router(queue.router(reader, lambda path, replace: backup.restore(coordinator, path, replace),
                                    coordinator.data_dir))

    def close_polls() -> None:
        for signal in (feed, work, orders):
            signal.close()

    app.state.close_polls = close_polls
    schemas.install(app)
    return app
