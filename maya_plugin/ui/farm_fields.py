"""The Submit dialog's scheduling fields (CONTRACT section 6) and the farm's choices for them.

    fields = FarmFields(runner)                 # the dialog's TaskRunner: the farm is read off the GUI thread
    fields.read(client)                         # the hosts' tags, the limits, the jobs; ``read`` when they are shown
    fields.options()                            # requires, limits, depends_on, paused, comment, frame_timeout

- Required host tags, limits with their units, jobs to depend on (ticked, or typed), submit paused, comment, max
  attempts, frame timeout. ``changed`` is emitted when any of them changes.
- The choices come from the farm (``read_farm_choices``, on a worker thread); what was ticked stays ticked when they
  are read again; an answer older than the latest read asked for is dropped. A farm without limits
  (``GET /api/limits`` answers 404) offers none, quietly. What the lists show is bounded (``MAX_CHOICES``).
"""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from maya_plugin.errors import FarmNotFound
from maya_plugin.qt import QtCore, QtWidgets, Signal
from maya_plugin.ui.messages import describe_error

__all__ = ["FarmFields", "FarmChoices", "read_farm_choices", "MAX_CHOICES", "DEFAULT_MAX_ATTEMPTS",
           "checked_values", "add_checkable", "NO_FARM_NOTE"]

#: At most this many tags, limits and jobs are offered (the rest can be typed): the GUI thread's work stays bounded.
MAX_CHOICES = 200
#: The farm's default attempts per frame (CONTRACT section 1), shown and sent as such.
DEFAULT_MAX_ATTEMPTS = 3
#: What the note says while there is no farm address.
NO_FARM_NOTE = "Give the farm's address to choose tags, limits and jobs to wait for."
_FINISHED = ("Complete", "Cancelled")


class FarmChoices(NamedTuple):
    """What the farm offers the scheduling fields, already sorted and bounded (made on a worker thread)."""

    tags: Tuple[str, ...]  # every tag some host has
    limits: Tuple[Tuple[str, int, int], ...]  # (name, capacity, in use)
    jobs: Tuple[Tuple[str, str], ...]  # (name, status): unfinished first, then the newest
    job_count: int  # jobs on the farm, of which ``jobs`` shows at most MAX_CHOICES
    has_limits: bool  # False: this farm has no limits route (404)


def read_farm_choices(client: Any) -> FarmChoices:
    """The hosts' tags, the limits and the jobs of the farm, through ``client`` (network: never on the GUI thread).

    Workers without a ``tags`` key have none (older nodes); ``FarmNotFound`` from ``limits()`` means the farm has no
    limits. Other FarmErrors are raised.
    """
    tags = set()  # type: set
    for worker in client.workers():
        for tag in worker.get("tags") or ():
            if isinstance(tag, str) and tag:
                tags.add(tag)
    has_limits = True
    try:
        limits = client.limits()
    except FarmNotFound:
        limits, has_limits = {}, False
    limit_rows = []
    for name, limit in sorted(limits.items()):
        limit = limit if isinstance(limit, dict) else {}
        limit_rows.append((str(name), int(limit.get("capacity") or 0), int(limit.get("in_use") or 0)))
    jobs = (client.summary() or {}).get("jobs") or {}
    ranked = sorted(jobs.items(), key=lambda kv: (kv[1].get("status") in _FINISHED,
                                                  -float(kv[1].get("submitted") or 0), kv[0]))
    return FarmChoices(tags=tuple(sorted(tags)[:MAX_CHOICES]), limits=tuple(limit_rows[:MAX_CHOICES]),
                       jobs=tuple((name, str(job.get("status") or "")) for name, job in ranked[:MAX_CHOICES]),
                       job_count=len(jobs), has_limits=has_limits)


def checked_values(widget: Any) -> List[str]:
    """The values (else the texts) of a check list's ticked items, in order."""
    return [widget.item(i).data(QtCore.Qt.UserRole) or widget.item(i).text() for i in range(widget.count())
            if widget.item(i).checkState() == QtCore.Qt.Checked]


def add_checkable(widget: Any, text: str, value: str, on: bool) -> Any:
    """A checkable item showing ``text`` for ``value``, added to a check list."""
    item = QtWidgets.QListWidgetItem(text)
    item.setData(QtCore.Qt.UserRole, value)
    item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
    item.setCheckState(QtCore.Qt.Checked if on else QtCore.Qt.Unchecked)
    widget.addItem(item)
    return item


class FarmFields(QtWidgets.QWidget):
    """The scheduling tab: its fields, the farm's choices for them, and the options they make."""

    #: a field changed (the dialog runs its checks again)
    changed = Signal()
    #: the farm's choices arrived (or could not be read) and the fields were filled
    read_done = Signal()

    def __init__(self, runner: Any, parent: Any = None) -> None:
        super(FarmFields, self).__init__(parent)
        self.runner = runner
        self.choices = None  # type: Optional[FarmChoices]
        self.limit_units = {}  # type: Dict[str, Any]
        self.asked = 0  # the latest farm read asked for; older answers are dropped
        self._build()
        self._connect_changes()

    def _build(self) -> None:
        self.tags_list = QtWidgets.QListWidget()
        self.tags_list.setToolTip("The job's frames go only to hosts that have every tag ticked")
        self.limits_tree = QtWidgets.QTreeWidget()
        self.limits_tree.setHeaderLabels(["Limit", "Units", "In use"])
        self.limits_tree.setRootIsDecorated(False)
        self.limits_tree.setToolTip("Each rendering frame holds this many units of the limits ticked")
        self.depends_list = QtWidgets.QListWidget()
        self.depends_list.setToolTip("The job starts when every job ticked is Complete")
        self.depends_edit = QtWidgets.QLineEdit()
        self.depends_edit.setPlaceholderText("other jobs to wait for: names, comma-separated")
        self.paused_check = QtWidgets.QCheckBox("Submit paused")
        self.comment_edit = QtWidgets.QLineEdit()
        self.comment_edit.setPlaceholderText("a note for the wranglers")
        self.attempts_spin = QtWidgets.QSpinBox()
        self.attempts_spin.setRange(1, 1000)
        self.attempts_spin.setValue(DEFAULT_MAX_ATTEMPTS)
        self.attempts_spin.setToolTip("How many times a frame is tried before it is Failed")
        self.timeout_spin = QtWidgets.QSpinBox()
        self.timeout_spin.setRange(0, 7 * 24 * 3600)
        self.timeout_spin.setSingleStep(60)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setSpecialValueText("none")
        self.timeout_spin.setToolTip("A frame rendering longer than this is stopped and counts as failed")
        self.farm_note = QtWidgets.QLabel(NO_FARM_NOTE)
        self.farm_note.setWordWrap(True)
        for widget in (self.tags_list, self.limits_tree, self.depends_list):
            widget.setMinimumHeight(60)

        form = QtWidgets.QFormLayout(self)
        form.addRow(self.farm_note)
        form.addRow("Required tags", self.tags_list)
        form.addRow("Limits", self.limits_tree)
        depends = QtWidgets.QVBoxLayout()
        depends.addWidget(self.depends_list)
        depends.addWidget(self.depends_edit)
        form.addRow("Depends on", depends)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.paused_check)
        row.addStretch(1)
        row.addWidget(QtWidgets.QLabel("Max attempts"))
        row.addWidget(self.attempts_spin)
        row.addWidget(QtWidgets.QLabel("Frame timeout"))
        row.addWidget(self.timeout_spin)
        form.addRow(row)
        form.addRow("Comment", self.comment_edit)

    def _connect_changes(self) -> None:
        for edit in (self.comment_edit, self.depends_edit):
            edit.textChanged.connect(self._changed)
        for spin in (self.attempts_spin, self.timeout_spin):
            spin.valueChanged.connect(self._changed)
        for widget in (self.tags_list, self.depends_list):
            widget.itemChanged.connect(self._changed)
        self.limits_tree.itemChanged.connect(self._changed)
        self.paused_check.toggled.connect(self._changed)

    def _changed(self, *args: Any) -> None:
        self.changed.emit()

    # -- the farm's choices -----------------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Show ``text`` in the note above the fields (why there are no choices, or what is being read)."""
        self.farm_note.setText(text)

    def read(self, client: Any) -> None:
        """Ask the farm behind ``client`` for its tags, limits and jobs, off the GUI thread."""
        self.asked += 1
        asked = self.asked
        self.say("Reading the farm's host tags, limits and jobs ...")
        self.runner.submit(read_farm_choices, client, on_done=lambda got: self._answered(asked, got),
                           on_error=lambda exc: self._failed(asked, exc))

    def _answered(self, asked: int, choices: FarmChoices) -> None:
        if asked != self.asked:
            return
        self.choices = choices
        keep_tags = set(checked_values(self.tags_list))
        keep_jobs = set(checked_values(self.depends_list))
        keep_limits = self.chosen_limits()
        for widget in (self.tags_list, self.depends_list, self.limits_tree):
            widget.blockSignals(True)
        self.tags_list.clear()
        for tag in choices.tags:
            add_checkable(self.tags_list, tag, tag, tag in keep_tags)
        self.depends_list.clear()
        for name, status in choices.jobs:
            add_checkable(self.depends_list, "%s  (%s)" % (name, status) if status else name, name,
                          name in keep_jobs)
        self.limits_tree.clear()
        self.limit_units = {}
        for name, capacity, in_use in choices.limits:
            item = QtWidgets.QTreeWidgetItem([name, "", "%d of %d" % (in_use, capacity)])
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(0, QtCore.Qt.Checked if name in keep_limits else QtCore.Qt.Unchecked)
            item.setData(0, QtCore.Qt.UserRole, name)
            self.limits_tree.addTopLevelItem(item)
            units = QtWidgets.QSpinBox()
            units.setRange(1, max(1, capacity) if capacity else 1000)
            units.setValue(keep_limits.get(name, 1))
            units.valueChanged.connect(self._changed)
            self.limits_tree.setItemWidget(item, 1, units)
            self.limit_units[name] = units
        for widget in (self.tags_list, self.depends_list, self.limits_tree):
            widget.blockSignals(False)
        notes = []
        if not choices.tags:
            notes.append("no host of this farm has tags")
        if not choices.limits:
            notes.append("it has no limits")
        if choices.job_count > len(choices.jobs):
            notes.append("%d of its %d jobs are listed (unfinished and newest first): type others below"
                         % (len(choices.jobs), choices.job_count))
        self.say(("Choices read from the farm: %s." % "; ".join(notes)) if notes else "Choices read from the farm.")
        self.changed.emit()
        self.read_done.emit()

    def _failed(self, asked: int, exc: BaseException) -> None:
        if asked != self.asked:
            return
        self.choices = None
        self.say(describe_error(exc, "read the farm's tags, limits and jobs"))
        self.read_done.emit()

    # -- options ----------------------------------------------------------------------------------------------------
    def chosen_limits(self) -> Dict[str, int]:
        chosen = {}  # type: Dict[str, int]
        for i in range(self.limits_tree.topLevelItemCount()):
            item = self.limits_tree.topLevelItem(i)
            if item.checkState(0) == QtCore.Qt.Checked:
                name = item.data(0, QtCore.Qt.UserRole)
                chosen[name] = self.limit_units[name].value() if name in self.limit_units else 1
        return chosen

    def options(self) -> Dict[str, Any]:
        """The scheduling options that differ from the farm's defaults, except ``max_attempts`` (always sent)."""
        options = {}  # type: Dict[str, Any]
        tags = checked_values(self.tags_list)
        if tags:
            options["requires"] = tags
        limits = self.chosen_limits()
        if limits:
            options["limits"] = limits
        depends = checked_values(self.depends_list)
        for typed in self.depends_edit.text().split(","):
            if typed.strip() and typed.strip() not in depends:
                depends.append(typed.strip())
        if depends:
            options["depends_on"] = depends
        if self.paused_check.isChecked():
            options["paused"] = True
        comment = self.comment_edit.text().strip()
        if comment:
            options["comment"] = comment
        if self.timeout_spin.value() > 0:
            options["frame_timeout"] = self.timeout_spin.value()
        return options
