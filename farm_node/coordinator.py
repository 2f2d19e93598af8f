"""The farm: jobs in, frames out to render hosts, attempts reported back, state kept in the store.

Clients call ``submit``, ``pause``, ``retry``...; render hosts (the node's own slots and remote workers alike) call
``lease``, ``started``, ``output`` and ``finished``, each report naming its attempt so that a late report from a host
that lost its frame changes nothing. Time comes from an injected clock so that lease expiry is tested in milliseconds.
"""
from __future__ import annotations

import itertools
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from farm_node import scheduler
from farm_node.errors import Conflict, NotFound, StaleAttempt
from farm_node.jobspec import parse_submission
from farm_node.start_journal import StartJournal
from farm_node.store import Store

log = logging.getLogger("farm_node")

TAIL_BYTES = 64 * 1024
DEFAULT_MAX_LOG_BYTES = 512 * 1024 * 1024
# How often the running frame's stdout tail and progress are written to the store (they also go at the end).
STDOUT_SAVE_SECONDS = 0.5
# How long the node's own slots' started reports (pid, start time) may wait to be written with the frame's end
# before they are written on their own; the journal has them meanwhile.
STARTED_DEFER_SECONDS = 0.1


# Outcomes of an attempt that its own host reported: the render is over, whatever the host still holds of it.
_ENDED_BY_HOST = frozenset({"complete", "failed", "interrupted", "abandoned"})


@dataclass
class HostState:
    name: str
    slots: int
    local: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0
    lost: bool = False
    kills: set[int] = field(default_factory=set)
    # Remote hosts only: the worker's id (kept in its data folder), whether it has told this coordinator what it holds
    # since the coordinator started, and whether it said goodbye (a clean stop).
    worker_id: str | None = None
    attached: bool = False
    stopped: bool = False


class _AttemptLog:
    """The log file of one running attempt, its 64 KiB tail, and when the tail was last saved."""

    def __init__(self, path: str, cap: int, note_bytes: int = 0) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.file = open(path, "ab")
        self.written = self.file.tell()
        # Log bytes the render host has sent for this attempt (the file minus the coordinator's own notes): a report
        # replayed after a lost answer or a restart names its offset, and what is already here is not written again.
        self.received = max(0, self.written - note_bytes)
        self.cap = cap
        self.full = self.written >= cap
        self.tail = bytearray()
        self.progress: float | None = None
        self.saved_at = 0.0
        self.lock = threading.Lock()

    def write(self, data: bytes) -> bool:
        if data and not self.full:
            room = self.cap - self.written
            if len(data) >= room:
                self.file.write(data[:room])
                note = ("\n[pyfarm] log truncated: this attempt's log keeps its first %d bytes; the process keeps"
                        " running and the frame's stdout still shows its last 64 KiB\n" % self.cap).encode()
                self.file.write(note)
                self.written = self.cap
                self.full = True
            else:
                self.file.write(data)
                self.written += len(data)
            self.file.flush()
        if data:
            self.tail += data
            if len(self.tail) > 2 * TAIL_BYTES:
                del self.tail[:-TAIL_BYTES]
        return not self.full

    def set_tail(self, tail: bytes) -> None:
        self.tail = bytearray(tail[-TAIL_BYTES:])

    def text(self) -> str:
        return bytes(self.tail[-TAIL_BYTES:]).decode("utf-8", "replace")

    def close(self) -> None:
        self.file.close()


class Coordinator:
    def __init__(self, store: Store, data_dir: str, name: str, clock: Callable[[], float] = time.time,
                 max_log_bytes: int = DEFAULT_MAX_LOG_BYTES, heartbeat: float = 5.0, lost_after: float = 15.0,
                 block_after: int = 3) -> None:
        self.store = store
        self.data_dir = data_dir
        self.name = name
        self.clock = clock
        self.max_log_bytes = max_log_bytes
        self.heartbeat = heartbeat
        self.lost_after = lost_after
        self.block_after = block_after
        self.started_at = clock()
        self.hosts: dict[str, HostState] = {}
        self._logs: dict[int, _AttemptLog] = {}
        self._lease_lock = threading.RLock()
        self._work = threading.Condition()
        self._work_gen = 0
        self._kill_listeners: list[Callable[[str, int], None]] = []
        self._work_listeners: list[Callable[[], None]] = []
        self._subjob_names: dict[int, str] = {}
        self._closing = False
        # Remote hosts (docs/DESIGN.md, "Worker protocol"): this coordinator's life, the number of every lease answer,
        # and the lease answers that may still be on their way to their host (host -> attempt -> answer number).
        self.epoch = secrets.token_hex(8)
        self._lease_numbers = itertools.count(1)
        self._in_flight: dict[str, dict[int, int]] = {}
        self._kills_lock = threading.Lock()
        # The node's own slots' started reports, on their way to the store (farm_node/start_journal.py).
        self._starts = StartJournal(os.path.join(data_dir, "started.journal"))
        self._starts_thread: threading.Thread | None = None
        self._swept = False
        self._checks_stop = threading.Event()
        for h in store.hosts():
            if h["name"] != name:
                self.hosts[h["name"]] = HostState(h["name"], h["slots"], info=h["info"], lost=h["lost"],
                                                  last_seen=h["last_seen"] or 0.0, worker_id=h["worker_id"])

    # -- start and stop -----------------------------------------------------------------------------------------
    def recover(self, local_host: str | None = None) -> int:
        """After a restart: frames that were rendering on this node's own slots go back to the queue.

        Their processes died with the node (or are killed now if a SIGKILL left them running); the interruption was
        the node's, so it does not use up an attempt. Frames held by remote hosts wait for those hosts to re-attach.
        """
        host = local_host or self.name
        running = self.store.running_attempts(host)
        journal = self._starts.read()  # pids of renders started just before the stop, not yet in the store
        if running:
            from farm_node import runner
            for a in running:
                pid, started = a["pid"], a["started"]
                if not pid and a["id"] in journal:
                    pid, started = journal[a["id"]]
                if pid:
                    runner.kill_orphan(pid, started)
            self._requeue(running, "interrupted", "the node restarted while this frame was rendering", count=False)
        self._starts.reset()
        return len(running)

    def shutdown(self) -> None:
        self._closing = True
        self._checks_stop.set()
        self._starts.ready.set()
        self.wake_workers()

    @property
    def closing(self) -> bool:
        return self._closing

    # -- hosts --------------------------------------------------------------------------------------------------
    def register_host(self, name: str, slots: int, local: bool = False, info: dict[str, Any] | None = None
                      ) -> HostState:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = HostState(name, slots, local)
        host.slots, host.local = slots, local
        if info:
            host.info = dict(info)
        host.last_seen = self.clock()
        host.lost = False
        return host

    def on_kill(self, listener: Callable[[str, int], None]) -> None:
        """``listener(host, attempt_id)`` is called when a running attempt must be killed."""
        self._kill_listeners.append(listener)

    def _kill(self, host: str | None, attempt_id: int) -> None:
        if host is None:
            return
        state = self.hosts.get(host)
        if state is not None and not state.local:
            with self._kills_lock:
                state.kills.add(attempt_id)
        for listener in self._kill_listeners:
            listener(host, attempt_id)

    def on_work(self, listener: Callable[[], None]) -> None:
        """``listener()`` is called (from any thread) when frames may have become available."""
        self._work_listeners.append(listener)

    def wake_workers(self) -> None:
        with self._work:
            self._work_gen += 1
            self._work.notify_all()
        for listener in self._work_listeners:
            listener()

    def wait_for_work(self, seen_gen: int, timeout: float) -> int:
        """Block until frames may have become available after generation ``seen_gen`` (or ``timeout``)."""
        with self._work:
            if self._work_gen == seen_gen and not self._closing:
                self._work.wait(timeout)
            return self._work_gen

    @property
    def work_generation(self) -> int:
        return self._work_gen

    # -- jobs: what clients do ----------------------------------------------------------------------------------
    def submit(self, body: Any) -> list[str]:
        specs = parse_submission(body)
        with self.store.write() as txn:
            names = self.store.insert_jobs(txn, specs, self.clock())
        self.wake_workers()
        return names

    def queue(self) -> dict[str, Any]:
        return self.store.queue_dict()

    def job(self, name: str) -> dict[str, Any]:
        return self.store.job_dict(name)

    def summary(self) -> dict[str, Any]:
        return self.store.summary_dict()

    def changes(self, since: int) -> dict[str, Any]:
        return self.store.changes(since)

    def pause(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.store.write() as txn:
            self.store.set_paused(txn, row["id"], True)
        return {"job": name, "paused": True}

    def resume(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.store.write() as txn:
            self.store.set_paused(txn, row["id"], False)
        self.wake_workers()
        return {"job": name, "paused": False}

    def cancel(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        job_id = row["id"]
        with self._lease_lock:
            frames = self.store.frames_where("job_id=? AND status IN ('Queued', 'Rendering')", (job_id,))
            rendering = [f for f in frames if f[4] == scheduler.RENDERING]
            now = self.clock()
            with self.store.write() as txn:
                self.store.update_frames(txn, job_id, [f[0] for f in frames if f[4] == scheduler.QUEUED],
                                         status=scheduler.CANCELLED)
                for f in rendering:
                    self._end_attempt(txn, f[17], "cancelled", None, "cancelled by a user", now)
                self.store.update_frames(txn, job_id, [f[0] for f in rendering], status=scheduler.CANCELLED,
                                         finished=now, attempt_id=None)
        for f in rendering:
            self._kill(f[5] or self._attempt_host(f[17]), f[17])
        return {"job": name, "cancelled": len(frames)}

    def retry(self, name: str, subjob: str | None = None, frames: Iterable[int] | None = None) -> dict[str, Any]:
        row = self.store.job_row(name)
        job_id = row["id"]
        with self._lease_lock:
            if subjob is None and frames is None:
                rows = self.store.frames_where("job_id=? AND status IN ('Failed', 'Cancelled')", (job_id,))
            else:
                rows = self._named_frames(job_id, subjob, frames)
            rendering = [f for f in rows if f[4] == scheduler.RENDERING]
            now = self.clock()
            with self.store.write() as txn:
                for f in rendering:
                    self._end_attempt(txn, f[17], "cancelled", None, "retried by a user", now)
                self.store.update_frames(txn, job_id, [f[0] for f in rows], status=scheduler.QUEUED, attempts=0,
                                         attempt_id=None, progress=0, exit_code=None, error=None, finished=None)
                # An attempt of a lost host must not come back and complete a frame the user asked to render anew.
                self.store.retire_lost_attempts(txn, [f[0] for f in rows])
                self.store.clear_blocklist(txn, job_id)
        for f in rendering:
            self._kill(f[5] or self._attempt_host(f[17]), f[17])
        self.wake_workers()
        return {"job": name, "retried": len(rows)}

    def _named_frames(self, job_id: int, subjob: str | None, frames: Iterable[int] | None) -> list[tuple]:
        args: list[Any] = [job_id]
        sql = "job_id=?"
        if subjob is not None:
            sid = self.store.subjob_id(job_id, subjob)
            if sid is None:
                raise NotFound("no subjob named %r in this job" % subjob)
            sql += " AND subjob_id=?"
            args.append(sid)
        if frames is None:
            return self.store.frames_where(sql, tuple(args))
        wanted = {int(n) for n in frames}
        rows = [f for f in self.store.frames_where(sql, tuple(args)) if f[3] in wanted]
        missing = wanted - {f[3] for f in rows}
        if missing:
            raise NotFound("no frame %s in %s" % (", ".join(map(str, sorted(missing))),
                                                  "subjob %r" % subjob if subjob else "this job"))
        return rows

    def delete(self, name: str) -> dict[str, Any]:
        row = self.store.job_row(name)
        job_id = row["id"]
        with self._lease_lock:
            rendering = self.store.frames_where("job_id=? AND status='Rendering'", (job_id,))
            paths = self.store.job_log_paths(job_id)
            with self.store.write() as txn:
                self.store.delete_job(txn, job_id, name)
        for f in rendering:
            self._kill(f[5] or self._attempt_host(f[17]), f[17])
            log_ = self._logs.pop(f[17], None)
            if log_:
                log_.close()
        for p in paths:
            try:
                os.remove(os.path.join(self.data_dir, p))
            except OSError:
                pass
        return {"job": name, "deleted": True}

    def clear_blocklist(self, name: str, host: str | None = None) -> dict[str, Any]:
        row = self.store.job_row(name)
        with self.store.write() as txn:
            self.store.clear_blocklist(txn, row["id"], host)
        self.wake_workers()
        return {"job": name, "blocklist": [h for _, h in self.store.blocklist(row["id"])]}

    def log_path(self, name: str, subjob: str, number: int, attempt: int | None = None) -> str | None:
        row = self.store.job_row(name)
        frame = self.store.frame_row(row["id"], subjob, number)
        logs = self.store.attempt_logs(frame[0])
        if attempt is not None:
            logs = [entry for entry in logs if entry[0] == attempt]
            if not logs:
                raise NotFound("frame %d has no attempt %d" % (number, attempt))
        if not logs:
            return None
        return os.path.join(self.data_dir, logs[-1][1])

    def workers(self) -> list[dict[str, Any]]:
        running = self.store.running_attempts()
        held: dict[str, int] = {}
        for a in running:
            held[a["host"]] = held.get(a["host"], 0) + 1
        blocked: dict[str, list[str]] = {}
        for job, host in self.store.blocklist():
            blocked.setdefault(host, []).append(job)
        out = []
        for h in list(self.hosts.values()):
            n = held.get(h.name, 0)
            state = "lost" if h.lost else "stopped" if h.stopped and not n else ("rendering" if n else "idle")
            out.append({"name": h.name, "state": state, "slots": h.slots, "frames": n, "last_seen": h.last_seen,
                        "local": h.local, "blocklisted": blocked.get(h.name, []), **h.info})
        return out

    # -- frames: what render hosts do ---------------------------------------------------------------------------
    def lease(self, host: str, free: int, answer_no: int | None = None) -> list[dict[str, Any]]:
        """Hand up to ``free`` queued frames to ``host``, in scheduling order; each starts a new attempt.

        ``answer_no`` numbers the lease answer to a remote host, remembered until the host confirms it got it.
        """
        if free <= 0 or self._closing:
            return []
        state = self.hosts.get(host)
        if state is not None:
            state.last_seen = self.clock()
        with self._lease_lock:
            picked = self._pick(host, free)
            if not picked:
                return []
            with self.store.write() as txn:
                return self._grant(txn, host, picked, answer_no)

    def _pick(self, host: str, free: int) -> list[tuple[dict, tuple]]:
        """The next ``free`` queued frames for ``host`` in scheduling order (inside a transaction: as it stands)."""
        picked: list[tuple[dict, tuple]] = []
        for job in scheduler.job_order(self.store.runnable_jobs(host)):
            for f in self.store.queued_frames(job["id"], free - len(picked)):
                picked.append((job, f))
            if len(picked) >= free:
                break
        return picked

    def _grant(self, txn: Any, host: str, picked: list[tuple[dict, tuple]], answer_no: int | None
               ) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        for job, f in picked:
            frame_id, job_id, subjob_id, number = f[0], f[1], f[2], f[3]
            attempt_no = self.store.attempt_count(frame_id) + 1
            log_path = os.path.join("logs", str(job_id), "%d-%d.log" % (frame_id, attempt_no))
            attempt_id = self.store.new_attempt(txn, frame_id, attempt_no, host, now, log_path)
            self.store.update_frames(txn, job_id, [frame_id], status=scheduler.RENDERING, attempts=f[10] + 1,
                                     attempt_id=attempt_id, host=None, pid=None, progress=0, exit_code=None,
                                     started=None, finished=None, error=None, stdout="", old_status=f[4],
                                     subjob_id=subjob_id)
            # The log file is made by the first output (or at the end): not here, under the lease lock.
            if answer_no is not None:
                self._in_flight.setdefault(host, {})[attempt_id] = answer_no
            extra = store_extra(f)
            last = extra.get("last_frame")
            out.append({"attempt": attempt_id, "job": job["name"], "subjob": self._subjob_name(subjob_id),
                        "frame": number, "argv": _json(f[8]), "timeout": job["frame_timeout"],
                        "frames": (int(last) - number + 1) if isinstance(last, int) and last >= number else 1})
        return out

    def _subjob_name(self, subjob_id: int) -> str:
        name = self._subjob_names.get(subjob_id)
        if name is None:
            name = self._subjob_names[subjob_id] = self.store.subjob_name(subjob_id)
        return name

    def _attempt_host(self, attempt_id: int | None) -> str | None:
        if attempt_id is None:
            return None
        a = self.store.attempt(attempt_id)
        return a["host"] if a else None

    def _current(self, attempt_id: int) -> dict[str, Any]:
        a = self.store.attempt(attempt_id)
        if a is None or a["current"] != attempt_id or a["outcome"] != "running":
            raise StaleAttempt("attempt %d is no longer this frame's current attempt; the report is refused"
                               % attempt_id)
        return a

    def started(self, attempt_id: int, pid: int, defer: bool = False) -> None:
        """The attempt's process runs as ``pid``. With ``defer`` (the node's own slots), the report goes into the
        start journal and reaches the store with the frame's end, or ``STARTED_DEFER_SECONDS`` later; it is not
        checked against the store then (the slots learn of a moved-on attempt through ``on_kill``)."""
        now = self.clock()
        if defer:
            self._starts.add(attempt_id, pid, now)
            if self._starts_thread is None:
                self._start_flusher()
            return
        a = self._current(attempt_id)
        with self.store.write() as txn:
            self.store.update_attempt(txn, attempt_id, pid=pid)
            self.store.update_frames(txn, a["job_id"], [a["frame_id"]], host=a["host"], pid=pid, started=now)

    def _start_flusher(self) -> None:
        with self._kills_lock:
            if self._starts_thread is not None:
                return
            self._starts_thread = threading.Thread(target=self._flush_starts_loop, name="started-reports",
                                                   daemon=True)
        self._starts_thread.start()

    def _flush_starts_loop(self) -> None:
        while not self._closing and not self.store.closed:
            self._starts.ready.wait()
            if self._closing:
                break
            time.sleep(STARTED_DEFER_SECONDS)  # frames that end meanwhile take their start with them
            if self.store.closed:
                return
            try:
                self.flush_starts()
            except Exception:  # the journal keeps them; the next round tries again
                log.exception("writing started reports failed")
                time.sleep(1.0)
        try:
            if not self.store.closed:
                self.flush_starts()
        except Exception:  # the store closed meanwhile: the journal keeps them for the next start
            log.exception("writing the last started reports failed")

    def flush_starts(self) -> None:
        """Write the started reports waiting in the journal into the store, in one transaction."""
        with self._lease_lock:
            entries = self._starts.take_all()
            if not entries:
                return
            try:
                with self.store.write() as txn:
                    for attempt_id, (pid, started) in entries.items():
                        self.store.record_start(txn, attempt_id, pid, started)
            except BaseException:
                self._starts.give_back(entries)
                raise
            finally:
                self._starts.done(len(entries))

    def output(self, attempt_id: int, data: bytes = b"", progress: float | None = None,
               tail: bytes | None = None, offset: int | None = None) -> bool:
        """Append log bytes of a running attempt. False means the log is full: send only ``tail`` from now on.

        ``offset`` (remote hosts) is where ``data`` starts in the attempt's output: bytes already here are skipped.
        """
        a = self._current(attempt_id)
        alog = self._logs.get(attempt_id)
        if alog is None:
            alog = self._logs[attempt_id] = _AttemptLog(os.path.join(self.data_dir, a["log_path"]),
                                                        self.max_log_bytes, a["note_bytes"])
        with alog.lock:
            if offset is not None and data:
                seen = alog.received - offset
                alog.received = max(alog.received, offset + len(data))
                if seen > 0:
                    data = data[seen:]
            keep = alog.write(data)
            if tail is not None:
                alog.set_tail(tail)
            if progress is not None:
                alog.progress = max(0.0, min(100.0, float(progress)))
            now = time.monotonic()
            due = now - alog.saved_at >= STDOUT_SAVE_SECONDS
            if due:
                alog.saved_at = now
                fields: dict[str, Any] = {"stdout": alog.text()}
                if alog.progress is not None:
                    fields["progress"] = alog.progress
        if due:
            with self.store.write() as txn:
                self.store.update_frames(txn, a["job_id"], [a["frame_id"]], **fields)
        return keep

    def finished(self, attempt_id: int, exit_code: int | None, error: str | None = None) -> str:
        """The attempt's process ended (or could not start). Returns the frame's new status."""
        status, _ = self._finished(attempt_id, exit_code, error, None, 0)
        return status

    def finish_and_lease(self, attempt_id: int, exit_code: int | None, error: str | None, host: str,
                         free: int) -> list[dict[str, Any]]:
        """``finished``, and the host's next frames leased in the same transaction: one commit where a render
        host's slot would otherwise make two, between one frame's end and the next one's start."""
        _, leases = self._finished(attempt_id, exit_code, error, host, 0 if self._closing else free)
        return leases

    def _finished(self, attempt_id: int, exit_code: int | None, error: str | None, host: str | None, free: int
                  ) -> tuple[str, list[dict[str, Any]]]:
        a = self._current(attempt_id)
        now = self.clock()
        alog = self._logs.pop(attempt_id, None)
        stdout = None
        progress = None
        if alog is not None:
            with alog.lock:
                alog.close()
                stdout = alog.text()
                progress = alog.progress
        # An attempt whose process printed nothing has no log file: its log reads empty, and a frame's end does not
        # wait on a file system to make one.
        ok = exit_code == 0 and error is None
        blocked = False
        leases: list[dict[str, Any]] = []
        with self._lease_lock:
            # Under the lease lock, as the journal's own writes are: a start is written by this transaction or
            # was by an earlier one, never by a later one that would find the frame moved on.
            early = self._starts.take(attempt_id)
            try:
                with self.store.write() as txn:
                    status, blocked, leases = self._finish_txn(txn, a, attempt_id, exit_code, error, stdout,
                                                               progress, ok, now, early, host, free)
            except BaseException:
                if early is not None:
                    self._starts.give_back({attempt_id: early})
                raise
            finally:
                if early is not None:
                    self._starts.done()
        if blocked:
            log.warning("host %s is blocklisted for job id %d after %d failed frames", a["host"], a["job_id"],
                        self.block_after)
        if status == scheduler.QUEUED:
            self.wake_workers()
        return status, leases

    def _finish_txn(self, txn: Any, a: dict[str, Any], attempt_id: int, exit_code: int | None, error: str | None,
                    stdout: str | None, progress: float | None, ok: bool, now: float,
                    early: tuple[int, float] | None, host: str | None, free: int
                    ) -> tuple[str, bool, list[dict[str, Any]]]:
        state = self.store.frame_state(txn, a["frame_id"])
        if state is None or state[0] != attempt_id:
            # Moved on (cancelled, retried, deleted, lost) since ``a`` was read outside the lock.
            raise StaleAttempt("attempt %d is no longer this frame's current attempt; the report is refused"
                               % attempt_id)
        blocked = False
        leases: list[dict[str, Any]] = []
        fields: dict[str, Any] = {"exit_code": exit_code, "finished": now, "error": error}
        attempt_fields: dict[str, Any] = {}
        if early is not None:
            fields.update(host=a["host"], pid=early[0], started=early[1])
            attempt_fields["pid"] = early[0]
        if stdout is not None:
            fields["stdout"] = stdout
        if ok:
            status = scheduler.COMPLETE
            fields["progress"] = 100.0
        else:
            status = scheduler.after_failure(a["attempts"], a["max_attempts"])
            if progress is not None:
                fields["progress"] = progress
            if exit_code is not None and error is None:
                fields["error"] = "the render exited with code %d" % exit_code
            blocked = self.store.count_failure(txn, a["job_id"], a["host"], self.block_after)
        fields["status"] = status
        fields["attempt_id"] = None
        self.store.update_attempt(txn, attempt_id, outcome="complete" if ok else "failed", exit_code=exit_code,
                                  finished=now, error=fields.get("error"), **attempt_fields)
        self.store.update_frames(txn, a["job_id"], [a["frame_id"]], old_status=state[1], subjob_id=a["subjob_id"],
                                 **fields)
        if error and error not in (stdout or ""):
            self._note(txn, attempt_id, error)  # e.g. a frame timeout: the log says why the render stopped
        if host is not None and free > 0:
            # Picked after the end is written: a frame requeued by it, or a blocklist it started, counts.
            picked = self._pick(host, free)
            if picked:
                leases = self._grant(txn, host, picked, None)
        return status, blocked, leases

    def interrupted(self, attempt_ids: Iterable[int], reason: str) -> None:
        """The node itself stopped these attempts (shutdown): back to the queue without using up an attempt."""
        rows = []
        for attempt_id in attempt_ids:
            try:
                a = self._current(attempt_id)
            except StaleAttempt:
                continue
            rows.append({"id": attempt_id, "frame_id": a["frame_id"], "job_id": a["job_id"], "host": a["host"]})
        self._requeue(rows, "interrupted", reason, count=False)

    def _requeue(self, attempts: list[dict[str, Any]], outcome: str, reason: str, count: bool) -> None:
        now = self.clock()
        with self._lease_lock, self.store.write() as txn:
            for a in attempts:
                alog = self._logs.pop(a["id"], None)
                if alog is not None:
                    alog.close()
                self._end_attempt(txn, a["id"], outcome, None, reason, now)
                attempts_used, max_attempts = self.store.frame_attempts(a["frame_id"])
                if count:
                    status = scheduler.after_failure(attempts_used, max_attempts)
                else:
                    status, attempts_used = scheduler.QUEUED, max(0, attempts_used - 1)
                self.store.update_frames(txn, a["job_id"], [a["frame_id"]], status=status, attempt_id=None,
                                         attempts=attempts_used, error=reason, finished=now)
        self.wake_workers()

    # -- remote hosts: join, heartbeat, lease, reports, loss (docs/DESIGN.md, "Worker protocol") ---------------
    def _remote(self, host: str, worker_id: str | None) -> HostState | None:
        """The state of remote host ``host`` (None if new); Conflict if the name belongs to another host."""
        state = self.hosts.get(host)
        if host == self.name or (state is not None and state.local):
            raise Conflict("%r is the name of the coordinator's own host; give the worker its own --name" % host)
        if (state is not None and worker_id and state.worker_id and state.worker_id != worker_id and state.attached
                and not state.lost and not state.stopped and self.clock() - state.last_seen <= self.lost_after):
            raise Conflict("another worker named %r is attached to this coordinator; give each worker its own --name"
                           % host)
        return state

    def host_heartbeat(self, host: str, worker_id: str | None, slots: int, info: dict[str, Any] | None,
                       holding: Iterable[int], epoch: str | None = None, seen: int = 0,
                       leaving: bool = False) -> dict[str, Any]:
        """A remote host says it is alive and which attempts it holds; the answer says which of them to kill.

        This is also how a host joins, re-joins after it was declared lost, and re-attaches after a restart of the
        coordinator: the store's view of what the host renders is reconciled with what the host says it holds.
        ``seen`` is the number of the last lease answer the host received from this coordinator (``epoch``): leases
        numbered after it may still be on their way and are not taken for lost.
        """
        held = {int(a) for a in holding}
        kill: set[int] = set()
        with self._lease_lock:
            state = self._remote(host, worker_id)
            now = self.clock()
            if state is None:
                state = self.hosts[host] = HostState(host, slots)
            joined = (not state.attached or state.lost or state.stopped or state.worker_id != worker_id
                      or state.slots != slots or (info and state.info != info))
            if joined and (state.lost or state.stopped or not state.attached):
                log.info("host %s %s", host, "joins" if not state.attached else "joins again")
            state.slots, state.worker_id, state.last_seen = slots, worker_id, now
            if info:
                state.info = dict(info)
            state.lost, state.attached = False, True
            confirmed = seen if epoch == self.epoch else 0
            if leaving:
                confirmed = float("inf")  # a host that stops holds nothing more than it says
            unclaimed = []
            flights = self._in_flight.get(host, {})
            for a in self.store.running_attempts(host):
                if a["id"] in held:
                    continue
                number = flights.get(a["id"])
                if number is not None and number > confirmed:
                    continue
                unclaimed.append(a)
            for attempt_id, number in list(flights.items()):
                if number <= confirmed:
                    del flights[attempt_id]
            revive, gone = [], []
            for attempt_id in sorted(held):
                a = self.store.attempt(attempt_id)
                if a is not None and a["host"] == host and a["current"] == attempt_id and a["outcome"] == "running":
                    if leaving:
                        gone.append(a)
                    continue
                if a is not None and a["host"] == host and a["outcome"] in _ENDED_BY_HOST:
                    # Its end came from the host itself (the heartbeat left before that report was answered):
                    # there is nothing to kill, and a kill order would answer this long poll at once, every time.
                    continue
                if a is not None and not leaving and self._revivable(a, host):
                    revive.append(a)
                else:
                    kill.add(attempt_id)
            if unclaimed:
                self._lose(unclaimed, "host %s no longer holds this frame (its worker restarted, or the lease never"
                                      " reached it)" % host)
            if gone:
                self._lose(gone, "host %s stopped before it reported this frame's end" % host)
            for a in revive:
                self._revive(a)
            state.stopped = leaving
            if joined or leaving:
                self.store.save_host(host, slots, state.info, worker_id, now, False)
        kill.update(self.take_kills(host))
        return {"epoch": self.epoch, "kill": sorted(kill), "heartbeat": self.heartbeat,
                "lost_after": self.lost_after}

    def take_kills(self, host: str) -> list[int]:
        """The attempts ``host`` was told to kill since it last asked (cancel, retry, delete)."""
        state = self.hosts.get(host)
        if state is None:
            return []
        with self._kills_lock:
            kills, state.kills = state.kills, set()
        return sorted(kills)

    def has_kills(self, host: str) -> bool:
        state = self.hosts.get(host)
        return bool(state is not None and state.kills)

    def touch(self, host: str) -> None:
        """A remote host is still there (its heartbeat's long poll is answered)."""
        state = self.hosts.get(host)
        if state is not None and state.attached and not state.lost:
            state.last_seen = self.clock()

    def lease_remote(self, host: str, worker_id: str | None, free: int) -> dict[str, Any] | None:
        """Frames for a remote host; None if the host must send a heartbeat first (new, lost, or unknown since a
        restart of the coordinator). Every answer is numbered, see ``host_heartbeat``."""
        with self._lease_lock:
            state = self._remote(host, worker_id)
            if (state is None or not state.attached or state.lost or state.stopped
                    or (worker_id and state.worker_id != worker_id)):
                return None
            state.last_seen = self.clock()
            answer_no = next(self._lease_numbers)
            leases = self.lease(host, free, answer_no=answer_no)
        return {"epoch": self.epoch, "seq": answer_no, "leases": leases}

    def host_reports(self, host: str, worker_id: str | None, records: list[dict[str, Any] | None]) -> list[str]:
        """Apply a remote host's reports in order; per record "ok", "full" (log full: send only the tail from now
        on), "stale" (the attempt is not this host's current one: stop it, drop its reports) or "bad"."""
        return self.host_reports_and_lease(host, worker_id, records, 0)[0]

    def host_reports_and_lease(self, host: str, worker_id: str | None, records: list[dict[str, Any] | None],
                               free: int) -> tuple[list[str], dict[str, Any] | None]:
        """``host_reports``, then up to ``free`` frames for the slots the reports freed, leased in the transaction
        of the last reports: a remote host's frame end and its next frame in one call and one commit.

        The lease answer is ``lease_remote``'s (numbered), or None when ``free`` is 0 or the host must send a
        heartbeat first.
        """
        state = self._remote(host, worker_id)
        if state is not None and state.attached and not state.lost:
            state.last_seen = self.clock()
        results: list[str] = []
        group: list[dict[str, Any] | None] = []
        leased: list[dict[str, Any] | None] = []

        def apply_group(last: bool) -> None:
            # Starts, ends, interruptions: one transaction for the run of them (each record a savepoint of it),
            # so that a frame's start and end, sent together, cost one commit; the lease joins the last one.
            if group or (last and free > 0):
                with self._lease_lock, self.store.write():
                    results.extend(self._report(host, g) if g is not None else "bad" for g in group)
                    if last and free > 0:
                        leased.append(self.lease_remote(host, worker_id, free))
                group.clear()

        for r in records:
            if r is not None and r.get("type") == "output":
                # Log bytes go to files outside the lease lock: a host's log must not hold up another's lease.
                apply_group(False)
                results.append(self._report(host, r))
            else:
                group.append(r)
        apply_group(True)
        return results, (leased[0] if leased else None)

    def _report(self, host: str, r: dict[str, Any]) -> str:
        kind, attempt_id = r.get("type"), r.get("attempt")
        if not isinstance(attempt_id, int):
            return "bad"
        a = self.store.attempt(attempt_id)
        if a is None or a["host"] != host:
            return "stale"
        if a["current"] != attempt_id or a["outcome"] != "running":
            with self._lease_lock:
                a = self.store.attempt(attempt_id)
                if a is None or not self._revivable(a, host):
                    return "stale"
                self._revive(a)
        try:
            if kind == "started":
                self.started(attempt_id, int(r["pid"]))
            elif kind == "output":
                keep = self.output(attempt_id, r.get("data") or b"", r.get("progress"), r.get("tail"),
                                   r.get("offset"))
                return "ok" if keep else "full"
            elif kind == "finished":
                self.finished(attempt_id, r.get("exit_code"), r.get("error"))
            elif kind in ("interrupted", "abandoned"):
                with self._lease_lock:
                    a = self._current(attempt_id)
                    reason = "host %s: %s" % (host, r.get("reason") or kind)
                    if kind == "interrupted":
                        self._requeue([a], "interrupted", reason, count=False)
                    else:
                        self._lose([a], reason, outcome="abandoned")
            else:
                return "bad"
        except StaleAttempt:
            return "stale"
        except (KeyError, TypeError, ValueError):
            return "bad"
        return "ok"

    def _lose(self, attempts: list[dict[str, Any]], reason: str, outcome: str = "lost") -> None:
        """A host lost these attempts: a failed attempt if its render had started (CONTRACT section 1), else the
        attempt is given back. A "lost" attempt may come back while its frame was not given to another host."""
        started = [a for a in attempts if a["pid"] is not None]
        unstarted = [a for a in attempts if a["pid"] is None]
        for a in attempts:
            log.warning("frame attempt %d: %s", a["id"], reason)
        if started:
            self._requeue(started, outcome, reason, count=True)
        if unstarted:
            self._requeue(unstarted, outcome, reason + "; its render had not started, so the attempt is given back",
                          count=False)

    def _revivable(self, a: dict[str, Any], host: str) -> bool:
        return (a["host"] == host and a["outcome"] == "lost" and a["current"] is None
                and a["frame_status"] in (scheduler.QUEUED, scheduler.FAILED)
                and self.store.latest_attempt(a["frame_id"]) == a["id"])

    def _revive(self, a: dict[str, Any]) -> None:
        """A host that was taken for lost still holds an attempt whose frame went to nobody else: it goes on."""
        with self._lease_lock, self.store.write() as txn:
            fields: dict[str, Any] = {"status": scheduler.RENDERING, "attempt_id": a["id"], "error": None,
                                      "finished": None}
            if a["pid"] is None:
                fields["attempts"] = a["attempts"] + 1  # the loss gave this attempt back
            else:
                fields.update(host=a["host"], pid=a["pid"])
            self.store.update_attempt(txn, a["id"], outcome="running", finished=None, error=None)
            self.store.update_frames(txn, a["job_id"], [a["frame_id"]], **fields)
            self._note(txn, a["id"], "host %s answered again and still holds this frame: this attempt goes on"
                       % a["host"])
        log.info("frame attempt %d goes on: host %s answered again", a["id"], a["host"])

    def check(self) -> None:
        """Declare silent remote hosts lost; once, two heartbeats after start, requeue frames no host claimed."""
        now = self.clock()
        with self._lease_lock:
            for state in list(self.hosts.values()):
                if state.local or state.lost or state.stopped:
                    continue
                since = state.last_seen if state.attached else max(state.last_seen, self.started_at)
                if now - since <= self.lost_after:
                    continue
                state.lost = True
                log.warning("host %s is lost: no heartbeat for %gs", state.name, now - since)
                self._in_flight.pop(state.name, None)
                self.store.save_host(state.name, state.slots, state.info, state.worker_id, state.last_seen, True)
                running = self.store.running_attempts(state.name)
                if running:
                    self._lose(running, "host %s stopped answering (no heartbeat for %gs) while rendering this frame"
                               % (state.name, self.lost_after))
            if not self._swept and now - self.started_at >= 2 * self.heartbeat:
                self._swept = True
                claimed = {h.name for h in self.hosts.values() if h.attached or h.local} | {self.name}
                stray: dict[str, list[dict[str, Any]]] = {}
                for a in self.store.running_attempts():
                    if a["host"] not in claimed:
                        stray.setdefault(a["host"], []).append(a)
                for host, attempts in stray.items():
                    self._lose(attempts, "the coordinator restarted and host %s did not claim this frame within %gs"
                               % (host, 2 * self.heartbeat))

    def start_checks(self, interval: float | None = None) -> threading.Thread:
        """Run ``check`` in a thread until ``shutdown`` (the decisions read the injected clock).

        Called when the node starts serving: the hosts' two heartbeats to claim their frames count from then.
        """
        every = interval or max(0.05, min(1.0, self.heartbeat / 4))
        self.started_at = self.clock()

        def loop() -> None:
            while not self._checks_stop.wait(every):
                try:
                    self.check()
                except Exception:  # the next round tries again; the store keeps the truth
                    log.exception("checking the render hosts failed")

        t = threading.Thread(target=loop, name="host-checks", daemon=True)
        t.start()
        return t

    def _end_attempt(self, txn: Any, attempt_id: int | None, outcome: str, exit_code: int | None, error: str,
                     now: float) -> None:
        if attempt_id is None:
            return
        self.store.update_attempt(txn, attempt_id, outcome=outcome, exit_code=exit_code, finished=now, error=error)
        self._note(txn, attempt_id, error)

    def _note(self, txn: Any, attempt_id: int, text: str) -> None:
        """Write a line of the coordinator's own into the attempt's log (why it ended, why it goes on)."""
        line = ("\n[pyfarm] %s\n" % text).encode()
        alog = self._logs.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                alog.file.write(line)
                alog.close()
        else:
            a = self.store.attempt(attempt_id)
            if a is None:
                return
            path = os.path.join(self.data_dir, a["log_path"])
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "ab") as f:
                    f.write(line)
            except OSError as exc:
                log.warning("cannot write to the log %s: %s", path, exc)
                return
        self.store.add_note_bytes(txn, attempt_id, len(line))


def store_extra(frame_row: tuple) -> dict[str, Any]:
    extra = frame_row[16]
    return {} if extra == "{}" else _json(extra)


def _json(text: str) -> Any:
    import json
    return json.loads(text)
