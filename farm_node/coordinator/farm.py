"""What a coordinator does only when other coordinators share its store (CONTRACT section 7).

- **Signals cross coordinators.** "Frames may be there" and "kill that attempt" made here are sent to the others
  (the store's channel), and theirs arrive here: a cancel through one coordinator stops a render on a host attached
  to another at once, and a submit through one wakes the idle hosts of all.
- **Hosts are the farm's, not one coordinator's.** Each coordinator counts in the store the heartbeats of each host
  attached to it (``beats``), and those of its own slots; any coordinator lists them all.
- **Liveness is decided once.** The coordinator whose session holds the store's advisory lock (``store.leader``)
  declares lost the hosts whose beats did not move for ``lost_after`` seconds of its own clock (the injected one:
  no two machines' clocks are compared, and a jump of the wall clock loses nobody), and their frames go back to
  the queue. A new leader watches for ``lost_after`` before it loses anyone. A coordinator that dies is such a host
  too: its own slots' frames are rendered by the others, and its workers move to another coordinator and re-attach
  there. The restart sweep of a lone coordinator is not needed: a host that does not come back is lost by the same
  rule.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from farm_node.coordinator.attempts import Attempts
from farm_node.coordinator.hosts import HostRegistry
from farm_node.coordinator.signals import KillOrders, WorkSignal
from farm_node.errors import StoreError

log = logging.getLogger("farm_node")


class SharedFarm:
    def __init__(self, store: Any, clock: Callable[[], float], lock: threading.RLock, hosts: HostRegistry,
                 attempts: Attempts, work: WorkSignal, kills: KillOrders, own_name: str, heartbeat: float,
                 lost_after: float, wall_clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.wall_clock = wall_clock
        self.lock = lock
        # host -> (beats seen, when by this coordinator's clock they last moved): what silence is measured on.
        self._beats: dict[str, tuple[int, float]] = {}
        self.hosts = hosts
        self.attempts = attempts
        self.own_name = own_name
        self.heartbeat = heartbeat
        self.lost_after = lost_after
        self._stop = threading.Event()
        work.broadcast = lambda: store.broadcast("work")
        kills.broadcast = lambda host, attempt: store.broadcast("kill", [host, attempt])
        store.on_remote("work", lambda _data: work.wake(broadcast=False))
        store.on_remote("kill", lambda data: kills.kill(data[0], data[1], broadcast=False))

    def heard(self, host: str) -> None:
        """A host attached here said it is alive (a heartbeat): the farm's hosts table says so."""
        state = self.hosts.get(host)
        if state is None:
            return
        try:
            beats = self.store.host_heard(host, state.slots, state.info, state.worker_id, self.own_name,
                                          self.wall_clock(), state.stopped)
        except StoreError as exc:  # the next heartbeat writes it; liveness waits longer than a heartbeat
            log.warning("cannot record host %s: %s", host, exc)
            return
        self._beats[host] = (beats, self.clock())  # heard just now: silence counts from here

    def keep_alive(self) -> None:
        """This coordinator's own slots are alive as long as it is."""
        state = self.hosts.get(self.own_name)
        if state is not None and state.local:
            self.store.host_heard(self.own_name, state.slots, state.info, None, self.own_name, self.wall_clock())

    def check(self) -> None:
        """Keep this coordinator's own host alive; if this coordinator decides liveness, lose the silent hosts."""
        self.keep_alive()
        if not self.store.leader:
            self._beats.clear()  # a leader again later watches afresh
            return
        now = self.clock()
        for h in self.store.farm_hosts():
            if h.lost or h.stopped:
                self._beats.pop(h.name, None)
                continue
            seen = self._beats.get(h.name)
            if seen is None or seen[0] != h.beats:
                self._beats[h.name] = (h.beats, now)
                continue
            since = seen[1]
            if now - since <= self.lost_after:
                continue
            with self.lock:
                # Only if nobody heard of it meanwhile (its coordinator may have written a beat since).
                if not self.store.host_lost(h.name, h.beats):
                    continue
                self._beats.pop(h.name, None)
                state = self.hosts.get(h.name)
                if state is not None and not state.local:
                    state.lost = True
                    state.in_flight.clear()
                log.warning("host %s is lost: nobody heard of it for %gs", h.name, now - since)
                running = self.store.running_attempts(h.name)
                if running:
                    self.attempts.lose(running, "host %s stopped answering (nobody heard of it for %gs) while"
                                                " rendering this frame" % (h.name, self.lost_after))

    def start(self, interval: float | None = None) -> threading.Thread:
        every = interval or max(0.05, min(1.0, self.heartbeat / 4))

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.check()
                except StoreError as exc:  # the store went away: the next round tries again
                    log.warning("checking the farm's hosts waits for the store: %s", exc)
                except Exception:  # the next round tries again; the store keeps the truth
                    log.exception("checking the farm's hosts failed")

        t = threading.Thread(target=loop, name="farm-hosts", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()

    def workers(self, held: dict[str, int], blocked: dict[str, list[str]],
                listing: Callable[[dict[str, int], dict[str, list[str]]], list[dict[str, Any]]]
                ) -> list[dict[str, Any]]:
        """Every host of the farm: those attached here as this coordinator knows them, the others as the store
        does."""
        from farm_node import scheduler
        mine = {w["name"]: w for w in listing(held, blocked)}
        out = []
        for h in self.store.farm_hosts():
            entry = mine.pop(h.name, None)
            if entry is None or h.coordinator not in (None, self.own_name):
                n = held.get(h.name, 0)
                entry = {"name": h.name, "state": scheduler.host_state(h.lost, h.stopped, n), "slots": h.slots,
                         "frames": n, "last_seen": h.last_seen, "local": h.coordinator == h.name,
                         "blocklisted": blocked.get(h.name, []), **h.info}
            entry["coordinator"] = h.coordinator
            out.append(entry)
        out.extend(mine.values())
        return out
