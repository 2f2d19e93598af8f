"""Hostile queue XML: each classic attack is refused with a clear error, before any record is yielded."""
from __future__ import annotations

import io
import pathlib
import socket

import pytest

from farm_node import queue_xml as qx
from farm_node.errors import QueueXMLError

HEAD = '<queue xmlns="urn:pyfarm:queue:1" format="1">'
SECRET = "TOP-SECRET-5f1c"


def refused(data: bytes, message: str, first: bool = True, **limits: int) -> QueueXMLError:
    """Reading ``data`` raises with ``message`` in the error and returns nothing; with ``first``, the stream of
    records raises before its first record (else the records before the bad place come first)."""
    if first:
        with pytest.raises(QueueXMLError, match=message):
            next(qx.iter_records(data, **limits))
    with pytest.raises(QueueXMLError, match=message) as caught:
        qx.load_queue(data, **limits)
    return caught.value


@pytest.fixture
def secret(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.fixture
def listener() -> socket.socket:
    """A TCP port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def nobody_called(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


# --- entities and DTDs ----------------------------------------------------------------------------------------------

def test_xxe_reading_a_local_file_is_refused(secret: pathlib.Path) -> None:
    data = ('<?xml version="1.0"?>\n<!DOCTYPE queue [<!ENTITY xxe SYSTEM "%s">]>\n%s<job name="J">'
            '<extra key="k">"&xxe;"</extra></job></queue>' % (secret.as_uri(), HEAD)).encode()
    error = refused(data, "DOCTYPE")
    assert error.line == 2
    assert SECRET not in str(error)


def test_an_external_dtd_is_not_fetched(listener: socket.socket) -> None:
    url = "http://127.0.0.1:%d/evil.dtd" % listener.getsockname()[1]
    data = ('<!DOCTYPE queue SYSTEM "%s">%s</queue>' % (url, HEAD)).encode()
    refused(data, "DOCTYPE")
    data = ('<!DOCTYPE queue [<!ENTITY %% remote SYSTEM "%s"> %%remote;]>%s</queue>' % (url, HEAD)).encode()
    refused(data, "DOCTYPE")
    assert nobody_called(listener)


def test_billion_laughs_is_refused() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        '<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10) for i in range(1, 10)]
    data = ('<?xml version="1.0"?>\n<!DOCTYPE queue [\n%s\n]>\n%s<job name="&lol9;"/></queue>'
            % ("\n".join(entities), HEAD)).encode()
    refused(data, "DOCTYPE")


def test_quadratic_blowup_is_refused() -> None:
    big = "A" * 50_000
    data = ('<!DOCTYPE queue [<!ENTITY a "%s">]>%s<job name="J"><extra key="k">"%s"</extra></job></queue>'
            % (big, HEAD, "&a;" * 50_000)).encode()
    refused(data, "DOCTYPE")


@pytest.mark.parametrize("prolog", [
    "<!-- a comment first --><!DOCTYPE queue>",
    '<?xml version="1.0"?><?pi here?>\n\n<!DOCTYPE queue>',
    "\ufeff<!DOCTYPE queue>",
    "<!ELEMENT queue ANY>",
])
def test_a_dtd_anywhere_in_the_prolog_is_refused(prolog: str) -> None:
    refused(("%s%s</queue>" % (prolog, HEAD)).encode(), "DOCTYPE")


def test_a_dtd_split_across_reads_is_refused_before_the_parser_sees_it() -> None:
    data = b" " * (32768 - 3) + b"<!DOCTYPE queue [<!ENTITY x 'y'>]>" + HEAD.encode() + b"</queue>"
    refused(data, "DOCTYPE")


def test_the_parser_options_hold_even_without_the_prolog_check(monkeypatch: pytest.MonkeyPatch,
                                                               secret: pathlib.Path,
                                                               listener: socket.socket) -> None:
    """Defence in depth: with the byte-level check switched off, lxml still resolves nothing and we still refuse."""
    from farm_node.queue_xml import source
    monkeypatch.setattr(source, "_check_prolog", lambda head, eof: True)
    url = "http://127.0.0.1:%d/evil.dtd" % listener.getsockname()[1]
    data = ('<!DOCTYPE queue SYSTEM "%s" [<!ENTITY xxe SYSTEM "%s">]>\n%s<job name="J">'
            '<extra key="k">"&xxe;"</extra></job></queue>' % (url, secret.as_uri(), HEAD)).encode()
    with pytest.raises(QueueXMLError) as caught:
        qx.load_queue(data)
    assert SECRET not in str(caught.value)
    assert nobody_called(listener)


def test_an_undefined_entity_is_not_well_formed() -> None:
    refused(('%s<job name="&nope;"/></queue>' % HEAD).encode(), "not well-formed XML: Entity 'nope' not defined")


def test_xinclude_is_not_processed(secret: pathlib.Path) -> None:
    data = ('%s<job name="J"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="%s" parse="text"/>'
            '</job></queue>' % (HEAD, secret.as_uri())).encode()
    with pytest.raises(QueueXMLError, match="include.*not expected") as caught:
        qx.load_queue(data)
    assert SECRET not in str(caught.value)


# --- nesting, sizes, encodings --------------------------------------------------------------------------------------

def test_deep_nesting_is_refused() -> None:
    deep = "<a>" * 100_000 + "</a>" * 100_000
    data = ('%s<job name="J"><subjob name="s"><frame number="1" status="Queued"><argv><arg>%s</arg></argv>'
            '</frame></subjob></job></queue>' % (HEAD, deep)).encode()
    refused(data, "nested deeper than the format allows", first=False)


def test_deep_nesting_of_format_elements_is_refused() -> None:
    data = (HEAD + '<job name="J">' * 100_000 + "</job>" * 100_000 + "</queue>").encode()
    refused(data, "nested deeper than the format allows")


def test_deep_nesting_under_a_foreign_root_is_refused() -> None:
    refused(b"<a>" * 1_000_000 + b"</a>" * 1_000_000, "not <queue>|Excessive depth")


def test_the_size_limit(tmp_path: pathlib.Path) -> None:
    data = qx.dump_queue({"J": {"subjobs": {"s": {"frames": {n: {"status": "Queued", "command": "x" * 100}
                                                             for n in range(100)}}}}})
    limit = len(data) - 1
    refused(data, "larger than the limit of %d bytes" % limit, max_bytes=limit)
    path = tmp_path / "q.xml"
    path.write_bytes(data)
    with pytest.raises(QueueXMLError, match="larger than the limit"):
        qx.load_queue(path, max_bytes=limit)
    with pytest.raises(QueueXMLError, match="larger than the limit"):
        qx.load_queue(io.BufferedReader(io.BytesIO(data)), max_bytes=limit)      # a stream with no size
    assert len(qx.load_queue(path, max_bytes=len(data))["J"]["subjobs"]["s"]["frames"]) == 100


def test_the_text_limit() -> None:
    data = qx.dump_queue({"J": {"subjobs": {"s": {"frames": {1: {"status": "Failed", "command": "render",
                                                                 "stdout": "x" * 5000}}}}}})
    error = refused(data, "<stdout> holds 5000 characters, more than the limit of 1000", first=False,
                    max_text=1000)
    assert error.where == "job 'J' > subjob 's' > frame 1" and error.line is not None
    assert qx.load_queue(data, max_text=5000)
    refused(qx.dump_queue({"N" * 2000: {}}), "a job name is longer than the limit of 1000", max_text=1000)


def test_a_text_node_beyond_the_parser_limit_is_refused() -> None:
    data = ('%s<job name="J"><extra key="k">"%s"</extra></job></queue>' % (HEAD, "x" * 11_000_000)).encode()
    refused(data, "not well-formed XML: .*(huge|too long|limit)", first=False)


@pytest.mark.parametrize("data, message", [
    (('<?xml version="1.0" encoding="UTF-16"?>%s</queue>' % HEAD).encode("utf-16"), "not UTF-8"),
    (('<?xml version="1.0" encoding="ISO-8859-1"?>%s</queue>' % HEAD).encode("latin-1"),
     "declares encoding 'ISO-8859-1'"),
    (('<?xml version="1.0" encoding="UTF-8"?>%s<job name="\xe9"/></queue>' % HEAD).encode("latin-1"),
     "not well-formed XML"),
])
def test_only_utf8_is_read(data: bytes, message: str) -> None:
    refused(data, message)


def test_a_huge_prolog_is_refused() -> None:
    refused(b"<!--" + b"x" * 100_000 + b"-->" + HEAD.encode() + b"</queue>", "no <queue> element in the first")


def test_schema_location_hints_are_not_fetched(listener: socket.socket, secret: pathlib.Path) -> None:
    url = "http://127.0.0.1:%d/evil.xsd" % listener.getsockname()[1]
    data = ('<queue xmlns="urn:pyfarm:queue:1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="urn:pyfarm:queue:1 %s" format="1"><job name="J" xsi:noNamespaceSchemaLocation="%s">'
            '<subjob name="s"><frame number="1" status="Queued" xsi:schemaLocation="urn:x %s"/></subjob></job>'
            '</queue>' % (url, secret.as_uri(), url)).encode()
    assert list(qx.load_queue(data)) == ["J"]        # XML Schema allows the hints; we never follow them
    assert nobody_called(listener)
