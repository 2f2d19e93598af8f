"""The Monitor panel against a REAL farm node (``farm-node serve`` with the stand-in renderer as ``render``).

Every wait is ``qtbot.waitUntil`` with a generous timeout: no timing is asserted.
"""
from __future__ import annotations

import os

import pytest

from maya_plugin.farm_client import FarmClient
from maya_plugin.qt import QtWidgets
from maya_plugin.ui.model import COL_HOST, COL_PID, COL_STATUS
from maya_plugin.ui.monitor import MonitorPanel

WAIT = 60000  # ms


def job_dict(name, frames=3, subjob="main", **extra):
    body = {"subjobs": {subjob: {"frames": {
        n: {"command": "render -r sw -s %d -e %d /tmp/pyfarm-ui-test/scene.mb" % (n, n)} for n in range(1, frames + 1)
    }}}, "output": "/tmp/pyfarm-ui-test/images"}
    body.update(extra)
    return {name: body}


@pytest.fixture
def make_panel(qtbot):
    panels = []

    def make(node, **kwargs):
        kwargs.setdefault("feed_wait", 1.0)
        kwargs.setdefault("hosts_poll_ms", 300)
        kwargs.setdefault("log_poll_ms", 150)
        panel = MonitorPanel(client=FarmClient(node.url, node.token), **kwargs)
        qtbot.addWidget(panel)
        panel.show()
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        watcher = panel.watcher
        panel.shutdown()
        if watcher is not None:
            watcher.join(10)


def frame_status(panel, job, subjob, number):
    node = panel.model.find(job, subjob, number)
    return node.status if node is not None else None


def test_frame_states_change_in_the_panel_as_the_node_renders(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_SECONDS": "1.0"})
    panel = make_panel(node)
    resets = []
    panel.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    panel.proxy.modelAboutToBeReset.connect(lambda: resets.append(1))
    name = unique_name("states")
    node.client().submit(job_dict(name, frames=3))
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    assert [frame_status(panel, name, "main", n) for n in (1, 2, 3)].count("Queued") >= 2

    qtbot.waitUntil(lambda: "Rendering" in [frame_status(panel, name, "main", n) for n in (1, 2, 3)], timeout=WAIT)
    rendering = [f for f in panel.model.find(name, "main").frames if f.status == "Rendering"][0]
    index = panel.model.index_of(rendering)
    qtbot.waitUntil(lambda: panel.model.data(index.sibling(index.row(), COL_PID)) != "", timeout=WAIT)
    assert panel.model.data(index.sibling(index.row(), COL_HOST))
    assert panel.model.data(index.sibling(index.row(), COL_STATUS)) == "Rendering"
    assert "Rendering 1" in panel.summary_label.text()

    qtbot.waitUntil(lambda: panel.model.find(name).data.get("status") == "Complete", timeout=WAIT)
    assert [frame_status(panel, name, "main", n) for n in (1, 2, 3)] == ["Complete"] * 3
    assert resets == []
    qtbot.waitUntil(lambda: panel.hosts_view.topLevelItemCount() >= 1, timeout=WAIT)


def test_the_log_of_the_selected_frame_tails_while_it_renders(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_SECONDS": "4.0"})
    panel = make_panel(node)
    name = unique_name("tail")
    node.client().submit(job_dict(name, frames=1))
    qtbot.waitUntil(lambda: frame_status(panel, name, "main", 1) == "Rendering", timeout=WAIT)
    assert panel.select(name, "main", [1])
    assert panel.log_view.key == (name, "main", 1)
    # a first part of the log while the frame still renders...
    qtbot.waitUntil(lambda: "Percentage of rendering done" in panel.log_view.plain_text(), timeout=WAIT)
    partial = panel.log_view.plain_text()
    assert "completed." not in partial
    offsets = [panel.log_view.offset]
    # ...then the rest, fetched from the offset reached (the text grows, the start is not fetched again)
    qtbot.waitUntil(lambda: "completed." in panel.log_view.plain_text(), timeout=WAIT)
    offsets.append(panel.log_view.offset)
    full = panel.log_view.plain_text()
    assert full.startswith(partial)
    assert full.count("PyFarm standin_render") == 1
    assert offsets[1] > offsets[0] > 0


def test_every_action_reaches_the_node_and_shows(qtbot, node_factory, make_panel, unique_name, tmp_path):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_SECONDS": "0.3", "PYFARM_STANDIN_FAIL": "2"})
    panel = make_panel(node)
    errors = []
    panel.message.connect(lambda text, error: errors.append(text) if error else None)
    name = unique_name("actions")
    node.client().submit(job_dict(name, frames=4, max_attempts=1))
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    job = lambda: panel.model.find(name)  # noqa: E731

    # pause: the node stops starting frames; the job shows paused
    assert panel.select(name)
    assert panel.pause_selected() == 1
    qtbot.waitUntil(lambda: job().data.get("paused") is True, timeout=WAIT)
    assert node.client().job(name)["paused"] is True
    # resume: the job renders to its end; frame 2 fails (max_attempts 1)
    assert panel.resume_selected() == 1
    qtbot.waitUntil(lambda: job().data.get("status") == "Failed", timeout=WAIT)
    assert frame_status(panel, name, "main", 2) == "Failed"
    assert job().counts["Failed"] == 1 and job().counts["Complete"] == 3

    started = lambda n: panel.model.find(name, "main", n).data.get("started")  # noqa: E731

    # retry failed: frame 2 starts a fresh attempt (and fails again)
    before = started(2)
    assert panel.retry_failed() == 1
    qtbot.waitUntil(lambda: started(2) != before and frame_status(panel, name, "main", 2) == "Failed",
                    timeout=WAIT)

    # retry selected frames: frame 1 renders again
    before = started(1)
    assert panel.select(name, "main", [1])
    assert [f.number for f in panel.selected_frames()] == [1]
    assert panel.retry_selected_frames() == 1
    qtbot.waitUntil(lambda: started(1) != before and frame_status(panel, name, "main", 1) == "Complete",
                    timeout=WAIT)

    # copy the command
    assert panel.copy_command() == panel.model.find(name, "main", 1).data["command"]
    assert QtWidgets.QApplication.clipboard().text() == panel.model.find(name, "main", 1).data["command"]

    # open the output folder
    opened = []
    panel.open_url = opened.append
    assert panel.open_output() == "/tmp/pyfarm-ui-test/images"
    assert opened[0].toLocalFile() == "/tmp/pyfarm-ui-test/images"

    # cancel: a second job's queued frames become Cancelled
    other = unique_name("cancel")
    node.client().pause(name)
    node.client().submit(job_dict(other, frames=3))
    node.client().pause(other)
    qtbot.waitUntil(lambda: panel.model.find(other) is not None, timeout=WAIT)
    assert panel.select(other)
    assert panel.cancel_selected() == 1
    qtbot.waitUntil(lambda: panel.model.find(other).counts.get("Cancelled") == 3, timeout=WAIT)
    assert panel.model.find(other).data["status"] == "Paused"  # the contract's order: a paused job says Paused

    # delete asks first: "no" keeps the job, "yes" removes it from the node and the panel
    asked = []
    panel.confirm = lambda text: asked.append(text) or False
    assert panel.select(other)
    assert panel.delete_selected() == 0
    assert asked and other in asked[0]
    assert node.client().job(other)
    panel.confirm = lambda text: True
    assert panel.delete_selected() == 1
    qtbot.waitUntil(lambda: panel.model.find(other) is None, timeout=WAIT)
    assert other not in node.client().jobs()
    assert errors == []


def test_save_and_load_queue_off_the_main_thread(qtbot, node_factory, make_panel, unique_name, tmp_path):
    node = node_factory(slots=1)
    panel = make_panel(node)
    messages = []
    panel.message.connect(lambda text, error: messages.append((text, error)))
    name = unique_name("backup")
    node.client().submit(job_dict(name, frames=2))
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    path = str(tmp_path / "queue.xml")
    panel.ask_save_path = lambda: path
    assert panel.save_queue()
    qtbot.waitUntil(lambda: os.path.exists(path) and any("Saved" in t for t, _ in messages), timeout=WAIT)
    with open(path, "rb") as f:
        assert name.encode() in f.read()

    node.client().delete(name)
    qtbot.waitUntil(lambda: panel.model.find(name) is None, timeout=WAIT)
    panel.ask_open_path = lambda: path
    assert panel.load_queue()
    qtbot.waitUntil(lambda: any("Restored" in t and name in t for t, _ in messages), timeout=WAIT)
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    # loading it again: the farm refuses the taken name; the panel asks, "no" says so in words...
    asked = []
    panel.confirm = lambda text: asked.append(text) or False
    assert panel.load_queue()
    qtbot.waitUntil(lambda: any(error for _, error in messages), timeout=WAIT)
    assert "load the queue" in [t for t, e in messages if e][-1]
    assert asked and "Replace" in asked[0]
    # ..."yes" replaces the job with the saved one
    del messages[:]
    panel.confirm = lambda text: True
    assert panel.load_queue()
    qtbot.waitUntil(lambda: any("Restored" in t and name in t for t, _ in messages), timeout=WAIT)
    assert not any(error for _, error in messages)


def test_unreachable_farm_shows_and_recovers_by_itself(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1)
    panel = make_panel(node)
    name = unique_name("outage")
    node.client().submit(job_dict(name, frames=2))
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    assert not panel.banner.isVisible()

    node.stop()
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=WAIT)
    assert "does not answer" in panel.banner.text()
    assert "unreachable" in panel.summary_label.text()
    assert panel.model.find(name) is not None  # what was known stays on screen

    node.start()
    qtbot.waitUntil(lambda: not panel.banner.isVisible(), timeout=WAIT)
    assert panel.reachable is True
    later = unique_name("after")
    node.client().submit(job_dict(later, frames=1))
    qtbot.waitUntil(lambda: panel.model.find(later) is not None, timeout=WAIT)
    assert panel.model.find(name) is not None


def test_a_wrong_token_is_said_in_words(qtbot, farm_node_server, make_panel):
    class Wrong(object):
        url = farm_node_server.url
        token = "not-the-token"

    panel = make_panel(Wrong)
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=WAIT)
    assert "token" in panel.banner.text()
