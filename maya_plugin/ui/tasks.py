"""Work off the GUI thread, results back on it.

``TaskRunner`` runs callables (every network call of the widgets, file reads and writes) on a small thread pool and
calls the given callbacks on the thread that owns the runner, which is the GUI thread (Maya's main thread). The hop
back is one queued Qt signal, so a callback never runs on a worker thread and never touches a widget from one.

    runner = TaskRunner(parent=widget)
    runner.submit(client.pause, "Job1", on_done=self._paused, on_error=self._show_error)

A callback is not called after ``shutdown()``: a panel that closes does not get answers for calls it made.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Optional

from maya_plugin.qt import QtCore, Signal, Slot

__all__ = ["TaskRunner"]

Callback = Optional[Callable[[Any], Any]]


class TaskRunner(QtCore.QObject):
    """A thread pool whose results come back to the owner's thread through a queued signal."""

    #: emitted on the owner's thread for a task that failed and had no ``on_error``: the exception
    failed = Signal(object)
    _deliver = Signal(object)

    def __init__(self, parent: Any = None, max_workers: int = 4, name: str = "pyfarm-ui") -> None:
        super(TaskRunner, self).__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._closed = threading.Event()
        self._deliver.connect(self._on_deliver, QtCore.Qt.QueuedConnection)

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Callback = None, on_error: Callback = None,
               **kwargs: Any) -> "Future[Any]":
        """Run ``fn(*args, **kwargs)`` on a worker thread; then ``on_done(result)`` or ``on_error(exception)`` here."""
        if self._closed.is_set():
            raise RuntimeError("this TaskRunner was shut down")

        def work() -> Any:
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # every failure is handed back to the GUI thread, none is swallowed here
                self.post(on_error if on_error is not None else self.failed.emit, exc)
                raise
            self.post(on_done, result)
            return result

        return self._pool.submit(work)

    def post(self, callback: Callback, value: Any = None) -> None:
        """Call ``callback(value)`` on the owner's thread soon; safe from any thread."""
        if callback is None or self._closed.is_set():
            return
        try:
            self._deliver.emit((callback, value))
        except RuntimeError:  # the C++ object is gone (its widget was deleted): nobody left to tell
            self._closed.set()

    def shutdown(self, wait: bool = False) -> None:
        """No more callbacks; worker threads finish what they are doing and end."""
        self._closed.set()
        self._pool.shutdown(wait=wait)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @Slot(object)
    def _on_deliver(self, payload: Any) -> None:
        callback, value = payload
        if not self._closed.is_set():
            callback(value)
