"""The store's reads for scheduling (CONTRACT section 6), on a connection the caller hands in: the writer's, inside
a lease's transaction, or a snapshot's, for a job's head. Both ask the same queries, so that a job's ``waiting_for``
and the leases read the same facts.

Each is an indexed read whatever the store keeps: a dependency's status probes its job's queued, rendering and
ended frames through partial indexes (never its finished ones), and the units in use are summed over the running
attempts that hold some (``attempts_holding``), as they were leased.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable, Iterable

from farm_node import scheduler
from farm_node.scheduler import HostView, LimitState

# Failed sorts after Cancelled: MAX(status) of a job's ended frames is the one derive_status names first.
_STATUS_SQL = (
    "SELECT j.name, j.id, j.paused,"
    " EXISTS (SELECT 1 FROM frames f WHERE f.job_id=j.id AND f.status='Rendering'),"
    " EXISTS (SELECT 1 FROM frames f WHERE f.job_id=j.id AND f.status='Queued'),"
    " (SELECT MAX(f.status) FROM frames f WHERE f.job_id=j.id AND f.status IN ('Failed', 'Cancelled'))"
    " FROM jobs j WHERE j.name IN (%s)")


def job_states(db: Any, names: Iterable[str]) -> dict[str, tuple[int, str]]:
    """The id and derived status (``scheduler.derive_status``'s) of each job named; a name not on the farm is left
    out."""
    wanted = sorted(set(names))
    out: dict[str, tuple[int, str]] = {}
    for i in range(0, len(wanted), 500):
        part = wanted[i:i + 500]
        for name, job_id, paused, rendering, queued, ended in db.execute(_STATUS_SQL % ",".join("?" * len(part)),
                                                                        part):
            if not (rendering or queued or ended):
                status = scheduler.COMPLETE
            elif rendering:
                status = scheduler.RENDERING
            elif paused:
                status = scheduler.PAUSED
            elif queued:
                status = scheduler.QUEUED
            else:
                status = ended
            out[name] = (job_id, status)
    return out


def job_statuses(db: Any, names: Iterable[str]) -> dict[str, str]:
    """The derived status of each job named; a name not on the farm is left out."""
    return {name: status for name, (_, status) in job_states(db, names).items()}


def limit_states(db: Any) -> dict[str, LimitState]:
    """Every limit with its capacity and the units its running attempts hold, in one statement (what a busy
    coordinator pays for is statements): the capacities, then the running attempts' holds grouped from the index
    alone (a farm's attempts hold a few kinds of units)."""
    capacities: dict[str, int] = {}
    used: dict[str, int] = {}
    for name, capacity, n in db.execute(
            "SELECT name, capacity, NULL FROM limits UNION ALL SELECT holds, NULL, COUNT(*) FROM attempts"
            " WHERE outcome='running' AND holds IS NOT NULL GROUP BY holds"):
        if n is None:
            capacities[name] = capacity
        else:
            for held, units in _held(name):
                used[held] = used.get(held, 0) + units * n
    return {name: LimitState(capacity, used.get(name, 0)) for name, capacity in sorted(capacities.items())}


@lru_cache(maxsize=1024)
def _held(holds: str) -> tuple[tuple[str, int], ...]:
    """The units of an attempts' ``holds``, parsed once per distinct value (a farm holds a few kinds)."""
    return tuple(json.loads(holds).items())


def frames_in_hand(db: Any) -> dict[str, int]:
    """Per host, the attempts it is rendering."""
    return {host: n for host, n in db.execute("SELECT host, COUNT(*) FROM attempts WHERE outcome='running'"
                                              " GROUP BY host")}


def blocklisted(db: Any, job_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT host FROM blocklist WHERE job_id=? AND blocked=1 ORDER BY host",
                                     (job_id,))]


class FarmFacts:
    """What the heads of one read ask of the farm to say why a job waits, read once and only if some job asks:
    the hosts (from ``hosts``, the coordinator's registry; else the hosts the store remembers) with the frames in
    their hands, the limits with their units in use, the status of jobs depended on."""

    def __init__(self, db: Any, hosts: Callable[[], list[HostView]] | None) -> None:
        self.db = db
        self._source = hosts
        self._hosts: list[HostView] | None = None
        self._limits: dict[str, LimitState] | None = None
        self._statuses: dict[str, str | None] = {}
        # why_not of one read, by what it depends on (a poll's hundred jobs of the same needs ask it once)
        self._waits: dict[tuple, Any] = {}

    @property
    def hosts(self) -> list[HostView]:
        if self._hosts is None:
            if self._source is not None:
                views = self._source()
            else:
                views = [HostView(name, frozenset(json.loads(info).get("tags") or ()), not lost,
                                  scheduler.HostStatus.LOST if lost else scheduler.HostStatus.IDLE, slots)
                         for name, slots, info, lost in self.db.execute("SELECT name, slots, info, lost FROM hosts")]
            held = frames_in_hand(self.db)
            self._hosts = [h._replace(running=held.get(h.name, 0)) for h in views]
        return self._hosts

    @property
    def limits(self) -> dict[str, LimitState]:
        if self._limits is None:
            self._limits = limit_states(self.db)
        return self._limits

    def statuses(self, names: Iterable[str]) -> dict[str, str | None]:
        missing = [n for n in names if n not in self._statuses]
        if missing:
            found = job_statuses(self.db, missing)
            self._statuses.update({n: found.get(n) for n in missing})
        return self._statuses

    def waiting_for(self, keys: dict[str, Any], subjobs: dict[int, dict[str, Any]], queued: Iterable[int],
                    paused: bool, blocklist: list[str]) -> tuple[str | None, dict[int, str]]:
        """Why a job's queued frames cannot start: the job's sentence (None when some can), and each queued
        subjob's. ``scheduler.why_not`` for the whole farm, the rule the leases follow for each host."""
        needs = scheduler.job_needs(keys, subjobs)
        deps = self.statuses(needs.job.depends_on)
        texts: dict[int, str] = {}
        startable = False
        blocked = tuple(blocklist)
        for sid in queued:
            part = needs.of(sid)
            key = (part, paused, blocked)
            if key in self._waits:
                wait = self._waits[key]
            else:
                wait = self._waits[key] = scheduler.why_not(part, deps, self.limits if part.limits else {},
                                                            self.hosts, blocklist, paused=paused)
            if wait is None:
                startable = True
            else:
                texts[sid] = wait.text
        if startable or not texts:
            return None, texts
        return "; ".join(dict.fromkeys(texts.values())), texts
