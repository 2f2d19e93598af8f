"""The node's JSON answers: orjson for speed, json.dumps for what orjson refuses, the same JSON either way."""
from __future__ import annotations

import json

from farm_node.http.common import json_body


def test_answers_are_compact_json_that_reads_back_the_same():
    data = {"Job1": {"frames": {"1": {"status": "Complete", "stdout": "é\n\x00end", "progress": 12.5}}}, "n": None}
    body = json_body(data)
    assert json.loads(body) == data and b": " not in body and b", " not in body


def test_what_orjson_refuses_is_still_answered():
    for odd in ({"name": "a\ud800b"}, {"big": 2 ** 70}, {"pair": (1, 2)}, {1: "int key"}):
        body = json_body(odd)
        assert json.loads(body) == json.loads(json.dumps(odd))
