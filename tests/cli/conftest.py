"""Fixtures of the `farm` command line's tests: `farm` run as a real child process against a real node."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest

from tests.conftest import ROOT

FARM = [sys.executable, "-m", "farm_node.cli.farm"]


class FarmRun(object):
    """`farm ARGS` against ``node``: ``(args) -> CompletedProcess`` with text output; ``.json(args)`` decodes."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def env(self, **extra: str) -> Dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        env["FARM_URL"] = self.node.url
        env["FARM_TOKEN"] = self.node.token
        env.update(extra)
        return env

    def __call__(self, *args: str, input: Optional[str] = None, env: Optional[Dict[str, str]] = None,
                 timeout: float = 120) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(FARM + list(args), input=input, capture_output=True, text=True,
                              env=env or self.env(), timeout=timeout, cwd=ROOT,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def json(self, *args: str) -> Any:
        r = self(*args, "--json")
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        return json.loads(r.stdout)

    def popen(self, *args: str) -> "subprocess.Popen[str]":
        return subprocess.Popen(FARM + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(), cwd=ROOT, stdin=subprocess.DEVNULL)


@pytest.fixture
def farm(farm_node_server):
    """`farm` against the session's node."""
    return FarmRun(farm_node_server)


def frames(*numbers: int, subjob: str = "sub1", **job: Any) -> Dict[str, Any]:
    """A job of the stand-in renderer's frames (the original design's commands)."""
    return dict(job, subjobs={subjob: {"frames": {
        str(n): {"command": "render -r mr -v 5 -s %d -e %d scene.mb" % (n, n)} for n in numbers}}})


def table(stdout: str) -> List[Dict[str, str]]:
    """The rows of the plain table `farm` prints off a terminal, as dicts by header. Columns are found where every
    line, header included, has two spaces or more (a cell may hold one space, as "3s ago" does)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    width = max(len(line) for line in lines)
    padded = [line.ljust(width) for line in lines]
    blank = [all(line[i] == " " for line in padded) for i in range(width)]
    spans, start, i = [], 0, 0
    while i < width:
        if blank[i]:
            j = i
            while j < width and blank[j]:
                j += 1
            if j - i >= 2 and i > start:
                spans.append((start, i))
                start = j
            i = j
        else:
            i += 1
    spans.append((start, width))
    headers = [padded[0][a:b].strip() for a, b in spans]
    return [{h: line[a:b].strip() for h, (a, b) in zip(headers, spans)} for line in padded[1:]]
