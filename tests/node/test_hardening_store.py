"""Issue 15, rows 2, 8 and 12: a store that is empty, truncated or not SQLite's is never served as a farm (the node
refuses to start with one sentence naming the file, the newest backup and `farm-node restore`); the data folder and
what the node writes into it are its owner's only, and the token can come from a file instead of the command line."""
from __future__ import annotations

import glob
import os
import re
import stat
import subprocess
import sys

import psutil
import pytest

from tests.conftest import node_python, wait_for
from tests.node.test_node_api import seed_job

POSIX = sys.platform != "win32"


@pytest.fixture
def store_engine():
    # A damaged SQLite file and the modes of the files of the SQLite store: these tests are of the embedded store
    # alone (a PostgreSQL node has no farm.sqlite, and its logs are in the database).
    return "sqlite"


def _finished_backup(backups: str) -> str | None:
    """The newest backup, once it shows the whole job Complete (a backup between the two frames' ends shows the
    first frame Complete and the second one Rendering)."""
    found = sorted(glob.glob(os.path.join(backups, "queue-*.xml")))
    if not found:
        return None
    statuses = set(re.findall(rb"""status=["']([A-Za-z]+)["']""", open(found[-1], "rb").read()))
    return found[-1] if statuses == {b"Complete"} else None


def _node_with_a_backup(node_factory, unique_name):
    node = node_factory(slots=1, args=["--backup-interval", "0.2"])
    client = node.client()
    name = unique_name("kept")
    client.submit(seed_job(name, frames=(1, 2)))
    wait_for(lambda: client.job(name)["status"] == "Complete", what="the job to render")
    backups = os.path.join(node.data_dir, "backups")
    # A backup written after the job completed (each one only when the queue changed).
    wait_for(lambda: _finished_backup(backups), what="a backup of the completed job")
    assert node.stop() == 0
    newest = _finished_backup(backups)  # the one the node names when it refuses the store (a later one, if any)
    assert newest
    return node, name, newest


def _damage(path: str, how: str) -> None:
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        if how == "emptied":
            pass
        elif how == "bad header":
            f.write(b"\0" * 100 + data[100:])
        elif how == "truncated":
            f.write(data[:len(data) // 2 - 100])
        elif how == "truncated at a page":
            f.write(data[:4096])


@pytest.mark.parametrize("how", ["emptied", "bad header", "truncated", "truncated at a page"])
def test_a_damaged_store_is_refused_with_the_way_back(node_factory, unique_name, how):
    node, name, newest = _node_with_a_backup(node_factory, unique_name)
    store = os.path.join(node.data_dir, "farm.sqlite")
    _damage(store, how)
    with pytest.raises(RuntimeError) as refused:
        node.start(timeout=30)
    text = str(refused.value)
    assert "Traceback" not in text
    assert store in text and "is not served as a farm" in text
    assert newest in text and "farm-node restore" in text
    assert node.proc.returncode not in (0, None)
    # the way back it names works: move the file away, start, restore
    os.replace(store, store + ".damaged")
    node.start()
    assert name not in node.client().jobs()
    r = subprocess.run([node_python(), "-m", "farm_node", "restore", newest, "--url", node.url, "--token", node.token],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert node.client().job(name)["status"] == "Complete"


@pytest.mark.skipif(not POSIX, reason="POSIX file modes (Windows: the user data folder's ACL is its owner's)")
def test_the_data_folder_and_its_files_are_private_and_the_token_stays_off_the_command_line(node_factory,
                                                                                          worker_factory,
                                                                                          unique_name, tmp_path):
    token_file = tmp_path / "client-token"
    token_file.write_text("a-token-from-a-file\n")
    data_dir = tmp_path / "shared-looking"
    data_dir.mkdir(mode=0o755)
    os.chmod(str(data_dir), 0o755)
    node = node_factory(slots=1, start=False)
    node.data_dir = str(data_dir)
    node.output_path = str(tmp_path / "node-output.txt")
    node.token = "a-token-from-a-file"
    node.args += ["--token-file", str(token_file)]
    # the token is not given on the command line at all, and the worker token is made (DATA_DIR/worker-token)
    node.start = _start_without_token(node)
    node.start()
    client = node.client()
    name = unique_name("modes")
    client.submit(seed_job(name, frames=(1,)))
    wait_for(lambda: client.job(name)["status"] == "Complete", what="the job to render")
    assert "a-token-from-a-file" not in " ".join(psutil.Process(node.proc.pid).cmdline())

    def mode(p):
        return stat.S_IMODE(os.stat(p).st_mode)

    assert mode(str(data_dir)) == 0o700
    files = [os.path.join(str(data_dir), f) for f in ("farm.sqlite", "worker-token")]
    files += [p for p in glob.glob(os.path.join(str(data_dir), "farm.sqlite-*"))]
    files += glob.glob(os.path.join(str(data_dir), "logs", "**", "*"), recursive=True)
    logs = [p for p in files if os.path.isfile(p) and "logs" in p]
    assert logs, "no log file was written"
    for p in files:
        if os.path.isdir(p):
            assert mode(p) == 0o700, p
        else:
            assert mode(p) == 0o600, (p, oct(mode(p)))


def _start_without_token(node):
    """``NodeProcess.start`` with the token left off the command line (it is in --token-file)."""
    from tests.conftest import _spawn, _wait_started

    def start(timeout: float = 30.0):
        args = ["serve", "--port", str(node.port), "--data-dir", node.data_dir, "--slots", str(node.slots)] + node.args
        node.proc = _spawn(node.data_dir, args, node.env, node.output_path)
        data = _wait_started(node.proc, node.data_dir, timeout, "node", node.output)
        node.port, node.url = data["port"], data["url"]
        return node
    return start
