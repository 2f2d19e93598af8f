"""The Submit dialog: what is sent to the farm, the pre-flight checks, and the farm's answer.

    dialog = SubmitDialog(scene_source, client_factory=FarmClient, settings=FarmSettings(), parent=maya_main_window)
    dialog.show()

- The farm address and token are remembered (``FarmSettings``); the rest is read from the scene each time the
  dialog is opened or "Re-read scene" is pressed: layers and cameras as check lists, the renderer, the default frame
  range and job name (as placeholders: a field left empty keeps each layer's own value).
- The pre-flight checks are run on the scene as read (no Maya call) whenever an option changes, shortly after the
  last keystroke, and shown with their severity; an ``error`` disables sending.
- "Submit" reads the scene once more on the GUI thread (it may have been saved since), checks again, then builds and
  sends the job on a worker thread
  (``TaskRunner``). The answer comes back as the job's name, or the farm's error in words; ``submitted(name)`` is
  emitted on success.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from maya_plugin.errors import FarmError, PreflightFailed, SubmitError
from maya_plugin.qt import QtCore, QtGui, QtWidgets, Signal
from maya_plugin.ui.messages import describe_error
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.style import SEVERITY_COLORS
from maya_plugin.ui.tasks import TaskRunner

__all__ = ["SubmitDialog"]

_SCENE_RENDERER = ""  # the renderer combo's first entry: keep the scene's (each layer's) renderer


def _checked(widget: Any) -> List[str]:
    return [widget.item(i).text() for i in range(widget.count())
            if widget.item(i).checkState() == QtCore.Qt.Checked]


class SubmitDialog(QtWidgets.QDialog):
    """Submit the open scene to a farm."""

    #: the name the farm stored the job under
    submitted = Signal(str)

    def __init__(self, source: Any, client_factory: Callable[..., Any], settings: Optional[FarmSettings] = None,
                 parent: Any = None, check_delay_ms: int = 300) -> None:
        super(SubmitDialog, self).__init__(parent)
        self.setObjectName("PyFarmSubmitDialog")
        self.setWindowTitle("PyFarm - Submit to farm")
        self.source = source
        self.client_factory = client_factory
        self.settings = settings or FarmSettings()
        self.runner = TaskRunner(self, max_workers=1, name="pyfarm-submit")
        self.summary = None  # type: Any
        self.snapshot = None  # type: Any
        self.checks = []  # type: List[Any]
        self._default_layers = []  # type: List[str]
        self._default_cameras = []  # type: List[str]
        self._sending = False
        self._build()
        self._check_timer = QtCore.QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(check_delay_ms)
        self._check_timer.timeout.connect(self.run_checks)
        self._connect_changes()
        self.reload_scene()

    # -- building ---------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        url, token = self.settings.farm()
        self.url_edit = QtWidgets.QLineEdit(url)
        self.url_edit.setPlaceholderText("http://farm-node:8750")
        self.token_edit = QtWidgets.QLineEdit(token)
        self.token_edit.setEchoMode(QtWidgets.QLineEdit.Password)
        self.token_edit.setPlaceholderText("the farm's access token")
        farm_box = QtWidgets.QGroupBox("Farm")
        farm_form = QtWidgets.QFormLayout(farm_box)
        farm_form.addRow("Address", self.url_edit)
        farm_form.addRow("Token", self.token_edit)

        self.scene_label = QtWidgets.QLabel()
        self.scene_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.name_edit = QtWidgets.QLineEdit()
        self.frames_edit = QtWidgets.QLineEdit()
        self.frames_edit.setToolTip("A frame list such as 1-100x2,150,200-210. Empty: each layer's render range.")
        self.renderer_combo = QtWidgets.QComboBox()
        self.priority_spin = QtWidgets.QSpinBox()
        self.priority_spin.setRange(0, 100)
        self.priority_spin.setValue(50)
        self.priority_spin.setToolTip("0 to 100; higher renders first")
        self.chunk_spin = QtWidgets.QSpinBox()
        self.chunk_spin.setRange(1, 1000)
        self.chunk_spin.setValue(1)
        self.chunk_spin.setToolTip("How many frames one render process does in a row")
        job_box = QtWidgets.QGroupBox("Job")
        job_form = QtWidgets.QFormLayout(job_box)
        job_form.addRow("Scene", self.scene_label)
        job_form.addRow("Job name", self.name_edit)
        job_form.addRow("Frames", self.frames_edit)
        job_form.addRow("Renderer", self.renderer_combo)
        numbers = QtWidgets.QHBoxLayout()
        numbers.addWidget(self.priority_spin)
        numbers.addWidget(QtWidgets.QLabel("Frames per task"))
        numbers.addWidget(self.chunk_spin)
        numbers.addStretch(1)
        job_form.addRow("Priority", numbers)

        self.layers_list = QtWidgets.QListWidget()
        self.cameras_list = QtWidgets.QListWidget()
        lists = QtWidgets.QHBoxLayout()
        for title, widget in (("Render layers", self.layers_list), ("Cameras", self.cameras_list)):
            box = QtWidgets.QGroupBox(title)
            QtWidgets.QVBoxLayout(box).addWidget(widget)
            widget.setMinimumHeight(80)
            lists.addWidget(box)

        self.checks_tree = QtWidgets.QTreeWidget()
        self.checks_tree.setHeaderLabels(["Severity", "Check"])
        self.checks_tree.setRootIsDecorated(False)
        self.checks_tree.setMinimumHeight(90)
        self.checks_tree.setWordWrap(True)
        checks_box = QtWidgets.QGroupBox("Pre-flight checks")
        QtWidgets.QVBoxLayout(checks_box).addWidget(self.checks_tree)

        self.result_label = QtWidgets.QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.reload_button = QtWidgets.QPushButton("Re-read scene")
        self.reload_button.clicked.connect(self.reload_scene)
        self.submit_button = QtWidgets.QPushButton("Submit")
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        close_button = QtWidgets.QPushButton("Close")
        close_button.clicked.connect(self.close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.reload_button)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(close_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(farm_box)
        layout.addWidget(job_box)
        layout.addLayout(lists)
        layout.addWidget(checks_box, 1)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)
        self.resize(560, 680)

    def _connect_changes(self) -> None:
        for edit in (self.name_edit, self.frames_edit):
            edit.textChanged.connect(self.schedule_checks)
        self.renderer_combo.currentIndexChanged.connect(self.schedule_checks)
        self.priority_spin.valueChanged.connect(self.schedule_checks)
        self.chunk_spin.valueChanged.connect(self.schedule_checks)
        self.layers_list.itemChanged.connect(self.schedule_checks)
        self.cameras_list.itemChanged.connect(self.schedule_checks)

    # -- the scene --------------------------------------------------------------------------------------------------
    def reload_scene(self) -> None:
        """Read the scene again and refill the form (the farm fields and typed values are kept)."""
        try:
            snapshot = self.source.snapshot()
            summary = self.source.describe(snapshot)
        except (SubmitError, FarmError) as exc:
            self._show_result(describe_error(exc), error=True)
            self.submit_button.setEnabled(False)
            return
        self.snapshot = snapshot
        self.summary = summary
        self.scene_label.setText(summary.path or "(untitled scene: save it first)")
        self.name_edit.setPlaceholderText(summary.default_name or "job name")
        self.frames_edit.setPlaceholderText(summary.default_frames or "frames")
        quiet = (self.layers_list, self.cameras_list, self.renderer_combo)
        for widget in quiet:
            widget.blockSignals(True)
        self._fill(self.layers_list, summary.layers)
        self._fill(self.cameras_list, summary.cameras)
        self._default_layers = [name for name, on in summary.layers if on]
        self._default_cameras = [name for name, on in summary.cameras if on]
        self.renderer_combo.clear()
        labels = dict(summary.renderers)
        self.renderer_combo.addItem("Scene's renderer (%s)" % labels.get(summary.renderer, summary.renderer or "?"),
                                    _SCENE_RENDERER)
        for name, label in summary.renderers:
            self.renderer_combo.addItem(label, name)
        for widget in quiet:
            widget.blockSignals(False)
        self.run_checks()

    @staticmethod
    def _fill(widget: Any, items: Any) -> None:
        widget.clear()
        for name, on in items:
            item = QtWidgets.QListWidgetItem(name)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Checked if on else QtCore.Qt.Unchecked)
            widget.addItem(item)

    # -- options ----------------------------------------------------------------------------------------------------
    def options(self) -> Dict[str, Any]:
        """The options for ``job_from_scene``: only what differs from the scene's defaults."""
        options = {"priority": self.priority_spin.value(),
                   "frames_per_task": self.chunk_spin.value()}  # type: Dict[str, Any]
        name = self.name_edit.text().strip()
        if name:
            options["name"] = name
        frames = self.frames_edit.text().strip()
        if frames:
            options["frames"] = frames
        renderer = self.renderer_combo.currentData()
        if renderer:
            options["renderer"] = renderer
        layers = _checked(self.layers_list)
        if layers != self._default_layers:
            options["layers"] = layers
        cameras = _checked(self.cameras_list)
        if cameras != self._default_cameras:
            options["cameras"] = cameras
        return options

    def farm(self) -> Any:
        return self.url_edit.text().strip(), self.token_edit.text().strip()

    # -- checks -----------------------------------------------------------------------------------------------------
    def schedule_checks(self, *args: Any) -> None:
        self._check_timer.start()

    def run_checks(self) -> List[Any]:
        """Run the pre-flight checks now and show them; returns them."""
        self._check_timer.stop()
        if self.snapshot is None:
            return []
        try:
            checks = list(self.source.preflight(self.snapshot, **self.options()))
        except (SubmitError, FarmError) as exc:
            self._show_result(describe_error(exc), error=True)
            checks = []
        self._show_checks(checks)
        return checks

    def _show_checks(self, checks: List[Any]) -> None:
        self.checks = checks
        self.checks_tree.clear()
        for check in checks:
            item = QtWidgets.QTreeWidgetItem([check.severity, check.message])
            color = QtGui.QColor(SEVERITY_COLORS.get(check.severity, "#9aa0a8"))
            item.setForeground(0, color)
            item.setToolTip(1, "%s: %s" % (check.code, check.message))
            item.setData(0, QtCore.Qt.UserRole, check.code)
            self.checks_tree.addTopLevelItem(item)
        if not checks:
            self.checks_tree.addTopLevelItem(QtWidgets.QTreeWidgetItem(["ok", "Nothing to report."]))
        self.checks_tree.resizeColumnToContents(0)
        self.submit_button.setEnabled(not self._sending and not self.blocking())

    def blocking(self) -> List[Any]:
        return [c for c in self.checks if c.severity == "error"]

    # -- sending ----------------------------------------------------------------------------------------------------
    def submit(self) -> bool:
        """Check, then send the job off the GUI thread. False when nothing was sent."""
        if self._sending:
            return False
        url, token = self.farm()
        if not url:
            self._show_result("Give the farm's address first (ask whoever runs the farm).", error=True)
            self.url_edit.setFocus()
            return False
        self.settings.set_farm(url, token)
        options = self.options()
        try:
            snapshot = self.snapshot = self.source.snapshot()
            self._show_checks(list(self.source.preflight(snapshot, **options)))
        except (SubmitError, FarmError) as exc:
            self._show_result(describe_error(exc), error=True)
            return False
        if self.blocking():
            self._show_result("Not sent: fix the errors listed above first.", error=True)
            return False
        try:
            client = self.client_factory(url, token or None)
        except (FarmError, ValueError) as exc:
            self._show_result(describe_error(exc), error=True)
            return False
        self._set_sending(True)
        self._show_result("Sending the job to %s ..." % url)
        self.runner.submit(self.source.submit, client, snapshot, on_done=self._sent, on_error=self._failed,
                           **options)
        return True

    def _set_sending(self, sending: bool) -> None:
        self._sending = sending
        self.submit_button.setEnabled(not sending and not self.blocking())
        self.reload_button.setEnabled(not sending)

    def _sent(self, name: str) -> None:
        self._set_sending(False)
        self._show_result("Submitted: the farm queued the job \"%s\"." % name)
        self.submitted.emit(name)

    def _failed(self, exc: BaseException) -> None:
        self._set_sending(False)
        if isinstance(exc, PreflightFailed) and exc.checks:
            self._show_checks(exc.checks)
        self._show_result("Not sent. " + describe_error(exc), error=True)

    def _show_result(self, text: str, error: bool = False) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet("color: %s;" % SEVERITY_COLORS["error"] if error else "")

    def closeEvent(self, event: Any) -> None:
        self.settings.set_farm(*self.farm())
        super(SubmitDialog, self).closeEvent(event)

    def shutdown(self) -> None:
        """Stop delivering answers (the plug-in is unloading)."""
        self.runner.shutdown()
