#!/usr/bin/env python3
"""Simulated render hosts for figure 3: clients of the worker protocol (docs/DESIGN.md) that start no process.

    python bench/sim_workers.py URL TOKEN --workers 200 --frames 10000      # frames mode (what figure 3 measures)
    python bench/sim_workers.py URL TOKEN --workers 200 --health 3          # the HTTP floor: GET /api/health
    python bench/sim_workers.py URL1,URL2 TOKEN ...                         # hosts split over two coordinators

Each simulated host does what ``farm-node worker`` does on the wire, minus the render: it joins with a heartbeat,
keeps a heartbeat long poll open (``--heartbeat`` seconds, holding the attempt it renders), long-polls for a lease
while its slot is idle, and reports each leased frame as one batch of ``started`` and ``finished`` records asking
for the slot's next frame with it, as the worker's sender does for a frame that ends before its next send. Hand-written HTTP/1.1 on kept-alive connections
in one asyncio loop, so that the load costs as little of the machine as it can.

Prints ``ready`` once every host has joined and asked for a lease, then one JSON line of figures at the end. In
frames mode it exits when ``--frames`` frames were reported finished with every record answered "ok".
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from urllib.parse import urlsplit


class Conn:
    """One kept-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = ("Authorization: Bearer %s\r\n" % token).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        assert self.reader is not None and self.writer is not None
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = b"%s %s HTTP/1.1\r\nHost: farm\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
            method.encode(), path.encode(), self.auth, len(data))
        self.writer.write(head + data)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        payload = await self.reader.readexactly(length) if length else b""
        return status, (json.loads(payload) if payload else None)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Farm:
    def __init__(self, args: argparse.Namespace) -> None:
        # URL may name several coordinators of one farm (comma-separated): host i talks to the i-th, round robin.
        self.addresses = []
        for part in args.url.split(","):
            url = urlsplit(part.strip())
            self.addresses.append((url.hostname or "127.0.0.1", url.port or 80))
        self.host, self.port = self.addresses[0]
        self.token = args.token
        self.args = args
        self.finished = 0
        self.refused = 0
        self.leases = 0
        self.joined = 0
        self.first_lease: float | None = None
        self.marks: list[float] = []  # when every thousandth frame ended
        self.last_end: float | None = None
        self.done = asyncio.Event()
        self.all_joined = asyncio.Event()

    def conn(self, i: int = 0) -> Conn:
        host, port = self.addresses[i % len(self.addresses)]
        return Conn(host, port, self.token)


async def sim_host(farm: Farm, i: int) -> None:
    args = farm.args
    name, worker_id = "sim%03d" % i, "sim-worker-%03d" % i
    beat_conn, work_conn = farm.conn(i), farm.conn(i)
    await beat_conn.open()
    await work_conn.open()
    holding: set[int] = set()
    state = {"epoch": None, "seen": 0}
    info = {"os": "Linux", "os_release": "sim", "cpus": 1, "memory": 1 << 30}
    if args.tags:
        # Two of the farm's tags per host (``--tags N``): every tag is on as many hosts (CONTRACT section 6).
        info["tags"] = sorted({"tag%d" % (i % args.tags), "tag%d" % ((i + 3) % args.tags)})

    async def beat(wait: float) -> None:
        status, answer = await beat_conn.request("POST", "/api/worker/heartbeat", {
            "host": name, "worker_id": worker_id, "slots": 1, "info": info, "holding": sorted(holding),
            "epoch": state["epoch"], "seen": state["seen"], "wait": wait})
        if status != 200 or not isinstance(answer, dict):
            raise RuntimeError("heartbeat of %s refused: %s %s" % (name, status, answer))
        if answer.get("epoch") != state["epoch"]:
            state["epoch"], state["seen"] = answer.get("epoch"), 0

    async def beats() -> None:
        while not farm.done.is_set():
            await beat(args.heartbeat)

    await beat(0)
    farm.joined += 1
    if farm.joined == args.workers:
        farm.all_joined.set()
    beating = asyncio.ensure_future(beats())
    leases: list = []
    try:
        while not farm.done.is_set():
            if not leases:
                # An idle slot: the lease thread's long poll.
                status, answer = await work_conn.request("POST", "/api/worker/lease", {
                    "host": name, "worker_id": worker_id, "free": 1, "wait": 20})
                if status == 409:
                    await beat(0)
                    continue
                if status != 200 or not isinstance(answer, dict):
                    raise RuntimeError("lease of %s refused: %s %s" % (name, status, answer))
                state["seen"] = max(state["seen"], int(answer.get("seq") or 0))
                leases = list(answer.get("leases") or [])
                continue
            attempt = leases.pop(0)["attempt"]
            farm.leases += 1
            if farm.first_lease is None:
                farm.first_lease = time.perf_counter()
            holding.add(attempt)
            # The frame's start and end in one batch, asking for the slot's next frame with it (``--no-lease``:
            # a separate lease call, as a worker of before did).
            body: dict = {"host": name, "worker_id": worker_id, "records": [
                {"type": "started", "attempt": attempt, "pid": 100000 + i},
                {"type": "finished", "attempt": attempt, "exit_code": 0, "error": None}]}
            if not args.no_lease:
                body["lease"] = {"free": 1}
            status, answer = await work_conn.request("POST", "/api/worker/reports", body)
            holding.discard(attempt)
            if status != 200 or not isinstance(answer, dict) or answer.get("results") != ["ok", "ok"]:
                farm.refused += 1
                continue
            if answer.get("leases"):
                state["seen"] = max(state["seen"], int(answer.get("seq") or 0))
                leases.extend(answer["leases"])
            farm.finished += 1
            farm.last_end = time.perf_counter()
            if farm.finished % 1000 == 0:
                farm.marks.append(farm.last_end)
            if farm.finished >= args.frames:
                farm.done.set()
    finally:
        beating.cancel()
        beat_conn.close()
        work_conn.close()


async def run_frames(args: argparse.Namespace) -> dict:
    farm = Farm(args)
    hosts = [asyncio.ensure_future(sim_host(farm, i)) for i in range(args.workers)]
    await asyncio.wait_for(farm.all_joined.wait(), 120)
    await asyncio.sleep(0.5)  # every host's lease long poll is parked
    print("ready", flush=True)
    cpu0 = os.times()
    done = asyncio.ensure_future(farm.done.wait())
    finished, _ = await asyncio.wait([done] + hosts, timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED)
    for h in hosts:
        if h.done() and h.exception() is not None:
            raise h.exception()  # type: ignore[misc]
    cpu1 = os.times()
    for h in hosts:
        h.cancel()
    elapsed = (farm.last_end or time.perf_counter()) - (farm.first_lease or time.perf_counter())
    return {"mode": "frames", "workers": args.workers, "finished": farm.finished, "leases": farm.leases,
            "refused": farm.refused, "elapsed": elapsed,
            "client_cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), "complete": done in finished,
            "per_thousand": [round(b - a, 3) for a, b in zip([farm.first_lease or 0.0] + farm.marks, farm.marks)]}


async def run_health(args: argparse.Namespace) -> dict:
    farm = Farm(args)
    conns = [farm.conn(i) for i in range(args.workers)]
    for c in conns:
        await c.open()
    count = [0]
    stop = time.perf_counter() + args.health

    async def loop(c: Conn) -> None:
        while time.perf_counter() < stop:
            status, _ = await c.request("GET", "/api/health")
            if status == 200:
                count[0] += 1

    print("ready", flush=True)
    cpu0 = os.times()
    t0 = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in conns))
    elapsed = time.perf_counter() - t0
    cpu1 = os.times()
    for c in conns:
        c.close()
    return {"mode": "health", "workers": args.workers, "requests": count[0], "elapsed": elapsed,
            "client_cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("--workers", type=int, default=200)
    p.add_argument("--frames", type=int, default=10000)
    p.add_argument("--heartbeat", type=float, default=5.0)
    p.add_argument("--no-lease", action="store_true", help="reports without asking for the next frame")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--health", type=float, default=0.0, help="seconds of GET /api/health instead of frames")
    p.add_argument("--tags", type=int, default=0, help="the farm has tag0..tagN-1: each host holds two of them")
    args = p.parse_args(argv)
    result = asyncio.run(run_health(args) if args.health else run_frames(args))
    print(json.dumps(result), flush=True)
    return 0 if result.get("complete", True) else 1


if __name__ == "__main__":
    sys.exit(main())
