"""Issue 15, row 3: the data folder on a small disk that a chatty render fills. The node says `degraded` with the
reason, no render slot dies, the frames end (their logs say they were cut short) instead of "Rendering" forever, the
API answers JSON (never a bare 500), and rendering resumes by itself when space returns.

A real small filesystem: a 20 MB tmpfs mounted for the test (root only; elsewhere the test is skipped, saying why).
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests

from tests.conftest import NodeProcess, wait_for
from tests.node.test_node_api import seed_job


@pytest.fixture
def small_disk(tmp_path):
    if sys.platform != "linux":
        pytest.skip("a 20 MB tmpfs needs Linux")
    if os.geteuid() != 0:
        pytest.skip("mounting a 20 MB tmpfs needs root; run as root (CI does) to test a full disk")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m,mode=0755", "tmpfs", str(mount)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (%s): a full disk is not tested" % r.stderr.strip())
    try:
        yield str(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _health(node):
    r = requests.get(node.url + "/api/health", timeout=10)
    return r.status_code, r.json()


def test_a_full_disk_degrades_the_node_and_rendering_resumes_when_space_returns(small_disk, tmp_path):
    data_dir = os.path.join(small_disk, "node")
    reserve = os.path.join(small_disk, "reserve")
    with open(reserve, "wb") as f:  # what the "admin" deletes to give space back
        f.write(b"\0" * 4 * 2 ** 20)
    chatty_render = tmp_path / "chatty.py"  # a render that prints 12 MB (the stand-in renderer stays quiet)
    chatty_render.write_text("import sys\nfor _ in range(192):\n    sys.stdout.write('z' * 65535 + '\\n')\n")
    node = NodeProcess(data_dir, slots=2, args=["--backup-interval", "0", "--exe", "chatty=%s" % chatty_render])
    node.output_path = str(tmp_path / "node-output.txt")  # the node's own output is not on the small disk
    node.start()
    try:
        client = node.client()
        chatty = "chatty-" + uuid.uuid4().hex[:6]
        # One attempt each: a retry would fill the disk again with a new log, and nobody frees it twice here.
        client.submit(seed_job(chatty, frames=(1, 2), program="chatty", max_attempts=1))
        status, body = wait_for(lambda: _health(node)[0] == 503 and _health(node), timeout=60,
                                what="health to say degraded")
        assert body["status"] == "degraded" and "full" in body["reason"] and data_dir in body["reason"]
        # The API answers JSON while the disk is full: done, or 507/503 with the reason; never a bare 500.
        headers = {"Authorization": "Bearer " + node.token}
        for method, path, payload in (("POST", "/api/jobs", seed_job("while-full-" + uuid.uuid4().hex[:6])),
                                      ("POST", "/api/jobs/%s/pause" % chatty, None),
                                      ("POST", "/api/jobs/%s/resume" % chatty, None),
                                      ("GET", "/api/jobs/%s" % chatty, None)):
            r = requests.request(method, node.url + path, json=payload, headers=headers, timeout=30)
            assert r.status_code < 500 or r.status_code in (503, 507), (path, r.status_code, r.text[:200])
            assert r.headers["content-type"].startswith("application/json"), (path, r.text[:200])
            if r.status_code >= 400:
                assert r.json()["error"]
        # Space comes back: the frames end, the node is well again, and a new job renders.
        os.remove(reserve)
        job = wait_for(lambda: client.job(chatty)["status"] in ("Complete", "Failed") and client.job(chatty),
                       timeout=60, what="the chatty frames to end")
        frames = list(job["subjobs"]["sub1"]["frames"].values())
        assert all(f["status"] != "Rendering" for f in frames)
        # the frame whose log hit the full disk rendered on without it, and its stdout says so
        assert any("could not be written" in f["stdout"] for f in frames), [f["stdout"][-300:] for f in frames]
        wait_for(lambda: _health(node)[0] == 200, timeout=30, what="health to be ok again")
        quiet = "after-" + uuid.uuid4().hex[:6]
        client.submit({quiet: {"subjobs": {"s": {"frames": {"1": {"command": "render -s 1 -e 1 a.mb"}}}}}})
        wait_for(lambda: client.job(quiet)["status"] in ("Complete", "Failed"), timeout=60,
                 what="a new job to render after the disk had room again")
        assert node.alive()
    finally:
        node.stop()
