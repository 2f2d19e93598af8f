"""Issue 15, rows 1 and 4: the worker protocol takes the render hosts' own token, refuses the clients' (and the other
way round), and a report for an attempt leased to another worker changes nothing; a job whose only host blocklisted
it still ends (CONTRACT section 6)."""
from __future__ import annotations

import os

import requests

from tests.conftest import wait_for
from tests.node.test_node_api import seed_job

FAST = ["--heartbeat", "0.25", "--lost-after", "1.5"]


def post(node, path, token, body):
    return requests.post(node.url + path, json=body, headers={"Authorization": "Bearer " + token}, timeout=10)


def test_the_clients_token_cannot_report_frames_and_another_worker_cannot_take_a_hosts_attempts(
        node_factory, worker_factory, unique_name):
    node = node_factory(slots=0, args=FAST)
    client = node.client()
    name = unique_name("creds")
    client.submit(seed_job(name, frames=(1, 2, 3, 4)))
    beat = {"host": "fake", "worker_id": "fake-id", "slots": 4, "holding": [], "wait": 0}
    for path, body in (("/api/worker/heartbeat", beat), ("/api/worker/lease", dict(beat, free=4)),
                       ("/api/worker/reports", dict(beat, records=[{"type": "finished", "attempt": a, "exit_code": 0}
                                                                  for a in range(1, 9)]))):
        r = post(node, path, node.token, body)
        assert r.status_code == 403 and "worker token" in r.json()["error"], (path, r.status_code, r.text)
    # and the worker token is no client's
    r = requests.get(node.url + "/api/jobs", headers={"Authorization": "Bearer " + node.worker_token}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]
    assert client.job(name)["frames"]["complete"] == 0
    # A real worker renders them (they hang); a second worker under its name, with the worker token, gets nothing.
    w = worker_factory(node, "w1", slots=4, env={"PYFARM_STANDIN_HANG": "1,2,3,4"})
    wait_for(lambda: all(f["status"] == "Rendering" and f["host"] == "w1"
                         for f in client.job(name)["subjobs"]["sub1"]["frames"].values()),
             what="the four frames to render on w1 (their starts reported)")
    impostor = {"host": "w1", "worker_id": "not-" + open(os.path.join(w.data_dir, "worker-id")).read().strip(),
                "slots": 4, "holding": list(range(1, 9)), "wait": 0}
    assert post(node, "/api/worker/heartbeat", node.worker_token, impostor).status_code == 409
    r = post(node, "/api/worker/reports", node.worker_token,
             dict(impostor, records=[{"type": "finished", "attempt": a, "exit_code": 0} for a in range(1, 9)]))
    assert r.status_code in (200, 409), r.text
    if r.status_code == 200:
        assert set(r.json()["results"]) == {"stale"}
    frames = client.job(name)["subjobs"]["sub1"]["frames"].values()
    assert all(f["status"] == "Rendering" and f["host"] == "w1" for f in frames), [(f["status"], f["host"], f["error"]) for f in frames]


def test_a_job_whose_only_host_blocklisted_it_still_ends(node_factory, unique_name):
    # One host, one frame failing every time (3 failed attempts blocklist the host for the job): the job's other
    # frames must not stay Queued forever (CONTRACT section 6; the rule is issue 13's scheduling work).
    node = node_factory(slots=1, env={"PYFARM_STANDIN_FAIL": "1"}, args=["--block-after", "3"])
    client = node.client()
    name = unique_name("blocked")
    client.submit(seed_job(name, frames=range(1, 11), max_attempts=3))
    job = wait_for(lambda: all(f["status"] in ("Complete", "Failed", "Cancelled")
                               for f in client.job(name)["subjobs"]["sub1"]["frames"].values()) and client.job(name),
                   timeout=90, what="every frame of the job to end")
    assert job["subjobs"]["sub1"]["frames"][1]["status"] == "Failed"
