"""The changes feed, watched from a background thread.

``FeedWatcher`` long-polls ``client.changes(since, wait)`` in its own daemon thread and hands every answer to the GUI
thread through the ``changes`` signal (queued: the slot runs on the thread that owns the watcher). It also says when
the farm stops answering (``unreachable``, with a message in words) and when it answers again (``reachable``).

The feed is the narrowed one (``client.changes(since, wait, watch=...)``): jobs and subjobs with their counts, frames
only of the subjobs in ``watching`` (set from the GUI thread; read at each poll). Each answer carries the watch list
its poll was made with (``answer["watched"]``): a subjob watched since then missed the frames of that answer, and
its page is read again. After an outage it asks from the revision it had: the node answers with what changed (a
reconnect costs kilobytes), or with a reload of the summary when it cannot tell.

Answers that bring changes come at most every ``min_interval`` seconds (the next poll waits out the rest): on a busy
farm the node could answer twenty times a second, and each answer is JSON read on this thread (holding the GIL
the GUI thread needs for its Python calls) and applied and repainted on the GUI thread; five a second follow a
farm well enough for the eye and cost a quarter.

The thread never touches a widget. ``stop()`` returns at once; the thread ends when its current poll returns (at
most ``wait`` seconds plus the client's timeout) and then emits nothing more.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Optional, Tuple

from maya_plugin.errors import FarmAuthError, FarmError, FarmUnavailable
from maya_plugin.qt import QtCore, Signal

__all__ = ["FeedWatcher"]


class FeedWatcher(QtCore.QObject):
    """Long-polls a farm's changes feed off the GUI thread."""

    #: the answer of ``client.changes``: {"revision", "reload", "jobs", "deleted"}
    changes = Signal(object)
    #: the farm does not answer; the message says why, in words
    unreachable = Signal(str)
    #: the farm answers again after ``unreachable``
    reachable = Signal()
    #: the farm answered with an error (a refused token, ...): the FarmError; the watcher keeps trying, slowly
    failed = Signal(object)

    def __init__(self, client: Any, wait: float = 20.0, retry_delay: float = 1.0, max_retry_delay: float = 10.0,
                 parent: Any = None, min_interval: float = 0.2) -> None:
        super(FeedWatcher, self).__init__(parent)
        self.client = client
        #: (job, subjob) pairs whose frames the feed brings; replaced (never mutated) by the GUI thread
        self.watching = ()  # type: Tuple[Tuple[str, str], ...]
        self.wait = float(wait)
        self.retry_delay = float(retry_delay)
        self.max_retry_delay = float(max_retry_delay)
        self.min_interval = float(min_interval)
        self._stop = threading.Event()
        self._thread = None  # type: Optional[threading.Thread]
        self.revision = 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("a FeedWatcher runs once; make a new one")
        self._thread = threading.Thread(target=self._run, name="pyfarm-feed", daemon=True)
        self._thread.start()

    @property
    def started(self) -> bool:
        """Whether ``start`` was called (or ``stop``: a stopped watcher never starts)."""
        return self._thread is not None or self._stop.is_set()

    def stop(self) -> None:
        """Ask the thread to end; it emits nothing from now on."""
        self._stop.set()

    def join(self, timeout: Optional[float] = None) -> bool:
        """Wait for the thread to end (tests; never on Maya's main thread). True when it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    # -- the thread ---------------------------------------------------------------------------------------------
    def _emit(self, signal: Any, *args: Any) -> bool:
        if self._stop.is_set():
            return False
        try:
            signal.emit(*args)
        except RuntimeError:  # the watcher's C++ side was deleted with its panel
            self._stop.set()
            return False
        return True

    def _run(self) -> None:
        since = 0
        delay = self.retry_delay
        down = False
        while not self._stop.is_set():
            watching = self.watching
            asked = time.monotonic()
            try:
                answer = self.client.changes(since, wait=self.wait, watch=list(watching))
            except FarmUnavailable as exc:
                if not down:
                    down = True
                    self._emit(self.unreachable, str(exc))
                self._pause(delay)
                delay = min(delay * 2, self.max_retry_delay)
                continue
            except FarmAuthError as exc:
                self._emit(self.failed, exc)
                self._pause(self.max_retry_delay)
                continue
            except FarmError as exc:
                self._emit(self.failed, exc)
                since = 0
                self._pause(delay)
                delay = min(delay * 2, self.max_retry_delay)
                continue
            delay = self.retry_delay
            if down:
                down = False
                self._emit(self.reachable)
            since = int(answer.get("revision", since))
            self.revision = since
            answer["watched"] = watching
            self._emit(self.changes, answer)
            if answer.get("jobs") or answer.get("deleted"):
                self._pause(asked + self.min_interval - time.monotonic())

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)
