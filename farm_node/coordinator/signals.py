"""The coordinator's two signals to render hosts: "frames may be there" and "kill that attempt"."""
from __future__ import annotations

import threading
from typing import Callable


class WorkSignal:
    """Frames may have become available (a submit, a resume, a retry, a requeue).

    The node's own slots wait on it (``wait``); the HTTP layer's long polls register a listener (``on_work``) that
    wakes their event loop. Every wake bumps a generation, so a waiter that saw generation N misses no wake after it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._listeners: list[Callable[[], None]] = []
        self.closing = False
        # Tells the other coordinators of a shared store (coordinator/farm.py); nobody to tell by default.
        self.broadcast: Callable[[], None] | None = None

    def on_work(self, listener: Callable[[], None]) -> None:
        """``listener()`` is called (from any thread) when frames may have become available."""
        self._listeners.append(listener)

    def wake(self, broadcast: bool = True) -> None:
        """``broadcast`` False: the wake came from another coordinator, which told the others itself."""
        if broadcast and self.broadcast is not None:
            self.broadcast()
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
        for listener in self._listeners:
            listener()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until a wake after generation ``seen`` (or ``timeout``, or closing); returns the generation."""
        with self._cond:
            if self._generation == seen and not self.closing:
                self._cond.wait(timeout)
            return self._generation

    @property
    def generation(self) -> int:
        return self._generation

    def close(self) -> None:
        """The coordinator stops: every waiter returns now."""
        self.closing = True
        self.wake()


class KillOrders:
    """Running attempts that must be killed: told at once to the listeners (the node's own slots, the heartbeats'
    long polls), and kept per remote host until its heartbeat takes them."""

    def __init__(self, is_remote: Callable[[str], bool]) -> None:
        self._is_remote = is_remote
        self._lock = threading.Lock()
        self._pending: dict[str, set[int]] = {}
        self._listeners: list[Callable[[str, int], None]] = []
        # Tells the other coordinators of a shared store (coordinator/farm.py); nobody to tell by default.
        self.broadcast: Callable[[str, int], None] | None = None

    def on_kill(self, listener: Callable[[str, int], None]) -> None:
        """``listener(host, attempt_id)`` is called when a running attempt must be killed."""
        self._listeners.append(listener)

    def kill(self, host: str | None, attempt_id: int | None, broadcast: bool = True) -> None:
        """``broadcast`` False: the order came from another coordinator, which told the others itself."""
        if host is None or attempt_id is None:
            return
        if broadcast and self.broadcast is not None:
            self.broadcast(host, attempt_id)
        if self._is_remote(host):
            with self._lock:
                self._pending.setdefault(host, set()).add(attempt_id)
        for listener in self._listeners:
            listener(host, attempt_id)

    def take(self, host: str) -> list[int]:
        """The attempts ``host`` was told to kill since it last asked (cancel, retry, delete)."""
        with self._lock:
            return sorted(self._pending.pop(host, ()))

    def has(self, host: str) -> bool:
        return bool(self._pending.get(host))
