"""The store's frame counts (cached in memory for SQLite, a table for PostgreSQL) stay equal to a recount through
every kind of change, on both engines."""
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


def test_cached_counts_follow_status_changes_and_rollbacks(make_store):
    store = make_store()
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


def _store_with_job(make, frames=10):
    store = make()
    body = {"J": {"subjobs": {"s": {"frames": {str(i): {"command": "render"} for i in range(1, frames + 1)}}}}}
    with store.write() as txn:
        store.insert_jobs(txn, parse_submission(body), 1.0)
    with store.read() as db:
        ids = [r[0] for r in db.execute("SELECT id FROM frames ORDER BY number")]
    return store, ids


def test_a_write_inside_a_write_is_a_savepoint_that_undoes_only_its_own_changes(make_store):
    store, ids = _store_with_job(make_store)
    store.counts(1)
    seen = []
    store.on_change(seen.append)
    with store.write() as txn:
        store.update_frames(txn, 1, ids[:2], status=scheduler.COMPLETE)
        try:
            with store.write() as inner:
                assert inner is txn  # one transaction, one revision
                store.update_frames(inner, 1, ids[2:5], status=scheduler.FAILED)
                raise RuntimeError("this part fails")
        except RuntimeError:
            pass
        with store.write() as inner:
            store.update_frames(inner, 1, ids[5:6], status=scheduler.RENDERING)
    assert seen == [store.revision]  # listeners hear of the outer commit only, once
    counts = {k: v for k, v in store.counts(1)[1].items() if v}
    assert counts == {"Complete": 2, "Rendering": 1, "Queued": 7} == _recount(store, 1)[1]
    # an exception out of the outer transaction undoes the inner parts too
    try:
        with store.write() as txn:
            with store.write() as inner:
                store.update_frames(inner, 1, ids, status=scheduler.CANCELLED)
            raise RuntimeError("the whole of it fails")
    except RuntimeError:
        pass
    assert {k: v for k, v in store.counts(1)[1].items() if v} == counts == _recount(store, 1)[1]


def test_the_revision_survives_a_restart_and_a_client_from_another_life_is_told_to_reload(tmp_path):
    # SQLite's revision is the highest stamped on a row (it is not written at every commit); PostgreSQL's is kept
    # (see the next test).
    store, ids = _store_with_job(lambda: Store(str(tmp_path / "farm.sqlite")))
    with store.write() as txn:
        store.update_frames(txn, 1, ids[:1], status=scheduler.COMPLETE)
    stamped = store.revision
    with store.write() as txn:
        store.add_note_bytes(txn, 1, 10)  # a change of no row the feed shows: stamps nothing
    seen_by_client = store.revision
    assert seen_by_client == stamped + 1
    store.close()
    store = Store(str(tmp_path / "farm.sqlite"))
    assert store.revision == stamped  # the highest revision on a row
    answer = store.reader.changes(seen_by_client)  # above the store's revision: the client cannot know what it missed
    assert answer["reload"] is True and set(answer["jobs"]) == {"J"}
    assert store.reader.changes(stamped) == {"revision": stamped, "reload": False, "jobs": {}, "deleted": []}
    with store.write() as txn:
        store.update_frames(txn, 1, ids[1:2], status=scheduler.FAILED)
    answer = store.reader.changes(stamped)
    assert answer["reload"] is False and list(answer["jobs"]["J"]["subjobs"]["s"]["frames"]) == ["2"]
    assert answer["jobs"]["J"]["frames"]["failed"] == 1


def test_the_revision_of_a_postgresql_store_survives_a_restart_exactly(pg_url, tmp_path):
    from farm_node.store import open_store
    store, ids = _store_with_job(lambda: open_store(pg_url, str(tmp_path)))
    with store.write() as txn:
        store.update_frames(txn, 1, ids[:1], status=scheduler.COMPLETE)
    with store.write() as txn:
        store.add_note_bytes(txn, 1, 10)
    seen = store.revision
    store.close()
    store = open_store(pg_url, str(tmp_path))
    try:
        assert store.revision == seen
        assert store.reader.changes(seen) == {"revision": seen, "reload": False, "jobs": {}, "deleted": []}
        with store.write() as txn:
            store.update_frames(txn, 1, ids[1:2], status=scheduler.FAILED)
        answer = store.reader.changes(seen)
        assert answer["reload"] is False and list(answer["jobs"]["J"]["subjobs"]["s"]["frames"]) == ["2"]
        assert answer["jobs"]["J"]["frames"]["failed"] == 1
    finally:
        store.close()
