"""Stopping a node mid-job, by SIGTERM or SIGKILL, and starting it again on the same data folder."""
from __future__ import annotations

import sys

import psutil
import pytest

from tests.conftest import wait_for
from tests.node.test_node_api import seed_job


def _running(client, name):
    frames = client.job(name)["subjobs"]["sub1"]["frames"]
    return [n for n, f in frames.items() if f["status"] == "Rendering" and f["pid"]]


@pytest.mark.parametrize("how", ["kill", "term"])
def test_restart_mid_job_loses_nothing_and_carries_on(node_factory, unique_name, how):
    node = node_factory(slots=2, env={"PYFARM_STANDIN_SECONDS": "0.6"})
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=range(1, 9)))
    wait_for(lambda: client.job(name)["frames"]["complete"] >= 2, what="two frames to complete")
    wait_for(lambda: len(_running(client, name)) == 2, what="two frames rendering")
    before = client.job(name)["subjobs"]["sub1"]["frames"]
    done_before = {n: f for n, f in before.items() if f["status"] == "Complete"}
    rendering = {n: f for n, f in before.items() if f["status"] == "Rendering"}
    if how == "kill":
        node.kill()
    else:
        assert node.stop() == 0
        # a clean stop kills its children and writes their frames back as queued
        for f in rendering.values():
            wait_for(lambda: not psutil.pid_exists(f["pid"]) or
                     psutil.Process(f["pid"]).status() == psutil.STATUS_ZOMBIE, what="the frame's process to die")
    node.start()
    client = node.client()
    after = client.job(name)["subjobs"]["sub1"]["frames"]
    assert set(after) == set(before)
    for n, f in done_before.items():
        assert after[n]["status"] == "Complete" and after[n]["finished"] == f["finished"]
    job = wait_for(lambda: client.job(name)["status"] == "Complete" and client.job(name), timeout=60,
                   what="the job to finish after the restart")
    frames = job["subjobs"]["sub1"]["frames"]
    for n in rendering:
        # the node's own interruption did not use up an attempt
        assert frames[n]["attempts"] == 1, frames[n]
    for n, f in done_before.items():
        assert frames[n]["pid"] == f["pid"]  # not rendered twice
    if how == "kill" and sys.platform != "win32":
        # orphans of the killed node were killed by the restarted one
        for f in rendering.values():
            wait_for(lambda: not psutil.pid_exists(f["pid"]) or
                     psutil.Process(f["pid"]).status() == psutil.STATUS_ZOMBIE, what="an orphan to be killed")


def test_a_clean_stop_answers_waiting_long_polls_at_once(node_factory):
    import threading
    import time
    node = node_factory()
    client = node.client()
    revision = client.changes(0)["revision"]
    answered = {}

    def poll():
        try:
            answered["answer"] = client.changes(revision, wait=30)
        except Exception as exc:  # the node going away is an answer too
            answered["error"] = exc

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    assert node.stop() == 0
    t.join(10)
    assert not t.is_alive()
    # answered by the node as it stopped, not cut off when uvicorn's graceful wait for open requests ran out
    assert "error" not in answered and answered["answer"]["revision"] == revision
