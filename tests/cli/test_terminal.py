"""`farm` on an 80-column pseudo-terminal: tables and the live display fit, and redraws leave nothing behind."""
from __future__ import annotations

import json

from tests.cli.conftest import FARM, FarmRun, frames
from tests.cli.terminal import PtyRun, strip_escapes
from tests.conftest import ROOT, wait_for


def _pty(farm: FarmRun, *args: str) -> PtyRun:
    return PtyRun(FARM + list(args), farm.env(), columns=80, rows=24, cwd=ROOT)


def _first_cells(lines, start):  # type: ignore[no-untyped-def]
    """A folded first cell: its piece on the row's line, then the pieces below it, up to the next row (a line with
    something under the second header)."""
    width = lines[0].index(lines[0].split()[1])
    pieces = [lines[start][:width].strip()]
    for line in lines[start + 1:]:
        if not line[:width].strip() or line[width:width + 8].strip():
            break
        pieces.append(line[:width].strip())
    return pieces


def test_jobs_fit_80_columns(node_factory, unique_name):
    node = node_factory(slots=0)
    farm = FarmRun(node)
    client = node.client()
    long_name = "shot010_lighting_" + "x" * 90 + unique_name("_v")
    client.submit({long_name: frames(1, 2, user="wrangler-with-a-long-login")})
    client.submit({unique_name("short"): frames(1)})
    run = _pty(farm, "jobs")
    assert run.finish() == 0, run.raw
    assert run.too_wide() == []
    screen = run.screen().text()
    assert screen[0].split() == ["job", "status", "done", "failed", "pri", "user", "waiting", "for"]
    start = next(i for i, line in enumerate(screen) if line.startswith(long_name[:10]))
    assert "".join(_first_cells(screen, start)) == long_name, "\n".join(screen)  # folded in its column, whole
    assert "Queued" in screen[start] and "0/2" in screen[start]



def test_hosts_fit_80_columns(node_factory, worker_factory):
    node = node_factory(slots=1)
    worker = "render-host-in-the-far-corner-of-the-machine-room-07"
    worker_factory(node, worker)
    client = node.client()
    wait_for(lambda: len(client.workers()) == 2, what="the worker to join")
    run = _pty(FarmRun(node), "hosts")
    assert run.finish() == 0, run.raw
    assert run.too_wide() == []
    screen = run.screen().text()
    assert screen[0].split() == ["host", "state", "tags", "slots", "frames", "last", "seen", "blocklisted", "by"]
    assert screen[2].split()[:2] == [client.health()["node"], "idle"]
    start = next(i for i, line in enumerate(screen) if line.startswith(worker[:10]))
    assert "".join(_first_cells(screen, start)) == worker and "idle" in screen[start]


def test_watch_of_a_job_redraws_in_place_and_ends_with_the_job(node_factory, unique_name):
    node = node_factory(slots=2, env={"PYFARM_STANDIN_HANG": "1"})
    farm = FarmRun(node)
    client = node.client()
    name = unique_name("watched")
    client.submit({name: frames(1, 2, 3, subjob="beauty")})
    run = _pty(farm, "watch", name)
    # Frame 1 never ends: the display shows it rendering, beside the two others done, until the job is cancelled.
    run.wait_for(lambda raw: "2/3 done" in raw and "rendering" in raw, what="frames 2 and 3 done, 1 rendering")
    client.cancel(name)
    assert run.finish() == 0, run.raw
    assert run.too_wide() == []
    screen = [line for line in run.screen().text() if line]
    assert strip_escapes(run.raw).count("subjob  status") > 1   # drawn more than once ...
    assert sum(line.startswith("subjob  status") for line in screen) == 1   # ... and each time in place
    assert screen[0].split()[1:4] == [name, "Cancelled", "2/3"]
    assert screen[-1].split()[:4] == ["beauty", "Cancelled", "2/3", "0"]


def test_watch_of_the_farm_follows_new_jobs_until_ctrl_c(node_factory, unique_name):
    node = node_factory(slots=0)
    farm = FarmRun(node)
    client = node.client()
    first, second = unique_name("first"), unique_name("second")
    client.submit({first: frames(1)})
    run = _pty(farm, "watch")
    run.wait_for(lambda raw: first in raw, what="the first job")
    client.submit({second: frames(1, 2)})
    client.pause(first)
    run.wait_for(lambda raw: second in raw and "Paused" in raw, what="the second job and the pause")
    run.interrupt()
    assert run.finish() == 0, run.raw
    assert run.too_wide() == []
    screen = [line for line in run.screen().text() if line]
    assert sum(node.url in line for line in screen) == 1 and "2 job(s)" in screen[0]
    rows = {line.split()[0]: line.split()[1:3] for line in screen if line.split()[0] in (first, second)}
    assert rows == {first: ["Paused", "0/1"], second: ["Queued", "0/2"]}


def test_watch_off_a_terminal_prints_each_change_once(farm, farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("piped")
    client.submit({name: frames(1, 2, 3)})
    r = farm("watch", name)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "\x1b" not in r.stdout and lines
    assert len(lines) == len(set(line[9:] for line in lines))  # a state is printed once
    assert lines[-1].split()[1:5] == [name, "Complete", "3/3", "0"]
    r = farm("watch", name, "--json")
    assert r.returncode == 0, r.stderr
    states = [json.loads(line) for line in r.stdout.splitlines()]
    assert states[-1]["jobs"][name]["status"] == "Complete"
    assert "frames" not in states[-1]["jobs"][name]["subjobs"]["sub1"]
    r = farm("watch", unique_name("ghost"))
    assert r.returncode == 1 and "no job named" in r.stderr
