"""Render hosts of a coordinator, for real: `farm-node serve --slots 0` and `farm-node worker` processes on 127.0.0.1.

Workers killed, cut off and restarted, a coordinator killed and restarted, a hung frame, a bad host: every frame ends
Complete once, with the logs of its lost attempts kept. Heartbeats are short here (a quarter of a second) so that a
host is lost within a second or two.
"""
from __future__ import annotations

import os
import socket
import threading
import time

import psutil
import requests

from tests.conftest import wait_for
from tests.node.test_node_api import seed_job

FAST = ["--heartbeat", "0.25", "--lost-after", "1.5"]


def frames_of(client, name):
    return client.job(name)["subjobs"]["sub1"]["frames"]


def wait_complete(client, name, timeout=60):
    return wait_for(lambda: client.job(name)["status"] == "Complete" and client.job(name), timeout,
                    what="job %s to complete" % name)


def workers_of(node):
    return {w["name"]: w for w in node.client().workers()}


def dead(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def kill_pid(pid):
    try:
        psutil.Process(pid).kill()
    except psutil.NoSuchProcess:
        pass


def api(node, method, path, **kw):
    # The worker protocol takes the render hosts' token, every other route the clients' (CONTRACT section 9).
    token = node.worker_token if path.startswith("/api/worker/") else node.token
    return requests.request(method, node.url + path, headers={"Authorization": "Bearer " + token}, timeout=10,
                            **kw)


class Proxy:
    """A TCP relay to 127.0.0.1:``port`` whose cable can be pulled (``cut``) and plugged back (``mend``)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        self.is_cut = False
        self.open: list = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if self.is_cut:
                conn.close()
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                conn.close()
                continue
            with self.lock:
                self.open += [conn, up]
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.is_cut = True
        with self.lock:
            conns, self.open = self.open, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def mend(self) -> None:
        self.is_cut = False

    def close(self) -> None:
        self.cut()
        self.server.close()


def test_three_workers_render_one_job_of_a_coordinator_that_renders_nothing(node_factory, worker_factory,
                                                                             unique_name):
    node = node_factory(slots=0, args=FAST)
    workers = [worker_factory(node, "w%d" % i, start=False) for i in (1, 2, 3)]
    for w in workers:
        w.wait_started()
    client = node.client()
    hosts = wait_for(lambda: len(workers_of(node)) == 3 and workers_of(node), what="three workers to join")
    for name, w in hosts.items():
        assert w["state"] == "idle" and w["slots"] == 1 and w["frames"] == 0 and w["local"] is False
        assert w["os"] and w["cpus"] >= 1 and w["memory"] > 0 and w["last_seen"] > time.time() - 10
    # an idle host starts a queued frame at once (a long poll, not a poll tick)
    quick = unique_name("quick")
    t0 = time.monotonic()
    client.submit(seed_job(quick, frames=(1,)))
    wait_for(lambda: frames_of(client, quick)[1]["status"] != "Queued", interval=0.01, what="the frame to start")
    assert time.monotonic() - t0 < 1.0
    name = unique_name()
    client.submit(seed_job(name, frames=range(1, 13)))
    job = wait_complete(client, name)
    frames = job["subjobs"]["sub1"]["frames"]
    assert job["frames"]["complete"] == 12
    assert {f["host"] for f in frames.values()} == {"w1", "w2", "w3"}
    for f in frames.values():
        assert f["attempts"] == 1 and f["exit_code"] == 0 and isinstance(f["pid"], int) and f["error"] is None
        assert "completed." in f["stdout"] and f["progress"] == 100.0
    assert "completed." in client.log(name, "sub1", 5)
    # the worker protocol wants the token, and refuses a report for an attempt that is not the host's current one
    r = requests.post(node.url + "/api/worker/reports", json={"host": "w1", "records": []}, timeout=5)
    assert r.status_code == 401
    w1_id = open(os.path.join(workers[0].data_dir, "worker-id")).read().strip()
    r = api(node, "POST", "/api/worker/reports",
            json={"host": "w1", "worker_id": w1_id,
                  "records": [{"type": "finished", "attempt": 1, "exit_code": 0},
                              {"type": "finished", "attempt": 999999, "exit_code": 0},
                              {"type": "output", "attempt": 1, "data": "not base64!"}]})
    assert r.status_code == 200 and r.json()["results"] == ["stale", "stale", "bad"]
    assert api(node, "POST", "/api/worker/lease",
               json={"host": "nobody", "worker_id": "x", "free": 1}).json()["rejoin"] is True
    # reports may ask for the next frames; a host that is not attached is told to join first, a bad ask is refused
    r = api(node, "POST", "/api/worker/reports",
            json={"host": "nobody", "worker_id": "x", "records": [], "lease": {"free": 1}})
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["rejoin"] is True
    r = api(node, "POST", "/api/worker/reports", json={"host": "w1", "worker_id": w1_id, "records": [], "lease": 1})
    assert r.status_code == 422 and r.json()["path"] == "lease"
    assert client.job(name)["frames"]["complete"] == 12


def test_a_worker_refused_by_its_coordinator_exits_with_the_reason(farm_node_server, worker_factory):
    w = worker_factory(farm_node_server, "w-token", start=None)
    w.token = "wrong"
    w.spawn()
    assert w.proc.wait(30) == 2 and "token" in w.output()
    own = requests.get(farm_node_server.url + "/api/health", timeout=5).json()["node"]
    w = worker_factory(farm_node_server, own, start=False)
    assert w.proc.wait(30) == 2 and "own --name" in w.output()


def test_a_worker_killed_mid_frame_is_lost_and_the_frame_completes_on_another_host(node_factory, worker_factory,
                                                                                    unique_name):
    node = node_factory(slots=0, args=FAST)
    client = node.client()
    slow = worker_factory(node, "slow", env={"PYFARM_STANDIN_SECONDS": "30"})
    name = unique_name()
    client.submit(seed_job(name, frames=(1,)))
    f = wait_for(lambda: frames_of(client, name)[1]["pid"] and "progr" in frames_of(client, name)[1]["stdout"]
                 and frames_of(client, name)[1], what="the slow render to start and log")
    assert f["host"] == "slow"
    orphan = f["pid"]
    try:
        slow.kill()
        fast = worker_factory(node, "fast")
        job = wait_complete(client, name)
        f = job["subjobs"]["sub1"]["frames"][1]
        assert (f["host"], f["attempts"], f["exit_code"], f["error"]) == ("fast", 2, 0, None)
        assert job["frames"]["complete"] == 1 and job["frames"]["total"] == 1
        lost_log = api(node, "GET", "/api/jobs/%s/subjobs/sub1/frames/1/log?attempt=1" % name).text
        assert "progr" in lost_log and "slow stopped answering" in lost_log
        assert "completed." in client.log(name, "sub1", 1)
        assert workers_of(node)["slow"]["state"] == "lost"
        # its render died with it (the render guard); started again, it reports the attempt abandoned and joins;
        # the frame stays done
        wait_for(lambda: dead(orphan), what="the killed worker's render to die with it")
        slow.start()
        wait_for(lambda: "1 frame(s) this worker was rendering when it was killed are reported abandoned"
                 in slow.output(), what="the worker to report its attempt abandoned")
        wait_for(lambda: workers_of(node)["slow"]["state"] == "idle", what="the worker to join again")
        assert frames_of(client, name)[1]["attempts"] == 2 and client.job(name)["frames"]["complete"] == 1
        # a clean stop mid-frame gives the frame back without using up an attempt
        other = unique_name()
        fast.stop()
        client.submit(seed_job(other, frames=(1,)))
        f = wait_for(lambda: frames_of(client, other)[1]["pid"] and frames_of(client, other)[1],
                     what="the slow worker to render")
        assert slow.stop() == 0
        assert dead(f["pid"])
        f = frames_of(client, other)[1]
        assert (f["status"], f["attempts"]) == ("Queued", 0) and "stopped" in f["error"]
        assert workers_of(node)["slow"]["state"] == "stopped"
    finally:
        kill_pid(orphan)


def test_a_coordinator_killed_and_restarted_while_workers_render_loses_nothing_and_renders_nothing_twice(
        node_factory, worker_factory, unique_name):
    node = node_factory(slots=0, args=["--heartbeat", "0.5", "--lost-after", "3"])
    client = node.client()
    for w in [worker_factory(node, n, env={"PYFARM_STANDIN_SECONDS": "0.4"}, start=False) for n in ("a", "b")]:
        w.wait_started()
    name = unique_name()
    client.submit(seed_job(name, frames=range(1, 11)))
    wait_for(lambda: client.job(name)["frames"]["complete"] >= 2 and client.job(name)["frames"]["rendering"] == 2,
             what="two frames done and two rendering")
    node.kill()
    time.sleep(1.0)  # the workers keep rendering and keep their reports
    node.start()
    client = node.client()
    job = wait_complete(client, name)
    assert job["frames"]["complete"] == 10
    for n, f in job["subjobs"]["sub1"]["frames"].items():
        assert f["attempts"] == 1 and f["error"] is None, (n, f)
        assert "completed." in client.log(name, "sub1", n)
        r = api(node, "GET", "/api/jobs/%s/subjobs/sub1/frames/%d/log?attempt=2" % (name, n))
        assert r.status_code == 404  # no second attempt: rendered once
    assert {w["name"]: w["state"] for w in client.workers()} == {"a": "idle", "b": "idle"}


def test_a_worker_cut_off_longer_than_its_lease_keeps_rendering_and_its_results_count_or_are_refused(
        node_factory, worker_factory, unique_name):
    node = node_factory(slots=0, args=["--heartbeat", "0.25", "--lost-after", "1"])
    client = node.client()
    proxy = Proxy(node.port)
    try:
        far = worker_factory(proxy.url, "far", env={"PYFARM_STANDIN_SECONDS": "2"})
        name = unique_name()
        client.submit(seed_job(name, frames=(1,)))
        wait_for(lambda: frames_of(client, name)[1]["pid"], what="the render to start")
        proxy.cut()
        f = wait_for(lambda: frames_of(client, name)[1]["status"] == "Queued" and frames_of(client, name)[1],
                     what="the cut-off host to be lost")
        assert "far stopped answering" in f["error"] and workers_of(node)["far"]["state"] == "lost"
        time.sleep(2.5)  # the render ends while the host is cut off; its end waits in the spool
        proxy.mend()
        # nobody took the frame meanwhile: the host's result counts, once
        job = wait_complete(client, name)
        f = job["subjobs"]["sub1"]["frames"][1]
        assert (f["host"], f["attempts"], f["error"]) == ("far", 1, None)
        log = client.log(name, "sub1", 1)
        assert "stopped answering" in log and "goes on" in log and "completed." in log
        # again, but this time another host takes the frame while this one is away: its late reports are refused
        other = unique_name()
        client.submit(seed_job(other, frames=(1,)))
        first = wait_for(lambda: frames_of(client, other)[1]["pid"], what="the render to start")
        proxy.cut()
        wait_for(lambda: frames_of(client, other)[1]["status"] == "Queued", what="the host to be lost")
        near = worker_factory(node, "near")
        job = wait_complete(client, other)
        proxy.mend()
        wait_for(lambda: workers_of(node)["far"]["state"] == "idle", what="the host to join again")
        wait_for(lambda: far.output().count("answers again") >= 2, what="the far worker to replay its reports")
        time.sleep(1.0)
        job = client.job(other)
        f = job["subjobs"]["sub1"]["frames"][1]
        assert (f["status"], f["host"], f["attempts"]) == ("Complete", "near", 2)
        assert job["frames"]["complete"] == 1 and f["pid"] != first
        assert dead(first)
        near.kill()
    finally:
        proxy.close()


def test_a_hung_frame_is_timed_out_and_a_host_failing_a_jobs_frames_is_blocklisted(node_factory, worker_factory,
                                                                                 unique_name):
    node = node_factory(slots=0, args=FAST)
    client = node.client()
    bad = worker_factory(node, "bad", env={"PYFARM_STANDIN_HANG": "1,2,3"})
    name = unique_name()
    client.submit(seed_job(name, frames=(1, 2, 3), max_attempts=20, frame_timeout=1))
    hung = wait_for(lambda: frames_of(client, name)[1]["pid"], what="the hung frame to start")
    wait_for(lambda: frames_of(client, name)[1]["attempts"] >= 2, what="the hung frame to time out")
    assert dead(hung)
    wait_for(lambda: workers_of(node)["bad"]["blocklisted"] == [name], what="the bad host to be blocklisted")
    assert client.job(name)["blocklist"] == ["bad"]
    # It is the only host: the blocklist yields (the job would wait forever otherwise), and the job says so while
    # frames of it wait (docs/DESIGN.md, "Scheduling").
    assert wait_for(lambda: client.job(name)["waiting_for"], what="the job to say why it waits").startswith(
        "every host that may render it is blocklisted: bad")
    r = api(node, "GET", "/api/jobs/%s/subjobs/sub1/frames/1/log?attempt=1" % name)
    assert "hangs" in r.text and "longer than the job's frame timeout of 1s" in r.text
    worker_factory(node, "good")
    # A host that may render it is up: the blocklist holds again, and the good host renders every frame.
    job = wait_complete(client, name)
    assert {f["host"] for f in job["subjobs"]["sub1"]["frames"].values()} == {"good"}
    assert job["frames"]["complete"] == 3
    # the blocklist is cleared by hand
    assert api(node, "DELETE", "/api/jobs/%s/blocklist" % name).json()["blocklist"] == []
    assert workers_of(node)["bad"]["blocklisted"] == [] and "blocklist" not in client.job(name)
    bad.kill()


def test_the_spool_keeps_reports_in_order_across_a_restart_and_empties_when_delivered(tmp_path):
    from farm_node.worker import Spool
    spool = Spool(str(tmp_path))
    for i in range(5):
        spool.append({"type": "output", "attempt": 1 + i % 2, "offset": i})
    batch = spool.batch()
    assert [r["offset"] for r, _ in batch] == [0, 1, 2, 3, 4]
    spool.ack(batch[1][1])
    assert spool.attempts() == {1, 2}
    spool.append({"type": "finished", "attempt": 2, "exit_code": 0}, sync=True)
    spool.close()
    with open(os.path.join(str(tmp_path), "spool.jsonl"), "ab") as f:
        f.write(b'{"type": "output", "attem')  # the worker died while writing this line
    spool = Spool(str(tmp_path))
    batch = spool.batch()
    assert [r.get("offset") for r, _ in batch] == [2, 3, 4, None] and spool.ended(2) and not spool.ended(1)
    spool.ack(batch[-1][1])
    assert spool.empty() and spool.attempts() == set()
    assert os.path.getsize(os.path.join(str(tmp_path), "spool.jsonl")) == 0
    spool.append({"type": "started", "attempt": 3, "pid": 1})
    spool.close()
    assert [r for r, _ in Spool(str(tmp_path)).batch()] == [{"type": "started", "attempt": 3, "pid": 1}]



def test_a_workers_frame_end_asks_for_its_slots_next_frame_with_the_reports(node_factory, unique_name, tmp_path,
                                                                            monkeypatch):
    import json as json_

    from farm_node.runner import ExeMap
    from farm_node.worker import Worker
    from farm_node.worker.client import RequestsTransport
    from tests.conftest import STANDIN
    monkeypatch.setenv("PYFARM_STANDIN_SECONDS", "0.02")
    node = node_factory(slots=0, args=FAST)
    calls = []

    class Recording(RequestsTransport):  # the worker's transport seam, over the real HTTP
        def post(self, url, body, headers, timeout):
            status, raw = RequestsTransport.post(self, url, body, headers, timeout)
            sent, answer = json_.loads(body), json_.loads(raw)
            calls.append((url[len(node.url):], (sent.get("lease") or {}).get("free"), len(answer.get("leases") or [])))
            return status, raw

    worker = Worker(node.url, node.worker_token, "relay-free", str(tmp_path / "w"), ExeMap({"render": STANDIN}), slots=1,
                    heartbeat=0.25, announce=lambda _message: None, transport=Recording())
    assert worker.first_contact() is None
    worker.start()
    client = node.client()
    name = unique_name()
    try:
        client.submit(seed_job(name, frames=range(1, 11)))
        job = wait_complete(client, name)
    finally:
        worker.stop()
    assert job["frames"]["complete"] == 10
    by_lease = sum(n for path, _, n in calls if path == "/api/worker/lease")
    by_reports = sum(n for path, _, n in calls if path == "/api/worker/reports")
    assert by_lease + by_reports == 10
    # the first frame came to the idle slot's long poll; (nearly) every later one with the end of the one before
    assert by_reports >= 8, calls
    # and it never asks for more than the one slot it has
    assert all(free == 1 for path, free, _ in calls if path == "/api/worker/reports" and free)
