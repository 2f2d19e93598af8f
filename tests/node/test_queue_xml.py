"""The queue's XML backup format: exact round trip, schema, streaming, versions, and the file-level guarantees.

Hostile input (XXE, entity expansion, nesting, size) is in test_queue_xml_attacks.py.
"""
from __future__ import annotations

import copy
import io
import math
import os
import pathlib
import subprocess
import sys
import time
from collections import Counter
from typing import Any, Dict, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from farm_node import queue_xml as qx
from farm_node.errors import FarmNodeError, QueueXMLError

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "farm_node" / "schemas" / "queue-1.xsd"
STATUSES = ["Queued", "Rendering", "Complete", "Failed", "Cancelled"]
JOB_FIELDS = ("priority", "max_attempts", "paused", "submitted", "frame_timeout")
FRAME_FIELDS = ("status", "host", "pid", "command", "stdout", "argv", "attempts", "exit_code", "progress",
                "started", "finished", "error")
INT64 = st.integers(-2 ** 63, 2 ** 63 - 1)


# --- helpers --------------------------------------------------------------------------------------------------------

def strict(value: Any) -> Any:
    """A comparable form that tells 1, 1.0 and True apart (plain == does not) and compares floats by repr."""
    if isinstance(value, dict):
        return ("dict", sorted(((strict(k), strict(v)) for k, v in value.items()), key=repr))
    if isinstance(value, list):
        return ("list", [strict(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def rule(statuses: list, paused: bool) -> str:
    """CONTRACT section 1, written out again independently of the module."""
    if all(s == "Complete" for s in statuses):
        return "Complete"
    if "Rendering" in statuses:
        return "Rendering"
    if paused:
        return "Paused"
    for status in ("Queued", "Failed"):
        if status in statuses:
            return status
    return "Cancelled"


def node_form(jobs: Dict[str, dict]) -> Dict[str, dict]:
    """The job dictionary the node would return for ``jobs``: derived fields computed from the frames."""
    out = copy.deepcopy(jobs)
    for job in out.values():
        every = []
        for sub in job["subjobs"].values():
            statuses = [f["status"] for f in sub["frames"].values()]
            every += statuses
            sub.update(status=rule(statuses, job["paused"]), complete=statuses.count("Complete"),
                       total=len(statuses), failed=statuses.count("Failed"))
        job["status"] = rule(every, job["paused"])
        job["frames"] = {"complete": every.count("Complete"), "total": len(every), "failed": every.count("Failed"),
                         "queued": every.count("Queued"), "rendering": every.count("Rendering"),
                         "cancelled": every.count("Cancelled")}
    return out


def streamed(jobs: Dict[str, dict]) -> Iterator:
    """The same jobs as one-shot generators all the way down, as a store reading a cursor would hand them."""
    for name, job in jobs.items():
        job = dict(job)
        subjobs = job.pop("subjobs")
        job["subjobs"] = ((sub_name, dict(sub, frames=iter(list(sub["frames"].items()))))
                          for sub_name, sub in subjobs.items())
        yield name, job


def frame(status: str = "Queued", **fields: Any) -> dict:
    out = {"status": status, "host": None, "pid": None, "command": "render -r mr -s 1 -e 1 scene.mb", "stdout": "",
           "argv": None, "attempts": 0, "exit_code": None, "progress": 0, "started": None, "finished": None,
           "error": None}
    out.update(fields)
    return out


def job(subjobs: dict, **fields: Any) -> dict:
    out = {"priority": 50, "max_attempts": 3, "paused": False, "submitted": 1700000000.5, "frame_timeout": None,
           "subjobs": subjobs}
    out.update(fields)
    return out


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def whole_document_valid(data: bytes) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    xsd = schema()
    assert xsd.validate(etree.fromstring(data, parser)), xsd.error_log


# The original design's example (seed 000), in the node's returned form.
EXAMPLE = {"Job1": job({"sub1": {"layer": "masterLayer", "frames": {
    1: frame("Failed", host="render01", pid=9978, command="render -r mr -v 5 -s 1 -e 1 scene.mb",
             stdout="This is the first line in the log\nThis is the second", attempts=3, exit_code=1,
             started=1700000001.0, finished=1700000002.25, error=None),
    2: frame("Rendering", host="render02", pid=8243, command="render -r mr -v 5 -s 2 -e 2 scene.mb",
             stdout="This is the first line in the log\nThis is the second", attempts=1, progress=42.5,
             started=1700000001.0),
    3: frame("Complete", host="render03", pid=10124, command="render -r mr -v 5 -s 3 -e 3 scene.mb",
             stdout="This is the first line in the log\nThis is the second", attempts=1, exit_code=0,
             progress=100, started=1700000001.0, finished=1700000009.0,
             argv=["render", "-r", "mr", "-v", "5", "-s", "3", "-e", "3", "scene.mb"]),
}}}, scene="/proj/scene.mb", renderer="mr")}


# --- hostile values -------------------------------------------------------------------------------------------------

SPECIALS = [
    "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x1b[31m", "\x1b[0m", "\r", "\r\n", "\n", "\t", " ", "  ",
    "\\", "\\\\", "\\u0000", "\\u", "\\x", "\ufffe", "\uffff", "\ud800", "\udbff", "\udc00", "\udfff", "\udc80",
    "\udcff", "\ud83d\ude00", "\U0001f600", "]]>", "&amp;", "&#0;", "<", ">", '"', "'", "\x7f", "\x85", "\u2028",
    "\ufeff", "\u00e9", "e\u0301", "\U0010ffff",
]
CHARS = st.characters(exclude_categories=[])          # every code point, surrogates included
TEXT = st.one_of(
    st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(CHARS, max_size=4),
                       st.characters(categories=["Cs", "Cc"])), max_size=8).map("".join),
    # text that was not valid UTF-8: bytes decoded the way the node decodes a log
    st.binary(max_size=24).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
NAME = TEXT.filter(bool)
NUMBER = st.one_of(INT64, st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6)


def extras(reserved: set) -> st.SearchStrategy:
    return st.dictionaries(TEXT.filter(lambda k: k not in reserved), JSON, max_size=3)


FRAMES = st.fixed_dictionaries({
    "status": st.sampled_from(STATUSES), "host": st.none() | TEXT, "pid": st.none() | INT64, "command": TEXT,
    "stdout": TEXT, "argv": st.none() | st.lists(TEXT, max_size=4), "attempts": INT64,
    "exit_code": st.none() | INT64, "progress": NUMBER, "started": st.none() | NUMBER,
    "finished": st.none() | NUMBER, "error": st.none() | TEXT,
})
FRAME = st.builds(lambda f, x: {**f, **x}, FRAMES, extras(set(FRAME_FIELDS)))
SUBJOB = st.builds(lambda frames, x: {**x, "frames": frames},
                   st.dictionaries(INT64, FRAME, max_size=4),
                   extras({"status", "complete", "total", "failed", "frames"}))
JOB = st.builds(
    lambda fields, subjobs, x: {**x, **fields, "subjobs": subjobs},
    st.fixed_dictionaries({"priority": INT64, "max_attempts": INT64, "paused": st.booleans(),
                           "submitted": st.none() | NUMBER, "frame_timeout": st.none() | NUMBER}),
    st.dictionaries(NAME, SUBJOB, max_size=3),
    extras(set(JOB_FIELDS) | {"status", "frames", "subjobs"}))
QUEUES = st.dictionaries(NAME, JOB, max_size=3)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUEUES)
def test_round_trip_is_exact_and_every_file_matches_the_schema(jobs: Dict[str, dict]) -> None:
    data = qx.dump_queue(jobs, created=0)
    whole_document_valid(data)
    assert strict(qx.load_queue(data)) == strict(node_form(jobs))
    # streamed input (one-shot iterables) writes the very same bytes, and so does the chunked writer
    assert qx.dump_queue(streamed(jobs), created=0) == data
    assert b"".join(qx.iter_dump_queue(streamed(jobs), created=0, chunk_size=256)) == data
    # and what was read writes the same file again (derived input keys are ignored)
    assert qx.dump_queue(qx.load_queue(data), created=0) == data


# --- the format -----------------------------------------------------------------------------------------------------

def test_the_original_design_example_round_trips_and_reads_as_documented() -> None:
    data = qx.dump_queue(EXAMPLE, created=0)
    whole_document_valid(data)
    back = qx.load_queue(data)
    assert strict(back) == strict(node_form(EXAMPLE))
    frames = back["Job1"]["subjobs"]["sub1"]["frames"]
    assert sorted(frames) == [1, 2, 3]
    assert frames[1]["stdout"].split("\n") == ["This is the first line in the log", "This is the second"]
    assert back["Job1"]["status"] == "Rendering"
    assert back["Job1"]["frames"] == {"complete": 1, "total": 3, "failed": 1, "queued": 0, "rendering": 1,
                                      "cancelled": 0}
    text = data.decode("utf-8")
    assert '<queue xmlns="urn:pyfarm:queue:1" format="1" created="1970-01-01T00:00:00Z">' in text
    assert '<frame number="1" status="Failed">' in text
    assert "<host>render01</host>" in text
    assert "This is the first line in the log\nThis is the second</stdout>" in text  # ordinary text stays as is


def test_text_xml_cannot_hold_is_escaped_readably_and_only_where_needed() -> None:
    jobs = {"J\x00b": job({"s": {"frames": {1: frame(
        stdout="\x1b[32mok\x1b[0m\r\nC:\\temp \x00 \udc80\ufffe", command="render C:\\scenes\\a.mb")}}})}
    data = qx.dump_queue(jobs, created=0)
    text = data.decode("utf-8")
    assert '<job name="J\\u0000b" enc="esc">' in text
    assert '<stdout enc="esc">\\u001b[32mok\\u001b[0m&#13;\nC:\\\\temp \\u0000 \\udc80\\ufffe</stdout>' in text
    assert "<command>render C:\\scenes\\a.mb</command>" in text      # no escape needed: backslashes stay single
    back = qx.load_queue(data)
    stdout = back["J\x00b"]["subjobs"]["s"]["frames"][1]["stdout"]
    assert stdout == "\x1b[32mok\x1b[0m\r\nC:\\temp \x00 \udc80\ufffe"
    assert stdout.encode("utf-8", "surrogateescape")[-4:] == b"\x80\xef\xbf\xbe"


def test_bytes_that_were_not_utf8_come_back_byte_for_byte() -> None:
    raw = b"frame 1 \xff\xfe\x80 done\r\n\x00\x1b[0m"
    jobs = {"J": job({"s": {"frames": {1: frame(stdout=raw.decode("utf-8", "surrogateescape"))}}})}
    back = qx.load_queue(qx.dump_queue(jobs))
    assert back["J"]["subjobs"]["s"]["frames"][1]["stdout"].encode("utf-8", "surrogateescape") == raw


def test_numbers_keep_their_type_and_non_finite_floats_survive() -> None:
    jobs = {"J": job({"s": {"frames": {
        -5: frame(progress=0.0, started=1e16, finished=float("inf"), exit_code=-2 ** 63, pid=2 ** 63 - 1),
        7: frame(progress=100, started=float("-inf"), finished=float("nan")),
    }}}, submitted=1700000000, frame_timeout=3600.0)}
    back = qx.load_queue(qx.dump_queue(jobs))["J"]
    assert back["submitted"] == 1700000000 and type(back["submitted"]) is int
    assert back["frame_timeout"] == 3600.0 and type(back["frame_timeout"]) is float
    frames = back["subjobs"]["s"]["frames"]
    assert type(frames[-5]["progress"]) is float and frames[-5]["started"] == 1e16
    assert frames[-5]["finished"] == math.inf and frames[7]["started"] == -math.inf
    assert math.isnan(frames[7]["finished"])
    assert frames[-5]["exit_code"] == -2 ** 63 and frames[-5]["pid"] == 2 ** 63 - 1
    assert type(frames[7]["progress"]) is int


def test_derived_fields_are_recomputed_not_read() -> None:
    data = qx.dump_queue(EXAMPLE, created=0).decode("utf-8")
    edited = (data.replace('complete="1" total="3" failed="1" queued="0"', 'complete="99" total="0" failed="7" '
                           'queued="0"')
              .replace('<summary status="Rendering" complete="1" total="3" failed="1">',
                       '<summary status="Paused" complete="3" total="3" failed="0">'))
    assert edited.count('"99"') == 1 and edited.count('status="Paused"') == 1
    back = qx.load_queue(edited.encode("utf-8"))
    assert strict(back) == strict(node_form(EXAMPLE))
    # derived keys handed to the writer are ignored too: the file's summary is computed from the frames
    lying = copy.deepcopy(EXAMPLE)
    lying["Job1"].update(status="Complete", frames={"complete": 3, "total": 3, "failed": 0})
    lying["Job1"]["subjobs"]["sub1"].update(status="Queued", complete=0, total=9, failed=0)
    assert qx.dump_queue(lying, created=0) == data.encode("utf-8")


def test_paused_job_derivation() -> None:
    jobs = {"J": job({"a": {"frames": {1: frame("Queued"), 2: frame("Complete")}},
                      "b": {"frames": {1: frame("Rendering")}},
                      "c": {"frames": {1: frame("Complete")}}}, paused=True)}
    back = qx.load_queue(qx.dump_queue(jobs))["J"]
    assert back["status"] == "Rendering"
    assert [back["subjobs"][s]["status"] for s in "abc"] == ["Paused", "Rendering", "Complete"]


@pytest.mark.parametrize("statuses, paused, expected", [
    ([], False, "Complete"),
    (["Complete", "Complete"], True, "Complete"),
    (["Complete", "Rendering", "Queued"], True, "Rendering"),
    (["Queued", "Failed"], True, "Paused"),
    (["Complete", "Queued", "Failed"], False, "Queued"),
    (["Complete", "Failed", "Cancelled"], False, "Failed"),
    (["Complete", "Cancelled"], False, "Cancelled"),
    (["Cancelled"], True, "Paused"),
])
def test_derive_status_follows_the_contract(statuses: list, paused: bool, expected: str) -> None:
    assert qx.derive_status(statuses, paused) == expected
    assert qx.derive_status(Counter(statuses), paused) == expected       # counts, e.g. from GROUP BY
    assert rule(statuses, paused) == expected


def test_derive_status_refuses_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="Paused"):
        qx.derive_status(["Complete", "Paused"])


def test_iter_records_streams_in_document_order_with_defaults() -> None:
    records = list(qx.iter_records(qx.dump_queue(EXAMPLE)))
    assert [(r.kind, r.key) for r in records] == [("job", "Job1"), ("subjob", "sub1"), ("frame", 1), ("frame", 2),
                                                  ("frame", 3)]
    assert records[0].fields == {"priority": 50, "max_attempts": 3, "paused": False, "submitted": 1700000000.5,
                                 "frame_timeout": None, "scene": "/proj/scene.mb", "renderer": "mr"}
    assert records[1].fields == {"layer": "masterLayer"}
    assert set(records[2].fields) == set(FRAME_FIELDS)
    assert records[3].fields["exit_code"] is None and records[3].fields["argv"] is None


def test_a_hand_written_minimal_file_reads_with_documented_defaults() -> None:
    data = b"""<?xml version="1.0"?>
<!-- written by hand -->
<queue xmlns="urn:pyfarm:queue:1" format="1">
  <job name="Shot 10">
    <subjob name="beauty">
      <frame number="1" status="Queued"><command>render -s 1 -e 1 shot10.mb</command></frame>
      <frame number="2" status="Complete"/>
    </subjob>
    <subjob name="empty"/>
  </job>
  <job name="nothing"/>
</queue>"""
    back = qx.load_queue(data)
    assert back["Shot 10"]["priority"] == 50 and back["Shot 10"]["max_attempts"] == 3
    assert back["Shot 10"]["paused"] is False and back["Shot 10"]["submitted"] is None
    assert back["Shot 10"]["subjobs"]["beauty"]["frames"][2] == frame("Complete", command="")
    assert back["Shot 10"]["subjobs"]["empty"] == {"status": "Complete", "complete": 0, "total": 0, "failed": 0,
                                                    "frames": {}}
    assert back["Shot 10"]["status"] == "Queued"
    assert back["nothing"]["subjobs"] == {} and back["nothing"]["frames"]["total"] == 0


def test_sources_and_outputs(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "queue.xml"
    assert qx.write_queue(path, EXAMPLE) == {"jobs": 1, "subjobs": 1, "frames": 3}
    qx.write_queue(str(tmp_path / "b.xml"), EXAMPLE, created=0)
    buf = io.BytesIO()
    qx.write_queue(buf, EXAMPLE, created=0)
    assert (tmp_path / "b.xml").read_bytes() == buf.getvalue()
    expected = strict(node_form(EXAMPLE))
    assert strict(qx.load_queue(path)) == expected
    assert strict(qx.load_queue(str(path))) == expected
    with open(path, "rb") as f:
        assert strict(qx.load_queue(f)) == expected
    assert strict(qx.load_queue(bytearray(path.read_bytes()))) == expected
    assert strict(dict(qx.iter_queue(memoryview(path.read_bytes())))) == expected
    with pytest.raises(TypeError):
        qx.load_queue(12)
    with pytest.raises(QueueXMLError, match="binary"):
        qx.load_queue(io.StringIO(path.read_text("utf-8")))
    with pytest.raises(QueueXMLError, match="cannot read"):
        qx.load_queue(tmp_path / "missing.xml")


def test_iter_dump_queue_streams_chunks_as_it_goes() -> None:
    consumed = []

    def frames() -> Iterator:
        for number in range(1, 2001):
            consumed.append(number)
            yield number, frame(stdout="line\n" * 10)

    chunks = qx.iter_dump_queue({"J": job({"s": {"frames": frames()}})}, created=0, chunk_size=4096)
    first = next(chunks)
    assert first.startswith(b"<?xml") and 4096 <= len(first) < 8192
    assert 0 < len(consumed) < 100                  # the frames are read as the chunks are taken, not all first
    rest = b"".join(chunks)
    assert len(qx.load_queue(first + rest)["J"]["subjobs"]["s"]["frames"]) == 2000


def test_iter_dump_queue_raises_after_the_chunks_before_the_error() -> None:
    def frames() -> Iterator:
        for number in range(1, 2001):
            yield number, frame(stdout="line\n" * 10)
        raise RuntimeError("the database went away")

    got = []
    with pytest.raises(RuntimeError, match="went away"):
        for chunk in qx.iter_dump_queue({"J": job({"s": {"frames": frames()}})}, chunk_size=4096):
            got.append(chunk)
    assert got
    with pytest.raises(QueueXMLError, match="cut short"):
        qx.load_queue(b"".join(got))


def test_json_form_frame_keys_are_accepted_and_read_back_as_ints() -> None:
    jobs = {"J": job({"s": {"frames": {"3": frame(), "-4": frame()}}})}
    assert sorted(qx.load_queue(qx.dump_queue(jobs))["J"]["subjobs"]["s"]["frames"]) == [-4, 3]


def test_the_error_class_is_the_node_tree() -> None:
    assert issubclass(QueueXMLError, FarmNodeError) and issubclass(QueueXMLError, ValueError)
    assert qx.QueueXMLError is QueueXMLError


# --- versions -------------------------------------------------------------------------------------------------------

def test_a_newer_format_gives_a_clear_error() -> None:
    data = b'<queue xmlns="urn:pyfarm:queue:2" format="2"><job name="J"/></queue>'
    with pytest.raises(QueueXMLError, match=r"format 2 is newer than this PyFarm reads \(format 1\); upgrade"):
        qx.load_queue(data)


@pytest.mark.parametrize("data, message", [
    (b'<queue xmlns="urn:pyfarm:queue:1" format="one"/>', "unknown queue XML format 'one'"),
    (b'<queue xmlns="urn:pyfarm:queue:1"/>', "no format attribute"),
    (b'<jobs format="1"/>', "root element is <jobs>, not <queue>"),
    (b'<queue format="1"/>', "must be in the namespace urn:pyfarm:queue:1, not none"),
    (b'<queue xmlns="urn:other" format="1"/>', "not urn:other"),
    (b"", "no element found"),
])
def test_not_a_queue_document(data: bytes, message: str) -> None:
    with pytest.raises(QueueXMLError, match=message):
        qx.load_queue(data)


def test_an_empty_queue() -> None:
    data = qx.dump_queue({})
    whole_document_valid(data)
    assert qx.load_queue(data) == {}


# --- broken files ---------------------------------------------------------------------------------------------------

def test_a_truncated_file_gives_a_clear_error_and_nothing() -> None:
    data = qx.dump_queue(EXAMPLE, created=0)
    for cut in (1, 60, len(data) // 3, len(data) // 2, len(data) - 20, len(data) - 2):
        with pytest.raises(QueueXMLError) as caught:
            qx.load_queue(data[:cut])
        assert caught.value.line is not None, (cut, str(caught.value))
        assert "line %d" % caught.value.line in str(caught.value)


def test_a_file_cut_inside_a_frame_names_the_frame() -> None:
    data = qx.dump_queue(EXAMPLE, created=0)
    cut = data.index(b"<pid>8243")
    with pytest.raises(QueueXMLError, match=r"not well-formed XML: .*cut short.*at job 'Job1' > subjob 'sub1' > "
                                            r"frame 2"):
        qx.load_queue(data[:cut])


def test_a_broken_byte_inside_is_not_called_cut_short() -> None:
    data = qx.dump_queue(EXAMPLE, created=0).replace(b"<pid>8243", b"<pid>8243<")
    with pytest.raises(QueueXMLError, match="not well-formed XML") as caught:
        qx.load_queue(data)
    assert "cut short" not in str(caught.value) and caught.value.line == 25


def doc(body: str) -> bytes:
    return ('<queue xmlns="urn:pyfarm:queue:1" format="1">\n<job name="J">\n<subjob name="s">\n%s\n</subjob>\n'
            '</job>\n</queue>' % body).encode("utf-8")


@pytest.mark.parametrize("body, message", [
    ('<frame number="x" status="Queued"/>', r"'x' is not a valid value of the atomic type 'xs:long'.*frame x.*"
                                            r"line 4"),
    ('<frame number="1" status="Paused"/>', "status.*Paused"),
    ('<frame number="1" status="Queued"><pid>12.5</pid></frame>', "pid"),
    ('<frame number="1" status="Queued"><stdout/><host>h</host></frame>', "host.*not expected"),
    ('<frame number="1" status="Queued"><colour>red</colour></frame>', "colour.*not expected"),
    ('<frame number="1" status="Queued"/><frame number="1" status="Queued"/>', "frame 1 is given twice"),
    ('<frame number="1" status="Queued"><stdout enc="esc">a\\qb</stdout></frame>', "backslash that starts no "
                                                                                   "escape"),
    ('<frame number="1" status="Queued"><extra key="k">{nope</extra></frame>', "extra key 'k' does not hold JSON"),
    ('<frame number="1" status="Queued"><extra key="pid">5</extra></frame>', "extra key 'pid' names a field"),
    ('<frame number="1" status="Queued"><extra key="k">1</extra><extra key="k">2</extra></frame>', "given twice"),
    ('<frame number="1" status="Queued"/>stray text<frame number="2" status="Queued"/>', "stray text"),
    ('<frame number="1" status="Queued"/><extra key="k">1</extra>', "must come before the subjob's frames"),
    ('<summary/><frame number="1" status="Queued"/>', "<frame> after the subjob's <summary>"),
    ('<extra key="status">"x"</extra>', "extra key 'status' names a field"),
    ('<frame number="1" status="Queued"><progress>%s</progress></frame>' % ("9" * 5000), "does not fit 64 bits"),
])
def test_invalid_content_is_refused_with_place_and_line(body: str, message: str) -> None:
    with pytest.raises(QueueXMLError, match=message) as caught:
        qx.load_queue(doc(body))
    assert caught.value.line is not None


@pytest.mark.parametrize("data, message", [
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1"><job name="J"/><job name="J"/></queue>', "job 'J' is given "
                                                                                              "twice"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1"><job name=""/></queue>', "name.*minLength"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1"><job name="J"><subjob name="s"/><priority>1</priority>'
     b'</job></queue>', "<priority> must come before the job's subjobs"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1"><job name="J"><max_attempts>1</max_attempts>'
     b'<priority>1</priority></job></queue>', "priority.*not expected"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1"><job name="J"><paused>maybe</paused></job></queue>',
     "maybe"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1"><frame number="1" status="Queued"/></queue>',
     "frame.*(not allowed in <queue>|not expected)"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1" colour="red"/>', "colour"),
    (b'<queue xmlns="urn:pyfarm:queue:1" format="1">text</queue>', "(text|Character content).*not allowed"),
])
def test_invalid_structure_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(QueueXMLError, match=message):
        qx.load_queue(data)


def test_records_before_an_error_are_yielded_then_the_error_comes() -> None:
    data = doc('<frame number="1" status="Queued"/><frame number="2" status="Nope"/>')
    seen = []
    with pytest.raises(QueueXMLError, match="Nope"):
        for record in qx.iter_records(data):
            seen.append((record.kind, record.key))
    assert seen == [("job", "J"), ("subjob", "s"), ("frame", 1)]


# --- the writer refuses what it cannot write exactly ----------------------------------------------------------------

@pytest.mark.parametrize("jobs, message", [
    ({"J": job({"s": {"frames": {1: frame(pid="9978")}}})}, r"field 'pid': expected an integer, got str.*frame 1"),
    ({"J": job({"s": {"frames": {1: frame(attempts=True)}}})}, "field 'attempts': expected an integer, got bool"),
    ({"J": job({"s": {"frames": {1: frame(exit_code=2 ** 63)}}})}, "fits 64 bits"),
    ({"J": job({"s": {"frames": {1: frame(status="Paused")}}})}, "field 'status'"),
    ({"J": job({"s": {"frames": {1: frame(stdout=None)}}})}, "field 'stdout': expected a string"),
    ({"J": job({"s": {"frames": {1: frame(stdout=b"bytes")}}})}, "field 'stdout': expected a string"),
    ({"J": job({"s": {"frames": {1: frame(argv=["a", 1])}}})}, "field 'argv'"),
    ({"J": job({"s": {"frames": {1: frame(progress="50")}}})}, "field 'progress': expected a number"),
    ({"J": job({"s": {"frames": {1: frame(when={1, 2})}}})}, "extra key 'when' does not hold a JSON value"),
    ({"J": job({"s": {"frames": {1.5: frame()}}})}, "frame numbers must be integers"),
    ({"J": job({"s": {"frames": [(1, frame()), (1, frame())]}})}, "frame 1 is given twice"),
    ({"J": job({"s": {"frames": [(1, frame()), 2]}})}, r"must yield \(key, value\) pairs"),
    ({"J": job({}, priority=None)}, "field 'priority': expected an integer, got NoneType"),
    ({"J": job({}, paused=0)}, "field 'paused': expected true or false"),
    ({"": job({})}, "a job name must be a non-empty string"),
    ({"J": job({"": {"frames": {}}})}, "a subjob name must be a non-empty string"),
    ({"J": job({}, **{"x": float})}, "extra key 'x'"),
    ([("J", job({})), ("J", job({}))], None),       # two jobs of one name: the reader refuses, see below
])
def test_the_writer_refuses_values_it_cannot_write_exactly(jobs: Any, message: str) -> None:
    if message is None:
        with pytest.raises(QueueXMLError, match="job 'J' is given twice"):
            qx.load_queue(qx.dump_queue(jobs))
        return
    with pytest.raises(QueueXMLError, match=message):
        qx.dump_queue(jobs)


# --- atomic writes --------------------------------------------------------------------------------------------------

def leftovers(folder: pathlib.Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_and_leaves_nothing_behind(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "queue.xml"
    assert qx.atomic_write_queue(path, EXAMPLE) == {"jobs": 1, "subjobs": 1, "frames": 3}
    assert qx.atomic_write_queue(path, {"Other": job({})})["jobs"] == 1
    assert list(qx.load_queue(path)) == ["Other"]
    assert leftovers(tmp_path) == []


def test_a_writer_failing_midway_leaves_the_previous_file_intact(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "queue.xml"
    qx.atomic_write_queue(path, EXAMPLE, created=0)
    before = path.read_bytes()

    def frames() -> Iterator:
        for number in range(1, 5000):
            yield number, frame()
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        qx.atomic_write_queue(path, {"Big": job({"s": {"frames": frames()}})})
    with pytest.raises(QueueXMLError):
        qx.atomic_write_queue(path, {"Big": job({"s": {"frames": {1: frame(), 2: frame(pid="x")}}})})
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


CHILD = r"""
import sys
from farm_node.queue_xml import atomic_write_queue
path, flag = sys.argv[1], sys.argv[2]
def frames():
    number = 0
    while True:
        number += 1
        if number == 20000:
            open(flag, "w").close()
        yield number, {"status": "Queued", "command": "render -s %d" % number, "stdout": "log line\n" * 20}
atomic_write_queue(path, {"Endless": {"subjobs": {"s": {"frames": frames()}}}})
"""


def test_a_writer_killed_midway_leaves_the_previous_file_intact(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "queue.xml"
    flag = tmp_path / "writing"
    qx.atomic_write_queue(path, EXAMPLE, created=0)
    before = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(flag)], env=env, cwd=str(tmp_path),
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, child.stderr.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.01)
        partial = leftovers(tmp_path)
        assert len(partial) == 1 and (tmp_path / partial[0]).stat().st_size > 0
    finally:
        child.kill()                        # SIGKILL on POSIX, TerminateProcess on Windows
        child.wait()
        child.stderr.close()
    assert path.read_bytes() == before
    assert strict(qx.load_queue(path)) == strict(node_form(EXAMPLE))
    # what the killed writer left is a broken document, which the reader refuses
    with pytest.raises(QueueXMLError, match="not well-formed"):
        qx.load_queue(tmp_path / leftovers(tmp_path)[0])
