"""The Monitor panel: the farm's jobs, subjobs and frames, live; the log of a frame; the hosts; actions.

    panel = MonitorPanel(client=FarmClient(url, token))            # or client_factory=FarmClient, settings=...
    panel.show()                                                   # a top-level window, or docked by maya_ui

Threads: the changes feed is long-polled by a ``FeedWatcher`` thread; every other call to the farm (actions, logs,
hosts, queue backup and restore, and the files these read and write) runs on the panel's ``TaskRunner`` pool. Their
results come back by queued signals and are applied on the GUI thread: the model incrementally (``JobTreeModel``),
the rest as small widget updates. Nothing here blocks the GUI thread on the network or the disk.

When the farm stops answering a banner says so; the feed keeps trying and the banner goes away by itself when the
node answers again (the queue is then re-read and applied as a difference, without a reset).

Hooks for the few things that need a person or the desktop, replaced by tests: ``confirm(text) -> bool``,
``ask_save_path()``, ``ask_open_path()``, ``open_url(QUrl)``.
"""
from __future__ import annotations

import os
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

from maya_plugin.errors import FarmConflict, FarmError
from maya_plugin.qt import QAction, QtCore, QtGui, QtWidgets, Signal
from maya_plugin.ui.delegates import ProgressDelegate
from maya_plugin.ui.feed import FeedWatcher
from maya_plugin.ui.hosts import HostsView
from maya_plugin.ui.log_view import LogView
from maya_plugin.ui.messages import describe_error
from maya_plugin.ui.model import (COL_ATTEMPTS, COL_ELAPSED, COL_HOST, COL_NAME, COL_PID, COL_PRIORITY, COL_PROGRESS,
                                  COL_STATUS, NODE_ROLE, JobTreeModel)
from maya_plugin.ui.nodes import KIND_FRAME, FrameNode, JobNode
from maya_plugin.ui.proxy import StatusFilterProxy
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.style import SEVERITY_COLORS, STATUSES
from maya_plugin.ui.tasks import TaskRunner

__all__ = ["MonitorPanel"]


def _save_queue(client: Any, path: str) -> int:
    data = client.backup_xml()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _load_queue(client: Any, path: str, replace: bool = False) -> List[str]:
    with open(path, "rb") as f:
        data = f.read()
    if replace:
        return list(client.restore_xml(data, replace=True))
    return list(client.restore_xml(data))


class MonitorPanel(QtWidgets.QWidget):
    """Everything the artist watches and does on the farm; the same widget docked in Maya or as a window."""

    #: a line for the status bar: (text, is_error)
    message = Signal(str, bool)

    def __init__(self, client: Any = None, client_factory: Optional[Callable[..., Any]] = None,
                 settings: Optional[FarmSettings] = None, parent: Any = None, feed_wait: float = 20.0,
                 hosts_poll_ms: int = 5000, log_poll_ms: int = 1000, clock: Callable[[], float] = time.time) -> None:
        super(MonitorPanel, self).__init__(parent)
        self.setObjectName("PyFarmMonitor")
        self.setWindowTitle("PyFarm Monitor")
        self.client = None  # type: Any
        self.client_factory = client_factory
        self.settings = settings
        self.feed_wait = feed_wait
        self.watcher = None  # type: Optional[FeedWatcher]
        self.reachable = None  # type: Optional[bool]
        self.runner = TaskRunner(self, max_workers=4, name="pyfarm-monitor")
        self.runner.failed.connect(lambda exc: self._say(describe_error(exc), True))
        self.model = JobTreeModel(self, clock=clock)
        self.proxy = StatusFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._hosts_busy = False
        self.hosts_error = ""
        self._build(log_poll_ms, clock)
        self.model.summaryChanged.connect(self._update_summary)
        self.tick_timer = QtCore.QTimer(self)
        self.tick_timer.setInterval(1000)
        self.tick_timer.timeout.connect(self.model.tick)
        self.tick_timer.start()
        self.hosts_timer = QtCore.QTimer(self)
        self.hosts_timer.setInterval(hosts_poll_ms)
        self.hosts_timer.timeout.connect(self.refresh_hosts)
        self.hosts_timer.start()
        if client is not None:
            self.set_client(client)
        elif client_factory is not None and settings is not None and settings.farm()[0]:
            self.connect_to(*settings.farm())
        self._update_actions()

    # -- building ---------------------------------------------------------------------------------------------------
    def _build(self, log_poll_ms: int, clock: Callable[[], float]) -> None:
        self.url_edit = QtWidgets.QLineEdit()
        self.url_edit.setPlaceholderText("farm address, e.g. http://farm-node:8750")
        self.token_edit = QtWidgets.QLineEdit()
        self.token_edit.setEchoMode(QtWidgets.QLineEdit.Password)
        self.token_edit.setPlaceholderText("token")
        self.connect_button = QtWidgets.QPushButton("Connect")
        self.connect_button.clicked.connect(lambda: self.connect_to(self.url_edit.text(), self.token_edit.text()))
        if self.settings is not None:
            url, token = self.settings.farm()
            self.url_edit.setText(url)
            self.token_edit.setText(token)
        connection = QtWidgets.QHBoxLayout()
        connection.addWidget(QtWidgets.QLabel("Farm"))
        connection.addWidget(self.url_edit, 3)
        connection.addWidget(self.token_edit, 1)
        connection.addWidget(self.connect_button)

        self.banner = QtWidgets.QLabel()
        self.banner.setObjectName("PyFarmUnreachable")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel#PyFarmUnreachable { background: #7a2a26; color: white; padding: 6px;"
                                  " border-radius: 3px; }")
        self.banner.hide()

        self.toolbar = QtWidgets.QToolBar()
        self.toolbar.setIconSize(QtCore.QSize(16, 16))
        self.toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
        style = self.style()
        self.actions_by_name = OrderedDict()  # type: Dict[str, Any]
        for name, text, icon, slot, tip in (
                ("pause", "Pause", QtWidgets.QStyle.SP_MediaPause, self.pause_selected,
                 "No new frame of the selected jobs starts"),
                ("resume", "Resume", QtWidgets.QStyle.SP_MediaPlay, self.resume_selected, "Let the jobs render again"),
                ("cancel", "Cancel", QtWidgets.QStyle.SP_MediaStop, self.cancel_selected,
                 "Queued frames are cancelled, rendering ones killed"),
                ("retry_failed", "Retry failed", QtWidgets.QStyle.SP_BrowserReload, self.retry_failed,
                 "Failed and cancelled frames of the selected jobs are queued again"),
                ("retry_frames", "Retry frames", QtWidgets.QStyle.SP_BrowserReload, self.retry_selected_frames,
                 "The selected frames are queued again with fresh attempts"),
                ("delete", "Delete", QtWidgets.QStyle.SP_TrashIcon, self.delete_selected,
                 "Remove the selected jobs from the farm (asks first)"),
                ("copy_command", "Copy command", QtWidgets.QStyle.SP_FileIcon, self.copy_command,
                 "Copy the render command of the selected frames"),
                ("open_output", "Open output", QtWidgets.QStyle.SP_DirOpenIcon, self.open_output,
                 "Open the job's output folder"),
                ("save_queue", "Save Queue", QtWidgets.QStyle.SP_DialogSaveButton, self.save_queue,
                 "Save the whole queue as XML"),
                ("load_queue", "Load Queue", QtWidgets.QStyle.SP_DialogOpenButton, self.load_queue,
                 "Restore jobs from a saved queue")):
            action = QAction(style.standardIcon(icon), text, self)
            action.setToolTip(tip)
            action.triggered.connect(lambda checked=False, slot=slot: slot())
            self.actions_by_name[name] = action
            if name in ("save_queue", "load_queue"):
                button = QtWidgets.QToolButton()
                button.setDefaultAction(action)
                button.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
                connection.addWidget(button)
                continue
            self.toolbar.addAction(action)
            if name in ("resume", "retry_frames", "delete"):
                self.toolbar.addSeparator()

        self.filter_combo = QtWidgets.QComboBox()
        self.filter_combo.addItem("All statuses", "")
        for status in STATUSES:
            self.filter_combo.addItem(status, status)
        self.filter_combo.currentIndexChanged.connect(self._filter_changed)
        self.summary_label = QtWidgets.QLabel("Not connected.")
        self.summary_label.setObjectName("PyFarmSummary")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.summary_label, 1)
        top.addWidget(QtWidgets.QLabel("Show"))
        top.addWidget(self.filter_combo)

        self.view = QtWidgets.QTreeView()
        self.view.setObjectName("PyFarmJobTree")
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(COL_NAME, QtCore.Qt.AscendingOrder)
        self.view.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.view))
        self.view.setContextMenuPolicy(QtCore.Qt.ActionsContextMenu)
        for name, action in self.actions_by_name.items():
            if name not in ("save_queue", "load_queue"):
                self.view.addAction(action)
        header = self.view.header()
        for column, width in ((COL_NAME, 220), (COL_STATUS, 80), (COL_PROGRESS, 130), (COL_HOST, 90),
                              (COL_PID, 60), (COL_ATTEMPTS, 60), (COL_ELAPSED, 70), (COL_PRIORITY, 60)):
            header.resizeSection(column, width)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.proxy.rowsInserted.connect(self._rows_inserted)

        self.log_view = LogView(self.runner, parent=self, poll_ms=log_poll_ms)
        self.log_view.failed.connect(lambda text: self._say(text, True))
        self.hosts_view = HostsView(self, clock=clock)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(self.hosts_view, "Hosts")
        splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.status_label = QtWidgets.QLabel()
        self.status_label.setObjectName("PyFarmStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(connection)
        layout.addWidget(self.banner)
        layout.addWidget(self.toolbar)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)
        self.resize(900, 640)

    # -- the farm ---------------------------------------------------------------------------------------------------
    def connect_to(self, url: str, token: str = "") -> bool:
        """Make a client with ``client_factory`` and watch that farm; remembers the address and token."""
        url, token = url.strip(), token.strip()
        if not url:
            self._say("Give the farm's address.", True)
            return False
        if self.client_factory is None:
            self._say("This panel cannot open connections of its own.", True)
            return False
        try:
            client = self.client_factory(url, token or None)
        except (FarmError, ValueError) as exc:
            self._say(describe_error(exc, "connect"), True)
            return False
        if self.settings is not None:
            self.settings.set_farm(url, token)
        self.set_client(client)
        return True

    def set_client(self, client: Any) -> None:
        """Watch the farm behind ``client`` (a FarmClient or anything with its methods)."""
        self._stop_watcher()
        if self.client is not None and client is not self.client:
            self.model.clear()
        self.client = client
        url = getattr(client, "url", "")
        if url and self.url_edit.text() != url:
            self.url_edit.setText(url)
        self.log_view.set_client(client)
        self.reachable = None
        self.summary_label.setText("Connecting to %s ..." % (url or "the farm"))
        watcher = FeedWatcher(client, wait=self.feed_wait, parent=self)
        queued = QtCore.Qt.QueuedConnection
        watcher.changes.connect(self._on_changes, queued)
        watcher.unreachable.connect(self._on_unreachable, queued)
        watcher.reachable.connect(self._on_reachable, queued)
        watcher.failed.connect(self._on_feed_failed, queued)
        self.watcher = watcher
        watcher.start()
        self.refresh_hosts()

    def _stop_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def shutdown(self) -> None:
        """Stop the feed thread, the timers and every pending answer (the panel is closing)."""
        self._stop_watcher()
        self.tick_timer.stop()
        self.hosts_timer.stop()
        self.log_view.stop()
        self.runner.shutdown()

    def closeEvent(self, event: Any) -> None:
        if self.isWindow():
            self.shutdown()
        super(MonitorPanel, self).closeEvent(event)

    # -- the feed ---------------------------------------------------------------------------------------------------
    def _on_changes(self, answer: Dict[str, Any]) -> None:
        if self.sender() is not None and self.sender() is not self.watcher:
            return  # an answer from a watcher we already replaced
        self.reachable = True
        self.banner.hide()
        self.model.apply_changes(answer)
        key = self.log_view.key
        if key is not None:
            node = self.model.find(*key)
            if node is None:
                self.log_view.follow(None)
            elif answer.get("reload") or key[2] in (((answer.get("jobs") or {}).get(key[0]) or {})
                                                    .get("subjobs", {}).get(key[1], {}).get("frames") or {}):
                self.log_view.frame_changed(node.data)
        self._update_actions()

    def _on_unreachable(self, text: str) -> None:
        self.reachable = False
        self.banner.setText("The farm does not answer: %s. Retrying by itself..." % text.rstrip("."))
        self.banner.show()
        self._update_summary()

    def _on_reachable(self) -> None:
        self.reachable = True
        self.banner.hide()
        self._say("The farm answers again.")
        self.refresh_hosts()

    def _on_feed_failed(self, exc: BaseException) -> None:
        self.banner.setText(describe_error(exc, "follow the farm"))
        self.banner.show()

    def refresh_hosts(self) -> None:
        """Ask for the farm's hosts (off the GUI thread)."""
        if self.client is None or self._hosts_busy or self.runner.closed:
            return
        self._hosts_busy = True
        self.runner.submit(self.client.workers, on_done=self._got_hosts, on_error=self._hosts_failed)

    def _got_hosts(self, workers: List[Dict[str, Any]]) -> None:
        self._hosts_busy = False
        self.hosts_error = ""
        self.hosts_view.update_workers(workers)
        self._update_summary()

    def _hosts_failed(self, exc: BaseException) -> None:
        self._hosts_busy = False  # the banner reports an unreachable farm; the list keeps its last state
        self.hosts_error = describe_error(exc, "list the hosts")

    def _update_summary(self) -> None:
        totals = self.model.totals
        parts = ["%s %d" % (status, totals.get(status, 0)) for status in ("Rendering", "Queued", "Failed")]
        if totals.get("Complete"):
            parts.append("Complete %d" % totals["Complete"])
        workers = self.hosts_view.workers
        busy = self.hosts_view.busy() if workers else len(self.model.hosts_busy())
        hosts = "hosts busy %d of %d" % (busy, len(workers)) if workers else "hosts busy %d" % busy
        text = "%d jobs: %s; %s" % (len(self.model.jobs), ", ".join(parts), hosts)
        if self.reachable is False:
            text += " (farm unreachable)"
        self.summary_label.setText(text)

    # -- selection --------------------------------------------------------------------------------------------------
    def selected_nodes(self) -> List[Any]:
        rows = self.view.selectionModel().selectedRows(0)
        nodes = [self.proxy.data(index, NODE_ROLE) for index in rows]
        return [n for n in nodes if n is not None]

    def selected_jobs(self) -> List[JobNode]:
        jobs = OrderedDict()  # type: Dict[str, JobNode]
        for node in self.selected_nodes():
            jobs.setdefault(node.job.name, node.job)
        return list(jobs.values())

    def selected_frames(self) -> List[FrameNode]:
        return [n for n in self.selected_nodes() if n.kind == KIND_FRAME]

    def select(self, job: str, subjob: Optional[str] = None, frames: Optional[List[int]] = None) -> bool:
        """Select a job, a subjob, or frames of a subjob in the tree (expanding what is needed)."""
        targets = [self.model.find(job, subjob, f) for f in frames] if frames else [self.model.find(job, subjob)]
        targets = [t for t in targets if t is not None]
        if not targets:
            return False
        selection = QtCore.QItemSelection()
        for node in targets:
            index = self.proxy.mapFromSource(self.model.index_of(node))
            if not index.isValid():
                continue
            parent = index.parent()
            while parent.isValid():
                self.view.expand(parent)
                parent = parent.parent()
            selection.select(index, index)
        flags = QtCore.QItemSelectionModel.ClearAndSelect | QtCore.QItemSelectionModel.Rows
        self.view.selectionModel().select(selection, flags)
        if selection.indexes():
            first = selection.indexes()[0]
            self.view.selectionModel().setCurrentIndex(first, QtCore.QItemSelectionModel.NoUpdate)
            self.view.scrollTo(first)
            self._current_changed(first, QtCore.QModelIndex())
        return True

    def _selection_changed(self, *args: Any) -> None:
        self._update_actions()

    def _current_changed(self, current: Any, previous: Any) -> None:
        node = self.proxy.data(current, NODE_ROLE) if current.isValid() else None
        if node is not None and node.kind == KIND_FRAME:
            self.log_view.follow((node.job.name, node.subjob.name, node.number), node.data)

    def _rows_inserted(self, parent: Any, first: int, last: int) -> None:
        if not parent.isValid():
            for row in range(first, last + 1):
                self.view.expand(self.proxy.index(row, 0))

    def _filter_changed(self, *args: Any) -> None:
        status = self.filter_combo.currentData()
        self.proxy.set_statuses([status] if status else [])

    def _update_actions(self) -> None:
        jobs = self.selected_jobs()
        frames = self.selected_frames()
        connected = self.client is not None
        for name in ("pause", "resume", "cancel", "retry_failed", "delete", "open_output"):
            self.actions_by_name[name].setEnabled(connected and bool(jobs))
        self.actions_by_name["retry_frames"].setEnabled(connected and bool(frames))
        self.actions_by_name["copy_command"].setEnabled(bool(frames))
        for name in ("save_queue", "load_queue"):
            self.actions_by_name[name].setEnabled(connected)

    # -- actions ----------------------------------------------------------------------------------------------------
    def _call(self, doing: str, done: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        if self.client is None:
            self._say("Not connected to a farm.", True)
            return False
        self.runner.submit(fn, *args, on_done=lambda result: self._say(done),
                           on_error=lambda exc: self._say(describe_error(exc, doing), True), **kwargs)
        return True

    def _each_job(self, verb: str, past: str, method: str) -> int:
        jobs = self.selected_jobs()
        if not jobs:
            self._say("Select a job first.", True)
            return 0
        for job in jobs:
            self._call("%s %s" % (verb, job.name), "%s %s." % (past, job.name), getattr(self.client, method),
                       job.name)
        return len(jobs)

    def pause_selected(self) -> int:
        return self._each_job("pause", "Paused", "pause")

    def resume_selected(self) -> int:
        return self._each_job("resume", "Resumed", "resume")

    def cancel_selected(self) -> int:
        return self._each_job("cancel", "Cancelled", "cancel")

    def retry_failed(self) -> int:
        return self._each_job("retry the failed frames of", "Queued again the failed frames of", "retry")

    def retry_selected_frames(self) -> int:
        groups = OrderedDict()  # type: Dict[Tuple[str, str], List[int]]
        for frame in self.selected_frames():
            groups.setdefault((frame.job.name, frame.subjob.name), []).append(frame.number)
        if not groups:
            self._say("Select frames first.", True)
            return 0
        for (job, subjob), numbers in groups.items():
            self._call("retry frames of %s" % job, "Queued again %d frame(s) of %s / %s." % (len(numbers), job, subjob),
                       self.client.retry, job, subjob=subjob, frames=sorted(numbers))
        return len(groups)

    def delete_selected(self) -> int:
        jobs = self.selected_jobs()
        if not jobs:
            self._say("Select a job first.", True)
            return 0
        names = [j.name for j in jobs]
        text = ("Delete %s from the farm? Its rendering frames are killed. This cannot be undone."
                % (", ".join('"%s"' % n for n in names) if len(names) < 4 else "%d jobs" % len(names)))
        if not self.confirm(text):
            return 0
        return self._each_job("delete", "Deleted", "delete")

    def copy_command(self) -> str:
        commands = [f.data.get("command") or "" for f in self.selected_frames()]
        text = "\n".join(c for c in commands if c)
        if not text:
            self._say("Select frames to copy their commands.", True)
            return ""
        QtWidgets.QApplication.clipboard().setText(text)
        self._say("Copied %d command(s)." % len(commands))
        return text

    def output_folder(self, job: JobNode) -> str:
        """Where a job's images go: its ``output`` folder, else the scene's folder."""
        output = job.data.get("output")
        if output:
            return str(output)
        scene = job.data.get("scene")
        return os.path.dirname(str(scene)) if scene else ""

    def open_output(self) -> str:
        jobs = self.selected_jobs()
        folder = self.output_folder(jobs[0]) if jobs else ""
        if not folder:
            self._say("This job does not say where its images go.", True)
            return ""
        self.open_url(QtCore.QUrl.fromLocalFile(folder))
        self._say("Opened %s" % folder)
        return folder

    def save_queue(self, path: Optional[str] = None) -> bool:
        path = path or self.ask_save_path()
        if not path:
            return False
        return self._call("save the queue", "Saved the queue to %s." % path, _save_queue, self.client, path)

    def load_queue(self, path: Optional[str] = None) -> bool:
        path = path or self.ask_open_path()
        if not path:
            return False
        if self.client is None:
            self._say("Not connected to a farm.", True)
            return False
        self._restore(path, False)
        return True

    def _restore(self, path: str, replace: bool) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, FarmConflict) and not replace and self.confirm(
                    "%s\nReplace the farm's jobs of the same names with the saved ones?" % describe_error(exc)):
                self._restore(path, True)
                return
            self._say(describe_error(exc, "load the queue"), True)

        self.runner.submit(_load_queue, self.client, path, replace,
                           on_done=lambda names: self._say("Restored %d job(s): %s." % (len(names), ", ".join(names))),
                           on_error=failed)

    # -- hooks (replaced by tests) ----------------------------------------------------------------------------------
    def confirm(self, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, "PyFarm", text,
                                                QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No,
                                                QtWidgets.QMessageBox.No)
        return answer == QtWidgets.QMessageBox.Yes

    def ask_save_path(self) -> str:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the farm's queue", "pyfarm-queue.xml",
                                                        "Queue XML (*.xml)")
        return path

    def ask_open_path(self) -> str:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load a saved queue", "", "Queue XML (*.xml)")
        return path

    def open_url(self, url: Any) -> None:
        QtGui.QDesktopServices.openUrl(url)

    # -- the status line --------------------------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: %s;" % SEVERITY_COLORS["error"] if error else "")
        self.message.emit(text, error)
