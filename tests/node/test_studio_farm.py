"""A studio's farm for real (CONTRACT section 6): workers with tags, a chain of dependencies, a job that says why it
waits and is changed by PATCH, and the blocklist's rule on a node of one host, across a restart and a retry.
Real nodes and workers on 127.0.0.1, the stand-in renderer.
"""
from __future__ import annotations

import requests

from tests.conftest import wait_for
from tests.node.test_node_api import seed_job

FAST = ["--heartbeat", "0.25", "--lost-after", "3"]


def api(node, method, path, **kw):
    return requests.request(method, node.url + path, headers={"Authorization": "Bearer " + node.token}, timeout=30,
                            **kw)


def head(client, name):
    return client.job(name, frames=False)


def ended(client, name):
    return head(client, name)["status"] in ("Complete", "Failed")


def test_workers_render_only_the_jobs_whose_tags_they_hold(node_factory, worker_factory, unique_name):
    node = node_factory(slots=0, args=FAST)
    client = node.client()
    worker_factory(node, "gpu1", args=FAST + ["--tags", "gpu", "--tags", "Linux"], start=False)
    worker_factory(node, "cpu1", args=FAST + ["--tags", "linux"], start=False)
    wait_for(lambda: len(client.workers()) == 2, what="two workers")
    assert {w["name"]: w["tags"] for w in client.workers()} == {"gpu1": ["gpu", "linux"], "cpu1": ["linux"]}
    gpu, linux, arnold = unique_name("gpu"), unique_name("linux"), unique_name("arnold")
    client.submit({gpu: seed_job(gpu, frames=range(1, 7), requires=["gpu"])[gpu],
                   linux: seed_job(linux, frames=range(1, 7), requires=["linux"])[linux],
                   arnold: seed_job(arnold, frames=(1, 2), requires=["gpu", "arnold"])[arnold]})
    wait_for(lambda: head(client, gpu)["status"] == "Complete" and head(client, linux)["status"] == "Complete",
             what="the tagged jobs")
    frames = client.job(gpu)["subjobs"]["sub1"]["frames"]
    assert {f["host"] for f in frames.values()} == {"gpu1"}
    assert head(client, arnold)["waiting_for"] == "no host has the tags arnold, gpu (the nearest, gpu1, lacks arnold)"
    # a wrangler changes what it needs: it renders now
    answer = api(node, "PATCH", "/api/jobs/%s" % arnold, json={"requires": ["gpu"]})
    assert answer.status_code == 200 and answer.json()["requires"] == ["gpu"]
    wait_for(lambda: head(client, arnold)["status"] == "Complete", what="the changed job")
    assert head(client, arnold)["waiting_for"] is None


def test_a_chain_of_dependencies_renders_in_order(node_factory, unique_name):
    node = node_factory(slots=2, env={"PYFARM_STANDIN_SECONDS": "0.3"})
    client = node.client()
    sim, light, comp = unique_name("sim"), unique_name("light"), unique_name("comp")
    # The last link first: a job may depend on a job of the same submission, in any order.
    client.submit({comp: seed_job(comp, frames=(1, 2, 3), depends_on=[light])[comp],
                   light: seed_job(light, frames=(1, 2, 3), depends_on=[sim])[light],
                   sim: seed_job(sim, frames=(1, 2, 3, 4))[sim]})
    assert head(client, comp)["waiting_for"] == "job %s is not Complete" % light
    wait_for(lambda: head(client, comp)["status"] == "Complete", timeout=60, what="the chain")
    jobs = {n: client.job(n)["subjobs"]["sub1"]["frames"].values() for n in (sim, light, comp)}
    for before, after in ((sim, light), (light, comp)):
        assert max(f["finished"] for f in jobs[before]) <= min(f["started"] for f in jobs[after])
    r = api(node, "POST", "/api/jobs", json={unique_name(): seed_job("x", depends_on=["nobody"])["x"]})
    assert r.status_code == 422 and r.json()["path"].endswith(".depends_on.0")


def test_patch_refuses_unknown_keys_and_bad_values_by_name(farm_node_server, unique_name):
    node = farm_node_server
    client = node.client()
    name = unique_name("patch")
    client.submit({name: seed_job(name, frames=(1,), paused=True, user="dana", comment="first light")[name]})
    before = head(client, name)
    assert (before["paused"], before["user"], before["comment"], before["waiting_for"]) == (
        True, "dana", "first light", "the job is paused")
    for body, path in (({"priority": 101}, "priority"), ({"speed": 3}, "speed"), ({"limits": {"x y": 1}},
                       "limits.x y"), ({"frame_timeout": 0}, "frame_timeout"), ({"user": "eve"}, "user")):
        r = api(node, "PATCH", "/api/jobs/%s" % name, json=body)
        assert (r.status_code, r.json()["path"]) == (422, path), body
    assert api(node, "PATCH", "/api/jobs/%s" % unique_name(), json={"priority": 1}).status_code == 404
    assert head(client, name) == before                                   # nothing stored
    r = client.update(name, priority=77, comment="second light")
    assert (r["priority"], r["comment"]) == (77, "second light")
    client.delete(name)


def test_one_host_failing_one_frame_still_renders_the_others_also_after_a_restart_and_a_retry(node_factory,
                                                                                            unique_name):
    # CONTRACT section 6, "no job waits forever": one host, frame 3 fails every time, the host is blocklisted for
    # the job after three failed frames; the blocklist yields (the host takes the job when it has nothing else to
    # render), so the other nine frames render. Frame 99 of another job hangs until it is cancelled.
    node = node_factory(slots=1, env={"PYFARM_STANDIN_FAIL": "3", "PYFARM_STANDIN_HANG": "99",
                                      "PYFARM_STANDIN_SECONDS": "0.3"})
    client = node.client()
    host = client.health()["node"]
    name, other = unique_name("one-host"), unique_name("other")
    client.submit({name: seed_job(name, frames=range(1, 11))[name]})
    wait_for(lambda: head(client, name).get("blocklist") == [host], what="the host to be blocklisted")
    blocked = "every host that may render it is blocklisted: %s" % host
    assert head(client, name)["waiting_for"].startswith(blocked)
    # something else to render comes first
    client.submit({other: seed_job(other, frames=(99,))[other]})
    wait_for(lambda: head(client, other)["status"] == "Rendering", what="the other job to take the host")
    assert head(client, name)["frames"]["queued"] > 0 and head(client, name)["waiting_for"].startswith(blocked)
    # the same after a restart
    node.stop()
    node.start()
    client = node.client()
    wait_for(lambda: head(client, other)["status"] == "Rendering", what="the other job to take the host again")
    assert head(client, name)["frames"]["queued"] > 0 and head(client, name)["waiting_for"].startswith(blocked)
    client.cancel(other)
    wait_for(lambda: ended(client, name), timeout=60, what="the job to end")
    job = client.job(name)
    frames = job["subjobs"]["sub1"]["frames"]
    assert job["status"] == "Failed" and job["blocklist"] == [host] and job["waiting_for"] is None
    assert [n for n, f in sorted(frames.items()) if f["status"] != "Complete"] == [3]
    assert frames[3]["attempts"] == 3
    # a retry clears the blocklist; the frame fails again, blocklists the host again, and the job ends again
    client.retry(name)
    wait_for(lambda: ended(client, name) and head(client, name).get("blocklist") == [host], timeout=60,
             what="the retried job to end")
    assert head(client, name)["frames"]["complete"] == 9
