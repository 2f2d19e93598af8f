"""What `farm` exits with (0 done, 1 refused by the farm, 2 usage or unreachable), how it finds the farm, and its
help texts."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from tests.cli.conftest import FARM, FarmRun
from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, env):  # type: ignore[no-untyped-def]
    return subprocess.run(FARM + list(args), capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_usage_errors_exit_2(farm):
    r = farm()
    assert r.returncode == 2 and "usage: farm" in r.stderr
    r = farm("frobnicate")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = farm("log", "job", "sub", "not-a-number")
    assert r.returncode == 2


def test_an_unreachable_farm_exits_2_and_a_refused_token_1(farm):
    r = _run(["jobs"], farm.env(FARM_URL="http://127.0.0.1:%d" % _free_port()))
    assert r.returncode == 2 and "cannot reach the farm node" in r.stderr and "connection refused" in r.stderr
    r = _run(["jobs", "--json"], farm.env(FARM_URL="http://127.0.0.1:%d" % _free_port()))
    assert r.returncode == 2 and "cannot reach" in json.loads(r.stdout)["error"]
    r = _run(["hosts"], farm.env(FARM_TOKEN="not-the-token"))
    assert r.returncode == 1 and "refused the token" in r.stderr


def test_the_farm_is_found_by_flags_environment_or_data_folder(farm, farm_node_server, tmp_path):
    env = farm.env()
    url, token = env.pop("FARM_URL"), env.pop("FARM_TOKEN")
    env["XDG_DATA_HOME"] = str(tmp_path)  # the user data folder: empty here
    r = _run(["jobs"], env)
    assert r.returncode == 2 and "no node to talk to: give --url (or FARM_URL)" in r.stderr
    assert _run(["--url", url, "--token", token, "hosts"], env).returncode == 0
    assert _run(["hosts", "--url", url, "--token", token], env).returncode == 0
    # --data-dir of a node on this machine gives its address (its node.json); the token here comes from FARM_TOKEN
    r = _run(["hosts", "--data-dir", farm_node_server.data_dir, "--json"], dict(env, FARM_TOKEN=token))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["workers"][0]["local"] is True


def test_help_names_the_environment_and_gives_examples(farm):
    commands = ["jobs", "show", "submit", "pause", "resume", "cancel", "delete", "retry", "set", "log", "hosts",
                "blocklist", "limits", "limit", "backup", "restore", "watch"]
    r = farm("--help")
    assert r.returncode == 0
    for word in ["FARM_URL", "FARM_TOKEN", "export FARM_URL=http://farm01:8750"] + commands:
        assert word in r.stdout, word
    for command in commands:
        r = farm(command, "--help")
        assert r.returncode == 0
        assert "FARM_URL" in r.stdout and "FARM_TOKEN" in r.stdout, command
        assert "examples:\n  farm %s" % command in r.stdout, command
        assert max(len(line) for line in r.stdout.splitlines()) <= 80, command
    for command in ("backup", "restore"):
        r = subprocess.run([sys.executable, "-m", "farm_node", command, "--help"], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT, timeout=60)
        assert "FARM_URL" in r.stdout and "FARM_TOKEN" in r.stdout and "farm-node %s queue.xml" % command in r.stdout


def test_the_console_script_runs(farm):
    """`farm` as pip installs it (pyproject's console script) beside this interpreter."""
    folder = os.path.dirname(sys.executable)
    script = os.path.join(folder, "farm.exe" if sys.platform == "win32" else "farm")
    r = subprocess.run([script, "hosts", "--json"], capture_output=True, text=True, env=farm.env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["workers"]


def test_a_closed_pipe_is_not_an_error(farm_node_server):
    farm = FarmRun(farm_node_server)
    proc = subprocess.Popen(FARM + ["hosts", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=farm.env(), cwd=ROOT)
    proc.stdout.close()  # the reader left before a byte was written (`farm hosts | head -0`)
    assert proc.wait(60) == 0
    assert b"Traceback" not in proc.stderr.read()
