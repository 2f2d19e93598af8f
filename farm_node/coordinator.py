"""The farm: jobs in, frames out to render hosts, attempts reported back, state kept in the store.

Clients call ``submit``, ``pause``, ``retry``...; render hosts (the node's own slots and remote workers alike) call
``lease``, ``started``, ``output`` and ``finished``, each report naming its attempt so that a late report from a host
that lost its frame changes nothing. Time comes from an injected clock so that lease expiry is tested in milliseconds.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from farm_node import scheduler
from farm_node.errors import NotFound, StaleAttempt
from farm_node.jobspec import parse_submission
from farm_node.store import Store

log = logging.getLogger("farm_node")

TAIL_BYTES = 64 * 1024
DEFAULT_MAX_LOG_BYTES = 512 * 1024 * 1024
# How often the running frame's stdout tail and progress are written to the store (they also go at the end).
STDOUT_SAVE_SECONDS = 0.5


@dataclass
class HostState:
    name: str
    slots: int
    local: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0
    lost: bool = False
    kills: set[int] = field(default_factory=set)


class _AttemptLog:
    """The log file of one running attempt, its 64 KiB tail, and when the tail was last saved."""

    def __init__(self, path: str, cap: int) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.file = open(path, "ab")
        self.written = self.file.tell()
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
        self._lease_lock = threading.Lock()
        self._work = threading.Condition()
        self._work_gen = 0
        self._kill_listeners: list[Callable[[str, int], None]] = []
        self._subjob_names: dict[int, str] = {}
        self._closing = False

    # -- start and stop -----------------------------------------------------------------------------------------
    def recover(self, local_host: str | None = None) -> int:
        """After a restart: frames that were rendering on this node's own slots go back to the queue.

        Their processes died with the node (or are killed now if a SIGKILL left them running); the interruption was
        the node's, so it does not use up an attempt. Frames held by remote hosts wait for those hosts to re-attach.
        """
        host = local_host or self.name
        running = self.store.running_attempts(host)
        if not running:
            return 0
        from farm_node import runner
        for a in running:
            if a["pid"]:
                runner.kill_orphan(a["pid"], a["started"])
        self._requeue(running, "interrupted", "the node restarted while this frame was rendering", count=False)
        return len(running)

    def shutdown(self) -> None:
        self._closing = True
        self.wake_workers()

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
            state.kills.add(attempt_id)
        for listener in self._kill_listeners:
            listener(host, attempt_id)

    def wake_workers(self) -> None:
        with self._work:
            self._work_gen += 1
            self._work.notify_all()

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
                self.store.clear_blocklist(txn, job_id)
        for f in rendering:
            self._kill(f[5] or self._attempt_host(f[17]), f[17])
        self.wake_workers()
        return {"job": name, "retried": len(rows)}

    def _named_frames(self, job_id: int, subjob: str | None, frames: Iterable[int] | None) -> list[tuple]:
        args: list[Any] = [job_id]
        sql = "job_id=?"
        if subjob is not None:
            with self.store.read() as db:
                sid = db.execute("SELECT id FROM subjobs WHERE job_id=? AND name=?", (job_id, subjob)).fetchone()
            if sid is None:
                raise NotFound("no subjob named %r in this job" % subjob)
            sql += " AND subjob_id=?"
            args.append(sid[0])
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
        for h in self.hosts.values():
            n = held.get(h.name, 0)
            state = "lost" if h.lost else ("rendering" if n else "idle")
            out.append({"name": h.name, "state": state, "slots": h.slots, "frames": n, "last_seen": h.last_seen,
                        "local": h.local, "blocklisted": blocked.get(h.name, []), **h.info})
        return out

    # -- frames: what render hosts do ---------------------------------------------------------------------------
    def lease(self, host: str, free: int) -> list[dict[str, Any]]:
        """Hand up to ``free`` queued frames to ``host``, in scheduling order; each starts a new attempt."""
        if free <= 0 or self._closing:
            return []
        state = self.hosts.get(host)
        if state is not None:
            state.last_seen = self.clock()
        with self._lease_lock:
            blocked = self.store.blocked_jobs(host)
            picked: list[tuple[dict, tuple]] = []
            for job in scheduler.job_order(self.store.runnable_jobs()):
                if job["id"] in blocked:
                    continue
                for f in self.store.queued_frames(job["id"], free - len(picked)):
                    picked.append((job, f))
                if len(picked) >= free:
                    break
            if not picked:
                return []
            now = self.clock()
            out = []
            with self.store.write() as txn:
                for job, f in picked:
                    frame_id, job_id, subjob_id, number = f[0], f[1], f[2], f[3]
                    attempt_no = self._attempt_count(frame_id) + 1
                    log_path = os.path.join("logs", str(job_id), "%d-%d.log" % (frame_id, attempt_no))
                    attempt_id = self.store.new_attempt(txn, frame_id, attempt_no, host, now, log_path)
                    self.store.update_frames(txn, job_id, [frame_id], status=scheduler.RENDERING,
                                             attempts=f[10] + 1, attempt_id=attempt_id, host=None, pid=None,
                                             progress=0, exit_code=None, started=None, finished=None, error=None,
                                             stdout="")
                    self._logs[attempt_id] = _AttemptLog(os.path.join(self.data_dir, log_path), self.max_log_bytes)
                    extra = store_extra(f)
                    last = extra.get("last_frame")
                    out.append({"attempt": attempt_id, "job": job["name"], "subjob": self._subjob_name(subjob_id),
                                "frame": number, "argv": _json(f[8]), "timeout": job["frame_timeout"],
                                "frames": (int(last) - number + 1) if isinstance(last, int) and last >= number else 1})
        return out

    def _attempt_count(self, frame_id: int) -> int:
        with self.store.read() as db:
            return db.execute("SELECT COUNT(*) FROM attempts WHERE frame_id=?", (frame_id,)).fetchone()[0]

    def _subjob_name(self, subjob_id: int) -> str:
        name = self._subjob_names.get(subjob_id)
        if name is None:
            with self.store.read() as db:
                name = db.execute("SELECT name FROM subjobs WHERE id=?", (subjob_id,)).fetchone()[0]
            self._subjob_names[subjob_id] = name
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

    def started(self, attempt_id: int, pid: int) -> None:
        a = self._current(attempt_id)
        with self.store.write() as txn:
            self.store.update_attempt(txn, attempt_id, pid=pid)
            self.store.update_frames(txn, a["job_id"], [a["frame_id"]], host=a["host"], pid=pid,
                                     started=self.clock())

    def output(self, attempt_id: int, data: bytes = b"", progress: float | None = None,
               tail: bytes | None = None) -> bool:
        """Append log bytes of a running attempt. False means the log is full: send only ``tail`` from now on."""
        a = self._current(attempt_id)
        alog = self._logs.get(attempt_id)
        if alog is None:
            alog = self._logs[attempt_id] = _AttemptLog(os.path.join(self.data_dir, a["log_path"]),
                                                        self.max_log_bytes)
        with alog.lock:
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
        ok = exit_code == 0 and error is None
        blocked = False
        with self._lease_lock, self.store.write() as txn:
            fields: dict[str, Any] = {"exit_code": exit_code, "finished": now, "error": error}
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
                                      finished=now, error=fields.get("error"))
            self.store.update_frames(txn, a["job_id"], [a["frame_id"]], **fields)
        if blocked:
            log.warning("host %s is blocklisted for job id %d after %d failed frames", a["host"], a["job_id"],
                        self.block_after)
        if status == scheduler.QUEUED:
            self.wake_workers()
        return status

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
                with self.store.read() as db:
                    attempts_used, max_attempts = db.execute(
                        "SELECT f.attempts, j.max_attempts FROM frames f JOIN jobs j ON j.id=f.job_id WHERE f.id=?",
                        (a["frame_id"],)).fetchone()
                if count:
                    status = scheduler.after_failure(attempts_used, max_attempts)
                else:
                    status, attempts_used = scheduler.QUEUED, max(0, attempts_used - 1)
                self.store.update_frames(txn, a["job_id"], [a["frame_id"]], status=status, attempt_id=None,
                                         attempts=attempts_used, error=reason, finished=now)
        self.wake_workers()

    def _end_attempt(self, txn: Any, attempt_id: int | None, outcome: str, exit_code: int | None, error: str,
                     now: float) -> None:
        if attempt_id is None:
            return
        self.store.update_attempt(txn, attempt_id, outcome=outcome, exit_code=exit_code, finished=now, error=error)
        alog = self._logs.pop(attempt_id, None)
        if alog is not None:
            with alog.lock:
                alog.file.write(("\n[pyfarm] %s\n" % error).encode())
                alog.close()


def store_extra(frame_row: tuple) -> dict[str, Any]:
    extra = frame_row[16]
    return {} if extra == "{}" else _json(extra)


def _json(text: str) -> Any:
    import json
    return json.loads(text)
