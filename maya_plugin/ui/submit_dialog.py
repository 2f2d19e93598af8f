"""The Submit dialog: what is sent to the farm, the pre-flight checks, and the farm's answer.

    dialog = SubmitDialog(scene_source, client_factory=FarmClient, settings=FarmSettings(), parent=maya_main_window)
    dialog.show()

- The farm address and token are remembered (``FarmSettings``); the rest is read from the scene each time the
  dialog is opened or "Re-read scene" is pressed: layers and cameras as check lists, the renderer, the default frame
  range and job name (as placeholders: a field left empty keeps each layer's own value).
- Scheduling (CONTRACT section 6; the ``FarmFields`` tab of farm_fields.py): required host tags, limits with their
  units, jobs to depend on, submit paused, comment, max attempts, frame timeout. The choices come from the farm
  (``read_farm_choices``: the hosts' tags, the limits, the jobs), read on a worker thread when the dialog opens with
  an address, when "Read farm" is pressed and when the address or token changes. A farm without limits
  (``GET /api/limits`` answers 404) offers none, quietly. What the lists show is bounded (``MAX_CHOICES``): the GUI
  thread never does work that grows with the farm.
- The pre-flight checks are run on the scene as read (no Maya call) whenever an option changes, shortly after the
  last keystroke, and shown with their severity, each message wrapped in full; an ``error`` disables sending.
- "Submit" reads the scene once more on the GUI thread (it may have been saved since), checks again, then builds and
  sends the job on a worker thread (``TaskRunner``). The answer comes back as the job's name, or the farm's error in
  words; ``submitted(name)`` is emitted on success. The job carries the submitter's login (``user``).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from maya_plugin.errors import FarmError, PreflightFailed, SubmitError
from maya_plugin.qt import QtCore, QtWidgets, Signal
from maya_plugin.ui.farm_fields import (DEFAULT_MAX_ATTEMPTS, MAX_CHOICES, NO_FARM_NOTE, FarmChoices, FarmFields,
                                        add_checkable, checked_values, read_farm_choices)
from maya_plugin.ui.messages import describe_error
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.style import SEVERITY_COLORS
from maya_plugin.ui.tasks import TaskRunner

__all__ = ["SubmitDialog", "FarmChoices", "read_farm_choices", "MAX_CHOICES", "DEFAULT_MAX_ATTEMPTS"]

_SCENE_RENDERER = ""  # the renderer combo's first entry: keep the scene's (each layer's) renderer


class _CheckRows(QtWidgets.QWidget):
    """The pre-flight findings, one row each: the severity, then the whole message wrapped to the width."""

    def __init__(self, parent: Any = None) -> None:
        super(_CheckRows, self).__init__(parent)
        self.rows = []  # type: List[Tuple[str, str, Any]]
        self._layout = QtWidgets.QGridLayout(self)
        self._layout.setColumnStretch(1, 1)
        self._layout.setAlignment(QtCore.Qt.AlignTop)

    def show_checks(self, checks: List[Any]) -> None:
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.rows = []
        shown = [(c.severity, c.code, c.message) for c in checks] or [("ok", "", "Nothing to report.")]
        for row, (severity, code, message) in enumerate(shown):
            badge = QtWidgets.QLabel(severity)
            badge.setStyleSheet("color: %s; font-weight: bold;" % SEVERITY_COLORS.get(severity, "#9aa0a8"))
            badge.setAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignTop)
            text = QtWidgets.QLabel(message)
            text.setWordWrap(True)
            text.setTextFormat(QtCore.Qt.PlainText)
            text.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
            text.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Preferred)
            if code:
                text.setToolTip(code)
            self._layout.addWidget(badge, row, 0)
            self._layout.addWidget(text, row, 1)
            self.rows.append((severity, code, text))


class SubmitDialog(QtWidgets.QDialog):
    """Submit the open scene to a farm."""

    #: the name the farm stored the job under
    submitted = Signal(str)
    #: the farm's choices arrived (or could not be read) and the scheduling fields were filled
    farm_read = Signal()

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
        self._farm_read_for = None  # type: Optional[Tuple[str, str]]
        self._build()
        self._check_timer = QtCore.QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(check_delay_ms)
        self._check_timer.timeout.connect(self.run_checks)
        self._connect_changes()
        self.reload_scene()
        if self.farm()[0]:
            self.read_farm()

    # -- the farm's choices, as the scheduling fields hold them --------------------------------------------------------
    @property
    def choices(self) -> Optional[FarmChoices]:
        return self.farm_fields.choices

    @property
    def limit_units(self) -> Dict[str, Any]:
        return self.farm_fields.limit_units

    @property
    def _farm_asked(self) -> int:
        return self.farm_fields.asked

    # -- building ---------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        url, token = self.settings.farm()
        self.url_edit = QtWidgets.QLineEdit(url)
        self.url_edit.setPlaceholderText("http://farm-node:8750")
        self.token_edit = QtWidgets.QLineEdit(token)
        self.token_edit.setEchoMode(QtWidgets.QLineEdit.Password)
        self.token_edit.setPlaceholderText("the farm's access token")
        self.read_farm_button = QtWidgets.QPushButton("Read farm")
        self.read_farm_button.setToolTip("Read the farm's host tags, limits and jobs again")
        self.read_farm_button.clicked.connect(self.read_farm)
        token_row = QtWidgets.QHBoxLayout()
        token_row.addWidget(self.token_edit, 1)
        token_row.addWidget(self.read_farm_button)
        farm_box = QtWidgets.QGroupBox("Farm")
        farm_form = QtWidgets.QFormLayout(farm_box)
        farm_form.addRow("Address", self.url_edit)
        farm_form.addRow("Token", token_row)

        self.scene_label = QtWidgets.QLabel()
        self.scene_label.setWordWrap(True)
        self.scene_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.name_edit = QtWidgets.QLineEdit()
        self.frames_edit = QtWidgets.QLineEdit()
        self.frames_edit.setToolTip("A frame list such as 1-100x2,150,200-210. Empty: each layer's own frames.")
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
        scene_tab = QtWidgets.QWidget()
        lists = QtWidgets.QHBoxLayout(scene_tab)
        for title, widget in (("Render layers", self.layers_list), ("Cameras", self.cameras_list)):
            box = QtWidgets.QGroupBox(title)
            QtWidgets.QVBoxLayout(box).addWidget(widget)
            widget.setMinimumHeight(80)
            lists.addWidget(box)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(scene_tab, "Layers and cameras")
        self.farm_fields = FarmFields(self.runner)
        self.farm_fields.read_done.connect(self.farm_read)
        # the scheduling widgets, by the names the dialog has always had
        self.tags_list = self.farm_fields.tags_list
        self.limits_tree = self.farm_fields.limits_tree
        self.depends_list = self.farm_fields.depends_list
        self.depends_edit = self.farm_fields.depends_edit
        self.paused_check = self.farm_fields.paused_check
        self.comment_edit = self.farm_fields.comment_edit
        self.attempts_spin = self.farm_fields.attempts_spin
        self.timeout_spin = self.farm_fields.timeout_spin
        self.farm_note = self.farm_fields.farm_note
        self.tabs.addTab(self.farm_fields, "Scheduling")

        self.check_rows = _CheckRows()
        self.checks_area = QtWidgets.QScrollArea()
        self.checks_area.setWidgetResizable(True)
        self.checks_area.setWidget(self.check_rows)
        self.checks_area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.checks_area.setMinimumHeight(120)
        checks_box = QtWidgets.QGroupBox("Pre-flight checks")
        QtWidgets.QVBoxLayout(checks_box).addWidget(self.checks_area)

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
        layout.addWidget(self.tabs, 1)
        layout.addWidget(checks_box, 1)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)
        self.resize(600, 760)

    def _connect_changes(self) -> None:
        for edit in (self.name_edit, self.frames_edit):
            edit.textChanged.connect(self.schedule_checks)
        self.renderer_combo.currentIndexChanged.connect(self.schedule_checks)
        for spin in (self.priority_spin, self.chunk_spin):
            spin.valueChanged.connect(self.schedule_checks)
        for widget in (self.layers_list, self.cameras_list):
            widget.itemChanged.connect(self.schedule_checks)
        self.farm_fields.changed.connect(self.schedule_checks)
        self.url_edit.editingFinished.connect(self._farm_changed)
        self.token_edit.editingFinished.connect(self._farm_changed)

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
            add_checkable(widget, name, name, on)

    # -- the farm's choices -----------------------------------------------------------------------------------------
    def read_farm(self) -> bool:
        """Ask the farm for its tags, limits and jobs, off the GUI thread. False when there is no address."""
        url, token = self.farm()
        if not url:
            self.farm_fields.say(NO_FARM_NOTE)
            return False
        try:
            client = self.client_factory(url, token or None)
        except (FarmError, ValueError) as exc:
            self.farm_fields.say(describe_error(exc, "read the farm"))
            return False
        self._farm_read_for = (url, token)
        self.farm_fields.read(client)
        return True

    def _farm_changed(self) -> None:
        if self.farm() != self._farm_read_for:
            self.read_farm()

    def chosen_limits(self) -> Dict[str, int]:
        return self.farm_fields.chosen_limits()

    # -- options ----------------------------------------------------------------------------------------------------
    def options(self) -> Dict[str, Any]:
        """The options for ``job_from_scene``: what differs from the scene's defaults, and the scheduling fields."""
        options = {"priority": self.priority_spin.value(), "frames_per_task": self.chunk_spin.value(),
                   "max_attempts": self.farm_fields.attempts_spin.value()}  # type: Dict[str, Any]
        name = self.name_edit.text().strip()
        if name:
            options["name"] = name
        frames = self.frames_edit.text().strip()
        if frames:
            options["frames"] = frames
        renderer = self.renderer_combo.currentData()
        if renderer:
            options["renderer"] = renderer
        layers = checked_values(self.layers_list)
        if layers != self._default_layers:
            options["layers"] = layers
        cameras = checked_values(self.cameras_list)
        if cameras != self._default_cameras:
            options["cameras"] = cameras
        options.update(self.farm_fields.options())
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
        self.check_rows.show_checks(checks)
        self.submit_button.setEnabled(not self._sending and not self.blocking())

    def check_codes(self) -> List[str]:
        """The codes of the findings shown, in order."""
        return [code for _severity, code, _label in self.check_rows.rows if code]

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
