"""The Monitor panel against a REAL farm node (``farm-node serve`` with the stand-in renderer as ``render``).

Every wait is ``qtbot.waitUntil`` with a generous timeout: no timing is asserted.
"""
from __future__ import annotations

import os

import pytest

from maya_plugin.errors import FarmRejected
from maya_plugin.farm_client import FarmClient
from maya_plugin.qt import QtCore, QtWidgets
from maya_plugin.ui.columns import FRAME_HOST, FRAME_PID, FRAME_STATUS
from maya_plugin.ui.monitor import MonitorPanel

WAIT = 60000  # ms


def job_dict(name, frames=3, subjob="main", first=1, **extra):
    body = {"subjobs": {subjob: {"frames": {
        n: {"command": "render -r sw -s %d -e %d /tmp/pyfarm-ui-test/scene.mb" % (n, n)}
        for n in range(first, first + frames)
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


def shown(panel, number):
    """The frame ``number`` of the open subjob as its row shows it (None while its page is away)."""
    row = panel.frames.model.row_of(number)
    return panel.frames.model.frame_at(row) if row >= 0 else None


def status(panel, number):
    frame = shown(panel, number)
    return frame.get("status") if frame else None


def open_subjob(qtbot, panel, job, subjob="main"):
    qtbot.waitUntil(lambda: panel.model.find(job, subjob) is not None, timeout=WAIT)
    assert panel.select(job, subjob)
    qtbot.waitUntil(lambda: panel.frames.model.frame_at(0) is not None, timeout=WAIT)


def test_frame_states_change_in_the_panel_as_the_node_renders(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_SECONDS": "1.0"})
    panel = make_panel(node)
    resets = []
    panel.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    name = unique_name("states")
    node.client().submit(job_dict(name, frames=3))
    open_subjob(qtbot, panel, name)
    assert panel.frames.key == (name, "main") and panel.watcher.watching == ((name, "main"),)
    qtbot.waitUntil(lambda: "Rendering" in [status(panel, n) for n in (1, 2, 3)], timeout=WAIT)
    row = [r for r in range(3) if panel.frames.model.frame_at(r)["status"] == "Rendering"][0]
    model = panel.frames.model
    qtbot.waitUntil(lambda: model.data(model.index(row, FRAME_PID)) != "", timeout=WAIT)
    assert model.data(model.index(row, FRAME_HOST)) and model.data(model.index(row, FRAME_STATUS)) == "Rendering"
    assert "Rendering 1" in panel.summary_label.text()
    qtbot.waitUntil(lambda: panel.model.find(name).status == "Complete", timeout=WAIT)
    qtbot.waitUntil(lambda: [status(panel, n) for n in (1, 2, 3)] == ["Complete"] * 3, timeout=WAIT)
    assert resets == []
    qtbot.waitUntil(lambda: panel.hosts_view.topLevelItemCount() >= 1, timeout=WAIT)
    own = panel.hosts_view.topLevelItem(0)
    assert own.text(4) == "now"  # the node's own host is alive as long as the node answers


def test_the_log_of_the_selected_frame_tails_while_it_renders(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_SECONDS": "4.0"})
    panel = make_panel(node)
    name = unique_name("tail")
    node.client().submit(job_dict(name, frames=1))
    open_subjob(qtbot, panel, name)
    qtbot.waitUntil(lambda: status(panel, 1) == "Rendering", timeout=WAIT)
    assert panel.select(name, "main", [1])
    qtbot.waitUntil(lambda: panel.log_view.key == (name, "main", 1), timeout=WAIT)
    qtbot.waitUntil(lambda: "Percentage of rendering done" in panel.log_view.plain_text(), timeout=WAIT)
    partial = panel.log_view.plain_text()
    assert "completed." not in partial
    offsets = [panel.log_view.offset]
    qtbot.waitUntil(lambda: "completed." in panel.log_view.plain_text(), timeout=WAIT)
    offsets.append(panel.log_view.offset)
    full = panel.log_view.plain_text()
    assert full.startswith(partial) and full.count("PyFarm standin_render") == 1
    assert offsets[1] > offsets[0] > 0


def test_every_action_reaches_the_node_and_shows(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1, env={"PYFARM_STANDIN_SECONDS": "0.3", "PYFARM_STANDIN_FAIL": "2"})
    panel = make_panel(node)
    errors = []
    panel.message.connect(lambda text, error: errors.append(text) if error else None)
    name = unique_name("actions")
    node.client().submit(job_dict(name, frames=4, max_attempts=1))
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    job = lambda: panel.model.find(name)  # noqa: E731

    assert panel.select(name)
    assert panel.pause_selected() == 1
    qtbot.waitUntil(lambda: job().data.get("paused") is True, timeout=WAIT)
    assert node.client().job(name, frames=False)["paused"] is True
    assert panel.resume_selected() == 1
    qtbot.waitUntil(lambda: job().status == "Failed", timeout=WAIT)
    assert job().count("Failed") == 1 and job().count("Complete") == 3
    qtbot.waitUntil(lambda: status(panel, 2) == "Failed", timeout=WAIT)

    started = lambda n: (shown(panel, n) or {}).get("started")  # noqa: E731
    before = started(2)
    assert panel.retry_failed() == 1
    qtbot.waitUntil(lambda: started(2) != before and status(panel, 2) == "Failed", timeout=WAIT)

    before = started(1)
    assert panel.select(name, "main", [1])
    qtbot.waitUntil(lambda: [f["number"] for f in panel.selected_frames()] == [1], timeout=WAIT)
    assert panel.retry_selected_frames() == 1
    qtbot.waitUntil(lambda: started(1) != before and status(panel, 1) == "Complete", timeout=WAIT)

    # Ctrl+C on the frames table copies the current frame's command
    panel.frames.view.setFocus()
    qtbot.keyClick(panel.frames.view, QtCore.Qt.Key_C, QtCore.Qt.ControlModifier)
    assert QtWidgets.QApplication.clipboard().text() == shown(panel, 1)["command"]

    opened = []
    panel.open_url = opened.append
    assert panel.select(name)
    assert panel.open_output() == "/tmp/pyfarm-ui-test/images"
    assert opened[0].toLocalFile() == "/tmp/pyfarm-ui-test/images"

    other = unique_name("cancel")
    node.client().pause(name)
    node.client().submit(job_dict(other, frames=3))
    node.client().pause(other)
    qtbot.waitUntil(lambda: panel.model.find(other) is not None, timeout=WAIT)
    assert panel.select(other)
    assert panel.cancel_selected() == 1
    # (a frame of it may have rendered in the moment between its submission and its pause)
    done = lambda: panel.model.find(other).count("Cancelled") + panel.model.find(other).count("Complete")  # noqa
    qtbot.waitUntil(lambda: panel.model.find(other).count("Cancelled") >= 2 and done() == 3, timeout=WAIT)
    assert panel.model.find(other).status == "Paused"  # the contract's order: a paused job says Paused

    # Delete on the jobs tree asks first: "no" keeps the job, "yes" removes it from the node and the panel
    asked = []
    panel.confirm = lambda text: asked.append(text) or False
    assert panel.select(other)
    panel.view.setFocus()
    qtbot.keyClick(panel.view, QtCore.Qt.Key_Delete)
    assert asked and other in asked[0]
    assert node.client().job(other, frames=False)
    panel.confirm = lambda text: True
    assert panel.delete_selected() == 1
    qtbot.waitUntil(lambda: panel.model.find(other) is None, timeout=WAIT)
    assert other not in node.client().summary()["jobs"]
    assert errors == []


def test_a_big_subjob_is_paged_sorted_and_acted_on_whole(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=0)  # nothing renders: frames stay where the test puts them
    client = node.client()
    name = unique_name("big")
    client.submit(job_dict(name, frames=3000))
    client.cancel(name)
    client.retry(name, subjob="main", frames=[2999])
    panel = make_panel(node)
    open_subjob(qtbot, panel, name)
    model = panel.frames.model
    assert model.rowCount() == 3000
    assert model.loaded_rows() < 3000  # pages for the rows on screen, not the subjob
    # scrolled to the end: the last rows are read, in frame order
    panel.frames.view.scrollToBottom()
    qtbot.waitUntil(lambda: model.frame_at(2999) is not None, timeout=WAIT)
    assert model.frame_at(2999)["number"] == 3000
    # sorted by status on the node: the one queued frame comes before the cancelled ones
    panel.frames.view.sortByColumn(FRAME_STATUS, QtCore.Qt.AscendingOrder)
    panel.frames.view.scrollToTop()
    qtbot.waitUntil(lambda: (model.frame_at(0) or {}).get("number") == 2999, timeout=WAIT)
    assert model.frame_at(1)["status"] == "Cancelled"
    # Ctrl+A selects the whole subjob as one range; "retry frames" is then one call for all of it
    panel.frames.view.setFocus()
    qtbot.keyClick(panel.frames.view, QtCore.Qt.Key_A, QtCore.Qt.ControlModifier)
    assert panel.frames.selection_ranges() == [(0, 2999)] and panel.frames.whole_subjob_selected()
    assert panel.retry_selected_frames() == 3000
    qtbot.waitUntil(lambda: panel.model.find(name).count("Queued") == 3000, timeout=WAIT)
    qtbot.waitUntil(lambda: {(model.frame_at(r) or {}).get("status") for r in range(20)} == {"Queued"},
                    timeout=WAIT)
    # a range of rows whose pages are not here: their numbers are read from the node, then retried
    client.cancel(name)
    qtbot.waitUntil(lambda: panel.model.find(name).count("Cancelled") == 3000, timeout=WAIT)
    panel.frames.view.sortByColumn(0, QtCore.Qt.DescendingOrder)
    qtbot.waitUntil(lambda: (model.frame_at(0) or {}).get("number") == 3000, timeout=WAIT)
    selection = QtCore.QItemSelection(model.index(0, 0), model.index(2499, 0))
    panel.frames.view.selectionModel().select(selection, QtCore.QItemSelectionModel.ClearAndSelect |
                                              QtCore.QItemSelectionModel.Rows)
    assert not panel.frames.whole_subjob_selected() and panel.retry_selected_frames() == 2500
    qtbot.waitUntil(lambda: client.job(name, frames=False)["frames"]["queued"] == 2500, timeout=WAIT)
    assert client.frames(name, "main", limit=1, status=["Queued"])["frames"][0]["number"] == 501
    # the status filter is the node's
    panel.frames.status_combo.setCurrentIndex(panel.frames.status_combo.findData("Cancelled"))
    qtbot.waitUntil(lambda: model.rowCount() == 500, timeout=WAIT)
    assert "500 frames of 3000" in panel.frames.title.text()


def test_find_jobs_by_name_or_user_and_see_a_jobs_details(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=0)
    client = node.client()
    first, second = unique_name("shot010"), unique_name("shot020")
    client.submit(job_dict(first, user="ann", scene="/proj/scenes/shot010.mb", renderer="arnold", priority=70))
    client.submit(job_dict(second, user="bob"))
    panel = make_panel(node)
    qtbot.waitUntil(lambda: panel.model.find(second) is not None, timeout=WAIT)
    qtbot.keyClick(panel, QtCore.Qt.Key_F, QtCore.Qt.ControlModifier)
    assert panel.search_edit.hasFocus()
    qtbot.keyClicks(panel.search_edit, "BOB")
    assert [j.name for j in panel.model.jobs] == [second]
    panel.search_edit.setText("shot010")
    assert [j.name for j in panel.model.jobs] == [first]
    panel.search_edit.clear()
    assert len(panel.model.jobs) == 2
    assert panel.select(first)
    values = panel.details.values
    assert values["User"].text() == "ann" and values["Scene"].text() == "/proj/scenes/shot010.mb"
    assert values["Renderer"].text() == "arnold" and values["Submitted"].text()
    assert panel.details.priority.value() == 70
    assert values["Waiting for"].text() == "" or client.job(first, frames=False).get("waiting_for")
    try:
        client.update(first, priority=70)
    except FarmRejected as exc:  # PATCH /api/jobs/{job} is issue 13's: test the panel's part once it is there
        pytest.skip("this node cannot change a job's priority yet (%s)" % exc)
    panel.details.priority.setValue(85)
    panel.details.set_priority.click()
    qtbot.waitUntil(lambda: panel.model.find(first).data.get("priority") == 85, timeout=WAIT)
    assert client.job(first, frames=False)["priority"] == 85


def test_a_blocklist_shows_and_clears(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1, args=["--block-after", "1", "--name", "render-bl"],
                        env={"PYFARM_STANDIN_SECONDS": "0.1", "PYFARM_STANDIN_FAIL": "1"})
    client = node.client()
    name = unique_name("blocked")
    client.submit(job_dict(name, frames=2, max_attempts=5))
    wait = lambda: client.job(name, frames=False).get("blocklist")  # noqa: E731
    qtbot.waitUntil(lambda: bool(wait()), timeout=WAIT)
    panel = make_panel(node)
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    assert panel.select(name)
    qtbot.waitUntil(lambda: "render-bl" in panel.details.blocklist.text(), timeout=WAIT)
    assert panel.details.clear_button.isEnabled()
    client.pause(name)  # so that the host does not fail it again at once...
    qtbot.waitUntil(lambda: client.job(name, frames=False)["frames"]["rendering"] == 0, timeout=WAIT)  # ...nor now
    panel.details.clear_button.click()
    qtbot.waitUntil(lambda: not client.job(name, frames=False).get("blocklist"), timeout=WAIT)
    qtbot.waitUntil(lambda: panel.details.blocklist.text() == "none", timeout=WAIT)


def test_a_worker_that_left_shows_as_left(qtbot, node_factory, worker_factory, make_panel):
    node = node_factory(slots=0)
    worker = worker_factory(node, "render-w1")
    panel = make_panel(node)
    hosts = lambda: {panel.hosts_view.topLevelItem(i).text(0): panel.hosts_view.topLevelItem(i)  # noqa: E731
                     for i in range(panel.hosts_view.topLevelItemCount())}
    qtbot.waitUntil(lambda: "render-w1" in hosts() and hosts()["render-w1"].text(1) == "idle", timeout=WAIT)
    assert hosts()["render-w1"].text(4) == "now"
    worker.stop()
    qtbot.waitUntil(lambda: hosts()["render-w1"].text(1) == "left", timeout=WAIT)


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
    qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
    asked = []
    panel.confirm = lambda text: asked.append(text) or False
    assert panel.load_queue()
    qtbot.waitUntil(lambda: any(error for _, error in messages), timeout=WAIT)
    assert "load the queue" in [t for t, e in messages if e][-1] and asked and "Replace" in asked[0]
    del messages[:]
    panel.confirm = lambda text: True
    assert panel.load_queue()
    qtbot.waitUntil(lambda: any("Restored" in t and name in t for t, _ in messages), timeout=WAIT)
    assert not any(error for _, error in messages)


def test_unreachable_farm_shows_and_recovers_without_reloading(qtbot, node_factory, make_panel, unique_name):
    node = node_factory(slots=1)
    panel = make_panel(node)
    name = unique_name("outage")
    node.client().submit(job_dict(name, frames=2))
    open_subjob(qtbot, panel, name)
    answers = []
    panel.watcher.changes.connect(lambda answer: answers.append(answer), QtCore.Qt.DirectConnection)
    node.stop()
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=WAIT)
    assert "does not answer" in panel.banner.text() and "unreachable" in panel.summary_label.text()
    assert panel.model.find(name) is not None  # what was known stays on screen
    node.start()
    qtbot.waitUntil(lambda: not panel.banner.isVisible(), timeout=WAIT)
    assert panel.reachable is True
    later = unique_name("after")
    node.client().submit(job_dict(later, frames=1))
    qtbot.waitUntil(lambda: panel.model.find(later) is not None, timeout=WAIT)
    assert panel.model.find(name) is not None
    assert answers and not any(a.get("reload") for a in answers)  # the reconnect asked from where it was
    # F5 reads everything again
    old = panel.watcher
    panel.view.setFocus()
    qtbot.keyClick(panel.view, QtCore.Qt.Key_F5)
    assert panel.watcher is not old


def test_a_wrong_token_is_said_in_words(qtbot, farm_node_server, make_panel):
    class Wrong(object):
        url = farm_node_server.url
        token = "not-the-token"

    panel = make_panel(Wrong)
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=WAIT)
    assert "token" in panel.banner.text()
