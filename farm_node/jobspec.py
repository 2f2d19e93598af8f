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

from farm_node import scheduler
from farm_node.errors import JobSpecError
from farm_node.wire import code_flag

MAX_NAME = 200
MIN_FRAME, MAX_FRAME = -2 ** 63, 2 ** 63 - 1
DEFAULT_PRIORITY = 50
DEFAULT_MAX_ATTEMPTS = 3

# Keys the node computes: a submission may carry them (a job dictionary read back from a farm), they are ignored.
_DERIVED_JOB = {"status", "frames", "subjobs", "paused", "submitted", "waiting_for"}
_DERIVED_SUBJOB = {"status", "complete", "total", "failed", "frames", "waiting_for"}
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
    paused: bool = False  # arrives paused (CONTRACT section 6)

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
    scheduling_keys(path, extra, job=None)
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
    timeout = check_frame_timeout(path + ".frame_timeout", raw.get("frame_timeout"))
    specs = []
    for sname, sraw in subjobs.items():
        spath = "%s.subjobs.%s" % (path, sname)
        specs.append(_subjob(spath, check_name(spath, sname, "subjob"), sraw))
    extra = {k: _json_value("%s.%s" % (path, k), v) for k, v in raw.items()
             if k not in _DERIVED_JOB and k not in ("priority", "max_attempts", "frame_timeout")}
    scheduling_keys(path, extra, job=name)
    paused = raw.get("paused")
    if paused is not None and not isinstance(paused, bool):
        raise JobSpecError(path + ".paused", "paused is true or false (true: the job arrives paused)")
    return JobSpec(name, specs, priority, attempts, timeout, extra, bool(paused))


def check_frame_timeout(path: str, timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise JobSpecError(path, "frame_timeout is a number of seconds above 0, or null")
    return float(timeout)


# -- studio scheduling (CONTRACT section 6): what a job needs, who sent it, and what may change later -----------------
# Units of a limit (and a limit's capacity) fit far below what any licence server counts.
MAX_UNITS = 1000000
MAX_COMMENT = 10000
# The keys a PATCH of a job may change.
PATCH_KEYS = ("priority", "max_attempts", "frame_timeout", "requires", "limits", "depends_on", "comment")


def check_tags(path: str, value: Any) -> list[str]:
    """A list of host tags, in lower case, each once."""
    if not isinstance(value, list):
        raise JobSpecError(path, "requires is a list of host tags, e.g. [\"gpu\", \"linux\"]")
    out: list[str] = []
    for i, tag in enumerate(value):
        problem = scheduler.tag_problem(tag)
        if problem:
            raise JobSpecError("%s.%d" % (path, i), problem)
        if tag.lower() not in out:
            out.append(tag.lower())
    return out


def check_units(path: str, value: Any, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_UNITS:
        raise JobSpecError(path, "%s must be a whole number from %d to %d, not %r" % (what, low, MAX_UNITS, value))
    return value


def check_limits(path: str, value: Any) -> dict[str, int]:
    """``{limit name: units}``: each of the frames holds that many units of each limit while it renders."""
    if not isinstance(value, dict):
        raise JobSpecError(path, "limits is an object of limit names and units, e.g. {\"arnold\": 1}")
    out: dict[str, int] = {}
    for name, units in value.items():
        problem = scheduler.tag_problem(name, "limit")
        if problem:
            raise JobSpecError("%s.%s" % (path, name), problem)
        out[name.lower()] = check_units("%s.%s" % (path, name), units, "the units a frame holds", 1)
    return out


def check_limit_name(path: str, name: Any) -> str:
    problem = scheduler.tag_problem(name, "limit")
    if problem:
        raise JobSpecError(path, problem)
    return name.lower()


def check_dependencies(path: str, value: Any, own: str | None) -> list[str]:
    """Job names, each once; a job may not depend on itself."""
    if not isinstance(value, list):
        raise JobSpecError(path, "depends_on is a list of job names, e.g. [\"shot010_sim\"]")
    out: list[str] = []
    for i, name in enumerate(value):
        check_name("%s.%d" % (path, i), name, "job")
        if name == own:
            raise JobSpecError("%s.%d" % (path, i), "a job cannot depend on itself")
        if name not in out:
            out.append(name)
    return out


def _text(path: str, value: Any, most: int) -> str:
    if not isinstance(value, str) or len(value) > most or "\x00" in value:
        raise JobSpecError(path, "a string of at most %d characters (no NUL)" % most)
    return value


def scheduling_keys(path: str, extra: dict[str, Any], job: str | None) -> None:
    """Check and normalise, in place, the section 6 keys of a job (``job``: its name) or of a subjob (None):
    ``requires`` and ``limits``; of a job also ``depends_on``, ``user`` and ``comment``. A null one is dropped."""
    keys = ("requires", "limits") + (("depends_on", "user", "comment") if job is not None else ())
    for key in keys:
        if key not in extra:
            continue
        value = extra[key]
        where = "%s.%s" % (path, key)
        if value is None:
            del extra[key]
        elif key == "requires":
            extra[key] = check_tags(where, value)
        elif key == "limits":
            extra[key] = check_limits(where, value)
        elif key == "depends_on":
            extra[key] = check_dependencies(where, value, job)
        else:
            extra[key] = _text(where, value, MAX_NAME if key == "user" else MAX_COMMENT)


def parse_patch(name: str, body: Any) -> dict[str, Any]:
    """The changes of ``PATCH /api/jobs/{job}``, checked as at submit; a refusal names the key (``path``)."""
    if not isinstance(body, dict) or not body:
        raise JobSpecError("", "the body is an object of the keys to change: any of %s" % ", ".join(PATCH_KEYS))
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "priority":
            out[key] = _int_in(key, value, 0, 100, "priority")
        elif key == "max_attempts":
            out[key] = _int_in(key, value, 1, 1000, "max_attempts")
        elif key == "frame_timeout":
            out[key] = check_frame_timeout(key, value)
        elif key == "requires":
            out[key] = [] if value is None else check_tags(key, value)
        elif key == "limits":
            out[key] = {} if value is None else check_limits(key, value)
        elif key == "depends_on":
            out[key] = [] if value is None else check_dependencies(key, value, name)
        elif key == "comment":
            out[key] = None if value is None else _text(key, value, MAX_COMMENT)
        else:
            raise JobSpecError(str(key), "%r cannot be changed: a PATCH changes %s" % (key, ", ".join(PATCH_KEYS)))
    return out


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
