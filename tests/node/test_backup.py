"""The queue as XML through the node: API, command line, restore rules and rolling backups."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from farm_node import backup, queue_xml
from farm_node.store import Store
from farm_node.jobspec import parse_submission
from maya_plugin.errors import FarmConflict, FarmRejected
from tests.conftest import ROOT, wait_for
from tests.node.test_node_api import seed_job


def test_backup_and_restore_on_another_node_keeps_state_and_renders_the_rest(node_factory, unique_name):
    a = node_factory(env={"PYFARM_STANDIN_HANG": "3"}, name="a")
    ca = a.client()
    name = unique_name()
    ca.submit(seed_job(name, frames=(1, 2, 3, 4), priority=70, shot="sh010"))
    wait_for(lambda: ca.job(name)["frames"]["complete"] == 2 and ca.job(name)["frames"]["rendering"] == 1,
             what="two frames done, frame 3 hanging")
    ca.pause(name)
    data = ca.backup_xml()
    assert data.startswith(b"<?xml") and name.encode() in data
    assert ca.backup_xml(name) .count(b"<job ") == 1
    before = ca.job(name)
    b = node_factory(name="b")
    cb = b.client()
    assert cb.restore_xml(data) == [name]
    after = cb.job(name)
    assert after["priority"] == 70 and after["shot"] == "sh010" and after["paused"] is True
    fa, fb = before["subjobs"]["sub1"]["frames"], after["subjobs"]["sub1"]["frames"]
    for n in (1, 2):
        assert fb[n]["status"] == "Complete" and fb[n]["pid"] == fa[n]["pid"] and fb[n]["stdout"] == fa[n]["stdout"]
    assert fa[3]["status"] == "Rendering" and fb[3]["status"] == "Queued"  # its process is on the other node
    assert fb[3]["attempts"] == 0
    with pytest.raises(FarmConflict):
        cb.restore_xml(data)
    cb.resume(name)
    job = wait_for(lambda: cb.job(name)["status"] == "Complete" and cb.job(name), what="restored frames to render")
    assert job["subjobs"]["sub1"]["frames"][1]["pid"] == fa[1]["pid"]  # finished frames were not rendered again
    assert cb.restore_xml(data, replace=True) == [name]
    assert cb.job(name)["subjobs"]["sub1"]["frames"][3]["status"] == "Queued"


BROKEN = [
    b"<queue",
    b"not xml at all",
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]><queue>&x;</queue>',
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><queue>&b;</queue>',
]


@pytest.mark.parametrize("data", BROKEN, ids=["cut", "text", "xxe", "entities"])
def test_a_broken_or_hostile_file_is_refused_and_changes_nothing(farm_node_server, data):
    client = farm_node_server.client()
    before = client.jobs()
    with pytest.raises(FarmRejected) as info:
        client.restore_xml(data)
    assert info.value.status == 400 and info.value.message
    assert client.jobs().keys() == before.keys()


def test_a_file_valid_up_to_a_bad_frame_restores_nothing(farm_node_server, unique_name):
    client = farm_node_server.client()
    good, bad = unique_name(), unique_name()
    data = queue_xml.dump_queue({good: _job(), bad: _job()})
    broken = data.replace(b"<pid>", b"<pid>x", 1) if b"<pid>" in data else data[:-40]
    with pytest.raises(FarmRejected):
        client.restore_xml(broken)
    assert good not in client.jobs()


def _job():
    return {"priority": 50, "max_attempts": 3, "paused": False, "submitted": 1.0, "frame_timeout": None,
            "subjobs": {"s": {"frames": {1: {"status": "Complete", "host": "h", "pid": 5, "command": "render a",
                                             "stdout": "x", "argv": ["render", "a"], "attempts": 1,
                                             "exit_code": 0, "progress": 100.0, "started": 1.0, "finished": 2.0,
                                             "error": None}}}}}


def test_backup_and_restore_commands(farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1,)))
    wait_for(lambda: client.job(name)["status"] == "Complete", what="the job")
    env = dict(os.environ, FARM_URL=farm_node_server.url, FARM_TOKEN=farm_node_server.token,
               PYTHONPATH=ROOT)
    out = tmp_path / "q.xml"
    r = subprocess.run([sys.executable, "-m", "farm_node", "backup", str(out), "--job", name], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert queue_xml.load_queue(str(out))[name]["status"] == "Complete"
    client.delete(name)
    r = subprocess.run([sys.executable, "-m", "farm_node", "restore", str(out)], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert client.job(name)["status"] == "Complete"
    r = subprocess.run([sys.executable, "-m", "farm_node", "restore", str(out)], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "already on the farm" in r.stderr


def _big_store(path, frames):
    store = Store(path)
    body = {"J%d" % j: {"subjobs": {"s": {"frames": {str(i): {"command": "render -s %d -e %d scene.mb" % (i, i)}
                                                       for i in range(frames)}}}} for j in range(2)}
    with store.write() as txn:
        store.insert_jobs(txn, parse_submission(body), 1.0)
    return store


def test_rolling_backups_keep_count_and_survive_a_kill_mid_write(tmp_path):
    # Big enough that the killed writer is caught mid-file (it writes for about a second), no bigger: it runs often.
    store = _big_store(str(tmp_path / "farm.sqlite"), 15000)
    rolling = backup.RollingBackups(store.reader, str(tmp_path), interval=1, keep=2)
    first = rolling.run_once(now=1000)
    assert first and rolling.run_once(now=1001) is None  # nothing changed: no new file
    assert queue_xml.load_queue(first).keys() == {"J0", "J1"}
    # a second process writes a backup of the same store and is killed in the middle of it
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from farm_node.store import Store; from farm_node.backup import RollingBackups\n"
            "s = Store(%r); s.revision += 1\n"
            "RollingBackups(s.reader, %r, 1, 2).run_once(now=2000)\n" % (ROOT, store.path, str(tmp_path)))
    child = subprocess.Popen([sys.executable, "-c", code])
    folder = tmp_path / "backups"
    wait_for(lambda: any(p.name.endswith(".tmp") for p in folder.iterdir()), what="the temporary file")
    child.send_signal(signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM)
    child.wait()
    for p in folder.glob("queue-*.xml"):
        assert queue_xml.load_queue(str(p)).keys() == {"J0", "J1"}  # every finished backup reads whole
    for t in range(3):
        with store.write() as txn:
            store.set_paused(txn, 1, bool(t % 2))
        rolling.run_once(now=3000 + t)
    assert len(list(folder.glob("queue-*.xml"))) == 2
    assert not list(folder.glob(".*.tmp"))  # the killed write's leftover was cleaned up
