"""Pure decisions of the farm, and their vocabulary: statuses, outcomes, host states, and one function per transition.

No SQL, no processes, no clock here: the store hands in rows, the coordinator carries the decisions out, and a test
checks each rule with plain values.

A frame's status (CONTRACT section 1) and an attempt's outcome::

    frame    Queued --lease--> Rendering --exit 0--> Complete
                                         --failed--> Queued (attempts left) | Failed      after_failure
                                         --lost----> as failed if its render started,      after_loss
                                                     else Queued, the attempt given back
                                         --stopped-> Queued, the attempt given back        after_interrupt
    attempt  running -> complete | failed | cancelled | interrupted | lost | abandoned
             lost -> running (the host answered again: revivable) | retired (a retry: never again)

Studio scheduling (CONTRACT section 6): what a frame needs (``Needs``: host tags, limit units, jobs that must be
Complete), and ``why_not``, the one rule that says why it cannot start: asked by a lease for the host that leases,
and by a job's head for the whole farm, so that ``waiting_for`` never disagrees with what the leases do.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable, Collection, Iterable, Mapping, NamedTuple, Sequence, Union

QUEUED, RENDERING, COMPLETE, FAILED, CANCELLED = "Queued", "Rendering", "Complete", "Failed", "Cancelled"
FRAME_STATUSES = (QUEUED, RENDERING, COMPLETE, FAILED, CANCELLED)
PAUSED = "Paused"  # a job's or subjob's status only
# The statuses a frame's render can be over in, and those a retry without a list of frames queues again.
RETRIED = (FAILED, CANCELLED)


class Outcome:
    """What became of one attempt (``attempts.outcome``)."""
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"          # a user cancelled, retried or deleted the frame
    INTERRUPTED = "interrupted"      # its host stopped it on purpose (a node or worker stopping): given back
    LOST = "lost"                    # its host went silent or no longer held it; may come back (revivable)
    ABANDONED = "abandoned"          # its worker died and killed the orphaned render when it started again
    RETIRED = "retired"              # a lost attempt whose frame a user retried: it may not come back


# Outcomes of an attempt that its own host reported: the render is over, whatever the host still holds of it.
ENDED_BY_HOST = frozenset({Outcome.COMPLETE, Outcome.FAILED, Outcome.INTERRUPTED, Outcome.ABANDONED})


class HostStatus:
    """A render host's state as ``GET /api/workers`` shows it."""
    IDLE = "idle"
    RENDERING = "rendering"
    LOST = "lost"
    STOPPED = "stopped"


def derive_status(counts: Union[Mapping[str, int], Iterable[str]], paused: bool = False) -> str:
    """CONTRACT section 1: all Complete; else any Rendering; else Paused; else any Queued; else any Failed; else
    Cancelled.

    ``counts`` maps statuses to numbers (a SQL ``GROUP BY status``) or is an iterable of statuses. Decision: a
    subjob without frames (an XML restore can make one) is ``Complete``: the first rule holds of it, as the
    contract's order reads, and it holds nothing that could still render.
    """
    # a dict first: the heads of a poll ask this twice a job, and the ABC check costs more than the rest
    if type(counts) is not dict and not isinstance(counts, Mapping):
        counts = Counter(counts)
    total = 0
    for status, n in counts.items():
        if status not in FRAME_STATUSES:
            raise ValueError("unknown frame status %r (one of %s)" % (status, ", ".join(FRAME_STATUSES)))
        total += n
    if counts.get(COMPLETE, 0) == total:
        return COMPLETE
    if counts.get(RENDERING, 0):
        return RENDERING
    if paused:
        return PAUSED
    if counts.get(QUEUED, 0):
        return QUEUED
    if counts.get(FAILED, 0):
        return FAILED
    return CANCELLED


def summary(counts: Mapping[str, int]) -> dict[str, int]:
    """The derived counts of a job's ``frames`` (and a subjob's own keys): the contract's three, then the rest."""
    return {
        "complete": counts.get(COMPLETE, 0),
        "total": sum(counts.values()),
        "failed": counts.get(FAILED, 0),
        "queued": counts.get(QUEUED, 0),
        "rendering": counts.get(RENDERING, 0),
        "cancelled": counts.get(CANCELLED, 0),
    }


def after_failure(attempts: int, max_attempts: int) -> str:
    """A failed attempt sends the frame back to the queue while attempts remain."""
    return QUEUED if attempts < max_attempts else FAILED


def after_interrupt(attempts: int) -> tuple[str, int]:
    """The attempt was stopped by its host on purpose, or never started: the frame is queued again and the attempt
    it took is given back. Returns the frame's status and attempts used."""
    return QUEUED, max(0, attempts - 1)


def after_loss(started: bool, attempts: int, max_attempts: int) -> tuple[str, int]:
    """A host lost the attempt: a failed attempt if its render had started (CONTRACT section 1), else given back."""
    if started:
        return after_failure(attempts, max_attempts), attempts
    return after_interrupt(attempts)


def loss_counts_for_blocklist(outcome: str) -> bool:
    """Only render failures (an exit code, a frame timeout) count towards a host's blocklist, not losses."""
    return outcome == Outcome.FAILED


def revivable(outcome: str, current: int | None, frame_status: str, attempt_host: str, host: str,
              latest: int | None, attempt_id: int) -> bool:
    """May a lost attempt that ``host`` still holds go on? Only its own host's, only while its frame went to
    nobody since (queued or failed, no newer attempt)."""
    return (attempt_host == host and outcome == Outcome.LOST and current is None
            and frame_status in (QUEUED, FAILED) and latest == attempt_id)


def host_state(lost: bool, stopped: bool, frames: int) -> str:
    """What a host is doing: lost beats everything; a host that said goodbye and holds nothing is stopped."""
    if lost:
        return HostStatus.LOST
    if stopped and not frames:
        return HostStatus.STOPPED
    return HostStatus.RENDERING if frames else HostStatus.IDLE


def job_order(jobs: Iterable[Sequence]) -> list:
    """Jobs in the order their frames start: higher priority first, then submission order (the job's id)."""
    return sorted(jobs, key=lambda j: (-j.priority, j.id))


# -- studio scheduling: what a frame needs, and why it cannot start (CONTRACT section 6) ---------------------------
# Host tags and limit names: compared in lower case; a limit's name is also a URL's last word.
_TAG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
TAG_RULE = "1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or a digit"


def tag_problem(value: Any, what: str = "tag") -> str | None:
    """Why ``value`` cannot be a tag (or, with ``what``, a limit's name), or None. Case does not count: callers
    keep ``value.lower()``."""
    if not isinstance(value, str):
        return "a %s is a string, not %r" % (what, value)
    if not _TAG.match(value.lower()):
        return "%r is not a %s name: %ss are %s" % (value, what, what, TAG_RULE)
    return None


class Needs(NamedTuple):
    """What a frame needs to start: hosts holding every tag of ``requires``, ``units`` of each limit, and every job
    of ``depends_on`` Complete."""
    requires: frozenset = frozenset()
    limits: tuple = ()       # (name, units) pairs, sorted by name
    depends_on: tuple = ()   # job names


class JobNeeds(NamedTuple):
    """A job's needs, and those of its subjobs that carry their own ``requires`` or ``limits``; ``parts`` both as
    ``(None or subjob id, needs)`` pairs, as a lease weighs them."""
    job: Needs
    subjobs: Mapping[int, Needs]
    parts: tuple = ()

    def of(self, subjob_id: int) -> Needs:
        return self.subjobs.get(subjob_id, self.job)

    @property
    def any(self) -> bool:
        return bool(self.job != NO_NEEDS or self.subjobs)

    @property
    def limited(self) -> bool:
        return bool(self.job.limits or any(n.limits for n in self.subjobs.values()))


NO_NEEDS = Needs()
NOTHING = JobNeeds(NO_NEEDS, {}, ((None, NO_NEEDS),))


def job_needs(job: Mapping[str, Any], subjobs: Mapping[int, Mapping[str, Any]] | None = None) -> JobNeeds:
    """A job's needs from its keys as stored (``requires``, ``limits``, ``depends_on``). A subjob's ``requires``
    add to the job's; its units of a limit replace the job's, its other limits add to them."""
    base = Needs(frozenset(job.get("requires") or ()), tuple(sorted((job.get("limits") or {}).items())),
                 tuple(job.get("depends_on") or ()))
    subs: dict[int, Needs] = {}
    for sid, keys in (subjobs or {}).items():
        requires, limits = keys.get("requires"), keys.get("limits")
        if requires or limits:
            merged = dict(base.limits)
            merged.update(limits or {})
            subs[sid] = Needs(base.requires | frozenset(requires or ()), tuple(sorted(merged.items())),
                              base.depends_on)
    return JobNeeds(base, subs, ((None, base),) + tuple(subs.items()))


def needs_record(job: Mapping[str, Any], subjobs: Mapping[int, Mapping[str, Any]]) -> dict[str, Any] | None:
    """What the store keeps of a job for its leases (``job_needs`` reads it back); None for a job that needs
    nothing, the leases' fast path."""
    record: dict[str, Any] = {k: job[k] for k in ("requires", "limits", "depends_on") if job.get(k)}
    subs = {str(sid): {k: keys[k] for k in ("requires", "limits") if keys.get(k)}
            for sid, keys in subjobs.items() if keys.get("requires") or keys.get("limits")}
    if subs:
        record["subjobs"] = subs
    return record or None


def needs_from_record(record: Mapping[str, Any] | None) -> JobNeeds:
    if not record:
        return NOTHING
    return job_needs(record, {int(k): v for k, v in (record.get("subjobs") or {}).items()})


class HostView(NamedTuple):
    """A render host as the scheduler sees it."""
    name: str
    tags: frozenset
    up: bool            # it may be handed frames now (attached, not lost, not stopped)
    state: str          # what GET /api/workers says of it, for the sentences
    slots: int = 0
    running: int = 0    # frames in its hands (a head's question; a lease does not need it)


class LimitState(NamedTuple):
    capacity: int
    in_use: int


class WaitCause:
    """Why queued frames cannot start, in the order ``why_not`` asks."""
    PAUSED = "paused"
    DEPENDENCY = "dependency"
    TAGS = "tags"
    LIMIT = "limit"
    BLOCKLIST = "blocklist"
    BUSY = "busy"


class Wait(NamedTuple):
    cause: str
    text: str            # one sentence a wrangler understands (the job's ``waiting_for``)
    # The blocklist yields: every host that may render the job blocklisted it, so a blocklisted host takes it when
    # it has nothing else to render (docs/DESIGN.md, "Scheduling").
    yields: bool = False


def why_not(needs: Needs, deps: Mapping[str, str | None], limits: Mapping[str, LimitState],
            hosts: Sequence[HostView], blocklist: Collection[str], host: HostView | None = None,
            paused: bool = False) -> Wait | None:
    """Why a queued frame with ``needs`` cannot start on ``host`` (a lease's question), or anywhere on the farm
    (``host`` None: a job's head); None when it can.

    ``deps`` maps the job names of ``needs.depends_on`` to their status (None: not on the farm); ``limits`` holds
    the farm's limits with their units in use; ``hosts`` are the farm's hosts; ``blocklist`` the hosts the job
    blocklisted.
    """
    if paused:
        return Wait(WaitCause.PAUSED, "the job is paused")
    unmet = [(name, deps.get(name)) for name in needs.depends_on if deps.get(name) != COMPLETE]
    if unmet:
        return Wait(WaitCause.DEPENDENCY, "; ".join(_dependency_text(name, status) for name, status in unmet))
    if host is not None and not needs.requires <= host.tags:
        return Wait(WaitCause.TAGS, "host %s lacks the tags %s" % (host.name, _words(needs.requires - host.tags)))
    able = [h for h in hosts if h.up and needs.requires <= h.tags]
    if host is None and not able:
        return Wait(WaitCause.TAGS, _no_host_text(needs.requires, hosts))
    full = limit_problem(needs.limits, limits)
    if full:
        return Wait(WaitCause.LIMIT, full)
    open_hosts = [h for h in able if h.name not in blocklist]
    if host is not None:
        if host.name not in blocklist:
            return None
        others = [h for h in open_hosts if h.name != host.name]
        return Wait(WaitCause.BLOCKLIST, "host %s is blocklisted for this job" % host.name, yields=not others)
    if not open_hosts:
        return Wait(WaitCause.BLOCKLIST, "every host that may render it is blocklisted: %s (they take its frames"
                    " when they have nothing else to render)" % _names(able), yields=True)
    if all(h.running >= h.slots for h in open_hosts):
        return Wait(WaitCause.BUSY, "every host that may render it is busy: %s" % _names(open_hosts))
    return None


def limit_problem(wanted: Iterable[tuple[str, int]], limits: Mapping[str, LimitState]) -> str | None:
    """Why a frame holding ``wanted`` units cannot start now, or None: the limits are never oversubscribed."""
    for name, units in wanted:
        state = limits.get(name)
        if state is None:
            return "limit %s does not exist: set it (PUT /api/limits/%s) or change the job's limits" % (name, name)
        if units > state.capacity:
            return "a frame needs %d units of limit %s, more than its capacity of %d" % (units, name, state.capacity)
        if state.in_use + units > state.capacity:
            return "limit %s is full (%d of %d%s)" % (name, state.in_use, state.capacity,
                                                     "; a frame needs %d" % units if units > 1 else "")
    return None


def hold_units(limits: Mapping[str, LimitState], wanted: Iterable[tuple[str, int]]) -> dict[str, LimitState]:
    """The limits once a frame holding ``wanted`` has started."""
    out = dict(limits)
    for name, units in wanted:
        state = out[name]
        out[name] = LimitState(state.capacity, state.in_use + units)
    return out


def dependency_cycle(start: Iterable[str], depends_on: Callable[[str], Sequence[str]]) -> list[str] | None:
    """A cycle of dependencies reachable from the jobs ``start`` (``[a, b, a]``), or None. ``depends_on(name)``
    gives a job's dependencies (none for a job not on the farm)."""
    done: set[str] = set()
    for root in start:
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, Iterable[str]]] = []

        def enter(name: str) -> None:
            path.append(name)
            on_path.add(name)
            stack.append((name, iter(depends_on(name))))

        if root in done:
            continue
        enter(root)
        while stack:
            name, rest = stack[-1]
            nxt = next(rest, None)
            if nxt is None:
                stack.pop()
                path.pop()
                on_path.discard(name)
                done.add(name)
            elif nxt in on_path:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in done:
                enter(nxt)
    return None


def _dependency_text(name: str, status: str | None) -> str:
    if status is None:
        return "job %s is no longer on the farm" % name
    if status in (FAILED, CANCELLED):
        return "job %s is %s, not Complete" % (name, status)
    return "job %s is not Complete" % name


def _no_host_text(requires: frozenset, hosts: Sequence[HostView]) -> str:
    down = [h for h in hosts if not h.up and requires <= h.tags]
    if not requires:
        return "no render host is up" + (" (%s: %s)" % (_names(down), "lost or stopped") if down else "")
    text = "no host has the tags %s" % _words(requires)
    if down:
        return "no host that is up has the tags %s (%s has them, but is %s)" % (
            _words(requires), down[0].name, down[0].state)
    near = max((h for h in hosts if h.up and h.tags & requires), key=lambda h: len(h.tags & requires), default=None)
    if near is not None:
        text += " (the nearest, %s, lacks %s)" % (near.name, _words(requires - near.tags))
    return text


def _words(tags: Iterable[str]) -> str:
    return ", ".join(sorted(tags))


def _names(hosts: Sequence[HostView], most: int = 5) -> str:
    names = [h.name for h in hosts]
    if len(names) > most:
        return "%s and %d more" % (", ".join(names[:most]), len(names) - most)
    return ", ".join(names)
