"""`farm jobs` and `farm show` against a real node: plain lines off a terminal, --json, filters, exit codes."""
from __future__ import annotations

import json

from tests.cli.conftest import FarmRun, frames, table
from tests.conftest import wait_for


def _done(client, name):
    return wait_for(lambda: client.job(name)["status"] == "Complete", what="%s complete" % name)


def test_jobs_lists_each_job_on_one_line(farm, farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("jobs")
    client.submit({name: frames(1, 2, 3, priority=70)})
    _done(client, name)
    r = farm("jobs")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout  # not a terminal: no escape sequences
    header = r.stdout.splitlines()[0].split()
    assert header[:5] == ["job", "status", "done", "failed", "pri"]
    row = [t for t in table(r.stdout) if t["job"] == name]
    assert row == [{"job": name, "status": "Complete", "done": "3/3", "failed": "0", "pri": "70", "user": "",
                    "waiting for": ""}]


def test_jobs_json_is_the_summary_without_frames(farm, farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("json")
    client.submit({name: frames(1, 2)})
    _done(client, name)
    answer = farm.json("jobs")
    assert isinstance(answer["revision"], int)
    job = answer["jobs"][name]
    assert job["frames"]["complete"] == 2 and job["status"] == "Complete"
    assert "frames" not in job["subjobs"]["sub1"]  # a listing never carries frames
    # --json before the command works too
    assert name in json.loads(farm("--json", "jobs").stdout)["jobs"]


def test_jobs_filters_by_status_name_and_user(node_factory, unique_name):
    node = node_factory(slots=0)  # renders nothing: the jobs stay as they are put
    farm = FarmRun(node)
    client = node.client()
    queued, held = unique_name("filt-queued"), unique_name("filt-held")
    client.submit({queued: frames(1, user="anna")})
    client.submit({held: frames(1, user="bob")})
    client.pause(held)
    assert list(farm.json("jobs", "--status", "paused")["jobs"]) == [held]
    assert sorted(farm.json("jobs", "--status", "Paused,QUEUED")["jobs"]) == sorted([queued, held])
    assert list(farm.json("jobs", "--name", "filt-q*")["jobs"]) == [queued]
    assert list(farm.json("jobs", "--user", "bob")["jobs"]) == [held]
    waiting = client.summary()["jobs"][queued].get("waiting_for") or ""  # why it waits, once the node says
    assert table(farm("jobs", "--user", "anna").stdout) == [
        {"job": queued, "status": "Queued", "done": "0/1", "failed": "0", "pri": "50", "user": "anna",
         "waiting for": waiting}]
    r = farm("jobs", "--name", "nothing-like-it*")
    assert (r.returncode, r.stdout) == (0, "no jobs match\n")
    r = farm("jobs", "--status", "Sleeping")
    assert r.returncode == 2 and "unknown status 'Sleeping'" in r.stderr


def test_show_gives_the_fields_and_subjobs_then_the_frames(farm, farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("show")
    client.submit({name: {"priority": 61, "subjobs": {
        "beauty": frames(1, 2)["subjobs"]["sub1"], "shadow": frames(5)["subjobs"]["sub1"]}}})
    _done(client, name)
    r = farm("show", name)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["job:", name]
    assert "status:         Complete" in lines
    assert "priority:       61" in lines
    assert "waiting for:" in lines  # an absent key shows empty
    subjobs = table("\n".join(lines[lines.index(next(line for line in lines if line.startswith("subjob"))):]))
    assert [(s["subjob"], s["status"], s["done"]) for s in subjobs] == [("beauty", "Complete", "2/2"),
                                                                         ("shadow", "Complete", "1/1")]
    assert "frame" not in r.stdout.split("subjob", 1)[1]  # no frames without --frames

    r = farm("show", name, "--frames", "--subjob", "beauty")
    assert r.returncode == 0, r.stderr
    frame_table = table(r.stdout[r.stdout.rindex("\nsubjob "):])
    assert [(f["frame"], f["status"], f["try"], f["exit"]) for f in frame_table] == [("1", "Complete", "1", "0"),
                                                                                     ("2", "Complete", "1", "0")]
    assert all(f["host"] == client.health()["node"] for f in frame_table)


def test_show_frames_filters_and_limits(farm, farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("limit")
    client.submit({name: frames(*range(1, 8))})
    _done(client, name)
    r = farm("show", name, "--frames", "--limit", "3")
    assert r.returncode == 0, r.stderr
    assert [f["frame"] for f in table(r.stdout[r.stdout.rindex("\nsubjob "):r.stdout.index("4 more")])] == \
        ["1", "2", "3"]
    assert "4 more frame(s): --limit 0 lists all" in r.stdout
    job = farm.json("show", name, "--frames", "--status", "Failed")
    assert job["subjobs"]["sub1"]["frames"] == {}
    job = farm.json("show", name, "--frames")
    assert sorted(job["subjobs"]["sub1"]["frames"]) == [str(n) for n in range(1, 8)]
    assert job["subjobs"]["sub1"]["frames"]["3"]["command"] == "render -r mr -v 5 -s 3 -e 3 scene.mb"


def test_show_of_an_unknown_job_is_the_farms_refusal(farm, unique_name):
    name = unique_name("ghost")
    r = farm("show", name)
    assert r.returncode == 1
    assert r.stderr.strip() == "farm show: no job named %r on this farm" % name
    r = farm("show", name, "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout) == {"error": "no job named %r on this farm" % name, "status": 404}
    r = farm("show", unique_name("ghost"), "--subjob", "x")
    assert r.returncode == 1


class _PagedClient(object):
    """A subjob of ``total`` frames behind FarmClient.frames, counting the pages asked for."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pages = []

    def frames(self, job, subjob, offset=0, limit=200, status=None, **_):  # type: ignore[no-untyped-def]
        self.pages.append((offset, limit))
        numbers = range(offset + 1, min(self.total, offset + limit) + 1)
        return {"revision": 1, "total": self.total, "offset": offset,
                "frames": [{"number": n, "status": "Queued"} for n in numbers]}


def test_frames_are_read_a_page_at_a_time_and_no_more_than_shown():
    from farm_node.cli.farm import lookup
    client = _PagedClient(12_001)
    total, rows = lookup.frames(client, "big", "sub1", limit=200)
    assert total == 12_001 and [f["number"] for f in rows] == list(range(1, 201))
    assert client.pages == [(0, 200)]
    client.pages.clear()
    total, rows = lookup.frames(client, "big", "sub1")
    assert [f["number"] for f in rows] == list(range(1, 12_002))
    assert client.pages == [(0, 5000), (5000, 5000), (10000, 2001)]


def test_show_frames_of_a_big_job_pages_through_it(node_factory, unique_name):
    node = node_factory(slots=0)
    farm = FarmRun(node)
    name = unique_name("big")
    node.client().submit({name: frames(*range(1, 6002))})
    job = farm.json("show", name, "--frames")
    listed = job["subjobs"]["sub1"]["frames"]
    assert len(listed) == 6001 and listed["6001"]["status"] == "Queued" and "stdout" not in listed["6001"]
    r = farm("show", name, "--frames", "--limit", "5")
    assert r.returncode == 0 and "5996 more frame(s): --limit 0 lists all" in r.stdout
