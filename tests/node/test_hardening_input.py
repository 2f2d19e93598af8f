"""Issue 15, rows 7, 9, 10 (duplicate keys) and 11: whatever a request holds, the node answers a 4xx with the
contract's JSON error (never a 500, never a reset connection); names "." and ".." are refused; a key twice in one
object is refused by name; Render's flags that run MEL are refused unless the node allows them, and a render host
that does not allow them starts nothing."""
from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import wait_for
from tests.node.test_node_api import seed_job


def _session(node, token):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    return s


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _frames(key: str) -> bytes:
    return ('{"J": {"subjobs": {"s": {"frames": {"%s": {"command": "render -s 1 -e 1 a.mb"}}}}}}' % key).encode()


BEAT = {"host": "attacker", "worker_id": "a1", "slots": 1, "holding": [], "wait": 0}

# (what, method, path, raw body, which token): each once made a 500 (issue 15, row 7) or could have.
CASES = [
    ("lone surrogate in a job name", "POST", "/api/jobs",
     b'{"\\ud800": {"subjobs": {"s": {"frames": {"1": {"command": "render a.mb"}}}}}}', "client"),
    ("lone surrogate in a subjob name", "POST", "/api/jobs",
     b'{"J": {"subjobs": {"\\udfff": {"frames": {"1": {"command": "render a.mb"}}}}}}', "client"),
    ("lone surrogate in a command", "POST", "/api/jobs",
     b'{"J": {"subjobs": {"s": {"frames": {"1": {"command": "render \\ud800.mb"}}}}}}', "client"),
    ("lone surrogate in an extra key", "POST", "/api/jobs",
     b'{"J": {"comment": "\\udc00", "subjobs": {"s": {"frames": {"1": {"command": "render a.mb"}}}}}}', "client"),
    ("frame number 2**63", "POST", "/api/jobs", _frames(str(2 ** 63)), "client"),
    ("frame number -2**63-1", "POST", "/api/jobs", _frames(str(-2 ** 63 - 1)), "client"),
    ("frame number of 5,000 digits", "POST", "/api/jobs", _frames("9" * 5000), "client"),
    ("a number of 5,000 digits", "POST", "/api/jobs", b'{"J": {"priority": 1' + b"0" * 5000 + b"}}", "client"),
    ("priority 1e400", "POST", "/api/jobs", b'{"J": {"priority": 1e400, "subjobs": {}}}', "client"),
    ("JSON nested 100,000 deep", "POST", "/api/jobs", _deep(100000), "client"),
    ("JSON nested 100,000 deep in a job", "POST", "/api/jobs", b'{"J": ' + _deep(100000) + b"}", "client"),
    ("not UTF-8", "POST", "/api/jobs", b'{"J\xff\xfe": 1}', "client"),
    ("retry of frame 2**63", "POST", "/api/jobs/nosuchjob/retry", b'{"frames": [9223372036854775808]}', "client"),
    ("heartbeat slots NaN", "POST", "/api/worker/heartbeat", json.dumps(dict(BEAT, slots=float("nan"))).encode(),
     "worker"),
    ("heartbeat slots 1e20", "POST", "/api/worker/heartbeat", json.dumps(dict(BEAT, slots=1e20)).encode(), "worker"),
    ("heartbeat wait Infinity", "POST", "/api/worker/heartbeat", b'{"host": "a", "worker_id": "a", "wait": 1e999}',
     "worker"),
    ("heartbeat seen 2**70", "POST", "/api/worker/heartbeat", json.dumps(dict(BEAT, seen=2 ** 70)).encode(),
     "worker"),
    ("heartbeat holding 2**64", "POST", "/api/worker/heartbeat", json.dumps(dict(BEAT, holding=[2 ** 64])).encode(),
     "worker"),
    ("heartbeat host with a lone surrogate", "POST", "/api/worker/heartbeat",
     b'{"host": "\\ud800", "worker_id": "a", "slots": 1}', "worker"),
    ("heartbeat nested 100,000 deep", "POST", "/api/worker/heartbeat", _deep(100000), "worker"),
    ("lease free 1e20", "POST", "/api/worker/lease", b'{"host": "a", "worker_id": "a", "free": 1e20}', "worker"),
    ("heartbeat without a worker id", "POST", "/api/worker/heartbeat", b'{"host": "a", "slots": 1}', "worker"),
    ("log of frame 2**70", "GET", "/api/jobs/x/subjobs/s/frames/%d/log" % 2 ** 70, None, "client"),
    ("log from offset 2**70", "GET", "/api/jobs/x/subjobs/s/frames/1/log?offset=%d" % 2 ** 70, None, "client"),
    ("job name of invalid UTF-8 in the path", "GET", "/api/jobs/%ED%A0%80", None, "client"),
    ("changes since 2**70", "GET", "/api/changes?since=%d" % 2 ** 70, None, "client"),
    ("a key twice", "POST", "/api/jobs",
     b'{"J": {"subjobs": {"s": {"frames": {"1": {"command": "render a.mb"}}}}}, "J": {}}', "client"),
]


@pytest.mark.parametrize("what,method,path,body,token", CASES, ids=[c[0] for c in CASES])
def test_no_request_gets_a_server_error_or_resets_the_connection(farm_node_server, what, method, path, body, token):
    node = farm_node_server
    s = _session(node, node.worker_token if token == "worker" else node.token)
    r = s.request(method, node.url + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code < 500, (what, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/json"), r.text[:200]
        assert isinstance(r.json()["error"], str) and r.json()["error"]
    else:
        assert what == "changes since 2**70", (what, r.status_code)  # a client from another life: told to reload
        assert r.json()["reload"] is True
    # the connection is still good for the next request (a 500 from an exception used to reset it)
    assert s.get(node.url + "/api/health", timeout=10).status_code == 200


def test_frame_numbers_are_refused_by_name_beyond_64_bits(farm_node_server):
    r = requests.post(farm_node_server.url + "/api/jobs", data=_frames(str(2 ** 63)),
                      headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=10)
    assert r.status_code == 422 and r.json()["path"] == "J.subjobs.s.frames.%d" % 2 ** 63
    assert "64-bit" in r.json()["error"]


def test_a_key_twice_in_one_object_is_refused_by_name(farm_node_server, unique_name):
    name = unique_name("dup")
    raw = ('{"%s": {"subjobs": {"s": {"frames": {"7": {"command": "render -s 7 -e 7 a.mb"},'
           ' "7": {"command": "render -s 7 -e 7 b.mb"}}}}}}' % name).encode()
    r = requests.post(farm_node_server.url + "/api/jobs", data=raw,
                      headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=10)
    assert r.status_code == 422 and r.json()["path"] == "7" and '"7" appears twice' in r.json()["error"]
    assert name not in farm_node_server.client().jobs()


@pytest.mark.parametrize("name", [".", ".."])
def test_job_and_subjob_names_dot_and_dotdot_are_refused(farm_node_server, name):
    client = farm_node_server.client()
    before = set(client.jobs())
    for body, path in ((seed_job(name), name), ({"ok-name-%d" % len(name): {"subjobs": {
            name: {"frames": {"1": {"command": "render a.mb"}}}}}}, "ok-name-%d.subjobs.%s" % (len(name), name))):
        r = requests.post(farm_node_server.url + "/api/jobs", json=body,
                          headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=10)
        assert r.status_code == 422 and r.json()["path"] == path, r.text
    assert set(client.jobs()) == before
    # and the client asking for such a job gets no job, not the whole queue
    r = requests.get(farm_node_server.url + "/api/jobs/" + name,
                     headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=10)
    assert r.status_code == 404 and r.json()["error"]


MEL_FLAGS = ["-preRender", "-postRender", "-preLayer", "-postLayer", "-preFrame", "-postFrame"]


@pytest.mark.parametrize("flag", MEL_FLAGS)
def test_render_flags_that_run_mel_are_refused_at_submit_naming_the_flag(farm_node_server, unique_name, flag):
    name = unique_name("mel")
    body = {name: {"subjobs": {"s": {"frames": {
        "1": {"command": "render -r mr -s 1 -e 1 a.mb"},
        "2": {"command": 'render %s "system(\\"touch /tmp/pwned\\")" -s 2 -e 2 a.mb' % flag}}}}}}
    r = requests.post(farm_node_server.url + "/api/jobs", json=body,
                      headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=10)
    assert r.status_code == 422 and r.json()["path"] == "%s.subjobs.s.frames.2.command" % name
    assert flag in r.json()["error"] and "--allow-mel" in r.json()["error"]
    # in argv too, whatever the command shows, and in any case
    body[name]["subjobs"]["s"]["frames"]["2"] = {"command": "render a.mb",
                                                 "argv": ["render", flag.upper(), "python(\"1\")", "a.mb"]}
    r = requests.post(farm_node_server.url + "/api/jobs", json=body,
                      headers={"Authorization": "Bearer " + farm_node_server.token}, timeout=10)
    assert r.status_code == 422 and r.json()["path"] == "%s.subjobs.s.frames.2.argv.1" % name
    assert name not in farm_node_server.client().jobs()


def test_a_node_with_allow_mel_takes_them_and_a_host_without_it_starts_nothing(node_factory, worker_factory,
                                                                               unique_name):
    node = node_factory(slots=1, args=["--allow-mel", "--heartbeat", "0.25", "--lost-after", "1.5"])
    client = node.client()
    allowed = unique_name("allowed")
    client.submit({allowed: {"subjobs": {"s": {"frames": {"1": {
        "command": 'render -preRender "print 1" -s 1 -e 1 a.mb'}}}}}})
    job = wait_for(lambda: client.job(allowed)["status"] == "Complete" and client.job(allowed),
                   what="the allowed job to render")
    assert job["subjobs"]["s"]["frames"][1]["exit_code"] == 0
    # A render host without --allow-mel refuses to start it (defence in depth): the frame fails naming the flag.
    client.pause(allowed)  # the node's own slot must not take the next one
    coordinator = node_factory(slots=0, args=["--allow-mel", "--heartbeat", "0.25", "--lost-after", "1.5"])
    worker_factory(coordinator, "strict-host")
    refused = unique_name("refused")
    coordinator.client().submit({refused: {"max_attempts": 1, "subjobs": {"s": {"frames": {"1": {
        "command": 'render -postFrame "print 1" -s 1 -e 1 a.mb'}}}}}})
    c2 = coordinator.client()
    frame = wait_for(lambda: c2.job(refused)["status"] == "Failed" and c2.job(refused)["subjobs"]["s"]["frames"][1],
                     what="the frame to fail on the strict host")
    assert frame["host"] is None and "-postFrame" in frame["error"] and "--allow-mel" in frame["error"]
    assert "-postFrame" in c2.log(refused, "s", 1)


@pytest.mark.parametrize("what,pattern,value,path", [
    ("priority 1000", r"(<(?:\w+:)?priority>)50(</)", r"\g<1>1000\g<2>", ".priority"),
    ("max_attempts 0", r"(<(?:\w+:)?max_attempts>)3(</)", r"\g<1>0\g<2>", ".max_attempts"),
    ("a MEL flag", r"(<(?:\w+:)?command>)render ", r'\g<1>render -preRender "system(1)" ', ".command"),
])
def test_a_restore_validates_exactly_as_submit_does(farm_node_server, unique_name, what, pattern, value, path):
    import re
    node = farm_node_server
    client = node.client()
    name = unique_name("restore")
    client.submit(seed_job(name, frames=(1,)))
    xml = requests.get(node.url + "/api/queue.xml", params={"job": name},
                           headers={"Authorization": "Bearer " + node.token}, timeout=30).content
    client.delete(name)
    changed, n = re.subn(pattern.encode(), value.encode(), xml)
    assert n >= 1, (what, xml[:600])
    r = requests.post(node.url + "/api/queue.xml", data=changed, headers={"Authorization": "Bearer " + node.token,
                                                                          "Content-Type": "application/xml"},
                      timeout=30)
    assert r.status_code == 422, (what, r.status_code, r.text)
    assert r.json()["path"].startswith(name) and r.json()["path"].endswith(path), r.json()
    assert name not in client.jobs()
