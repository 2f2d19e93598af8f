"""`farm log`, and `farm log -f` following a frame from its queue to its end."""
from __future__ import annotations

import json
import threading

from tests.cli.conftest import FarmRun, frames
from tests.conftest import wait_for


class Reader(object):
    """Reads a child's stream on a thread, so a test can wait for what it printed."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in iter(stream.readline, ""):
            self.text += line

    def join(self) -> str:
        self._thread.join(30)
        return self.text


def test_log_prints_a_frames_whole_log(farm, farm_node_server, unique_name):
    client = farm_node_server.client()
    name = unique_name("log")
    client.submit({name: frames(1)})
    wait_for(lambda: client.job(name)["status"] == "Complete", what="the job")
    whole = client.log(name, "sub1", 1)
    r = farm("log", name, "sub1", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == whole and "Scene " in whole and whole.rstrip().endswith("completed.")
    answer = farm.json("log", name, "sub1", "1", "--attempt", "1")
    assert answer["log"] == whole and answer["next_offset"] == len(whole.encode())
    r = farm("log", name, "sub1", "7")
    assert r.returncode == 1 and "no frame 7" in r.stderr
    r = farm("log", name, "sub1", "1", "--attempt", "1", "-f")
    assert r.returncode == 2


def test_log_follow_waits_for_a_queued_frame_and_follows_it_to_its_end(node_factory, unique_name):
    # One slot, held by a frame that never ends: the followed frame is queued behind it for as long as the test
    # likes, and starts when the test cancels the first job.
    node = node_factory(slots=1, env={"PYFARM_STANDIN_HANG": "1", "PYFARM_STANDIN_SECONDS": "0.5"})
    farm = FarmRun(node)
    client = node.client()
    blocker, name = unique_name("blocker"), unique_name("followed")
    client.submit({blocker: frames(1)})
    wait_for(lambda: client.job(blocker)["subjobs"]["sub1"]["frames"][1]["pid"], what="the blocker to start")
    client.submit({name: frames(2)})
    proc = farm.popen("log", name, "sub1", "2", "-f")
    out, err = Reader(proc.stdout), Reader(proc.stderr)
    wait_for(lambda: "frame 2 is queued; waiting for it to start" in err.text, what="farm log to wait")
    assert proc.poll() is None and out.text == ""
    client.cancel(blocker)
    assert proc.wait(120) == 0, err.join()
    printed = out.join()
    assert client.job(name)["subjobs"]["sub1"]["frames"][2]["status"] == "Complete"
    assert printed == client.log(name, "sub1", 2)
    assert "progr:" in printed and printed.rstrip().endswith("completed.")


def test_log_follow_prints_while_the_frame_renders_and_stops_when_it_ends(node_factory, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_HANG": "1"})
    farm = FarmRun(node)
    client = node.client()
    name = unique_name("hang")
    client.submit({name: frames(1)})
    wait_for(lambda: "hangs" in client.log(name, "sub1", 1), what="the frame to render")
    proc = farm.popen("log", name, "sub1", "1", "--follow", "--json")
    out, err = Reader(proc.stdout), Reader(proc.stderr)
    wait_for(lambda: "hangs" in out.text, what="the log so far")
    assert proc.poll() is None  # the frame renders on: farm log follows it
    client.cancel(name)
    assert proc.wait(120) == 0, err.join()
    lines = [json.loads(line) for line in out.join().splitlines()]
    assert lines[-1] == {"job": name, "subjob": "sub1", "frame": 1, "status": "Cancelled"}
    assert "".join(line.get("log", "") for line in lines) == client.log(name, "sub1", 1)
    assert lines[0]["offset"] == 0


def test_log_follow_shows_a_retried_attempt_after_the_failed_one(node_factory, unique_name, tmp_path):
    marks = tmp_path / "fail-once"
    marks.mkdir()
    node = node_factory(slots=1, env={"PYFARM_STANDIN_HANG": "1", "PYFARM_STANDIN_FAIL": "2",
                                      "PYFARM_STANDIN_FAIL_ONCE_DIR": str(marks)})
    farm = FarmRun(node)
    client = node.client()
    blocker, name = unique_name("blocker"), unique_name("retried")
    client.submit({blocker: frames(1)})
    wait_for(lambda: client.job(blocker)["subjobs"]["sub1"]["frames"][1]["pid"], what="the blocker to start")
    client.submit({name: frames(2)})
    proc = farm.popen("log", name, "sub1", "2", "-f")
    out, err = Reader(proc.stdout), Reader(proc.stderr)
    wait_for(lambda: "is queued" in err.text, what="farm log to wait")
    client.cancel(blocker)
    assert proc.wait(120) == 0, err.join()
    printed = out.join()
    frame = client.job(name)["subjobs"]["sub1"]["frames"][2]
    assert (frame["status"], frame["attempts"]) == ("Complete", 2)
    first, second = client.log(name, "sub1", 2, attempt=1), client.log(name, "sub1", 2, attempt=2)
    assert "Frame rendering aborted" in first and second.rstrip().endswith("completed.")
    # Each attempt's log once, whole, in order; the second after a line that says so.
    assert printed == first + "\n----- frame 2: attempt 2 -----\n" + second
