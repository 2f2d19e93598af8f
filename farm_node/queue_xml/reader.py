"""Reading a queue document: its records (``iter_records``), whole jobs (``iter_queue``), the whole queue."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, Optional

from lxml import etree

from farm_node.queue_xml.format import (
    _JOB_COUNTS,
    _LIBXML_TEXT_LIMIT,
    MAX_BYTES,
    MAX_TEXT,
    NAMESPACE,
    READ_FORMATS,
    Record,
    _error,
    _Source,
)
from farm_node.queue_xml.read_v1 import _read_v1
from farm_node.queue_xml.source import _local_name, _namespace, _Opened, _ReadState, _syntax_error
from farm_node.scheduler import derive_status

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
