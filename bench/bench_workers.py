"""Figure 3: many render hosts on one coordinator.

200 simulated hosts (``bench/sim_workers.py``, clients of the worker protocol that start no process) take the
frames of one job from a ``--slots 0`` coordinator: frames dispatched and completed per second, and the
coordinator's CPU per frame. The floor beside them is what the same 200 connections get from the node's cheapest
route, ``GET /api/health``: a frame costs a host one call when its reports ask for the next frame (as the worker's
do), two with a lease call of its own (the third row, measured in the same run).
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
    return subprocess.Popen([sys.executable, os.path.join(HERE, "sim_workers.py"), nd.url, nd.worker_token, *args],
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
        runs = {}
        # The protocol as the worker speaks it (a frame's end asks for the next frame), then with a lease call of
        # its own for every frame, as before the reports could carry one: what the second call costs.
        for label, extra in (("", []), ("no-lease", ["--no-lease"])):
            if label and quick:
                continue
            name = "many" + label
            sim = _sim(nd, "--workers", str(workers), "--frames", str(frames), *extra)
            _ready(sim)
            cpu0 = proc.cpu_times()
            client.submit({name: {"subjobs": {"s": {"frames": {
                str(i): {"command": "render -r mr -v 5 -s %d -e %d /shows/x/scene.mb" % (i, i)}
                for i in range(1, frames + 1)}}}}})
            result = _result(sim, 900)
            cpu1 = proc.cpu_times()
            job = client.job(name)
            if job["frames"]["complete"] != frames or result["finished"] != frames:
                raise RuntimeError("only %d of %d frames ended Complete (%d reported)" % (
                    job["frames"]["complete"], frames, result["finished"]))
            runs[label] = (result, (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system))
        workers_seen = len([w for w in client.workers() if w["name"].startswith("sim")])
    finally:
        nd.stop()
    result, cpu = runs[""]
    rate = result["finished"] / result["elapsed"]
    out = [
        Row(figure="3. %d simulated hosts: frames dispatched and completed" % workers_seen,
            value="%.0f frames/s (%d frames in %.1f s)" % (rate, frames, result["elapsed"]),
            baseline="GET /api/health %.0f req/s over %d connections (a frame is one call)" % (rps, workers),
            ratio=rate / rps, target=">= 500/s", ok=rate >= 500),
        Row(figure="3. coordinator CPU per frame", value="%.2f ms" % (cpu / frames * 1000),
            baseline="GET /api/health %.2f ms a call (the hosts' own CPU: %.2f ms a frame)" % (
                health_cpu * 1000, result["client_cpu"] / frames * 1000),
            ratio=cpu / frames / health_cpu, target="-", ok=None),
    ]
    if "no-lease" in runs:
        old, old_cpu = runs["no-lease"]
        old_rate = old["finished"] / old["elapsed"]
        out.append(Row(figure="3. the same with a lease call for every frame", value="%.0f frames/s, %.2f ms CPU" % (
            old_rate, old_cpu / frames * 1000), baseline="the reports asking for the next frame: %.0f frames/s" % rate,
            ratio=old_rate / rate, target="-", ok=None))
    return out


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))
    import tempfile

    from bench.run import print_table
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        print_table(rows(tmp, "--quick" in sys.argv))
        print("(%.0f s)" % (time.time() - t0))
