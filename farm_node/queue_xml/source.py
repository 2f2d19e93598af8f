"""Reading: the input with its limits and the prolog check, the schemas, the parser's events and errors."""
from __future__ import annotations

import io
import os
import re
import threading
from importlib import resources
from typing import Any, Optional

from lxml import etree

from farm_node.errors import QueueXMLError
from farm_node.queue_xml.format import _MAX_PROLOG, _Q, _error

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
        package = resources.files("farm_node")
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
