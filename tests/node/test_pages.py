"""Reads that stay small, against a real node: pages of one subjob's frames (sorted and filtered by the node), the
changes feed narrowed to what a monitor shows, a job's head, and a reconnect that costs the summary, not the queue."""
from __future__ import annotations

import json
import urllib.request

import pytest

from maya_plugin.errors import FarmNotFound, FarmRejected
from maya_plugin.farm_client import feed_frames
from tests.conftest import wait_for

COMPACT = {"number", "status", "host", "pid", "attempts", "progress", "started", "finished", "exit_code", "error",
           "command"}


def job_body(n, subjobs=("main",), first=1, **extra):
    body = {"subjobs": {s: {"frames": {str(i): {"command": "render -s %d -e %d /tmp/p/%s.mb" % (i, i, s)}
                                       for i in range(first, first + n)}} for s in subjobs}}
    body.update(extra)
    return body


def raw_get(node, path):
    req = urllib.request.Request(node.url + path, headers={"Authorization": "Bearer " + node.token})
    with urllib.request.urlopen(req) as r:  # noqa: S310 (a local test node)
        return r.read()


@pytest.fixture
def idle(node_factory):
    """A node that renders nothing: frames stay where the test puts them."""
    return node_factory(slots=0)


def test_pages_of_a_subjob_in_frame_order_both_ways(idle, unique_name):
    client = idle.client()
    name = unique_name("pages")
    client.submit({name: job_body(25, first=10)})
    page = client.frames(name, "main", offset=0, limit=10)
    assert page["total"] == 25 and page["offset"] == 0
    assert [f["number"] for f in page["frames"]] == list(range(10, 20))
    assert set(page["frames"][0]) == COMPACT  # no stdout tail, no argv
    assert page["frames"][0]["command"] == "render -s 10 -e 10 /tmp/p/main.mb"
    last = client.frames(name, "main", offset=20, limit=10)
    assert [f["number"] for f in last["frames"]] == list(range(30, 35))
    down = client.frames(name, "main", offset=0, limit=3, descending=True)
    assert [f["number"] for f in down["frames"]] == [34, 33, 32]
    assert page["revision"] >= 1


def test_sort_and_filter_by_status_and_range(idle, unique_name):
    client = idle.client()
    name = unique_name("status")
    client.submit({name: job_body(8)})
    client.cancel(name)
    client.retry(name, subjob="main", frames=[3, 5])  # 3 and 5 Queued, the rest Cancelled
    by_status = client.frames(name, "main", sort="status")
    assert [f["number"] for f in by_status["frames"]] == [3, 5, 1, 2, 4, 6, 7, 8]
    assert [f["number"] for f in client.frames(name, "main", sort="status", descending=True)["frames"]] == \
        [8, 7, 6, 4, 2, 1, 5, 3]
    queued = client.frames(name, "main", status=["Queued"])
    assert queued["total"] == 2 and [f["status"] for f in queued["frames"]] == ["Queued", "Queued"]
    both = client.frames(name, "main", status=["Queued", "Cancelled"], first=2, last=5)
    assert both["total"] == 4 and [f["number"] for f in both["frames"]] == [2, 3, 4, 5]
    # the numbers of a filtered view, for an action on all of it
    assert client.frame_numbers(name, "main", status=["Cancelled"]) == [1, 2, 4, 6, 7, 8]
    assert client.frame_numbers(name, "main", sort="status", offset=1, limit=2) == [5, 1]


def test_sort_by_host_puts_frames_without_one_last(node_factory, unique_name):
    node = node_factory(slots=1, args=["--name", "render-a"])
    client = node.client()
    name = unique_name("hosts")
    client.submit({name: job_body(3)})
    wait_for(lambda: client.job(name, frames=False)["frames"]["complete"] == 3, what="three frames rendered")
    client.retry(name, subjob="main", frames=[2])
    client.pause(name)
    other = unique_name("later")
    client.submit({other: job_body(2)})
    client.pause(other)
    # frame 2 may render again before the pause: the two of the other job never will
    page = client.frames(other, "main", sort="host")
    assert [f["host"] for f in page["frames"]] == [None, None]
    rendered = client.frames(name, "main", sort="host", host="render-a")
    assert {f["host"] for f in rendered["frames"]} == {"render-a"}
    assert client.frames(name, "main", host="nobody")["total"] == 0
    for key in ("progress", "pid", "attempts", "started", "finished", "elapsed", "exit_code"):
        numbers = [f["number"] for f in client.frames(name, "main", sort=key)["frames"]]
        assert sorted(numbers) == [1, 2, 3], key


def test_bad_page_requests_are_refused_in_words(idle, unique_name):
    client = idle.client()
    name = unique_name("bad")
    client.submit({name: job_body(2)})
    with pytest.raises(FarmRejected) as bad_sort:
        client.frames(name, "main", sort="colour")
    assert bad_sort.value.status == 422 and "sort" in str(bad_sort.value)
    with pytest.raises(FarmRejected) as bad_status:
        client.frames(name, "main", status=["Sleeping"])
    assert bad_status.value.status == 422
    with pytest.raises(FarmRejected):
        client.frames(name, "main", limit=100000)
    with pytest.raises(FarmNotFound):
        client.frames(name, "nope")
    with pytest.raises(FarmNotFound):
        client.frames(unique_name("missing"), "main")


def test_a_jobs_head_has_no_frames(idle, unique_name):
    client = idle.client()
    name = unique_name("head")
    client.submit({name: job_body(5, subjobs=("a", "b"), scene="/tmp/p/s.mb")})
    head = client.job(name, frames=False)
    assert head["scene"] == "/tmp/p/s.mb" and head["frames"]["total"] == 10
    assert set(head["subjobs"]) == {"a", "b"}
    assert all("frames" not in s and s["total"] == 5 for s in head["subjobs"].values())
    assert client.job(name)["subjobs"]["a"]["frames"][1]["status"] == "Queued"


def test_the_narrowed_feed_sends_frames_only_of_watched_subjobs(idle, unique_name):
    client = idle.client()
    watched, other = unique_name("watched"), unique_name("other")
    client.submit({watched: job_body(5, subjobs=("a", "b")), other: job_body(5)})
    first = client.changes(0, watch=[(watched, "a")])
    assert first["reload"] is True and first["refetch"] == [[watched, "a"]]
    assert {watched, other} <= set(first["jobs"])
    assert all("frames" not in s and "frame_rows" not in s for j in first["jobs"].values()
               for s in j["subjobs"].values())
    rev = first["revision"]

    client.cancel(watched)  # frames alone change
    client.cancel(other)
    answer = client.changes(rev, watch=[(watched, "a")])
    assert answer["reload"] is False and answer["refetch"] == []
    job = answer["jobs"][watched]
    assert job["counts_only"] is True and job["frames"]["cancelled"] == 10
    # the watched subjob's changed frames as rows of the answer's columns, in frame order; no other subjob's
    assert answer["frame_columns"][0] == "number" and set(answer["frame_columns"]) == COMPACT - {"command"}
    rows = job["subjobs"]["a"]["frame_rows"]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5] and all(len(r) == len(answer["frame_columns"]) for r in rows)
    frames = feed_frames(answer, job["subjobs"]["a"])
    assert set(frames) == {1, 2, 3, 4, 5} and frames[2]["status"] == "Cancelled" and frames[2]["number"] == 2
    assert "frame_rows" not in job["subjobs"]["b"] and job["subjobs"]["b"]["status"] == "Cancelled"
    assert "frame_rows" not in answer["jobs"][other]["subjobs"]["main"]
    assert not any("frames" in s for j in answer["jobs"].values() for s in j["subjobs"].values())
    assert answer["jobs"][other]["subjobs"]["main"]["total"] == 5

    # a retry also clears the job's blocklist: the job's own row changed, it comes whole (never with all frames)
    client.retry(watched, subjob="a", frames=[2])
    retried = client.changes(answer["revision"], watch=[(watched, "a")])
    assert "counts_only" not in retried["jobs"][watched]
    assert set(feed_frames(retried, retried["jobs"][watched]["subjobs"]["a"])) == {2}
    assert "frame_rows" not in retried["jobs"][watched]["subjobs"]["b"]
    assert "frames" not in retried["jobs"][watched]["subjobs"]["a"]
    answer = retried

    # a change of the job's own row (pause) comes whole, still without frames
    client.pause(other)
    paused = client.changes(answer["revision"], watch=[(watched, "a")])
    assert "counts_only" not in paused["jobs"][other] and paused["jobs"][other]["paused"] is True
    assert paused["jobs"][other]["status"] == "Paused"
    # deletions come as names
    client.delete(other)
    gone = client.changes(paused["revision"], watch=[])
    assert gone["deleted"] == [other] and other not in gone["jobs"]
    # up to date: an empty answer
    assert client.changes(gone["revision"], watch=[(watched, "a")])["jobs"] == {}


def test_the_narrowed_feed_tells_each_of_many_changed_jobs_its_own_counts_and_wait(idle, unique_name):
    """Jobs whose frames alone changed are read together (one statement for their rows, one for their subjobs, one
    for their blocklists): each still gets its own counts and waiting_for, as the summary says them."""
    client = idle.client()
    names = [unique_name("many%d" % i) for i in range(6)]
    bodies = {}
    for i, name in enumerate(names):
        bodies[name] = job_body(3 + i, subjobs=("a", "b") if i % 2 else ("main",),
                                **({"requires": ["gpu"]} if i % 3 == 0 else {}))
    client.submit(bodies)
    rev = client.changes(0, watch=[])["revision"]
    before = client.changes(rev, watch=[(names[1], "a")])  # nothing changed yet
    assert before["jobs"] == {}
    for name in names[:4]:
        client.cancel(name)  # frames alone change
    answer = client.changes(rev, watch=[(names[1], "a")])
    assert set(answer["jobs"]) == set(names[:4])
    summary = client.summary()["jobs"]
    for i, name in enumerate(names[:4]):
        head, want = answer["jobs"][name], summary[name]
        assert head["counts_only"] is True
        assert (head["status"], head["frames"], head["waiting_for"]) == (want["status"], want["frames"],
                                                                          want["waiting_for"])
        for sname, sub in head["subjobs"].items():
            assert (sub["complete"], sub["total"], sub["failed"], sub["waiting_for"]) == tuple(
                want["subjobs"][sname][k] for k in ("complete", "total", "failed", "waiting_for"))
        assert ("frame_rows" in head["subjobs"].get("a", {})) == (i == 1)
    frames = feed_frames(answer, answer["jobs"][names[1]]["subjobs"]["a"])
    assert sorted(frames) == [1, 2, 3, 4] and {f["status"] for f in frames.values()} == {"Cancelled"}


def test_a_watched_subjob_with_too_many_changes_is_flagged_for_refetch(idle, unique_name):
    client = idle.client()
    name = unique_name("big")
    client.submit({name: job_body(2500)})
    rev = client.changes(0, watch=[])["revision"]
    client.cancel(name)
    answer = client.changes(rev, watch=[(name, "main")])
    assert answer["refetch"] == [[name, "main"]]
    assert "frame_rows" not in answer["jobs"][name]["subjobs"]["main"]
    assert answer["jobs"][name]["frames"]["cancelled"] == 2500
    assert len(raw_get(idle, "/api/changes?since=%d&view=summary&watch=%s/main" % (rev, name))) < 2000
    # the page read again shows the effect
    assert {f["status"] for f in client.frames(name, "main")["frames"]} == {"Cancelled"}


def test_a_reconnect_after_a_restart_costs_kilobytes_not_the_queue(node_factory, unique_name):
    node = node_factory(slots=0)
    client = node.client()
    big = unique_name("queue")
    client.submit({big: job_body(20000)})
    small = unique_name("small")
    client.submit({small: job_body(3)})
    rev = client.changes(0, watch=[(small, "main")])["revision"]
    whole = len(raw_get(node, "/api/changes?since=0"))
    node.stop()
    node.start()
    client = node.client()
    client.retry(small, subjob="main", frames=[1])
    body = raw_get(node, "/api/changes?since=%d&view=summary&watch=%s/main" % (rev, small))
    answer = json.loads(body)
    assert answer["reload"] is False
    assert set(feed_frames(answer, answer["jobs"][small]["subjobs"]["main"])) == {1}
    assert len(body) < 2000 < whole // 1000
    # a client of another life of the store (its revision above the node's) gets the summary, not the queue
    summary = raw_get(node, "/api/changes?since=%d&view=summary&watch=%s/main" % (10 ** 9, big))
    again = json.loads(summary)
    assert again["reload"] is True and again["refetch"] == [[big, "main"]]
    assert len(summary) < whole // 100


def test_watch_needs_a_job_and_a_subjob(idle):
    client = idle.client()
    for bad in ("/api/changes?view=summary&watch=only-a-job", "/api/changes?watch=a/b", "/api/changes?view=all"):
        with pytest.raises(FarmRejected) as refused:
            client._json("GET", bad)
        assert refused.value.status == 422, bad
    assert client.changes(0, watch=[("no-such-job", "main")])["refetch"] == []


def test_the_legacy_feed_still_sends_whole_frames(idle, unique_name):
    client = idle.client()
    name = unique_name("legacy")
    client.submit({name: job_body(2)})
    answer = client.changes(0)
    assert answer["reload"] is True and answer["jobs"][name]["subjobs"]["main"]["frames"][1]["argv"]


def test_the_nodes_own_host_is_seen_while_it_renders(node_factory, unique_name):
    node = node_factory(slots=1, args=["--name", "render-own"], env={"PYFARM_STANDIN_SECONDS": "30"})
    client = node.client()
    name = unique_name("long")
    client.submit({name: job_body(1)})
    started = wait_for(lambda: client.job(name)["subjobs"]["main"]["frames"][1]["started"], what="the frame to start")
    own = [w for w in client.workers() if w["name"] == "render-own"][0]
    assert own["state"] == "rendering" and own["seen_ago"] == 0.0
    assert own["last_seen"] >= started


def test_a_changes_answer_says_what_it_cost_the_node(idle, unique_name):
    """Server-Timing: the node's own time for the answer (its wait aside), so that a slow poll can be told from a
    slow network or a busy client."""
    client = idle.client()
    name = unique_name("timed")
    client.submit({name: job_body(3)})
    for path in ("/api/changes?since=0&view=summary&watch=%s/main" % name, "/api/changes?since=0"):
        req = urllib.request.Request(idle.url + path, headers={"Authorization": "Bearer " + idle.token})
        with urllib.request.urlopen(req) as r:  # noqa: S310 (a local test node)
            timing = r.headers["Server-Timing"]
        label, dur = timing.split(";")
        assert label == "answer" and dur.startswith("dur=") and float(dur[4:]) >= 0
