"""What a job says to the farm beside its frames, checked as the farm checks it: names, numbers, the required host
tags, limits, dependencies, frame timeout, comment, paused, and the submitting user (CONTRACT sections 1 and 6).

Each ``check_*`` returns the value (normalised where the farm would) or raises SubmitError naming what is wrong.
"""
from __future__ import annotations

import getpass
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from .errors import SubmitError

__all__ = ["check_name", "check_number", "check_tags", "check_limits", "check_depends_on", "check_frame_timeout",
           "check_comment", "check_paused", "login", "MAX_NAME", "MAX_ATTEMPTS", "Names"]

#: Job and subjob names are 1 to 200 characters, none of them "/" (CONTRACT section 1).
MAX_NAME = 200
#: The most attempts a job may give a frame (CONTRACT section 6: the node refuses more).
MAX_ATTEMPTS = 1000

Names = Union[None, str, Iterable[str]]


def check_name(name: Any, what: str = "job") -> str:
    """``name`` if it is a valid job/subjob name (1-200 characters, no "/"); else SubmitError."""
    if not isinstance(name, str) or not name.strip():
        raise SubmitError("the %s name is empty" % what)
    if "/" in name:
        raise SubmitError("the %s name %r holds a '/', which names cannot" % (what, name))
    if name in (".", ".."):
        raise SubmitError("the %s name cannot be %r" % (what, name))
    if len(name) > MAX_NAME:
        raise SubmitError("the %s name is %d characters long; at most %d" % (what, len(name), MAX_NAME))
    return name


def _names(option: Names) -> Optional[List[str]]:
    if option is None:
        return None
    if isinstance(option, str):
        return [option]
    return list(option)


def check_number(value: Any, what: str, low: int, high: Optional[int] = None) -> int:
    """``value`` if it is a whole number from ``low`` to ``high`` (no upper bound when None); else SubmitError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = "%d to %d" % (low, high) if high is not None else "%d or more" % low
        raise SubmitError("%s must be a whole number, %s; not %r" % (what, span, value))
    return value


def word(value: Any, what: str) -> str:
    """``value`` stripped, if it is a non-empty string; else SubmitError naming ``what``."""
    if not isinstance(value, str) or not value.strip():
        raise SubmitError("%s must be a name, not %r" % (what, value))
    return value.strip()


def check_tags(value: Any) -> List[str]:
    """Host tags a job requires (CONTRACT section 6), each once, in the order given; SubmitError for a bad one."""
    tags = []  # type: List[str]
    for tag in _names(value) or []:
        tag = word(tag, "a required host tag")
        if "," in tag or re.search(r"\s", tag):
            raise SubmitError("the host tag %r holds a comma or a space; hosts are given tags as --tags a,b" % tag)
        if tag not in tags:
            tags.append(tag)
    return tags


def check_limits(value: Any) -> Dict[str, int]:
    """``{limit name: units}`` a job holds per rendering frame (CONTRACT section 6); SubmitError for a bad one."""
    if not isinstance(value, Mapping):
        raise SubmitError("limits must map limit names to units, e.g. {\"arnold\": 1}; not %r" % (value,))
    out = {}  # type: Dict[str, int]
    for name, units in value.items():
        name = word(name, "a limit")
        out[name] = check_number(units, "the units of limit %s" % name, 1)
    return out


def check_depends_on(value: Any, job_name: Optional[str] = None) -> List[str]:
    """Job names a job waits for (CONTRACT section 6), each once; SubmitError for a bad one or the job itself."""
    names = []  # type: List[str]
    for name in _names(value) or []:
        name = check_name(name.strip() if isinstance(name, str) else name, "dependency's job")
        if job_name is not None and name == job_name:
            raise SubmitError("the job %r cannot depend on itself" % name)
        if name not in names:
            names.append(name)
    return names


def check_frame_timeout(value: Any) -> float:
    """Seconds a frame may render before the farm stops it: a number above 0; else SubmitError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value != value:
        raise SubmitError("the frame timeout must be a number of seconds above 0, not %r" % (value,))
    return value


def check_comment(value: Any) -> str:
    if not isinstance(value, str):
        raise SubmitError("the comment must be text, not %r" % (value,))
    return value


def check_paused(value: Any) -> bool:
    if not isinstance(value, bool):
        raise SubmitError("paused must be true or false, not %r" % (value,))
    return value


def login() -> str:
    """The submitter's login (``getpass.getuser()``: LOGNAME, USER, LNAME, USERNAME, then the password database)."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError, ImportError):  # no such variable and no password entry (a container, a service)
        return "unknown"
