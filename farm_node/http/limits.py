"""The routes of the farm's limits (CONTRACT section 6): licence counts and the like, which rendering frames hold.

    GET    /api/limits           {"limits": {name: {"capacity": N, "in_use": M}}}
    PUT    /api/limits/{name}    {"capacity": N}: sets the limit (making it if need be)
    DELETE /api/limits/{name}    removes it; 409 naming the frames while rendering frames hold its units
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from farm_node.coordinator import Coordinator
from farm_node.http.common import ApiError, json_response, read_json
from farm_node.http.schemas import answers, body, ref


def router(coordinator: Coordinator) -> APIRouter:
    r = APIRouter()

    @r.get("/api/limits", tags=["limits"], responses=answers(ok_text="every limit, its capacity and units in use"))
    def limits() -> Any:
        return json_response(coordinator.limits())

    @r.put("/api/limits/{name}", tags=["limits"], openapi_extra=body(ref("Capacity")),
           responses=answers(400, 413, 422))
    async def set_limit(name: str, request: Request) -> Any:
        body = await read_json(request)
        if not isinstance(body, dict) or "capacity" not in body:
            raise ApiError(422, "the body is {\"capacity\": N}: the units the farm's rendering frames may hold at"
                                " once", path="capacity")
        unknown = sorted(set(body) - {"capacity"})
        if unknown:
            raise ApiError(422, "a limit has only a capacity, not %r" % unknown[0], path=unknown[0])
        return json_response(await run_in_threadpool(coordinator.set_limit, name, body["capacity"]))

    @r.delete("/api/limits/{name}", tags=["limits"], responses=answers(404, 409, 422))
    def delete_limit(name: str) -> Any:
        return json_response(coordinator.delete_limit(name))

    return r
