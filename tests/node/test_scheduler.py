"""The scheduler's pure rules, one transition at a time, with plain values (no store, no clock of the OS)."""
from __future__ import annotations

import pytest

from farm_node import scheduler
from farm_node.scheduler import FAILED, QUEUED, HostStatus, Outcome
from farm_node.store import Store


def test_a_failed_attempt_queues_the_frame_again_while_attempts_remain():
    assert scheduler.after_failure(1, 3) == QUEUED
    assert scheduler.after_failure(3, 3) == FAILED


def test_an_interrupted_attempt_is_given_back():
    assert scheduler.after_interrupt(2) == (QUEUED, 1)
    assert scheduler.after_interrupt(0) == (QUEUED, 0)


@pytest.mark.parametrize("started, attempts, most, expected", [
    (True, 1, 3, (QUEUED, 1)),      # a started render that was lost is a failed attempt
    (True, 3, 3, (FAILED, 3)),
    (False, 3, 3, (QUEUED, 2)),     # a lease that never started gives its attempt back
])
def test_a_lost_attempt_counts_only_when_its_render_had_started(started, attempts, most, expected):
    assert scheduler.after_loss(started, attempts, most) == expected


def test_a_lost_attempt_is_revivable_only_by_its_own_host_while_its_frame_went_to_nobody():
    ok = dict(outcome=Outcome.LOST, current=None, frame_status=QUEUED, attempt_host="w1", host="w1", latest=7,
              attempt_id=7)
    assert scheduler.revivable(**ok)
    assert scheduler.revivable(**dict(ok, frame_status=FAILED))
    for change in (dict(host="w2"), dict(outcome=Outcome.RETIRED), dict(outcome=Outcome.CANCELLED),
                   dict(current=8), dict(frame_status="Rendering"), dict(frame_status="Complete"), dict(latest=8)):
        assert not scheduler.revivable(**dict(ok, **change)), change


def test_a_hosts_state_from_its_flags():
    assert scheduler.host_state(lost=True, stopped=True, frames=2) == HostStatus.LOST
    assert scheduler.host_state(lost=False, stopped=True, frames=0) == HostStatus.STOPPED
    assert scheduler.host_state(lost=False, stopped=True, frames=1) == HostStatus.RENDERING
    assert scheduler.host_state(lost=False, stopped=False, frames=0) == HostStatus.IDLE


def test_outcomes_a_host_reports_itself():
    assert scheduler.ENDED_BY_HOST == {Outcome.COMPLETE, Outcome.FAILED, Outcome.INTERRUPTED, Outcome.ABANDONED}


def test_an_empty_subjob_is_complete_on_the_node_as_in_xml(tmp_path):
    store = Store(str(tmp_path / "farm.sqlite"))
    try:
        with store.write() as txn:
            store.insert_restored(txn, "J", {"priority": 50}, iter([("empty", {"frames": iter(())}),
                                                                    ("one", {"frames": iter([(1, {
                                                                        "status": "Failed",
                                                                        "command": "render -s 1 -e 1 x.mb"})])})]),
                                  now=1.0)
        job = store.reader.job_dict("J")
        assert job["subjobs"]["empty"]["status"] == "Complete"
        assert job["subjobs"]["one"]["status"] == "Failed" and job["status"] == "Failed"
        summary = store.reader.summary_dict()["jobs"]["J"]
        assert summary["subjobs"]["empty"]["status"] == "Complete"
    finally:
        store.close()
