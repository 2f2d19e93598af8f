"""The farm queue as XML: backup and restore, streaming both ways. The only module importing lxml.

The format (``docs/queue-xml.md``, schema ``farm_node/schemas/queue-<N>.xsd``)::

    <queue xmlns="urn:pyfarm:queue:1" format="1" created="2026-11-25T03:46:00Z">
      <job name="Job1">
        <priority>50</priority> ... <extra key="scene">"/proj/scene.mb"</extra>
        <subjob name="sub1">
          <extra key="layer">"masterLayer"</extra>
          <frame number="1" status="Failed">
            <host>render01</host> <pid>9978</pid> <command>render -r mr ...</command> ...
            <stdout>This is the first line in the log
    This is the second</stdout>
          </frame>
          <summary status="Failed" complete="0" total="1" failed="1"></summary>
        </subjob>
        <summary status="Failed" complete="0" total="1" failed="1" queued="0" ...></summary>
      </job>
    </queue>

Writing::

    write_queue(out, jobs, *, created=None) -> {"jobs": n, "subjobs": n, "frames": n}
    atomic_write_queue(path, jobs, *, created=None) -> same counts
    dump_queue(jobs, *, created=None) -> bytes
    iter_dump_queue(jobs, *, created=None, chunk_size=65536) -> chunks of bytes, for a streamed HTTP response

``jobs`` is a mapping of job names to jobs, or any iterable of ``(name, job)`` pairs; ``job["subjobs"]`` and
``subjob["frames"]`` may likewise be mappings or iterables of pairs, each consumed once, so a store can feed frames
straight from a database cursor.  Derived keys (job ``status``/``frames``, subjob ``status``/``complete``/``total``/
``failed``) are not taken from the input: the ``<summary>`` elements are computed from the frames written.

Reading (``source``: a path, a binary file object, or the document as ``bytes``)::

    iter_records(source, *, max_bytes=MAX_BYTES, max_text=MAX_TEXT) -> Record(kind, key, fields) ...
    iter_queue(source, **limits) -> (name, job) ...   one whole job at a time, derived fields recomputed
    load_queue(source, **limits) -> job dictionary

Every record is validated against the format's XML Schema before it is yielded; an error later in the file raises
``QueueXMLError`` then, so a consumer restores inside a transaction and drops it on any exception.

Errors: ``farm_node.errors.QueueXMLError`` (a ``FarmNodeError`` and a ``ValueError``), for a document that cannot be
read and for a job that cannot be written, with ``reason``, ``line`` and ``where`` attributes.  ``TypeError`` only for
a ``source``/``out`` of the wrong type.
"""
from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any, BinaryIO, NamedTuple, Optional, Union

from lxml import etree

from .errors import QueueXMLError

__all__ = [
    "FORMAT", "NAMESPACE", "READ_FORMATS", "MAX_BYTES", "MAX_TEXT", "FRAME_STATUSES",
    "QueueXMLError", "Record", "derive_status",
    "write_queue", "atomic_write_queue", "dump_queue", "iter_dump_queue",
    "iter_records", "iter_queue", "load_queue",
]

FORMAT = 1                                  # the format this module writes
NAMESPACE = "urn:pyfarm:queue:1"
READ_FORMATS = (1,)                         # the formats this module reads
MAX_BYTES = 2 * 1024 ** 3                   # default limit on a document's size, in bytes
MAX_TEXT = 8 * 1024 ** 2                    # default limit on one text or attribute value, in characters
_MAX_PROLOG = 64 * 1024                      # bytes allowed before the <queue> start tag
FRAME_STATUSES = ("Queued", "Rendering", "Complete", "Failed", "Cancelled")

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
# the derivation rule (CONTRACT section 1)

def derive_status(statuses: Union[Iterable[str], Mapping[str, int]], paused: bool = False) -> str:
    """The status of a subjob or job from its frames' statuses, by the contract's rule.

    ``statuses`` is an iterable of frame statuses, or a mapping of status to count (a ``Counter``, a SQL
    ``GROUP BY status``).  Every frame ``Complete`` (also true of no frames at all) gives ``Complete``; else any
    ``Rendering`` gives ``Rendering``; else a paused job gives ``Paused``; else any ``Queued`` gives ``Queued``;
    else any ``Failed`` gives ``Failed``; else ``Cancelled``.
    """
    counts = statuses if isinstance(statuses, Mapping) else Counter(statuses)
    for status, n in counts.items():
        if status not in FRAME_STATUSES:
            raise ValueError("unknown frame status %r (one of %s)" % (status, ", ".join(FRAME_STATUSES)))
    total = sum(counts.values())
    if counts.get("Complete", 0) == total:
        return "Complete"
    if counts.get("Rendering", 0):
        return "Rendering"
    if paused:
        return "Paused"
    if counts.get("Queued", 0):
        return "Queued"
    if counts.get("Failed", 0):
        return "Failed"
    return "Cancelled"


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


class _XMLWriter:
    """Writes one document to an lxml xmlfile, element by element."""

    def __init__(self, xf: Any) -> None:
        self.xf = xf
        self.where = _Where()
        self.counts = {"jobs": 0, "subjobs": 0, "frames": 0}

    # small pieces ---------------------------------------------------------------------------------------------

    def simple(self, indent: str, tag: str, literal: str) -> None:
        xf = self.xf
        xf.write(indent)
        with xf.element(tag):
            xf.write(literal)

    def text(self, indent: str, tag: str, value: Any, field: str) -> None:
        if not isinstance(value, str):
            raise _bad(self.where, field, "a string", value)
        xf = self.xf
        xf.write(indent)
        if _UNSAFE.search(value):
            with xf.element(tag, {"enc": "esc"}):
                xf.write(_escape(value))
        else:
            with xf.element(tag):
                xf.write(value)

    def named(self, tag: str, name: str) -> Any:
        """The start of an element named by a ``name`` attribute (job, subjob)."""
        if _UNSAFE.search(name):
            return self.xf.element(tag, {"name": _escape(name), "enc": "esc"})
        return self.xf.element(tag, {"name": name})

    def extras(self, indent: str, mapping: Mapping, skip: frozenset) -> None:
        for key, value in mapping.items():
            if key in skip:
                continue
            if not isinstance(key, str):
                raise _error("extra keys must be strings, got %r" % (key,), where=str(self.where))
            text = _json_text(value, self.where, key)
            xf = self.xf
            xf.write(indent)
            if _UNSAFE.search(key) or _UNSAFE.search(text):
                with xf.element(_T_EXTRA, {"key": _escape(key), "enc": "esc"}):
                    xf.write(_escape(text))
            else:
                with xf.element(_T_EXTRA, {"key": key}):
                    xf.write(text)

    def summary(self, indent: str, counts: Counter, paused: bool, names: tuple) -> None:
        attrib = {"status": derive_status(counts, paused)}
        total = sum(counts.values())
        for name in names:
            attrib[name] = str(total if name == "total" else counts.get(name.capitalize(), 0))
        self.xf.write(indent)
        with self.xf.element(_T_SUMMARY, attrib):
            pass

    # the hierarchy -------------------------------------------------------------------------------------------

    def document(self, jobs: Any, created: Optional[float]) -> Iterator[None]:
        """Writes the whole document, yielding after each frame (so a caller can take the bytes so far)."""
        xf = self.xf
        xf.write_declaration()
        root_attrib = {"format": str(FORMAT), "created": _created(created)}
        with xf.element(_T_QUEUE, root_attrib, nsmap={None: NAMESPACE}):
            for name, job in _pairs(jobs, "jobs", self.where):
                yield from self.job(name, job)
            xf.write("\n")

    def job(self, name: Any, job: Any) -> Iterator[None]:
        where = self.where
        where.job, where.subjob, where.frame = name, None, None
        name = _name(name, where, "a job")
        if not isinstance(job, Mapping):
            raise _error("a job must be a mapping, got %s" % type(job).__name__, where=str(where))
        xf = self.xf
        ind = "\n    "
        paused = job.get("paused", False)
        xf.write("\n  ")
        with self.named(_T_JOB, name):
            for field, kind, default in _JOB_FIELDS:
                value = job.get(field, default)
                if value is None and kind.endswith("?"):
                    continue
                if kind == "int":
                    literal = _int_literal(value, where, field)
                elif kind == "bool":
                    if not isinstance(value, bool):
                        raise _bad(where, field, "true or false", value)
                    literal = "true" if value else "false"
                else:
                    literal = _number_literal(value, where, field)
                self.simple(ind, _Q + field, literal)
            self.extras(ind, job, _JOB_RESERVED)
            job_counts: Counter = Counter()
            seen = set()
            for sub_name, subjob in _pairs(job.get("subjobs"), "a job's subjobs", where):
                if sub_name in seen:
                    raise _error("subjob %r is given twice" % (sub_name,), where=str(where))
                seen.add(sub_name)
                counts = yield from self.subjob(sub_name, subjob, paused)
                job_counts.update(counts)
                where.subjob = where.frame = None
            self.summary(ind, job_counts, paused, _JOB_COUNTS)
            xf.write("\n  ")
        self.counts["jobs"] += 1

    def subjob(self, name: Any, subjob: Any, paused: bool) -> Iterator[None]:
        where = self.where
        where.subjob, where.frame = name, None
        name = _name(name, where, "a subjob")
        if not isinstance(subjob, Mapping):
            raise _error("a subjob must be a mapping, got %s" % type(subjob).__name__, where=str(where))
        xf = self.xf
        ind = "\n      "
        counts: Counter = Counter()
        seen = set()
        xf.write("\n    ")
        with self.named(_T_SUBJOB, name):
            self.extras(ind, subjob, _SUBJOB_DERIVED)
            for key, frame in _pairs(subjob.get("frames"), "a subjob's frames", where):
                where.frame = key
                number = _frame_number(key, where)
                if number in seen:
                    raise _error("frame %d is given twice" % number, where=str(where))
                seen.add(number)
                counts[self.frame(number, frame)] += 1
                yield
            where.frame = None
            self.summary(ind, counts, paused, _SUBJOB_COUNTS)
            xf.write("\n    ")
        self.counts["subjobs"] += 1
        return counts

    def frame(self, number: int, frame: Any) -> str:
        where = self.where
        if not isinstance(frame, Mapping):
            raise _error("a frame must be a mapping, got %s" % type(frame).__name__, where=str(where))
        status = frame.get("status")
        if status not in FRAME_STATUSES:
            raise _bad(where, "status", "one of " + ", ".join(FRAME_STATUSES), status)
        xf = self.xf
        ind = "\n        "
        get = frame.get
        xf.write("\n      ")
        with xf.element(_T_FRAME, {"number": str(number), "status": status}):
            for field, tag, kind, default, always in _FRAME_WRITE:
                value = get(field, default)
                if kind == "text":
                    if value is None and default is None:
                        continue
                    if default == "" and not always and value == "" and value.__class__ is str:
                        continue            # the reader gives the default back for a missing element
                    if field == "stdout":
                        self.extras(ind, frame, _FRAME_KEYS)
                    self.text(ind, tag, value, field)
                elif value is None and default is None:
                    continue
                elif kind == "int":
                    if value == default and value.__class__ is int:
                        continue
                    self.simple(ind, tag, _int_literal(value, where, field))
                elif kind == "number":
                    if value == default and value.__class__ is int:
                        continue
                    self.simple(ind, tag, _number_literal(value, where, field))
                else:                       # argv
                    if not isinstance(value, (list, tuple)):
                        raise _bad(where, field, "a list of strings", value)
                    xf.write(ind)
                    with xf.element(_T_ARGV):
                        for arg in value:
                            if arg.__class__ is not str and not isinstance(arg, str):
                                raise _bad(where, field, "a list of strings", value)
                            if _UNSAFE.search(arg):
                                with xf.element(_T_ARG, _ESC):
                                    xf.write(_escape(arg))
                            else:
                                with xf.element(_T_ARG):
                                    xf.write(arg)
            if get("stdout", "") == "":
                self.extras(ind, frame, _FRAME_KEYS)
            xf.write("\n      ")
        self.counts["frames"] += 1
        return status


def _created(created: Optional[float]) -> str:
    when = time.time() if created is None else created
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def write_queue(out: Union[str, "os.PathLike[str]", BinaryIO], jobs: Any, *,
                created: Optional[float] = None) -> dict:
    """Write ``jobs`` as a queue document to ``out`` (a path or a binary file object), streaming.

    ``jobs``: a mapping of names to jobs or an iterable of ``(name, job)`` pairs, each job in the node's returned
    form, except that ``job["subjobs"]`` and ``subjob["frames"]`` may be iterables of pairs consumed once.
    ``created`` (epoch seconds, default now) is stamped on the root.  Returns the counts written,
    ``{"jobs": n, "subjobs": n, "frames": n}``.  Raises ``QueueXMLError`` for a value the format cannot hold
    exactly; what was written to ``out`` by then is not a whole document (see ``atomic_write_queue``).
    """
    if isinstance(out, os.PathLike):
        out = os.fspath(out)
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        writer = _XMLWriter(xf)
        for _ in writer.document(jobs, created):
            pass
    return writer.counts


def iter_dump_queue(jobs: Any, *, created: Optional[float] = None, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """The queue document of ``jobs`` as chunks of about ``chunk_size`` bytes, produced as they are consumed.

    For a streamed HTTP response: memory stays flat however big the queue.  An error raises from the iterator
    after the chunks before it, which then do not form a whole document (a reader refuses it as cut short).
    """
    buf = io.BytesIO()
    with etree.xmlfile(buf, encoding="UTF-8") as xf:
        for _ in _XMLWriter(xf).document(jobs, created):
            xf.flush()
            if buf.tell() >= chunk_size:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def dump_queue(jobs: Any, *, created: Optional[float] = None) -> bytes:
    """The queue document of ``jobs`` as bytes (see ``write_queue``)."""
    buf = io.BytesIO()
    write_queue(buf, jobs, created=created)
    return buf.getvalue()


def _replace(src: str, dst: str) -> None:
    """os.replace, retried briefly on Windows where a reader holding ``dst`` open makes it fail."""
    attempts = 20 if os.name == "nt" else 1
    for attempt in range(attempts):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _fsync_folder(folder: str) -> None:
    if os.name == "nt":                     # Windows cannot open a folder for fsync; NTFS journals the rename
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_queue(path: Union[str, "os.PathLike[str]"], jobs: Any, *,
                       created: Optional[float] = None) -> dict:
    """``write_queue`` to ``path`` so that ``path`` is always either its old file or the whole new one.

    Writes ``.<name>.<random>.tmp`` in the same folder, fsyncs it, renames it over ``path`` (os.replace, atomic on
    POSIX and Windows), then fsyncs the folder.  On an exception the temporary file is removed and ``path`` is
    untouched; after a crash (power loss, SIGKILL) a stale ``.<name>.*.tmp`` may be left beside it.  The new file
    has mode 0600 (it holds commands and logs).  Returns the counts of ``write_queue``.
    """
    path = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            counts = write_queue(f, jobs, created=created)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
    return counts


# ---------------------------------------------------------------------------------------------------------------
# reading: the input, with its limits and the prolog check

_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = (b"utf-8", b"utf8", b"us-ascii", b"ascii")


def _check_prolog(head: bytes, eof: bool) -> bool:
    """True once ``head`` reaches the root start tag (or the end); raises on a DTD or a non-UTF-8 document."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or b"\x00" in head[:4]:
        raise _error("the document is not UTF-8 (queue XML is always UTF-8)", line=1)
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    n = len(head)
    while True:
        while pos < n and head[pos] in b" \t\r\n":
            pos += 1
        if pos >= n:
            return eof
        if head[pos] != 0x3C:               # "<": not markup; let the parser say what is wrong
            return True
        rest = head[pos:pos + 4]
        if rest.startswith(b"<?"):
            end = head.find(b"?>", pos + 2)
            if end < 0:
                return eof
            match = _ENCODING.match(head[pos:end + 2])
            if match and match.group(1).lower() not in _UTF8_NAMES:
                raise _error("the document declares encoding %r; queue XML is always UTF-8"
                             % match.group(1).decode("ascii"), line=head.count(b"\n", 0, pos) + 1)
            pos = end + 2
        elif rest == b"<!--":
            end = head.find(b"-->", pos + 4)
            if end < 0:
                return eof
            pos = end + 3
        elif rest.startswith(b"<!"):
            if len(rest) < 4 and not eof and b"<!--".startswith(rest):
                return False
            raise _error("the document has a DOCTYPE/DTD; queue XML never has one (entities and external "
                         "references are refused)", line=head.count(b"\n", 0, pos) + 1)
        elif len(rest) < 2 and not eof:
            return False
        else:
            return True                     # the root element's start tag


class _Input:
    """The binary stream handed to lxml: counts bytes against the limit and checks the prolog."""

    def __init__(self, raw: Any, max_bytes: int) -> None:
        self._raw = raw
        self._max = max_bytes
        self._count = 0
        self._head: Optional[bytes] = b""
        self.ended = False                  # the source has given all it has

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data is None:
            data = b""
        if not data:
            self.ended = True
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise _error("the source must be read in binary mode (it gave %s)" % type(data).__name__)
        data = bytes(data)
        self._count += len(data)
        if self._count > self._max:
            raise _error("the document is larger than the limit of %d bytes" % self._max)
        if self._head is not None:
            self._head += data
            if _check_prolog(self._head, eof=not data):
                self._head = None
            elif len(self._head) > _MAX_PROLOG:
                raise _error("no <queue> element in the first %d bytes" % _MAX_PROLOG)
        return data


class _Opened:
    """A context manager giving an ``_Input`` for any accepted source, closing what it opened."""

    def __init__(self, source: Any, max_bytes: int) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.owned: Optional[Any] = None

    def __enter__(self) -> _Input:
        source = self.source
        if isinstance(source, (bytes, bytearray, memoryview)):
            if len(source) > self.max_bytes:
                raise _error("the document is larger than the limit of %d bytes" % self.max_bytes)
            return _Input(io.BytesIO(source), self.max_bytes)
        if isinstance(source, (str, os.PathLike)):
            try:
                self.owned = open(source, "rb")
                size = os.fstat(self.owned.fileno()).st_size
            except OSError as exc:
                raise _error("cannot read %s: %s" % (os.fspath(source), exc.strerror or exc)) from exc
            if size > self.max_bytes:
                self.owned.close()
                raise _error("%s is larger than the limit of %d bytes" % (os.fspath(source), self.max_bytes))
            return _Input(self.owned, self.max_bytes)
        if hasattr(source, "read"):
            return _Input(source, self.max_bytes)
        raise TypeError("source must be a path, bytes or a binary file object, not %s" % type(source).__name__)

    def __exit__(self, *exc: Any) -> None:
        if self.owned is not None:
            self.owned.close()


# ---------------------------------------------------------------------------------------------------------------
# reading: schemas, events, errors

_local = threading.local()                  # lxml's validators are not shared between threads


def _schema(fmt: int) -> "etree.XMLSchema":
    cache = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    schema = cache.get(fmt)
    if schema is None:
        package = resources.files(__package__ or "farm_node")
        data = package.joinpath("schemas").joinpath("queue-%d.xsd" % fmt).read_bytes()
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = cache[fmt] = etree.XMLSchema(etree.fromstring(data, parser))
    return schema


_LINE_SUFFIX = re.compile(r",? line \d+, column \d+$")


def _syntax_error(exc: "etree.XMLSyntaxError", log: Any, where: Optional[str], ended: bool) -> QueueXMLError:
    message, line = exc.msg or str(exc), exc.lineno
    # The parser's own log (not exc.error_log, which also holds earlier parses of this thread): its first error says
    # more than the last one ("no element found").
    for entry in log:
        if entry.level >= etree.ErrorLevels.ERROR:
            message, line = entry.message, entry.line or line
            break
    message = _LINE_SUFFIX.sub("", message.strip())
    if "huge text node" in message or "too long" in message.lower():
        message += " (a text is longer than the parser allows)"
    elif ended:
        message += " (the document ends early: is the file cut short?)"
    return _error("not well-formed XML: " + message, line=line, where=where)


def _local_name(tag: Any) -> str:
    if not isinstance(tag, str):
        return repr(tag)
    return tag[len(_Q):] if tag.startswith(_Q) else tag


def _namespace(tag: str) -> Optional[str]:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else None


class _ReadState:
    """Where the reader is, for error messages."""

    def __init__(self) -> None:
        self.job: Optional[str] = None
        self.subjob: Optional[str] = None
        self.frame: Optional[str] = None

    def where(self) -> Optional[str]:
        parts = []
        if self.job is not None:
            parts.append("job %r" % self.job)
        if self.subjob is not None:
            parts.append("subjob %r" % self.subjob)
        if self.frame is not None:
            parts.append("frame %s" % self.frame)
        return " > ".join(parts) or None

    def error(self, reason: str, el: Any = None, line: Optional[int] = None) -> QueueXMLError:
        if line is None and el is not None:
            line = el.sourceline
        return _error(reason, line=line, where=self.where())


# ---------------------------------------------------------------------------------------------------------------
# reading: format 1

def _v1_validate(schema: "etree.XMLSchema", el: Any, state: _ReadState, line: Optional[int]) -> None:
    if not schema.validate(el):
        errors = list(schema.error_log)
        err = errors[0] if errors else None
        message = err.message.replace(_Q, "") if err is not None else "invalid"
        raise state.error("does not match the format 1 schema: " + message,
                          line=(err.line if err is not None and err.line else line))


def _v1_shell(el: Any, stop: str) -> Any:
    """A copy of ``el``: its attributes and its children before the first ``stop`` element (the head of a job,
    subjob or queue, which is all the schema can check before the children stream past)."""
    shell = etree.Element(el.tag, dict(el.attrib))
    shell.text = el.text
    for child in el:
        if child.tag == stop:
            break
        shell.append(copy.deepcopy(child))
    return shell


def _v1_attr_text(el: Any, attr: str, state: _ReadState) -> str:
    text = el.get(attr) or ""
    if el.get("enc") == "esc":
        try:
            text = _unescape(text)
        except ValueError as exc:
            raise state.error("<%s %s=...>: %s" % (_local_name(el.tag), attr, exc), el) from None
    return text


_INT_LITERAL = re.compile(r"\s*[+-]?[0-9]+\s*")


def _v1_int(el: Any, state: _ReadState, max_text: int) -> int:
    return int(el.text)                     # an xs:long, so it fits


def _v1_number(el: Any, state: _ReadState, max_text: int) -> Union[int, float]:
    text = el.text
    if _INT_LITERAL.fullmatch(text):        # an integer literal reads back as an int (the writer's ints fit 64 bits)
        if len(text.strip().lstrip("+-").lstrip("0")) <= 19 and _INT64[0] <= int(text) <= _INT64[1]:
            return int(text)
        raise state.error("<%s>: the integer %.30s does not fit 64 bits" % (_local_name(el.tag), text.strip()), el)
    return float(text)                      # the schema admitted an xs:double literal; Python reads them all


def _v1_bool(el: Any, state: _ReadState, max_text: int) -> bool:
    return el.text.strip() in ("true", "1")


def _v1_string(el: Any, state: _ReadState, max_text: int) -> str:
    text = el.text
    if text is None:
        return ""
    if len(text) > max_text:
        raise state.error("<%s> holds %d characters, more than the limit of %d"
                          % (_local_name(el.tag), len(text), max_text), el)
    if el.get("enc") == "esc":
        try:
            return _unescape(text)
        except ValueError as exc:
            raise state.error("<%s>: %s" % (_local_name(el.tag), exc), el) from None
    return text


def _v1_argv(el: Any, state: _ReadState, max_text: int) -> list:
    return [_v1_string(arg, state, max_text) for arg in el]


_V1_CONVERT = {"int": _v1_int, "int?": _v1_int, "number": _v1_number, "number?": _v1_number, "bool": _v1_bool,
               "text": _v1_string, "text?": _v1_string, "argv?": _v1_argv}
_V1_JOB = {tag: (name, _V1_CONVERT[kind]) for tag, (name, kind) in _JOB_KINDS.items()}
_V1_FRAME = {tag: (name, _V1_CONVERT[kind]) for tag, (name, kind) in _FRAME_KINDS.items()}


def _v1_fields(el: Any, table: dict, reserved: frozenset, state: _ReadState, fields: dict, max_text: int) -> dict:
    """``fields`` completed from the (schema-valid) children of ``el``: typed fields by ``table``, then extras."""
    extras: dict = {}
    for child in el:
        tag = child.tag
        if tag == _T_EXTRA:
            key = _v1_attr_text(child, "key", state)
            if len(key) > max_text:
                raise state.error("an extra key is longer than the limit of %d characters" % max_text, child)
            if key in reserved:
                raise state.error("extra key %r names a field of its own" % key, child)
            if key in extras:
                raise state.error("extra key %r is given twice" % key, child)
            try:
                extras[key] = json.loads(_v1_string(child, state, max_text))
            except (ValueError, RecursionError) as exc:
                raise state.error("extra key %r does not hold JSON: %s" % (key, exc), child) from None
        else:
            entry = table.get(tag)
            if entry is not None:
                fields[entry[0]] = entry[1](child, state, max_text)
    fields.update(extras)
    return fields


def _v1_check_blank(el: Any, state: _ReadState) -> None:
    tail = el.tail
    if tail and not tail.isspace():
        raise state.error("text %.40r is not allowed after <%s>" % (tail.strip(), _local_name(el.tag)), el)


_MAX_DEPTH = 6                              # queue > job > subjob > frame > argv > arg
_FIELD, _FRAME, _SUBJOB, _JOB, _QUEUE = "field", "frame", "subjob", "job", "queue"


def _read_v1(events: Iterator[tuple], root: Any, state: _ReadState, max_text: int) -> Iterator[Record]:
    """Format 1, from the event after the root's start on.

    Every start event is checked against where it may stand, so an element out of place is refused at its start
    tag; a frame is validated whole at its end and then dropped from the tree; a job or subjob is validated as a
    copy of its head when its first child container starts, and again (without its dropped children) at its end.
    """
    schema = _schema(1)
    _v1_validate(schema, _v1_shell(root, _T_JOB), state, root.sourceline)
    job_defaults = {name: default for name, _, default in _JOB_FIELDS}
    frame_defaults = {name: default for name, _, default in _FRAME_FIELDS}
    stack = [_QUEUE]                        # kinds of the open elements
    job = subjob = None                     # their elements
    job_phase = sub_phase = 0               # 0 fields, 1 children, 2 summary seen
    job_head = sub_head = False             # their records yielded
    job_names: set = set()
    sub_names: set = set()
    frame_numbers: set = set()

    def job_record() -> Record:
        shell = _v1_shell(job, _T_SUBJOB)
        _v1_validate(schema, shell, state, job.sourceline)
        fields = _v1_fields(shell, _V1_JOB, _JOB_RESERVED, state, dict(job_defaults), max_text)
        return Record("job", state.job, fields)

    def subjob_record() -> Record:
        shell = _v1_shell(subjob, _T_FRAME)
        _v1_validate(schema, shell, state, subjob.sourceline)
        return Record("subjob", state.subjob, _v1_fields(shell, {}, _SUBJOB_DERIVED, state, {}, max_text))

    def named(el: Any, what: str) -> str:
        name = _v1_attr_text(el, "name", state)
        if len(name) > max_text:
            raise state.error("a %s name is longer than the limit of %d characters" % (what, max_text), el)
        return name

    for event, el in events:
        if event == "start":
            parent = stack[-1]
            if parent is _FIELD or parent is _FRAME:        # inside a frame or a field: the schema judges it
                if len(stack) >= _MAX_DEPTH:
                    raise state.error("elements nested deeper than the format allows (<%s>)"
                                      % _local_name(el.tag), el)
                stack.append(_FIELD)
                continue
            tag = el.tag
            if parent is _SUBJOB:
                if tag == _T_FRAME:
                    if sub_phase == 2:
                        raise state.error("<frame> after the subjob's <summary>", el)
                    if not sub_head:
                        yield subjob_record()
                        sub_head = True
                    sub_phase = 1
                    state.frame = el.get("number")
                    stack.append(_FRAME)
                    continue
                if sub_phase == 2 or (sub_phase == 1 and tag != _T_SUMMARY):
                    raise state.error("<%s> must come before the subjob's frames and summary" % _local_name(tag), el)
                if tag == _T_SUMMARY:
                    sub_phase = 2
                stack.append(_FIELD)
            elif parent is _JOB:
                if tag == _T_SUBJOB:
                    if job_phase == 2:
                        raise state.error("<subjob> after the job's <summary>", el)
                    if not job_head:
                        yield job_record()
                        job_head = True
                    job_phase = 1
                    subjob, sub_phase, sub_head = el, 0, False
                    state.subjob, state.frame = named(el, "subjob"), None
                    if state.subjob in sub_names:
                        raise state.error("subjob %r is given twice" % state.subjob, el)
                    sub_names.add(state.subjob)
                    frame_numbers = set()
                    stack.append(_SUBJOB)
                    continue
                if job_phase == 2 or (job_phase == 1 and tag != _T_SUMMARY):
                    raise state.error("<%s> must come before the job's subjobs and summary" % _local_name(tag), el)
                if tag == _T_SUMMARY:
                    job_phase = 2
                stack.append(_FIELD)
            else:                                           # in the queue
                if tag != _T_JOB:
                    raise state.error("<%s> is not allowed in <queue>, only <job>" % _local_name(tag), el)
                job, job_phase, job_head = el, 0, False
                state.job, state.subjob, state.frame = named(el, "job"), None, None
                if state.job in job_names:
                    raise state.error("job %r is given twice" % state.job, el)
                job_names.add(state.job)
                sub_names = set()
                stack.append(_JOB)
            continue

        kind = stack.pop()                  # end
        if kind is _FIELD:
            continue
        if kind is _FRAME:
            state.frame = el.get("number")
            _v1_validate(schema, el, state, el.sourceline)
            number = int(el.get("number"))
            if number in frame_numbers:
                raise state.error("frame %d is given twice" % number, el)
            frame_numbers.add(number)
            fields = {"status": el.get("status")}
            fields.update(frame_defaults)
            _v1_fields(el, _V1_FRAME, _FRAME_KEYS, state, fields, max_text)
            _v1_check_blank(el, state)
            el.clear(keep_tail=False)
            subjob.remove(el)
            yield Record("frame", number, fields)
            state.frame = None
        elif kind is _SUBJOB:
            if not sub_head:
                yield subjob_record()
                sub_head = True
            _v1_validate(schema, el, state, el.sourceline)
            _v1_check_blank(el, state)
            el.clear(keep_tail=False)
            job.remove(el)
            subjob = None
            state.subjob = None
        elif kind is _JOB:
            if not job_head:
                yield job_record()
                job_head = True
            _v1_validate(schema, el, state, el.sourceline)
            _v1_check_blank(el, state)
            el.clear(keep_tail=False)
            root.remove(el)
            job = None
            state.job = None
        else:                               # the root: what is left of it must be an empty queue
            _v1_validate(schema, _v1_shell(root, _T_JOB), state, root.sourceline)


_READERS = {"1": _read_v1}


def iter_records(source: _Source, *, max_bytes: int = MAX_BYTES, max_text: int = MAX_TEXT) -> Iterator[Record]:
    """Read a queue document as a stream of ``Record``s in document order, memory flat in the size of the queue.

    ``("job", name, fields)`` (priority, max_attempts, paused, submitted, frame_timeout and extra keys), then for
    each subjob ``("subjob", name, fields)`` (its extra keys), then for each of its frames ``("frame", number,
    fields)`` (status, host, pid, command, stdout, argv, attempts, exit_code, progress, started, finished, error and
    extra keys).  Fields left out of the document have their defaults.  Each record has passed the schema; a problem
    further on raises ``QueueXMLError`` when it is reached.  ``max_bytes`` limits the document, ``max_text`` any one
    text or attribute value (characters).  No DTD, entity, XInclude or network access is ever honoured.
    """
    state = _ReadState()
    with _Opened(source, max_bytes) as stream:
        parser = etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, load_dtd=False, no_network=True,
            dtd_validation=False, remove_comments=True, remove_pis=True, recover=False,
            huge_tree=max_text > _LIBXML_TEXT_LIMIT)
        events = iter(parser)
        try:
            first = next(events, None)
            if first is None:
                raise _error("the document is empty")
            reader, root = _dispatch(first[1])
            yield from reader(events, root, state, max_text)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, parser.error_log, state.where(), stream.ended) from None


def _dispatch(root: Any) -> tuple:
    """The reader of the root's format version, or a clear error."""
    if root.getroottree().docinfo.doctype:
        raise _error("the document has a DOCTYPE; queue XML never has one", line=1)
    if root.tag.rsplit("}", 1)[-1] != "queue":
        raise _error("the root element is <%s>, not <queue>: not a PyFarm queue document" % _local_name(root.tag),
                     line=root.sourceline)
    fmt = root.get("format")
    if fmt is None:
        raise _error("<queue> has no format attribute", line=root.sourceline)
    reader = _READERS.get(fmt.strip())
    if reader is None:
        known = ", ".join(str(f) for f in READ_FORMATS)
        if re.fullmatch(r"\s*[0-9]{1,9}\s*", fmt) and int(fmt) > max(READ_FORMATS):
            reason = ("queue XML format %s is newer than this PyFarm reads (format %s); upgrade PyFarm to restore it"
                      % (fmt.strip(), known))
        else:
            reason = "unknown queue XML format %.40r (this PyFarm reads format %s)" % (fmt, known)
        raise _error(reason, line=root.sourceline)
    if _namespace(root.tag) != NAMESPACE:
        raise _error("<queue format=%r> must be in the namespace %s, not %s"
                     % (fmt, NAMESPACE, _namespace(root.tag) or "none"), line=root.sourceline)
    return reader, root


def _job_from_fields(fields: dict) -> dict:
    job = {"status": None, "frames": None, "subjobs": {}}
    job.update(fields)
    return job


def _finish_job(job: dict) -> dict:
    paused = job.get("paused", False)
    totals: Counter = Counter()
    for subjob in job["subjobs"].values():
        counts = Counter(frame["status"] for frame in subjob["frames"].values())
        totals.update(counts)
        subjob["status"] = derive_status(counts, paused)
        subjob["complete"] = counts["Complete"]
        subjob["total"] = sum(counts.values())
        subjob["failed"] = counts["Failed"]
    job["status"] = derive_status(totals, paused)
    job["frames"] = {name: (sum(totals.values()) if name == "total" else totals[name.capitalize()])
                     for name in _JOB_COUNTS}
    return job


def iter_queue(source: _Source, *, max_bytes: int = MAX_BYTES, max_text: int = MAX_TEXT) -> Iterator[tuple]:
    """Read a queue document as ``(name, job)`` pairs, one whole job in memory at a time.

    Each job is in the node's returned form: ``status`` and ``frames`` counts, ``subjobs`` (each with ``status``,
    ``complete``, ``total``, ``failed`` and ``frames`` keyed by int), every field and extra key.  Derived values are
    recomputed from the frames; the document's ``<summary>`` elements are ignored.
    """
    name = job = None
    subjob: Optional[dict] = None
    for kind, key, fields in iter_records(source, max_bytes=max_bytes, max_text=max_text):
        if kind == "frame":
            subjob["frames"][key] = fields
        elif kind == "subjob":
            subjob = {"status": None, "complete": 0, "total": 0, "failed": 0, "frames": {}}
            subjob.update(fields)
            job["subjobs"][key] = subjob
        else:
            if job is not None:
                yield name, _finish_job(job)
            name, job = key, _job_from_fields(fields)
    if job is not None:
        yield name, _finish_job(job)


def load_queue(source: _Source, *, max_bytes: int = MAX_BYTES, max_text: int = MAX_TEXT) -> dict:
    """The whole job dictionary of a queue document (see ``iter_queue``); nothing is returned on any error."""
    return dict(iter_queue(source, max_bytes=max_bytes, max_text=max_text))
