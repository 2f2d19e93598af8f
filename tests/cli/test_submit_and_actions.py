"""`farm submit`, `pause`, `resume`, `cancel`, `retry` and `delete` against a real node."""
from __future__ import annotations

import getpass
import json

from tests.cli.conftest import FarmRun, frames
from tests.conftest import wait_for


def test_submit_from_a_file_and_from_standard_input(farm, farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    a, b = unique_name("sub-file"), unique_name("sub-stdin")
    path = tmp_path / "job.json"
    path.write_text(json.dumps({a: frames(1, 2)}))
    r = farm("submit", str(path))
    assert (r.returncode, r.stdout) == (0, "submitted %s\n" % a), r.stderr
    r = farm("submit", "-", "--json", input=json.dumps({b: frames(3, user="carol")}))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"jobs": [b]}
    assert client.job(a)["user"] == getpass.getuser()  # who submitted it, as the Maya side says it
    assert client.job(b)["user"] == "carol"            # a job that names its user keeps it
    assert sorted(client.job(a)["subjobs"]["sub1"]["frames"]) == [1, 2]


def test_submit_refusals_and_usage_errors(farm, farm_node_server, unique_name, tmp_path):
    name = unique_name("sub-bad")
    r = farm("submit", "-", input=json.dumps({name: {"subjobs": {"s": {"frames": {"1": {"command": ""}}}}}}))
    assert r.returncode == 1                        # the farm refused, in its own words, naming the place
    assert r.stderr.startswith("farm submit: ") and "%s.subjobs.s.frames.1.command" % name in r.stderr
    r = farm("submit", "-", input="{not json")
    assert r.returncode == 2 and "standard input is not JSON" in r.stderr
    r = farm("submit", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    taken = unique_name("sub-taken")
    assert farm("submit", "-", input=json.dumps({taken: frames(1)})).returncode == 0
    r = farm("submit", "-", "--json", input=json.dumps({taken: frames(1)}))
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == 409


def test_pause_resume_cancel_retry_delete(node_factory, unique_name):
    node = node_factory(slots=0)  # nothing renders: every state below is the one the actions made
    farm = FarmRun(node)
    client = node.client()
    name = unique_name("act")
    client.submit({name: frames(1, 2, 3)})
    r = farm("pause", name)
    assert (r.returncode, r.stdout) == (0, "paused %s\n" % name), r.stderr
    assert client.job(name)["status"] == "Paused"
    assert farm.json("resume", name) == {"job": name, "paused": False}
    assert client.job(name)["status"] == "Queued"
    r = farm("cancel", name)
    assert (r.returncode, r.stdout) == (0, "cancelled 3 frame(s) of %s\n" % name), r.stderr
    assert client.job(name)["status"] == "Cancelled"
    r = farm("retry", name, "--subjob", "sub1", "--frames", "1-2")
    assert (r.returncode, r.stdout) == (0, "queued 2 frame(s) of %s again\n" % name), r.stderr
    statuses = {n: f["status"] for n, f in client.job(name)["subjobs"]["sub1"]["frames"].items()}
    assert statuses == {1: "Queued", 2: "Queued", 3: "Cancelled"}
    assert farm.json("retry", name) == {"job": name, "retried": 1}  # the cancelled one
    r = farm("retry", name, "--frames", "1-x")
    assert r.returncode == 2 and "--frames" in r.stderr
    r = farm("retry", name, "--subjob", "sub1", "--frames", "9")
    assert r.returncode == 1 and "no frame 9" in r.stderr

    r = farm("delete", name)  # no terminal to ask at: it must be said
    assert r.returncode == 2 and "--yes" in r.stderr
    assert name in client.summary()["jobs"]
    r = farm("delete", name, "--yes")
    assert (r.returncode, r.stdout) == (0, "deleted %s\n" % name), r.stderr
    assert name not in client.summary()["jobs"]
    r = farm("pause", name)
    assert r.returncode == 1 and r.stderr.strip() == "farm pause: no job named %r on this farm" % name


def test_cancel_kills_what_renders(node_factory, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_HANG": "1"})
    farm = FarmRun(node)
    client = node.client()
    name = unique_name("kill")
    client.submit({name: frames(1)})
    wait_for(lambda: client.job(name)["subjobs"]["sub1"]["frames"][1]["pid"], what="frame 1 to start")
    assert farm.json("cancel", name) == {"job": name, "cancelled": 1}
    assert client.job(name)["subjobs"]["sub1"]["frames"][1]["status"] == "Cancelled"
