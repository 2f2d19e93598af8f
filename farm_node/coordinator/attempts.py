"""An attempt's life on the coordinator: started, its output, its end (and the next frame with it), and the ways it
ends without its host saying so (interrupted, lost, abandoned) or comes back (revived).

Every report names its attempt: one that is no longer its frame's current attempt raises ``StaleAttempt`` and
changes nothing, and a frame counts Complete by its current attempt only, once.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from farm_node import scheduler
from farm_node.coordinator.attempt_logs import AttemptLogs
from farm_node.coordinator.leasing import Leasing
from farm_node.coordinator.signals import WorkSignal
from farm_node.errors import StaleAttempt, StoreError
from farm_node.scheduler import Outcome
from farm_node.start_journal import StartJournal
from farm_node.store import AttemptRow, Store, Txn
from farm_node.store.health import disk_full

log = logging.getLogger("farm_node")

# How often the running frame's stdout tail and progress are written to the store (they also go at the end).
STDOUT_SAVE_SECONDS = 0.5
# How long the node's own slots' started reports (pid, start time) may wait to be written with the frame's end
# before they are written on their own; the journal has them meanwhile.
STARTED_DEFER_SECONDS = 0.1


@dataclass
class FrameEnd:
    """What a frame's end writes: built once from the report and the attempt's closed log."""
    attempt: AttemptRow
    exit_code: int | None
    error: str | None
    stdout: str | None
    progress: float | None
    early_start: tuple[int, float] | None  # a start still in the journal: (pid, started)
    log: bytes | None = None  # the whole log of an attempt that never got a file: written into the store

    def log_with(self, note: str | None) -> tuple[bytes, int]:
        """The log the store keeps, with the coordinator's note at its end, and the note's bytes."""
        line = b"" if note is None else ("\n[pyfarm] %s\n" % note).encode()
        return (self.log or b"") + line, len(line)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.error is None


class Attempts:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, logs: AttemptLogs,
                 leasing: Leasing, work: WorkSignal, journal: StartJournal, block_after: int) -> None:
        self.store = store
        self.clock = clock
        self.lock = lock
        self.logs = logs
        self.leasing = leasing
        self.work = work
        self.journal = journal
        self.block_after = block_after
        self._flusher: threading.Thread | None = None

    def current(self, attempt_id: int) -> AttemptRow:
        a = self.store.attempt(attempt_id)
        if a is None or a.current != attempt_id or a.outcome != Outcome.RUNNING:
            raise StaleAttempt("attempt %d is no longer this frame's current attempt; the report is refused"
                               % attempt_id)
        return a

    # -- started ------------------------------------------------------------------------------------------------
    def started(self, attempt_id: int, pid: int, defer: bool = False) -> None:
        """The attempt's process runs as ``pid``. With ``defer`` (the node's own slots), the report goes into the
        start journal and reaches the store with the frame's end, or ``STARTED_DEFER_SECONDS`` later; it is not
        checked against the store then (the slots learn of a moved-on attempt through the kill orders)."""
        now = self.clock()
        if defer:
            self.journal.add(attempt_id, pid, now)
            return
        a = self.current(attempt_id)
        with self.store.write() as txn:
            self.store.update_attempt(txn, attempt_id, pid=pid)
            self.store.update_frames(txn, a.job_id, [a.frame_id], host=a.host, pid=pid, started=now)

    def start_flusher(self) -> threading.Thread:
        """Write the journal's started reports on their own when no frame end took them (the node's own slots)."""
        t = self._flusher = threading.Thread(target=self._flush_loop, name="started-reports", daemon=True)
        t.start()
        return t

    def _flush_loop(self) -> None:
        while not self.work.closing and not self.store.closed:
            self.journal.ready.wait()
            if self.work.closing:
                break
            time.sleep(STARTED_DEFER_SECONDS)  # frames that end meanwhile take their start with them
            if self.store.closed:
                return
            try:
                self.flush_starts()
            except Exception as exc:  # the journal keeps them; the next round tries again
                if isinstance(exc, StoreError):
                    log.warning("writing started reports waits for the store: %s", exc)
                else:
                    log.exception("writing started reports failed")
                time.sleep(1.0)
        try:
            if not self.store.closed:
                self.flush_starts()
        except Exception:  # the store closed meanwhile: the journal keeps them for the next start
            log.exception("writing the last started reports failed")

    def flush_starts(self) -> None:
        """Write the started reports waiting in the journal into the store, in one transaction."""
        grown: list[Any] = []
        with self.lock:
            entries = self.journal.take_all()
            if not entries:
                return
            # A young log's output so far goes with its start, as a render's first output does once it is no
            # longer young. Read before the transaction: a log's lock is never taken while the store's is held.
            stdouts: dict[int, str] = {}
            for attempt_id in entries:
                alog = self.logs.opened(attempt_id)
                if alog is not None:
                    with alog.lock:
                        if alog.pending is not None:
                            grown.append(alog)
                            alog.saved_at = time.monotonic()
                            stdouts[attempt_id] = alog.text()
            try:
                with self.store.write() as txn:
                    for attempt_id, (pid, started) in entries.items():
                        self.store.record_start(txn, attempt_id, pid, started, stdouts.get(attempt_id))
            except BaseException:
                self.journal.give_back(entries)
                raise
            finally:
                self.journal.done(len(entries))
        for alog in grown:  # the files made outside the lock: a frame's end does not wait on them
            with alog.lock:
                alog.spill()

    # -- output -------------------------------------------------------------------------------------------------
    def output(self, attempt_id: int, data: bytes = b"", progress: float | None = None,
               tail: bytes | None = None, offset: int | None = None) -> bool:
        """Append log bytes of a running attempt. False means the log is full: send only ``tail`` from now on.

        ``offset`` (remote hosts) is where ``data`` starts in the attempt's output: bytes already here are skipped.
        """
        a = self.current(attempt_id)
        # A render of the node's own slots whose start is still in the journal is young: its log stays in memory,
        # and is written with its end if it ends young (most short frames' whole output comes with their end).
        young = offset is None and self.journal.holds(attempt_id)
        alog = self.logs.get_or_open(attempt_id, a.log_path, a.note_bytes, young)
        with alog.lock:
            if not young:
                alog.spill()
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
            due = not young and now - alog.saved_at >= STDOUT_SAVE_SECONDS
            if due:
                alog.saved_at = now
                fields: dict[str, Any] = {"stdout": alog.text()}
                if alog.progress is not None:
                    fields["progress"] = alog.progress
        alog.send()
        if due:
            try:
                with self.store.write() as txn:
                    self.store.update_frames(txn, a.job_id, [a.frame_id], **fields)
            except Exception as exc:
                # The running frame's stdout in the store is a view, written again at its end: a full disk must
                # not stop the render (the end waits for room instead).
                if not disk_full(exc):
                    raise
                disk = getattr(self.logs, "disk", None)
                if disk is not None:
                    disk.failed("saving a frame's output", exc)
        return keep

    # -- the end ------------------------------------------------------------------------------------------------
    def finished(self, attempt_id: int, exit_code: int | None, error: str | None = None,
                 next_for: tuple[str, int] | None = None) -> tuple[str, list[dict[str, Any]]]:
        """The attempt's process ended (or could not start): the frame's new status, and with ``next_for`` (host,
        free slots) that host's next frames, leased in the same transaction (one commit where a slot would
        otherwise make two, between one frame's end and the next one's start)."""
        a = self.current(attempt_id)
        now = self.clock()
        # An attempt whose process printed nothing has no log; one that ended young has its log in memory, written
        # into the store by this end: a frame's end does not wait on a file system to make a file.
        alog = self.logs.close(attempt_id, to_file=False)
        end = FrameEnd(a, exit_code, error, alog.text() if alog else None, alog.progress if alog else None, None,
                       alog.in_store() if alog else None)
        with self.lock:
            # Under the lock, as the journal's own writes are: a start is written by this transaction or was by an
            # earlier one, never by a later one that would find the frame moved on.
            end.early_start = self.journal.take(attempt_id)
            if end.log is not None:
                self.logs.keep_ended(attempt_id, alog)  # the log route reads it there until the end is written
            try:
                with self.store.write() as txn:
                    status, blocked, leases = self._finish_txn(txn, end, now, next_for)
            except StaleAttempt:
                if end.early_start is not None:
                    self.journal.give_back({attempt_id: end.early_start})
                self.logs.close(attempt_id)  # moved on meanwhile: a log kept in memory goes to its file after all
                raise
            except BaseException:
                if end.early_start is not None:
                    self.journal.give_back({attempt_id: end.early_start})
                # A retry of this end (the disk was full) must find the log's tail again.
                self.logs.keep_ended(attempt_id, alog)
                raise
            finally:
                if end.early_start is not None:
                    self.journal.done()
            if end.log is not None:
                self.logs.close(attempt_id, to_file=False)  # in the store now
        if blocked:
            log.warning("host %s is blocklisted for job id %d after %d failed frames", a.host, a.job_id,
                        self.block_after)
        if status == scheduler.QUEUED:
            self.work.wake()
        self.leasing.ended(attempt_id, a.job_id)  # it may free what queued jobs wait for (units, a dependency)
        return status, leases

    def _finish_txn(self, txn: Txn, end: FrameEnd, now: float, next_for: tuple[str, int] | None
                    ) -> tuple[str, bool, list[dict[str, Any]]]:
        a = end.attempt
        state = self.store.frame_state(txn, a.frame_id)
        if state is None or state[0] != a.id:
            # Moved on (cancelled, retried, deleted, lost) since ``a`` was read outside the lock.
            raise StaleAttempt("attempt %d is no longer this frame's current attempt; the report is refused" % a.id)
        blocked = False
        fields: dict[str, Any] = {"exit_code": end.exit_code, "finished": now, "error": end.error}
        attempt_fields: dict[str, Any] = {}
        if end.early_start is not None:
            fields.update(host=a.host, pid=end.early_start[0], started=end.early_start[1])
            attempt_fields["pid"] = end.early_start[0]
        if end.stdout is not None:
            fields["stdout"] = end.stdout
        if end.ok:
            status = scheduler.COMPLETE
            fields["progress"] = 100.0
        else:
            status = scheduler.after_failure(a.attempts, a.max_attempts)
            if end.progress is not None:
                fields["progress"] = end.progress
            if end.exit_code is not None and end.error is None:
                fields["error"] = "the render exited with code %d" % end.exit_code
            blocked = self.store.count_failure(txn, a.job_id, a.host, self.block_after)
        fields["status"] = status
        fields["attempt_id"] = None
        # e.g. a frame timeout: the log says why the render stopped
        note = end.error if end.error and end.error not in (end.stdout or "") else None
        if end.log is not None:
            attempt_fields["log_text"], note_bytes = end.log_with(note)
            if note_bytes:
                attempt_fields["note_bytes"] = a.note_bytes + note_bytes
            note = None
        self.store.update_attempt(txn, a.id, outcome=Outcome.COMPLETE if end.ok else Outcome.FAILED,
                                  exit_code=end.exit_code, finished=now, error=fields.get("error"), **attempt_fields)
        self.store.update_frames(txn, a.job_id, [a.frame_id], old_status=state[1], subjob_id=a.subjob_id, **fields)
        if note is not None:
            self.note(txn, a.id, note, a.log_path)
        leases: list[dict[str, Any]] = []
        if next_for is not None and next_for[1] > 0:
            # Picked after the end is written: a frame requeued by it, or a blocklist it started, counts.
            picked = self.leasing.pick(*next_for)
            if picked:
                leases = self.leasing.grant(txn, next_for[0], picked, None)
        return status, blocked, leases

    # -- ends the host did not report ---------------------------------------------------------------------------
    def interrupted(self, attempt_ids: Iterable[int], reason: str) -> None:
        """The node itself stopped these attempts (shutdown): back to the queue without using up an attempt."""
        rows = []
        for attempt_id in attempt_ids:
            try:
                rows.append(self.current(attempt_id))
            except StaleAttempt:
                continue
        self.requeue(rows, Outcome.INTERRUPTED, reason, count=False)

    def requeue(self, attempts: Sequence[Any], outcome: str, reason: str, count: bool) -> None:
        """End these attempts with ``outcome`` and put their frames back: as a failed attempt when ``count``, else
        giving the attempt back. ``attempts`` have ``id``, ``frame_id``, ``job_id`` and ``log_path``."""
        now = self.clock()
        with self.lock, self.store.write() as txn:
            for a in attempts:
                self.logs.close(a.id)
                self.end_attempt(txn, a.id, outcome, None, reason, now, a.log_path)
                used, most = self.store.frame_attempts(a.frame_id)
                if count:
                    status = scheduler.after_failure(used, most)
                else:
                    status, used = scheduler.after_interrupt(used)
                self.store.update_frames(txn, a.job_id, [a.frame_id], status=status, attempt_id=None,
                                         attempts=used, error=reason, finished=now)
        self.work.wake()

    def lose(self, attempts: Sequence[Any], reason: str, outcome: str = Outcome.LOST) -> None:
        """A host lost these attempts: a failed attempt if its render had started (CONTRACT section 1), else the
        attempt is given back. A "lost" attempt may come back while its frame was not given to another host."""
        started = [a for a in attempts if a.pid is not None]
        unstarted = [a for a in attempts if a.pid is None]
        for a in attempts:
            log.warning("frame attempt %d: %s", a.id, reason)
        if started:
            self.requeue(started, outcome, reason, count=True)
        if unstarted:
            self.requeue(unstarted, outcome, reason + "; its render had not started, so the attempt is given back",
                         count=False)

    def revivable(self, a: AttemptRow, host: str) -> bool:
        return scheduler.revivable(a.outcome, a.current, a.frame_status, a.host, host,
                                   self.store.latest_attempt(a.frame_id), a.id)

    def revive(self, a: AttemptRow) -> None:
        """A host that was taken for lost still holds an attempt whose frame went to nobody else: it goes on."""
        with self.lock, self.store.write() as txn:
            fields: dict[str, Any] = {"status": scheduler.RENDERING, "attempt_id": a.id, "error": None,
                                      "finished": None}
            if a.pid is None:
                fields["attempts"] = a.attempts + 1  # the loss gave this attempt back
            else:
                fields.update(host=a.host, pid=a.pid)
            self.store.update_attempt(txn, a.id, outcome=Outcome.RUNNING, finished=None, error=None)
            self.store.update_frames(txn, a.job_id, [a.frame_id], **fields)
            self.note(txn, a.id, "host %s answered again and still holds this frame: this attempt goes on" % a.host,
                      a.log_path)
        log.info("frame attempt %d goes on: host %s answered again", a.id, a.host)

    def end_attempt(self, txn: Txn, attempt_id: int | None, outcome: str, exit_code: int | None, error: str,
                    now: float, log_path: str | None = None) -> None:
        if attempt_id is None:
            return
        self.store.update_attempt(txn, attempt_id, outcome=outcome, exit_code=exit_code, finished=now, error=error)
        self.note(txn, attempt_id, error, log_path)

    def note(self, txn: Txn, attempt_id: int, text: str, log_path: str | None = None) -> None:
        """Write a line of the coordinator's own into the attempt's log (why it ended, why it goes on)."""
        if log_path is None:
            a = self.store.attempt(attempt_id)
            log_path = a.log_path if a is not None else None
        n = self.logs.note(attempt_id, log_path, text)
        if n:
            self.store.add_note_bytes(txn, attempt_id, n)
