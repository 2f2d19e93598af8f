"""What `farm` prints, in one place: tables, fields, live displays and progress.

On a terminal they are drawn with rich, fitted to the terminal's width (a long value is folded or wrapped inside its
column, never past the right edge, so a live display redraws in place). When standard output is not a terminal (a
pipe, a file, CI's log) they are plain lines without escape sequences: aligned columns, one row a line. ``--json``
prints the API's answers instead. Progress and notes go to standard error, so ``farm backup - > queue.xml`` and
``farm jobs --json | jq`` stay clean.

rich is imported when something is drawn on a terminal, not when `farm` starts.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
from typing import Any, Iterable, NamedTuple, Sequence, TextIO

STATUS_STYLES = {"Complete": "green", "Rendering": "cyan", "Queued": "", "Paused": "yellow", "Failed": "red",
                 "Cancelled": "dim", "idle": "green", "rendering": "cyan", "lost": "red", "stopped": "dim"}


class Column(NamedTuple):
    """A table column. ``fold``: a long value is cut into pieces across lines (names, which must stay whole to be
    copied); ``wrap``: wrapped at spaces (sentences); neither: kept on one line, cut with an ellipsis if it must."""
    header: str
    justify: str = "left"
    fold: bool = False
    wrap: bool = False
    status: bool = False        # coloured by the value (job, frame and host states)
    min_width: int | None = None  # on a terminal: what a folded column keeps when the others take the width
    max_width: int | None = None  # on a terminal: what a column of short words gets at most (then an ellipsis)


def text(value: Any) -> str:
    """A value as a cell shows it: absent or null is empty, lists are joined with commas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(text(v) for v in value)
    if isinstance(value, dict):
        return ",".join("%s:%s" % (k, text(v)) for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def ago(epoch: Any, seconds: Any = None) -> str:
    """``12s ago``, ``5m ago``, ``3h ago``; older than two days as a date. ``seconds`` (how long ago, counted by
    the node on its own clock) wins over ``epoch``, which compares the node's clock with this machine's."""
    if not _number(seconds):
        if not _number(epoch) or epoch <= 0:
            return ""
        seconds = time.time() - epoch
    seconds = max(0.0, seconds)
    if seconds < 90:
        return "%ds ago" % seconds
    if seconds < 90 * 60:
        return "%dm ago" % (seconds // 60)
    if seconds < 48 * 3600:
        return "%dh ago" % (seconds // 3600)
    return time.strftime("%Y-%m-%d", time.localtime(time.time() - seconds))


def when(epoch: Any) -> str:
    if not _number(epoch) or epoch <= 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def plain_table(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> list[str]:
    """Aligned columns, two spaces apart, the last one not padded: for pipes and logs, which have no width."""
    rows = [[c.replace("\n", " ") for c in row] for row in rows]
    widths = [len(c.header) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [[c.header for c in columns]] + rows:
        cells = []
        for i, (col, cell) in enumerate(zip(columns, row)):
            last = i == len(columns) - 1
            if col.justify == "right":
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell if last else cell.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return lines


def rich_table(columns: Sequence[Column], rows: Iterable[Sequence[str]], title: str | None = None,
               caption: str | None = None) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold", title=title,
                  title_justify="left", caption=caption, caption_justify="left", expand=False,
                  collapse_padding=True)
    rows = list(rows)
    for i, col in enumerate(columns):
        longest = max([len(col.header)] + [len(row[i]) for row in rows])
        table.add_column(col.header, justify=col.justify, no_wrap=not (col.fold or col.wrap),
                         overflow="fold" if col.fold else "ellipsis", max_width=col.max_width,
                         min_width=min(col.min_width, longest) if col.min_width else None)
    for row in rows:
        # Text, not str: a job name or a log line with [brackets] is not rich markup.
        table.add_row(*[Text(cell, style=STATUS_STYLES.get(cell, "") if col.status else "")
                        for col, cell in zip(columns, row)])
    return table


class Output:
    """Where a command prints. ``as_json``: the command prints the API's answers (``json``) and nothing else."""

    def __init__(self, as_json: bool = False, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.tty = _isatty(self.stdout)
        self.err_tty = _isatty(self.stderr)
        self._console: Any = None
        self._err_console: Any = None

    # -- consoles (rich), made when first drawn on ------------------------------------------------------------
    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console
            self._console = Console(file=self.stdout, highlight=False, soft_wrap=False)
        return self._console

    @property
    def err_console(self) -> Any:
        if self._err_console is None:
            from rich.console import Console
            self._err_console = Console(file=self.stderr, stderr=True, highlight=False)
        return self._err_console

    # -- what commands print ----------------------------------------------------------------------------------
    def json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def json_line(self, data: Any) -> None:
        """One JSON document a line: for what streams (``log -f``, ``watch``)."""
        self.stdout.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
        self.stdout.flush()

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[str]], caption: str | None = None) -> None:
        rows = list(rows)
        if self.tty:
            self.console.print(rich_table(columns, rows, caption=caption))
            return
        for line in plain_table(columns, rows):
            self.stdout.write(line + "\n")
        if caption:
            self.stdout.write(caption + "\n")
        self.stdout.flush()

    def fields(self, pairs: Sequence[tuple[str, str]]) -> None:
        """``key: value`` lines; on a terminal the values wrap inside their own column."""
        if self.tty:
            from rich.table import Table
            from rich.text import Text
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="fold")
            for key, value in pairs:
                grid.add_row(Text(key), Text(value, style=STATUS_STYLES.get(value, "") if key == "status" else ""))
            self.console.print(grid)
            return
        width = max((len(k) for k, _ in pairs), default=0)
        for key, value in pairs:
            self.stdout.write(("%s  %s" % ((key + ":").ljust(width + 1), value)).rstrip() + "\n")
        self.stdout.flush()

    def line(self, message: str) -> None:
        """A sentence on standard output (what a command did)."""
        if self.tty:
            from rich.text import Text
            self.console.print(Text(message))
        else:
            self.stdout.write(message + "\n")
            self.stdout.flush()

    def raw(self, data: str) -> None:
        """Text as it is (a frame's log): no wrapping, no markup, nothing added."""
        self.stdout.write(data)
        self.stdout.flush()

    def note(self, message: str) -> None:
        """A remark on standard error (never mixed into what a script reads)."""
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def progress(self) -> "Progress":
        return Progress(self)

    def live(self) -> "Live":
        return Live(self)


class Progress:
    """Progress of a long transfer on standard error: a bar with bytes (or a spinner when the total is unknown) on
    a terminal, nothing elsewhere (the command prints its result line when done). One stage at a time::

        with out.progress() as p:
            p.stage("checking queue.xml", total=size)
            p.update(done)
    """

    def __init__(self, out: Output) -> None:
        self.out = out
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> "Progress":
        if self.out.err_tty and not self.out.as_json:
            from rich.progress import BarColumn, DownloadColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress
            self._progress = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                          DownloadColumn(), TimeElapsedColumn(), console=self.out.err_console,
                                          transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()

    def stage(self, description: str, total: int | None = None) -> None:
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total)
        self._progress.refresh()  # every stage is seen, even one that ends before the next timed redraw

    def update(self, done: int, total: int | None = None) -> None:
        if self._progress is not None and self._task is not None:
            if total is None:
                self._progress.update(self._task, completed=done)
            else:
                self._progress.update(self._task, completed=done, total=total)


class Live:
    """A display redrawn in place on a terminal (rich's Live: every line fits the width, so the cursor goes back up
    exactly as many lines as were drawn); off a terminal ``show`` does nothing (the command prints lines itself).

    Ctrl-C while a frame is being drawn is held until the frame is whole: interrupted halfway, rich would draw its
    last frame from the wrong line and leave a piece of the one before on the screen.
    """

    def __init__(self, out: Output) -> None:
        self.out = out
        self._live: Any = None
        self._drawing = False
        self._held = False
        self._old_handler: Any = None

    def __enter__(self) -> "Live":
        if self.out.tty:
            from rich.live import Live as RichLive
            if threading.current_thread() is threading.main_thread():
                self._old_handler = signal.signal(signal.SIGINT, self._on_interrupt)
            self._live = RichLive(console=self.out.console, auto_refresh=False, vertical_overflow="ellipsis")
            self._drawing = True
            try:
                self._live.start()
            finally:
                self._drawing = False
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._drawing = True
            try:
                self._live.stop()
            finally:
                self._drawing = False
                if self._old_handler is not None:
                    signal.signal(signal.SIGINT, self._old_handler)

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        if self._drawing:
            self._held = True
        else:
            raise KeyboardInterrupt

    def show(self, renderable: Any) -> None:
        """Redraw with ``renderable`` (anything rich draws); only on a terminal."""
        if self._live is None:
            return
        self._drawing = True
        try:
            self._live.update(renderable, refresh=True)
        finally:
            self._drawing = False
        if self._held:
            raise KeyboardInterrupt


def group(*renderables: Any) -> Any:
    from rich.console import Group
    return Group(*renderables)


def plain(message: str) -> Any:
    from rich.text import Text
    return Text(message)


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

