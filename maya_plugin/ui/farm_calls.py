"""The panel's farm calls of more than one step, run on its TaskRunner's threads (never on the GUI thread)."""
from __future__ import annotations

from typing import Any, List, Sequence, Tuple

__all__ = ["save_queue", "load_queue", "retry_rows"]


def save_queue(client: Any, path: str) -> int:
    with open(path, "wb") as f:
        backup_to = getattr(client, "backup_to", None)
        if backup_to is not None:
            return int(backup_to(f))
        data = client.backup_xml()
        f.write(data)
        return len(data)


def load_queue(client: Any, path: str, replace: bool = False) -> List[str]:
    with open(path, "rb") as f:
        data = f.read()
    if replace:
        return list(client.restore_xml(data, replace=True))
    return list(client.restore_xml(data))


def retry_rows(client: Any, query: Any, ranges: Sequence[Tuple[int, int]]) -> int:
    """Retry the frames in rows ``ranges`` of the sorted, filtered view ``query``: their numbers are read from the
    node (rows whose pages the panel does not hold), then retried in one call. Returns how many."""
    numbers = []  # type: List[int]
    for top, bottom in ranges:
        numbers.extend(client.frame_numbers(query.job, query.subjob, offset=top, limit=bottom - top + 1,
                                            **query.page_args()))
    if numbers:
        client.retry(query.job, subjob=query.subjob, frames=sorted(set(numbers)))
    return len(numbers)
