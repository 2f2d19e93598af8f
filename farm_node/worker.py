"""`farm-node worker --coordinator URL`: a render host that takes frames from a coordinator over HTTP.

Its threads (the protocol is in docs/DESIGN.md, "Worker protocol"):

    heartbeat   every heartbeat: who this host is and which attempts it holds; the answer names those to kill. A long
                poll, so that a cancel reaches the render at once. It (re)attaches the host to the coordinator after a
                restart of either, or after the host was declared lost.
    lease       while a slot is free: a long poll for frames; each lease runs in a frame thread.
    frame       one FrameRun per attempt; its reports go into the spool, never straight to the network.
    sender      sends the spool to the coordinator in order. While the coordinator cannot be reached the reports wait
                on disk, and a restart of the worker keeps them; they are replayed when it answers again.

DATA_DIR/held.json lists the attempts being rendered with their pids: a worker killed by SIGKILL finds its orphaned
renders there when it starts again, kills them, and reports those attempts abandoned.
"""
from __future__ import annotations

import base64
import collections
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from typing import Any, Callable

import requests

from farm_node import runner
from farm_node.config import Config
from farm_node.errors import ConfigError
from farm_node.frame_run import FrameRun
from farm_node.runner import ExeMap

log = logging.getLogger("farm_node.worker")

# Seconds a lease long poll waits for frames before asking again.
LEASE_WAIT = 20.0
# A batch of reports sent at once: at most this many records, or about this many bytes of them.
BATCH_RECORDS = 500
BATCH_BYTES = 4 * 1024 * 1024
# Seconds a stopping worker gives its last reports to reach the coordinator (what is left stays in the spool).
STOP_FLUSH = 5.0
# Seconds between attempts to reach a coordinator that does not answer (at most; a short heartbeat is shorter).
RETRY = 1.0
# Seconds a call may take beyond its long poll before the coordinator counts as unreachable (a batch of reports: six).
ANSWER_TIME = 10.0
_ENDS = ("finished", "interrupted", "abandoned")


class _Offline(Exception):
    """The coordinator cannot be reached, or answered with a server error."""


class _Refused(Exception):
    """The coordinator refused the token."""


class Spool:
    """The worker's reports on disk, in the order they were made, until the coordinator has taken them.

    ``spool.jsonl`` holds one JSON record a line; ``spool.pos`` the offset up to which the coordinator answered. When
    everything is delivered the file is emptied.
    """

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, "spool.jsonl")
        self._pos_path = os.path.join(folder, "spool.pos")
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self._pending: collections.deque[tuple[int, int]] = collections.deque()
        self._counts: collections.Counter[int] = collections.Counter()
        self._ended: set[int] = set()
        self._file = open(self.path, "ab")
        self._size = self._file.tell()
        self._pos = _read_int(self._pos_path)
        if self._pos > self._size:
            self._pos = 0  # the file was emptied after everything was delivered; the offset was not yet rewritten
        offset = self._pos
        with open(self.path, "rb") as f:
            f.seek(offset)
            for line in f:
                try:
                    record = json.loads(line) if line.endswith(b"\n") else None
                except ValueError:
                    record = None
                if record is None:
                    break  # a line half written when the worker died: that report was never made
                offset += len(line)
                self._track(offset, record)
        if offset < self._size:
            os.ftruncate(self._file.fileno(), offset)
            self._size = offset
        if self._pending:
            self.ready.set()

    def _track(self, end: int, record: dict[str, Any]) -> None:
        attempt = record.get("attempt")
        self._pending.append((end, attempt))
        self._counts[attempt] += 1
        if record.get("type") in _ENDS:
            self._ended.add(attempt)

    def append(self, record: dict[str, Any], sync: bool = False) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self._file.write(line)
            self._file.flush()
            if sync:
                os.fsync(self._file.fileno())
            self._size += len(line)
            self._track(self._size, record)
        self.ready.set()

    def batch(self) -> list[tuple[dict[str, Any], int]]:
        """The next records not yet delivered, each with the offset just after it."""
        out: list[tuple[dict[str, Any], int]] = []
        with self._lock:
            if not self._pending:
                return out
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                offset, size = self._pos, 0
                while offset < self._size and len(out) < BATCH_RECORDS and size < BATCH_BYTES:
                    line = f.readline()
                    if not line:
                        break
                    offset += len(line)
                    size += len(line)
                    out.append((json.loads(line), offset))
        return out

    def ack(self, end: int) -> None:
        """The coordinator answered every record up to ``end``."""
        with self._lock:
            self._pos = end
            while self._pending and self._pending[0][0] <= end:
                _, attempt = self._pending.popleft()
                self._counts[attempt] -= 1
                if not self._counts[attempt]:
                    del self._counts[attempt]
                    self._ended.discard(attempt)
            if self._pos >= self._size:
                os.ftruncate(self._file.fileno(), 0)
                self._size = self._pos = 0
            _write_int(self._pos_path, self._pos)

    def attempts(self) -> set[int]:
        """Attempts with reports still to deliver."""
        with self._lock:
            return set(self._counts)

    def ended(self, attempt: int) -> bool:
        with self._lock:
            return attempt in self._ended

    def empty(self) -> bool:
        with self._lock:
            return not self._pending

    def close(self) -> None:
        with self._lock:
            self._file.close()


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
            w.ending(self.attempt)  # before the append: the batch that carries this end asks for the next frame
        w.spool.append(record, sync=True)


class Worker:
    def __init__(self, url: str, token: str, name: str, data_dir: str, exe_map: ExeMap, slots: int,
                 heartbeat: float = 5.0, max_log_bytes: int = 512 * 1024 * 1024,
                 announce: Callable[[str], None] = print) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": "Bearer " + token}
        self.name = name
        self.data_dir = data_dir
        self.exe_map = exe_map
        self.slots = slots
        self.heartbeat = heartbeat
        self.max_log_bytes = max_log_bytes
        self.announce = announce
        self.work_dir = os.path.join(data_dir, "work")
        os.makedirs(self.work_dir, exist_ok=True)
        self.worker_id = _worker_id(data_dir)
        self.spool = Spool(data_dir)
        from farm_node.local_worker import _host_info
        self.info = _host_info()
        self._held_path = os.path.join(data_dir, "held.json")
        self._lock = threading.Lock()
        self._runs: dict[int, tuple[FrameRun, _Reporter, threading.Thread]] = {}
        self._held: dict[int, dict[str, Any]] = {}
        self._stale: set[int] = set()
        self._full: set[int] = set()
        # Slots on their way to a next frame (docs/DESIGN.md, "Next frames with the reports"): frames that reported
        # their end (their thread may still be closing), slots the sender is to ask for with the batch carrying
        # those ends, and slots asked for by a call in flight (the sender's, or the lease thread's long poll).
        self._ended: set[int] = set()
        self._handoff = 0
        self._asking = 0
        self._epoch: str | None = None
        self._seen = 0
        self._online: bool | None = None
        self.attached = threading.Event()
        self.stopping = threading.Event()
        self._slot_freed = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- start and stop -----------------------------------------------------------------------------------------
    def recover(self) -> int:
        """After a crash: kill the renders this worker left behind and report their attempts abandoned."""
        held = _read_json(self._held_path) or {}
        n = 0
        for key, h in held.items():
            attempt = int(key)
            if self.spool.ended(attempt):
                continue
            if h.get("pid"):
                runner.kill_orphan(h["pid"], h.get("started"))
            self.spool.append({"type": "abandoned", "attempt": attempt,
                               "reason": "its worker stopped while rendering this frame (killed or crashed); the"
                                         " render was killed when the worker started again"}, sync=True)
            n += 1
        self._save_held()
        return n

    def first_contact(self) -> str | None:
        """One heartbeat at start: an error message if the coordinator refuses this host, else None."""
        session = requests.Session()
        try:
            status, answer = self._post(session, "/api/worker/heartbeat", self._beat(0), 30)
        except _Refused as exc:
            return str(exc)
        except _Offline as exc:
            self._set_online(False, exc)
            return None
        finally:
            session.close()
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
            session = requests.Session()
            try:
                self._post(session, "/api/worker/heartbeat", self._beat(0, leaving=True), 5)
            except (_Offline, _Refused):
                pass
            finally:
                session.close()
        self.spool.close()

    # -- state shared by the threads ----------------------------------------------------------------------------
    def is_stale(self, attempt: int) -> bool:
        return attempt in self._stale

    def is_full(self, attempt: int) -> bool:
        return attempt in self._full

    def ending(self, attempt: int) -> None:
        """A frame reported its end: its slot's next frame is asked for by the sender, with that report."""
        with self._lock:
            if attempt in self._runs and not self.stopping.is_set():
                self._ended.add(attempt)
                self._handoff += 1

    def _free_slots(self) -> int:
        """Slots nobody is getting a frame for (called under the lock)."""
        busy = len(self._runs) - len(self._ended)
        return self.slots - busy - self._handoff - self._asking

    def note_pid(self, attempt: int, pid: int) -> None:
        with self._lock:
            held = self._held.get(attempt)
            if held is not None:
                held["pid"] = pid
                held["started"] = time.time()
                self._save_held()

    def _save_held(self) -> None:
        from farm_node.server import write_json_atomic
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
            body = {"host": self.name, "worker_id": self.worker_id, "slots": self.slots, "info": self.info,
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
                          " kept in %s" % (self.name, self.url, why, self.spool.path))
        self._online = online

    def _retry_wait(self) -> None:
        self.stopping.wait(min(RETRY, max(0.05, self.heartbeat / 2)))

    def _post(self, session: Any, path: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, Any]]:
        try:
            r = session.post(self.url + path, json=body, headers=self.headers, timeout=timeout)
        except requests.RequestException as exc:
            raise _Offline(exc.__class__.__name__) from None
        if r.status_code == 401:
            raise _Refused("the coordinator at %s refused the token: give the worker the coordinator's token"
                           " (--token or FARM_TOKEN)" % self.url)
        if r.status_code >= 500:
            raise _Offline("HTTP %d" % r.status_code)
        try:
            data = r.json()
        except ValueError:
            raise _Offline("an answer that is not JSON") from None
        return r.status_code, data if isinstance(data, dict) else {}

    # -- threads ------------------------------------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            # Not attached (just started, re-joining, or the coordinator restarted): an answer at once, no long poll.
            wait = self.heartbeat if self.attached.is_set() else 0
            try:
                status, answer = self._post(session, "/api/worker/heartbeat", self._beat(wait), wait + ANSWER_TIME)
            except _Offline as exc:
                self._set_online(False, exc)
                self._retry_wait()
                continue
            except _Refused as exc:
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
        session = requests.Session()
        while not self.stopping.is_set():
            if not self.attached.wait(0.5):
                continue
            self._slot_freed.clear()
            with self._lock:
                free = self._free_slots()
                if free > 0:
                    self._asking += free
            if free <= 0:
                self._slot_freed.wait(1.0)
                continue
            body = {"host": self.name, "worker_id": self.worker_id, "free": free, "wait": LEASE_WAIT}
            try:
                status, answer = self._post(session, "/api/worker/lease", body, LEASE_WAIT + ANSWER_TIME)
            except _Offline as exc:
                self._asked(free)
                self._set_online(False, exc)
                self._retry_wait()
                continue
            except _Refused as exc:
                self._asked(free)
                log.error("%s", exc)
                self.stopping.wait(self.heartbeat)
                continue
            self._set_online(True)
            if status == 409:
                self._asked(free)
                self.attached.clear()  # the heartbeat thread attaches the host again
                continue
            if status != 200:
                self._asked(free)
                log.error("the coordinator refused a lease: %s", answer.get("error"))
                self.stopping.wait(self.heartbeat)
                continue
            self._take(answer)
            self._asked(free)

    def _release_handoff(self) -> None:
        """Slots the sender was to ask for but will not (nothing to send, or not attached): the lease thread's."""
        with self._lock:
            n, self._handoff = self._handoff, 0
        if n:
            self._slot_freed.set()

    def _hand_back(self, n: int) -> None:
        """The reports that asked for ``n`` slots' frames did not get through: the next batch asks again."""
        with self._lock:
            self._asking -= n
            self._handoff += n

    def _asked(self, n: int) -> None:
        """A call that asked for ``n`` slots' frames is over (its leases, if any, are taken)."""
        with self._lock:
            self._asking -= n
        self._slot_freed.set()

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
                run = FrameRun(lease["argv"], self.exe_map, reporter, timeout=lease.get("timeout"),
                               frames=lease.get("frames") or 1, cwd=self.work_dir)
                thread = threading.Thread(target=self._frame, args=(attempt, run, reporter),
                                          name="frame-%d" % attempt, daemon=True)
                self._held[attempt] = {"pid": None, "started": None, "job": lease.get("job"),
                                       "subjob": lease.get("subjob"), "frame": lease.get("frame")}
                self._runs[attempt] = (run, reporter, thread)
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
                handed = attempt in self._ended  # the sender asks for this slot's next frame
                self._ended.discard(attempt)
            if not handed:
                self._slot_freed.set()

    def _send_loop(self) -> None:
        session = requests.Session()
        while True:
            self.spool.ready.clear()
            try:
                items = self.spool.batch()
            except (OSError, ValueError):  # the spool was closed: the worker stops
                return
            if not items:
                self._release_handoff()
                self.spool.ready.wait(0.5)
                continue
            with self._lock:
                stale = set(self._stale)
            records = [r for r, _ in items if r.get("attempt") not in stale]
            if not records:
                self._release_handoff()
            else:
                body: dict[str, Any] = {"host": self.name, "worker_id": self.worker_id, "records": records}
                # The slots of the frames these reports end: their next frames come back with the answer.
                if not self.attached.is_set() or self.stopping.is_set():
                    self._release_handoff()
                with self._lock:
                    ask, self._handoff = self._handoff, 0
                    self._asking += ask
                if ask:
                    body["lease"] = {"free": ask}
                try:
                    status, answer = self._post(session, "/api/worker/reports", body, 6 * ANSWER_TIME)
                except (_Offline, _Refused) as exc:
                    self._hand_back(ask)
                    self._set_online(False, exc)
                    self._retry_wait()
                    continue
                if status != 200:
                    self._hand_back(ask)
                    log.error("the coordinator refused reports: %s", answer.get("error"))
                    self._retry_wait()
                    continue
                self._set_online(True)
                if ask:
                    if isinstance(answer.get("leases"), list):
                        self._take(answer)
                    # No "leases": an older coordinator, or the host must join again; the lease thread asks.
                    self._asked(ask)
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


def _worker_id(data_dir: str) -> str:
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


def _read_int(path: str) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _write_int(path: str, value: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(str(value))
    os.replace(tmp, path)


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _say(message: str) -> None:
    print(message, flush=True)


def run(cfg: Config, announce: Callable[[str], None] = _say) -> int:
    """`farm-node worker`: render frames of the coordinator at ``cfg.coordinator`` until SIGTERM or CTRL-C."""
    from farm_node.server import write_json_atomic

    if not cfg.coordinator:
        raise ConfigError("farm-node worker needs the coordinator's address: --coordinator URL (or"
                          " FARM_COORDINATOR), e.g. http://farm01:8750")
    if not cfg.token:
        raise ConfigError("farm-node worker needs the coordinator's token: --token or FARM_TOKEN (the coordinator"
                          " keeps it in its data folder, file 'token')")
    name = cfg.resolved_name()
    if cfg.data_dir:
        data_dir = cfg.resolved_data_dir()
    else:
        data_dir = os.path.join(cfg.resolved_data_dir(), "worker-" + name)
    os.makedirs(data_dir, exist_ok=True)
    exe_map = ExeMap.from_flags(cfg.exe)
    worker = Worker(cfg.coordinator, cfg.token, name, data_dir, exe_map, cfg.slots, heartbeat=cfg.heartbeat,
                    max_log_bytes=cfg.max_log_bytes, announce=announce)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signals = [signal.SIGINT, signal.SIGTERM]
    if sys.platform == "win32":
        signals.append(signal.SIGBREAK)
    for sig in signals:
        signal.signal(sig, on_signal)

    recovered = worker.recover()
    refused = worker.first_contact()
    if refused:
        print("farm-node worker: %s" % refused, file=sys.stderr)
        worker.spool.close()
        return 2
    worker.start()
    write_json_atomic(os.path.join(data_dir, "node.json"),
                      {"url": "", "port": 0, "pid": os.getpid(), "name": name, "coordinator": cfg.coordinator})
    announce("PyFarm worker %r rendering %d frame(s) at once for %s (data in %s); programs: %s" % (
        name, cfg.slots, cfg.coordinator, data_dir,
        ", ".join("%s=%s" % kv for kv in sorted(exe_map.mapping.items())) or "none"))
    if recovered:
        announce("  %d frame(s) this worker was rendering when it was killed are reported abandoned" % recovered)
    while not stop.wait(0.5):
        pass
    worker.stop()
    return 0
