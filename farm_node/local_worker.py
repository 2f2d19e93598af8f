"""The render slots of a standalone node: an in-process worker that takes frames straight from the coordinator.

It goes through the same lease/started/output/finished calls as a remote worker, minus HTTP, so both paths share
the scheduling and the stale-attempt rules. A free slot waits on the coordinator's work signal, which is why a queued
frame starts within milliseconds of a slot freeing up rather than on a poll tick.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Callable, Iterable

from farm_node.coordinator import Coordinator
from farm_node.errors import StaleAttempt, StoreError
from farm_node.frame_run import FrameRun
from farm_node.hostinfo import host_info, host_tags
from farm_node.path_map import PathMap
from farm_node.runner import ExeMap
from farm_node.store.health import DiskHealth, disk_full

log = logging.getLogger("farm_node")

_DOOMED_KEPT = 10000


class _DirectReporter:
    """Reports of one attempt, straight into the coordinator. With ``host``, the end of the attempt also leases
    the slot's next frame (into ``next``), in the same transaction.

    The disk of the data folder may fill up: a frame's end then waits for room (``disk``) and is written once there
    is, rather than lost with the slot's thread; a report the render can do without (its output's periodic save)
    is not retried."""

    def __init__(self, coordinator: Coordinator, attempt: int, host: str | None = None,
                 more: Callable[[], bool] = lambda: False, disk: DiskHealth | None = None,
                 stopping: threading.Event | None = None) -> None:
        self.coordinator = coordinator
        self.attempt = attempt
        self.host = host
        self.more = more
        self.disk = disk
        self.stopping = stopping or threading.Event()
        self.next: list[dict] = []

    def started(self, pid: int) -> bool:
        try:
            self.coordinator.started(self.attempt, pid, defer=True)
            return True
        except StaleAttempt:
            return False

    def output(self, data: bytes, progress: float | None, tail: bytes | None) -> bool:
        try:
            return self.coordinator.output(self.attempt, data, progress, tail)
        except StaleAttempt:
            return True
        except StoreError as exc:  # a farm's store gone away: the render goes on, these log bytes are not kept
            log.warning("frame attempt %d: %s", self.attempt, exc)
            return True
        except Exception as exc:  # the render goes on: its log says what it could not write
            if not disk_full(exc):
                raise
            if self.disk is not None:
                self.disk.failed("writing a frame's log", exc)
            return True

    def finished(self, exit_code: int | None, error: str | None) -> None:
        while True:
            try:
                if self.host is not None and self.more():
                    self.next = self.coordinator.finish_and_lease(self.attempt, exit_code, error, self.host, 1)
                else:
                    self.coordinator.finished(self.attempt, exit_code, error)
                return
            except StaleAttempt:
                return
            except StoreError as exc:
                # A farm's store gone away: the end is written once it answers (or the frame is lost meanwhile,
                # and this end is refused as stale); a node stopped now requeues it on start.
                log.warning("frame attempt %d: its end waits for the store: %s", self.attempt, exc)
                self.stopping.wait(1.0)
                if self.stopping.is_set():
                    return
            except Exception as exc:
                if not disk_full(exc) or self.disk is None:
                    raise
                self.disk.failed("writing a frame's end", exc)
                # The frame stays Rendering meanwhile (health says why); a node stopped now requeues it on start.
                self.disk.wait_for_room(self.stopping)
                if self.stopping.is_set():
                    return


class LocalWorker:
    def __init__(self, coordinator: Coordinator, exe_map: ExeMap, slots: int, host: str,
                 cwd: str | None = None, disk: DiskHealth | None = None, tags: Iterable[str] = (),
                 path_map: PathMap | None = None) -> None:
        self.coordinator = coordinator
        # The host's tags (jobs that require tags render only here if it has them all) and the path prefixes it
        # maps in a frame's arguments before they run (CONTRACT section 6).
        self.tags = host_tags(tags)
        self.path_map = path_map or PathMap()
        self.disk = disk or getattr(coordinator.logs, "disk", None) or DiskHealth(coordinator.data_dir)
        # Frames run in a folder of the node's, so a relative scene or image path never lands in the node's cwd.
        self.cwd = cwd
        self.exe_map = exe_map
        self.slots = slots
        self.host = host
        self._runs: dict[int, FrameRun] = {}
        # Attempts the coordinator moved on before their run was registered here (a cancel just after the lease).
        # Kills of runs that had already ended land here too, never to be registered: the oldest are dropped, so
        # the set stays bounded without forgetting a recent one.
        self._doomed: OrderedDict[int, None] = OrderedDict()
        self._runs_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        coordinator.on_kill(self._on_kill)

    def start(self) -> None:
        if self.slots <= 0:
            return
        self.coordinator.register_host(self.host, self.slots, local=True, info=dict(host_info(), tags=self.tags))
        for i in range(self.slots):
            t = threading.Thread(target=self._slot, name="slot-%d" % i, daemon=True)
            t.start()
            self._threads.append(t)

    def _slot(self) -> None:
        coordinator = self.coordinator
        leased: list[dict] = []
        while not self._stopping.is_set():
            if not leased:
                gen = coordinator.work_generation
                try:
                    leased = coordinator.lease(self.host, 1)
                except Exception as exc:  # a slot must outlive one bad lease; the store keeps the truth
                    leased = []
                    if disk_full(exc):
                        self.disk.failed("leasing a frame", exc)
                        self.disk.wait_for_room(self._stopping)  # rendering resumes by itself once there is room
                        continue
                    if isinstance(exc, StoreError):  # a farm's store gone away: said once a round, no traceback
                        log.warning("lease on %s waits for the store: %s", self.host, exc)
                    else:
                        log.exception("lease failed on %s", self.host)
                if not leased:
                    coordinator.wait_for_work(gen, 1.0)
                    continue
            # The frame's end leases the next one with it (one commit); a slot that got none asks on its own.
            try:
                leased = self._run(leased[0])
            except Exception:  # the slot lives on; the frame's attempt is the store's to settle (restart, retry)
                log.exception("a render slot of %s failed", self.host)
                leased = []
        if leased:
            self.coordinator.interrupted([a["attempt"] for a in leased],
                                         "the node was stopped before this frame started")

    def _run(self, a: dict) -> list[dict]:
        """Run one leased frame; the frame the slot was given next, if its end leased one."""
        reporter = _DirectReporter(self.coordinator, a["attempt"], self.host,
                                   lambda: not self._stopping.is_set(), self.disk, self._stopping)
        run = FrameRun(self.path_map.apply(a["argv"]), self.exe_map, reporter, timeout=a.get("timeout"),
                       frames=a.get("frames") or 1, cwd=self.cwd)
        with self._runs_lock:
            self._runs[a["attempt"]] = run
            doomed = a["attempt"] in self._doomed
            self._doomed.pop(a["attempt"], None)
        if doomed:
            run.kill("killed: the frame was cancelled, retried or deleted")
        try:
            if self._stopping.is_set():
                self.coordinator.interrupted([a["attempt"]], "the node was stopped before this frame started")
                return []
            run.run()
        except Exception:
            log.exception("frame attempt %s failed in the node itself", a["attempt"])
            if run.child is not None:
                run.child.kill_tree()  # a render whose frame cannot be followed any more must not run on unseen
            _DirectReporter(self.coordinator, a["attempt"], disk=self.disk, stopping=self._stopping).finished(
                None, "the node failed to run the frame")
            return []
        finally:
            with self._runs_lock:
                self._runs.pop(a["attempt"], None)
        return reporter.next

    def _on_kill(self, host: str, attempt: int) -> None:
        if host != self.host:
            return
        with self._runs_lock:
            run = self._runs.get(attempt)
            if run is None:
                self._doomed[attempt] = None
                if len(self._doomed) > _DOOMED_KEPT:
                    self._doomed.popitem(last=False)
        if run is not None:
            run.kill("killed: the frame was cancelled, retried or deleted")

    def stop(self, timeout: float = 10.0) -> None:
        """Start nothing new, put the running frames back in the queue, kill their processes."""
        self._stopping.set()
        with self._runs_lock:
            runs = dict(self._runs)
        self.coordinator.interrupted(runs, "the node was stopped while this frame was rendering")
        for run in runs.values():
            run.kill("the node was stopped")
        self.coordinator.wake_workers()
        for t in self._threads:
            t.join(timeout)
