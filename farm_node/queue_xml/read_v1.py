"""Reading format 1: each element checked against the schema, then turned into a ``Record``."""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any, Optional, Union

from lxml import etree

from farm_node.queue_xml.format import (
    _FRAME_FIELDS,
    _FRAME_KEYS,
    _FRAME_KINDS,
    _INT64,
    _JOB_FIELDS,
    _JOB_KINDS,
    _JOB_RESERVED,
    _Q,
    _SUBJOB_DERIVED,
    _T_EXTRA,
    _T_FRAME,
    _T_JOB,
    _T_SUBJOB,
    _T_SUMMARY,
    Record,
    _unescape,
)
from farm_node.queue_xml.source import _local_name, _ReadState, _schema

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
