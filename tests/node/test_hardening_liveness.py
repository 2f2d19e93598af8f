"""Issue 15, row 6: liveness is decided on a monotonic clock. A jump of the wall clock (NTP, a VM resumed, date -s)
loses no host; silence on the monotonic clock still does. In process, with a real SQLite store and two hand-moved
clocks: the wall clock that /api/workers shows, and the monotonic one that decides."""
from __future__ import annotations

from farm_node.coordinator import Coordinator
from farm_node.store import Store
from tests.node.test_leases import Clock, beat, lease, started, submit


def _coordinator(tmp_path, wall, mono):
    store = Store(str(tmp_path / "farm.sqlite"))
    c = Coordinator(store, str(tmp_path), "coord", clock=wall, heartbeat=5.0, lost_after=15.0)
    # The monotonic clock the host registry and liveness decide by (time.monotonic unless a test hands one in).
    c.hosts.monotonic = c.liveness.clock = mono
    c.liveness.started_at = mono()
    return store, c


def test_a_wall_clock_jump_loses_no_host_and_silence_still_does(tmp_path):
    wall, mono = Clock(1_700_000_000.0), Clock(500.0)
    store, c = _coordinator(tmp_path, wall, mono)
    try:
        submit(c, frames=(1,))
        beat(c, "w1")
        attempt = lease(c, "w1")["leases"][0]["attempt"]
        started(c, "w1", attempt)
        wall.advance(3600)  # an hour forward...
        mono.advance(1)     # ...in one second
        c.check()
        w = next(w for w in c.workers() if w["name"] == "w1")
        assert w["state"] == "rendering", w
        assert c.reader.job_dict("J")["subjobs"]["s"]["frames"]["1"]["status"] == "Rendering"
        wall.advance(-7200)  # and back, past where it was
        c.check()
        assert next(w for w in c.workers() if w["name"] == "w1")["state"] == "rendering"
        # shown times stay wall-clock epoch seconds
        beat(c, "w1", holding=[attempt])
        assert next(w for w in c.workers() if w["name"] == "w1")["last_seen"] == wall()
        # 16 s of real silence: lost, whatever the wall clock says
        mono.advance(16)
        c.check()
        assert next(w for w in c.workers() if w["name"] == "w1")["state"] == "lost"
        assert c.reader.job_dict("J")["subjobs"]["s"]["frames"]["1"]["status"] == "Queued"
    finally:
        store.close()


def test_a_second_worker_under_a_name_is_refused_by_the_monotonic_clock(tmp_path):
    import pytest

    from farm_node.errors import Conflict
    wall, mono = Clock(1_700_000_000.0), Clock(500.0)
    store, c = _coordinator(tmp_path, wall, mono)
    try:
        beat(c, "w1")
        wall.advance(3600)  # the wall clock says the first worker is long silent; it is not
        with pytest.raises(Conflict):
            c.host_heartbeat("w1", "another-id", 1, None, [])
    finally:
        store.close()
