"""The fake ``maya.utils`` (tests only): deferred work and main-thread calls.

As in Maya, ``executeDeferred`` queues work for the next idle moment and may be called from any thread;
``executeInMainThreadWithResult`` runs at once on the main thread (from another thread it waits for the main thread,
as Maya's does). "Idle" here is: ``processIdleEvents()``, or the Qt event loop when a QApplication exists.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, List

__all__ = ["executeDeferred", "executeInMainThreadWithResult", "processIdleEvents"]

_pending = []  # type: List[Callable[[], Any]]
_lock = threading.Lock()


def executeDeferred(fn: Any, *args: Any, **kwargs: Any) -> None:
    kwargs.pop("_lowest", None)  # evalDeferred -lowestPriority: still after what is queued already
    if isinstance(fn, str):
        source = fn
        fn = lambda: exec(compile(source, "<executeDeferred>", "exec"), {})  # noqa: E731
    work = (lambda: fn(*args, **kwargs)) if (args or kwargs) else fn
    with _lock:
        _pending.append(work)
    _wake()


def _wake() -> None:
    try:
        from maya_plugin.qt import QtCore, QtWidgets
    except ImportError:
        return
    app = QtWidgets.QApplication.instance()
    if app is not None and threading.current_thread() is threading.main_thread():
        QtCore.QTimer.singleShot(0, processIdleEvents)


def processIdleEvents() -> int:
    """Run what was deferred (and what that defers in turn); returns how many ran."""
    ran = 0
    while True:
        with _lock:
            if not _pending:
                return ran
            work = _pending.pop(0)
        work()
        ran += 1


def executeInMainThreadWithResult(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if threading.current_thread() is threading.main_thread():
        return fn(*args, **kwargs)
    done = threading.Event()
    box = {}  # type: dict

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except Exception as exc:  # handed back to the calling thread below
            box["error"] = exc
        done.set()

    executeDeferred(run)
    done.wait()
    if "error" in box:
        raise box["error"]
    return box.get("value")
