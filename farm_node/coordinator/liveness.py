"""Which remote hosts are still there: silent ones are declared lost, and once after a restart the frames no host
claimed are requeued. Decisions read the injected monotonic clock, so "silent for 15 s" is tested in microseconds
and a jump of the wall clock (NTP, a VM resumed, an admin's date -s) loses no host."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from farm_node.coordinator.attempts import Attempts
from farm_node.coordinator.hosts import HostRegistry
from farm_node.store import RunningAttempt, Store

log = logging.getLogger("farm_node")


class Liveness:
    def __init__(self, store: Store, clock: Callable[[], float], lock: threading.RLock, hosts: HostRegistry,
                 attempts: Attempts, own_name: str, heartbeat: float, lost_after: float) -> None:
        self.store = store
        # The host registry's monotonic clock, whose readings it compares (``clock``, the wall clock, is not used
        # for decisions: a jump of it would lose every host at once).
        self.clock = hosts.monotonic
        self.lock = lock
        self.hosts = hosts
        self.attempts = attempts
        self.own_name = own_name
        self.heartbeat = heartbeat
        self.lost_after = lost_after
        self.started_at = self.clock()
        self._swept = False
        self._stop = threading.Event()

    def check(self) -> None:
        """Declare silent remote hosts lost; once, two heartbeats after start, requeue frames no host claimed."""
        now = self.clock()
        with self.lock:
            for state in self.hosts.all():
                if state.local or state.lost or state.stopped:
                    continue
                seen = state.seen_at if state.seen_at is not None else self.started_at
                since = seen if state.attached else max(seen, self.started_at)
                if now - since <= self.lost_after:
                    continue
                state.lost = True
                log.warning("host %s is lost: no heartbeat for %gs", state.name, now - since)
                state.in_flight.clear()
                self.store.save_host(state.name, state.slots, state.info, state.worker_id, state.last_seen, True)
                running = self.store.running_attempts(state.name)
                if running:
                    self.attempts.lose(running, "host %s stopped answering (no heartbeat for %gs) while rendering"
                                                " this frame" % (state.name, self.lost_after))
            if not self._swept and now - self.started_at >= 2 * self.heartbeat:
                self._swept = True
                claimed = {h.name for h in self.hosts.all() if h.attached or h.local} | {self.own_name}
                stray: dict[str, list[RunningAttempt]] = {}
                for a in self.store.running_attempts():
                    if a.host not in claimed:
                        stray.setdefault(a.host, []).append(a)
                for host, attempts in stray.items():
                    self.attempts.lose(attempts, "the coordinator restarted and host %s did not claim this frame"
                                                 " within %gs" % (host, 2 * self.heartbeat))

    def start(self, interval: float | None = None) -> threading.Thread:
        """Run ``check`` in a thread until ``stop``. Called when the node starts serving: the hosts' two
        heartbeats to claim their frames count from then."""
        every = interval or max(0.05, min(1.0, self.heartbeat / 4))
        self.started_at = self.clock()

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.check()
                except Exception:  # the next round tries again; the store keeps the truth
                    log.exception("checking the render hosts failed")

        t = threading.Thread(target=loop, name="host-checks", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()
