"""Frame lists as artists type them, and the chunks a farm renders.

    parse_frames("1-10x2, 15 20-22") -> [1, 3, 5, 7, 9, 15, 20, 21, 22]
    format_frames([1, 3, 5, 7, 9, 15, 20, 21, 22]) -> "1-9x2,15,20-22"
    chunk([1, 2, 3, 4, 5, 10, 11], 4) -> [[1, 2, 3, 4], [5], [10, 11]]

Syntax: items are separated by commas and/or spaces. An item is a frame (``7``, ``-3``), a range ``A-B`` (inclusive,
``A <= B``) or a stepped range ``A-BxS`` (``A-B:S`` is accepted too, as Deadline writes it), with ``S >= 1``. Negative
frames are written with their sign: ``-10--1``. Spaces around ``-`` and ``x`` are ignored, so ``1 - 10`` is ``1-10``.
A frame named twice is rendered once; the result is sorted. A list with several bad parts names every one of them.
V-Ray's own "Specific frames" list (``1-3;10``) is read by ``parse_vray_frames``. Pure Python, no Maya.
"""
from __future__ import annotations

import re
from typing import Iterable, List, Sequence, Tuple

from .errors import FrameListError

__all__ = ["MAX_FRAMES", "parse_frames", "parse_vray_frames", "format_frames", "frame_runs", "chunk", "frame_range"]

#: A frame list that expands to more frames than this is refused (a typo such as ``1-1000000`` would otherwise build a
#: job the farm cannot hold).
MAX_FRAMES = 100000

_INT = r"-?\d+"
# One item, anchored at the current scan position. Spaces are allowed around "-" and the step mark.
_ITEM = re.compile(
    r"(?P<start>%s)(?:\s*-\s*(?P<end>%s)(?:\s*(?P<mark>[x:])\s*(?P<step>%s))?)?" % (_INT, _INT, _INT)
)
_SPACE = re.compile(r"\s+")
_SHAPES = "a frame (12), a range (1-100) or a stepped range (1-100x5)"


def _parse_part(part: str, out: set, problems: List[str]) -> None:
    """Adds the frames of one comma-separated part (which may hold several space-separated items) to ``out``; what
    cannot be read is added to ``problems`` and the scan goes on at the next space, so every bad item is named."""
    pos = 0
    text = part.strip()
    while pos < len(text):
        match = _ITEM.match(text, pos)
        end_pos = match.end() if match else pos
        # An item must end at a separator (space) or at the end of the part.
        if match is None or (end_pos < len(text) and not text[end_pos].isspace()):
            word = text[pos:].split()[0]
            problems.append("%r is not %s" % (word, _SHAPES))
            pos += len(word)
        else:
            item = text[pos:end_pos]
            start = int(match.group("start"))
            if match.group("end") is None:
                out.add(start)
            else:
                end = int(match.group("end"))
                step = int(match.group("step")) if match.group("step") is not None else 1
                if end < start:
                    problems.append("%r: the range ends before it starts (write %d-%d)" % (item, end, start))
                elif step < 1:
                    problems.append("%r: the step must be 1 or more" % item)
                else:
                    count = (end - start) // step + 1
                    if count + len(out) > MAX_FRAMES:
                        raise FrameListError("%r: too many frames (at most %d in one job)" % (item, MAX_FRAMES))
                    out.update(range(start, end + 1, step))
            if len(out) > MAX_FRAMES:
                raise FrameListError("too many frames (at most %d in one job)" % MAX_FRAMES)
            pos = end_pos
        space = _SPACE.match(text, pos)
        pos = space.end() if space else pos


def _failed(problems: List[str]) -> FrameListError:
    # One bad part reads as before; several are all named, so the artist fixes the list in one go.
    return FrameListError("; ".join(problems), problems)


def parse_frames(text: str) -> List[int]:
    """The frames of a frame list such as ``"1-100x5, 150 200-210"``, sorted, each once.

    Raises FrameListError naming every bad part (its ``problems`` lists them one by one) for an empty list, a word
    that is not a frame or range (``abc``, ``x0``, ``1.5``), a range that ends before it starts (``10-1``), a step
    below 1 (``1-10x0``); or at once for more than MAX_FRAMES frames.
    """
    if text is None or not str(text).strip():
        raise FrameListError("the frame list is empty (write frames such as 1-100 or 1,5,10-20)")
    out = set()  # type: set
    problems = []  # type: List[str]
    for part in str(text).split(","):
        if not part.strip():
            message = "%r: an empty item between commas" % str(text).strip()
            if message not in problems:
                problems.append(message)
            continue
        _parse_part(part, out, problems)
    if problems:
        raise _failed(problems)
    return sorted(out)


def parse_vray_frames(text: str) -> List[int]:
    """V-Ray's "Specific frames" list (``vraySettings.animFrames``) as frames: ``"1-3;10"`` -> ``[1, 2, 3, 10]``.

    Parts are separated by ``;`` or ``,`` (shared/notes/maya.md section 8, after Deadline's DeadlineGetFrameList);
    each part is read as ``parse_frames`` reads one. Raises FrameListError as ``parse_frames`` does.
    """
    if text is None or not str(text).strip():
        raise FrameListError("V-Ray is set to render specific frames, but its frame list is empty")
    return parse_frames(str(text).replace(";", ","))


def frame_range(start: int, end: int, step: int = 1) -> List[int]:
    """Frames from ``start`` to ``end`` inclusive by ``step`` (the render globals' range); empty when end < start."""
    if step < 1:
        raise FrameListError("a frame step of %d: the step must be 1 or more" % step)
    if end >= start and (end - start) // step + 1 > MAX_FRAMES:
        raise FrameListError("%d-%dx%d: too many frames (at most %d in one job)" % (start, end, step, MAX_FRAMES))
    return list(range(start, end + 1, step))


def frame_runs(frames: Iterable[int]) -> List[Tuple[int, int, int, List[int]]]:
    """Splits frames (sorted, each once) into runs ``(first, last, step, members)`` with a constant step.

    Greedy from the lowest frame: a run of step 1 may have any length; a run with a larger step needs at least three
    frames, otherwise its first frame stands alone (so ``1,5`` stays two frames, ``1,3,5`` is ``1-5x2``).
    """
    values = sorted(set(int(f) for f in frames))
    runs = []  # type: List[Tuple[int, int, int, List[int]]]
    i = 0
    while i < len(values):
        if i + 1 == len(values):
            runs.append((values[i], values[i], 1, [values[i]]))
            break
        step = values[i + 1] - values[i]
        j = i + 1
        while j + 1 < len(values) and values[j + 1] - values[j] == step:
            j += 1
        members = values[i:j + 1]
        if step == 1 or len(members) >= 3:
            runs.append((members[0], members[-1], step, members))
            i = j + 1
        else:
            runs.append((values[i], values[i], 1, [values[i]]))
            i += 1
    return runs


def format_frames(frames: Iterable[int]) -> str:
    """The compact frame list of ``frames``: ``[1, 2, 3, 5, 7, 9, 12] -> "1-3,5-9x2,12"``; ``""`` for no frames.

    ``parse_frames(format_frames(f)) == sorted(set(f))`` for any non-empty ``f``.
    """
    parts = []
    for first, last, step, members in frame_runs(frames):
        if len(members) == 1:
            parts.append(str(first))
        elif step == 1:
            parts.append("%d-%d" % (first, last))
        else:
            parts.append("%d-%dx%d" % (first, last, step))
    return ",".join(parts)


def chunk(frames: Sequence[int], size: int) -> List[List[int]]:
    """Splits frames into tasks of at most ``size`` frames, each one run with a constant step (see frame_runs).

    A task is rendered by one process as ``-s FIRST -e LAST [-b STEP]``, so a chunk never spans a gap that breaks the
    step: ``chunk([1, 2, 3, 4, 5, 10, 11], 4) -> [[1, 2, 3, 4], [5], [10, 11]]``.
    """
    if int(size) < 1:
        raise FrameListError("frames per task must be 1 or more, not %r" % (size,))
    size = int(size)
    out = []  # type: List[List[int]]
    for _first, _last, _step, members in frame_runs(frames):
        for i in range(0, len(members), size):
            out.append(members[i:i + size])
    return out
