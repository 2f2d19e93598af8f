"""The Submit dialog on fake Maya scenes (tests/fake_maya), read by the real maya_plugin.submit, sent to a REAL node."""
from __future__ import annotations

import pytest

from maya_plugin.farm_client import FarmClient
from maya_plugin.qt import QtCore
from maya_plugin.ui.monitor import MonitorPanel
from maya_plugin.ui.scene_source import MayaSceneSource
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.submit_dialog import SubmitDialog

WAIT = 60000


@pytest.fixture
def fake_scene(tmp_path):
    from maya import _scene, _scenes

    def load(name, **changes):
        spec = _scenes.variant(_scenes.CATALOGUE[name], **changes)
        if spec.get("file"):
            path = tmp_path / "scenes" / spec["file"].rsplit("/", 1)[-1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("//Maya ASCII 2023 scene\n")
            spec["file"] = str(path)
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


def check_codes(dialog):
    return [dialog.checks_tree.topLevelItem(i).data(0, QtCore.Qt.UserRole)
            for i in range(dialog.checks_tree.topLevelItemCount())]


def list_items(widget):
    return [(widget.item(i).text(), widget.item(i).checkState() == QtCore.Qt.Checked) for i in range(widget.count())]


def test_the_dialog_submits_a_fake_scene_and_the_job_appears_in_the_panel(qtbot, fake_scene, make_dialog,
                                                                         farm_node_server, unique_name):
    fake_scene("mental_ray_2016")
    dialog = make_dialog(farm=farm_node_server)
    assert list_items(dialog.layers_list) == [("masterLayer", True)]
    assert ("camera1", True) in list_items(dialog.cameras_list)
    assert dialog.frames_edit.placeholderText() == "1-3"
    assert "mental ray" in dialog.renderer_combo.itemText(0)
    assert dialog.submit_button.isEnabled()
    name = unique_name("dialog")
    dialog.name_edit.setText(name)
    dialog.priority_spin.setValue(70)

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
        assert job.data["priority"] == 70
        assert [s.name for s in job.subjobs] == ["masterLayer"]
        assert [f.number for f in job.subjobs[0].frames] == [1, 2, 3]
        assert job.subjobs[0].frames[0].data["command"].startswith("render -r mr -v 5 -s 1 -e 1 ")
        qtbot.waitUntil(lambda: panel.model.find(name).data.get("status") == "Complete", timeout=WAIT)
    finally:
        watcher = panel.watcher
        panel.shutdown()
        watcher.join(10)


def test_options_left_at_the_scene_defaults_are_not_passed(qtbot, fake_scene, make_dialog):
    fake_scene("legacy_layers")
    dialog = make_dialog()
    assert list_items(dialog.layers_list) == [("beauty", True), ("shadow", True)]
    assert dialog.frames_edit.placeholderText() == "each layer's own range"
    assert dialog.options() == {"priority": 50, "frames_per_task": 1}
    dialog.layers_list.item(1).setCheckState(QtCore.Qt.Unchecked)
    dialog.frames_edit.setText("1-4")
    dialog.chunk_spin.setValue(2)
    dialog.renderer_combo.setCurrentIndex(dialog.renderer_combo.findData("arnold"))
    assert dialog.options() == {"priority": 50, "frames_per_task": 2, "layers": ["beauty"], "frames": "1-4",
                                "renderer": "arnold"}


def test_preflight_errors_are_shown_and_block_sending(qtbot, fake_scene, make_dialog, farm_node_server):
    fake_scene("untitled")
    made = []
    dialog = make_dialog(factory=lambda *a: made.append(a), farm=farm_node_server)
    assert "untitled" in check_codes(dialog)
    severities = [dialog.checks_tree.topLevelItem(i).text(0) for i in range(dialog.checks_tree.topLevelItemCount())]
    assert severities[0] == "error"
    assert not dialog.submit_button.isEnabled()
    assert dialog.submit() is False
    assert "fix the errors" in dialog.result_label.text()
    assert made == []  # no client made, nothing sent


def test_checks_follow_the_options_without_reading_the_scene_again(qtbot, fake_scene, make_dialog):
    scene = fake_scene("mental_ray_2016")
    dialog = make_dialog()
    assert "bad_frames" not in check_codes(dialog)
    reads = len(scene.calls)
    dialog.frames_edit.setText("10-1x")
    qtbot.waitUntil(lambda: "bad_frames" in check_codes(dialog), timeout=WAIT)
    assert not dialog.submit_button.isEnabled()
    dialog.frames_edit.setText("1-2")
    qtbot.waitUntil(lambda: "bad_frames" not in check_codes(dialog), timeout=WAIT)
    assert dialog.submit_button.isEnabled()
    assert len(scene.calls) == reads  # no Maya call (no layer switching) while the artist types
    dialog.reload_button.click()
    assert len(scene.calls) > reads


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


def test_the_farm_address_and_token_are_remembered(qtbot, fake_scene, make_dialog, settings):
    fake_scene("mental_ray_2016")
    dialog = make_dialog()
    assert dialog.url_edit.text() == ""
    dialog.url_edit.setText("http://farm01:8750")
    dialog.token_edit.setText("s3cret")
    dialog.close()
    again = make_dialog()
    assert again.url_edit.text() == "http://farm01:8750"
    assert again.token_edit.text() == "s3cret"
    assert FarmSettings(settings).farm() == ("http://farm01:8750", "s3cret")
