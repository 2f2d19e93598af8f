"""The render hosts the coordinator knows: its own slots (local) and remote workers, with their liveness state."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from farm_node import scheduler
from farm_node.errors import Conflict


@dataclass
class HostState:
    name: str
    slots: int
    local: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0  # wall clock, epoch seconds: what /api/workers shows
    # The monotonic clock's reading at the last sign of life: what liveness decides by, so that a jump of the wall
    # clock loses no host. None until the host is heard from in this coordinator's life.
    seen_at: float | None = None
    lost: bool = False
    # Remote hosts only: the worker's id (kept in its data folder), whether it has told this coordinator what it holds
    # since the coordinator started, and whether it said goodbye (a clean stop).
    worker_id: str | None = None
    attached: bool = False
    stopped: bool = False
    # Lease answers that may still be on their way to this host: attempt -> answer number (docs/DESIGN.md).
    in_flight: dict[int, int] = field(default_factory=dict)

    @property
    def tags(self) -> frozenset:
        """The host's tags (``--tags``), as it says of itself with its info (so the store keeps them with it)."""
        return frozenset(self.info.get("tags") or ())

    @property
    def usable(self) -> bool:
        """May this remote host be handed frames now?"""
        return self.attached and not self.lost and not self.stopped


class HostRegistry:
    """Every host by name. Its lock guards the table and the hosts' fields; it is taken last of the coordinator's
    locks (after the farm lock) and never held while calling the store."""

    def __init__(self, own_name: str, clock: Callable[[], float], lost_after: float,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.own_name = own_name
        self.clock = clock
        # Liveness decides on this one (a wall-clock jump loses no host); a test that injects one clock drives both.
        self.monotonic = monotonic or (time.monotonic if clock is time.time else clock)
        self.lost_after = lost_after
        self._hosts: dict[str, HostState] = {}
        self._lock = threading.Lock()

    def load(self, rows: Any) -> None:
        """The remote hosts the store remembers (a restart keeps showing them, lost ones as lost)."""
        with self._lock:
            for h in rows:
                if h.name != self.own_name:
                    self._hosts[h.name] = HostState(h.name, h.slots, info=h.info, lost=h.lost,
                                                    last_seen=h.last_seen or 0.0, worker_id=h.worker_id)

    def get(self, name: str) -> HostState | None:
        return self._hosts.get(name)

    def all(self) -> list[HostState]:
        with self._lock:
            return list(self._hosts.values())

    def is_remote(self, name: str) -> bool:
        state = self._hosts.get(name)
        return state is not None and not state.local

    def register_local(self, name: str, slots: int, info: dict[str, Any] | None = None) -> HostState:
        """The node's own render slots (never lost: they live and die with the coordinator)."""
        with self._lock:
            host = self._hosts.get(name)
            if host is None:
                host = self._hosts[name] = HostState(name, slots, True)
            host.slots, host.local = slots, True
            if info:
                host.info = dict(info)
            self.mark(host)
            host.lost = False
            return host

    def claim(self, name: str, worker_id: str | None) -> HostState | None:
        """The state of remote host ``name`` (None if new); Conflict if the name belongs to another host."""
        state = self._hosts.get(name)
        if name == self.own_name or (state is not None and state.local):
            raise Conflict("%r is the name of the coordinator's own host; give the worker its own --name" % name)
        if (state is not None and worker_id and state.worker_id and state.worker_id != worker_id and state.attached
                and not state.lost and not state.stopped and state.seen_at is not None
                and self.monotonic() - state.seen_at <= self.lost_after):
            raise Conflict("another worker named %r is attached to this coordinator; give each worker its own --name"
                           % name)
        return state

    def add(self, name: str, slots: int) -> HostState:
        with self._lock:
            state = self._hosts[name] = HostState(name, slots)
            return state

    def mark(self, state: HostState) -> float:
        """A sign of life of ``state``'s host now, on both clocks; returns the wall clock's reading."""
        state.seen_at = self.monotonic()
        state.last_seen = now = self.clock()
        return now

    def seen(self, name: str) -> None:
        """Any word from a host is a sign of life (a lease, a report, a heartbeat)."""
        state = self._hosts.get(name)
        if state is not None:
            self.mark(state)

    def touch(self, name: str) -> None:
        """A remote host is still there (its heartbeat's long poll is answered)."""
        state = self._hosts.get(name)
        if state is not None and state.attached and not state.lost:
            self.mark(state)

    def listing(self, held: dict[str, int], blocked: dict[str, list[str]]) -> list[dict[str, Any]]:
        """``GET /api/workers``: every host with its state, given the frames each holds and the jobs it may not
        render."""
        out = []
        now = self.clock()
        for h in self.all():
            n = held.get(h.name, 0)
            # The node's own slots live in this process: it answering is their sign of life (their last lease may
            # be a long frame ago). ``seen_ago`` is counted on this node's clock, not the client's.
            last_seen = now if h.local else h.last_seen
            out.append({"name": h.name, "state": scheduler.host_state(h.lost, h.stopped, n), "slots": h.slots,
                        "frames": n, "last_seen": last_seen, "seen_ago": max(0.0, now - last_seen) if last_seen
                        else None, "local": h.local, "blocklisted": blocked.get(h.name, []), **h.info,
                        "tags": sorted(h.tags)})
        return out
