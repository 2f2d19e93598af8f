"""The XML routes of the API: GET and POST /api/queue.xml (CONTRACT section 2)."""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from farm_node import backup, queue_xml
from farm_node.errors import NotFound
from farm_node.http.common import ApiError
from farm_node.http.schemas import answers, body, ref
from farm_node.store import QueueReader


def router(reader: QueueReader, restore: Callable[[str, bool], list[str]], spool_dir: str) -> APIRouter:
    """``restore(path, replace)`` brings the jobs of an XML file into the farm; uploads wait in ``spool_dir``."""
    r = APIRouter()

    @r.get("/api/queue.xml", tags=["backup"],
           responses=answers(404, 422, ok_media="application/xml", ok_schema={"type": "string"},
                             ok_text="the queue (or one job) as XML, docs/queue-xml.md"))
    def save(job: str | None = None) -> Any:
        if job is not None and not reader.job_exists(job):
            raise NotFound("no job named %r on this farm" % job)  # 404 before any byte is sent
        return StreamingResponse(iterate_in_threadpool(backup.export_chunks(reader, job)),
                                 media_type="application/xml",
                                 headers={"Content-Disposition": 'attachment; filename="queue.xml"'})

    @r.post("/api/queue.xml", tags=["backup"], status_code=201,
            openapi_extra=body({"type": "string"}, media="application/xml"),
            responses=answers(400, 409, 413, 422, ok=201, ok_schema=ref("Submitted"), ok_text="the jobs restored"))
    async def load(request: Request, replace: bool = False) -> Any:
        # The body goes to a file first: a big queue is read from it twice (check, then insert), never held whole.
        fd, path = tempfile.mkstemp(prefix=".restore-", suffix=".xml", dir=spool_dir)
        size = 0
        try:
            with os.fdopen(fd, "wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > queue_xml.MAX_BYTES:
                        raise ApiError(413, "the XML is larger than this node restores (%d GiB)"
                                       % (queue_xml.MAX_BYTES // 2 ** 30))
                    f.write(chunk)
            if size == 0:
                raise ApiError(400, "the body is empty: send an XML queue file")
            names = await run_in_threadpool(restore, path, replace)
        finally:
            try:
                os.remove(path)
            except OSError:
                pass
        return JSONResponse({"jobs": names}, status_code=201)

    return r
