"""Handing queued frames to render hosts: which frames next on this host (the scheduler's order and its rules), and
the attempts that start.

A lease is one decision inside one write transaction (docs/DESIGN.md, "Scheduling"): the jobs that may have queued
frames (one read through the partial index ``jobs_queued``, however many finished jobs the store keeps), in the
scheduler's order; for each, ``scheduler.why_not`` on this host with the facts read in that same transaction (a
dependency's status, the units the running attempts hold); then the frames that may start, each taking its limit
units as it is picked. What the transaction read is all it decides on: a restart changes nothing (the units in use
are the running attempts'), and a serialized transaction is all several coordinators need.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

from farm_node import scheduler
from farm_node.coordinator.hosts import HostRegistry, HostState
from farm_node.coordinator.signals import WorkSignal
from farm_node.coordinator.waits import Waits
from farm_node.scheduler import HostView, JobNeeds, LimitState, WaitCause
from farm_node.store import RunnableJob, Store, Txn
from farm_node.wire import lease_entry


class Picked(list):
    """``(job, frame, limit units it will hold)`` in lease order. ``emptied``: jobs whose last queued frames this
    pick takes (or that had none left): granted, they leave the leases' reads. Truthy with either, so that the one
    who grants also clears."""

    def __init__(self) -> None:
        super().__init__()
        self.emptied: list[int] = []
        self.ids: set[int] = set()  # the frames picked (still Queued in the store until they are granted)

    def __bool__(self) -> bool:
        return bool(len(self) or self.emptied)


class Leasing:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, hosts: HostRegistry,
                 work: WorkSignal) -> None:
        self.store = store
        self.clock = clock
        self.lock = lock
        self.hosts = hosts
        self.work = work
        self._subjob_names: dict[int, str] = {}
        # What queued jobs were last seen waiting for (hints: the leases decide anew from the store).
        self.waits = Waits(store, clock, lock, work)
        # The heads of jobs (``waiting_for``) see the hosts as the leases do.
        store.reader.use_hosts(self.host_views)

    # -- a lease --------------------------------------------------------------------------------------------------
    def lease(self, host: str, free: int, answer_no: int | None = None) -> list[dict[str, Any]]:
        """Hand up to ``free`` queued frames to ``host``, in scheduling order; each starts a new attempt.

        ``answer_no`` numbers the lease answer to a remote host, remembered until the host confirms it got it.
        """
        if free <= 0 or self.work.closing:
            return []
        self.hosts.seen(host)
        with self.lock:
            with self.store.read():
                inside = self.store.in_transaction  # under the store's lock: ours, if any
            if not inside:
                # A look first: an idle host's lease commits nothing (no revision, no wake-up of the feed).
                look = self.pick(host, free)
                if not len(look):
                    if look.emptied:
                        self.store.clear_queued(look.emptied)
                    return []
            with self.store.write() as txn:
                picked = self.pick(host, free)
                return self.grant(txn, host, picked, answer_no) if picked else []

    def pick(self, host: str, free: int) -> Picked:
        """The next ``free`` frames ``host`` may render, in scheduling order, as the store stands (inside the lease's
        transaction). A job every host that may render it blocklisted yields: a blocklisted host takes it when it
        has nothing else to render."""
        picked = Picked()
        # Jobs an earlier lease found still waiting for their dependencies are passed over unread (waits.py).
        deferred = self.waits.deferred()
        jobs = scheduler.job_order(job for job in self.store.runnable_jobs(host, deferred) if job.id not in deferred)
        if not jobs:
            return picked
        facts = _Facts(self, host)
        yielding: list[tuple[RunnableJob, dict]] = []
        for job in jobs:
            if len(picked) >= free:
                break
            allowed, yields = facts.allowed(job)
            if yields:
                yielding.append((job, yields))
            if any(allowed.values()):
                self._take(job, allowed, facts, free, picked)
        for job, allowed in yielding:
            if len(picked) >= free:
                break
            self._take(job, allowed, facts, free, picked)
        return picked

    def _take(self, job: RunnableJob, allowed: dict[int | None, bool], facts: "_Facts", free: int,
              picked: Picked) -> None:
        """Frames of ``job`` into ``picked`` while ``free`` lasts, of its allowed parts (None: the job's own needs,
        a subjob id: a subjob with needs of its own), each taking its limit units."""
        needs = job.needs
        while len(picked) < free:
            only, skip = _filter(needs, allowed)
            if only is None:
                return
            # Frames of this job picked already are still Queued: read past them.
            ask = free - len(picked) + sum(1 for entry in picked if entry[0].id == job.id)
            frames = self.store.queued_frames(job.id, ask, only, skip)
            blocked = False
            for f in frames:
                if f.id in picked.ids or len(picked) >= free:
                    continue
                part = f.subjob_id if f.subjob_id in needs.subjobs else None
                if not allowed[part]:
                    continue
                wanted = needs.of(f.subjob_id).limits
                if wanted:
                    if scheduler.limit_problem(wanted, facts.limits):
                        allowed[part] = False
                        blocked = True
                        self.waits.limits_full(name for name, _ in wanted)
                        continue
                    facts.limits = scheduler.hold_units(facts.limits, wanted)
                picked.ids.add(f.id)
                picked.append((job, f, dict(wanted) or None))
            if not blocked:
                if len(frames) < ask and not only and not skip:
                    picked.emptied.append(job.id)  # granted, these were its last queued frames
                return

    def grant(self, txn: Txn, host: str, picked: Picked, answer_no: int | None) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        flights = None
        if answer_no is not None:
            state = self.hosts.get(host)
            flights = state.in_flight if state is not None else None
        for job, f, holds in picked:
            attempt_no = self.store.attempt_count(f.id) + 1
            log_path = os.path.join("logs", str(f.job_id), "%d-%d.log" % (f.id, attempt_no))
            attempt_id = self.store.new_attempt(txn, f.id, attempt_no, host, now, log_path, holds)
            self.store.update_frames(txn, f.job_id, [f.id], status=scheduler.RENDERING, attempts=f.attempts + 1,
                                     attempt_id=attempt_id, host=None, pid=None, progress=0, exit_code=None,
                                     started=None, finished=None, error=None, stdout="", old_status=f.status,
                                     subjob_id=f.subjob_id)
            # The log file is made by the first output (or at the end): not here, under the lease lock.
            if flights is not None:
                flights[attempt_id] = answer_no
            out.append(lease_entry(attempt_id, job.name, self.subjob_name(f.subjob_id), f.number, f.argv_list(),
                                   job.frame_timeout, f.extra_dict().get("last_frame")))
        if picked.emptied:
            self.store.clear_queued(picked.emptied)
        return out

    def subjob_name(self, subjob_id: int) -> str:
        name = self._subjob_names.get(subjob_id)
        if name is None:
            name = self._subjob_names[subjob_id] = self.store.subjob_name(subjob_id)
        return name

    def may_hold(self, attempt_id: int) -> bool:
        """May this (lost) attempt hold its limit units again? Not when they went to other frames meanwhile."""
        held = self.store.attempt_holds(attempt_id)
        if held is None or not held[1]:
            return True
        return scheduler.limit_problem(held[1].items(), self.store.limits_now()) is None

    # -- the farm as the scheduler sees it ----------------------------------------------------------------------
    def host_views(self) -> list[HostView]:
        """The farm's render hosts: this coordinator's, or (a store other coordinators share) every coordinator's,
        as the store knows them."""
        if self.store.shared:
            return [HostView(h.name, frozenset(h.info.get("tags") or ()), not (h.lost or h.stopped),
                             scheduler.host_state(h.lost, h.stopped, 0), h.slots) for h in self.store.farm_hosts()]
        return [host_view(h) for h in self.hosts.all()]

    # -- what may change why jobs wait (waits.py) ---------------------------------------------------------------
    def ended(self, attempt_id: int, job_id: int | None = None) -> None:
        self.waits.ended(attempt_id, job_id)

    def units_freed(self) -> None:
        self.waits.units_freed()

    def dependency_changed(self, job: str) -> bool:
        return self.waits.dependency_changed(job)


def host_view(h: HostState) -> HostView:
    up = h.local or h.usable
    state = scheduler.host_state(h.lost, h.stopped, 0) if (up or h.lost or h.stopped) else "not attached"
    return HostView(h.name, h.tags, up, state, h.slots)


def _filter(needs: JobNeeds, allowed: dict[int | None, bool]) -> tuple[list[int] | None, list[int]]:
    """The subjobs a lease reads frames of: ``(only, skip)``; ``only`` None when no part of the job is allowed."""
    if allowed[None]:
        return [], [sid for sid in needs.subjobs if not allowed[sid]]
    only = [sid for sid in needs.subjobs if allowed[sid]]
    return (only or None), []


class _Facts:
    """What one lease reads of the farm, each only once and only if a job this host could take needs it: the status
    of the jobs depended on, the limits with their units in use, the hosts (for the blocklist's rule)."""

    def __init__(self, leasing: Leasing, host: str) -> None:
        self.leasing = leasing
        state = leasing.hosts.get(host)
        self.me = host_view(state) if state is not None else HostView(host, frozenset(), True, "idle", 1)
        self._deps: dict[str, str | None] = {}
        self._states: dict[str, tuple[int, str]] = {}
        self._limits: dict[str, LimitState] | None = None
        self._hosts: list[HostView] | None = None

    def deps(self, names: tuple[str, ...]) -> dict[str, str | None]:
        """The status of these jobs (None: not on the farm), read when a job is weighed (a lease mostly weighs one
        or two), each once per lease."""
        missing = [name for name in names if name not in self._deps]
        if missing:
            waits = self.leasing.waits
            for name in waits.known_complete(missing):
                self._deps[name] = scheduler.COMPLETE
                missing.remove(name)
        if missing:
            found = self.leasing.store.job_states(missing)
            self._states.update(found)
            for name in missing:
                self._deps[name] = found[name][1] if name in found else None
            self.leasing.waits.read_complete(n for n in missing if self._deps[n] == scheduler.COMPLETE)
        return self._deps

    @property
    def limits(self) -> dict[str, LimitState]:
        if self._limits is None:
            self._limits = self.leasing.store.limits_now()
        return self._limits

    @limits.setter
    def limits(self, value: dict[str, LimitState]) -> None:
        self._limits = value

    def allowed(self, job: RunnableJob) -> tuple[dict[int | None, bool], dict[int | None, bool] | None]:
        """Which parts of ``job`` this host may take frames of now, and (when the blocklist yields) which it may
        take once it has nothing else to render."""
        needs = job.needs
        if not needs.any and not job.blocked_here:
            return {None: True}, None
        parts = needs.parts
        tags = self.me.tags
        if not any(part.requires <= tags for _, part in parts):
            # Not for this host, whatever else holds it: asked before anything is read.
            return {p: False for p, _ in parts}, None
        blocklist: list[str] = []
        hosts: list[HostView] = []
        if job.blocked_here:
            blocklist = self.leasing.store.blocklisted_hosts(job.id)
            if self._hosts is None:
                self._hosts = self.leasing.host_views()
            hosts = self._hosts
        allowed: dict[int | None, bool] = {}
        later: dict[int | None, bool] = {}
        for part, part_needs in parts:
            deps = self.deps(part_needs.depends_on) if part_needs.depends_on else {}
            # The limits are read only for a part that could otherwise start here (why_not asks them last).
            ready = part_needs.requires <= tags and all(deps.get(d) == scheduler.COMPLETE
                                                         for d in part_needs.depends_on)
            limits = self.limits if part_needs.limits and ready else {}
            wait = scheduler.why_not(part_needs, deps, limits, hosts, blocklist, host=self.me)
            allowed[part] = wait is None
            later[part] = wait is None or wait.yields
            if wait is not None and wait.cause == WaitCause.DEPENDENCY:
                # Dependencies are the job's: every part of it waits for them, on every host.
                self.leasing.waits.waiting_on(job.id, {d: self._states.get(d) for d in part_needs.depends_on
                                                       if deps.get(d) != scheduler.COMPLETE})
                return {p: False for p, _ in parts}, None
            if wait is not None and wait.cause == WaitCause.LIMIT:
                self.leasing.waits.limits_full(name for name, _ in part_needs.limits)
        yields = later if any(later[p] and not allowed[p] for p in later) else None
        return allowed, yields
