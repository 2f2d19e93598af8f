"""What queued jobs were last seen waiting for, as hints: never a decision, each lease decides from the store.

    awaited     jobs others depend on, with the status a lease last read: when one of them changes (a frame of it
                ends, a user acts on it), the waiting jobs' heads are stamped (their ``waiting_for`` reads anew) and,
                once it is Complete, the idle hosts are woken
    limits      limits a frame was refused for: a frame's end that frees their units wakes the idle hosts
    deferred    jobs a lease found waiting for dependencies: the next leases pass over them without reading those
                dependencies again, until one of them changes here or ``RECHECK`` seconds have passed (a change made
                through another coordinator of the farm)
    complete    jobs a lease found Complete, on a store of one coordinator only (every change of a job passes
                through this coordinator, and ``dependency_changed`` forgets it): the next leases do not read them
                again for ``RECHECK`` seconds. With other coordinators a job could be retried through one of them
                meanwhile, so there a lease always reads its dependencies.
"""
from __future__ import annotations

import threading
from typing import Callable, Iterable

from farm_node import scheduler
from farm_node.coordinator.signals import WorkSignal
from farm_node.store import Store

# Seconds a lease trusts an earlier one's finding that a job waits for its dependencies.
RECHECK = 2.0
# A dependency in these states reads "is not Complete" alike: no need to read the waiting jobs' heads anew.
_UNDER_WAY = (scheduler.QUEUED, scheduler.RENDERING, scheduler.PAUSED)


class Waits:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, work: WorkSignal) -> None:
        self.store = store
        self.clock = clock
        self.lock = lock  # the farm lock: the leases note their findings under it
        self.work = work
        self._awaited: dict[str, str | None] = {}       # job name -> its status as last read
        self._names: dict[int, str] = {}                # job id -> name, of the awaited jobs
        self._limits: set[str] = set()
        self._deferred: dict[int, tuple[float, tuple[str, ...]]] = {}
        self._fresh: tuple[float, set[int]] | None = None   # the deferred jobs, and until when that set holds
        self._remember_complete = not store.shared
        self._complete: dict[str, float] = {}           # job name -> when a lease read it Complete

    # -- what the leases note ----------------------------------------------------------------------------------
    def deferred(self) -> set[int]:
        """The jobs a lease found waiting for their dependencies recently enough to pass over them now."""
        if not self._deferred:
            return set()
        now = self.clock()
        if self._fresh is not None and now < self._fresh[0]:
            return self._fresh[1]
        fresh = {job_id for job_id, (when, _) in self._deferred.items() if now - when < RECHECK}
        first = min((when for job_id, (when, _) in self._deferred.items() if job_id in fresh), default=now)
        self._fresh = (first + RECHECK, fresh)
        return fresh

    def waiting_on(self, job_id: int, unmet: dict[str, tuple[int, str] | None]) -> None:
        """A lease found ``job_id`` waiting for these dependencies (name -> (id, status), None: not on the farm)."""
        for name, state in unmet.items():
            self._awaited.setdefault(name, None if state is None else state[1])
            if state is not None:
                self._names[state[0]] = name
        self._deferred[job_id] = (self.clock(), tuple(unmet))
        self._fresh = None

    def known_complete(self, names: Iterable[str]) -> set[str]:
        """Of these jobs, those a lease read Complete recently enough (a store of one coordinator only)."""
        if not self._complete:
            return set()
        now = self.clock()
        return {name for name in names if now - self._complete.get(name, -RECHECK) < RECHECK}

    def read_complete(self, names: Iterable[str]) -> None:
        if self._remember_complete:
            now = self.clock()
            for name in names:
                self._complete[name] = now

    def limits_full(self, names: Iterable[str]) -> None:
        self._limits.update(names)

    # -- what may change them ----------------------------------------------------------------------------------
    def ended(self, attempt_id: int, job_id: int | None = None) -> None:
        """An attempt ended: it may free units a job waits for, or complete a job others wait for."""
        if not (self._limits or self._awaited):
            return
        wake = False
        with self.lock:
            name = self._names.get(job_id) if job_id is not None else None
            if name is not None and self.dependency_changed(name):
                wake = True
            if self._limits:
                held = self.store.attempt_holds(attempt_id)
                if held is not None:
                    if job_id is None and held[0] in self._awaited and self.dependency_changed(held[0]):
                        wake = True
                    if self._limits.intersection(held[1]):
                        self._limits.difference_update(held[1])
                        wake = True
        if wake:
            self.work.wake()

    def units_freed(self) -> None:
        """Rendering frames ended without a report (cancel, delete): their units may be what a job waits for."""
        with self.lock:
            wake = bool(self._limits)
            self._limits.clear()
        if wake:
            self.work.wake()

    def dependency_changed(self, job: str) -> bool:
        """Something happened to ``job`` (a frame of it ended, a user acted on it, it was submitted or deleted):
        the jobs waiting for it are weighed anew, and their heads stamped when its status reads differently now.
        True when it is Complete."""
        with self.lock:
            self._complete.pop(job, None)
            for job_id, (_, names) in list(self._deferred.items()):
                if job in names:
                    del self._deferred[job_id]
                    self._fresh = None
            if job not in self._awaited:
                return False
            state = self.store.job_states([job]).get(job)
            status, seen = (None if state is None else state[1]), self._awaited[job]
            if status == seen or (status in _UNDER_WAY and seen in _UNDER_WAY):
                return False
            if status == scheduler.COMPLETE:
                del self._awaited[job]
            else:
                self._awaited[job] = status
            if state is not None:
                self._names[state[0]] = job
            with self.store.write() as txn:
                self.store.touch_waiting(txn)
        return status == scheduler.COMPLETE
