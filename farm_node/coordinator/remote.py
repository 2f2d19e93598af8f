"""Remote render hosts (`farm-node worker`): joining, heartbeats, numbered lease answers, and their reports.

Reconciliation. At every heartbeat the store's view (the attempts it has running on the host) is reconciled with
what the host holds (attempts it renders, or whose reports are still in its spool):

- the store has it running, the host does not hold it (and the lease is not on its way): the host lost it;
- the host holds it and it is the frame's current attempt: nothing to do;
- the host holds an attempt whose end it reported itself (``scheduler.ENDED_BY_HOST``; the heartbeat left before
  that report was answered): nothing to do. A kill order here would answer the heartbeat's long poll at once, every
  time, and a host with short frames would send heartbeats in a loop;
- the host holds an attempt that was lost, and its frame went to nobody since (``scheduler.revivable``): the attempt
  goes on (``Rendering`` again, same attempt; a note in its log says so), and its results count. This is how a host
  that was cut off for longer than its lease keeps its work;
- otherwise (cancelled, retried, deleted, or rendered by another host): the answer tells the host to kill it.

Answers on their way. Every lease answer is numbered (``seq``) within the coordinator's life (``epoch``); a heartbeat
carries the last number the host received (``seen``). An attempt leased in a later answer may still be travelling
and is not taken for lost; once the host confirms the answer and does not hold the attempt, the lease went astray.
"""
from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Iterable

from farm_node import scheduler
from farm_node.coordinator.attempts import Attempts
from farm_node.coordinator.hosts import HostRegistry
from farm_node.coordinator.leasing import Leasing
from farm_node.coordinator.signals import KillOrders
from farm_node.errors import StaleAttempt
from farm_node.jobspec import check_tags
from farm_node.scheduler import Outcome
from farm_node.store import Store
from farm_node.wire import ReportResult

log = logging.getLogger("farm_node")


class RemoteHosts:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, hosts: HostRegistry,
                 leasing: Leasing, attempts: Attempts, kills: KillOrders, epoch: str, heartbeat: float,
                 lost_after: float) -> None:
        self.store = store
        self.clock = clock
        self.lock = lock
        self.hosts = hosts
        self.leasing = leasing
        self.attempts = attempts
        self.kills = kills
        self.epoch = epoch
        self.heartbeat_every = heartbeat
        self.lost_after = lost_after
        self._lease_numbers = itertools.count(1)

    def heartbeat(self, host: str, worker_id: str | None, slots: int, info: dict[str, Any] | None,
                  holding: Iterable[int], epoch: str | None = None, seen: int = 0,
                  leaving: bool = False) -> dict[str, Any]:
        """A remote host says it is alive and which attempts it holds; the answer says which of them to kill.

        This is also how a host joins, re-joins after it was declared lost, and re-attaches after a restart of the
        coordinator. ``seen`` is the number of the last lease answer the host received from this coordinator
        (``epoch``): leases numbered after it may still be on their way and are not taken for lost.
        """
        held = {int(a) for a in holding}
        kill: set[int] = set()
        if info is not None and "tags" in info:
            # A host's tags come with what it says of itself (--tags), and are kept with it in the store.
            info = dict(info, tags=check_tags("info.tags", info["tags"]))
        with self.lock:
            state = self.hosts.claim(host, worker_id)
            if state is None:
                state = self.hosts.add(host, slots)
            if state.worker_id and worker_id != state.worker_id and held:
                # Another worker under this host's name (it took the name over, or it lies): the attempts it says it
                # holds were leased to the worker before it, so they are not its to render (CONTRACT section 9).
                kill.update(held)
                held = set()
            joined = (not state.attached or state.lost or state.stopped or state.worker_id != worker_id
                      or state.slots != slots or (info and state.info != info))
            if joined and (state.lost or state.stopped or not state.attached):
                log.info("host %s %s", host, "joins" if not state.attached else "joins again")
            state.slots, state.worker_id = slots, worker_id
            now = self.hosts.mark(state)
            if info:
                state.info = dict(info)
            state.lost, state.attached = False, True
            confirmed = seen if epoch == self.epoch else 0
            if leaving:
                confirmed = float("inf")  # a host that stops holds nothing more than it says
            flights = state.in_flight
            unclaimed = []
            for a in self.store.running_attempts(host):
                if a.id in held:
                    continue
                number = flights.get(a.id)
                if number is not None and number > confirmed:
                    continue
                unclaimed.append(a)
            for attempt_id, number in list(flights.items()):
                if number <= confirmed:
                    del flights[attempt_id]
            revive, gone = [], []
            for attempt_id in sorted(held):
                a = self.store.attempt(attempt_id)
                if a is not None and a.host == host and a.current == attempt_id and a.outcome == Outcome.RUNNING:
                    if leaving:
                        gone.append(a)
                    continue
                if a is not None and a.host == host and a.outcome in scheduler.ENDED_BY_HOST:
                    continue  # its end came from the host itself: nothing to kill (see the module's docstring)
                if a is not None and not leaving and self.attempts.revivable(a, host):
                    revive.append(a)
                else:
                    kill.add(attempt_id)
            if unclaimed:
                self.attempts.lose(unclaimed, "host %s no longer holds this frame (its worker restarted, or the lease"
                                              " never reached it)" % host)
            if gone:
                self.attempts.lose(gone, "host %s stopped before it reported this frame's end" % host)
            for a in revive:
                if not self._revive(a):
                    kill.add(a.id)
            state.stopped = leaving
            if joined or leaving:
                self.store.save_host(host, slots, state.info, worker_id, now, False)
                # Which hosts are up, and with which tags, is part of why jobs wait: their heads read anew.
                with self.store.write() as txn:
                    self.store.touch_waiting(txn)
        kill.update(self.kills.take(host))
        return {"epoch": self.epoch, "kill": sorted(kill), "heartbeat": self.heartbeat_every,
                "lost_after": self.lost_after}

    def lease(self, host: str, worker_id: str | None, free: int) -> dict[str, Any] | None:
        """Frames for a remote host; None if the host must send a heartbeat first (new, lost, or unknown since a
        restart of the coordinator). Every answer is numbered, see the module's docstring."""
        with self.lock:
            state = self.hosts.claim(host, worker_id)
            if state is None or not state.usable or (worker_id and state.worker_id != worker_id):
                return None
            self.hosts.mark(state)
            answer_no = next(self._lease_numbers)
            leases = self.leasing.lease(host, free, answer_no=answer_no)
        return {"epoch": self.epoch, "seq": answer_no, "leases": leases}

    def reports_and_lease(self, host: str, worker_id: str | None, records: list[dict[str, Any] | None],
                          free: int) -> tuple[list[str], dict[str, Any] | None]:
        """Apply a remote host's reports in order (per record a ``ReportResult``), then up to ``free`` frames for
        the slots the reports freed, leased in the transaction of the last reports: a remote host's frame end and
        its next frame in one call and one commit.

        The lease answer is ``lease``'s (numbered), or None when ``free`` is 0 or the host must send a heartbeat
        first. Log bytes (output records) go to files outside the farm lock: a host's log must not hold up another
        host's lease; every other run of records (starts, ends, interruptions) is one transaction, each record a
        savepoint of it, so that a frame's start and end sent together cost one commit.
        """
        state = self.hosts.claim(host, worker_id)
        if state is not None and state.worker_id and worker_id != state.worker_id:
            # The host's attempts were leased to the worker that holds its name: another worker's reports change
            # nothing (CONTRACT section 9), and "stale" tells it to stop those renders.
            return [ReportResult.STALE] * len(records), None
        if state is not None and state.attached and not state.lost:
            self.hosts.mark(state)
        results: list[str] = []
        leased: dict[str, Any] | None = None
        run: list[dict[str, Any] | None] = []
        for r in records:
            if r is not None and r.get("type") == "output":
                if run:
                    results.extend(self._apply_run(host, run))
                    run = []
                results.append(self.report(host, r))
            else:
                run.append(r)
        if run or free > 0:
            with self.lock, self.store.write():
                results.extend(self._reports(host, run))
                if free > 0:
                    leased = self.lease(host, worker_id, free)
        return results, leased

    def _apply_run(self, host: str, run: list[dict[str, Any] | None]) -> list[str]:
        with self.lock, self.store.write():
            return self._reports(host, run)

    def _reports(self, host: str, run: list[dict[str, Any] | None]) -> list[str]:
        return [self.report(host, r) if r is not None else ReportResult.BAD for r in run]

    def _revive(self, a: Any) -> bool:
        """Revive a lost attempt its host still holds, unless the limit units it held went to other frames
        meanwhile: the limits are never oversubscribed (the host is told to kill it, its frame stays queued)."""
        with self.store.write():
            if not self.leasing.may_hold(a.id):
                return False
            self.attempts.revive(a)
        return True

    def report(self, host: str, r: dict[str, Any]) -> str:
        kind, attempt_id = r.get("type"), r.get("attempt")
        if not isinstance(attempt_id, int):
            return ReportResult.BAD
        a = self.store.attempt(attempt_id)
        if a is None or a.host != host:
            return ReportResult.STALE
        if a.current != attempt_id or a.outcome != Outcome.RUNNING:
            with self.lock:
                a = self.store.attempt(attempt_id)
                if a is None or not self.attempts.revivable(a, host) or not self._revive(a):
                    return ReportResult.STALE
        try:
            if kind == "started":
                self.attempts.started(attempt_id, int(r["pid"]))
            elif kind == "output":
                keep = self.attempts.output(attempt_id, r.get("data") or b"", r.get("progress"), r.get("tail"),
                                            r.get("offset"))
                return ReportResult.OK if keep else ReportResult.FULL
            elif kind == "finished":
                self.attempts.finished(attempt_id, r.get("exit_code"), r.get("error"))
            elif kind in ("interrupted", "abandoned"):
                with self.lock:
                    a = self.attempts.current(attempt_id)
                    reason = "host %s: %s" % (host, r.get("reason") or kind)
                    if kind == "interrupted":
                        self.attempts.requeue([a], Outcome.INTERRUPTED, reason, count=False)
                    else:
                        self.attempts.lose([a], reason, outcome=Outcome.ABANDONED)
            else:
                return ReportResult.BAD
        except StaleAttempt:
            return ReportResult.STALE
        except (KeyError, TypeError, ValueError):
            return ReportResult.BAD
        return ReportResult.OK
