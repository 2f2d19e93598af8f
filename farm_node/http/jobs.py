"""The routes of jobs and hosts (CONTRACT section 2): submit, read, act on, the frame log, the render hosts."""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from farm_node import __version__
from farm_node.coordinator import Coordinator
from farm_node.http.common import ApiError, json_response, read_json
from farm_node.http.schemas import answers, body, ref
from farm_node.store import QueueReader
from farm_node.store.views import NUMBERS_LIMIT, PAGE_LIMIT
from farm_node.wire import MAX_INT

_JOB_404 = (404, 422)  # a route under /api/jobs/{job}: an unknown job; a bad parameter
_BODY = (400, 413, 422)  # a route that reads a JSON body


def router(coordinator: Coordinator, reader: QueueReader, node_name: str, disk: Any = None) -> APIRouter:
    r = APIRouter()

    @r.get("/api/health", tags=["node"], responses={
        200: {"description": "the node is well", "content": {"application/json": {"schema": {}}}},
        503: {"description": "degraded: the reason says why (e.g. the data folder's disk is full)",
              "content": {"application/json": {"schema": ref("Error")}}}})
    def health() -> Any:
        problem = disk.problem() if disk is not None else None
        if problem:
            # 503 so that a monitor or a load balancer sees it; the body says why, as any error does.
            return json_response({"status": "degraded", "reason": problem, "error": problem,
                                  "version": __version__, "node": node_name}, 503)
        return {"status": "ok", "version": __version__, "node": node_name}

    @r.post("/api/jobs", status_code=201, tags=["jobs"], openapi_extra=body(ref("JobDictionary")),
            responses=answers(409, *_BODY, ok=201, ok_schema=ref("Submitted"), ok_text="the jobs, stored"))
    async def submit(request: Request) -> Any:
        body = await read_json(request)
        names = await run_in_threadpool(coordinator.submit, body)
        return JSONResponse({"jobs": names}, status_code=201)

    @r.get("/api/jobs", tags=["jobs"], responses=answers(ok_text="the whole queue as one job dictionary"))
    def jobs() -> Any:
        return json_response(reader.queue_dict())

    @r.get("/api/summary", tags=["jobs"], responses=answers(ok_text="every job and subjob, without frames"))
    def summary() -> Any:
        return json_response(reader.summary_dict())

    @r.get("/api/jobs/{job}", tags=["jobs"], responses=answers(*_JOB_404, ok_schema=ref("Job")))
    def job(job: str, frames: bool = Query(True, description="false: the job's fields, counts and subjobs only, "
                                                              "as the summary holds it")) -> Any:
        return json_response(reader.job_dict(job) if frames else reader.job_head(job))

    @r.patch("/api/jobs/{job}", tags=["jobs"], openapi_extra=body(ref("JobPatch")),
             responses=answers(*_JOB_404, *_BODY, ok_schema=ref("Job"), ok_text="the job, changed"))
    async def update(job: str, request: Request) -> Any:
        body = await read_json(request)
        return json_response(await run_in_threadpool(coordinator.update, job, body))

    @r.get("/api/jobs/{job}/subjobs/{subjob}/frames", tags=["jobs"],
           responses=answers(*_JOB_404, ok_text="a page of the subjob's frames"))
    def frame_page(job: str, subjob: str, offset: int = Query(0, ge=0, le=MAX_INT), limit: int = Query(200, ge=0),
                   sort: str = Query("number", description="number, status, progress, host, pid, attempts, "
                                                           "started, finished, elapsed or exit_code"),
                   order: str = Query("asc", pattern="^(asc|desc)$"),
                   status: list[str] = Query([], description="frame statuses to keep (repeated, or comma-separated)"),
                   host: str | None = None, first: int | None = None, last: int | None = None,
                   numbers: bool = Query(False, description="only the frame numbers, up to %d" % NUMBERS_LIMIT)
                   ) -> Any:
        most = NUMBERS_LIMIT if numbers else PAGE_LIMIT
        if limit > most:
            raise ApiError(422, "limit: at most %d frames a page" % most, path="limit")
        statuses = [s for part in status for s in part.split(",") if s]
        return json_response(reader.frame_page(job, subjob, offset, limit, sort, order == "desc", statuses, host,
                                               first, last, time.time(), numbers))

    @r.delete("/api/jobs/{job}", tags=["jobs"], responses=answers(*_JOB_404))
    def delete(job: str) -> Any:
        return coordinator.delete(job)

    @r.post("/api/jobs/{job}/pause", tags=["jobs"], responses=answers(*_JOB_404))
    def pause(job: str) -> Any:
        return coordinator.pause(job)

    @r.post("/api/jobs/{job}/resume", tags=["jobs"], responses=answers(*_JOB_404))
    def resume(job: str) -> Any:
        return coordinator.resume(job)

    @r.post("/api/jobs/{job}/cancel", tags=["jobs"], responses=answers(*_JOB_404))
    def cancel(job: str) -> Any:
        return coordinator.cancel(job)

    @r.post("/api/jobs/{job}/retry", tags=["jobs"], openapi_extra=body(ref("Retry"), required=False),
            responses=answers(*_JOB_404, *_BODY))
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

    @r.delete("/api/jobs/{job}/blocklist", tags=["jobs"], responses=answers(*_JOB_404))
    def clear_blocklist(job: str, host: str | None = None) -> Any:
        return coordinator.clear_blocklist(job, host)

    @r.get("/api/jobs/{job}/subjobs/{subjob}/frames/{frame}/log", tags=["jobs"],
           responses=answers(*_JOB_404, ok_media="text/plain", ok_schema={"type": "string"},
                             ok_text="the log from offset; X-Log-Next-Offset says where the next read starts"))
    def frame_log(job: str, subjob: str, frame: int, offset: int = Query(0, ge=0, le=MAX_INT),
                  attempt: int | None = Query(None, ge=1, le=MAX_INT)) -> Any:
        source = coordinator.log_source(job, subjob, frame, attempt)  # a file, or chunks in a shared store
        size = source.size
        start = min(offset, size)
        headers = {"X-Log-Next-Offset": str(size), "X-Log-Size": str(size)}
        if start >= size:
            return Response(b"", media_type="text/plain; charset=utf-8", headers=headers)
        return StreamingResponse(iterate_in_threadpool(source.chunks(start)), media_type="text/plain; charset=utf-8",
                                 headers=headers)

    @r.get("/api/workers", tags=["node"], responses=answers(ok_text="the render hosts"))
    def workers() -> Any:
        return {"workers": coordinator.workers()}

    return r
