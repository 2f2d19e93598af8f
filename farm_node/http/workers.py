"""The coordinator's routes of the worker protocol (docs/DESIGN.md, "Worker protocol"). HTTP only: no SQL here.

    POST /api/worker/heartbeat   who the host is and which attempts it holds -> which to kill; also how a host joins,
                                 re-joins and re-attaches. A long poll of up to one heartbeat, so a kill order (cancel,
                                 retry, delete) reaches the host at once.
    POST /api/worker/lease       a long poll for frames while the host has free slots
    POST /api/worker/reports     a batch of started/output/finished/interrupted/abandoned records, in order, answered
                                 one by one (``wire.ReportResult``); with "lease": {"free": n}, also the next frames
                                 for the slots the batch frees (no waiting), numbered like a lease answer

The long polls are coroutines that park on a wake-up signal, so a hundred idle hosts cost no threads.
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from farm_node.coordinator import Coordinator
from farm_node.http.common import ApiError, Wakeup, json_response, read_json
from farm_node.http.schemas import answers, body, ref
from farm_node.wire import MAX_INT, MAX_NAME, MAX_WAIT, decode_report

# Slots of one host, and frames one call may ask for: far above any machine, far below what overflows anything.
MAX_SLOTS = 4096


async def _common(request: Request) -> tuple[dict[str, Any], str, str | None]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(422, "the body is a JSON object naming the host: {\"host\": name, ...}")
    host = body.get("host")
    # No NUL: a PostgreSQL store cannot hold one, and a name refused there after the host was counted in would
    # leave it half attached.
    if not isinstance(host, str) or not host.strip() or len(host) > MAX_NAME or "\x00" in host:
        raise ApiError(422, "host: the render host's name, 1 to %d characters (no NUL)" % MAX_NAME, path="host")
    worker_id = body.get("worker_id")
    # Required: the host's attempts are the worker's that holds its name, told apart by this id (CONTRACT section 9).
    if not isinstance(worker_id, str) or not worker_id.strip() or len(worker_id) > MAX_NAME or "\x00" in worker_id:
        raise ApiError(422, "worker_id: the worker's id (kept in its data folder), 1 to %d characters (no NUL)"
                       % MAX_NAME, path="worker_id")
    return body, host, worker_id


def _number(body: dict[str, Any], key: str, default: float, low: float = 0, high: float = MAX_INT) -> Any:
    value = body.get(key, default)
    # NaN compares false both ways, so "not low <= value <= high" refuses it with infinities and 1e20 slots.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(422, "%s must be a number from %g to %g" % (key, low, high), path=key)
    return value


def _text_without_nul(record: dict[str, Any] | None) -> dict[str, Any] | None:
    # A render's error or a stop's reason is text for people; a NUL in it (which no PostgreSQL text holds) must not
    # cost the attempt its end.
    if record is not None:
        for key in ("error", "reason"):
            if isinstance(record.get(key), str) and "\x00" in record[key]:
                record[key] = record[key].replace("\x00", "\ufffd")
    return record


def router(coordinator: Coordinator, work: Wakeup, orders: Wakeup) -> APIRouter:
    r = APIRouter()
    coordinator.on_work(work.notify)
    coordinator.on_work(orders.notify)  # also at shutdown: the heartbeats' long polls answer at once
    coordinator.on_kill(orders.notify)

    @r.post("/api/worker/heartbeat", tags=["workers"], openapi_extra=body(ref("WorkerBody")),
            responses=answers(400, 409, 413, 422))
    async def heartbeat(request: Request) -> Any:
        body, host, worker_id = await _common(request)
        holding = body.get("holding", [])
        if not isinstance(holding, list) or not all(isinstance(a, int) and not isinstance(a, bool)
                                                    and 0 <= a <= MAX_INT for a in holding):
            raise ApiError(422, "holding must be a list of attempt ids", path="holding")
        info = body.get("info")
        if info is not None and not isinstance(info, dict):
            raise ApiError(422, "info must be an object", path="info")
        slots = int(_number(body, "slots", 1, high=MAX_SLOTS))
        seen = int(_number(body, "seen", 0))
        wait = min(float(_number(body, "wait", 0, high=MAX_INT)), MAX_WAIT)
        epoch = body.get("epoch")
        leaving = bool(body.get("leaving"))
        answer = await run_in_threadpool(coordinator.host_heartbeat, host, worker_id, slots, info, holding,
                                         epoch if isinstance(epoch, str) else None, seen, leaving)
        # A host that knew another life of the coordinator (or none) learns this one's epoch at once.
        if not answer["kill"] and wait > 0 and not leaving and epoch == coordinator.epoch:
            await orders.wait(lambda: coordinator.has_kills(host) or coordinator.closing, wait, request)
            answer["kill"] = coordinator.take_kills(host)
            coordinator.touch(host)
        return json_response(answer)

    @r.post("/api/worker/lease", tags=["workers"], openapi_extra=body(ref("WorkerBody")),
            responses=answers(400, 409, 413, 422))
    async def lease(request: Request) -> Any:
        body, host, worker_id = await _common(request)
        free = int(_number(body, "free", 1, low=1, high=MAX_SLOTS))
        wait = min(float(_number(body, "wait", 0, high=MAX_INT)), MAX_WAIT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            generation = coordinator.work_generation
            answer = await run_in_threadpool(coordinator.lease_remote, host, worker_id, free)
            if answer is None:
                raise ApiError(409, "host %r is not attached to this coordinator (new, declared lost, or the"
                                    " coordinator restarted): send a heartbeat first" % host, rejoin=True)
            left = deadline - loop.time()
            if answer["leases"] or left <= 0 or coordinator.closing:
                return json_response(answer)
            await work.wait(lambda: coordinator.work_generation != generation or coordinator.closing, left, request)
            if await request.is_disconnected():
                return json_response({"epoch": coordinator.epoch, "seq": answer["seq"], "leases": []})

    @r.post("/api/worker/reports", tags=["workers"], openapi_extra=body(ref("WorkerBody")),
            responses=answers(400, 409, 413, 422))
    async def reports(request: Request) -> Any:
        body, host, worker_id = await _common(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise ApiError(422, "records must be a list of reports", path="records")
        decoded = [_text_without_nul(decode_report(rec)) for rec in records]
        # "lease": {"free": n} asks for the next frames of the slots these reports free, in the same answer.
        ask = body.get("lease")
        free = 0
        if ask is not None:
            if not isinstance(ask, dict):
                raise ApiError(422, "lease is an object: {\"free\": slots}", path="lease")
            free = int(_number(ask, "free", 0, high=MAX_SLOTS))
        results, leased = await run_in_threadpool(coordinator.host_reports_and_lease, host, worker_id, decoded,
                                                  free)
        answer: dict[str, Any] = {"epoch": coordinator.epoch, "results": results}
        if free:
            if leased is None:
                answer["rejoin"] = True  # the host must send a heartbeat before it gets frames
            else:
                answer.update(seq=leased["seq"], leases=leased["leases"])
        return json_response(answer)

    return r
