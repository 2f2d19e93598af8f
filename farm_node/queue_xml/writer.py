"""Writing a queue as XML: streamed, element by element, from mappings or iterables of pairs."""
from __future__ import annotations

import io
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, Optional, Union

from lxml import etree

from farm_node.queue_xml.format import (
    _ESC,
    _FRAME_KEYS,
    _FRAME_WRITE,
    _JOB_COUNTS,
    _JOB_FIELDS,
    _JOB_RESERVED,
    _Q,
    _SUBJOB_COUNTS,
    _SUBJOB_DERIVED,
    _T_ARG,
    _T_ARGV,
    _T_EXTRA,
    _T_FRAME,
    _T_JOB,
    _T_QUEUE,
    _T_SUBJOB,
    _T_SUMMARY,
    _UNSAFE,
    FORMAT,
    NAMESPACE,
    _bad,
    _error,
    _escape,
    _frame_number,
    _int_literal,
    _json_text,
    _name,
    _number_literal,
    _pairs,
    _Where,
)
from farm_node.scheduler import FRAME_STATUSES, derive_status


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
