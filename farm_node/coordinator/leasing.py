"""Handing queued frames to render hosts: which frames next (the scheduler's order), and the attempts that start."""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

from farm_node import scheduler
from farm_node.coordinator.hosts import HostRegistry
from farm_node.coordinator.signals import WorkSignal
from farm_node.store import FrameRow, RunnableJob, Store, Txn
from farm_node.wire import lease_entry

Picked = list[tuple[RunnableJob, FrameRow]]


class Leasing:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, hosts: HostRegistry,
                 work: WorkSignal) -> None:
        self.store = store
        self.clock = clock
        self.lock = lock
        self.hosts = hosts
        self.work = work
        self._subjob_names: dict[int, str] = {}

    def lease(self, host: str, free: int, answer_no: int | None = None) -> list[dict[str, Any]]:
        """Hand up to ``free`` queued frames to ``host``, in scheduling order; each starts a new attempt.

        ``answer_no`` numbers the lease answer to a remote host, remembered until the host confirms it got it.
        """
        if free <= 0 or self.work.closing:
            return []
        self.hosts.seen(host)
        with self.lock:
            picked = self.pick(host, free)
            if not picked:
                return []
            with self.store.write() as txn:
                return self.grant(txn, host, picked, answer_no)

    def pick(self, host: str, free: int) -> Picked:
        """The next ``free`` queued frames for ``host`` in scheduling order (inside a transaction: as it stands)."""
        picked: Picked = []
        for job in scheduler.job_order(self.store.runnable_jobs(host)):
            for f in self.store.queued_frames(job.id, free - len(picked)):
                picked.append((job, f))
            if len(picked) >= free:
                break
        return picked

    def grant(self, txn: Txn, host: str, picked: Picked, answer_no: int | None) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        flights = None
        if answer_no is not None:
            state = self.hosts.get(host)
            flights = state.in_flight if state is not None else None
        for job, f in picked:
            attempt_no = self.store.attempt_count(f.id) + 1
            log_path = os.path.join("logs", str(f.job_id), "%d-%d.log" % (f.id, attempt_no))
            attempt_id = self.store.new_attempt(txn, f.id, attempt_no, host, now, log_path)
            self.store.update_frames(txn, f.job_id, [f.id], status=scheduler.RENDERING, attempts=f.attempts + 1,
                                     attempt_id=attempt_id, host=None, pid=None, progress=0, exit_code=None,
                                     started=None, finished=None, error=None, stdout="", old_status=f.status,
                                     subjob_id=f.subjob_id)
            # The log file is made by the first output (or at the end): not here, under the lease lock.
            if flights is not None:
                flights[attempt_id] = answer_no
            out.append(lease_entry(attempt_id, job.name, self.subjob_name(f.subjob_id), f.number, f.argv_list(),
                                   job.frame_timeout, f.extra_dict().get("last_frame")))
        return out

    def subjob_name(self, subjob_id: int) -> str:
        name = self._subjob_names.get(subjob_id)
        if name is None:
            name = self._subjob_names[subjob_id] = self.store.subjob_name(subjob_id)
        return name
