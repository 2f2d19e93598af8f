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
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping, Sequence, Union

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
    if not isinstance(counts, Mapping):
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
