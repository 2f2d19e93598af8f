"""The format's constants, its field tables, the escapes of text XML 1.0 cannot carry, and the checks of literals
that the writer and the readers share."""
from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, NamedTuple, Optional, Union

from farm_node.errors import QueueXMLError

FORMAT = 1                                  # the format this module writes
NAMESPACE = "urn:pyfarm:queue:1"
READ_FORMATS = (1,)                         # the formats this module reads
MAX_BYTES = 2 * 1024 ** 3                   # default limit on a document's size, in bytes
MAX_TEXT = 8 * 1024 ** 2                    # default limit on one text or attribute value, in characters
_MAX_PROLOG = 64 * 1024                      # bytes allowed before the <queue> start tag

_INT64 = (-2 ** 63, 2 ** 63 - 1)
_LIBXML_TEXT_LIMIT = 10_000_000             # libxml2's own limit without XML_PARSE_HUGE, in bytes

_Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


def _error(reason: str, line: Optional[int] = None, where: Optional[str] = None) -> QueueXMLError:
    """A ``QueueXMLError`` saying what is wrong and where.

    The exception carries ``reason`` (what is wrong), ``line`` (the document's line, or None) and ``where`` (the place
    in the queue, e.g. ``"job 'Job1' > subjob 'sub1' > frame 3"``, or None).
    """
    parts = []
    if where:
        parts.append("at %s" % where)
    if line:
        parts.append("line %d" % line)
    exc = QueueXMLError("%s (%s)" % (reason, ", ".join(parts)) if parts else reason)
    exc.reason, exc.line, exc.where = reason, line or None, where or None
    return exc


class Record(NamedTuple):
    """One element of the queue as ``iter_records`` yields it, in document order.

    ``("job", name, fields)``, then its ``("subjob", name, fields)``, each followed by its ``("frame", number,
    fields)``.  ``fields`` holds the element's own fields and extra keys: no derived values, no children.
    """
    kind: str
    key: Any
    fields: dict


# ---------------------------------------------------------------------------------------------------------------
# text that XML 1.0 cannot carry

# Characters outside XML 1.0's Char production.  All of them are in the BMP, so \uXXXX names each one.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TO_ESCAPE = re.compile("[\\\\\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPED = re.compile(r"\\(?:(\\)|u([0-9a-fA-F]{4})|)")


def _escape_char(match: "re.Match[str]") -> str:
    ch = match.group()
    return "\\\\" if ch == "\\" else "\\u%04x" % ord(ch)


def _escape(text: str) -> str:
    return _TO_ESCAPE.sub(_escape_char, text)


def _unescape(text: str) -> str:
    def one(match: "re.Match[str]") -> str:
        if match.group(1):
            return "\\"
        if match.group(2):
            return chr(int(match.group(2), 16))
        raise ValueError("a backslash that starts no escape (\\\\ or \\uXXXX) near %r"
                         % text[max(0, match.start() - 10):match.start() + 10])
    return _ESCAPED.sub(one, text)


# ---------------------------------------------------------------------------------------------------------------
# field tables, shared by writer and reader

_Q = "{%s}" % NAMESPACE
_T_QUEUE, _T_JOB, _T_SUBJOB, _T_FRAME = _Q + "queue", _Q + "job", _Q + "subjob", _Q + "frame"
_T_EXTRA, _T_SUMMARY, _T_ARGV, _T_ARG = _Q + "extra", _Q + "summary", _Q + "argv", _Q + "arg"

# name, kind, default when the element is left out (None: null)
_JOB_FIELDS = (
    ("priority", "int", 50),
    ("max_attempts", "int", 3),
    ("paused", "bool", False),
    ("submitted", "number?", None),
    ("frame_timeout", "number?", None),
)
_FRAME_FIELDS = (                           # in document order; status is an attribute, stdout comes last
    ("host", "text?", None),
    ("pid", "int?", None),
    ("command", "text", ""),
    ("argv", "argv?", None),
    ("attempts", "int", 0),
    ("exit_code", "int?", None),
    ("progress", "number", 0),
    ("started", "number?", None),
    ("finished", "number?", None),
    ("error", "text?", None),
    ("stdout", "text", ""),
)
# what the writer needs of each frame field: key, tag, kind, default, always written
_FRAME_WRITE = tuple((name, _Q + name, kind.rstrip("?"), default, name == "command")
                     for name, kind, default in _FRAME_FIELDS)
_ESC = {"enc": "esc"}
_JOB_KEYS = frozenset(name for name, _, _ in _JOB_FIELDS)
_FRAME_KEYS = frozenset(name for name, _, _ in _FRAME_FIELDS) | {"status"}
_JOB_DERIVED = frozenset(("status", "frames", "subjobs"))
_SUBJOB_DERIVED = frozenset(("status", "complete", "total", "failed", "frames"))
_JOB_RESERVED = _JOB_KEYS | _JOB_DERIVED
_JOB_KINDS = {_Q + name: (name, kind) for name, kind, _ in _JOB_FIELDS}
_FRAME_KINDS = {_Q + name: (name, kind) for name, kind, _ in _FRAME_FIELDS}
_JOB_COUNTS = ("complete", "total", "failed", "queued", "rendering", "cancelled")
_SUBJOB_COUNTS = ("complete", "total", "failed")


# ---------------------------------------------------------------------------------------------------------------
# writing

class _Where:
    """The place being written, for error messages."""
    __slots__ = ("job", "subjob", "frame")

    def __init__(self) -> None:
        self.job = self.subjob = self.frame = None

    def __str__(self) -> str:
        parts = []
        if self.job is not None:
            parts.append("job %r" % (self.job,))
        if self.subjob is not None:
            parts.append("subjob %r" % (self.subjob,))
        if self.frame is not None:
            parts.append("frame %s" % (self.frame,))
        return " > ".join(parts)


def _pairs(value: Any, what: str, where: _Where) -> Iterator[tuple]:
    if value is None:
        return iter(())
    if isinstance(value, Mapping):
        return iter(value.items())
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise _error("%s must be a mapping or an iterable of pairs, not %s" % (what, type(value).__name__),
                     where=str(where))
    return _checked_pairs(value, what, where)


def _checked_pairs(items: Iterable, what: str, where: _Where) -> Iterator[tuple]:
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise _error("%s must yield (key, value) pairs, got %r" % (what, type(item).__name__),
                         where=str(where))
        yield item


def _bad(where: _Where, field: str, expected: str, value: Any) -> QueueXMLError:
    return _error("cannot write field %r: expected %s, got %s %.60r"
                  % (field, expected, type(value).__name__, value), where=str(where))


def _int_literal(value: Any, where: _Where, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(where, field, "an integer", value)
    if not _INT64[0] <= value <= _INT64[1]:
        raise _bad(where, field, "an integer that fits 64 bits", value)
    return str(int(value))


def _number_literal(value: Any, where: _Where, field: str) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return repr(float(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return _int_literal(value, where, field)
    raise _bad(where, field, "a number", value)


def _name(value: Any, where: _Where, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _error("%s name must be a non-empty string, got %r" % (what, value), where=str(where))
    return value


def _frame_number(key: Any, where: _Where) -> int:
    if isinstance(key, str) and re.fullmatch(r"-?[0-9]+", key) and str(int(key)) == key:
        key = int(key)                      # the JSON form's keys
    if isinstance(key, bool) or not isinstance(key, int):
        raise _error("frame numbers must be integers, got %r" % (key,), where=str(where))
    if not _INT64[0] <= key <= _INT64[1]:
        raise _error("frame number %d does not fit 64 bits" % key, where=str(where))
    return int(key)


def _json_text(value: Any, where: _Where, key: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _error("extra key %r does not hold a JSON value: %s" % (key, exc), where=str(where)) from None
