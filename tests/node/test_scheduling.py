"""Studio scheduling in the coordinator, in process (CONTRACT section 6): host tags, limits, dependencies, why a job
waits, PATCH, the blocklist's rule, and a lease that reads only jobs with queued frames. A real store of either
engine, hosts that speak the worker protocol through the coordinator's calls, a clock moved by hand.
"""
from __future__ import annotations

import pytest

from farm_node.coordinator import Coordinator
from farm_node.errors import Conflict, JobSpecError, NotFound
from tests.conftest import wait_for
from tests.node.test_leases import Clock


@pytest.fixture
def farm(make_store, tmp_path):
    """``start(block_after=3)``: a coordinator on the test's store (again on the same store: a restart)."""
    clock = Clock()

    def start(block_after: int = 3) -> Coordinator:
        store = make_store()
        if store.shared:
            store.start_listening()
            wait_for(lambda: store.leader, what="the store's leadership")
        return Coordinator(store, str(tmp_path), "coord", clock=clock, heartbeat=5.0, lost_after=15.0,
                           block_after=block_after)

    yield start, clock


def job(*numbers, subjobs=None, **keys):
    subjobs = subjobs or {"s": {}}
    return dict({"subjobs": {name: dict(sub, frames={str(n): {"command": "render -s %d -e %d scene.mb" % (n, n)}
                                                       for n in sub.pop("numbers", numbers)})
                             for name, sub in subjobs.items()}}, **keys)


def beat(c, host, tags=(), slots=4, holding=()):
    return c.host_heartbeat(host, "id-" + host, slots, {"os": "Linux", "cpus": 8, "tags": list(tags)}, list(holding))


def lease(c, host, free=1):
    answer = c.lease_remote(host, "id-" + host, free)
    assert answer is not None, "host %s is not attached" % host
    return answer["leases"]


def finish(c, host, attempt, exit_code=0):
    assert c.host_reports(host, "id-" + host, [
        {"type": "started", "attempt": attempt, "pid": 4000 + attempt},
        {"type": "finished", "attempt": attempt, "exit_code": exit_code, "error": None}]) == ["ok", "ok"]


def head(c, name):
    return c.reader.job_head(name)


def waiting(c, name):
    return head(c, name)["waiting_for"]


# -- the rule itself, with plain values -----------------------------------------------------------------------------
def test_why_not_asks_in_order_and_names_the_first_thing_that_holds_a_frame_back():
    from farm_node import scheduler as s
    gpu = s.HostView("gpu1", frozenset({"gpu"}), True, "idle", slots=2)
    cpu = s.HostView("cpu1", frozenset(), True, "idle", slots=1, running=1)
    needs = s.Needs(frozenset({"gpu"}), (("arnold", 1),), ("sim",))
    full = {"arnold": s.LimitState(1, 1)}
    free = {"arnold": s.LimitState(2, 1)}
    ask = dict(deps={"sim": s.RENDERING}, limits=full, hosts=[gpu, cpu], blocklist=())
    assert s.why_not(needs, paused=True, **ask).cause == s.WaitCause.PAUSED
    assert s.why_not(needs, **ask).text == "job sim is not Complete"
    ask["deps"] = {"sim": s.COMPLETE}
    assert s.why_not(needs, **dict(ask, hosts=[cpu])).text == "no host has the tags gpu"
    assert s.why_not(needs, **ask).text == "limit arnold is full (1 of 1)"
    ask["limits"] = free
    assert s.why_not(needs, **ask) is None
    assert s.why_not(needs, host=cpu, **ask).text == "host cpu1 lacks the tags gpu"       # a lease's question
    blocked = s.why_not(needs, **dict(ask, blocklist={"gpu1"}))
    assert (blocked.cause, blocked.yields) == (s.WaitCause.BLOCKLIST, True)
    # on the blocklisted host: it yields only while no other host that may render it is up
    other = gpu._replace(name="gpu2")
    assert s.why_not(needs, host=gpu, **dict(ask, blocklist={"gpu1"})).yields
    assert not s.why_not(needs, host=gpu, **dict(ask, blocklist={"gpu1"}, hosts=[gpu, other])).yields
    busy = gpu._replace(running=2)
    assert s.why_not(needs, **dict(ask, hosts=[busy])).text == "every host that may render it is busy: gpu1"


def test_limits_take_units_and_dependencies_find_cycles_and_subjobs_merge_needs():
    from farm_node import scheduler as s
    limits = {"arnold": s.LimitState(3, 1)}
    assert s.limit_problem((("arnold", 2),), limits) is None
    taken = s.hold_units(limits, (("arnold", 2),))
    assert taken["arnold"] == (3, 3) and limits["arnold"] == (3, 1)
    assert s.limit_problem((("arnold", 1),), taken) == "limit arnold is full (3 of 3)"
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert s.dependency_cycle(["d"], lambda n: graph.get(n, ())) == ["a", "b", "c", "a"]
    assert s.dependency_cycle(["x"], lambda n: {"x": ["y"]}.get(n, ())) is None
    needs = s.job_needs({"requires": ["linux"], "limits": {"arnold": 1, "nuke": 1}, "depends_on": ["sim"]},
                        {7: {"requires": ["gpu"], "limits": {"arnold": 2}}, 8: {}})
    assert needs.of(7) == s.Needs(frozenset({"gpu", "linux"}), (("arnold", 2), ("nuke", 1)), ("sim",))
    assert needs.of(8) == needs.job and needs.limited
    assert s.needs_from_record(s.needs_record({"requires": ["linux"]}, {7: {"requires": ["gpu"]}})).of(7).requires \
        == frozenset({"gpu", "linux"})
    assert s.needs_record({"requires": []}, {}) is None and s.tag_problem("Render-01.x") is None
    assert s.tag_problem("two words") and s.tag_problem(7) and s.tag_problem("") and s.tag_problem("_x")


# -- host tags ------------------------------------------------------------------------------------------------------
def test_frames_go_only_to_hosts_holding_every_required_tag(farm):
    start, _ = farm
    c = start()
    beat(c, "cpu1", tags=["linux"])
    c.submit({"G": job(1, 2, requires=["GPU", "linux"])})
    assert head(c, "G")["requires"] == ["gpu", "linux"]                    # tags are lower case
    assert lease(c, "cpu1", 4) == []
    assert waiting(c, "G") == "no host has the tags gpu, linux (the nearest, cpu1, lacks gpu)"
    beat(c, "gpu1", tags=["gpu", "linux", "arnold"])
    assert waiting(c, "G") is None
    got = lease(c, "gpu1", 4)
    assert sorted(a["frame"] for a in got) == [1, 2]
    workers = {w["name"]: w for w in c.workers()}
    assert workers["gpu1"]["tags"] == ["arnold", "gpu", "linux"] and workers["cpu1"]["tags"] == ["linux"]


def test_a_subjob_adds_its_own_tags_to_the_jobs(farm):
    start, _ = farm
    c = start()
    beat(c, "cpu1")
    c.submit({"J": job(subjobs={"plain": {"numbers": [1]}, "heavy": {"numbers": [2], "requires": ["gpu"]}})})
    assert [a["subjob"] for a in lease(c, "cpu1", 4)] == ["plain"]
    h = head(c, "J")
    # a frame of the job can start elsewhere... no: the job's only queued subjob waits, and says why
    assert h["subjobs"]["heavy"]["waiting_for"] == "no host has the tags gpu"
    assert h["waiting_for"] == "no host has the tags gpu"
    beat(c, "gpu1", tags=["gpu"])
    assert [a["subjob"] for a in lease(c, "gpu1", 4)] == ["heavy"]


def test_a_lost_host_with_the_tags_is_named(farm):
    start, clock = farm
    c = start()
    beat(c, "gpu1", tags=["gpu"])
    beat(c, "cpu1")
    clock.advance(16)
    beat(c, "cpu1")
    c.check()
    c.submit({"G": job(1, requires=["gpu"])})
    assert waiting(c, "G") == "no host that is up has the tags gpu (gpu1 has them, but is lost)"


def test_bad_tags_are_refused_by_name(farm):
    start, _ = farm
    c = start()
    for bad, path in ((["gp u"], "G.requires.0"), ("gpu", "G.requires"), ([3], "G.requires.0"),
                      (["-gpu"], "G.requires.0"), (["x" * 65], "G.requires.0")):
        with pytest.raises(JobSpecError) as e:
            c.submit({"G": job(1, requires=bad)})
        assert e.value.path == path, bad
    with pytest.raises(JobSpecError) as e:
        beat(c, "w1", tags=["ok", "not ok"])
    assert e.value.path == "info.tags.1"
    assert c.reader.summary_dict()["jobs"] == {}                            # nothing stored


# -- dependencies ---------------------------------------------------------------------------------------------------
def test_a_job_waits_for_its_dependencies_to_be_complete(farm):
    start, _ = farm
    c = start()
    beat(c, "w1")
    c.submit({"sim": job(1), "comp": job(1, depends_on=["sim"])})
    assert waiting(c, "comp") == "job sim is not Complete"
    (a,) = lease(c, "w1", 4)
    assert a["job"] == "sim"
    assert waiting(c, "comp") == "job sim is not Complete"
    finish(c, "w1", a["attempt"], exit_code=1)                            # a failed attempt, queued again
    (a,) = lease(c, "w1", 4)
    assert a["job"] == "sim"
    # its end leases the next frame in the same transaction: the comp, now that sim is Complete
    answer = c.host_reports_and_lease("w1", "id-w1", [
        {"type": "started", "attempt": a["attempt"], "pid": 1},
        {"type": "finished", "attempt": a["attempt"], "exit_code": 0, "error": None}], 4)[1]
    assert [x["job"] for x in answer["leases"]] == ["comp"]
    assert waiting(c, "comp") is None and head(c, "comp")["depends_on"] == ["sim"]


def test_a_dependency_that_fails_or_goes_keeps_the_job_waiting_with_the_reason(farm):
    start, _ = farm
    c = start()
    beat(c, "w1")
    c.submit({"sim": job(1, max_attempts=1), "comp": job(1, depends_on=["sim"])})
    (a,) = lease(c, "w1", 4)
    finish(c, "w1", a["attempt"], exit_code=3)
    assert head(c, "sim")["status"] == "Failed"
    assert lease(c, "w1", 4) == []
    assert waiting(c, "comp") == "job sim is Failed, not Complete"
    c.delete("sim")
    assert waiting(c, "comp") == "job sim is no longer on the farm"
    assert lease(c, "w1", 4) == []
    # a job submitted again under that name is the one it waits for now
    c.submit({"sim": job(1)})
    assert waiting(c, "comp") == "job sim is not Complete"
    c.cancel("sim")
    assert waiting(c, "comp") == "job sim is Cancelled, not Complete"
    c.retry("sim")
    (a,) = lease(c, "w1", 1)
    assert a["job"] == "sim"
    finish(c, "w1", a["attempt"])
    assert [x["job"] for x in lease(c, "w1", 4)] == ["comp"]


def test_unknown_self_and_circular_dependencies_are_refused(farm):
    start, _ = farm
    c = start()
    c.submit({"a": job(1)})
    with pytest.raises(JobSpecError) as e:
        c.submit({"b": job(1, depends_on=["a", "ghost"])})
    assert e.value.path == "b.depends_on.1" and "ghost" in str(e.value)
    with pytest.raises(JobSpecError) as e:
        c.submit({"b": job(1, depends_on=["b"])})
    assert e.value.path == "b.depends_on.0"
    with pytest.raises(JobSpecError) as e:
        c.submit({"x": job(1, depends_on=["y"]), "y": job(1, depends_on=["z"]), "z": job(1, depends_on=["x"])})
    assert "cycle" in str(e.value) and "x -> y -> z -> x" in str(e.value)
    assert set(c.reader.summary_dict()["jobs"]) == {"a"}                   # nothing of them stored
    c.submit({"y": job(1, depends_on=["a"]), "x": job(1, depends_on=["y"])})   # a chain is fine, in any order
    with pytest.raises(JobSpecError) as e:
        c.update("a", {"depends_on": ["x"]})                               # a PATCH closing the loop
    assert e.value.path == "a.depends_on" and "a -> x -> y -> a" in str(e.value)


# -- limits ---------------------------------------------------------------------------------------------------------
def test_a_limit_is_never_oversubscribed_across_hosts_and_restarts(farm):
    start, _ = farm
    c = start()
    c.set_limit("arnold", 3)
    beat(c, "w1")
    beat(c, "w2")
    c.submit({"A": job(*range(1, 9), limits={"Arnold": 2}), "B": job(*range(20, 24), limits={"arnold": 1})})
    got = lease(c, "w1", 4)
    # A's first frame holds 2 of 3; its second would need 2 more: B's frame takes the last unit
    assert [(x["job"], x["frame"]) for x in got] == [("A", 1), ("B", 20)]
    assert lease(c, "w2", 4) == []
    assert c.limits() == {"limits": {"arnold": {"capacity": 3, "in_use": 3}}}
    assert waiting(c, "A") == "limit arnold is full (3 of 3; a frame needs 2)"
    assert waiting(c, "B") == "limit arnold is full (3 of 3)"
    # a restart (a SIGKILL: nothing in memory survives): the remote hosts' running attempts still hold their units
    c.store.close()
    c2 = start()
    beat(c2, "w1", holding=[x["attempt"] for x in got])
    beat(c2, "w2")
    assert c2.limits()["limits"]["arnold"] == {"capacity": 3, "in_use": 3}
    assert lease(c2, "w2", 4) == []
    finish(c2, "w1", got[1]["attempt"])                                    # B's frame ends: one unit free
    assert [(x["job"], x["frame"]) for x in lease(c2, "w2", 4)] == [("B", 21)]
    finish(c2, "w1", got[0]["attempt"])                                    # A's: two units
    assert [(x["job"], x["frame"]) for x in lease(c2, "w2", 4)] == [("A", 2)]
    assert c2.limits()["limits"]["arnold"]["in_use"] == 3


def test_limits_refuse_bad_values_and_a_delete_while_frames_hold_them(farm):
    start, _ = farm
    c = start()
    for capacity in (-1, 1.5, "4", True, None, 10 ** 7):
        with pytest.raises(JobSpecError) as e:
            c.set_limit("arnold", capacity)
        assert e.value.path == "capacity", capacity
    with pytest.raises(JobSpecError) as e:
        c.set_limit("bad name", 2)
    assert e.value.path == "name"
    assert c.limits() == {"limits": {}}
    with pytest.raises(JobSpecError) as e:
        c.submit({"A": job(1, limits={"arnold": 1})})
    assert e.value.path == "A.limits.arnold" and "no limit named" in str(e.value)
    c.set_limit("arnold", 2)
    for units, path in ((0, "A.limits.arnold"), (1.0, "A.limits.arnold"), ("1", "A.limits.arnold")):
        with pytest.raises(JobSpecError) as e:
            c.submit({"A": job(1, limits={"arnold": units})})
        assert e.value.path == path
    with pytest.raises(JobSpecError) as e:
        c.submit({"A": job(1, limits={"arnold": 3})})                      # more than the capacity: never starts
    assert "could never start" in str(e.value)
    with pytest.raises(JobSpecError) as e:
        c.submit({"A": job(subjobs={"s": {"numbers": [1], "limits": {"nuke": 1}}})})
    assert e.value.path == "A.subjobs.s.limits.nuke"
    c.submit({"A": job(1, 2, limits={"arnold": 1})})
    beat(c, "w1")
    (a,) = lease(c, "w1", 1)
    with pytest.raises(Conflict) as e:
        c.delete_limit("arnold")
    assert "held by 1 rendering frame(s) (A s frame 1)" in str(e.value)
    with pytest.raises(NotFound):
        c.delete_limit("ghost")
    finish(c, "w1", a["attempt"])
    assert c.delete_limit("arnold") == {"name": "arnold", "deleted": True}
    assert waiting(c, "A").startswith("limit arnold does not exist")
    assert lease(c, "w1", 1) == []
    c.set_limit("arnold", 0)                                               # zero: nothing of it renders
    assert waiting(c, "A") == "a frame needs 1 units of limit arnold, more than its capacity of 0"


def test_a_lost_attempt_does_not_come_back_over_a_full_limit(farm):
    start, clock = farm
    c = start()
    c.set_limit("arnold", 1)
    beat(c, "w1")
    c.submit({"A": job(1, 2, limits={"arnold": 1})})
    (a,) = lease(c, "w1", 2)
    c.host_reports("w1", "id-w1", [{"type": "started", "attempt": a["attempt"], "pid": 7}])
    clock.advance(16)
    beat(c, "w2")
    c.check()                                                              # w1 is lost: its unit is free
    (b,) = lease(c, "w2", 2)
    assert c.limits()["limits"]["arnold"]["in_use"] == 1
    answer = beat(c, "w1", holding=[a["attempt"]])                          # w1 is back with its render
    assert answer["kill"] == [a["attempt"]]                                # not revived: the unit went to w2
    assert c.limits()["limits"]["arnold"]["in_use"] == 1
    assert c.host_reports("w1", "id-w1", [{"type": "finished", "attempt": a["attempt"], "exit_code": 0}]) \
        == ["stale"]


# -- why a job waits, PATCH, who and why ---------------------------------------------------------------------------
def test_waiting_for_names_each_cause_and_is_null_when_nothing_holds_the_job(farm):
    start, _ = farm
    c = start()
    c.submit({"J": job(1, user="dana", comment="for the review", paused=True)})
    h = head(c, "J")
    assert (h["user"], h["comment"], h["paused"], h["status"]) == ("dana", "for the review", True, "Paused")
    assert h["waiting_for"] == "the job is paused"
    c.resume("J")
    assert waiting(c, "J") == "no render host is up"
    beat(c, "w1", slots=1)
    assert waiting(c, "J") is None
    c.submit({"K": job(5)})
    lease(c, "w1", 1)
    assert waiting(c, "K") == "every host that may render it is busy: w1"
    assert waiting(c, "J") is None                                         # it has no queued frame left
    plain = head(c, "K")
    assert (plain["user"], plain["comment"], plain["requires"], plain["limits"], plain["depends_on"]) == (
        None, None, [], {}, [])


def test_patch_changes_a_job_and_refuses_bad_keys_by_name(farm):
    start, _ = farm
    c = start()
    beat(c, "w1", slots=1)
    c.submit({"low": job(1, priority=10), "high": job(1, priority=20)})
    answer = c.update("low", {"priority": 90, "max_attempts": 5, "frame_timeout": 60, "comment": "rush"})
    assert (answer["priority"], answer["max_attempts"], answer["frame_timeout"], answer["comment"]) == (
        90, 5, 60.0, "rush")
    assert "frames" not in answer["subjobs"]["s"]
    (a,) = lease(c, "w1", 1)
    assert a["job"] == "low" and a["timeout"] == 60
    for body, path in (({"priority": 101}, "priority"), ({"priority": "9"}, "priority"), ({"colour": 1}, "colour"),
                       ({"max_attempts": 0}, "max_attempts"), ({"frame_timeout": -1}, "frame_timeout"),
                       ({"requires": "gpu"}, "requires"), ({"limits": {"ghost": 1}}, "limits.ghost"),
                       ({"depends_on": ["low", "nope"]}, "depends_on.1"), ({"depends_on": ["low"], "x": 1}, "x"),
                       ({}, ""), ([], "")):
        with pytest.raises(JobSpecError) as e:
            c.update("high", body)
        assert e.value.path == path, body
    assert head(c, "high")["priority"] == 20 and head(c, "high")["depends_on"] == []   # nothing stored
    with pytest.raises(NotFound):
        c.update("ghost", {"priority": 1})
    c.update("high", {"requires": ["gpu"]})
    assert waiting(c, "high") == "no host has the tags gpu"
    c.update("high", {"requires": None})
    assert head(c, "high")["requires"] == [] and waiting(c, "high") == "every host that may render it is busy: w1"


def test_a_patch_of_limits_leaves_rendering_frames_with_what_they_hold(farm):
    start, _ = farm
    c = start()
    c.set_limit("arnold", 2)
    beat(c, "w1")
    c.submit({"A": job(1, 2, 3, limits={"arnold": 1})})
    first = lease(c, "w1", 1)
    c.update("A", {"limits": {"arnold": 2}})
    assert c.limits()["limits"]["arnold"]["in_use"] == 1                    # as it was leased
    assert lease(c, "w1", 4) == []                                          # 1 + 2 > 2
    finish(c, "w1", first[0]["attempt"])
    assert len(lease(c, "w1", 4)) == 1 and c.limits()["limits"]["arnold"]["in_use"] == 2


# -- the blocklist's rule: it yields -------------------------------------------------------------------------------
def test_a_job_every_host_blocklisted_still_renders_when_the_host_has_nothing_else(farm):
    start, _ = farm
    c = start(block_after=2)
    beat(c, "only", slots=1)
    c.submit({"J": job(1, 2, 3, max_attempts=5)})
    for _ in range(2):
        (a,) = lease(c, "only", 1)
        finish(c, "only", a["attempt"], exit_code=1)
    assert head(c, "J")["blocklist"] == ["only"]
    blocked = ("every host that may render it is blocklisted: only (they take its frames when they have nothing"
               " else to render)")
    assert waiting(c, "J") == blocked
    c.submit({"K": job(7)})
    (a,) = lease(c, "only", 1)
    assert a["job"] == "K"                                                  # something else first
    assert waiting(c, "J") == blocked
    finish(c, "only", a["attempt"])
    (a,) = lease(c, "only", 1)
    assert a["job"] == "J"                                                  # then the job it blocklisted
    # a second host that may render it: the blocklist holds again for the first
    beat(c, "other", slots=1)
    finish(c, "only", a["attempt"])
    assert lease(c, "only", 1) == []
    (a,) = lease(c, "other", 1)
    assert a["job"] == "J"
    # the other host leaves; after a restart, the blocklist yields again
    finish(c, "other", a["attempt"])
    c.host_heartbeat("other", "id-other", 1, {"os": "Linux"}, [], leaving=True)
    c.store.close()
    c2 = start(block_after=2)
    beat(c2, "only", slots=1)
    assert waiting(c2, "J") == blocked
    assert [x["job"] for x in lease(c2, "only", 1)] == ["J"]


# -- the lease reads only jobs with queued frames ------------------------------------------------------------------
def test_finished_jobs_leave_the_leases_reads(farm):
    start, _ = farm
    c = start()
    beat(c, "w1", slots=8)
    c.submit({"done%d" % i: job(1, 2) for i in range(5)})
    for a in lease(c, "w1", 8):
        finish(c, "w1", a["attempt"])
    for a in lease(c, "w1", 8):
        finish(c, "w1", a["attempt"])
    assert lease(c, "w1", 8) == []
    assert c.store.runnable_jobs("w1") == []                                # none is read by a lease any more
    c.retry("done3", frames=[2])
    assert [j.name for j in c.store.runnable_jobs("w1")] == ["done3"]       # a frame queued again: read again
    c.cancel("done3")
    assert c.store.runnable_jobs("w1") == []


def test_what_a_job_needs_survives_an_xml_backup_and_restore(farm, tmp_path):
    from farm_node import backup
    start, _ = farm
    c = start()
    c.set_limit("arnold", 2)
    beat(c, "gpu1", tags=["gpu"])
    c.submit({"sim": job(1), "light": job(1, 2, requires=["gpu"], limits={"arnold": 1}, depends_on=["sim"],
                                          user="dana", comment="key light",
                                          subjobs={"s": {"numbers": [1, 2]}, "fx": {"numbers": [3],
                                                                                   "requires": ["houdini"]}})})
    path = str(tmp_path / "queue.xml")
    backup.write_backup(c.reader, path)
    c.delete("light")
    c.delete("sim")
    assert backup.restore(c, path) == ["sim", "light"]
    h = head(c, "light")
    assert (h["requires"], h["limits"], h["depends_on"], h["user"], h["comment"]) == (
        ["gpu"], {"arnold": 1}, ["sim"], "dana", "key light")
    assert h["subjobs"]["fx"]["requires"] == ["houdini"]
    assert h["waiting_for"] == "job sim is not Complete"
    (a,) = lease(c, "gpu1", 4)
    assert a["job"] == "sim"                                               # the restored needs hold
    finish(c, "gpu1", a["attempt"])
    h = head(c, "light")
    assert h["waiting_for"] is None                                        # subjob s can start...
    assert h["subjobs"]["fx"]["waiting_for"] == "no host has the tags gpu, houdini (the nearest, gpu1, lacks houdini)"
    assert sorted((x["subjob"], x["frame"]) for x in lease(c, "gpu1", 4)) == [("s", 1), ("s", 2)]
    assert c.limits()["limits"]["arnold"]["in_use"] == 2


def test_a_dependency_retried_holds_its_dependents_again(farm):
    start, _ = farm
    c = start()
    beat(c, "w1", slots=1)
    c.submit({"sim": job(1), "comp": job(1, 2, depends_on=["sim"])})
    (a,) = lease(c, "w1")
    finish(c, "w1", a["attempt"])
    (b,) = lease(c, "w1")
    assert (b["job"], b["frame"]) == ("comp", 1)                           # sim is Complete: comp starts
    c.retry("sim", frames=[1])
    finish(c, "w1", b["attempt"])
    (a,) = lease(c, "w1")
    assert a["job"] == "sim"                                               # not comp's frame 2: sim is not Complete
    assert waiting(c, "comp") == "job sim is not Complete"
    assert lease(c, "w1") == []
    finish(c, "w1", a["attempt"])
    assert [(x["job"], x["frame"]) for x in lease(c, "w1")] == [("comp", 2)]


def test_the_units_in_use_stay_the_running_attempts_through_every_way_an_attempt_ends(farm):
    start, clock = farm
    c = start()
    c.set_limit("arnold", 50)
    c.set_limit("nuke", 50)

    def in_use():
        return {name: v["in_use"] for name, v in c.limits()["limits"].items()}

    beat(c, "w1", slots=8)
    c.submit({"A": job(*range(1, 6), limits={"arnold": 2, "nuke": 1}, max_attempts=5),
              "B": job(1, 2, 3, limits={"arnold": 1})})
    got = lease(c, "w1", 8)
    assert in_use() == {"arnold": 2 * 5 + 3, "nuke": 5}
    a = [x["attempt"] for x in got if x["job"] == "A"]
    finish(c, "w1", a[0])                                                   # complete
    finish(c, "w1", a[1], exit_code=1)                                      # failed, queued again
    c.retry("A", frames=[got[2]["frame"]])                                  # a rendering frame retried
    assert in_use() == {"arnold": 2 * 2 + 3, "nuke": 2}
    c.cancel("B")                                                           # rendering frames cancelled
    assert in_use() == {"arnold": 4, "nuke": 2}
    c.host_reports("w1", "id-w1", [{"type": "started", "attempt": a[3], "pid": 9}])
    clock.advance(16)
    beat(c, "w2")
    c.check()                                                               # w1 lost: its units are free
    assert in_use() == {"arnold": 0, "nuke": 0}
    beat(c, "w1", slots=8, holding=[a[3]])                                  # back, still rendering: revived
    assert in_use() == {"arnold": 2, "nuke": 1}
    c.delete("A")                                                           # a job deleted while it renders
    assert in_use() == {"arnold": 0, "nuke": 0}
