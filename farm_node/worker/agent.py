"""`farm-node worker`: a render host that takes frames from a coordinator over HTTP.

Its threads (the protocol is in docs/DESIGN.md, "Worker protocol"):

    heartbeat   every heartbeat: who this host is and which attempts it holds; the answer names those to kill. A long
                poll, so that a cancel reaches the render at once. It (re)attaches the host to the coordinator after a
                restart of either, or after the host was declared lost.
    lease       while a slot is free: a long poll for frames; each lease runs in a frame thread.
    frame       one FrameRun per attempt; its reports go into the spool, never straight to the network.
    sender      sends the spool to the coordinator in order. While the coordinator cannot be reached the reports wait
                on disk, and a restart of the worker keeps them; they are replayed when it answers again.

DATA_DIR/held.json lists the attempts being rendered with their pids: a worker killed by SIGKILL reports those
attempts abandoned when it starts again. Its renders died with it (runner.py's render guard, or Job objects on
Windows); one that outlived it all the same (its guard was killed too) is killed then.

Locks: the worker's own lock (runs, held attempts, stale and full attempts, the epoch) is taken before the slot
ledger's and the spool's, never after.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
import time
from typing import Any, Callable, Iterable

from farm_node import runner
from farm_node.errors import CoordinatorRefused, CoordinatorUnavailable
from farm_node.files import read_json, write_json_atomic
from farm_node.frame_run import FrameRun
from farm_node.hostinfo import host_info, host_tags
from farm_node.path_map import PathMap
from farm_node.runner import ExeMap
from farm_node.wire import DEFAULT_MAX_LOG_BYTES
from farm_node.worker.client import CoordinatorClient, Transport
from farm_node.worker.slots import SlotLedger
from farm_node.worker.spool import Spool

log = logging.getLogger("farm_node.worker")

# Seconds a lease long poll waits for frames before asking again.
LEASE_WAIT = 20.0
# Seconds a stopping worker gives its last reports to reach the coordinator (what is left stays in the spool).
STOP_FLUSH = 5.0
# Seconds between attempts to reach a coordinator that does not answer (at most; a short heartbeat is shorter).
RETRY = 1.0
# Seconds a call may take beyond its long poll before the coordinator counts as unreachable (a batch of reports: six).
ANSWER_TIME = 10.0


class _Reporter:
    """FrameRun's reporter on a remote host: every report goes into the spool first."""

    def __init__(self, worker: "Worker", attempt: int) -> None:
        self.worker = worker
        self.attempt = attempt
        self.sent = 0
        self.stop_reason: str | None = None

    def started(self, pid: int) -> bool:
        w = self.worker
        w.note_pid(self.attempt, pid)
        w.spool.append({"type": "started", "attempt": self.attempt, "pid": pid})
        return not w.is_stale(self.attempt)

    def output(self, data: bytes, progress: float | None, tail: bytes | None) -> bool:
        w = self.worker
        if w.is_stale(self.attempt):
            return True
        record: dict[str, Any] = {"type": "output", "attempt": self.attempt, "offset": self.sent}
        if data:
            record["data"] = base64.b64encode(data).decode("ascii")
            self.sent += len(data)
        if progress is not None:
            record["progress"] = progress
        if tail is not None:
            record["tail"] = base64.b64encode(tail).decode("ascii")
        w.spool.append(record)
        # False: the coordinator's log of this attempt is full (or would be): send only the tail from now on.
        return not w.is_full(self.attempt) and self.sent < w.max_log_bytes

    def finished(self, exit_code: int | None, error: str | None) -> None:
        w = self.worker
        if w.is_stale(self.attempt):
            return
        if self.stop_reason:
            record = {"type": "interrupted", "attempt": self.attempt, "reason": self.stop_reason}
        else:
            record = {"type": "finished", "attempt": self.attempt, "exit_code": exit_code, "error": error}
            if not w.stopping.is_set():
                w.slots.ending(self.attempt)  # before the append: the batch carrying this end asks for the next frame
        w.spool.append(record, sync=True)


class Worker:
    def __init__(self, url: str | list[str], token: str, name: str, data_dir: str, exe_map: ExeMap, slots: int,
                 heartbeat: float = 5.0, max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
                 announce: Callable[[str], None] = print, transport: Transport | None = None,
                 tags: Iterable[str] = (), path_map: PathMap | None = None) -> None:
        self.client = CoordinatorClient(url, token, transport)
        # What the coordinator schedules by (its tags, sent with the host's info) and the path prefixes this host
        # maps in a frame's arguments before they run (CONTRACT section 6).
        self.tags = host_tags(tags)
        self.path_map = path_map or PathMap()
        self.name = name
        self.data_dir = data_dir
        self.exe_map = exe_map
        self.heartbeat = heartbeat
        self.max_log_bytes = max_log_bytes
        self.announce = announce
        self.work_dir = os.path.join(data_dir, "work")
        os.makedirs(self.work_dir, exist_ok=True)
        self.worker_id = worker_id(data_dir)
        self.spool = Spool(data_dir)
        self.slots = SlotLedger(slots)
        self.info = dict(host_info(), tags=self.tags)
        self._held_path = os.path.join(data_dir, "held.json")
        self._lock = threading.Lock()
        self._runs: dict[int, tuple[FrameRun, _Reporter, threading.Thread]] = {}
        self._held: dict[int, dict[str, Any]] = {}
        self._stale: set[int] = set()
        self._full: set[int] = set()
        self._epoch: str | None = None
        self._seen = 0
        self._online: bool | None = None
        self.attached = threading.Event()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- start and stop -----------------------------------------------------------------------------------------
    def recover(self) -> int:
        """After a crash: kill the renders this worker left behind and report their attempts abandoned."""
        held = read_json(self._held_path) or {}
        n = 0
        for key, h in held.items():
            attempt = int(key)
            if self.spool.ended(attempt):
                continue
            # The render guard killed the render when the worker died; one is left only if the guard died too.
            killed = bool(h.get("pid")) and runner.kill_orphan(h["pid"], h.get("started"))
            self.spool.append({"type": "abandoned", "attempt": attempt,
                               "reason": "its worker stopped while rendering this frame (killed or crashed); the"
                                         " render was killed %s" % ("when the worker started again" if killed
                                                                    else "with it")}, sync=True)
            n += 1
        self._save_held()
        return n

    def first_contact(self) -> str | None:
        """One heartbeat at start: an error message if the coordinator refuses this host, else None."""
        try:
            status, answer = self.client.post("/api/worker/heartbeat", self._beat(0), 30)
        except CoordinatorRefused as exc:
            return str(exc)
        except CoordinatorUnavailable as exc:
            self._set_online(False, exc)
            return None
        if status == 409:
            return answer.get("error") or "the coordinator refused this host"
        if status == 200:
            self._set_online(True)
            self._apply_beat(answer)
        return None

    def start(self) -> None:
        for target, name in ((self._heartbeat_loop, "heartbeat"), (self._lease_loop, "lease"),
                             (self._send_loop, "sender")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, flush: float = STOP_FLUSH) -> None:
        """Start nothing new, kill the renders, tell the coordinator their frames are free (or keep that on disk)."""
        self.stopping.set()
        with self._lock:
            runs = list(self._runs.values())
        for run, reporter, _ in runs:
            reporter.stop_reason = "the worker was stopped while rendering this frame"
            run.kill("the worker was stopped")
        for _, _, thread in runs:
            thread.join(10)
        deadline = time.monotonic() + flush
        while not self.spool.empty() and time.monotonic() < deadline and self._online is not False:
            time.sleep(0.05)
        if self.spool.empty() and self._online:
            try:
                self.client.post("/api/worker/heartbeat", self._beat(0, leaving=True), 5)
            except (CoordinatorUnavailable, CoordinatorRefused):
                pass
        self.spool.close()
        self.client.close()

    # -- state shared by the threads ----------------------------------------------------------------------------
    def is_stale(self, attempt: int) -> bool:
        return attempt in self._stale

    def is_full(self, attempt: int) -> bool:
        return attempt in self._full

    def note_pid(self, attempt: int, pid: int) -> None:
        with self._lock:
            held = self._held.get(attempt)
            if held is not None:
                held["pid"] = pid
                held["started"] = time.time()
                self._save_held()

    def _save_held(self) -> None:
        write_json_atomic(self._held_path, {str(a): h for a, h in self._held.items()})

    def kill(self, attempt: int, reason: str) -> None:
        """The coordinator moved this attempt's frame on: stop its render and drop its reports."""
        with self._lock:
            self._stale.add(attempt)
            entry = self._runs.get(attempt)
        if entry is not None:
            log.info("killing attempt %d: %s", attempt, reason)
            entry[0].kill(reason)

    def _beat(self, wait: float, leaving: bool = False) -> dict[str, Any]:
        with self._lock:
            held = (set(self._held) | self.spool.attempts()) - self._stale
            body = {"host": self.name, "worker_id": self.worker_id, "slots": self.slots.slots, "info": self.info,
                    "holding": sorted(held), "epoch": self._epoch, "seen": self._seen, "wait": wait}
        if leaving:
            body["leaving"] = True
        return body

    def _apply_beat(self, answer: dict[str, Any]) -> None:
        with self._lock:
            if answer.get("epoch") != self._epoch:
                self._epoch, self._seen = answer.get("epoch"), 0
        if isinstance(answer.get("heartbeat"), (int, float)) and answer["heartbeat"] > 0:
            self.heartbeat = float(answer["heartbeat"])
        for attempt in answer.get("kill") or []:
            self.kill(int(attempt), "the coordinator moved this frame on (cancelled, retried, deleted, or rendered"
                                    " by another host)")
        self.attached.set()

    def _set_online(self, online: bool, why: Any = None) -> None:
        if online and self._online is not True:
            if self._online is False:
                self.announce("worker %r: the coordinator answers again; replaying the reports kept meanwhile"
                              % self.name)
        elif not online and self._online is not False:
            self.announce("worker %r: cannot reach the coordinator at %s (%s); rendering goes on and reports are"
                          " kept in %s" % (self.name, self.client.url, why, self.spool.path))
        self._online = online

    def _retry_wait(self) -> None:
        self.stopping.wait(min(RETRY, max(0.05, self.heartbeat / 2)))

    # -- threads ------------------------------------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        while not self.stopping.is_set():
            # Not attached (just started, re-joining, or the coordinator restarted): an answer at once, no long poll.
            wait = self.heartbeat if self.attached.is_set() else 0
            try:
                status, answer = self.client.post("/api/worker/heartbeat", self._beat(wait), wait + ANSWER_TIME)
            except CoordinatorUnavailable as exc:
                self._set_online(False, exc)
                self._retry_wait()
                continue
            except CoordinatorRefused as exc:
                log.error("%s", exc)
                self.stopping.wait(self.heartbeat)
                continue
            self._set_online(True)
            if status != 200:
                log.error("the coordinator refused this host: %s", answer.get("error"))
                self.attached.clear()
                self.stopping.wait(self.heartbeat)
                continue
            self._apply_beat(answer)

    def _lease_loop(self) -> None:
        slots = self.slots
        while not self.stopping.is_set():
            if not self.attached.wait(0.5):
                continue
            slots.freed.clear()
            free = slots.reserve()
            if free <= 0:
                slots.freed.wait(1.0)
                continue
            body = {"host": self.name, "worker_id": self.worker_id, "free": free, "wait": LEASE_WAIT}
            try:
                status, answer = self.client.post("/api/worker/lease", body, LEASE_WAIT + ANSWER_TIME)
            except CoordinatorUnavailable as exc:
                slots.asked(free)
                self._set_online(False, exc)
                self._retry_wait()
                continue
            except CoordinatorRefused as exc:
                slots.asked(free)
                log.error("%s", exc)
                self.stopping.wait(self.heartbeat)
                continue
            self._set_online(True)
            if status == 409:
                slots.asked(free)
                self.attached.clear()  # the heartbeat thread attaches the host again
                continue
            if status != 200:
                slots.asked(free)
                log.error("the coordinator refused a lease: %s", answer.get("error"))
                self.stopping.wait(self.heartbeat)
                continue
            self._take(answer)
            slots.asked(free)

    def _take(self, answer: dict[str, Any]) -> None:
        started = []
        with self._lock:
            for lease in answer.get("leases") or []:
                attempt = lease["attempt"]
                if self.stopping.is_set():
                    self.spool.append({"type": "interrupted", "attempt": attempt,
                                       "reason": "the worker was stopping when this frame reached it"})
                    continue
                reporter = _Reporter(self, attempt)
                run = FrameRun(self.path_map.apply(lease["argv"]), self.exe_map, reporter,
                               timeout=lease.get("timeout"), frames=lease.get("frames") or 1, cwd=self.work_dir)
                thread = threading.Thread(target=self._frame, args=(attempt, run, reporter),
                                          name="frame-%d" % attempt, daemon=True)
                self._held[attempt] = {"pid": None, "started": None, "job": lease.get("job"),
                                       "subjob": lease.get("subjob"), "frame": lease.get("frame")}
                self._runs[attempt] = (run, reporter, thread)
                self.slots.running(attempt)
                started.append(thread)
            if started:
                self._save_held()
            # Only now may a heartbeat tell the coordinator that this answer arrived: the attempts are held.
            if answer.get("epoch") != self._epoch:
                self._epoch, self._seen = answer.get("epoch"), int(answer.get("seq") or 0)
            else:
                self._seen = max(self._seen, int(answer.get("seq") or 0))
            for thread in started:
                thread.start()  # under the lock: a stop that sees the run can join its thread

    def _frame(self, attempt: int, run: FrameRun, reporter: _Reporter) -> None:
        try:
            run.run()
        except Exception:
            log.exception("frame attempt %d failed in the worker itself", attempt)
            reporter.finished(None, "the worker failed to run the frame")
        finally:
            with self._lock:
                self._runs.pop(attempt, None)
                self._held.pop(attempt, None)
                self._save_held()
            self.slots.done(attempt)

    def _send_loop(self) -> None:
        slots = self.slots
        while True:
            self.spool.ready.clear()
            try:
                items = self.spool.batch()
            except (OSError, ValueError):  # the spool was closed: the worker stops
                return
            if not items:
                slots.release_handoff()
                self.spool.ready.wait(0.5)
                continue
            with self._lock:
                stale = set(self._stale)
            records = [r for r, _ in items if r.get("attempt") not in stale]
            if not records:
                slots.release_handoff()
            else:
                body: dict[str, Any] = {"host": self.name, "worker_id": self.worker_id, "records": records}
                # The slots of the frames these reports end: their next frames come back with the answer.
                if not self.attached.is_set() or self.stopping.is_set():
                    slots.release_handoff()
                ask = slots.take_handoff()
                if ask:
                    body["lease"] = {"free": ask}
                try:
                    status, answer = self.client.post("/api/worker/reports", body, 6 * ANSWER_TIME)
                except (CoordinatorUnavailable, CoordinatorRefused) as exc:
                    slots.hand_back(ask)
                    self._set_online(False, exc)
                    self._retry_wait()
                    continue
                if status != 200:
                    slots.hand_back(ask)
                    log.error("the coordinator refused reports: %s", answer.get("error"))
                    self._retry_wait()
                    continue
                self._set_online(True)
                if ask:
                    if isinstance(answer.get("leases"), list):
                        self._take(answer)
                    # No "leases": an older coordinator, or the host must join again; the lease thread asks.
                    slots.asked(ask)
                for record, result in zip(records, answer.get("results") or []):
                    if result == "stale":
                        self.kill(record["attempt"], "the coordinator refused a report of this attempt as stale")
                    elif result == "full":
                        with self._lock:
                            self._full.add(record["attempt"])
            try:
                self.spool.ack(items[-1][1])
            except (OSError, ValueError):
                return


def worker_id(data_dir: str) -> str:
    """This worker's id, kept in its data folder: two workers with one name are told apart, a restart is not."""
    path = os.path.join(data_dir, "worker-id")
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = secrets.token_hex(8)
    with open(path, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value
