"""The farm: jobs in, frames out to render hosts, attempts reported back, state kept in the store.

``Coordinator`` builds its parts and keeps one public face for the HTTP layer, the node's own slots and the tests:

    JobActions    submit, pause, resume, cancel, retry, delete, clear_blocklist, log_path (job_actions)
    Leasing       which queued frames go to which host, the attempts that start             (leasing.py)
    Attempts      started, output, finished (+ the next lease), interrupted, lost, revived  (attempts.py)
    RemoteHosts   heartbeats, numbered leases and reports of `farm-node worker` hosts       (remote.py)
    Liveness      silent hosts lost, the restart sweep                                      (liveness.py)
    SharedFarm    with a store other coordinators share: signals, hosts, liveness decided once   (farm.py)
    HostRegistry, WorkSignal, KillOrders, AttemptLogs (files; DatabaseLogs in a shared store)
                                                          (hosts.py, signals.py, attempt_logs.py, db_logs.py)

Each part declares what it needs in its constructor (the store, the clock, the farm lock, the signals); time comes
from the injected clock so that lease expiry is tested in milliseconds.

Lock order (a thread holding one lock takes only locks after it): the farm lock (``Coordinator.lock``, one RLock:
every decision that reads then writes the store), then the store's lock (``Store.write``/``read``), then an attempt
log's lock, a leaf too (a log kept in the database queues its chunks under it and writes them after). The host
registry's and the kill orders' locks are leaves: nothing else is taken while they are held.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from typing import Any, Callable, Iterable

from farm_node.coordinator.attempt_logs import AttemptLogs
from farm_node.coordinator.attempts import Attempts
from farm_node.coordinator.db_logs import DatabaseLogs, LogSource, bytes_source, database_source, file_source
from farm_node.coordinator.farm import SharedFarm
from farm_node.coordinator.hosts import HostRegistry, HostState
from farm_node.coordinator.job_actions import JobActions
from farm_node.coordinator.leasing import Leasing
from farm_node.coordinator.liveness import Liveness
from farm_node.coordinator.remote import RemoteHosts
from farm_node.coordinator.signals import KillOrders, WorkSignal
from farm_node.errors import NotFound
from farm_node.scheduler import Outcome
from farm_node.start_journal import StartJournal
from farm_node.store import Store
from farm_node.wire import DEFAULT_MAX_LOG_BYTES

log = logging.getLogger("farm_node")


class Coordinator:
    def __init__(self, store: Store, data_dir: str, name: str, clock: Callable[[], float] = time.time,
                 max_log_bytes: int = DEFAULT_MAX_LOG_BYTES, heartbeat: float = 5.0, lost_after: float = 15.0,
                 block_after: int = 3) -> None:
        self.store = store
        self.reader = store.reader
        self.data_dir = data_dir
        self.name = name
        self.clock = clock
        self.heartbeat = heartbeat
        self.lost_after = lost_after
        self.lock = threading.RLock()
        # This coordinator's life: a worker that knew another one re-attaches (docs/DESIGN.md, "Worker protocol").
        self.epoch = secrets.token_hex(8)
        self.hosts = HostRegistry(name, clock, lost_after)
        self.hosts.load(store.hosts())
        self.work = WorkSignal()
        self.kills = KillOrders(self.hosts.is_remote)
        # With a store other coordinators share, logs live in it: any coordinator serves any log.
        self.logs = (DatabaseLogs(store, data_dir, max_log_bytes) if store.shared
                     else AttemptLogs(data_dir, max_log_bytes))
        # The node's own slots' started reports, on their way to the store (farm_node/start_journal.py).
        self.journal = StartJournal(os.path.join(data_dir, "started.journal"))
        self.leasing = Leasing(store, clock, self.lock, self.hosts, self.work)
        self.attempts = Attempts(store, clock, self.lock, self.logs, self.leasing, self.work, self.journal,
                                 block_after)
        self.actions = JobActions(store, clock, self.lock, self.attempts, self.logs, self.kills, self.work)
        self.remote = RemoteHosts(store, clock, self.lock, self.hosts, self.leasing, self.attempts, self.kills,
                                  self.epoch, heartbeat, lost_after)
        self.liveness = Liveness(store, clock, self.lock, self.hosts, self.attempts, name, heartbeat, lost_after)
        # What only a store shared by several coordinators needs (coordinator/farm.py): signals to and from the
        # others, the farm's hosts in the store, and liveness decided by one coordinator of the farm.
        self.farm = (SharedFarm(store, clock, self.lock, self.hosts, self.attempts, self.work, self.kills, name,
                                heartbeat, lost_after) if store.shared else None)

    # -- start and stop -----------------------------------------------------------------------------------------
    def recover(self, kill_orphan: Callable[[int, float | None], Any], local_host: str | None = None) -> int:
        """After a restart: frames that were rendering on this node's own slots go back to the queue.

        Their processes died with the node, or are killed now with ``kill_orphan(pid, started)`` if a SIGKILL left
        them running; the interruption was the node's, so it does not use up an attempt. Frames held by remote
        hosts wait for those hosts to re-attach.
        """
        running = self.store.running_attempts(local_host or self.name)
        journal = self.journal.read()  # pids of renders started just before the stop, not yet in the store
        for a in running:
            pid, started = a.pid, a.started
            if not pid and a.id in journal:
                pid, started = journal[a.id]
            if pid:
                kill_orphan(pid, started)
        if running:
            self.attempts.requeue(running, Outcome.INTERRUPTED, "the node restarted while this frame was rendering",
                                  count=False)
        self.journal.reset()
        return len(running)

    def start(self) -> None:
        """The coordinator's own threads: the started-reports flusher and the liveness checks. Called when the
        node starts serving (the hosts' two heartbeats to claim their frames count from then)."""
        self.attempts.start_flusher()
        self.store.start_listening()
        if self.farm is not None:
            self.farm.keep_alive()
            self.farm.start()
        else:
            self.liveness.start()

    def shutdown(self) -> None:
        self.liveness.stop()
        if self.farm is not None:
            self.farm.stop()
        self.journal.ready.set()
        self.work.close()

    def close(self) -> None:
        """After the last report: the journal's file is closed (its content stays for the next start)."""
        self.journal.close()

    @property
    def closing(self) -> bool:
        return self.work.closing

    # -- hosts and signals --------------------------------------------------------------------------------------
    def register_host(self, name: str, slots: int, local: bool = False, info: dict[str, Any] | None = None
                      ) -> HostState:
        """The node's own slots register as a local host (remote hosts join with their heartbeat)."""
        if not local:
            raise ValueError("remote hosts join with a heartbeat (host_heartbeat), not register_host")
        return self.hosts.register_local(name, slots, info)

    def workers(self) -> list[dict[str, Any]]:
        held: dict[str, int] = {}
        for a in self.store.running_attempts():
            held[a.host] = held.get(a.host, 0) + 1
        blocked: dict[str, list[str]] = {}
        for job, host in self.store.blocklist():
            blocked.setdefault(host, []).append(job)
        if self.farm is not None:
            return self.farm.workers(held, blocked, self.hosts.listing)
        return self.hosts.listing(held, blocked)

    def on_kill(self, listener: Callable[[str, int], None]) -> None:
        self.kills.on_kill(listener)

    def on_work(self, listener: Callable[[], None]) -> None:
        self.work.on_work(listener)

    def wake_workers(self) -> None:
        self.work.wake()

    def wait_for_work(self, seen_gen: int, timeout: float) -> int:
        return self.work.wait(seen_gen, timeout)

    @property
    def work_generation(self) -> int:
        return self.work.generation

    def take_kills(self, host: str) -> list[int]:
        return self.kills.take(host)

    def has_kills(self, host: str) -> bool:
        return self.kills.has(host)

    def touch(self, host: str) -> None:
        self.hosts.touch(host)

    # -- jobs: what clients do ----------------------------------------------------------------------------------
    def submit(self, body: Any) -> list[str]:
        return self.actions.submit(body)

    def pause(self, name: str) -> dict[str, Any]:
        return self.actions.pause(name)

    def resume(self, name: str) -> dict[str, Any]:
        return self.actions.resume(name)

    def cancel(self, name: str) -> dict[str, Any]:
        return self.actions.cancel(name)

    def retry(self, name: str, subjob: str | None = None, frames: Iterable[int] | None = None) -> dict[str, Any]:
        return self.actions.retry(name, subjob, frames)

    def delete(self, name: str) -> dict[str, Any]:
        return self.actions.delete(name)

    def clear_blocklist(self, name: str, host: str | None = None) -> dict[str, Any]:
        return self.actions.clear_blocklist(name, host)

    def update(self, name: str, changes: Any) -> dict[str, Any]:
        """``PATCH /api/jobs/{job}`` (CONTRACT section 6): the job's head once changed."""
        return self.actions.update(name, changes)

    def limits(self) -> dict[str, Any]:
        return self.actions.limits()

    def set_limit(self, name: str, capacity: Any) -> dict[str, Any]:
        return self.actions.set_limit(name, capacity)

    def delete_limit(self, name: str) -> dict[str, Any]:
        return self.actions.delete_limit(name)

    def log_path(self, name: str, subjob: str, number: int, attempt: int | None = None) -> str | None:
        return self.actions.log_path(name, subjob, number, attempt)

    def log_source(self, name: str, subjob: str, number: int, attempt: int | None = None) -> LogSource:
        """A frame's log (its latest attempt's, or attempt number ``attempt``'s) for the log route: a file, or the
        store's chunks when other coordinators share the store."""
        if not self.store.shared:
            return self._file_log(name, subjob, number, attempt)
        row = self.store.job_row(name)
        frame = self.store.frame_row(row.id, subjob, number)
        ids = self.store.attempt_ids(frame.id)
        if attempt is not None:
            ids = [(n, a) for n, a in ids if n == attempt]
            if not ids:
                raise NotFound("frame %d has no attempt %d" % (number, attempt))
        return database_source(self.store, ids[-1][1] if ids else None)

    def _file_log(self, name: str, subjob: str, number: int, attempt: int | None) -> LogSource:
        """A log of this node's data folder: its file, or while an attempt is young its bytes in memory, or the
        store's copy of a log that ended young."""
        row = self.store.job_row(name)
        frame = self.store.frame_row(row.id, subjob, number)
        entry = self.store.attempt_log(frame.id, attempt)
        if entry is None:
            if attempt is not None:
                raise NotFound("frame %d has no attempt %d" % (number, attempt))
            return bytes_source(b"")
        attempt_id, relative = entry
        held = self.logs.in_memory(attempt_id)
        if held is None:
            path = self.logs.path(relative)
            if os.path.exists(path):
                return file_source(path)
            held = self.store.attempt_log_text(attempt_id) or b""
        return bytes_source(held)

    # -- frames: what render hosts do ---------------------------------------------------------------------------
    def lease(self, host: str, free: int) -> list[dict[str, Any]]:
        return self.leasing.lease(host, free)

    def started(self, attempt_id: int, pid: int, defer: bool = False) -> None:
        self.attempts.started(attempt_id, pid, defer)

    def flush_starts(self) -> None:
        self.attempts.flush_starts()

    def output(self, attempt_id: int, data: bytes = b"", progress: float | None = None,
               tail: bytes | None = None, offset: int | None = None) -> bool:
        return self.attempts.output(attempt_id, data, progress, tail, offset)

    def finished(self, attempt_id: int, exit_code: int | None, error: str | None = None) -> str:
        """The attempt's process ended (or could not start). Returns the frame's new status."""
        return self.attempts.finished(attempt_id, exit_code, error)[0]

    def finish_and_lease(self, attempt_id: int, exit_code: int | None, error: str | None, host: str,
                         free: int) -> list[dict[str, Any]]:
        """``finished``, and the host's next frames leased in the same transaction."""
        return self.attempts.finished(attempt_id, exit_code, error, (host, 0 if self.closing else free))[1]

    def interrupted(self, attempt_ids: Iterable[int], reason: str) -> None:
        self.attempts.interrupted(attempt_ids, reason)

    # -- remote hosts (remote.py) -------------------------------------------------------------------------------
    def host_heartbeat(self, host: str, worker_id: str | None, slots: int, info: dict[str, Any] | None,
                       holding: Iterable[int], epoch: str | None = None, seen: int = 0,
                       leaving: bool = False) -> dict[str, Any]:
        answer = self.remote.heartbeat(host, worker_id, slots, info, holding, epoch, seen, leaving)
        if self.farm is not None:
            self.farm.heard(host)
        return answer

    def lease_remote(self, host: str, worker_id: str | None, free: int) -> dict[str, Any] | None:
        return self.remote.lease(host, worker_id, free)

    def host_reports(self, host: str, worker_id: str | None, records: list[dict[str, Any] | None]) -> list[str]:
        return self.remote.reports_and_lease(host, worker_id, records, 0)[0]

    def host_reports_and_lease(self, host: str, worker_id: str | None, records: list[dict[str, Any] | None],
                               free: int) -> tuple[list[str], dict[str, Any] | None]:
        return self.remote.reports_and_lease(host, worker_id, records, free)

    # -- liveness (liveness.py) ---------------------------------------------------------------------------------
    def check(self) -> None:
        if self.farm is not None:
            self.farm.check()
        else:
            self.liveness.check()
