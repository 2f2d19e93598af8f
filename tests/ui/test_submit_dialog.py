"""The Submit dialog on fake Maya scenes (tests/fake_maya), read by the real maya_plugin.submit, sent to a REAL node."""
from __future__ import annotations

import threading

import pytest

from maya_plugin.errors import FarmNotFound, FarmUnavailable
from maya_plugin.farm_client import FarmClient
from maya_plugin.qt import QtCore
from maya_plugin.ui.monitor import MonitorPanel
from maya_plugin.ui.scene_source import MayaSceneSource
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.submit_dialog import MAX_CHOICES, SubmitDialog, read_farm_choices

WAIT = 60000


@pytest.fixture
def fake_scene(tmp_path, monkeypatch):
    from maya import _scene, _scenes
    monkeypatch.setenv("FARM_LOCAL_PREFIXES", "Z:")  # the scenes live under /tmp here, a share in a studio

    def load(name, **changes):
        spec = _scenes.variant(_scenes.CATALOGUE[name], **changes)
        if spec.get("file"):
            path = tmp_path / "scenes" / spec["file"].rsplit("/", 1)[-1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("//Maya ASCII 2023 scene\n")
            spec["file"] = str(path)
            spec["project"] = str(tmp_path) + "/"  # the scene lives in its project, as on a studio share
        return _scene.load(spec)

    yield load
    _scene.reset()


@pytest.fixture
def make_dialog(qtbot, settings):
    def make(source=None, factory=FarmClient, farm=None):
        farm_settings = FarmSettings(settings)
        if farm is not None:
            farm_settings.set_farm(farm.url, farm.token)
        dialog = SubmitDialog(source or MayaSceneSource(), factory, settings=farm_settings, check_delay_ms=10)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog
    return make


class CannedFarm(object):
    """Stands in for a node of CONTRACT section 6 that this repository's node does not serve yet (hosts' ``tags``,
    ``GET /api/limits``): answers in the contract's shapes, records on which thread each call came, keeps what is
    submitted. ``limits=None`` answers 404, as a node without the route does."""

    def __init__(self, url="http://farm:8750", token="t", tags=(("gpu", "linux"), ("linux",), ()), limits=None,
                 jobs=None):
        self.url, self.token = url, token
        self._tags, self._limits = tags, limits
        self._jobs = jobs if jobs is not None else {
            "sim_v001": {"status": "Rendering", "submitted": 100.0},
            "old_comp": {"status": "Complete", "submitted": 50.0},
            "cache_v002": {"status": "Queued", "submitted": 200.0}}
        self.threads = []
        self.sent = []

    def _call(self, what):
        self.threads.append((what, threading.current_thread() is threading.main_thread()))

    def workers(self):
        self._call("workers")
        return [dict({"name": "render%02d" % i, "state": "idle"}, **({"tags": list(t)} if t else {}))
                for i, t in enumerate(self._tags)]

    def limits(self):
        self._call("limits")
        if self._limits is None:
            raise FarmNotFound("Not Found", 404)
        return dict(self._limits)

    def summary(self):
        self._call("summary")
        return {"revision": 7, "jobs": dict(self._jobs)}

    def submit(self, job):
        self._call("submit")
        self.sent.append(job)
        return list(job)


def rows(dialog):
    return [(severity, code, label.text()) for severity, code, label in dialog.check_rows.rows]


def list_items(widget):
    return [(widget.item(i).text(), widget.item(i).checkState() == QtCore.Qt.Checked) for i in range(widget.count())]


def test_the_dialog_submits_a_fake_scene_and_the_job_appears_in_the_panel(qtbot, fake_scene, make_dialog,
                                                                         farm_node_server, unique_name):
    # A job already on the farm, for the new one to depend on.
    first = unique_name("before")
    farm_node_server.client().submit({first: {"subjobs": {"s": {"frames": {1: {"command": "render -s 1 -e 1 a.mb"}}}}}})
    fake_scene("mental_ray_2016")
    dialog = make_dialog(farm=farm_node_server)
    assert list_items(dialog.layers_list) == [("masterLayer", True)]
    assert ("camera1", True) in list_items(dialog.cameras_list)
    assert dialog.frames_edit.placeholderText() == "1-3"
    assert "mental ray" in dialog.renderer_combo.itemText(0)
    assert dialog.submit_button.isEnabled()
    # The farm's choices, read from the real node: its hosts' tags and its limits, as the node lists them.
    qtbot.waitUntil(lambda: dialog.choices is not None, timeout=WAIT)
    client = farm_node_server.client()
    tags = sorted({t for w in client.workers() for t in (w.get("tags") or ())})
    assert [dialog.tags_list.item(i).text() for i in range(dialog.tags_list.count())] == tags
    assert dialog.choices.has_limits is True
    assert dialog.limits_tree.topLevelItemCount() == len(client.limits())
    assert "no host of this farm has tags" in dialog.farm_note.text() and "no limits" in dialog.farm_note.text()
    jobs = [dialog.depends_list.item(i).data(QtCore.Qt.UserRole) for i in range(dialog.depends_list.count())]
    assert first in jobs
    dialog.depends_list.item(jobs.index(first)).setCheckState(QtCore.Qt.Checked)

    name = unique_name("dialog")
    dialog.name_edit.setText(name)
    dialog.priority_spin.setValue(70)
    dialog.attempts_spin.setValue(4)
    dialog.comment_edit.setText("first light")
    with qtbot.waitSignal(dialog.submitted, timeout=WAIT) as sent:
        assert dialog.submit()
        assert not dialog.submit_button.isEnabled()  # while the job travels, on a worker thread
    assert sent.args == [name]
    assert name in dialog.result_label.text()

    panel = MonitorPanel(client=FarmClient(farm_node_server.url, farm_node_server.token), feed_wait=1.0)
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: panel.model.find(name) is not None, timeout=WAIT)
        job = panel.model.find(name)
        assert job.data["priority"] == 70 and job.data["max_attempts"] == 4
        assert job.data["comment"] == "first light" and job.data["depends_on"] == [first]
        assert job.data["user"]  # the submitter's login, always
        assert [s.name for s in job.subjobs] == ["masterLayer"]
        # the panel holds no frames of its own: the frames table pages them from the node (issue 11)
        assert job.subjobs[0].total == 3
        frames = farm_node_server.client().frames(name, "masterLayer")["frames"]
        assert [f["number"] for f in frames] == [1, 2, 3]
        assert frames[0]["command"].startswith("render -r mr -v 5 -proj ")
        qtbot.waitUntil(lambda: panel.model.find(name).data.get("status") == "Complete", timeout=WAIT)
    finally:
        watcher = panel.watcher
        panel.shutdown()
        watcher.join(10)


def test_options_left_at_the_scene_defaults_are_not_passed(qtbot, fake_scene, make_dialog):
    fake_scene("legacy_layers")
    dialog = make_dialog()
    assert list_items(dialog.layers_list) == [("beauty", True), ("shadow", True)]
    assert dialog.frames_edit.placeholderText() == "each layer's own frames"
    assert dialog.options() == {"priority": 50, "frames_per_task": 1, "max_attempts": 3}
    dialog.layers_list.item(1).setCheckState(QtCore.Qt.Unchecked)
    dialog.frames_edit.setText("1-4")
    dialog.chunk_spin.setValue(2)
    dialog.renderer_combo.setCurrentIndex(dialog.renderer_combo.findData("arnold"))
    dialog.paused_check.setChecked(True)
    dialog.timeout_spin.setValue(1800)
    dialog.depends_edit.setText(" sim_v001, ,cache ")
    assert dialog.options() == {"priority": 50, "frames_per_task": 2, "max_attempts": 3, "layers": ["beauty"],
                                "frames": "1-4", "renderer": "arnold", "paused": True, "frame_timeout": 1800,
                                "depends_on": ["sim_v001", "cache"]}


def test_the_scheduling_choices_come_from_the_farm_off_the_gui_thread(qtbot, fake_scene, make_dialog):
    fake_scene("mental_ray_2016")
    farm = CannedFarm(limits={"arnold": {"capacity": 4, "in_use": 1}, "nuke": {"capacity": 2, "in_use": 0}})
    dialog = make_dialog(factory=lambda url, token=None: farm, farm=farm)
    with qtbot.waitSignal(dialog.farm_read, timeout=WAIT):
        pass
    assert sorted(w for w, _ in farm.threads) == ["limits", "summary", "workers"]
    assert not any(on_main for _, on_main in farm.threads)  # every farm call off Maya's main thread
    assert list_items(dialog.tags_list) == [("gpu", False), ("linux", False)]
    assert [dialog.limits_tree.topLevelItem(i).text(0) for i in range(2)] == ["arnold", "nuke"]
    assert dialog.limits_tree.topLevelItem(0).text(2) == "1 of 4"
    # unfinished jobs first, newest first; finished ones after
    assert [dialog.depends_list.item(i).data(QtCore.Qt.UserRole) for i in range(3)] == [
        "cache_v002", "sim_v001", "old_comp"]
    assert dialog.depends_list.item(0).text() == "cache_v002  (Queued)"

    dialog.tags_list.item(0).setCheckState(QtCore.Qt.Checked)
    dialog.limits_tree.topLevelItem(0).setCheckState(0, QtCore.Qt.Checked)
    dialog.limit_units["arnold"].setValue(2)
    dialog.depends_list.item(1).setCheckState(QtCore.Qt.Checked)
    dialog.comment_edit.setText("  hero shot ")
    options = dialog.options()
    assert (options["requires"], options["limits"], options["depends_on"], options["comment"]) == (
        ["gpu"], {"arnold": 2}, ["sim_v001"], "hero shot")

    # Read again: what was ticked stays ticked.
    with qtbot.waitSignal(dialog.farm_read, timeout=WAIT):
        dialog.read_farm_button.click()
    assert dialog.options()["limits"] == {"arnold": 2} and dialog.options()["requires"] == ["gpu"]

    with qtbot.waitSignal(dialog.submitted, timeout=WAIT):
        assert dialog.submit()
    (job,) = farm.sent[-1].values()
    assert (job["requires"], job["limits"], job["depends_on"], job["comment"], job["max_attempts"]) == (
        ["gpu"], {"arnold": 2}, ["sim_v001"], "hero shot", 3)
    assert job["user"]
    assert ("submit", False) in farm.threads


def test_a_big_farm_lists_a_bounded_number_of_jobs(qtbot, fake_scene, make_dialog):
    fake_scene("mental_ray_2016")
    jobs = dict(("job%04d" % i, {"status": "Complete" if i % 2 else "Queued", "submitted": float(i)})
                for i in range(5 * MAX_CHOICES))
    farm = CannedFarm(jobs=jobs, tags=[("t%04d" % i,) for i in range(3 * MAX_CHOICES)])
    dialog = make_dialog(factory=lambda url, token=None: farm, farm=farm)
    with qtbot.waitSignal(dialog.farm_read, timeout=WAIT):
        pass
    assert dialog.depends_list.count() == MAX_CHOICES and dialog.tags_list.count() == MAX_CHOICES
    assert dialog.depends_list.item(0).data(QtCore.Qt.UserRole) == "job0998"  # the newest unfinished one
    assert "200 of its 1000 jobs are listed" in dialog.farm_note.text()


def test_farm_choices_without_tags_or_limits():
    farm = CannedFarm(tags=[(), ()], limits=None, jobs={})
    choices = read_farm_choices(farm)
    assert (choices.tags, choices.limits, choices.jobs, choices.has_limits) == ((), (), (), False)


def test_a_farm_that_cannot_be_read_is_said_and_does_not_block(qtbot, fake_scene, make_dialog):
    fake_scene("mental_ray_2016")

    class Down(CannedFarm):
        def workers(self):
            raise FarmUnavailable("cannot reach the farm node at http://farm:8750: connection refused")

    farm = Down()
    dialog = make_dialog(factory=lambda url, token=None: farm, farm=farm)
    with qtbot.waitSignal(dialog.farm_read, timeout=WAIT):
        pass
    assert "Could not read the farm's tags, limits and jobs: Cannot reach the farm node" in dialog.farm_note.text()
    assert dialog.submit_button.isEnabled()  # the checks of the scene decide, not the farm's lists


def test_preflight_errors_are_shown_and_block_sending(qtbot, fake_scene, make_dialog, farm_node_server):
    fake_scene("untitled")
    farm = CannedFarm(url=farm_node_server.url)
    dialog = make_dialog(factory=lambda url, token=None: farm, farm=farm_node_server)
    assert "untitled" in dialog.check_codes()
    assert rows(dialog)[0][0] == "error"
    assert not dialog.submit_button.isEnabled()
    assert dialog.submit() is False
    assert "fix the errors" in dialog.result_label.text()
    assert farm.sent == []  # nothing sent


def test_checks_follow_the_options_without_reading_the_scene_again(qtbot, fake_scene, make_dialog):
    scene = fake_scene("mental_ray_2016")
    dialog = make_dialog()
    assert "bad_frames" not in dialog.check_codes()
    reads = len(scene.calls)
    dialog.frames_edit.setText("10-1x")
    qtbot.waitUntil(lambda: "bad_frames" in dialog.check_codes(), timeout=WAIT)
    assert not dialog.submit_button.isEnabled()
    dialog.frames_edit.setText("1-2")
    qtbot.waitUntil(lambda: "bad_frames" not in dialog.check_codes(), timeout=WAIT)
    assert dialog.submit_button.isEnabled()
    assert len(scene.calls) == reads  # no Maya call (no layer switching) while the artist types
    dialog.reload_button.click()
    assert len(scene.calls) > reads


def test_every_bad_part_of_the_frame_list_is_named(qtbot, fake_scene, make_dialog):
    fake_scene("mental_ray_2016")
    dialog = make_dialog()
    dialog.frames_edit.setText("1-3, abc, 10-1, x0")
    qtbot.waitUntil(lambda: "bad_frames" in dialog.check_codes(), timeout=WAIT)
    (message,) = [text for _, code, text in rows(dialog) if code == "bad_frames"]
    assert "'abc'" in message and "'10-1'" in message and "'x0'" in message


def test_long_messages_wrap_in_full(qtbot, fake_scene, make_dialog):
    fake_scene("legacy_in_render_setup")
    dialog = make_dialog()
    dialog.resize(420, 760)
    (severity, code, label), = [row for row in dialog.check_rows.rows if row[1] == "legacy_in_render_setup"]
    assert severity == "error"
    assert label.text() == dialog.checks[0].message  # the whole message, no "..."
    assert label.wordWrap()
    line = label.fontMetrics().height()
    qtbot.waitUntil(lambda: label.height() > 3 * line, timeout=WAIT)  # wrapped onto several lines
    viewport = dialog.checks_area.viewport()
    qtbot.waitUntil(lambda: label.geometry().right() <= viewport.width(), timeout=WAIT)


def test_scenes_without_noise_and_names_without_spaces(qtbot, fake_scene, make_dialog):
    fake_scene("legacy_layers")  # its master layer and a WIP layer are switched off
    dialog = make_dialog()
    assert dialog.check_codes() == []
    assert rows(dialog) == [("ok", "", "Nothing to report.")]
    name = dialog.name_edit.placeholderText()
    assert name.startswith("shot010_lighting_v003_") and " " not in name and ":" not in name


def test_v_ray_lists_and_stills_show_what_renders(qtbot, fake_scene, make_dialog):
    fake_scene("vray_specific_frames")
    dialog = make_dialog()
    assert dialog.frames_edit.placeholderText() == "1-3,10"
    assert dialog.check_codes() == ["vray_frames"]
    fake_scene("animation_off")
    dialog.reload_scene()
    assert dialog.frames_edit.placeholderText() == "42 (a still: no frame number)"
    assert dialog.check_codes() == ["still"]
    assert "(frame 42 now" in rows(dialog)[0][2]


def test_the_farms_errors_are_said_in_plain_words(qtbot, fake_scene, make_dialog, farm_node_server, unique_name):
    fake_scene("mental_ray_2016")
    dialog = make_dialog(farm=farm_node_server)
    name = unique_name("taken")
    dialog.name_edit.setText(name)
    with qtbot.waitSignal(dialog.submitted, timeout=WAIT):
        dialog.submit()
    # the same name again: the farm refuses it, the dialog says why
    assert dialog.submit()
    qtbot.waitUntil(lambda: "Not sent" in dialog.result_label.text(), timeout=WAIT)
    assert "another job name" in dialog.result_label.text()
    assert "Traceback" not in dialog.result_label.text()
    # a wrong token
    dialog.token_edit.setText("wrong")
    assert dialog.submit()
    qtbot.waitUntil(lambda: "token" in dialog.result_label.text(), timeout=WAIT)
    # nobody there
    dialog.url_edit.setText("http://127.0.0.1:9")
    assert dialog.submit()
    qtbot.waitUntil(lambda: "cannot reach" in dialog.result_label.text().lower(), timeout=WAIT)
    assert dialog.submit_button.isEnabled()


def test_a_changed_address_reads_the_new_farm(qtbot, fake_scene, make_dialog):
    fake_scene("mental_ray_2016")
    farms = {}

    def factory(url, token=None):
        farms[url] = farms.get(url) or CannedFarm(url=url, tags=[("gpu",)] if "b" in url else [("cpu",)])
        return farms[url]

    dialog = make_dialog(factory=factory)
    assert dialog.choices is None and "Give the farm's address" in dialog.farm_note.text()
    dialog.url_edit.setText("http://farm-a:8750")
    with qtbot.waitSignal(dialog.farm_read, timeout=WAIT):
        dialog.url_edit.editingFinished.emit()
    assert list_items(dialog.tags_list) == [("cpu", False)]
    dialog.url_edit.setText("http://farm-b:8750")
    with qtbot.waitSignal(dialog.farm_read, timeout=WAIT):
        dialog.url_edit.editingFinished.emit()
    assert list_items(dialog.tags_list) == [("gpu", False)]
    asked = dialog._farm_asked
    dialog.url_edit.editingFinished.emit()  # nothing changed: not read again
    assert dialog._farm_asked == asked


def test_the_farm_address_and_token_are_remembered(qtbot, fake_scene, make_dialog, settings):
    fake_scene("mental_ray_2016")
    # A canned farm: a real client would look up the name farm01 and wait out the resolver when the dialog closes.
    dialog = make_dialog(factory=lambda url, token=None: CannedFarm(url=url, token=token))
    assert dialog.url_edit.text() == ""
    dialog.url_edit.setText("http://farm01:8750")
    dialog.token_edit.setText("s3cret")
    dialog.close()
    again = make_dialog(factory=lambda url, token=None: CannedFarm(url=url, token=token))
    assert again.url_edit.text() == "http://farm01:8750"
    assert again.token_edit.text() == "s3cret"
    assert FarmSettings(settings).farm() == ("http://farm01:8750", "s3cret")
