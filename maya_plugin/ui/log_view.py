"""The log of the selected frame, tailing live while it renders.

``LogView.follow(job, subjob, frame, data)`` shows a frame's log: the whole log is fetched from byte 0 on a worker
thread, then only what was added, from the byte offset the node gave back (``client.log_chunk``; ``client.log`` and the
text's UTF-8 length for a client without it). While the frame renders a timer asks for more every ``poll_ms``; a
change of the frame from the feed (``frame_changed``) asks once more (so the last lines after it finishes come in),
and a new attempt (``attempts`` or ``started`` changed) starts the text again from byte 0.

One fetch at a time; an answer for a frame no longer followed is dropped.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from maya_plugin.qt import QtCore, QtGui, QtWidgets
from maya_plugin.ui.messages import describe_error
from maya_plugin.ui.tasks import TaskRunner

__all__ = ["LogView", "fetch_log"]

Key = Tuple[str, str, int]


def fetch_log(client: Any, key: Key, offset: int) -> Tuple[str, int]:
    """(text, next offset) of a frame's log from byte ``offset``; runs on a worker thread."""
    job, subjob, frame = key
    chunk = getattr(client, "log_chunk", None)
    if chunk is not None:
        text, next_offset = chunk(job, subjob, frame, offset)
        return text, int(next_offset)
    text = client.log(job, subjob, frame, offset)
    return text, offset + len(text.encode("utf-8"))


class LogView(QtWidgets.QWidget):
    """A read-only text view of one frame's log, kept up to date off the GUI thread."""

    #: a fetch failed: the message in words
    failed = QtCore.Signal(str)

    def __init__(self, runner: TaskRunner, client: Any = None, parent: Any = None, poll_ms: int = 1000,
                 max_lines: int = 50000) -> None:
        super(LogView, self).__init__(parent)
        self.runner = runner
        self.client = client
        self.key = None  # type: Optional[Key]
        self.offset = 0
        self._attempt = None  # type: Any
        self._generation = 0
        self._busy = False
        self._again = False
        self._rendering = False
        self.title = QtWidgets.QLabel("Select a frame to see its log.")
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.text.setMaximumBlockCount(max_lines)
        self.text.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.text.setObjectName("PyFarmLogText")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.fetch)

    def set_client(self, client: Any) -> None:
        self.client = client
        self.follow(None)

    # -- what the panel tells us ------------------------------------------------------------------------------------
    def follow(self, key: Optional[Key], data: Optional[Dict[str, Any]] = None) -> None:
        """Show the log of frame ``key`` = (job, subjob, frame number), or nothing for None."""
        if key == self.key and key is not None:
            self.frame_changed(data or {})
            return
        self._generation += 1
        self.key = key
        self.offset = 0
        self._busy = False
        self._again = False
        self.text.clear()
        self._attempt = self._attempt_of(data)
        if key is None:
            self.title.setText("Select a frame to see its log.")
            self._set_rendering(False)
            return
        self.title.setText("%s / %s / frame %s" % key)
        self._set_rendering((data or {}).get("status") == "Rendering")
        self.fetch()

    def frame_changed(self, data: Dict[str, Any]) -> None:
        """The followed frame changed in the feed: a new attempt restarts the log; anything else fetches more."""
        if self.key is None:
            return
        attempt = self._attempt_of(data)
        if attempt != self._attempt:
            self._attempt = attempt
            self._generation += 1
            self.offset = 0
            self.text.clear()
            self._busy = False
        self._set_rendering(data.get("status") == "Rendering")
        self.fetch()

    @staticmethod
    def _attempt_of(data: Optional[Dict[str, Any]]) -> Any:
        data = data or {}
        return data.get("attempts"), data.get("started")

    def _set_rendering(self, rendering: bool) -> None:
        self._rendering = rendering
        if rendering and not self.timer.isActive():
            self.timer.start()
        elif not rendering:
            self.timer.stop()

    # -- fetching ---------------------------------------------------------------------------------------------------
    def fetch(self) -> None:
        """Ask for what the log gained (off the GUI thread); at most one request at a time."""
        if self.key is None or self.client is None:
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        generation = self._generation
        self.runner.submit(fetch_log, self.client, self.key, self.offset,
                           on_done=lambda answer: self._got(generation, answer),
                           on_error=lambda exc: self._failed(generation, exc))

    def _got(self, generation: int, answer: Tuple[str, int]) -> None:
        if generation != self._generation:
            return
        self._busy = False
        text, next_offset = answer
        if text and next_offset > self.offset:
            self._append(text)
        self.offset = max(self.offset, next_offset)
        if self._again:
            self._again = False
            self.fetch()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self._again = False
        self.failed.emit(describe_error(exc, "read the log"))

    def _append(self, text: str) -> None:
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        cursor = self.text.textCursor()
        cursor.movePosition(QtGui.QTextCursor.End)
        cursor.insertText(text.replace("\r\n", "\n").replace("\r", "\n"))
        if at_end:
            bar.setValue(bar.maximum())

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def stop(self) -> None:
        self.timer.stop()
        self._generation += 1
