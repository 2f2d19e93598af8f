"""Render progress read from log lines, per renderer (the log lines of maya.md section 4).

``ProgressParser`` takes a render's log as arbitrary byte chunks, exactly as they come from the process, and answers
the overall progress of the command in percent (0..100):

- lines end at ``\\n`` or ``\\r`` (progress bars redraw with ``\\r``), may be split across chunks, and may hold bytes
  that are not UTF-8: matching works on bytes and never decodes;
- a line longer than ``MAX_LINE_BYTES`` is judged by its last ``MAX_LINE_BYTES``, so one endless line without a line
  end (a 10 GB log of junk) never grows the parser's memory;
- for a command rendering several frames (``-s 1 -e 4``) the progress is overall: frames done plus the current
  frame's fraction, over the frame count. Frames are counted by the renderers' frame markers where they have them
  (mental ray, Arnold, Maya Software, V-Ray, Redshift, RenderMan before 22); for RenderMan 22+ and the generic
  ``[PROGRESS] N percent``, which have none, a fall of the percentage by 50 points or more means the next frame began;
- the answer never goes backwards.

Every byte of every log goes through here, so each pattern sits behind a cheap substring test, and chunks whose
complete lines hold none of the substrings are not even split into lines.
"""
from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["MAX_LINE_BYTES", "ProgressParser", "frames_from_argv", "renderer_from_argv"]

MAX_LINE_BYTES = 4096

# What a matching line means.
_PERCENT = "percent"        # group 1: percent of the current frame
_FRACTION = "fraction"      # groups 1/2: done/total within the current frame (Redshift blocks)
_START = "start"            # a frame begins
_END = "end"                # a frame is finished
_INDEX = "index"            # groups 1/2: the i-th frame of n begins (Redshift)

_NUM = rb"([0-9]+(?:\.[0-9]+)?)"

# family -> (substring that must be in the line, regex or None when the substring suffices, meaning)
_RULES: Dict[str, List[Tuple[bytes, Optional[bytes], str]]] = {
    "mentalray": [
        (b"rendered", rb"progr: +" + _NUM + rb"% +rendered", _PERCENT),
        (b"begin scene preprocessing for frame", rb"progr: +begin scene preprocessing for frame", _START),
        (b"rendering finished", rb"progr: +rendering finished", _END),
    ],
    "arnold": [
        (b"% done", rb"([0-9]+)% done", _PERCENT),
        (b"render done", None, _END),
    ],
    "software": [
        (b"Percentage of rendering done", rb"Percentage of rendering done: *" + _NUM, _PERCENT),
        (b"Starting Rendering", None, _START),
        (b"Finished Rendering", None, _END),
    ],
    "vray": [
        (b"V-Ray:", rb"V-Ray: +" + _NUM + rb" ?%", _PERCENT),
        (b"% completed", rb"([0-9]+) % completed", _PERCENT),
        (b"V-Ray: Total frame time", None, _END),
    ],
    "redshift": [
        (b"Rendering frame", rb"Rendering frame -?[0-9.]+ \(([0-9]+)/([0-9]+)\)", _INDEX),
        (b"Block", rb"Block ([0-9]+)/([0-9]+) .*rendered", _FRACTION),
        (b"Frame done", None, _END),
    ],
    "renderman": [
        (b"R90000", rb"R90000\s+([0-9]+)%", _PERCENT),
        (b"rfm Notice: Rendering", rb"rfm Notice: Rendering .* at -?[0-9]", _START),
    ],
    "generic": [
        (b"[PROGRESS]", rb"\[PROGRESS\] *" + _NUM + rb" *percent", _PERCENT),
    ],
}

# Families whose frames end without a marker: only their percentages tell that a new frame began.
_UNMARKED = frozenset(("renderman", "generic"))

# The -r values of maya.md section 3 (and friends), lowercased, to the families whose lines they print.
_FAMILIES_BY_RENDERER = {
    "mr": ("mentalray",), "mentalray": ("mentalray",),
    "arnold": ("arnold",),
    "sw": ("software",), "mayasoftware": ("software",), "hw": ("software",), "hw2": ("software",),
    "vr": ("software",),
    "vray": ("vray",),
    "redshift": ("redshift",),
    "renderman": ("renderman",), "rman": ("renderman",), "prman": ("renderman",), "rfm": ("renderman",),
}

_VALUE_FLAGS = frozenset(("-r", "-s", "-e", "-b", "-rl", "-cam", "-rd", "-im", "-proj", "-v", "-pad", "-of", "-x",
                          "-y", "-ai:lve", "-rt", "-gpu", "-threads"))
_BOOLEAN_WORDS = frozenset(("true", "false", "1", "0", "on", "off", "yes", "no"))
_NEW_FRAME_FALL = 0.5  # fraction of a frame the percentage must fall to mean "next frame" (unmarked families)


class _Rule:
    __slots__ = ("regex", "meaning", "unmarked")

    def __init__(self, pattern: Optional[bytes], meaning: str, unmarked: bool) -> None:
        self.regex = re.compile(pattern) if pattern is not None else None
        self.meaning = meaning
        self.unmarked = unmarked


def _compile(families: Sequence[str]) -> List[Tuple[bytes, List[_Rule]]]:
    by_key: Dict[bytes, List[_Rule]] = {}
    for family in families:
        for key, pattern, meaning in _RULES[family]:
            by_key.setdefault(key, []).append(_Rule(pattern, meaning, family in _UNMARKED))
    return list(by_key.items())


_COMPILED: Dict[Tuple[str, ...], List[Tuple[bytes, List[_Rule]]]] = {}


def _rules_for(renderer: Optional[str]) -> List[Tuple[bytes, List[_Rule]]]:
    families = _FAMILIES_BY_RENDERER.get((renderer or "").strip().lower())
    # No hint, -r file or an unknown name: the log may be any renderer's.
    families = (families + ("generic",)) if families else tuple(_RULES)
    if families not in _COMPILED:
        _COMPILED[families] = _compile(families)
    return _COMPILED[families]


class ProgressParser:
    """Overall render progress of one command, from its log bytes.

    ``renderer`` is the command's ``-r`` value (``mr``, ``arnold``, ``sw``, ``vray``, ``redshift``, ``renderman``,
    ``rman``...) or None to recognise every renderer's lines. ``frames`` is how many frames the command renders
    (see ``frames_from_argv``); None means one, unless the log itself says (Redshift's ``(i/n)``).
    """

    def __init__(self, renderer: Optional[str] = None, frames: Optional[int] = None) -> None:
        if frames is not None and frames < 1:
            raise ValueError(f"frames must be at least 1, not {frames}")
        self.renderer = renderer
        self._rules = _rules_for(renderer)
        self._keys = tuple(key for key, _ in self._rules)
        self._frames = frames
        self._log_frames: Optional[int] = None  # the frame count the log announced
        self._done = 0               # frames finished
        self._current = 0.0          # fraction of the current frame, 0..1
        self._open = False           # a frame has begun and not ended
        self._markers_seen = False   # the log has frame markers, so percentages never count frames
        self._progress = 0.0
        self._reported = 0.0
        self._pending = b""

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> "ProgressParser":
        """A parser for the render command ``argv`` (its ``-r`` and frame range)."""
        return cls(renderer_from_argv(argv), frames=frames_from_argv(argv))

    @property
    def progress(self) -> float:
        """The overall progress so far, 0..100."""
        return self._progress

    @property
    def frames_done(self) -> int:
        """Frames the log has shown finished."""
        return self._done

    def feed(self, data: bytes) -> Optional[float]:
        """Take the next chunk of the log; returns the overall progress if it rose, else None."""
        if not data:
            return None
        data = bytes(data)
        first = _first_line_end(data)
        if first < 0:
            # Keep only the tail of an unfinished line, however long it grows.
            self._pending = (self._pending + data[-MAX_LINE_BYTES:])[-MAX_LINE_BYTES:]
            return None
        # Slice before joining, so that a gigantic chunk is never copied whole.
        self._line((self._pending + data[max(0, first - MAX_LINE_BYTES):first])[-MAX_LINE_BYTES:])
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last > first + 1 and self._may_match(data, first + 1, last):
            for line in data[first + 1:last].splitlines():
                self._line(line[-MAX_LINE_BYTES:])
        self._pending = data[max(last + 1, len(data) - MAX_LINE_BYTES):]
        return self._report()

    def _may_match(self, data: bytes, start: int, end: int) -> bool:
        # bytes.find with bounds scans without copying: junk-only chunks cost a few C scans.
        return any(data.find(key, start, end) >= 0 for key in self._keys)

    def _line(self, line: bytes) -> None:
        for key, rules in self._rules:
            if key not in line:
                continue
            for rule in rules:
                match = rule.regex.search(line) if rule.regex is not None else True
                if match:
                    self._event(rule, match)

    def _event(self, rule: _Rule, match) -> None:
        meaning = rule.meaning
        if meaning == _PERCENT:
            fraction = min(float(match.group(1)), 100.0) / 100.0
            if rule.unmarked and not self._markers_seen and self._current - fraction >= _NEW_FRAME_FALL:
                self._done += 1
            self._current = fraction
            self._open = True
        elif meaning == _FRACTION:
            total = int(match.group(2))
            if total > 0:
                self._current = min(int(match.group(1)) / total, 1.0)
                self._open = True
        elif meaning == _START:
            if self._open:
                self._done += 1  # the previous frame never said it ended
            self._begin()
        elif meaning == _END:
            self._done += 1
            self._markers_seen = True
            self._open = False
            self._current = 0.0
        elif meaning == _INDEX:
            index, total = int(match.group(1)), int(match.group(2))
            if total > 0:
                self._log_frames = total
            self._done = max(self._done, index - 1)
            self._begin()
        self._update()

    def _begin(self) -> None:
        self._markers_seen = True
        self._open = True
        self._current = 0.0

    def _update(self) -> None:
        total = self._frames or self._log_frames or 1
        if self._done >= total:
            value = 100.0
        else:
            value = min(100.0, (self._done + self._current) * 100.0 / total)
        if value > self._progress:
            self._progress = round(value, 2)

    def _report(self) -> Optional[float]:
        if self._progress > self._reported:
            self._reported = self._progress
            return self._progress
        return None


def _first_line_end(data: bytes) -> int:
    nl, cr = data.find(b"\n"), data.find(b"\r")
    if nl < 0 or cr < 0:
        return max(nl, cr)
    return min(nl, cr)


def renderer_from_argv(argv: Sequence[str]) -> Optional[str]:
    """The ``-r`` value of a render command (the last one if given twice), or None."""
    renderer = None
    for i, word in enumerate(argv[:-1]):
        if word == "-r":
            renderer = argv[i + 1]
    return renderer


def frames_from_argv(argv: Sequence[str]) -> Optional[int]:
    """How many frames a render command renders: its ``-s``/``-e``/``-b`` range times its named ``-rl`` layers.

    None when the command has no ``-s`` or ``-e`` (the scene's own range is used, which the command line cannot tell)
    or the range is not understood.
    """
    values: Dict[str, str] = {}
    i = 0
    while i < len(argv) - 1:
        if argv[i] in _VALUE_FLAGS:
            values[argv[i]] = argv[i + 1]
            i += 2
        else:
            i += 1
    if "-s" not in values and "-e" not in values:
        return None
    try:
        start = float(values.get("-s", values.get("-e", "")))
        end = float(values.get("-e", values.get("-s", "")))
        step = float(values.get("-b", "1"))
    except ValueError:
        return None
    if not step > 0 or end < start:
        return None
    count = int(math.floor((end - start) / step + 1e-9)) + 1
    layers = values.get("-rl", "")
    if layers.strip() and layers.strip().lower() not in _BOOLEAN_WORDS:
        count *= max(1, len([name for name in layers.split(",") if name.strip()]))
    return count
