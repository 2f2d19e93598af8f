"""Figure 3: many render hosts on one coordinator.

200 simulated hosts (``bench/sim_workers.py``, clients of the worker protocol that start no process) take the
frames of one job from a ``--slots 0`` coordinator: frames dispatched and completed per second, and the
coordinator's CPU per frame. Every frame costs a host two calls (a lease, then its started and finished reports),
so the floor beside it is what the same 200 connections get from the node's cheapest route, ``GET /api/health``:
half its requests per second is the most frames per second any protocol of two calls a frame could reach.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def _sim(nd: Any, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, os.path.join(HERE, "sim_workers.py"), nd.url, nd.token, *args],
                            stdout=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen, timeout: float) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError("the simulated hosts failed (exit %s): %s" % (proc.returncode, out[-2000:]))
    return json.loads(lines[-1])


def _ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline() if proc.stdout else ""
    if line.strip() != "ready":
        raise RuntimeError("the simulated hosts did not start: %r" % line)


def rows(tmp: str, quick: bool) -> list:
    import psutil

    from bench.run import Row, node
    workers = 50 if quick else 200
    frames = 2000 if quick else 10000
    nd = node(tmp, 0)
    try:
        proc = psutil.Process(nd.proc.pid)
        # The floor: the node's cheapest route over the same number of connections.
        health = _sim(nd, "--workers", str(workers), "--health", "3")
        _ready(health)
        h0 = proc.cpu_times()
        floor = _result(health, 60)
        h1 = proc.cpu_times()
        rps = floor["requests"] / floor["elapsed"]
        health_cpu = ((h1.user - h0.user) + (h1.system - h0.system)) / floor["requests"]

        client = nd.client(timeout=120)
        sim = _sim(nd, "--workers", str(workers), "--frames", str(frames))
        _ready(sim)
        cpu0 = proc.cpu_times()
        client.submit({"many": {"subjobs": {"s": {"frames": {
            str(i): {"command": "render -r mr -v 5 -s %d -e %d /shows/x/scene.mb" % (i, i)}
            for i in range(1, frames + 1)}}}}})
        result = _result(sim, 900)
        cpu1 = proc.cpu_times()
        job = client.job("many")
        workers_seen = len([w for w in client.workers() if w["name"].startswith("sim")])
    finally:
        nd.stop()
    if job["frames"]["complete"] != frames or result["finished"] != frames:
        raise RuntimeError("only %d of %d frames ended Complete (%d reported)" % (
            job["frames"]["complete"], frames, result["finished"]))
    rate = result["finished"] / result["elapsed"]
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return [
        Row(figure="3. %d simulated hosts: frames dispatched and completed" % workers_seen,
            value="%.0f frames/s (%d frames in %.1f s)" % (rate, frames, result["elapsed"]),
            baseline="GET /api/health %.0f req/s over %d connections: %.0f frames/s at 2 calls a frame" % (
                rps, workers, rps / 2), ratio=rate / (rps / 2), target=">= 500/s", ok=rate >= 500),
        Row(figure="3. coordinator CPU per frame", value="%.2f ms" % (cpu / frames * 1000),
            baseline="2 x GET /api/health: %.2f ms (the hosts' own CPU: %.2f ms a frame)" % (
                2 * health_cpu * 1000, result["client_cpu"] / frames * 1000),
            ratio=cpu / frames / (2 * health_cpu), target="-", ok=None),
    ]


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))
    import tempfile

    from bench.run import print_table
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        print_table(rows(tmp, "--quick" in sys.argv))
        print("(%.0f s)" % (time.time() - t0))
