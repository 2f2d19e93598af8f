"""The feed's thread against a fake client (no node): answers with changes are paced, empty ones are not."""
from __future__ import annotations

import threading
import time

from maya_plugin.ui.feed import FeedWatcher


class Client(object):
    """Answers every poll at once; with changes while ``busy``, else nothing new."""

    def __init__(self, busy: bool) -> None:
        self.busy = busy
        self.calls = []
        self.lock = threading.Lock()

    def changes(self, since, wait=0.0, watch=()):
        with self.lock:
            self.calls.append(time.monotonic())
        jobs = {"j": {"frames": {"total": 1}, "subjobs": {}}} if self.busy else {}
        return {"revision": since + 1, "reload": False, "jobs": jobs, "deleted": []}


def run(qtbot, client, polls, min_interval):
    watcher = FeedWatcher(client, wait=0.0, min_interval=min_interval)
    watcher.start()
    try:
        qtbot.waitUntil(lambda: len(client.calls) >= polls, timeout=20000)
    finally:
        watcher.stop()
        watcher.join(10)
    return client.calls


def test_answers_with_changes_come_at_most_every_min_interval(qtbot):
    calls = run(qtbot, Client(busy=True), 4, 0.25)
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert min(gaps[:3]) >= 0.24  # however fast the node answers


def test_an_empty_answer_is_not_paced(qtbot):
    calls = run(qtbot, Client(busy=False), 50, 60.0)  # would take an hour if each waited the interval
    assert len(calls) >= 50
