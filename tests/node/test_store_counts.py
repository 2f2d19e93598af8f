"""The store's cached frame counts stay equal to a recount through every kind of change."""
from __future__ import annotations

import random

from farm_node import scheduler
from farm_node.jobspec import parse_submission
from farm_node.store import Store


def _recount(store, job_id):
    with store.read() as db:
        out = {}
        for sid, status, n in db.execute("SELECT subjob_id, status, COUNT(*) FROM frames WHERE job_id=?"
                                         " GROUP BY subjob_id, status", (job_id,)):
            out.setdefault(sid, {})[status] = n
    return out


def test_cached_counts_follow_status_changes_and_rollbacks(tmp_path):
    store = Store(str(tmp_path / "farm.sqlite"))
    body = {"J": {"subjobs": {s: {"frames": {str(i): {"command": "render"} for i in range(50)}} for s in "abc"}}}
    with store.write() as txn:
        store.insert_jobs(txn, parse_submission(body), 1.0)
    rng = random.Random(7)
    with store.read() as db:
        ids = [r[0] for r in db.execute("SELECT id FROM frames")]
    for step in range(200):
        store.counts(1)  # cached
        chosen = rng.sample(ids, rng.randint(1, 20))
        status = rng.choice(scheduler.FRAME_STATUSES)
        try:
            with store.write() as txn:
                store.update_frames(txn, 1, chosen, status=status, stdout="x")
                if step % 7 == 0:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        cached = {sid: {k: v for k, v in c.items() if v} for sid, c in store.counts(1).items() if c}
        assert cached == _recount(store, 1)
