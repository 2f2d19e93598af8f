"""The Monitor panel: the farm's jobs and subjobs, the frames of the open subjob, a frame's log, a job's details,
the hosts; actions.

    panel = MonitorPanel(client=FarmClient(url, token))            # or client_factory=FarmClient, settings=...
    panel.show()                                                   # a top-level window, or docked by maya_ui

The panel never holds every frame of the farm. The jobs tree holds every job and subjob with its counts (the
narrowed changes feed: kilobytes, however many frames); the frames table shows the one open subjob in pages read
from the node, sorted and filtered there, and that subjob alone is watched by the feed. A 100,000-frame subjob is
a table that knows its row count and holds a few pages.

Threads: the changes feed is long-polled by a ``FeedWatcher`` thread; every other call to the farm (pages, actions,
logs, hosts, job heads, queue backup and restore and the files they read and write) runs on the panel's
``TaskRunner`` pool. Results come back by queued signals and are applied on the GUI thread (inside Maya, its main
thread): nothing here waits on the network or the disk, and nothing costs work in proportion to the farm's frames.

When the farm stops answering a banner says so; the feed keeps trying, from the revision it had, and the banner goes
away by itself when the node answers again (with what changed meanwhile, or the summary).

Hooks for the few things that need a person or the desktop, replaced by tests: ``confirm(text) -> bool``,
``ask_save_path()``, ``ask_open_path()``, ``open_url(QUrl)``.
"""
from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from maya_plugin.errors import FarmError
from maya_plugin.qt import QAction, QtCore, QtGui, QtWidgets, Signal
from maya_plugin.ui.actions import ACTIONS, ENABLED_WITH
from maya_plugin.ui.columns import JOB_COLUMNS, JOB_NAME, JOB_PROGRESS
from maya_plugin.ui.delegates import ProgressDelegate
from maya_plugin.ui.details import JobDetails
from maya_plugin.ui.feed import FeedWatcher
from maya_plugin.ui.frames_view import FramesPane
from maya_plugin.ui.hosts import HostsView
from maya_plugin.ui.log_view import LogView
from maya_plugin.ui.messages import describe_error
from maya_plugin.ui.monitor_actions import PanelActions
from maya_plugin.ui.monitor_feed import APPLY_SLICE, PanelFeed
from maya_plugin.ui.model import JobTreeModel
from maya_plugin.ui.nodes import KIND_SUBJOB, JobNode
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.style import SEVERITY_COLORS, STATUSES
from maya_plugin.ui.tasks import TaskRunner

__all__ = ["MonitorPanel", "APPLY_SLICE"]

# New jobs are shown expanded while the farm holds at most this many (a studio queue is read collapsed).
EXPAND_UP_TO = 30


class MonitorPanel(PanelActions, PanelFeed, QtWidgets.QWidget):
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
        self.decorated = False
        self.settings = settings
        self.feed_wait = feed_wait
        self.watcher = None  # type: Optional[FeedWatcher]
        self.reachable = None  # type: Optional[bool]
        self.runner = TaskRunner(self, max_workers=4, name="pyfarm-monitor")
        self.runner.failed.connect(lambda exc: self._say(describe_error(exc), True))
        self.model = JobTreeModel(self, clock=clock)
        self._hosts_busy = False
        self.hosts_error = ""
        self._pending_frames = None  # type: Optional[Tuple[Tuple[str, str], List[int]]]
        self._slices = deque()  # type: Deque[Dict[str, Any]]
        self._slice_timer = QtCore.QTimer(self)
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._apply_slice)
        self._feed_timer = QtCore.QTimer(self)
        self._feed_timer.setSingleShot(True)
        self._feed_timer.setInterval(0)
        self._feed_timer.timeout.connect(self._begin_feed)
        self._build(log_poll_ms, clock)
        # What only decorates (icons, clear buttons: 15 ms of a 50 ms construction) waits for the first turn of the
        # event loop, so that the window shows sooner (inside Maya, Maya waits for it).
        QtCore.QTimer.singleShot(0, self._decorate)
        self.model.summaryChanged.connect(self._update_summary)
        self.tick_timer = QtCore.QTimer(self)
        self.tick_timer.setInterval(1000)
        self.tick_timer.timeout.connect(self.frames.model.tick)
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

        self.view = QtWidgets.QTreeView()
        self.view.setObjectName("PyFarmJobTree")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(JOB_NAME, QtCore.Qt.AscendingOrder)
        self.view.setItemDelegateForColumn(JOB_PROGRESS, ProgressDelegate(self.view))
        self.view.setContextMenuPolicy(QtCore.Qt.ActionsContextMenu)
        for column, spec in enumerate(JOB_COLUMNS):
            self.view.header().resizeSection(column, spec.width)
        # (as the frames table's: a header that shares the selection asks every selected row for each section)
        self.view.header().setSelectionModel(QtCore.QItemSelectionModel(self.model, self.view.header()))
        self.view.selectionModel().selectionChanged.connect(lambda *a: self._update_actions())
        self.view.selectionModel().currentChanged.connect(self._tree_current_changed)
        self.model.rowsInserted.connect(self._rows_inserted)
        self.model.visible_rows = self._visible_job_rows

        self.frames = FramesPane(self._fetch_page, self, clock=clock)
        self.frames.view.setContextMenuPolicy(QtCore.Qt.ActionsContextMenu)
        self.frames.currentFrameChanged.connect(self._frame_changed)
        self.frames.selectionChanged.connect(self._update_actions)
        self.frames.model.pageLoaded.connect(self._page_loaded)
        self.frames.model.failed.connect(lambda exc: self._say(describe_error(exc, "read the frames"), True))

        self.toolbar = QtWidgets.QToolBar()
        self.toolbar.setIconSize(QtCore.QSize(16, 16))
        self.toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
        self.actions_by_name = OrderedDict()  # type: Dict[str, Any]
        places = {"jobs": self.view, "frames": self.frames.view, "panel": self}
        for spec in ACTIONS:
            action = QAction(spec.text, self)  # its icon comes with _decorate, once the window shows
            action.setToolTip(spec.tip + (" (%s)" % spec.shortcut if spec.shortcut else ""))
            action.triggered.connect(lambda checked=False, slot=spec.slot: getattr(self, slot)())
            self.actions_by_name[spec.name] = action
            for place in spec.places:
                if place == "toolbar":
                    self.toolbar.addAction(action)
                    if spec.name in ("retry_frames", "delete"):
                        self.toolbar.addSeparator()
                elif place == "connection":
                    button = QtWidgets.QToolButton()
                    button.setDefaultAction(action)
                    button.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
                    connection.addWidget(button)
                else:
                    places[place].addAction(action)
            if spec.shortcut:
                action.setShortcut(QtGui.QKeySequence(spec.shortcut))
                # on the tree or the table only while it has the focus; panel-wide ones within the panel only
                action.setShortcutContext(QtCore.Qt.WidgetWithChildrenShortcut if "panel" in spec.places
                                          else QtCore.Qt.WidgetShortcut)

        self.search_edit = QtWidgets.QLineEdit()
        self.search_edit.setObjectName("PyFarmSearch")
        self.search_edit.setPlaceholderText("find jobs by name or user (Ctrl+F)")
        self.search_edit.textChanged.connect(self._filter_changed)
        self.filter_combo = QtWidgets.QComboBox()
        self.filter_combo.addItem("All statuses", "")
        for status in STATUSES:
            self.filter_combo.addItem(status, status)
        self.filter_combo.currentIndexChanged.connect(self._filter_changed)
        self.summary_label = QtWidgets.QLabel("Not connected.")
        self.summary_label.setObjectName("PyFarmSummary")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.search_edit, 1)
        top.addWidget(QtWidgets.QLabel("Show"))
        top.addWidget(self.filter_combo)

        self.log_view = LogView(self.runner, parent=self, poll_ms=log_poll_ms)
        self.log_view.failed.connect(lambda text: self._say(text, True))
        self.details = JobDetails(self)
        self.details.priorityWanted.connect(self.set_priority)
        self.details.clearWanted.connect(lambda job: self.clear_blocklist(job))
        self.hosts_view = HostsView(self, clock=clock)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(self.details, "Job")
        self.tabs.addTab(self.hosts_view, "Hosts")
        splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.frames)
        splitter.addWidget(self.tabs)
        for i, stretch in enumerate((3, 3, 2)):
            splitter.setStretchFactor(i, stretch)

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
        self.resize(1000, 760)

    def _decorate(self) -> None:
        try:
            style = self.style()
            for spec in ACTIONS:
                self.actions_by_name[spec.name].setIcon(style.standardIcon(getattr(QtWidgets.QStyle, spec.icon)))
            for edit in (self.search_edit, self.frames.host_edit, self.frames.range_edit):
                edit.setClearButtonEnabled(True)
        except RuntimeError:  # the panel was deleted before its first turn
            return
        self.decorated = True

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
        if self.client is not None and client is not self.client:
            self.model.clear()
            self.frames.close_subjob()
            self.details.show_job(None)
        self.client = client
        url = getattr(client, "url", "")
        if url and self.url_edit.text() != url:
            self.url_edit.setText(url)
        self.log_view.set_client(client)
        self.reachable = None
        self.summary_label.setText("Connecting to %s ..." % (url or "the farm"))
        self._start_feed()  # and, on the next turn, the hosts

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

    def _fetch_page(self, query: Any, offset: int, limit: int, done: Callable[[Any], None],
                    failed: Callable[[BaseException], None]) -> None:
        if self.client is None or self.runner.closed:
            return
        self.runner.submit(self.client.frames, query.job, query.subjob, offset, limit, on_done=done,
                           on_error=failed, **query.page_args())

    def refresh(self) -> None:
        """Read everything again: the summary (a new feed from revision 0), the open page, the hosts (F5)."""
        if self.client is None:
            return
        self._start_feed()  # and the hosts
        self.frames.model.refresh()
        if self.details.job:
            self._read_head(self.details.job)

    # -- selection --------------------------------------------------------------------------------------------------
    def selected_nodes(self) -> List[Any]:
        nodes = [self.model.node(index) for index in self.view.selectionModel().selectedRows(0)]
        return [n for n in nodes if n is not None]

    def selected_jobs(self) -> List[JobNode]:
        jobs = OrderedDict()  # type: Dict[str, JobNode]
        for node in self.selected_nodes():
            jobs.setdefault(node.job.name, node.job)
        return list(jobs.values())

    def selected_frames(self) -> List[Dict[str, Any]]:
        """The selected frames of the open subjob whose pages the panel holds."""
        return self.frames.loaded_selection()[0]

    def select(self, job: str, subjob: Optional[str] = None, frames: Optional[List[int]] = None) -> bool:
        """Select a job or a subjob in the tree (expanding the job), opening the subjob's frames; with ``frames``,
        select those frames when their page is here."""
        node = self.model.find(job, subjob)
        index = self.model.index_of(node)
        if not index.isValid():
            return False
        if node.kind == KIND_SUBJOB:
            self.view.expand(self.model.index_of(node.job))
        flags = QtCore.QItemSelectionModel.ClearAndSelect | QtCore.QItemSelectionModel.Rows
        self.view.selectionModel().select(index, flags)
        self.view.selectionModel().setCurrentIndex(index, QtCore.QItemSelectionModel.NoUpdate)
        self.view.scrollTo(index)
        self._tree_current_changed(index, QtCore.QModelIndex())
        if frames:
            self._pending_frames = (self.frames.key, list(frames))
            self._page_loaded(0)
        return True

    def _tree_current_changed(self, current: Any, previous: Any) -> None:
        node = self.model.node(current)
        if node is None:
            return
        job = node.job
        if self.details.job != job.name:
            self.details.show_job(job.name, job.data)
            self._read_head(job.name)
        sub = node if node.kind == KIND_SUBJOB else (job.subjobs[0] if job.subjobs else None)
        if sub is not None and self.frames.key != (job.name, sub.name):
            self.frames.open(job.name, sub.name, sub.total)
            if self.watcher is not None:
                self.watcher.watching = ((job.name, sub.name),)
        self._update_actions()

    def _read_head(self, name: str) -> None:
        """The job's head read again: why it waits may change without the job itself changing."""
        if self.client is None or self.runner.closed:
            return

        def got(head: Dict[str, Any]) -> None:
            node = self.model.find(name)
            if self.details.job == name and node is not None:
                node.data.update({k: v for k, v in head.items() if k != "subjobs"})
                self.details.show_job(name, node.data)

        self.runner.submit(self.client.job, name, frames=False, on_done=got, on_error=lambda exc: None)

    def _page_loaded(self, page: int) -> None:
        if self._pending_frames is not None and self._pending_frames[0] == self.frames.key:
            if self.frames.select_frames(self._pending_frames[1]):
                self._pending_frames = None
        self._update_actions()

    def _frame_changed(self, current: Any) -> None:
        if current is not None:
            job, subjob, frame = current
            self.log_view.follow((job, subjob, int(frame["number"])), frame)
        self._update_actions()

    def _visible_job_rows(self) -> Tuple[int, int]:
        """The first and last job rows on screen (a subjob row counts as its job's)."""
        viewport = self.view.viewport()
        if not self.view.isVisible():
            return (0, -1)
        rows = []
        for y in (0, viewport.height() - 1):
            index = self.view.indexAt(QtCore.QPoint(1, y))
            while index.isValid() and index.parent().isValid():
                index = index.parent()
            rows.append(index.row() if index.isValid() else -1)
        first, last = rows
        return (max(first, 0), last if last >= 0 else len(self.model.jobs) - 1)

    def _rows_inserted(self, parent: Any, first: int, last: int) -> None:
        if not parent.isValid() and len(self.model.by_name) <= EXPAND_UP_TO:
            for row in range(first, last + 1):
                self.view.expand(self.model.index(row, 0))

    def _filter_changed(self, *args: Any) -> None:
        status = self.filter_combo.currentData()
        self.model.set_filter([status] if status else [], self.search_edit.text())
        self._update_summary()

    def focus_search(self) -> None:
        self.search_edit.setFocus(QtCore.Qt.ShortcutFocusReason)
        self.search_edit.selectAll()

    def _update_actions(self, *args: Any) -> None:
        ready = {"always": True, "connected": self.client is not None,
                 "jobs": self.client is not None and bool(self.view.selectionModel().hasSelection()),
                 "frames": self.client is not None and self.frames.view.selectionModel().hasSelection(),
                 "frame": self.frames.current_frame() is not None, "subjob": self.frames.key is not None}
        for name, action in self.actions_by_name.items():
            action.setEnabled(ready[ENABLED_WITH[name]])

    # -- the status line --------------------------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: %s;" % SEVERITY_COLORS["error"] if error else "")
        self.message.emit(text, error)
