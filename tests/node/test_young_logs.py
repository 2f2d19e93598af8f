"""The log of a young attempt of the node's own slots: in memory while its start is in the journal, written into the
store with its end when it ends young, into its file once it outgrows its youth. In process, on a real SQLite store.
"""
from __future__ import annotations

import os

import pytest

from farm_node.coordinator import Coordinator
from farm_node.coordinator.attempt_logs import IN_MEMORY_BYTES
from farm_node.store import Store


@pytest.fixture
def coord(tmp_path):
    c = Coordinator(Store(str(tmp_path / "farm.sqlite")), str(tmp_path), "node", heartbeat=5.0, lost_after=15.0)
    yield c
    c.store.close()


def run_one(c: Coordinator, name: str = "J") -> tuple[int, str]:
    """A frame leased by the node's own slot and started as the slots start theirs: (attempt id, its log file)."""
    c.submit({name: {"subjobs": {"s": {"frames": {"1": {"command": "render -s 1 -e 1 scene.mb"}}}}}})
    [lease] = c.lease("node", 1)
    attempt = lease["attempt"]
    c.started(attempt, 4242, defer=True)
    relative = c.store.attempt(attempt).log_path
    return attempt, os.path.join(c.data_dir, relative)


def log_of(c: Coordinator, name: str = "J") -> bytes:
    return b"".join(c.log_source(name, "s", 1).chunks(0))


def test_a_frame_that_ends_young_has_its_log_in_the_store_and_no_file(coord):
    attempt, path = run_one(coord)
    coord.output(attempt, b"[pyfarm] running: render\nframe done\n")
    assert log_of(coord) == b"[pyfarm] running: render\nframe done\n"  # read from memory while it runs
    assert not os.path.exists(path)
    assert coord.finished(attempt, 0) == "Complete"
    assert not os.path.exists(path)
    assert coord.store.attempt_log_text(attempt) == b"[pyfarm] running: render\nframe done\n"
    assert log_of(coord) == b"[pyfarm] running: render\nframe done\n"
    # the frame's stdout and start are written by the same end
    frame = coord.reader.job_dict("J")["subjobs"]["s"]["frames"]["1"]
    assert frame["pid"] == 4242 and "frame done" in frame["stdout"]


def test_the_coordinators_note_joins_a_log_kept_in_the_store(coord):
    attempt, path = run_one(coord)
    coord.output(attempt, b"started\n")
    coord.finished(attempt, None, "the frame ran longer than its timeout")
    text = coord.store.attempt_log_text(attempt)
    assert text == b"started\n\n[pyfarm] the frame ran longer than its timeout\n"
    assert coord.store.attempt(attempt).note_bytes == len(text) - len(b"started\n")
    assert not os.path.exists(path)


def test_a_frame_still_running_when_its_start_is_written_gets_its_file(coord):
    attempt, path = run_one(coord)
    coord.output(attempt, b"first line\n")
    coord.flush_starts()  # what the started-reports thread does 0.1 s after the start
    assert open(path, "rb").read() == b"first line\n"
    frame = coord.reader.job_dict("J")["subjobs"]["s"]["frames"]["1"]
    assert frame["pid"] == 4242 and frame["stdout"] == "first line\n"  # its output so far went with its start
    coord.output(attempt, b"second line\n")
    coord.finished(attempt, 0)
    assert open(path, "rb").read() == b"first line\nsecond line\n"
    assert coord.store.attempt_log_text(attempt) is None
    assert log_of(coord) == b"first line\nsecond line\n"


def test_output_after_the_start_was_written_goes_to_the_file(coord):
    attempt, path = run_one(coord)
    coord.flush_starts()
    coord.output(attempt, b"late\n")
    assert open(path, "rb").read() == b"late\n"
    coord.finished(attempt, 0)
    assert coord.store.attempt_log_text(attempt) is None


def test_a_young_log_that_outgrows_memory_gets_its_file_whole(coord):
    attempt, path = run_one(coord)
    big = b"x" * (IN_MEMORY_BYTES // 2)
    coord.output(attempt, big)
    assert not os.path.exists(path)
    coord.output(attempt, big + b"yz")
    assert open(path, "rb").read() == big + big + b"yz"
    coord.finished(attempt, 0)
    assert coord.store.attempt_log_text(attempt) is None
    assert log_of(coord) == big + big + b"yz"


def test_a_young_attempt_cancelled_keeps_its_log_in_its_file(coord):
    attempt, path = run_one(coord)
    coord.output(attempt, b"partial\n")
    coord.cancel("J")
    text = open(path, "rb").read()
    assert text.startswith(b"partial\n") and b"[pyfarm]" in text  # its output, then why it ended
