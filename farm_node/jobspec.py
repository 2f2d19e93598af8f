"""The job dictionary a client submits: checked once, here, before anything is stored.

Every refusal names the place in the dictionary (``Job1.subjobs.sub1.frames.3.command``) so that an artist or a
script can find it. What passes becomes plain ``JobSpec`` records the store inserts in one transaction.
"""
from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterator

from farm_node.errors import JobSpecError
from farm_node.wire import code_flag

MAX_NAME = 200
MIN_FRAME, MAX_FRAME = -2 ** 63, 2 ** 63 - 1
DEFAULT_PRIORITY = 50
DEFAULT_MAX_ATTEMPTS = 3

# Keys the node computes: a submission may carry them (a job dictionary read back from a farm), they are ignored.
_DERIVED_JOB = {"status", "frames", "subjobs", "paused", "submitted"}
_DERIVED_SUBJOB = {"status", "complete", "total", "failed", "frames"}
_DERIVED_FRAME = {"status", "host", "pid", "stdout", "attempts", "exit_code", "progress", "started", "finished",
                  "error", "command", "argv"}
# shlex splits on these alone; a command without quotes, backslashes or other whitespace splits like str.split().
_SHLEX_SPECIAL = set("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0")


@dataclass
class FrameSpec:
    number: int
    command: str
    argv: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SubjobSpec:
    name: str
    frames: list[FrameSpec]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobSpec:
    name: str
    subjobs: list[SubjobSpec]
    priority: int = DEFAULT_PRIORITY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    frame_timeout: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def frame_count(self) -> int:
        return sum(len(s.frames) for s in self.subjobs)


def check_name(path: str, name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise JobSpecError(path, "a %s name must be a non-empty string" % what)
    if len(name) > MAX_NAME:
        raise JobSpecError(path, "a %s name is at most %d characters (this one has %d)" % (what, MAX_NAME, len(name)))
    if "/" in name:
        raise JobSpecError(path, "a %s name cannot contain '/'" % what)
    if "\x00" in name:
        raise JobSpecError(path, "a %s name cannot contain a NUL character" % what)
    if name in (".", ".."):
        # In a URL path they mean "this folder" and "the one above": /api/jobs/. would be the whole queue.
        raise JobSpecError(path, "a %s name cannot be %r" % (what, name))
    return name


def parse_frame_number(path: str, key: Any) -> int:
    if isinstance(key, bool):
        raise JobSpecError(path, "frame numbers are integers, not %r" % key)
    number = None
    if isinstance(key, int):
        number = key
    elif isinstance(key, str):
        text = key.strip()
        body = text[1:] if text[:1] in "+-" else text
        # 20 digits already pass 64 bits; a longer string is not converted at all (Python refuses 4,300 digits).
        if body.isdigit() and body.isascii() and len(body) <= 20:
            number = int(text)
        elif body.isdigit() and body.isascii():
            raise JobSpecError(path, "frame numbers are 64-bit integers (from %d to %d); this one has %d digits"
                               % (MIN_FRAME, MAX_FRAME, len(body)))
    if number is None:
        raise JobSpecError(path, "frame numbers are integers, not %r" % (key,))
    if not MIN_FRAME <= number <= MAX_FRAME:
        raise JobSpecError(path, "frame numbers are 64-bit integers, from %d to %d" % (MIN_FRAME, MAX_FRAME))
    return number


def check_mel(path: str, argv: list[str], allow_mel: bool) -> None:
    """Refuse a command that runs code through Render's hooks unless the node allows it (--allow-mel)."""
    flag = None if allow_mel else code_flag(argv)
    if flag is not None:
        raise JobSpecError(path, "the flag %s runs MEL code on the render host, which this farm does not allow"
                                 " (a node started with --allow-mel does)" % flag)


def split_command(path: str, command: str) -> list[str]:
    """POSIX shell-word splitting, never a shell: quotes group, nothing is expanded or run."""
    if command.isascii() and not _SHLEX_SPECIAL.intersection(command):
        words = command.split()
    else:
        try:
            words = shlex.split(command, posix=True)
        except ValueError as exc:
            raise JobSpecError(path, "the command does not split into arguments (%s)" % exc) from None
    if not words:
        raise JobSpecError(path, "the command is empty")
    return words


def _json_value(path: str, value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise JobSpecError(path, "not a JSON value (%s)" % exc) from None
    return value


def _int_in(path: str, value: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise JobSpecError(path, "%s must be an integer from %d to %d, not %r" % (what, lo, hi, value))
    return value


def _frame(path: str, number: int, raw: Any) -> FrameSpec:
    if not isinstance(raw, dict):
        raise JobSpecError(path, "a frame must be an object holding at least 'command'")
    command = raw.get("command")
    if not isinstance(command, str):
        raise JobSpecError(path + ".command", "each frame needs a 'command' string")
    if "\x00" in command:
        raise JobSpecError(path + ".command", "the command contains a NUL character")
    argv = raw.get("argv")
    if argv is None:
        argv = split_command(path + ".command", command)
    else:
        if not isinstance(argv, list) or not argv:
            raise JobSpecError(path + ".argv", "argv must be a non-empty list of strings")
        for i, word in enumerate(argv):
            if not isinstance(word, str):
                raise JobSpecError("%s.argv.%d" % (path, i), "argv holds strings only, not %r" % (word,))
            if "\x00" in word:
                raise JobSpecError("%s.argv.%d" % (path, i), "an argument cannot contain a NUL character")
        if not argv[0]:
            raise JobSpecError(path + ".argv.0", "the program name is empty")
    extra = {k: _json_value("%s.%s" % (path, k), v) for k, v in raw.items() if k not in _DERIVED_FRAME}
    return FrameSpec(number, command, list(argv), extra)


def _subjob(path: str, name: str, raw: Any) -> SubjobSpec:
    if not isinstance(raw, dict):
        raise JobSpecError(path, "a subjob must be an object holding 'frames'")
    frames = raw.get("frames")
    if not isinstance(frames, dict):
        raise JobSpecError(path + ".frames", "each subjob needs a 'frames' object keyed by frame number")
    if not frames:
        raise JobSpecError(path + ".frames", "a subjob needs at least one frame")
    specs = []
    seen = set()
    for key, frame in frames.items():
        fpath = "%s.frames.%s" % (path, key)
        number = parse_frame_number(fpath, key)
        if number in seen:
            raise JobSpecError(fpath, "frame %d is listed twice" % number)
        seen.add(number)
        specs.append(_frame(fpath, number, frame))
    specs.sort(key=lambda f: f.number)
    extra = {k: _json_value("%s.%s" % (path, k), v) for k, v in raw.items() if k not in _DERIVED_SUBJOB}
    return SubjobSpec(name, specs, extra)


def _job(name: str, raw: Any) -> JobSpec:
    path = name
    if not isinstance(raw, dict):
        raise JobSpecError(path, "a job must be an object holding 'subjobs'")
    subjobs = raw.get("subjobs")
    if not isinstance(subjobs, dict):
        raise JobSpecError(path + ".subjobs", "each job needs a 'subjobs' object")
    if not subjobs:
        raise JobSpecError(path + ".subjobs", "a job needs at least one subjob")
    priority = _int_in(path + ".priority", raw.get("priority", DEFAULT_PRIORITY), 0, 100, "priority")
    attempts = _int_in(path + ".max_attempts", raw.get("max_attempts", DEFAULT_MAX_ATTEMPTS), 1, 1000,
                       "max_attempts")
    timeout = raw.get("frame_timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
                or timeout <= 0:
            raise JobSpecError(path + ".frame_timeout", "frame_timeout is a number of seconds above 0, or null")
        timeout = float(timeout)
    specs = []
    for sname, sraw in subjobs.items():
        spath = "%s.subjobs.%s" % (path, sname)
        specs.append(_subjob(spath, check_name(spath, sname, "subjob"), sraw))
    extra = {k: _json_value("%s.%s" % (path, k), v) for k, v in raw.items()
             if k not in _DERIVED_JOB and k not in ("priority", "max_attempts", "frame_timeout")}
    return JobSpec(name, specs, priority, attempts, timeout, extra)


def parse_submission(body: Any, allow_mel: bool = False) -> list[JobSpec]:
    """Check a whole job dictionary; raises ``JobSpecError`` at the first wrong place, else returns its jobs.

    A frame whose command uses Render's code-running flags is refused unless ``allow_mel`` (the node's --allow-mel).
    """
    if not isinstance(body, dict):
        raise JobSpecError("", "the body must be a job dictionary: an object mapping job names to jobs")
    if not body:
        raise JobSpecError("", "the job dictionary holds no job")
    jobs = [_job(check_name(name, name, "job"), raw) for name, raw in body.items()]
    if not allow_mel:
        for job in jobs:
            check_mel_frames(job)
    return jobs


def check_mel_frames(job: JobSpec) -> None:
    """``check_mel`` on every frame of ``job``, naming the frame's command (or the argv word, when argv runs)."""
    for sub, frame in iter_frames(job):
        flag = code_flag(frame.argv)
        if flag is not None:
            where = "%s.subjobs.%s.frames.%d" % (job.name, sub.name, frame.number)
            words = frame.command.split()
            where += ".command" if flag in words else ".argv.%d" % frame.argv.index(flag)
            check_mel(where, frame.argv, False)


def check_job_fields(path: str, fields: dict[str, Any]) -> None:
    """A restored job's fields under the rules of a submission (``farm_node.backup.restore``)."""
    _int_in(path + ".priority", fields.get("priority", DEFAULT_PRIORITY), 0, 100, "priority")
    _int_in(path + ".max_attempts", fields.get("max_attempts", DEFAULT_MAX_ATTEMPTS), 1, 1000, "max_attempts")
    timeout = fields.get("frame_timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise JobSpecError(path + ".frame_timeout", "frame_timeout is a number of seconds above 0, or null")


def check_frame_fields(path: str, number: Any, fields: dict[str, Any], allow_mel: bool) -> None:
    """A restored frame's number and arguments under the rules of a submission."""
    parse_frame_number(path, number)
    # Both what runs (argv) and what is shown (command): a restored file may carry either, or both.
    argv = fields.get("argv")
    if isinstance(argv, list):
        check_mel(path + ".argv", [a for a in argv if isinstance(a, str)], allow_mel)
    if isinstance(fields.get("command"), str) and fields["command"].strip():
        check_mel(path + ".command", split_command(path + ".command", fields["command"]), allow_mel)


def iter_frames(job: JobSpec) -> Iterator[tuple[SubjobSpec, FrameSpec]]:
    for sub in job.subjobs:
        for frame in sub.frames:
            yield sub, frame
