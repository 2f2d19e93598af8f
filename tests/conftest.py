"""Fixtures shared by every test: a real farm node on 127.0.0.1, started as its own process.

The node runs on the node's Python (3.10+) even when the tests run on Maya 2022's Python 3.7, so this file imports
nothing from farm_node. ``PYFARM_NODE_PYTHON`` names that interpreter; by default it is this one when it can run the
node, else the repository's ``.venv``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Dict, List, Optional

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
STANDIN = os.path.join(ROOT, "farm_node", "standin_render.py")
# The token the test nodes give their render hosts (`serve --worker-token`), and that test workers use.
WORKER_TOKEN = "test-worker-token"


def node_python() -> str:
    explicit = os.environ.get("PYFARM_NODE_PYTHON")
    if explicit:
        return explicit
    if sys.version_info >= (3, 10):
        try:
            import fastapi  # noqa: F401
            import uvicorn  # noqa: F401
            return sys.executable
        except ImportError:
            pass
    for candidate in (os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, ".venv", "Scripts",
                                                                                 "python.exe")):
        if os.path.exists(candidate):
            return candidate
    pytest.skip("no Python that can run the farm node: set PYFARM_NODE_PYTHON")
    return ""


def _spawn(data_dir: str, args: List[str], env_extra: Dict[str, str], output_path: str) -> subprocess.Popen:
    """Start ``python -m farm_node ARGS`` with the stand-in renderer, output appended to ``output_path``."""
    os.makedirs(data_dir, exist_ok=True)
    info = os.path.join(data_dir, "node.json")
    if os.path.exists(info):
        os.remove(info)
    env = dict(os.environ)
    env.setdefault("PYFARM_STANDIN_SECONDS", "0.05")
    env.update(env_extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = open(output_path, "ab")
    proc = subprocess.Popen([node_python(), "-m", "farm_node"] + args + ["--exe", "render=" + STANDIN], stdout=out,
                            stderr=subprocess.STDOUT, env=env, cwd=data_dir)
    out.close()
    return proc


def _wait_started(proc: subprocess.Popen, data_dir: str, timeout: float, what: str, output) -> dict:  # type: ignore
    """The node.json a started process writes (its pid is the proof it is this process's), or RuntimeError."""
    info = os.path.join(data_dir, "node.json")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the %s exited with %s:\n%s" % (what, proc.returncode, output()))
        try:
            with open(info) as f:
                data = json.load(f)
            if data.get("pid") == proc.pid:
                return data
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError("the %s did not start in %ss:\n%s" % (what, timeout, output()))


class NodeProcess(object):
    """A `farm-node serve` (or `worker`) child process with its data folder; restartable on the same port."""

    def __init__(self, data_dir: str, token: str = "test-token", slots: int = 1, args: Optional[List[str]] = None,
                 env: Optional[Dict[str, str]] = None, command: str = "serve",
                 worker_token: str = WORKER_TOKEN) -> None:
        self.data_dir = data_dir
        self.token = token
        # The render hosts' own secret (CONTRACT section 9); None starts the node without --worker-token.
        self.worker_token = worker_token
        self.slots = slots
        self.args = list(args or [])
        self.env = dict(env or {})
        self.command = command
        self.port = 0
        self.url = ""
        self.proc = None  # type: Optional[subprocess.Popen]
        self.output_path = os.path.join(data_dir, "node-output.txt")

    def start(self, timeout: float = 30.0) -> "NodeProcess":
        args = [self.command, "--port", str(self.port), "--data-dir", self.data_dir, "--token", self.token,
                "--slots", str(self.slots)] + self.args
        if self.worker_token:
            args += ["--worker-token", self.worker_token]
        self.proc = _spawn(self.data_dir, args, self.env, self.output_path)
        data = _wait_started(self.proc, self.data_dir, timeout, "node", self.output)
        self.port = data["port"]
        self.url = data["url"]
        return self

    def output(self) -> str:
        try:
            with open(self.output_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, **kwargs):  # type: ignore[no-untyped-def]
        from maya_plugin.farm_client import FarmClient
        return FarmClient(self.url, self.token, **kwargs)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (CTRL_BREAK on Windows) and wait: the clean stop."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM if sys.platform != "win32" else signal.CTRL_BREAK_EVENT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: the node gets no say."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):  # type: ignore
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


@pytest.fixture(scope="session")
def farm_node_server():
    """One node for the whole session (2 slots, stand-in renderer). Use unique job names (``unique_name``)."""
    data_dir = tempfile.mkdtemp(prefix="pyfarm-session-node-")
    node = NodeProcess(data_dir, slots=2).start()
    yield node
    node.stop()


@pytest.fixture
def node_factory(tmp_path):
    """Start nodes of one's own (to kill, restart, or configure): ``node_factory(slots=1, env={...})``."""
    nodes = []

    def make(slots: int = 1, args: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None,
             start: bool = True, name: str = "node") -> NodeProcess:
        node = NodeProcess(str(tmp_path / ("%s-%d" % (name, len(nodes)))), slots=slots, args=args, env=env)
        nodes.append(node)
        return node.start() if start else node

    yield make
    for node in nodes:
        # A clean stop kills the node's renders with it; a SIGKILL would leave hung ones running after the test.
        node.stop()


@pytest.fixture
def unique_name():
    def make(prefix: str = "job") -> str:
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])
    return make


class WorkerProcess(NodeProcess):
    """A `farm-node worker` child process taking frames from ``coordinator`` (a URL) under the name ``name``."""

    def __init__(self, data_dir: str, coordinator: str, name: str, token: str = WORKER_TOKEN, slots: int = 1,
                 args: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None) -> None:
        NodeProcess.__init__(self, data_dir, token=token, slots=slots, args=args, env=env, command="worker",
                             worker_token="")
        self.coordinator = coordinator
        self.name = name

    def spawn(self) -> "WorkerProcess":
        """Start the process without waiting for it (start several at once, then ``wait_started`` each)."""
        args = ["worker", "--coordinator", self.coordinator, "--name", self.name, "--data-dir", self.data_dir,
                "--token", self.token, "--slots", str(self.slots)] + self.args
        self.proc = _spawn(self.data_dir, args, self.env, self.output_path)
        return self

    def wait_started(self, timeout: float = 30.0) -> "WorkerProcess":
        if self.proc is None:
            raise RuntimeError("the worker was never spawned")
        _wait_started(self.proc, self.data_dir, timeout, "worker", self.output)
        return self

    def start(self, timeout: float = 30.0) -> "WorkerProcess":
        return self.spawn().wait_started(timeout)


@pytest.fixture
def worker_factory(tmp_path):
    """Workers of a coordinator (a NodeProcess or a URL): ``worker_factory(node, "w1", env={...})``; killed at the end.

    ``start=False`` spawns without waiting (then ``wait_started()``), ``start=None`` only builds it.
    """
    workers = []

    def make(coordinator, name: str, slots: int = 1, args: Optional[List[str]] = None,
             env: Optional[Dict[str, str]] = None, start: Optional[bool] = True) -> WorkerProcess:
        url = coordinator if isinstance(coordinator, str) else coordinator.url
        worker = WorkerProcess(str(tmp_path / ("worker-%s-%d" % (name, len(workers)))), url, name, slots=slots,
                               args=args, env=env)
        workers.append(worker)
        if start is None:
            return worker
        return worker.start() if start else worker.spawn()

    yield make
    for worker in workers:
        renders = _renders_of(worker)
        worker.kill()
        for proc in renders:
            try:
                proc.kill()
            except Exception:  # already gone
                pass


def _renders_of(worker: WorkerProcess) -> list:
    """The stand-in renders a worker runs or left behind (its children, and the pids in its held.json)."""
    try:
        import psutil
    except ImportError:
        return []
    procs = []
    try:
        if worker.alive():
            procs += psutil.Process(worker.proc.pid).children(recursive=True)
    except psutil.Error:
        pass
    try:
        with open(os.path.join(worker.data_dir, "held.json")) as f:
            held = json.load(f)
    except (OSError, ValueError):
        held = {}
    for entry in held.values():
        try:
            proc = psutil.Process(entry.get("pid") or -1)
            if any(STANDIN in part for part in proc.cmdline()):
                procs.append(proc)
        except (psutil.Error, ValueError):
            pass
    return procs
