#!/usr/bin/env python3
"""PyFarm's benchmarks: each figure beside the floor it is compared with, measured in the same run.

    python bench/run.py                  # every figure, a few minutes on 2 cores
    python bench/run.py dispatch gap     # some of them
    python bench/run.py --quick          # smaller sizes, to check the harness itself

Prints a table and writes bench/results/latest.json. Timings on a shared machine drift, so each headline figure is a
ratio to a baseline of the same run, or a count or size that does not depend on the clock. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.conftest import NodeProcess  # noqa: E402  (the same real node the tests start)


def trivial_program() -> list[str]:
    """The cheapest program the OS can start: the floor every frame pays."""
    true = shutil.which("true")
    return [true] if true else [sys.executable, "-c", "pass"]


class Row(dict):
    """One line of the table: figure, value, baseline, ratio or target, verdict."""


def node(tmp: str, slots: int, exe: list[str] | None = None, env: dict | None = None) -> NodeProcess:
    args = ["--backup-interval", "0"]
    for e in exe or []:
        args += ["--exe", e]
    return NodeProcess(tempfile.mkdtemp(dir=tmp), slots=slots, args=args, env=env).start()


def wait_complete(client: Any, name: str, timeout: float = 600) -> None:
    revision = 0
    deadline = time.time() + timeout
    while time.time() < deadline:
        answer = client.changes(revision, wait=10)
        revision = answer["revision"]
        job = answer["jobs"].get(name)
        if job and job["frames"]["complete"] + job["frames"]["failed"] == job["frames"]["total"]:
            return
    raise RuntimeError("job %s did not finish in %ss" % (name, timeout))


def frames_job(name: str, n: int, argv: list[str], start: int = 1) -> dict:
    command = " ".join(argv)
    return {name: {"subjobs": {"s": {"frames": {str(i): {"command": command, "argv": ["noop"] + argv[1:]}
                                              for i in range(start, start + n)}}}}}


# -- 1. dispatch overhead ------------------------------------------------------------------------------------------
def spawn_loop(argv: list[str], n: int, threads: int = 2) -> float:
    """The floor: ``n`` runs of ``argv`` by ``threads`` plain threads, each reading the output and reaping."""
    left = [n]
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            p.stdout.read()
            p.wait()

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0


def bench_dispatch(tmp: str, quick: bool) -> list[Row]:
    n = 200 if quick else 2000
    rounds = 2 if quick else 3
    argv = trivial_program()
    loops: list[float] = []
    farms: list[float] = []
    nd = node(tmp, 2, ["noop=" + argv[0]])
    try:
        client = nd.client(timeout=120)
        # Rounds alternate, loop then farm, so that a machine that slows down for a while slows both; each side's
        # best round is compared, the median shown beside it.
        for r in range(rounds):
            loops.append(spawn_loop(argv, n))
            name = "dispatch-%d" % r
            t0 = time.perf_counter()
            client.submit(frames_job(name, n, argv))
            wait_complete(client, name)
            farms.append(time.perf_counter() - t0)
            job = client.job(name)
            assert job["frames"]["complete"] == n, job["frames"]
    finally:
        nd.stop()
    farm, loop = min(farms), min(loops)
    return [Row(figure="1. dispatch: %d trivial frames, 2 slots (best of %d)" % (n, rounds),
                value="%.2f s (median %.2f s)" % (farm, statistics.median(farms)),
                baseline="2-thread loop %.2f s (median %.2f s)" % (loop, statistics.median(loops)),
                ratio=farm / loop, target="<= 2.0", ok=farm / loop <= 2.0)]


# -- 2. idle gap and submit latency --------------------------------------------------------------------------------
def bench_gap(tmp: str, quick: bool) -> list[Row]:
    n = 50 if quick else 300
    argv = trivial_program()
    nd = node(tmp, 1, ["noop=" + argv[0]])
    try:
        client = nd.client(timeout=60)
        latencies = []
        for i in range(5 if quick else 20):
            name = "first-%d" % i
            t0 = time.time()
            client.submit(frames_job(name, 1, argv))
            wait_complete(client, name)
            latencies.append(client.job(name)["subjobs"]["s"]["frames"][1]["started"] - t0)
        client.submit(frames_job("gap", n, argv))
        wait_complete(client, "gap")
        frames = sorted(client.job("gap")["subjobs"]["s"]["frames"].values(), key=lambda f: f["started"])
        gaps = [(b["started"] - a["finished"]) * 1000 for a, b in zip(frames, frames[1:])]
    finally:
        nd.stop()
    gaps.sort()
    p50 = statistics.median(gaps)
    p99 = gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]
    spawn = _spawn_floor(argv)
    lat = statistics.median(latencies) * 1000
    return [
        Row(figure="2. idle gap, median (%d frames, 1 slot)" % n, value="%.1f ms" % p50,
            baseline="process spawn %.1f ms" % spawn, ratio=p50 / spawn, target="< 20 ms", ok=p50 < 20),
        Row(figure="2. idle gap, p99", value="%.1f ms" % p99, baseline="process spawn %.1f ms" % spawn,
            ratio=p99 / spawn, target="< 100 ms", ok=p99 < 100),
        Row(figure="2. submit to first process start, median", value="%.1f ms" % lat,
            baseline="process spawn %.1f ms" % spawn, ratio=lat / spawn, target="-", ok=None),
    ]


def _spawn_floor(argv: list[str]) -> float:
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        p.stdout.read()
        p.wait()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# -- 4. big jobs ---------------------------------------------------------------------------------------------------
def bench_big(tmp: str, quick: bool) -> list[Row]:
    import requests
    n = 10000 if quick else 100000
    nd = node(tmp, 0)
    rows = []
    try:
        client = nd.client(timeout=300)
        body = {"big": {"subjobs": {"masterLayer": {"frames": {
            str(i): {"command": "render -r mr -v 5 -s %d -e %d /shows/x/scene.mb" % (i, i)}
            for i in range(1, n + 1)}}}}}
        raw = json.dumps(body).encode()
        t0 = time.perf_counter()
        json.loads(raw)
        parse_floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        client.submit(body)
        submit = time.perf_counter() - t0
        rows.append(Row(figure="4. submit a %d-frame job" % n, value="%.2f s" % submit,
                        baseline="json.loads of the body %.2f s (%.1f MB)" % (parse_floor, len(raw) / 1e6),
                        ratio=submit / parse_floor, target="< 3 s", ok=submit < 3))
        session = requests.Session()
        headers = {"Authorization": "Bearer " + nd.token}
        t0 = time.perf_counter()
        r = session.get(nd.url + "/api/jobs/big", headers=headers)
        get = time.perf_counter() - t0
        t0 = time.perf_counter()
        json.loads(r.content)
        get_floor = time.perf_counter() - t0
        rows.append(Row(figure="4. GET /api/jobs/{job} (%d frames)" % n, value="%.2f s" % get,
                        baseline="json.loads of the answer %.2f s (%.1f MB)" % (get_floor, len(r.content) / 1e6),
                        ratio=get / get_floor, target="-", ok=None))
        rev = session.get(nd.url + "/api/changes?since=0", headers=headers).json()["revision"]
        health, quiet, size = [], [], 0
        for _ in range(200):
            t0 = time.perf_counter()
            session.get(nd.url + "/api/health")
            health.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = session.get(nd.url + "/api/changes?since=%d" % rev, headers=headers)
            quiet.append(time.perf_counter() - t0)
            size = len(r.content) + sum(len(k) + len(v) + 4 for k, v in r.headers.items())
        q, h = statistics.median(quiet) * 1000, statistics.median(health) * 1000
        rows.append(Row(figure="4. changes poll, nothing new (median of 200)", value="%.2f ms, %d B" % (q, size),
                        baseline="GET /api/health %.2f ms" % h, ratio=q / h, target="< 5 ms, < 1 KB",
                        ok=q < 5 and size < 1024))
        client.retry("big", subjob="masterLayer", frames=list(range(1, 1001)))
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            r = session.get(nd.url + "/api/changes?since=%d" % rev, headers=headers)
            times.append(time.perf_counter() - t0)
        changed = sum(len(s["frames"]) for s in r.json()["jobs"]["big"]["subjobs"].values())
        c = statistics.median(times) * 1000
        rows.append(Row(figure="4. changes poll, %d changed frames" % changed,
                        value="%.1f ms, %.0f KB" % (c, len(r.content) / 1024), baseline="GET /api/health %.2f ms" % h,
                        ratio=c / h, target="-", ok=None))
    finally:
        nd.stop()
    return rows


# -- 7. memory -----------------------------------------------------------------------------------------------------
def bench_memory(tmp: str, quick: bool) -> list[Row]:
    import psutil
    jobs, per = (2, 50000) if quick else (10, 100000)
    nd = node(tmp, 0)
    try:
        client = nd.client(timeout=300)
        proc = psutil.Process(nd.proc.pid)
        idle = proc.memory_info().rss
        peak = idle
        for j in range(jobs):
            client.submit({"mem%d" % j: {"subjobs": {"s": {"frames": {
                str(i): {"command": "render -r arnold -ai:lve 2 -s %d -e %d /shows/x/scene.ma" % (i, i)}
                for i in range(1, per + 1)}}}}})
            peak = max(peak, proc.memory_info().rss)
        client.changes(client.changes(0)["revision"])  # a quiet poll, as a monitor would keep doing
        time.sleep(1)
        settled = proc.memory_info().rss
        peak = max(peak, settled)
        db = os.path.getsize(os.path.join(nd.data_dir, "farm.sqlite"))
    finally:
        nd.stop()
    total = jobs * per
    return [Row(figure="7. coordinator RSS, %d frames queued" % total, value="%.0f MB (peak %.0f MB)" % (
        settled / 2 ** 20, peak / 2 ** 20), baseline="idle node %.0f MB; store file %.0f MB" % (
        idle / 2 ** 20, db / 2 ** 20), ratio=settled / idle, target="-", ok=None)]


BENCHES: dict[str, Callable[[str, bool], list[Row]]] = {
    "dispatch": bench_dispatch,
    "gap": bench_gap,
    "big": bench_big,
    "memory": bench_memory,
}


def _optional_benches() -> None:
    """Figures whose code lives beside the part they measure (XML, workers, panel), when present."""
    for name, module in (("workers", "bench.bench_workers"), ("xml", "bench.bench_xml"),
                         ("panel", "bench.bench_panel"), ("postgresql", "bench.bench_pg")):
        try:
            mod = __import__(module, fromlist=["rows"])
        except ImportError:
            continue
        if hasattr(mod, "rows"):
            BENCHES[name] = mod.rows


def main(argv: list[str] | None = None) -> int:
    _optional_benches()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", choices=[[]] + list(BENCHES), help="figures to run (default: all)")
    p.add_argument("--quick", action="store_true", help="smaller sizes")
    p.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "latest.json"))
    ns = p.parse_args(argv)
    names = ns.names or list(BENCHES)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pyfarm-bench-") as tmp:
        for name in names:
            print("running %s ..." % name, file=sys.stderr, flush=True)
            try:
                rows.extend(BENCHES[name](tmp, ns.quick))
            except Exception as exc:  # one broken figure must not hide the others
                rows.append(Row(figure=name, value="ERROR", baseline=repr(exc)[:200], ratio=None, target="-",
                                ok=False))
    print_table(rows)
    os.makedirs(os.path.dirname(ns.json), exist_ok=True)
    with open(ns.json, "w") as f:
        json.dump({"machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                               "cpus": os.cpu_count()}, "quick": ns.quick, "rows": rows}, f, indent=2)
    print("\nJSON: %s" % ns.json)
    return 0


def print_table(rows: list[Row]) -> None:
    headers = ("figure", "value", "baseline (same run)", "ratio", "target", "met")
    table = [(r["figure"], r["value"], r["baseline"], "-" if r.get("ratio") is None else "%.2f" % r["ratio"],
              r["target"], {True: "yes", False: "NO", None: "-"}[r.get("ok")]) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *table)]
    line = " | ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for row in table:
        print(" | ".join("%-*s" % (w, str(x)) for w, x in zip(widths, row)))


if __name__ == "__main__":
    sys.exit(main())
