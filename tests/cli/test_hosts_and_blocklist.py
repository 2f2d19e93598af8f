"""`farm hosts` and `farm blocklist` against a real node and a real worker."""
from __future__ import annotations

from tests.cli.conftest import FarmRun, frames, table
from tests.conftest import wait_for


def test_hosts_lists_the_node_and_its_workers(node_factory, worker_factory):
    node = node_factory(slots=1, name="coord")
    worker_factory(node, "render07", slots=2)
    farm = FarmRun(node)
    client = node.client()
    wait_for(lambda: any(w["name"] == "render07" for w in client.workers()), what="the worker to join")
    r = farm("hosts")
    assert r.returncode == 0, r.stderr
    hosts = {h["host"]: h for h in table(r.stdout)}
    assert set(hosts) == {client.health()["node"], "render07"}
    assert hosts["render07"]["state"] == "idle"
    assert (hosts["render07"]["slots"], hosts["render07"]["frames"]) == ("2", "0")
    assert hosts["render07"]["last seen"].endswith("s ago")
    assert hosts[client.health()["node"]]["last seen"] == "0s ago"  # the node answering is its slots' sign of life
    answer = farm.json("hosts")
    assert {w["name"] for w in answer["workers"]} == set(hosts)


def test_blocklist_shows_and_clears_a_jobs_blocklisted_hosts(node_factory, unique_name):
    node = node_factory(slots=1, args=["--block-after", "1"], env={"PYFARM_STANDIN_FAIL": "1"})
    farm = FarmRun(node)
    client = node.client()
    host = client.health()["node"]
    name = unique_name("blocked")
    client.submit({name: frames(1, 2, max_attempts=1)})
    wait_for(lambda: client.job(name).get("blocklist") == [host], what="the host to be blocklisted")
    r = farm("blocklist", name)
    assert (r.returncode, r.stdout) == (0, "%s is not rendered by: %s\n" % (name, host)), r.stderr
    assert farm.json("blocklist", name) == {"job": name, "blocklist": [host]}
    assert table(farm("hosts").stdout)[0]["blocklisted by"] == name
    r = farm("blocklist", name, "--clear", "someone-else")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "cleared someone-else from the blocklist of %s; still blocklisted: %s\n" % (name, host)
    r = farm("blocklist", name, "--clear")
    assert (r.returncode, r.stdout) == (0, "cleared the blocklist of %s\n" % name), r.stderr
    assert "blocklist" not in client.summary()["jobs"][name]
    assert farm("blocklist", name).stdout == "%s has no blocklisted host\n" % name
    r = farm("blocklist", unique_name("ghost"))
    assert r.returncode == 1 and "no job named" in r.stderr
