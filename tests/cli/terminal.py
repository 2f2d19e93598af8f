"""A command run in a real pseudo-terminal of a given size, and a small screen that replays what it drew.

The screen understands what rich and the demo send (printable text, CR, LF, cursor up/down/column, erase line and
screen, SGR colours, cursor show/hide) with the terminal's automatic wrap at the right margin, so a test sees the
page a user would see, lines scrolled off the top included.
"""
from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unicodedata
from typing import Callable, Dict, List, Optional

_CSI = re.compile(r"\x1b\[([0-9;?]*)([ -/]*)([@-~])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_OTHER_ESC = re.compile(r"\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMc]")


def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def strip_escapes(text: str) -> str:
    return _OTHER_ESC.sub("", _CSI.sub("", _OSC.sub("", text)))


def drawn_lines(raw: str) -> List[str]:
    """Each run of text written between two line ends or carriage returns, escape sequences removed: what the
    program meant as one line. Any wider than the terminal was wrapped by it."""
    out = []
    for piece in re.split(r"\r\n|\n|\r", raw):
        # A cursor movement ends a run too (rich moves up a line before redrawing it).
        out += [strip_escapes(p) for p in re.split(r"\x1b\[[0-9]*[ABEFGHf]", piece)]
    return out


class Screen:
    """Replays output on a ``columns`` wide terminal; ``lines`` holds every row written, scrolled off or not."""

    def __init__(self, columns: int = 80) -> None:
        self.columns = columns
        self.lines: List[List[str]] = [[]]
        self.row = 0
        self.col = 0
        self.pending_wrap = False

    def _line(self) -> List[str]:
        while len(self.lines) <= self.row:
            self.lines.append([])
        return self.lines[self.row]

    def _put(self, ch: str) -> None:
        if self.pending_wrap:
            self.row += 1
            self.col = 0
            self.pending_wrap = False
        line = self._line()
        while len(line) < self.col:
            line.append(" ")
        if self.col < len(line):
            line[self.col] = ch
        else:
            line.append(ch)
        if self.col == self.columns - 1:
            self.pending_wrap = True
        else:
            self.col += 1

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = _CSI.match(text, i) or _OSC.match(text, i) or _OTHER_ESC.match(text, i)
                if m is None:
                    i += 1
                    continue
                if m.re is _CSI:
                    self._csi(m.group(1), m.group(3))
                i = m.end()
                continue
            if ch == "\n":
                self.row += 1
                self.col = 0  # the pty's ONLCR turns LF into CR LF
                self.pending_wrap = False
            elif ch == "\r":
                self.col = 0
                self.pending_wrap = False
            elif ch == "\b":
                self.col = max(0, self.col - 1)
                self.pending_wrap = False
            elif ch == "\t":
                self.col = min(self.columns - 1, (self.col // 8 + 1) * 8)
            elif ch >= " ":
                self._put(ch)
            i += 1
        self._line()

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # modes (cursor shown or hidden)
        args = [int(p) if p else 0 for p in params.split(";")] if params else []
        n = max(1, args[0]) if args else 1
        if final in "AF":
            self.row = max(0, self.row - n)
            if final == "F":
                self.col = 0
        elif final in "BE":
            self.row += n
            if final == "E":
                self.col = 0
        elif final == "G":
            self.col = min(self.columns - 1, n - 1)
        elif final == "C":
            self.col = min(self.columns - 1, self.col + n)
        elif final == "D":
            self.col = max(0, self.col - n)
        elif final == "K":
            mode = args[0] if args else 0
            line = self._line()
            if mode == 0:
                del line[self.col:]
            elif mode == 1:
                for k in range(min(self.col + 1, len(line))):
                    line[k] = " "
            else:
                line.clear()
        elif final == "J":
            mode = args[0] if args else 0
            if mode == 0:
                del self._line()[self.col:]
                del self.lines[self.row + 1:]
            elif mode in (2, 3):
                for line in self.lines:
                    line.clear()
        self.pending_wrap = False

    def text(self) -> List[str]:
        return ["".join(line).rstrip() for line in self.lines]


class PtyRun:
    """``argv`` running with a pseudo-terminal of ``columns`` x ``rows`` as its stdin, stdout and stderr."""

    def __init__(self, argv: List[str], env: Dict[str, str], columns: int = 80, rows: int = 24,
                 cwd: Optional[str] = None) -> None:
        self.columns = columns
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
        env.setdefault("TERM", "xterm-256color")
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.raw = ""

    def _pump(self, timeout: float) -> bool:
        """Read what is there (waiting up to ``timeout``); False once the terminal is closed."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal is gone
            data = b""
        if not data:
            return False
        self.raw += self.decoder.decode(data)
        return True

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 60.0, what: str = "output") -> None:
        deadline = time.time() + timeout
        while not predicate(self.raw):
            if time.time() > deadline:
                raise AssertionError("timed out waiting for %s; the terminal shows:\n%s" % (what, self.raw[-3000:]))
            if not self._pump(0.2) and not predicate(self.raw):
                raise AssertionError("the program ended before %s:\n%s" % (what, self.raw[-3000:]))

    def finish(self, timeout: float = 120.0) -> int:
        """Read until the program has ended and closed the terminal; its exit code."""
        deadline = time.time() + timeout
        while self._pump(0.2):
            if self.proc.poll() is not None:
                # Ended: what it wrote is in the terminal's buffer (a child it left may still hold the terminal).
                while self._pump(0) and select.select([self.master], [], [], 0)[0]:
                    pass
                break
            if time.time() > deadline:
                self.proc.kill()
                raise AssertionError("still running after %ss:\n%s" % (timeout, self.raw[-3000:]))
        os.close(self.master)
        return self.proc.wait(timeout=30)

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def screen(self) -> Screen:
        s = Screen(self.columns)
        s.feed(self.raw)
        return s

    def too_wide(self) -> List[str]:
        return [line for line in drawn_lines(self.raw) if width_of(line) > self.columns]
