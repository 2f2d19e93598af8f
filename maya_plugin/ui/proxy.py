"""What the jobs tree shows: the status filter and the text search (plain Python, asked once per job).

The tree sorts and filters in its own model (``JobTreeModel``) rather than through a ``QSortFilterProxyModel``: the
proxy compares rows through Python ``data()`` calls (1.76 million of them to sort 100,000 rows), where the model
computes one key per job and sorts a list.
"""
from __future__ import annotations

from typing import Any, FrozenSet, Iterable

from maya_plugin.ui.style import STATUSES

__all__ = ["JobFilter"]


class JobFilter(object):
    """Statuses (a job passes when it holds frames in one of them, or is paused for ``Paused``) and text (a part of
    the job's name or user, any case). Empty: everything passes."""

    def __init__(self, statuses: Iterable[str] = (), text: str = "") -> None:
        self.statuses = frozenset(s for s in statuses if s in STATUSES)  # type: FrozenSet[str]
        self.text = text.strip().lower()

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, JobFilter) and (self.statuses, self.text) == (other.statuses, other.text)

    def __ne__(self, other: Any) -> bool:
        return not self == other

    @property
    def empty(self) -> bool:
        return not self.statuses and not self.text

    def passes(self, job: Any) -> bool:
        if self.text:
            user = str(job.data.get("user") or "").lower()
            if self.text not in job.name.lower() and self.text not in user:
                return False
        if not self.statuses:
            return True
        if "Paused" in self.statuses and job.data.get("paused"):
            return True
        return any(job.count(s) for s in self.statuses if s != "Paused")
