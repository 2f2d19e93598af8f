"""Several coordinators on one PostgreSQL database are one farm (CONTRACT section 7): real coordinators, real
workers, a real PostgreSQL, and SIGKILLs, network cuts and restarts at the worst moments."""
from __future__ import annotations

import threading

import pytest

from tests.conftest import wait_for
from tests.relay import TcpRelay

# Short heartbeats: a silent host is lost in 1.5 s instead of 15 (the decisions are the same).
FAST = ["--heartbeat", "0.25", "--lost-after", "1.5", "--backup-interval", "0"]
# Every test here is about a PostgreSQL farm: the engine is not a parameter.
pytestmark = pytest.mark.parametrize("store_engine", ["postgresql"])


def job(name, n, first=1):
    return {name: {"subjobs": {"sub1": {"frames": {
        str(i): {"command": "render -r mr -s %d -e %d scene.mb" % (i, i)} for i in range(first, first + n)}}}}}


def wait_complete(client, name, timeout=120):
    return wait_for(lambda: client.job(name)["status"] == "Complete" and client.job(name), timeout,
                    what="job %s to complete" % name)


def completions(url, tmp_path):
    """Per frame of the store: (job, frame, status, attempts that completed it), read through the store."""
    from farm_node.store import open_store
    store = open_store(url, str(tmp_path))
    try:
        with store.read() as db:
            return db.execute("SELECT j.name, f.number, f.status, (SELECT COUNT(*) FROM attempts a WHERE"
                              " a.frame_id=f.id AND a.outcome='complete') FROM frames f JOIN jobs j ON"
                              " j.id=f.job_id ORDER BY j.name, f.number").fetchall()
    finally:
        store.close()


def assert_each_frame_complete_once(url, tmp_path, names):
    rows = [r for r in completions(url, tmp_path) if r[0] in names]
    assert rows and all(r[2:] == ("Complete", 1) for r in rows), [r for r in rows if r[2:] != ("Complete", 1)]


def test_two_coordinators_on_one_database_answer_as_one_farm(node_factory, pg_url, unique_name):
    env = {"PYFARM_STANDIN_SECONDS": "0.3"}
    a = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-a"], name="a", env=env)
    b = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-b"], name="b", env=env)
    ca, cb = a.client(), b.client()
    name = unique_name("farm")
    # A long poll through B wakes on a commit made through A (LISTEN/NOTIFY between the coordinators).
    rev = cb.changes(0)["revision"]
    answer = {}
    poll = threading.Thread(target=lambda: answer.update(cb.changes(rev, wait=30)))
    poll.start()
    ca.submit(job(name, 12))
    poll.join(40)
    assert name in answer.get("jobs", {})
    done = wait_complete(cb, name)
    frames = done["subjobs"]["sub1"]["frames"]
    hosts = {f["host"] for f in frames.values()}
    assert hosts == {"coord-a", "coord-b"}  # both coordinators' slots took frames of it
    # the same job, counts and logs through either coordinator
    assert ca.job(name) == cb.job(name)
    assert ca.summary()["jobs"][name] == cb.summary()["jobs"][name]
    for number in frames:
        text = cb.log(name, "sub1", number)
        assert "completed." in text and ca.log(name, "sub1", number) == text
    assert {"coord-a", "coord-b"} <= {w["name"] for w in ca.workers()}
    assert {w["name"] for w in ca.workers()} == {w["name"] for w in cb.workers()}
    # XML out of one, into the other
    xml = cb.backup_xml(name)
    ca.delete(name)
    wait_for(lambda: name not in cb.summary()["jobs"], what="the delete seen through B")
    assert ca.restore_xml(xml) == [name]
    assert cb.job(name)["frames"]["complete"] == 12


def test_a_cancel_through_one_coordinator_kills_the_render_on_the_other(node_factory, pg_url, unique_name):
    env = {"PYFARM_STANDIN_SECONDS": "60"}
    a = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-a"], name="a", env=env)
    b = node_factory(slots=0, store=pg_url, args=FAST + ["--name", "coord-b"], name="b", env=env)
    name = unique_name("cancel")
    b.client().submit(job(name, 1))
    wait_for(lambda: a.client().job(name)["subjobs"]["sub1"]["frames"][1]["pid"], what="the render to start on A")
    pid = a.client().job(name)["subjobs"]["sub1"]["frames"][1]["pid"]
    b.client().cancel(name)
    import psutil
    wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
             timeout=20, what="A's render to be killed by B's cancel")
    assert a.client().job(name)["status"] == "Cancelled"


@pytest.mark.parametrize("victim", ["a", "b"])
def test_a_coordinator_killed_mid_job_loses_nothing_and_completes_nothing_twice(
        node_factory, worker_factory, pg_url, unique_name, tmp_path, victim):
    env = {"PYFARM_STANDIN_SECONDS": "0.3"}
    a = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-a"], name="a", env=env)
    b = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-b"], name="b", env=env)
    both = "%s,%s" % (a.url, b.url)
    for i in range(2):
        worker_factory(both, "w%d" % i, slots=1, env=env)
    name = unique_name("kill")
    a.client().submit(job(name, 30))
    dying, living = (a, b) if victim == "a" else (b, a)
    wait_for(lambda: living.client().job(name)["frames"]["complete"] >= 5, what="the job under way")
    dying.kill()
    done = wait_complete(living.client(), name)
    assert done["frames"]["complete"] == 30
    assert_each_frame_complete_once(pg_url, tmp_path, {name})
    # the farm took note: the dead coordinator's own host is lost, the workers are attached to the survivor
    wait_for(lambda: {w["name"]: w["state"] for w in living.client().workers()}.get(
        "coord-%s" % victim) == "lost", what="the dead coordinator's host lost")


def test_a_coordinator_cut_off_the_network_is_rendered_around_and_comes_back_harmless(
        node_factory, worker_factory, pg_server, pg_url, unique_name, tmp_path):
    env = {"PYFARM_STANDIN_SECONDS": "0.3"}
    db_relay = TcpRelay(pg_server.port).start()
    cut_url = pg_url.replace(":%d/" % pg_server.port, ":%d/" % db_relay.port)
    a = node_factory(slots=1, store=cut_url, args=FAST + ["--name", "coord-a"], name="a", env=env)
    b = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-b"], name="b", env=env)
    front = TcpRelay(a.port).start()  # the workers reach A through this
    for i in range(2):
        worker_factory("%s,%s" % (front.url(), b.url), "w%d" % i, slots=1, env=env)
    name = unique_name("cut")
    b.client().submit(job(name, 30))
    wait_for(lambda: b.client().job(name)["frames"]["complete"] >= 5, what="the job under way")
    db_relay.cut()
    front.cut()
    done = wait_complete(b.client(), name)
    assert done["frames"]["complete"] == 30
    db_relay.heal()
    front.heal()
    # A answers again, with the farm as it is, and its frames' late ends changed nothing
    wait_for(lambda: _answers(a) and a.client().job(name)["frames"]["complete"] == 30,
             what="A to answer again with the whole job complete")
    assert_each_frame_complete_once(pg_url, tmp_path, {name})
    # and its own slot renders again: nothing of it died of the cut
    again = unique_name("after-cut")
    a.client().submit(job(again, 12))
    done = wait_complete(b.client(), again)
    assert "coord-a" in {f["host"] for f in done["subjobs"]["sub1"]["frames"].values()}
    db_relay.close()
    front.close()


def _answers(node):
    from maya_plugin.errors import FarmError
    try:
        node.client().summary()
        return True
    except FarmError:
        return False


def test_both_coordinators_restarted_at_once_finish_the_job_once(node_factory, worker_factory, pg_url,
                                                                   unique_name, tmp_path):
    env = {"PYFARM_STANDIN_SECONDS": "0.3"}
    a = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-a"], name="a", env=env)
    b = node_factory(slots=1, store=pg_url, args=FAST + ["--name", "coord-b"], name="b", env=env)
    worker_factory("%s,%s" % (a.url, b.url), "w0", slots=2, env=env)
    name = unique_name("both")
    a.client().submit(job(name, 30))
    wait_for(lambda: a.client().job(name)["frames"]["complete"] >= 5, what="the job under way")
    a.kill()
    b.kill()
    a.start()
    b.start()
    done = wait_complete(a.client(), name)
    assert done["frames"]["complete"] == 30
    assert_each_frame_complete_once(pg_url, tmp_path, {name})
