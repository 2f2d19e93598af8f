"""Remote render hosts in the coordinator, in process: heartbeats, leases, losses, restarts, with a hand-moved clock.

A real SQLite store on a temporary file, no HTTP and no processes: "the host went silent for 15 s" takes microseconds.
"""
from __future__ import annotations

import os

import pytest

from farm_node import runner
from farm_node.coordinator import Coordinator
from farm_node.errors import Conflict
from farm_node.store import Store
from tests.conftest import wait_for


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def farm(make_store, tmp_path):
    """A coordinator on the test's store (either engine), restartable on the same store: ``start()``."""
    clock = Clock()

    def start() -> Coordinator:
        store = make_store()
        if store.shared:
            # The coordinator that decides liveness is the one whose session holds the store's lock; here the only
            # one (the coordinator is not started: its listening is, alone).
            store.start_listening()
            wait_for(lambda: store.leader, what="the store's leadership")
        return Coordinator(store, str(tmp_path), "coord", clock=clock, heartbeat=5.0, lost_after=15.0)

    yield start, clock


def submit(c: Coordinator, name: str = "J", frames=(1,), **keys) -> None:
    frames_ = {str(n): {"command": "render -s %d -e %d scene.mb" % (n, n)} for n in frames}
    c.submit({name: dict({"subjobs": {"s": {"frames": frames_}}}, **keys)})


def frame(c: Coordinator, n: int = 1, job: str = "J") -> dict:
    return c.reader.job_dict(job)["subjobs"]["s"]["frames"][str(n)]


def beat(c: Coordinator, host: str, holding=(), **kw) -> dict:
    return c.host_heartbeat(host, "id-" + host, 2, {"os": "Linux", "cpus": 8, "memory": 1 << 34}, list(holding), **kw)


def lease(c: Coordinator, host: str, free: int = 1) -> dict:
    answer = c.lease_remote(host, "id-" + host, free)
    assert answer is not None, "host %s is not attached" % host
    return answer


def report(c: Coordinator, host: str, *records: dict) -> list:
    return c.host_reports(host, "id-" + host, list(records))


def started(c: Coordinator, host: str, attempt: int, pid: int = 4242) -> None:
    assert report(c, host, {"type": "started", "attempt": attempt, "pid": pid}) == ["ok"]


def log_of(c: Coordinator, n: int = 1, attempt=None, job: str = "J") -> bytes:
    return b"".join(c.log_source(job, "s", n, attempt).chunks(0))


def worker(c: Coordinator, host: str) -> dict:
    return next(w for w in c.workers() if w["name"] == host)


def test_a_joined_host_renders_a_frame_reported_by_attempt(farm):
    start, clock = farm
    c = start()
    assert c.lease_remote("w1", "id-w1", 1) is None  # a heartbeat comes first
    answer = beat(c, "w1")
    assert answer["kill"] == [] and answer["heartbeat"] == 5.0 and answer["lost_after"] == 15.0
    submit(c, frames=(1,))
    got = lease(c, "w1")
    (a,) = got["leases"]
    assert a["job"] == "J" and a["subjob"] == "s" and a["frame"] == 1 and a["argv"][0] == "render"
    f = frame(c)
    assert f["status"] == "Rendering" and f["host"] is None and f["pid"] is None  # no process yet
    started(c, "w1", a["attempt"], pid=77)
    assert (frame(c)["host"], frame(c)["pid"]) == ("w1", 77)
    assert worker(c, "w1")["state"] == "rendering" and worker(c, "w1")["frames"] == 1
    results = report(c, "w1", {"type": "output", "attempt": a["attempt"], "data": b"hello\n", "progress": 50,
                                "offset": 0},
                     {"type": "finished", "attempt": a["attempt"], "exit_code": 0, "error": None})
    assert results == ["ok", "ok"]
    f = frame(c)
    assert f["status"] == "Complete" and f["attempts"] == 1 and f["exit_code"] == 0 and "hello" in f["stdout"]
    assert log_of(c) == b"hello\n"
    w = worker(c, "w1")
    assert (w["state"], w["slots"], w["frames"], w["os"], w["cpus"], w["local"]) == ("idle", 2, 0, "Linux", 8, False)
    assert w["last_seen"] == clock.t
    # a report for an attempt that is over is refused as stale, and changes nothing
    assert report(c, "w1", {"type": "finished", "attempt": a["attempt"], "exit_code": 1}) == ["stale"]
    assert report(c, "w2", {"type": "started", "attempt": a["attempt"], "pid": 1}) == ["stale"]
    assert report(c, "w1", {"type": "started", "attempt": "x"}, None) == ["bad", "bad"]
    assert frame(c)["status"] == "Complete"


def test_names_of_the_coordinator_and_of_another_attached_worker_are_refused(farm):
    start, clock = farm
    c = start()
    with pytest.raises(Conflict):
        c.host_heartbeat("coord", "x", 1, {}, [])
    beat(c, "w1")
    with pytest.raises(Conflict):
        c.host_heartbeat("w1", "another-id", 1, {}, [])
    beat(c, "w1")  # the same worker (same id) again, e.g. after its restart, is welcome
    clock.advance(16)
    c.check()
    c.host_heartbeat("w1", "another-id", 1, {}, [])  # once the first is lost, the name is free


def test_a_silent_host_is_lost_its_frame_fails_the_attempt_with_the_reason_and_the_host_rejoins(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,), max_attempts=2)
    (a,) = lease(c, "w1")["leases"]
    started(c, "w1", a["attempt"])
    report(c, "w1", {"type": "output", "attempt": a["attempt"], "data": b"half a frame\n", "offset": 0})
    clock.advance(14.9)
    c.check()
    assert frame(c)["status"] == "Rendering"
    clock.advance(0.2)
    c.check()
    f = frame(c)
    assert f["status"] == "Queued" and f["attempts"] == 1
    assert "w1 stopped answering" in f["error"] and "15s" in f["error"]
    log = log_of(c, attempt=1)
    assert log.startswith(b"half a frame\n") and b"[pyfarm] host w1 stopped answering" in log
    assert worker(c, "w1")["state"] == "lost"
    assert c.lease_remote("w1", "id-w1", 1) is None  # a lost host joins again by its heartbeat
    # the host comes back, its frame was not given to anyone: the attempt goes on and its result counts, once
    assert beat(c, "w1", holding=[a["attempt"]])["kill"] == []
    f = frame(c)
    assert f["status"] == "Rendering" and f["error"] is None and f["attempts"] == 1
    assert worker(c, "w1")["state"] == "rendering"
    assert report(c, "w1", {"type": "output", "attempt": a["attempt"], "data": b"and the rest\n", "offset": 13},
                  {"type": "finished", "attempt": a["attempt"], "exit_code": 0}) == ["ok", "ok"]
    f = frame(c)
    assert f["status"] == "Complete" and f["attempts"] == 1 and f["error"] is None
    log = log_of(c)
    assert log.startswith(b"half a frame\n") and log.endswith(b"and the rest\n") and b"goes on" in log


def test_a_lost_hosts_late_report_counts_while_nobody_else_took_the_frame(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,), max_attempts=1)
    (a,) = lease(c, "w1")["leases"]
    started(c, "w1", a["attempt"])
    clock.advance(20)
    c.check()
    assert frame(c)["status"] == "Failed"  # its only attempt was lost
    # the host was cut off, not dead: its spooled end arrives before any heartbeat
    assert report(c, "w1", {"type": "finished", "attempt": a["attempt"], "exit_code": 0}) == ["ok"]
    f = frame(c)
    assert f["status"] == "Complete" and f["attempts"] == 1 and f["error"] is None
    assert c.reader.job_dict("J")["frames"]["complete"] == 1


def test_a_lost_host_whose_frame_moved_on_is_told_to_kill_and_its_reports_are_stale(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,))
    (a1,) = lease(c, "w1")["leases"]
    started(c, "w1", a1["attempt"])
    clock.advance(16)
    c.check()
    beat(c, "w2")
    (a2,) = lease(c, "w2")["leases"]
    assert a2["frame"] == 1 and a2["attempt"] != a1["attempt"]
    started(c, "w2", a2["attempt"], pid=99)
    assert beat(c, "w1", holding=[a1["attempt"]])["kill"] == [a1["attempt"]]
    assert worker(c, "w1")["state"] == "idle"  # joined again
    assert report(c, "w1", {"type": "finished", "attempt": a1["attempt"], "exit_code": 0}) == ["stale"]
    assert frame(c)["status"] == "Rendering" and frame(c)["host"] == "w2"
    report(c, "w2", {"type": "finished", "attempt": a2["attempt"], "exit_code": 0})
    f = frame(c)
    assert (f["status"], f["host"], f["pid"], f["attempts"]) == ("Complete", "w2", 99, 2)
    assert b"stopped answering" in log_of(c, attempt=1)  # the lost attempt's log is kept


def test_an_unstarted_attempt_of_a_lost_host_is_given_back(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,), max_attempts=1)
    lease(c, "w1")
    clock.advance(16)
    c.check()
    f = frame(c)
    assert f["status"] == "Queued" and f["attempts"] == 0 and "had not started" in f["error"]


def test_a_lease_answer_on_its_way_is_not_taken_for_lost(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,))
    got = lease(c, "w1")
    seq, epoch = got["seq"], got["epoch"]
    # a heartbeat sent before the answer arrived says nothing of it: the frame stays with the host
    beat(c, "w1", holding=[], epoch=epoch, seen=seq - 1)
    assert frame(c)["status"] == "Rendering"
    # once the host confirms it had that answer and still does not hold the frame, the lease went astray
    beat(c, "w1", holding=[], epoch=epoch, seen=seq)
    f = frame(c)
    assert f["status"] == "Queued" and f["attempts"] == 0 and "no longer holds" in f["error"]


def test_a_coordinator_restart_reattaches_holders_and_requeues_unclaimed_frames_after_two_heartbeats(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    beat(c, "w2")
    submit(c, frames=(1, 2, 3))
    (a1,) = lease(c, "w1")["leases"]
    (a2,) = lease(c, "w2")["leases"]
    started(c, "w1", a1["attempt"], pid=11)
    started(c, "w2", a2["attempt"], pid=22)
    report(c, "w1", {"type": "output", "attempt": a1["attempt"], "data": b"0123456789", "offset": 0})
    c.store.close()
    clock.advance(3)
    c = start()  # the coordinator was SIGKILLed and starts again on the same store
    assert {w["name"] for w in c.workers()} == {"w1", "w2"}  # known from before, not attached yet
    assert c.lease_remote("w1", "id-w1", 1) is None
    # w1 re-attaches and holds its frame: nothing is requeued or rendered again
    assert beat(c, "w1", holding=[a1["attempt"]], epoch="old-epoch", seen=12345)["kill"] == []
    assert frame(c, 1)["status"] == "Rendering" and frame(c, 1)["attempts"] == 1
    # a report replayed across the restart is not written twice into the log
    report(c, "w1", {"type": "output", "attempt": a1["attempt"], "data": b"56789abc", "offset": 5},
           {"type": "finished", "attempt": a1["attempt"], "exit_code": 0})
    assert frame(c, 1)["status"] == "Complete" and log_of(c, 1) == b"0123456789abc"
    if not c.store.shared:
        # w2 never comes back: its frame waits two heartbeats for a claim, then goes back to the queue
        clock.advance(2 * 5.0 - 0.1)
        c.check()
        assert frame(c, 2)["status"] == "Rendering"
        clock.advance(0.2)
        c.check()
        f = frame(c, 2)
        assert f["status"] == "Queued" and "did not claim" in f["error"] and f["attempts"] == 1
        assert b"did not claim" in log_of(c, 2, attempt=1)
    else:
        # A farm's store (coordinator/farm.py): no sweep; the coordinator deciding liveness watches w2's beats from
        # its start and loses it after lost_after of silence, as any host.
        c.check()
        clock.advance(15.0 - 0.1)
        c.check()
        assert frame(c, 2)["status"] == "Rendering"
        clock.advance(0.2)
        c.check()
        f = frame(c, 2)
        assert f["status"] == "Queued" and "stopped answering" in f["error"] and f["attempts"] == 1
        assert b"stopped answering" in log_of(c, 2, attempt=1)
    clock.advance(15)
    beat(c, "w1")
    c.check()
    assert worker(c, "w2")["state"] == "lost" and worker(c, "w1")["state"] == "idle"


def test_a_replayed_output_is_written_once_even_around_the_coordinators_notes(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,))
    (a,) = lease(c, "w1")["leases"]
    attempt = a["attempt"]
    started(c, "w1", attempt)
    out = {"type": "output", "attempt": attempt}
    assert report(c, "w1", dict(out, data=b"abc", offset=0), dict(out, data=b"abc", offset=0),
                  dict(out, data=b"bcdef", offset=1)) == ["ok", "ok", "ok"]
    assert log_of(c) == b"abcdef"
    clock.advance(16)
    c.check()  # lost: a note goes into the log
    report(c, "w1", dict(out, data=b"defgh", offset=3))  # revives the attempt (another note), then the new bytes
    report(c, "w1", dict(out, data=b"gh", offset=6), {"type": "finished", "attempt": attempt, "exit_code": 0})
    log = log_of(c)
    assert log.startswith(b"abcdef\n[pyfarm] ") and log.endswith(b"goes on\ngh")
    assert log.count(b"gh") == 1 and log.count(b"abc") == 1


def test_retry_after_a_loss_retires_the_lost_attempt(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1,), max_attempts=1)
    (a,) = lease(c, "w1")["leases"]
    started(c, "w1", a["attempt"])
    clock.advance(16)
    c.check()
    assert frame(c)["status"] == "Failed"
    c.retry("J")
    assert report(c, "w1", {"type": "finished", "attempt": a["attempt"], "exit_code": 0}) == ["stale"]
    assert frame(c)["status"] == "Queued"


def test_interrupted_abandoned_and_leaving(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1, 2, 3))
    (a1, a2) = lease(c, "w1", free=2)["leases"]
    started(c, "w1", a1["attempt"])
    started(c, "w1", a2["attempt"])
    # a clean stop of the worker gives the attempt back; a worker that died and started again abandons it
    assert report(c, "w1", {"type": "interrupted", "attempt": a1["attempt"], "reason": "the worker was stopped"},
                  {"type": "abandoned", "attempt": a2["attempt"], "reason": "its worker died"}) == ["ok", "ok"]
    f1, f2 = frame(c, 1), frame(c, 2)
    assert (f1["status"], f1["attempts"]) == ("Queued", 0) and "w1: the worker was stopped" in f1["error"]
    assert (f2["status"], f2["attempts"]) == ("Queued", 1) and "w1: its worker died" in f2["error"]
    assert report(c, "w1", {"type": "finished", "attempt": a2["attempt"], "exit_code": 0}) == ["stale"]
    (a3,) = lease(c, "w1")["leases"]
    started(c, "w1", a3["attempt"])
    # a host that says goodbye while the store has it rendering: that frame is requeued at once
    beat(c, "w1", holding=[], leaving=True)
    assert frame(c, a3["frame"])["status"] == "Queued"
    assert worker(c, "w1")["state"] == "stopped"
    assert c.lease_remote("w1", "id-w1", 1) is None
    clock.advance(100)
    c.check()
    assert worker(c, "w1")["state"] == "stopped"  # gone on purpose, not lost


def test_kill_orders_reach_the_holder_and_a_blocklist_stops_a_bad_host(farm):
    start, clock = farm
    c = start()
    beat(c, "bad")
    beat(c, "good")
    submit(c, "J", frames=range(1, 6), max_attempts=5)
    for _ in range(3):
        (a,) = lease(c, "bad")["leases"]
        started(c, "bad", a["attempt"])
        report(c, "bad", {"type": "finished", "attempt": a["attempt"], "exit_code": 210})
    assert lease(c, "bad")["leases"] == []
    assert worker(c, "bad")["blocklisted"] == ["J"] and c.reader.job_dict("J")["blocklist"] == ["bad"]
    (a,) = lease(c, "good")["leases"]
    c.cancel("J")
    assert c.has_kills("good")
    assert beat(c, "good", holding=[a["attempt"]])["kill"] == [a["attempt"]]
    assert not c.has_kills("good")
    c.retry("J")  # a retry clears the job's blocklist
    assert worker(c, "bad")["blocklisted"] == []
    assert lease(c, "bad")["leases"]


def test_the_node_recovers_its_own_frames_and_leaves_remote_ones_to_their_hosts(farm, tmp_path, store_engine):
    start, clock = farm
    c = start()
    c.register_host("coord", 1, local=True)
    beat(c, "w1")
    submit(c, frames=(1, 2))
    (local,) = c.lease("coord", 1)
    (remote,) = lease(c, "w1")["leases"]
    c.store.close()
    c = start()
    assert c.recover(runner.kill_orphan) == 1
    assert frame(c, local["frame"])["status"] == "Queued"
    assert frame(c, remote["frame"])["status"] == "Rendering"
    if store_engine == "sqlite":
        assert os.path.exists(os.path.join(str(tmp_path), "farm.sqlite"))


def test_heartbeat_and_lease_settings_are_checked():
    from farm_node import config
    from farm_node.errors import ConfigError
    cfg = config.load({"heartbeat": 0.5, "lost_after": 2}, environ={})
    assert (cfg.heartbeat, cfg.lost_after) == (0.5, 2.0)
    assert (config.load({}, environ={}).heartbeat, config.load({}, environ={}).lost_after) == (5.0, 15.0)
    with pytest.raises(ConfigError, match="lost-after"):
        config.load({"heartbeat": 5, "lost_after": 5}, environ={})
    with pytest.raises(ConfigError, match="heartbeat"):
        config.load({}, environ={"FARM_HEARTBEAT": "0"})


def test_a_heartbeat_holding_an_attempt_its_host_ended_gets_no_kill_order(farm):
    # The heartbeat was built before the frame's end was answered: killing what is over would only answer the long
    # poll at once, every time, for a host whose frames are short.
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1, 2))
    (a, b) = lease(c, "w1", free=2)["leases"]
    for att, code in ((a, 0), (b, 3)):
        assert report(c, "w1", {"type": "started", "attempt": att["attempt"], "pid": 1},
                      {"type": "finished", "attempt": att["attempt"], "exit_code": code, "error": None}) == ["ok"] * 2
    assert beat(c, "w1", holding=[a["attempt"], b["attempt"]])["kill"] == []
    # what the host must stop is still killed: a running frame a user cancels
    (again,) = lease(c, "w1")["leases"]  # frame 2's retry
    started(c, "w1", again["attempt"])
    c.cancel("J")
    assert beat(c, "w1", holding=[again["attempt"]])["kill"] == [again["attempt"]]


def test_reports_can_ask_for_the_next_frames_of_the_slots_they_free(farm):
    start, clock = farm
    c = start()
    beat(c, "w1")
    submit(c, frames=(1, 2, 3))
    first = lease(c, "w1")
    (a,) = first["leases"]
    results, answer = c.host_reports_and_lease("w1", "id-w1", [
        {"type": "started", "attempt": a["attempt"], "pid": 5},
        {"type": "finished", "attempt": a["attempt"], "exit_code": 0, "error": None}], 1)
    assert results == ["ok", "ok"]
    (b,) = answer["leases"]
    assert b["frame"] == 2 and answer["seq"] > first["seq"] and answer["epoch"] == c.epoch
    assert frame(c, 1)["status"] == "Complete" and frame(c, 2)["status"] == "Rendering"
    # numbered like a lease answer: until the host confirms it, the attempt is on its way, not lost
    assert beat(c, "w1", holding=[], epoch=c.epoch, seen=first["seq"])["kill"] == []
    assert frame(c, 2)["status"] == "Rendering"
    assert beat(c, "w1", holding=[], epoch=c.epoch, seen=answer["seq"])["kill"] == []
    assert frame(c, 2)["status"] == "Queued"  # confirmed and not held: it went astray
    # its late end still counts (nobody took the frame meanwhile), and a stale record is refused alone
    results, answer = c.host_reports_and_lease("w1", "id-w1", [
        {"type": "finished", "attempt": b["attempt"], "exit_code": 0, "error": None},
        {"type": "finished", "attempt": a["attempt"], "exit_code": 0, "error": None}], 2)
    assert results == ["ok", "stale"] and [x["frame"] for x in answer["leases"]] == [3]
    assert frame(c, 2)["status"] == "Complete"
    # a host that must join again first gets no frames
    clock.advance(16)
    c.check()
    assert c.host_reports_and_lease("w1", "id-w1", [], 1) == ([], None)


def test_the_nodes_own_slot_leases_its_next_frame_with_the_end_of_the_last(farm):
    start, clock = farm
    c = start()
    c.register_host("coord", 1, local=True)
    submit(c, frames=(1, 2), max_attempts=2)
    (a,) = c.lease("coord", 1)
    c.started(a["attempt"], 4242, defer=True)
    assert frame(c, 1)["pid"] is None  # the start waits for the frame's end (or for the journal's flush)
    (b,) = c.finish_and_lease(a["attempt"], 0, None, "coord", 1)
    f = frame(c, 1)
    assert (f["status"], f["host"], f["pid"], f["exit_code"]) == ("Complete", "coord", 4242, 0)
    assert frame(c, 2)["status"] == "Rendering" and b["frame"] == 2
    # a frame that fails with attempts left is queued again and can be the very next one
    c.started(b["attempt"], 4243, defer=True)
    (again,) = c.finish_and_lease(b["attempt"], 1, None, "coord", 1)
    assert again["frame"] == 2 and frame(c, 2)["attempts"] == 2
    # a start no frame end took with it reaches the store on its own
    c.started(again["attempt"], 4244, defer=True)
    c.flush_starts()
    assert (frame(c, 2)["host"], frame(c, 2)["pid"]) == ("coord", 4244)
    c.shutdown()
    assert c.finish_and_lease(again["attempt"], 0, None, "coord", 1) == []  # a stopping node leases nothing


def test_a_frame_end_that_races_a_cancel_is_refused_and_counts_stay_right(farm):
    from farm_node.errors import StaleAttempt
    start, clock = farm
    c = start()
    c.register_host("coord", 1, local=True)
    submit(c, frames=(1,))
    (a,) = c.lease("coord", 1)
    c.store.counts(1)  # cached, so a wrong status change would show in them
    read = c.attempts.current

    def read_then_cancel(attempt_id):  # the cancel lands between the end's read and its transaction
        got = read(attempt_id)
        c.cancel("J")
        return got

    c.attempts.current = read_then_cancel
    with pytest.raises(StaleAttempt):
        c.finished(a["attempt"], 0)
    job = c.reader.job_dict("J")
    assert job["subjobs"]["s"]["frames"]["1"]["status"] == "Cancelled"
    assert (job["frames"]["cancelled"], job["frames"]["complete"], job["frames"]["rendering"]) == (1, 0, 0)


def test_a_render_whose_pid_only_the_start_journal_had_is_killed_when_the_node_starts_again(farm, tmp_path,
                                                                                              monkeypatch):
    import sys
    import time

    import psutil

    # No flusher runs (the coordinator is not started): the start stays in the journal, as if the node died first.
    start, clock = farm
    clock.t = time.time()  # an orphan is told from a reused pid by its start time, which is the OS's
    c = start()
    c.register_host("coord", 1, local=True)
    submit(c, frames=(1,))
    (a,) = c.lease("coord", 1)
    child = runner.start([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        c.started(a["attempt"], child.pid, defer=True)
        assert frame(c)["pid"] is None  # the node dies before the start reached the store
        c.store.close()
        c = start()
        assert c.recover(runner.kill_orphan) == 1
        assert child.wait(10) is not None
        assert frame(c)["status"] == "Queued" and frame(c)["attempts"] == 0
        assert c.journal.read() == {}  # the journal is emptied once its pids are dealt with
    finally:
        child.kill_tree()
        child.close()
    assert not psutil.pid_exists(child.pid) or psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE
