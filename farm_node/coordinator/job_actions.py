"""What clients do to jobs: submit, pause, resume, cancel, retry, delete, change (PATCH), clear a blocklist, find a
log; and to the farm's limits.

Cancel and retry of a whole job (or subjob) are set-based: one UPDATE for its queued, failed or finished frames,
however many there are; only the few frames that are rendering are ended one by one, each with its attempt and a
kill order to its host.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

from farm_node import scheduler
from farm_node.coordinator.attempt_logs import AttemptLogs
from farm_node.coordinator.attempts import Attempts
from farm_node.coordinator.signals import KillOrders, WorkSignal
from farm_node.errors import NotFound
from farm_node.jobspec import check_limit_name, check_units, parse_patch, parse_submission
from farm_node.scheduler import Outcome
from farm_node.store import FrameRow, Store

# The statuses a retry of a whole subjob queues again in one statement (its rendering frames go one by one).
_NOT_RENDERING = (scheduler.QUEUED, scheduler.COMPLETE, scheduler.FAILED, scheduler.CANCELLED)
# What a frame queued again by a retry starts from.
_FRESH = dict(status=scheduler.QUEUED, attempts=0, attempt_id=None, progress=0, exit_code=None, error=None,
              finished=None)


class JobActions:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, attempts: Attempts,
                 logs: AttemptLogs, kills: KillOrders, work: WorkSignal) -> None:
        self.store = store
        self.clock = clock
        self.lock = lock
        self.attempts = attempts
        self.logs = logs
        self.kills = kills
        self.work = work

    # Whether frames may use Render's flags that run MEL (the node's --allow-mel; set by the Coordinator).
    allow_mel = False

    def submit(self, body: Any) -> list[str]:
        specs = parse_submission(body, allow_mel=self.allow_mel)
        with self.store.write() as txn:
            names = self.store.insert_jobs(txn, specs, self.clock())
        self.work.wake()
        for name in names:  # a name others waited for, once deleted, is on the farm again
            self.leasing.dependency_changed(name)
        return names

    @property
    def leasing(self) -> Any:
        return self.attempts.leasing

    def update(self, name: str, body: Any) -> dict[str, Any]:
        """``PATCH /api/jobs/{job}``: checked as at submit, nothing stored unless all of it is right; the job's
        head as it is now. Frames leased from now on follow the change; rendering ones keep what they hold."""
        changes = parse_patch(name, body)
        with self.lock, self.store.write() as txn:
            self.store.update_job(txn, self.store.job_row(name), changes)
        self.work.wake()
        return self.store.reader.job_head(name)

    # -- limits -------------------------------------------------------------------------------------------------
    def limits(self) -> dict[str, Any]:
        return {"limits": {name: {"capacity": s.capacity, "in_use": s.in_use}
                           for name, s in self.store.limits_now().items()}}

    def set_limit(self, name: str, capacity: Any) -> dict[str, Any]:
        name = check_limit_name("name", name)
        capacity = check_units("capacity", capacity, "capacity", 0)
        with self.lock, self.store.write() as txn:
            self.store.set_limit(txn, name, capacity)
        self.work.wake()
        state = self.store.limits_now()[name]
        return {"name": name, "capacity": state.capacity, "in_use": state.in_use}

    def delete_limit(self, name: str) -> dict[str, Any]:
        """Refused (409, naming them) while rendering frames hold its units; jobs that name it then wait, saying
        so."""
        with self.lock, self.store.write() as txn:
            self.store.delete_limit(txn, name.lower())
        return {"name": name.lower(), "deleted": True}

    def pause(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.store.write() as txn:
            self.store.set_paused(txn, row.id, True)
        return {"job": name, "paused": True}

    def resume(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.store.write() as txn:
            self.store.set_paused(txn, row.id, False)
        self.work.wake()
        return {"job": name, "paused": False}

    def cancel(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.lock:
            rendering = self.store.frames_of(row.id, (scheduler.RENDERING,))
            now = self.clock()
            with self.store.write() as txn:
                n = self.store.update_frames_in(txn, row.id, (scheduler.QUEUED,), status=scheduler.CANCELLED)
                self._end_rendering(txn, rendering, "cancelled by a user", now, status=scheduler.CANCELLED,
                                    finished=now, attempt_id=None)
                self.store.clear_queued([row.id])
        self._kill(rendering)
        self._ended(name, rendering)
        return {"job": name, "cancelled": n + len(rendering)}

    def retry(self, name: str, subjob: str | None = None, frames: Iterable[int] | None = None) -> dict[str, Any]:
        row = self.store.job_row(name)
        job_id = row.id
        with self.lock:
            sid = None if subjob is None else self._subjob_id(job_id, subjob)
            rendering: list[FrameRow] = []
            named: list[FrameRow] = []
            if frames is not None:
                named = self._named_frames(job_id, sid, subjob, frames)
                rendering = [f for f in named if f.status == scheduler.RENDERING]
            elif sid is not None:
                rendering = self.store.frames_of(job_id, (scheduler.RENDERING,), subjob_id=sid)
            now = self.clock()
            with self.store.write() as txn:
                if frames is not None:
                    ids = [f.id for f in named]
                    # An attempt of a lost host must not come back and complete a frame the user asked to render
                    # anew.
                    self.store.retire_lost_attempts(txn, ids)
                    self._end_rendering(txn, rendering, "retried by a user", now)
                    self.store.update_frames(txn, job_id, ids, **_FRESH)
                    n = len(ids)
                else:
                    statuses = scheduler.RETRIED if sid is None else _NOT_RENDERING
                    self.store.retire_lost_attempts_in(txn, job_id, statuses, subjob_id=sid)
                    n = self.store.update_frames_in(txn, job_id, statuses, subjob_id=sid, **_FRESH)
                    if rendering:
                        self.store.retire_lost_attempts(txn, [f.id for f in rendering])
                        self._end_rendering(txn, rendering, "retried by a user", now, **_FRESH)
                        n += len(rendering)
                self.store.clear_blocklist(txn, job_id)
        self._kill(rendering)
        self.work.wake()
        self._ended(name, rendering)
        return {"job": name, "retried": n}

    def delete(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.lock:
            rendering = self.store.frames_of(row.id, (scheduler.RENDERING,))
            paths = self.store.job_log_paths(row.id)
            with self.store.write() as txn:
                self.store.delete_job(txn, row.id, name)
        self._kill(rendering)
        for f in rendering:
            if f.attempt_id is not None:
                self.logs.close(f.attempt_id)
        self.logs.remove(paths)
        self._ended(name, rendering)
        return {"job": name, "deleted": True}

    def clear_blocklist(self, name: str, host: str | None = None) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.store.write() as txn:
            self.store.clear_blocklist(txn, row.id, host)
        self.work.wake()
        return {"job": name, "blocklist": [h for _, h in self.store.blocklist(row.id)]}

    def log_path(self, name: str, subjob: str, number: int, attempt: int | None = None) -> str | None:
        """The log file of a frame's latest attempt (or of attempt number ``attempt``); None before any."""
        row = self.store.job_row(name)
        frame = self.store.frame_row(row.id, subjob, number)
        logs = self.store.attempt_logs(frame.id)
        if attempt is not None:
            logs = [entry for entry in logs if entry[0] == attempt]
            if not logs:
                raise NotFound("frame %d has no attempt %d" % (number, attempt))
        if not logs:
            return None
        return self.logs.path(logs[-1][1])

    # -- helpers ------------------------------------------------------------------------------------------------
    def _subjob_id(self, job_id: int, subjob: str) -> int:
        sid = self.store.subjob_id(job_id, subjob)
        if sid is None:
            raise NotFound("no subjob named %r in this job" % subjob)
        return sid

    def _named_frames(self, job_id: int, sid: int | None, subjob: str | None, frames: Iterable[int]
                      ) -> list[FrameRow]:
        wanted = {int(n) for n in frames}
        rows = [f for f in self.store.frames_of(job_id, subjob_id=sid) if f.number in wanted]
        missing = wanted - {f.number for f in rows}
        if missing:
            raise NotFound("no frame %s in %s" % (", ".join(map(str, sorted(missing))),
                                                  "subjob %r" % subjob if subjob else "this job"))
        return rows

    def _end_rendering(self, txn: Any, rendering: list[FrameRow], why: str, now: float, **fields: Any) -> None:
        """End the attempts of frames that are rendering (a user moved them on); with ``fields``, set those on
        the frames."""
        if not rendering:
            return
        for f in rendering:
            self.attempts.end_attempt(txn, f.attempt_id, Outcome.CANCELLED, None, why, now)
        if fields:
            self.store.update_frames(txn, rendering[0].job_id, [f.id for f in rendering], **fields)

    def _ended(self, name: str, rendering: list[FrameRow]) -> None:
        """Frames ended without their hosts' reports: the units they held are free, and a job others wait for may
        have changed (their ``waiting_for`` reads anew)."""
        if rendering:
            self.leasing.units_freed()
        self.leasing.dependency_changed(name)

    def _kill(self, rendering: list[FrameRow]) -> None:
        for f in rendering:
            self.kills.kill(f.host or self.store.attempt_host(f.attempt_id), f.attempt_id)
