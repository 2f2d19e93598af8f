"""The farm queue as XML: backup and restore, streaming both ways. The only package importing lxml.

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

Modules: ``format`` (constants, field tables, escapes, literal checks), ``writer``, ``source`` (the input, its
limits, schemas, parser events), ``read_v1`` (format 1's elements), ``reader`` (records, jobs, the queue).

Errors: ``farm_node.errors.QueueXMLError`` (a ``FarmNodeError`` and a ``ValueError``), for a document that cannot be
read and for a job that cannot be written, with ``reason``, ``line`` and ``where`` attributes.  ``TypeError`` only for
a ``source``/``out`` of the wrong type.
"""
from __future__ import annotations

from farm_node.errors import QueueXMLError
from farm_node.queue_xml.format import FORMAT, MAX_BYTES, MAX_TEXT, NAMESPACE, READ_FORMATS, Record
from farm_node.queue_xml.reader import iter_queue, iter_records, load_queue
from farm_node.queue_xml.writer import atomic_write_queue, dump_queue, iter_dump_queue, write_queue
from farm_node.scheduler import FRAME_STATUSES, derive_status

__all__ = [
    "FORMAT", "NAMESPACE", "READ_FORMATS", "MAX_BYTES", "MAX_TEXT", "FRAME_STATUSES",
    "QueueXMLError", "Record", "derive_status",
    "write_queue", "atomic_write_queue", "dump_queue", "iter_dump_queue",
    "iter_records", "iter_queue", "load_queue",
]
