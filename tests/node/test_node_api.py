"""The standalone node through HTTP: lifecycle, actions, auth, bad input, the changes feed and logs."""
from __future__ import annotations

import os
import threading
import time

import pytest
import requests

from maya_plugin.errors import FarmAuthError, FarmConflict, FarmNotFound, FarmRejected
from tests.conftest import wait_for


def seed_job(name: str, frames=(1, 2, 3), program: str = "render", **job_keys) -> dict:
    subjob = {"frames": {str(n): {"command": "%s -r mr -v 5 -s %d -e %d scene.mb" % (program, n, n)}
                         for n in frames}}
    return {name: dict({"subjobs": {"sub1": subjob}}, **job_keys)}


def frames_of(client, name, subjob="sub1"):
    return client.job(name)["subjobs"][subjob]["frames"]


def wait_status(client, name, status, timeout=30):
    return wait_for(lambda: client.job(name)["status"] == status and client.job(name), timeout,
                    what="job %s to be %s" % (name, status))


def test_health_needs_no_token_and_openapi_is_served(farm_node_server):
    r = requests.get(farm_node_server.url + "/api/health", timeout=5)
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]
    doc = requests.get(farm_node_server.url + "/openapi.json", timeout=5).json()
    assert "/api/jobs" in doc["paths"] and "/api/changes" in doc["paths"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"}])
def test_every_route_but_health_refuses_a_missing_or_wrong_token(farm_node_server, unique_name, headers):
    url = farm_node_server.url
    name = unique_name()
    for method, path in [("GET", "/api/jobs"), ("POST", "/api/jobs"), ("GET", "/api/changes?since=0"),
                         ("GET", "/api/workers"), ("POST", "/api/jobs/x/pause"), ("DELETE", "/api/jobs/x")]:
        r = requests.request(method, url + path, headers=headers, json=seed_job(name), timeout=5)
        assert r.status_code == 401, (method, path)
        assert "token" in r.json()["error"]
    # nothing happened: the job was never stored
    with pytest.raises(FarmNotFound):
        farm_node_server.client().job(name)
    with pytest.raises(FarmAuthError):
        type(farm_node_server.client())(url, "nope").jobs()


def test_every_route_in_the_api_description_but_health_needs_the_token(farm_node_server):
    url = farm_node_server.url
    doc = requests.get(url + "/openapi.json", timeout=5).json()
    checked = 0
    for path, methods in doc["paths"].items():
        concrete = path.replace("{job}", "J").replace("{subjob}", "s").replace("{frame}", "1")
        for method in methods:
            r = requests.request(method.upper(), url + concrete, timeout=5)
            if path == "/api/health":
                assert r.status_code == 200
            else:
                assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", (method, path)
            checked += 1
    assert checked >= 18
    # an unknown /api path is refused before it is looked up, so no route can be added without the token
    assert requests.get(url + "/api/not-a-route", timeout=5).status_code == 401


def test_a_job_renders_to_complete_with_host_pid_log_and_progress(farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("Job1")
    assert client.submit(seed_job(name, priority=60)) == [name]
    job = wait_status(client, name, "Complete")
    assert job["frames"]["complete"] == 3 and job["frames"]["total"] == 3 and job["frames"]["failed"] == 0
    assert job["priority"] == 60
    sub = job["subjobs"]["sub1"]
    assert (sub["status"], sub["complete"], sub["total"], sub["failed"]) == ("Complete", 3, 3, 0)
    for n, frame in sub["frames"].items():
        assert isinstance(n, int)
        assert frame["status"] == "Complete"
        assert frame["host"] and isinstance(frame["pid"], int)
        assert frame["exit_code"] == 0 and frame["attempts"] == 1 and frame["progress"] == 100.0
        assert frame["command"] == "render -r mr -v 5 -s %d -e %d scene.mb" % (n, n)
        assert frame["argv"] == frame["command"].split()
        assert "progr: rendering finished" in frame["stdout"]
        assert frame["started"] <= frame["finished"]
        assert "rendering finished" in client.log(name, "sub1", n)


def test_the_original_design_loop_prints_its_report(farm_node_server, unique_name, capsys):
    client = farm_node_server.client()
    name = unique_name("Job1")
    client.submit(seed_job(name))
    wait_status(client, name, "Complete")
    jobs = client.jobs()
    # The seed's loop, with Python 3's print.
    frames = jobs[name]["subjobs"]["sub1"]["frames"]
    for frame in frames.keys():
        thisFrame = frames[frame]
        print("Frame %i:\n\tStatus: %s\n\tHost: %s\n\tPID: %i\n\tCommand: %s\n\tLog: %s" %
              (frame, thisFrame["status"], thisFrame["host"], thisFrame["pid"], thisFrame["command"],
               thisFrame["stdout"].split('\n')))
    out = capsys.readouterr().out
    for n in (1, 2, 3):
        assert "Frame %d:\n\tStatus: Complete\n\tHost: " % n in out
        assert "\tCommand: render -r mr -v 5 -s %d -e %d scene.mb" % (n, n) in out


def test_a_failing_frame_is_retried_and_keeps_the_failed_attempts_log(node_factory, unique_name, tmp_path):
    node = node_factory(env={"PYFARM_STANDIN_FAIL": "2", "PYFARM_STANDIN_FAIL_ONCE_DIR": str(tmp_path)})
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name))
    job = wait_status(client, name, "Complete")
    f2 = job["subjobs"]["sub1"]["frames"][2]
    assert f2["attempts"] == 2 and f2["exit_code"] == 0
    first = requests.get(node.url + "/api/jobs/%s/subjobs/sub1/frames/2/log?attempt=1" % name,
                         headers={"Authorization": "Bearer " + node.token}, timeout=5)
    assert first.status_code == 200 and "Maya exited with status 210" in first.text
    assert "Maya exited" not in client.log(name, "sub1", 2)


def test_a_frame_that_always_fails_ends_failed_after_max_attempts(farm_node_server, node_factory, unique_name):
    node = node_factory(env={"PYFARM_STANDIN_FAIL": "1"})
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1,), max_attempts=2))
    job = wait_status(client, name, "Failed")
    frame = job["subjobs"]["sub1"]["frames"][1]
    assert frame["attempts"] == 2 and frame["exit_code"] == 210 and frame["status"] == "Failed"
    assert job["frames"]["failed"] == 1
    # retry gives it fresh attempts
    client.retry(name)
    assert frames_of(client, name)[1]["status"] in ("Queued", "Rendering", "Failed")
    job = wait_status(client, name, "Failed")
    assert job["subjobs"]["sub1"]["frames"][1]["attempts"] == 2


def test_a_program_not_mapped_with_exe_starts_nothing(farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name()
    marker = tmp_path / "x"
    client.submit({name: {"max_attempts": 1, "subjobs": {"s": {"frames": {"1": {"command": "touch %s" % marker}}}}}})
    job = wait_status(client, name, "Failed")
    frame = job["subjobs"]["s"]["frames"][1]
    assert "not allowed" in frame["stdout"] and "touch" in frame["stdout"]
    assert frame["pid"] is None and frame["host"] is None
    assert not marker.exists()


def test_a_command_with_shell_syntax_runs_render_with_that_odd_argument(farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name()
    marker = tmp_path / "x"
    command = 'render -s 1 -e 1 "a.mb; touch %s"' % marker
    client.submit({name: {"subjobs": {"s": {"frames": {"1": {"command": command}}}}}})
    job = wait_status(client, name, "Complete")
    frame = job["subjobs"]["s"]["frames"][1]
    assert frame["argv"] == ["render", "-s", "1", "-e", "1", "a.mb; touch %s" % marker]
    assert "a.mb; touch" in frame["stdout"]
    assert not marker.exists()


BAD = [
    ("not a dict", [1, 2], ""),
    ("empty", {}, ""),
    ("slash in job name", {"a/b": {"subjobs": {"s": {"frames": {"1": {"command": "render"}}}}}}, "a/b"),
    ("long name", {"x" * 201: {"subjobs": {"s": {"frames": {"1": {"command": "render"}}}}}}, "x" * 201),
    ("no subjobs", {"J": {}}, "J.subjobs"),
    ("slash in subjob", {"J": {"subjobs": {"a/b": {"frames": {"1": {"command": "render"}}}}}}, "J.subjobs.a/b"),
    ("empty frames", {"J": {"subjobs": {"s": {"frames": {}}}}}, "J.subjobs.s.frames"),
    ("frame not int", {"J": {"subjobs": {"s": {"frames": {"1.5": {"command": "render"}}}}}}, "J.subjobs.s.frames.1.5"),
    ("frame word", {"J": {"subjobs": {"s": {"frames": {"one": {"command": "render"}}}}}}, "J.subjobs.s.frames.one"),
    ("no command", {"J": {"subjobs": {"s": {"frames": {"3": {}}}}}}, "J.subjobs.s.frames.3.command"),
    ("unclosed quote", {"J": {"subjobs": {"s": {"frames": {"3": {"command": 'render "a.mb'}}}}}},
     "J.subjobs.s.frames.3.command"),
    ("empty command", {"J": {"subjobs": {"s": {"frames": {"3": {"command": "  "}}}}}}, "J.subjobs.s.frames.3.command"),
    ("argv not list", {"J": {"subjobs": {"s": {"frames": {"3": {"command": "r", "argv": "r"}}}}}},
     "J.subjobs.s.frames.3.argv"),
    ("priority", {"J": {"priority": 101, "subjobs": {"s": {"frames": {"1": {"command": "render"}}}}}}, "J.priority"),
]


@pytest.mark.parametrize("label,body,path", BAD, ids=[b[0] for b in BAD])
def test_an_invalid_job_dictionary_is_refused_by_name_and_stores_nothing(farm_node_server, label, body, path):
    client = farm_node_server.client()
    before = set(client.jobs())
    r = requests.post(farm_node_server.url + "/api/jobs", json=body,
                      headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=5)
    assert r.status_code in (400, 422)
    err = r.json()
    assert err["error"]
    if path:
        assert err["path"] == path
    assert set(client.jobs()) == before


def test_a_half_valid_submission_stores_nothing(farm_node_server, unique_name):
    client = farm_node_server.client()
    good, bad = unique_name(), unique_name()
    body = seed_job(good)
    body[bad] = {"subjobs": {"s": {"frames": {"x": {"command": "render"}}}}}
    with pytest.raises(FarmRejected) as info:
        client.submit(body)
    assert info.value.path == "%s.subjobs.s.frames.x" % bad
    with pytest.raises(FarmNotFound):
        client.job(good)


def test_bad_json_oversized_body_taken_name_and_unknown_job(farm_node_server, unique_name):
    url, headers = farm_node_server.url, {"Authorization": "Bearer " + farm_node_server.token}
    r = requests.post(url + "/api/jobs", data=b"{not json", headers=headers, timeout=5)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = requests.post(url + "/api/jobs", data=b" " * (64 * 1024 * 1024 + 10), headers=headers, timeout=30)
    assert r.status_code == 413
    client = farm_node_server.client()
    name = unique_name()
    client.submit(seed_job(name))
    with pytest.raises(FarmConflict):
        client.submit(seed_job(name))
    for call in (client.job, client.pause, client.resume, client.cancel, client.retry, client.delete):
        with pytest.raises(FarmNotFound):
            call(unique_name("missing"))
    with pytest.raises(FarmNotFound):
        client.log(name, "sub1", 99)


def test_pause_resume_cancel_retry_delete(node_factory, unique_name):
    node = node_factory(env={"PYFARM_STANDIN_SECONDS": "0.3"})
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=range(1, 7)))
    client.pause(name)
    job = client.job(name)
    assert job["paused"] is True
    wait_for(lambda: client.job(name)["frames"]["rendering"] == 0, what="the running frame to end")
    time.sleep(0.5)
    job = client.job(name)
    assert job["status"] == "Paused" and job["frames"]["queued"] >= 4
    client.resume(name)
    wait_for(lambda: client.job(name)["frames"]["rendering"] == 1, what="a frame to render")
    client.cancel(name)
    job = client.job(name)
    assert job["status"] == "Cancelled" and job["frames"]["cancelled"] + job["frames"]["complete"] == 6
    client.retry(name)
    job = wait_status(client, name, "Complete")
    assert job["frames"]["complete"] == 6
    client.retry(name, subjob="sub1", frames=[2])
    wait_status(client, name, "Complete")
    client.delete(name)
    with pytest.raises(FarmNotFound):
        client.job(name)


def test_cancel_kills_the_whole_process_tree(node_factory, unique_name):
    import psutil
    node = node_factory(env={"PYFARM_STANDIN_HANG": "1", "PYFARM_STANDIN_SPAWN_CHILD": "1"})
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1,)))
    # From the frame's log: its stdout in the job is saved as output arrives, at most twice a second, so a hung
    # render's last lines would reach it only at its end.
    text = wait_for(lambda: frames_of(client, name)[1]["pid"] and "child pid" in client.log(name, "sub1", 1)
                    and client.log(name, "sub1", 1), what="the grandchild to start")
    child_pid = int(text.split("child pid")[1].split()[0])
    pid = frames_of(client, name)[1]["pid"]
    assert psutil.pid_exists(child_pid)
    client.cancel(name)
    assert frames_of(client, name)[1]["status"] == "Cancelled"
    for p in (pid, child_pid):
        wait_for(lambda: not psutil.pid_exists(p) or psutil.Process(p).status() == psutil.STATUS_ZOMBIE,
                 what="process %d to die" % p)


def test_changes_feed_long_poll_wakes_on_change_and_reports_only_what_changed(farm_node_server, unique_name):
    client = farm_node_server.client()
    # A store that has had a change: a client at 0 gets its reload (a fresh store's revision is 0 too, and a client
    # there waits for the first change instead of being answered a reload in a loop).
    still = unique_name()
    client.submit(seed_job(still, paused=True))  # paused: it changes nothing while the feed is polled
    first = client.changes(0)
    assert first["reload"] is True
    rev = first["revision"]
    quiet = client.changes(rev, 0)
    assert quiet["jobs"] == {} and quiet["revision"] == rev
    name = unique_name()
    result = {}

    def poll():
        t0 = time.monotonic()
        result["answer"] = client.changes(rev, 20)
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    client.submit(seed_job(name))
    t.join(25)
    answer = result["answer"]
    assert answer["revision"] > rev and answer["reload"] is False
    assert name in answer["jobs"]
    assert result["took"] < 15  # woke by the change, not by the 20 s timeout
    # then the frames that change are reported, with their job's derived fields
    wait_status(client, name, "Complete")
    later = client.changes(answer["revision"])
    assert set(later["jobs"][name]["subjobs"]["sub1"]["frames"]) <= {1, 2, 3}
    assert later["jobs"][name]["frames"]["total"] == 3
    client.delete(name)
    gone = client.changes(later["revision"])
    assert name in gone["deleted"]
    client.delete(still)


def test_log_offsets_and_workers(farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1,)))
    wait_status(client, name, "Complete")
    whole = client.log(name, "sub1", 1)
    text, nxt = client.log_chunk(name, "sub1", 1, 10)
    assert text == whole.encode()[10:].decode("utf-8", "replace")
    assert nxt == len(whole.encode())
    assert client.log(name, "sub1", 1, nxt) == ""
    workers = client.workers()
    assert workers and workers[0]["slots"] == 2 and workers[0]["state"] in ("idle", "rendering")
    assert {"name", "state", "slots", "frames", "last_seen", "os", "cpus"} <= set(workers[0])


def test_an_attempt_that_prints_nothing_has_only_what_ran_in_its_log(node_factory, unique_name):
    import shlex
    import sys
    node = node_factory(args=["--exe", "quiet=" + sys.executable])
    client = node.client()
    name = unique_name()
    client.submit({name: {"subjobs": {"s": {"frames": {"1": {"command": "quiet -c pass"}}}}}})
    job = wait_status(client, name, "Complete")
    f = job["subjobs"]["s"]["frames"][1]
    # The first line of every attempt's log is what ran (CONTRACT section 6), written with the frame's end.
    ran = "[pyfarm] running: %s -c pass\n" % shlex.quote(sys.executable)
    assert (f["stdout"], f["exit_code"], f["host"]) == (ran, 0, node.client().health()["node"])
    assert isinstance(f["pid"], int) and f["started"] <= f["finished"]  # its start was written with its end
    assert client.log(name, "s", 1) == ran


def test_a_huge_log_is_capped_without_stopping_the_frame(node_factory, unique_name):
    node = node_factory(args=["--max-log-bytes", "200000"], env={"PYFARM_STANDIN_LOG_BYTES": str(20 * 1024 * 1024)})
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1,)))
    job = wait_status(client, name, "Complete", timeout=60)
    frame = job["subjobs"]["sub1"]["frames"][1]
    assert "Scene" in frame["stdout"] and "completed" in frame["stdout"]  # the tail still follows the end
    assert len(frame["stdout"].encode("utf-8")) <= 3 * 64 * 1024
    log = client.log(name, "sub1", 1)
    assert "log truncated" in log
    assert len(log.encode("utf-8", "surrogateescape")) < 400000


def test_priority_then_submission_order(node_factory, unique_name):
    # The node's one slot is held by a frame that hangs until it is cancelled, so both jobs are queued before
    # either can start, however busy the machine is: only the node's choice orders them.
    node = node_factory(env={"PYFARM_STANDIN_SECONDS": "0.05", "PYFARM_STANDIN_HANG": "99"})
    client = node.client()
    low, high = unique_name("low"), unique_name("high")
    blocker = unique_name("blocker")
    client.submit(seed_job(blocker, frames=(99,)))
    wait_for(lambda: frames_of(client, blocker)[99]["pid"], what="the blocker to hold the slot")
    client.submit(seed_job(low, frames=(1, 2), priority=10))
    client.submit(seed_job(high, frames=(1, 2), priority=90))
    assert client.job(low)["frames"]["queued"] == 2 and client.job(high)["frames"]["queued"] == 2
    client.cancel(blocker)
    wait_status(client, low, "Complete")
    hi = client.job(high)["subjobs"]["sub1"]["frames"]
    lo = client.job(low)["subjobs"]["sub1"]["frames"]
    assert max(f["finished"] for f in hi.values()) <= min(f["started"] for f in lo.values())
    assert hi[1]["started"] <= hi[2]["started"]


def test_log_chunks_never_split_a_character(farm_node_server, unique_name):
    from maya_plugin.farm_client import _complete_utf8
    assert _complete_utf8("é".encode()[:1]) == 0 and _complete_utf8(b"ab" + "€".encode()[:2]) == 2
    assert _complete_utf8(b"ab\xff") == 3 and _complete_utf8("😀".encode()) == 4
    client = farm_node_server.client()
    name = unique_name()
    client.submit({name: {"subjobs": {"s": {"frames": {"1": {"command": "render -s 1 -e 1 scène_é€😀.mb"}}}}}})
    wait_status(client, name, "Complete")
    whole = client.log(name, "s", 1)
    raw = whole.encode("utf-8")
    cut = raw.index("€".encode()) + 1  # in the middle of the euro sign
    text, nxt = client.log_chunk(name, "s", 1, 0)
    assert text == whole and nxt == len(raw)
    head = raw[:cut]
    assert head[:_complete_utf8(head)].decode("utf-8")  # what a chunk ending there would show: whole characters
    rest, end = client.log_chunk(name, "s", 1, cut - 1)
    assert rest.startswith("€") and end == len(raw)


def test_the_summary_has_every_job_and_subjob_with_counts_and_no_frames(farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("summary")
    job = seed_job(name)
    job[name]["subjobs"]["sub2"] = {"frames": {"7": {"command": "render -s 7 -e 7 scene.mb"}}}
    client.submit(job)
    answer = client.summary()
    assert answer["revision"] >= 1
    head = answer["jobs"][name]
    assert head["frames"]["total"] == 4 and head["priority"] == 50
    assert set(head["subjobs"]) == {"sub1", "sub2"}
    assert head["subjobs"]["sub1"]["total"] == 3 and head["subjobs"]["sub2"]["total"] == 1
    assert all("frames" not in sub for sub in head["subjobs"].values())
    client.delete(name)
    assert name not in client.summary()["jobs"]
