"""Limits with real render hosts (CONTRACT section 6): several workers with several slots leasing at once, and a
coordinator killed and started again mid-job, never hold more units than a limit's capacity.

"Never" is checked on the renders' own records, not sampled: each frame runs ``probe_render.py``, which appends
``start``/``end`` lines (time, units) to one file; a sweep over every line of the run gives the units held at every
moment. The run must also reach the capacity (else the check proves nothing) and have slots to spare beside it
(frames without limits render meanwhile: the limit, not the slots, held the limited frames back).
"""
from __future__ import annotations

import os

import requests

from tests.conftest import wait_for

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_render.py")
FAST = ["--heartbeat", "0.25", "--lost-after", "3"]


def probe_job(label, count, seconds, units, first=1, gate=None, **keys):
    command = "probe %g %d %s" % (seconds, units, label) + (" " + gate if gate else "")
    return dict({"subjobs": {"s": {"frames": {str(n): {"command": command}
                                              for n in range(first, first + count)}}}}, **keys)


def sweep(path):
    """The most limit units held at once and the most renders at once, over every moment of the run; and the
    renders that started and ended."""
    events = []
    with open(path) as f:
        for line in f:
            kind, t, _pid, units, _label = line.split()
            events.append((float(t), 1 if kind == "start" else 0, int(units)))
    held = running = peak_held = peak_running = 0
    # At one instant an end comes before a start: the frame that ended is what let the next one be leased.
    for _t, start, units in sorted(events):
        sign = 1 if start else -1
        held += sign * units
        running += sign
        peak_held, peak_running = max(peak_held, held), max(peak_running, running)
    starts = sum(1 for e in events if e[1])
    return peak_held, peak_running, starts, len(events) - starts


def api(node, method, path, **kw):
    return requests.request(method, node.url + path, headers={"Authorization": "Bearer " + node.token}, timeout=30,
                            **kw)


def done(client, *names):
    return all(client.job(n, frames=False)["status"] == "Complete" for n in names)


def test_a_limit_is_never_oversubscribed_by_workers_leasing_at_once_nor_across_a_coordinator_restart(
        node_factory, worker_factory, unique_name, tmp_path):
    node = node_factory(slots=0, args=FAST)
    client = node.client()
    assert api(node, "PUT", "/api/limits/arnold", json={"capacity": 3}).json() == {
        "name": "arnold", "capacity": 3, "in_use": 0}
    marks = str(tmp_path / "marks")
    for i in range(3):
        worker_factory(node, "w%d" % i, slots=3, args=FAST + ["--exe", "probe=" + PROBE],
                       env={"PYFARM_PROBE_MARKS": marks}, start=False)
    wait_for(lambda: len(client.workers()) == 3, what="three workers")
    one, two, free = unique_name("one-unit"), unique_name("two-units"), unique_name("no-limit")
    client.submit({one: probe_job("A", 12, 0.4, 1, limits={"arnold": 1}),
                   two: probe_job("B", 6, 0.4, 2, limits={"arnold": 2}),
                   free: probe_job("C", 12, 0.4, 0)})
    seen = []

    def finished():
        state = client.limits()["arnold"]
        seen.append(state["in_use"])
        return done(client, one, two, free)

    wait_for(finished, timeout=120, interval=0.02, what="the three jobs")
    assert max(seen) <= 3
    peak_held, peak_running, starts, ends = sweep(marks)
    assert (starts, ends) == (30, 30)
    assert peak_held == 3                     # reached, never passed
    assert peak_running >= 5                  # slots to spare: the limit held the limited frames back
    assert client.limits()["arnold"] == {"capacity": 3, "in_use": 0}

    # A coordinator killed mid-job forgets nothing: the units its hosts' running frames hold are in the store.
    # Its frames hold on until the gate opens after the restart: none ends while the coordinator is away (a frame
    # that did would be replayed on its start, before the count is read, however fast the restart).
    late, gate = unique_name("after-restart"), str(tmp_path / "gate")
    client.submit({late: probe_job("D", 9, 0.2, 1, gate=gate, limits={"arnold": 1})})
    wait_for(lambda: client.limits()["arnold"]["in_use"] == 3, what="the limit to fill")
    node.kill()
    node.start()
    client = node.client()
    assert client.limits()["arnold"]["in_use"] == 3
    open(gate, "w").close()
    wait_for(lambda: done(client, late), timeout=120, what="the job after the restart")
    peak_held, _, starts, ends = sweep(marks)
    assert peak_held == 3 and starts == ends
    job = client.job(late)
    assert job["frames"]["complete"] == 9


def test_the_limit_routes_refuse_bad_input_by_name_and_a_delete_while_frames_hold_units(node_factory, unique_name,
                                                                                       tmp_path):
    node = node_factory(slots=1, args=["--exe", "probe=" + PROBE], env={"PYFARM_PROBE_MARKS": str(tmp_path / "m")})
    for body, path in (({"capacity": -1}, "capacity"), ({"capacity": 2.5}, "capacity"), ({}, "capacity"),
                       ({"capacity": "3"}, "capacity"), ({"capacity": 1, "colour": "red"}, "colour")):
        r = api(node, "PUT", "/api/limits/arnold", json=body)
        assert (r.status_code, r.json().get("path")) == (422, path), body
    r = api(node, "PUT", "/api/limits/no%20spaces", json={"capacity": 1})
    assert (r.status_code, r.json()["path"]) == (422, "name")
    assert api(node, "GET", "/api/limits").json() == {"limits": {}}
    assert api(node, "DELETE", "/api/limits/arnold").status_code == 404
    name = unique_name()
    r = api(node, "POST", "/api/jobs", json={name: probe_job("X", 1, 30, 1, limits={"arnold": 1})})
    assert (r.status_code, r.json()["path"]) == (422, "%s.limits.arnold" % name)
    assert api(node, "PUT", "/api/limits/Arnold", json={"capacity": 1}).json()["name"] == "arnold"
    client = node.client()
    client.submit({name: probe_job("X", 2, 30, 1, limits={"arnold": 1})})
    wait_for(lambda: client.limits()["arnold"]["in_use"] == 1, what="a frame to hold the limit")
    r = api(node, "DELETE", "/api/limits/arnold")
    assert r.status_code == 409 and "held by 1 rendering frame(s) (%s s frame 1)" % name in r.json()["error"]
    assert client.job(name, frames=False)["waiting_for"] == "limit arnold is full (1 of 1)"
    client.cancel(name)
    wait_for(lambda: client.limits()["arnold"]["in_use"] == 0, what="the cancelled frame to free its unit")
    assert api(node, "DELETE", "/api/limits/arnold").json() == {"name": "arnold", "deleted": True}
