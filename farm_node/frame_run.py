"""One attempt at one frame on a render host: start it, stream its log, watch its time, report its end.

Shared by the standalone node's own slots and by remote workers; what differs is the ``Reporter`` (a direct call into
the coordinator, or HTTP with a spool on disk). Output is read in a thread and handed to the reporter in batches, so a
renderer that prints 10 GB costs the same memory as one that prints a line.
"""
from __future__ import annotations

import selectors
import shlex
import sys
import threading
import time
from typing import Any, Callable, Protocol

from farm_node import runner
from farm_node.errors import ProgramNotAllowed
from farm_node.progress import ProgressParser, frames_from_argv, renderer_from_argv

# select() works on pipes everywhere but Windows.
_SELECTABLE_PIPES = sys.platform != "win32"
FLUSH_SECONDS = 0.25
FLUSH_BYTES = 256 * 1024
TAIL_BYTES = 64 * 1024
# A frame's main process has exited but something it started still holds the pipe open: give it this long.
EXIT_GRACE = 2.0
# Seconds the Windows reader thread is given to see the end of the output once the frame's tree is over.
READER_JOIN = 5.0


def shown_command(args: list[str]) -> str:
    """An argument list as this host's shell would quote it (for the log: nothing is run through a shell)."""
    if sys.platform == "win32":
        from subprocess import list2cmdline  # quoting only: runner.py starts the processes
        return list2cmdline(args)
    return shlex.join(args)


class Reporter(Protocol):
    def started(self, pid: int) -> bool: ...

    def output(self, data: bytes, progress: float | None, tail: bytes | None) -> bool: ...

    def finished(self, exit_code: int | None, error: str | None) -> None: ...


class _LazyParser:
    """The progress parser, made on the first output: a frame that prints nothing does not pay for it."""

    def __init__(self, argv: list[str], frames: int) -> None:
        self.argv = argv
        self.frames = frames
        self._parser: Any = None

    def feed(self, data: bytes) -> float | None:
        if self._parser is None:
            # The command's own -s/-e/-b say how many frames it renders; the chunk size is the fallback.
            self._parser = ProgressParser(renderer_from_argv(self.argv),
                                          frames=frames_from_argv(self.argv) or self.frames)
        return self._parser.feed(data)


class FrameRun:
    """Runs one attempt; ``kill()`` from any thread stops it (cancel, delete, lost lease)."""

    def __init__(self, argv: list[str], exe_map: runner.ExeMap, reporter: Reporter, timeout: float | None = None,
                 frames: int = 1, env: dict[str, str] | None = None, cwd: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.argv = argv
        self.exe_map = exe_map
        self.reporter = reporter
        self.timeout = timeout
        self.frames = frames
        self.env = env
        self.cwd = cwd
        self.clock = clock
        self.child: runner.Child | None = None
        self._killed: str | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._tail = bytearray()
        self._full = True
        self._progress: float | None = None
        self._eof = threading.Event()
        self._reader_done = True  # False while a reader thread (Windows) may still use the pipe

    def kill(self, reason: str) -> None:
        self._killed = reason
        self._wake.set()
        if self.child is not None:
            self.child.kill_tree()

    def run(self) -> None:
        if self._killed:  # moved on before it started: start nothing
            self.reporter.finished(None, self._killed)
            return
        try:
            args = self.exe_map.resolve(self.argv)
        except ProgramNotAllowed as exc:
            self.reporter.output(("[pyfarm] %s\n" % exc).encode(), None, None)
            self.reporter.finished(None, str(exc))
            return
        # The attempt's log begins with what runs (CONTRACT section 6): the job keeps the command as submitted, the
        # host ran its program with the paths it maps. Sent with the first output, so it costs no report of its own.
        line = ("[pyfarm] running: %s\n" % shown_command(args)).encode("utf-8", "replace")
        with self._lock:
            self._buf += line
            self._tail += line
        try:
            self.child = runner.start(args, cwd=self.cwd, env=self.env)
        except OSError as exc:
            message = "cannot start %s: %s" % (args[0], exc.strerror or exc)
            self._flush()
            self.reporter.output(("[pyfarm] %s\n" % message).encode(), None, None)
            self.reporter.finished(None, message)
            return
        try:
            exit_code = self._follow(self.child)
        finally:
            # Whatever ends the attempt (its end, a kill, an error of the node), its whole tree ends with it.
            self.child.close(pipe=self._reader_done)
        self._flush()
        error = None
        if self._killed:
            error = self._killed
        self.reporter.finished(exit_code if not self._killed else None, error)

    def _follow(self, child: runner.Child) -> int:
        if self._killed:
            child.kill_tree()
        if not self.reporter.started(child.pid):
            # The coordinator no longer wants this attempt (cancelled or moved on while we started it).
            child.kill_tree()
        parser = _LazyParser(self.argv, self.frames)
        if _SELECTABLE_PIPES:
            self._watch(parser)
        else:
            # Windows cannot wait on a pipe with select(): a thread reads it.
            reader = threading.Thread(target=self._read, args=(parser,), name="frame-output-%d" % child.pid,
                                      daemon=True)
            self._reader_done = False
            reader.start()
            self._watch(None)
            # The tree is dead or done by now, so the pipe has no writer left, unless a process outside the job
            # holds it: the attempt ends anyway, and the reader (a daemon) keeps the pipe until that one exits.
            reader.join(READER_JOIN)
            self._reader_done = not reader.is_alive()
        return child.wait()

    def _read(self, parser: Any) -> None:
        child = self.child
        assert child is not None
        while True:
            data = child.read(65536)
            if not data:
                break
            if self._take(data, parser):
                self._wake.set()
        self._eof.set()
        self._wake.set()

    def _take(self, data: bytes, parser: Any) -> bool:
        """Keep a chunk of output for the next flush; True when enough waits to flush now."""
        progress = parser.feed(data) if parser is not None else None
        with self._lock:
            if self._full:
                self._buf += data
            self._tail += data
            if len(self._tail) > 2 * TAIL_BYTES:
                del self._tail[:-TAIL_BYTES]
            if progress is not None:
                self._progress = progress
            return len(self._buf) >= FLUSH_BYTES

    def _flush(self) -> None:
        with self._lock:
            data = bytes(self._buf)
            self._buf.clear()
            progress, self._progress = self._progress, None
            tail = None if self._full else bytes(self._tail[-TAIL_BYTES:])
        if data or progress is not None or tail:
            if not self.reporter.output(data, progress, tail) and self._full:
                # The coordinator's log for this attempt is full: from now on send only the tail.
                with self._lock:
                    self._full = False
                    self._buf.clear()

    def _watch(self, parser: Any) -> None:
        """Flush, time out and reap until the output ends; with a ``parser``, read the output here too.

        Reading in this thread where the OS can select() on a pipe saves a thread per frame, which is most of what
        a short frame costs the node.
        """
        child = self.child
        assert child is not None
        started = self.clock()
        selector = None
        if _SELECTABLE_PIPES:
            # poll() for one pipe: epoll would make and close a kernel object per frame.
            selector = getattr(selectors, "PollSelector", selectors.DefaultSelector)()
            selector.register(child.fileno(), selectors.EVENT_READ)
        try:
            self._loop(child, selector, parser, started)
        finally:
            if selector is not None:
                selector.close()

    def _loop(self, child: runner.Child, selector: Any, parser: Any, started: float) -> None:
        exited_at: float | None = None
        last_flush = started
        while not self._eof.is_set():
            if selector is not None:
                if selector.select(max(0.0, FLUSH_SECONDS - (self.clock() - last_flush))):
                    data = child.read(65536)
                    if not data:
                        self._eof.set()
                    elif self._take(data, parser):
                        self._flush()
                        last_flush = self.clock()
            else:
                self._wake.wait(FLUSH_SECONDS)
                self._wake.clear()
            now = self.clock()
            if now - last_flush >= FLUSH_SECONDS or len(self._buf) >= FLUSH_BYTES:
                self._flush()
                last_flush = now
            if self.timeout and not self._killed and now - started > self.timeout:
                self.kill("the frame ran longer than the job's frame timeout of %gs and was killed" % self.timeout)
            if exited_at is None and child.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > EXIT_GRACE:
                # The renderer exited but left processes holding its output open: they are part of the frame.
                child.kill_tree()
                break
