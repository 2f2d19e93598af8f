"""`farm set`, `farm limits` / `farm limit`, host tags and why a job waits: docs/API.md section 6.

Written against the contract: they pass once the node has PATCH /api/jobs/{job}, the limits routes, `--tags` and
`waiting_for` (issue 13).
"""
from __future__ import annotations

import pytest

from farm_node.cli.farm.update import parse_changes
from farm_node.errors import ConfigError
from tests.cli.conftest import FarmRun, frames, table


def test_set_values_are_typed_as_the_node_takes_them():
    assert parse_changes(["priority=80", "max_attempts=5", "frame_timeout=none", "requires=gpu, linux",
                          "limits=arnold:1,nuke", "comment=\"night run\"", "note=plain words"]) == {
        "priority": 80, "max_attempts": 5, "frame_timeout": None, "requires": ["gpu", "linux"],
        "limits": {"arnold": 1, "nuke": 1}, "comment": "night run", "note": "plain words"}
    assert parse_changes(["requires="]) == {"requires": []}
    with pytest.raises(ConfigError, match="priority is 0 to 100"):
        parse_changes(["priority=high"])
    with pytest.raises(ConfigError, match="is not KEY=VALUE"):
        parse_changes(["priority"])


def test_set_changes_a_job(node_factory, unique_name):
    node = node_factory(slots=0)
    farm = FarmRun(node)
    client = node.client()
    name = unique_name("set")
    client.submit({name: frames(1, 2)})
    r = farm("set", name, "priority=80", "max_attempts=5")
    assert (r.returncode, r.stdout) == (0, "%s: priority=80, max_attempts=5\n" % name), r.stderr
    job = client.summary()["jobs"][name]
    assert (job["priority"], job["max_attempts"]) == (80, 5)
    assert farm.json("set", name, "frame_timeout=600")["frame_timeout"] == 600
    r = farm("set", name, "priority=500")
    assert r.returncode == 1 and "priority" in r.stderr           # refused by name, as at submit
    assert client.summary()["jobs"][name]["priority"] == 80
    r = farm("set", name, "priority")
    assert r.returncode == 2
    r = farm("set", unique_name("ghost"), "priority=1")
    assert r.returncode == 1 and "no job named" in r.stderr


def test_limits_are_set_listed_and_deleted(node_factory):
    node = node_factory(slots=0)
    farm = FarmRun(node)
    assert farm("limits").stdout == "no limits on the farm\n"
    r = farm("limit", "arnold", "4")
    assert (r.returncode, r.stdout) == (0, "limit arnold: capacity 4\n"), r.stderr
    assert farm("limit", "nuke", "2").returncode == 0
    assert table(farm("limits").stdout) == [{"limit": "arnold", "in use": "0", "capacity": "4"},
                                            {"limit": "nuke", "in use": "0", "capacity": "2"}]
    assert farm.json("limits") == {"limits": {"arnold": {"capacity": 4, "in_use": 0},
                                              "nuke": {"capacity": 2, "in_use": 0}}}
    r = farm("limit", "arnold", "--delete")
    assert (r.returncode, r.stdout) == (0, "deleted limit arnold\n"), r.stderr
    assert list(farm.json("limits")["limits"]) == ["nuke"]
    assert farm("limit", "arnold").returncode == 2               # neither a capacity nor --delete
    assert farm("limit", "arnold", "3", "--delete").returncode == 2


def test_hosts_show_their_tags_and_jobs_say_why_they_wait(node_factory, unique_name):
    node = node_factory(slots=1, args=["--tags", "linux,nuke"])
    farm = FarmRun(node)
    client = node.client()
    assert table(farm("hosts").stdout)[0]["tags"] == "linux,nuke"
    name = unique_name("needs-gpu")
    client.submit({name: frames(1, requires=["gpu"], user="dana")})
    waiting = client.summary()["jobs"][name]["waiting_for"]
    assert "gpu" in waiting
    row = [r for r in table(farm("jobs").stdout) if r["job"] == name][0]
    assert (row["user"], row["waiting for"]) == ("dana", waiting)
    r = farm("show", name)
    assert "waiting for:    %s" % waiting in r.stdout and "requires:       gpu" in r.stdout
