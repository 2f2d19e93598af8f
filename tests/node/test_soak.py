"""Randomized soak: rounds of random kills and restarts of workers and of the coordinator while jobs render, then all
processes are left to finish. Every frame must end Complete exactly once in the store, with the log of every attempt.

    PYFARM_SOAK_ROUNDS   rounds of trouble (default 3, about half a minute; run hundreds outside CI)
    PYFARM_SOAK_SEED     the random seed (default: a new one, printed, so a failure can be replayed)
"""
from __future__ import annotations

import os
import random
import time

import pytest

from tests.conftest import wait_for
from tests.node.test_node_api import seed_job

ROUNDS = int(os.environ.get("PYFARM_SOAK_ROUNDS") or 3)
SEED = int(os.environ.get("PYFARM_SOAK_SEED") or random.randrange(1 << 31))
FRAMES_PER_JOB = 8


@pytest.mark.timeout(180 + 15 * ROUNDS)
def test_random_kills_and_restarts_end_with_every_frame_complete_exactly_once(node_factory, worker_factory):
    rng = random.Random(SEED)
    print("soak: %d rounds, seed %d (PYFARM_SOAK_SEED=%d replays it)" % (ROUNDS, SEED, SEED))
    node = node_factory(slots=0, args=["--heartbeat", "0.3", "--lost-after", "1.2", "--block-after", "0"])
    workers = [worker_factory(node, "soak%d" % i, slots=1 + i % 2, env={"PYFARM_STANDIN_SECONDS": "0.3"},
                              start=False) for i in range(3)]
    for w in workers:
        w.wait_started()
    jobs: list = []

    def submit() -> None:
        name = "soak-%d" % len(jobs)
        # A minute, not the client's 10 s: a node just restarted on a loaded machine may take that long to answer.
        node.client(timeout=60).submit(seed_job(name, frames=range(1, FRAMES_PER_JOB + 1), max_attempts=1000))
        jobs.append(name)

    submit()
    done = {"kill worker": 0, "stop worker": 0, "kill coordinator": 0, "stop coordinator": 0, "kill both": 0}
    for _ in range(ROUNDS):
        time.sleep(rng.uniform(0.2, 1.2))
        action = rng.choice(["kill worker", "kill worker", "stop worker", "kill coordinator", "stop coordinator",
                             "kill both"])
        done[action] += 1
        w = rng.choice(workers)
        if action == "kill worker":
            w.kill()
            time.sleep(rng.uniform(0, 2.5))  # sometimes past the lease: the host is declared lost meanwhile
            w.start()
        elif action == "stop worker":
            assert w.stop() == 0
            w.start()
        elif action in ("kill coordinator", "stop coordinator"):
            if action == "kill coordinator":
                node.kill()
            else:
                assert node.stop() == 0
            time.sleep(rng.uniform(0, 1.5))  # the workers keep rendering and keep their reports
            node.start()
        else:
            node.kill()
            w.kill()
            time.sleep(rng.uniform(0, 1.5))
            node.start()
            w.start()
        submit()
    client = node.client(timeout=60)
    for name in jobs:
        wait_for(lambda: client.job(name)["status"] == "Complete", timeout=120 + 2 * ROUNDS,
                 what="soak job %s to complete" % name)
    for w in workers:
        assert w.stop() == 0
    assert node.stop() == 0

    # What the store holds, read through the store itself: the same check on either engine.
    from farm_node.store import open_store
    store = open_store(node.args[node.args.index("--store") + 1] if "--store" in node.args else "", node.data_dir)
    try:
        with store.read() as db:
            frames = db.execute("SELECT j.name, f.number, f.status, f.attempt_id, (SELECT COUNT(*) FROM attempts a"
                                " WHERE a.frame_id=f.id AND a.outcome='complete') FROM frames f"
                                " JOIN jobs j ON j.id=f.job_id").fetchall()
            attempts = db.execute("SELECT a.id, a.outcome, a.log_path FROM attempts a").fetchall()
        assert len(frames) == len(jobs) * FRAMES_PER_JOB
        for job, number, status, current, complete in frames:
            assert (status, current, complete) == ("Complete", None, 1), (job, number)
        outcomes: dict = {}
        for attempt_id, outcome, log_path in attempts:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if store.shared:  # a farm's store keeps the logs in the database
                text = b"".join(store.read_log(attempt_id, 0, store.log_size(attempt_id)))
                assert text, (outcome, attempt_id)
            else:
                # A log file, or for an attempt that ended young (before its start was written) the store's copy.
                path = os.path.join(node.data_dir, log_path)
                text = store.attempt_log_text(attempt_id)
                assert (text is None) == os.path.exists(path), (outcome, log_path)
                if text is None:
                    with open(path, "rb") as f:
                        text = f.read()
            if outcome == "complete":
                assert b"completed." in text, log_path
            else:
                assert b"[pyfarm]" in text or outcome == "failed", (outcome, log_path)
    finally:
        store.close()
    assert "running" not in outcomes
    print("soak: %s; %d frames Complete once; attempts by outcome %s" % (done, len(frames), outcomes))
