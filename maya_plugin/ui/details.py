"""A job's details: what it renders and who sent it, why it waits, the hosts it blocklisted, its priority.

Shown from the job's head as the summary and the feed bring it (keys a farm does not send show empty). The panel
reads the head again when a job is selected (``client.job(name, frames=False)``, off the GUI thread), since why a
job waits can change without the job itself changing. The two actions are signals the panel carries out.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from maya_plugin.qt import QtCore, QtWidgets, Signal
from maya_plugin.ui.columns import format_time

__all__ = ["JobDetails", "DETAIL_FIELDS"]


def _words(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, dict):
        return ", ".join("%s: %s" % (k, v) for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


#: (label, how a job's head shows it)
DETAIL_FIELDS = (
    ("Status", lambda d: _words(d.get("status"))),
    ("User", lambda d: _words(d.get("user"))),
    ("Scene", lambda d: _words(d.get("scene"))),
    ("Renderer", lambda d: _words(d.get("renderer"))),
    ("Submitted", lambda d: format_time(d.get("submitted")) if d.get("submitted") else ""),
    ("Comment", lambda d: _words(d.get("comment"))),
    ("Depends on", lambda d: _words(d.get("depends_on"))),
    ("Requires", lambda d: _words(d.get("requires"))),
    ("Limits", lambda d: _words(d.get("limits"))),
    ("Waiting for", lambda d: _words(d.get("waiting_for"))),
    ("Output", lambda d: _words(d.get("output"))),
)


class JobDetails(QtWidgets.QWidget):
    """The selected job's head, with Set priority and Clear blocklist."""

    #: (job, priority): the wrangler asked for a new priority
    priorityWanted = Signal(str, int)
    #: job: the wrangler asked to clear its blocklist
    clearWanted = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super(JobDetails, self).__init__(parent)
        self.job = None  # type: Optional[str]
        self.data = {}  # type: Dict[str, Any]
        self.name_label = QtWidgets.QLabel("Select a job to see its details.")
        self.name_label.setObjectName("PyFarmJobName")
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.ExpandingFieldsGrow)
        self.values = {}  # type: Dict[str, Any]
        for label, _ in DETAIL_FIELDS:
            value = QtWidgets.QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
            self.values[label] = value
            form.addRow(label, value)
        self.priority = QtWidgets.QSpinBox()
        self.priority.setRange(0, 100)
        self.set_priority = QtWidgets.QPushButton("Set")
        self.set_priority.setToolTip("Change the job's priority (0 to 100, higher renders first)")
        self.set_priority.clicked.connect(self._priority_clicked)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.priority)
        row.addWidget(self.set_priority)
        row.addStretch(1)
        form.addRow("Priority", row)
        self.blocklist = QtWidgets.QLabel()
        self.blocklist.setWordWrap(True)
        self.clear_button = QtWidgets.QPushButton("Clear")
        self.clear_button.setToolTip("Let the blocklisted hosts render this job again")
        self.clear_button.clicked.connect(self._clear_clicked)
        block = QtWidgets.QHBoxLayout()
        block.addWidget(self.blocklist, 1)
        block.addWidget(self.clear_button)
        form.addRow("Blocklist", block)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.name_label)
        layout.addLayout(form)
        layout.addStretch(1)
        self.show_job(None)

    def show_job(self, name: Optional[str], data: Optional[Dict[str, Any]] = None) -> None:
        """Show job ``name``'s head (None: nothing selected)."""
        changed_job = name != self.job
        self.job = name
        self.data = dict(data or {})
        self.name_label.setText(name or "Select a job to see its details.")
        for label, show in DETAIL_FIELDS:
            self.values[label].setText(show(self.data) if name else "")
        blocked = self.blocked_hosts()
        self.blocklist.setText(", ".join(blocked) if blocked else ("none" if name else ""))
        self.clear_button.setEnabled(bool(name and blocked))
        self.set_priority.setEnabled(bool(name))
        self.priority.setEnabled(bool(name))
        if changed_job or not self.priority.hasFocus():
            try:
                self.priority.setValue(int(self.data.get("priority", 50)))
            except (TypeError, ValueError):
                self.priority.setValue(50)

    def blocked_hosts(self) -> List[str]:
        value = self.data.get("blocklist") or []
        return [str(h) for h in value] if isinstance(value, (list, tuple)) else [str(value)]

    def _priority_clicked(self) -> None:
        if self.job:
            self.priorityWanted.emit(self.job, int(self.priority.value()))

    def _clear_clicked(self) -> None:
        if self.job:
            self.clearWanted.emit(self.job)
