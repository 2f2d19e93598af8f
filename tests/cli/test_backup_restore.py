"""`farm backup` / `farm restore` (and `farm-node`'s, the same code): streamed, with progress on a terminal, and a
restore that refuses taken job names before it sends the file."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys

from maya_plugin.farm_client import FarmClient, FarmConflict, _UrllibTransport
from tests.cli.conftest import FarmRun, frames
from tests.cli.terminal import PtyRun
from tests.conftest import ROOT, wait_for


def _complete_job(client, name, *numbers):  # type: ignore[no-untyped-def]
    client.submit({name: frames(*(numbers or (1, 2)))})
    # The session's node is shared: on a busy machine other tests' frames may come first.
    wait_for(lambda: client.job(name)["status"] == "Complete", timeout=120, what=name)


def _undated(xml: bytes) -> bytes:
    return re.sub(rb' created="[^"]*"', b"", xml, count=1)


def test_backup_writes_the_queue_or_one_job(farm, farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name("bk")
    _complete_job(client, name)
    path = tmp_path / "one.xml"
    r = farm("backup", str(path), "--job", name)
    assert r.returncode == 0, r.stderr
    data = path.read_bytes()
    assert r.stdout == "saved %s (%d bytes) from %s\n" % (path, len(data), farm_node_server.url)
    assert data.count(b"<job ") == 1 and ('name="%s"' % name).encode() in data
    assert not (tmp_path / "one.xml.part").exists()
    r = subprocess.run([sys.executable, "-m", "farm_node.cli.farm", "backup", "-", "--job", name],
                       capture_output=True, env=farm.env(), cwd=ROOT, timeout=120)
    # the same document on standard output (written a moment later: its "created" may differ); the note on stderr
    assert r.returncode == 0 and _undated(r.stdout) == _undated(data)
    assert b"saved %d bytes" % len(r.stdout) in r.stderr
    answer = farm.json("backup", str(tmp_path / "all.xml"))
    assert answer["bytes"] == (tmp_path / "all.xml").stat().st_size and answer["file"] == str(tmp_path / "all.xml")
    r = farm("backup", str(tmp_path / "x.xml"), "--job", unique_name("ghost"))
    assert r.returncode == 1 and "no job named" in r.stderr
    assert not (tmp_path / "x.xml").exists() and not (tmp_path / "x.xml.part").exists()


def test_restore_brings_jobs_into_another_farm_and_replaces_on_request(farm, farm_node_server, node_factory,
                                                                       unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name("rs")
    _complete_job(client, name, 1, 2, 3)
    path = tmp_path / "q.xml"
    assert farm("backup", str(path), "--job", name).returncode == 0
    other = node_factory(slots=0)
    r = FarmRun(other)("restore", str(path))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "restored 1 job(s) into %s: %s\n" % (other.url, name)
    restored = other.client().job(name)
    assert {n: f["status"] for n, f in restored["subjobs"]["sub1"]["frames"].items()} == {
        1: "Complete", 2: "Complete", 3: "Complete"}
    assert FarmRun(other).json("restore", str(path), "--replace") == {"jobs": [name]}


def _taken_but_invalid(farm, client, name, tmp_path):  # type: ignore[no-untyped-def]
    """A backup of ``name`` (on the farm) whose frame status the node's schema refuses: had the file been sent,
    the node's answer would be about the status, which its first pass reads before it looks at the names."""
    path = tmp_path / "taken.xml"
    assert farm("backup", str(path), "--job", name).returncode == 0
    data = path.read_bytes().replace(b'status="Complete"', b'status="Bogus"', 1)
    path.write_bytes(data)
    return path


def test_restore_refuses_taken_names_before_sending_the_file(farm, farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name("taken")
    _complete_job(client, name)
    path = _taken_but_invalid(farm, client, name, tmp_path)
    r = farm("restore", str(path))
    assert r.returncode == 1
    assert r.stderr == "farm restore: jobs already on the farm: %r (restore with --replace to overwrite them)\n" % name
    # The node, sent the same file, answers about what it read first: proof the refusal above was made before.
    r = farm("restore", str(path), "--replace")
    assert r.returncode == 1 and "Bogus" in r.stderr and "already on the farm" not in r.stderr
    r = farm("restore", str(path), "--json")
    assert r.returncode == 1 and "already on the farm" in json.loads(r.stdout)["error"]
    # farm-node restore is the same code
    r = subprocess.run([sys.executable, "-m", "farm_node", "restore", str(path)], capture_output=True, text=True,
                       env=farm.env(), cwd=ROOT, timeout=120)
    assert r.returncode == 1
    assert r.stderr == "farm-node restore: jobs already on the farm: %r (restore with --replace to overwrite " \
                       "them)\n" % name


def test_restore_refuses_files_that_are_no_queue(farm, tmp_path):
    cases = {
        "broken.xml": (b"<queue xmlns='urn:pyfarm:queue:1' format='1'><job name='a'>", "is not well-formed XML"),
        "dtd.xml": (b"<!DOCTYPE queue [<!ENTITY a 'b'>]><queue xmlns='urn:pyfarm:queue:1' format='1'/>",
                    "holds a DTD"),
        "other.xml": (b"<html><body/></html>", "is not a PyFarm queue file (its root element is <html>)"),
        "twice.xml": (b"<queue xmlns='urn:pyfarm:queue:1' format='1'><job name='a'/><job name='a'/></queue>",
                      "holds a job name twice: 'a'"),
    }
    for file, (data, message) in cases.items():
        (tmp_path / file).write_bytes(data)
        r = farm("restore", str(tmp_path / file))
        assert r.returncode == 1 and message in r.stderr, (file, r.stderr)
    r = farm("restore", str(tmp_path / "missing.xml"))
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_streamed_backup_and_restore_on_both_transports(farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("stream")
    _complete_job(client, name, *range(1, 30))
    whole = client.backup_xml(name)
    for transport in (None, _UrllibTransport()):
        c = FarmClient(farm_node_server.url, farm_node_server.token, transport=transport)
        out, seen = io.BytesIO(), []
        assert c.backup_to(out, name, progress=seen.append, chunk_size=4096) == len(whole)
        # the same document, written a moment later (its "created" stamp may be the next second's)
        assert _undated(out.getvalue()) == _undated(whole)
        assert seen == sorted(seen) and seen[-1] == len(whole) and len(seen) > 1
        sent = []
        try:
            c.restore_from(io.BytesIO(whole), len(whole), progress=lambda done, total: sent.append((done, total)))
            raise AssertionError("a taken name was restored")
        except FarmConflict as exc:
            assert "already on the farm" in str(exc)
        sent.clear()
        assert c.restore_from(io.BytesIO(whole), len(whole), replace=True, chunk_size=1000,
                              progress=lambda done, total: sent.append((done, total))) == [name]
        assert sent[-1] == (len(whole), len(whole)) and len(sent) == -(-len(whole) // 1000)


def test_restore_shows_its_progress_on_a_terminal(farm_node_server, unique_name, tmp_path):
    client = farm_node_server.client()
    name = unique_name("progress")
    _complete_job(client, name, *range(1, 40))
    path = tmp_path / "p.xml"
    path.write_bytes(client.backup_xml(name))
    farm = FarmRun(farm_node_server)
    run = PtyRun([sys.executable, "-m", "farm_node.cli.farm", "restore", str(path), "--replace"], farm.env(),
                 columns=80, cwd=ROOT)
    assert run.finish() == 0, run.raw
    for stage in ("reading the job names of p.xml", "sending p.xml", "the node restores 1 job(s)"):
        assert stage in run.raw
    assert run.too_wide() == []
    assert run.screen().text()[-2:] == ["restored 1 job(s) into %s: %s" % (farm_node_server.url, name), ""]
