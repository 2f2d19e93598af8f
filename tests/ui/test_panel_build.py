"""The Monitor panel's first moments, against a fake client (no node): what only decorates comes on the first turn of
the event loop, and a big first answer is applied in slices on turns of their own."""
from __future__ import annotations

import threading

from maya_plugin.ui.monitor import APPLY_SLICE, MonitorPanel

import ui_feeds as F


class Client(object):
    """A farm of ``n`` jobs: the first poll answers with all of them (a reload), later ones with nothing new."""
    url = "http://fake-farm:8750"

    def __init__(self, n: int) -> None:
        self.answer = F.feed({"job%04d" % i: F.job({"main": {"Queued": 10}}) for i in range(n)}, revision=5,
                             reload=True)
        self.first = threading.Event()

    def changes(self, since, wait=0.0, watch=()):
        if not self.first.is_set():
            self.first.set()
            return self.answer
        threading.Event().wait(min(wait, 0.2))
        return {"revision": 5, "reload": False, "jobs": {}, "deleted": [], "refetch": []}

    def workers(self):
        return []


def test_icons_and_clear_buttons_come_on_the_first_turn(qtbot):
    panel = MonitorPanel()
    qtbot.addWidget(panel)
    assert not panel.decorated and panel.actions_by_name["refresh"].icon().isNull()
    qtbot.waitUntil(lambda: panel.decorated)
    assert not panel.actions_by_name["refresh"].icon().isNull()
    assert panel.search_edit.isClearButtonEnabled() and panel.frames.host_edit.isClearButtonEnabled()
    panel.shutdown()


def test_a_big_first_answer_is_applied_in_slices_in_order(qtbot):
    client = Client(APPLY_SLICE * 3 + 7)
    panel = MonitorPanel(client=client, feed_wait=0.2)
    qtbot.addWidget(panel)
    sizes = []
    panel.model.rowsInserted.connect(lambda parent, first, last: sizes.append(last - first + 1))
    qtbot.waitUntil(lambda: panel.model.rowCount() == APPLY_SLICE * 3 + 7, timeout=10000)
    assert sizes == [APPLY_SLICE] * 3 + [7]  # one insertion a slice: each in the order, none re-sorted
    names = [panel.model.jobs[r].name for r in range(panel.model.rowCount())]
    assert names == sorted(names) and panel.model.totals["Queued"] == 10 * (APPLY_SLICE * 3 + 7)
    panel.shutdown()


def test_the_feed_and_the_hosts_start_on_the_first_turn_not_in_the_constructor(qtbot):
    """The first answer's JSON is read on the feed's thread holding the GIL: the thread starts after the panel's
    construction and first paint, not within them."""
    client = Client(3)
    asked = []
    client.workers = lambda: asked.append(threading.current_thread().name) or []
    panel = MonitorPanel(client=client, feed_wait=0.2)
    qtbot.addWidget(panel)
    assert panel.watcher is not None and not panel.watcher.started and not client.first.is_set()
    assert asked == []
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=10000)
    assert panel.watcher.started and panel.watcher.running
    qtbot.waitUntil(lambda: bool(asked), timeout=10000)
    assert asked[0] != threading.current_thread().name  # off the GUI thread
    panel.shutdown()


def test_a_panel_shut_down_before_its_first_turn_starts_no_feed(qtbot):
    client = Client(3)
    panel = MonitorPanel(client=client, feed_wait=0.2)
    qtbot.addWidget(panel)
    watcher = panel.watcher
    panel.shutdown()
    qtbot.waitUntil(lambda: not panel._feed_timer.isActive())  # the deferred start has had its turn
    assert not watcher.running and watcher._thread is None and not client.first.is_set()
