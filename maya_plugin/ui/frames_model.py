"""The frames of one subjob as a table that knows its row count without holding its rows.

``FramesModel`` shows the subjob the wrangler opened: ``rowCount`` is the number of frames that pass the filter (the
subjob's total from the summary, or the node's count for a filtered view), and rows come in pages of
``PAGE_ROWS`` read from the node (``GET .../frames``: sorted and filtered there) for the rows on screen only. A row
whose page is not here yet shows as loading; at most ``KEPT_PAGES`` pages are kept, the ones last shown. So a
100,000-frame subjob costs a few hundred rows of memory, a sort is one request, and "select all" is one selection
range of the view, not 100,000 rows.

Live: the narrowed feed brings the changed frames of the watched subjob as rows (``apply_rows``), merged into the
rows that are here (a changed frame that is not on a page here costs nothing). In frame order without a filter a
frame never moves; otherwise (another sort, a filter) a change may move frames between rows, and the pages on screen
are read again, at most once every ``REFRESH_MS``. The model calls ``fetch(query, offset, limit, done, failed)`` to
read a page; the panel runs it off the GUI thread and calls ``done(answer)`` back on it.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from maya_plugin.qt import (BACKGROUND_ROLE, DISPLAY_ROLE, FONT_ROLE, FOREGROUND_ROLE, TEXT_ALIGNMENT_ROLE,
                            TOOLTIP_ROLE, QtCore, Signal)
from maya_plugin.ui.columns import (FRAME_COLUMNS, FRAME_ELAPSED, FRAME_ROLE, FRAME_STATUS, PROGRESS_ROLE,
                                    PROGRESS_TEXT_ROLE, STATUS_ROLE, frame_progress)
from maya_plugin.ui.style import status_color

__all__ = ["FramesModel", "FrameQuery", "PAGE_ROWS", "KEPT_PAGES"]

PAGE_ROWS = 200
KEPT_PAGES = 25
REFRESH_MS = 1000
# Changed rows are repainted at once, then at most once in this interval (the feed may answer 20 times a second).
UPDATE_MS = 200
IN_FLIGHT = 3
_RIGHT = int(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
_INVALID = QtCore.QModelIndex
# Roles these models never answer, answered first: a delegate asks every cell for them at every paint.
_UNUSED_ROLES = frozenset((FONT_ROLE, BACKGROUND_ROLE, int(QtCore.Qt.CheckStateRole),
                           int(QtCore.Qt.SizeHintRole)))


class FrameQuery(NamedTuple):
    """Which frames, in which order: what a page request says to the node."""
    job: str
    subjob: str
    sort: str = "number"
    descending: bool = False
    statuses: Tuple[str, ...] = ()
    host: Optional[str] = None
    first: Optional[int] = None
    last: Optional[int] = None

    @property
    def filtered(self) -> bool:
        return bool(self.statuses) or self.host is not None or self.first is not None or self.last is not None

    @property
    def stable(self) -> bool:
        """Whether a frame's row stays put when frames change (frame order, no filter)."""
        return self.sort == "number" and not self.filtered

    def page_args(self) -> Dict[str, Any]:
        return {"sort": self.sort, "descending": self.descending, "status": list(self.statuses) or None,
                "host": self.host, "first": self.first, "last": self.last}


class FramesModel(QtCore.QAbstractTableModel):
    """Pages of one subjob's frames, fetched for the rows on screen."""

    #: a page arrived (its number): the view and the panel may update
    pageLoaded = Signal(int)
    #: reading a page failed: the exception
    failed = Signal(object)

    def __init__(self, fetch: Callable[..., Any], parent: Any = None, clock: Callable[[], float] = time.time,
                 page_rows: int = PAGE_ROWS, kept_pages: int = KEPT_PAGES) -> None:
        super(FramesModel, self).__init__(parent)
        self.fetch = fetch
        self.clock = clock
        self.page_rows = page_rows
        self.kept_pages = kept_pages
        self.query = None  # type: Optional[FrameQuery]
        self.total = 0
        self.pages = OrderedDict()  # type: OrderedDict[int, List[Dict[str, Any]]]
        self.by_number = {}  # type: Dict[int, Tuple[int, int]]
        self.generation = 0
        self.feed_revision = 0
        self.requests = 0  # pages asked for (what a test or the benchmark can count)
        self._serial = {}  # type: Dict[int, int]
        self._in_flight = set()  # type: set
        self._stale = set()  # type: set
        self._visible = (0, 0)
        self._fetch_timer = QtCore.QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(0)
        self._fetch_timer.timeout.connect(self._fetch_visible)
        self._refresh_timer = QtCore.QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._dirty = set()  # type: set
        self._last_update = -1e9
        self._update_timer = QtCore.QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.timeout.connect(self._flush_changed)

    # -- what the panel asks ------------------------------------------------------------------------------------
    @property
    def key(self) -> Optional[Tuple[str, str]]:
        return None if self.query is None else (self.query.job, self.query.subjob)

    def show(self, query: Optional[FrameQuery], total_hint: Optional[int] = None) -> None:
        """Show the frames ``query`` names (None: nothing). ``total_hint``: the subjob's frame count, known from the
        summary, so that an unfiltered view has its rows at once."""
        self.beginResetModel()
        self.generation += 1
        self.query = query
        self.pages.clear()
        self.by_number.clear()
        self._serial.clear()
        self._in_flight.clear()
        self._stale.clear()
        self._dirty.clear()
        self.total = int(total_hint or 0) if query is not None and not query.filtered else 0
        self.endResetModel()
        self._refresh_timer.stop()
        if query is not None:
            self._fetch_timer.start()

    def set_visible(self, first: int, last: int) -> None:
        """The rows on screen now: their pages are read when missing."""
        self._visible = (max(0, first), max(first, last))
        if self.query is not None:
            self._fetch_timer.start()

    def frame_at(self, row: int) -> Optional[Dict[str, Any]]:
        page = self.pages.get(row // self.page_rows)
        if page is None:
            return None
        offset = row % self.page_rows
        return page[offset] if offset < len(page) else None

    def row_of(self, number: int) -> int:
        """The row of frame ``number`` if its page is here, else -1."""
        where = self.by_number.get(int(number))
        return -1 if where is None else where[0] * self.page_rows + where[1]

    def loaded_rows(self) -> int:
        return sum(len(p) for p in self.pages.values())

    # -- Qt's model interface -------------------------------------------------------------------------------------
    def rowCount(self, parent: Any = _INVALID()) -> int:
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: Any = _INVALID()) -> int:
        return 0 if parent.isValid() else len(FRAME_COLUMNS)

    def headerData(self, section: int, orientation: Any, role: int = DISPLAY_ROLE) -> Any:
        if orientation == QtCore.Qt.Horizontal and role == DISPLAY_ROLE and 0 <= section < len(FRAME_COLUMNS):
            return FRAME_COLUMNS[section].title
        return None


    # No flags() here: Qt's own (selectable, enabled, no children) is C++, and a Python one is called for every row
    # that a layout, a selection or a header looks at (900,000 calls, 25 s, after "select all" of 100,000 frames).

    def data(self, index: Any, role: int = DISPLAY_ROLE) -> Any:
        role = int(role)
        if role in _UNUSED_ROLES or not index.isValid():  # most of what a delegate asks each cell at every paint
            return None
        frame = self.frame_at(index.row())
        if frame is None:
            if role == DISPLAY_ROLE and index.column() == 0:
                self._fetch_timer.start()  # a row on screen whose page is away
                return "..."
            return None
        column = index.column()
        if role == DISPLAY_ROLE:
            return FRAME_COLUMNS[column].text(frame, self.clock())
        if role == STATUS_ROLE:
            return frame.get("status") or "Queued"
        if role == PROGRESS_ROLE:
            return frame_progress(frame)
        if role == PROGRESS_TEXT_ROLE:
            return FRAME_COLUMNS[column].text(frame, 0.0)
        if role == FRAME_ROLE:
            return frame
        if role == FOREGROUND_ROLE and column == FRAME_STATUS:
            return status_color(frame.get("status"))
        if role == TEXT_ALIGNMENT_ROLE and FRAME_COLUMNS[column].right:
            return _RIGHT
        if role == TOOLTIP_ROLE:
            parts = [frame.get("command") or ""]
            if frame.get("error"):
                parts.append("error: %s" % frame["error"])
            if frame.get("exit_code") not in (None, 0):
                parts.append("exit code %s" % frame["exit_code"])
            return "\n".join(p for p in parts if p) or None
        return None

    def sort(self, column: int, order: Any = QtCore.Qt.AscendingOrder) -> None:
        """Sorted by the node: one page request, whatever the subjob's size."""
        if self.query is None or not 0 <= column < len(FRAME_COLUMNS):
            return
        query = self.query._replace(sort=FRAME_COLUMNS[column].sort,
                                    descending=order == QtCore.Qt.DescendingOrder)
        if query != self.query:
            self.show(query, self.total)

    # -- pages --------------------------------------------------------------------------------------------------
    def _wanted_pages(self) -> List[int]:
        if self.total == 0:
            return [0]
        first, last = self._visible
        last = min(last, self.total - 1)
        return list(range(first // self.page_rows, last // self.page_rows + 1))

    def _fetch_visible(self) -> None:
        if self.query is None:
            return
        for page in self._wanted_pages():
            if len(self._in_flight) >= IN_FLIGHT:
                break
            if (page not in self.pages or page in self._stale) and page not in self._in_flight:
                self._request(page)

    def _request(self, page: int) -> None:
        serial = self._serial.get(page, 0) + 1
        self._serial[page] = serial
        self._in_flight.add(page)
        self.requests += 1
        generation, query = self.generation, self.query
        self.fetch(query, page * self.page_rows, self.page_rows,
                   lambda answer: self._arrived(generation, page, serial, answer),
                   lambda exc: self._failed(generation, page, serial, exc))

    def _failed(self, generation: int, page: int, serial: int, exc: BaseException) -> None:
        if generation == self.generation and serial == self._serial.get(page):
            self._in_flight.discard(page)
            self.failed.emit(exc)

    def _arrived(self, generation: int, page: int, serial: int, answer: Dict[str, Any]) -> None:
        if generation != self.generation or serial != self._serial.get(page):
            return  # a reset, or a newer request for this page, came since
        self._in_flight.discard(page)
        self._resize(int(answer.get("total") or 0))
        for frame in self.pages.pop(page, ()):
            self.by_number.pop(frame.get("number"), None)
        rows = list(answer.get("frames") or ())
        self.pages[page] = rows
        for i, frame in enumerate(rows):
            self.by_number[frame.get("number")] = (page, i)
        self._stale.discard(page)
        if int(answer.get("revision") or 0) < self.feed_revision and not self._refresh_timer.isActive():
            self._refresh_timer.start()  # read before changes the feed already brought: read again, later
        self._evict()
        first = page * self.page_rows
        last = min(self.total, first + self.page_rows) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(FRAME_COLUMNS) - 1))
        self.pageLoaded.emit(page)
        self._fetch_visible()

    def _resize(self, total: int) -> None:
        if total > self.total:
            self.beginInsertRows(_INVALID(), self.total, total - 1)
            self.total = total
            self.endInsertRows()
        elif total < self.total:
            self.beginRemoveRows(_INVALID(), total, self.total - 1)
            self.total = total
            for page in [p for p in self.pages if p * self.page_rows >= total]:
                for frame in self.pages.pop(page):
                    self.by_number.pop(frame.get("number"), None)
            self.endRemoveRows()

    def _evict(self) -> None:
        keep = set(self._wanted_pages())
        for page in list(self.pages):
            if len(self.pages) <= self.kept_pages:
                break
            if page not in keep:
                for frame in self.pages.pop(page):
                    self.by_number.pop(frame.get("number"), None)
        for page in keep:
            if page in self.pages:
                self.pages.move_to_end(page)

    # -- live ---------------------------------------------------------------------------------------------------
    def apply_rows(self, columns: List[str], rows: List[List[Any]], revision: int = 0) -> int:
        """Merge the narrowed feed's ``frame_rows`` of its ``frame_columns`` into the rows that are here; only a row
        whose frame is on a page here becomes a dictionary (of 1,000 changed frames, the few hundred shown at most).
        Returns how many rows changed."""
        self.feed_revision = max(self.feed_revision, int(revision or 0))
        at = list(columns).index("number")
        changed = []
        for values in rows:
            where = self.by_number.get(values[at])
            if where is not None:
                self.pages[where[0]][where[1]].update(zip(columns, values))
                changed.append(where[0] * self.page_rows + where[1])
        self._dirty.update(changed)
        if self._dirty and not self._update_timer.isActive():
            wait = self._last_update + UPDATE_MS / 1000.0 - time.monotonic()
            if wait <= 0:
                self._flush_changed()
            else:
                self._update_timer.start(int(wait * 1000) + 1)
        if rows and self.query is not None and not self.query.stable and not self._refresh_timer.isActive():
            self._refresh_timer.start()
        return len(changed)

    def _flush_changed(self) -> None:
        """Repaint the rows the feed changed since the last repaint, a range per run of neighbours."""
        self._update_timer.stop()
        rows = sorted(r for r in self._dirty if r < self.total)
        self._dirty.clear()
        self._last_update = time.monotonic()
        last = len(FRAME_COLUMNS) - 1
        start = prev = None
        for row in rows + [None]:
            if start is not None and (row is None or row != prev + 1):
                self.dataChanged.emit(self.index(start, 0), self.index(prev, last))
                start = None
            if row is not None and start is None:
                start = row
            prev = row

    def refresh(self) -> None:
        """Read again the pages on screen (the rows stay until their new page comes); forget the others."""
        if self.query is None:
            return
        keep = set(self._wanted_pages())
        for page in list(self.pages):
            if page not in keep:
                for frame in self.pages.pop(page):
                    self.by_number.pop(frame.get("number"), None)
        self._stale.update(keep)
        for page in keep & self._in_flight:  # an answer on its way may predate what asked for this refresh
            self._serial[page] = self._serial.get(page, 0) + 1
            self._in_flight.discard(page)
        self._fetch_visible()

    def tick(self) -> None:
        """Refresh the elapsed column of the rows on screen."""
        if self.total:
            first, last = self._visible
            last = min(last, self.total - 1)
            if last >= first:
                self.dataChanged.emit(self.index(first, FRAME_ELAPSED), self.index(last, FRAME_ELAPSED))
