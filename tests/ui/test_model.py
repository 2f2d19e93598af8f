"""The Monitor's model applies the changes feed incrementally, never resetting (synthetic batches, no node)."""
from __future__ import annotations

import pytest

from maya_plugin.qt import DISPLAY_ROLE, QtCore
from maya_plugin.ui.model import (COL_ELAPSED, COL_HOST, COL_NAME, COL_STATUS, NODE_ROLE, PROGRESS_ROLE,
                                  JobTreeModel)
from maya_plugin.ui.nodes import KIND_FRAME, KIND_JOB, KIND_SUBJOB
from maya_plugin.ui.proxy import StatusFilterProxy

import ui_feeds as F


class Recorder(object):
    """Counts the model's structural signals."""

    def __init__(self, model):
        self.resets = 0
        self.inserted = []
        self.removed = []
        self.changed = []
        model.modelAboutToBeReset.connect(self._reset)
        model.layoutAboutToBeChanged.connect(self._reset)
        model.rowsInserted.connect(lambda parent, first, last: self.inserted.append((first, last)))
        model.rowsRemoved.connect(lambda parent, first, last: self.removed.append((first, last)))
        model.dataChanged.connect(lambda tl, br, *roles: self.changed.append((tl.row(), br.row())))

    def _reset(self, *args):
        self.resets += 1


def feed(jobs, revision=1, reload=False, deleted=()):
    return {"revision": revision, "reload": reload, "jobs": jobs, "deleted": list(deleted)}


@pytest.fixture
def model(qapp, qtmodeltester):
    m = JobTreeModel(clock=lambda: 1000.0)
    qtmodeltester.check(m)  # keeps checking the model's consistency on every signal it emits
    return m


def test_reload_builds_three_levels(model):
    subs = {"sub1": F.frames(1, 3), "sub2": F.frames(10, 11)}
    model.apply_changes(feed({"Job1": F.job(subs)}, reload=True))
    assert model.rowCount() == 1
    job = model.index(0, 0)
    assert model.data(job) == "Job1"
    assert model.data(job, NODE_ROLE).kind == KIND_JOB
    assert model.rowCount(job) == 2
    sub1 = model.index(0, 0, job)
    assert model.data(sub1, NODE_ROLE).kind == KIND_SUBJOB
    assert [model.data(model.index(r, COL_NAME, sub1)) for r in range(3)] == ["1", "2", "3"]
    frame = model.index(2, 0, sub1)
    assert model.data(frame, NODE_ROLE).kind == KIND_FRAME
    assert model.parent(frame) == sub1
    assert model.parent(sub1) == job
    assert model.totals["Queued"] == 5


def test_frame_change_is_data_changed_not_reset(model):
    subs = {"sub1": F.frames(1, 3)}
    model.apply_changes(feed({"Job1": F.job(subs)}, reload=True))
    rec = Recorder(model)
    subs["sub1"][2] = F.frame(2, "Rendering", host="render01", pid=4242, started=990.0, attempts=1)
    model.apply_changes(feed({"Job1": F.job(subs, only={"sub1": [2]})}, revision=2))
    assert rec.resets == 0 and rec.inserted == [] and rec.removed == []
    assert (1, 1) in rec.changed  # the frame's row
    frame = model.find("Job1", "sub1", 2)
    index = model.index_of(frame)
    assert model.data(index.sibling(index.row(), COL_STATUS)) == "Rendering"
    assert model.data(index.sibling(index.row(), COL_HOST)) == "render01"
    assert model.data(index.sibling(index.row(), COL_ELAPSED)) == "10s"
    assert model.totals["Rendering"] == 1 and model.totals["Queued"] == 2
    assert model.hosts_busy() == {"render01"}


def test_new_and_deleted_jobs_insert_and_remove_rows(model):
    model.apply_changes(feed({"A": F.job({"s": F.frames(1, 2)}, submitted=1)}, reload=True))
    rec = Recorder(model)
    model.apply_changes(feed({"B": F.job({"s": F.frames(1, 2)}, submitted=2)}, revision=2))
    assert rec.inserted == [(1, 1)] and rec.resets == 0
    model.apply_changes(feed({}, revision=3, deleted=["A"]))
    assert rec.removed == [(0, 0)] and rec.resets == 0
    assert model.rowCount() == 1 and model.data(model.index(0, 0)) == "B"
    assert model.totals["Queued"] == 2


def test_reload_is_applied_as_a_difference(model):
    model.apply_changes(feed({"A": F.job({"s": F.frames(1, 2)}), "B": F.job({"s": F.frames(1, 2)})}, reload=True))
    rec = Recorder(model)
    done = {"s": F.frames(1, 2, "Complete")}
    model.apply_changes(feed({"B": F.job(done)}, revision=9, reload=True))
    assert rec.resets == 0
    assert rec.removed == [(0, 0)]  # A is gone
    assert model.rowCount() == 1
    b = model.index(0, 0)
    assert model.data(b.sibling(0, COL_STATUS)) == "Complete"
    assert model.data(b, PROGRESS_ROLE) == 100.0


def test_a_job_whose_shape_changed_is_replaced(model):
    model.apply_changes(feed({"A": F.job({"s": F.frames(1, 2)})}, reload=True))
    rec = Recorder(model)
    model.apply_changes(feed({"A": F.job({"s": F.frames(1, 5)})}, revision=2, reload=True))
    assert rec.resets == 0 and rec.removed == [(0, 0)] and rec.inserted == [(0, 0)]
    assert model.rowCount(model.index_of(model.find("A", "s"))) == 5


def test_stale_index_finds_nothing(model):
    model.apply_changes(feed({"A": F.job({"s": F.frames(1, 2)})}, reload=True))
    stale = model.index(0, 0, model.index(0, 0, model.index(0, 0)))
    model.apply_changes(feed({}, revision=2, deleted=["A"]))
    assert model.node(stale) is None
    assert model.data(stale) is None


def test_ten_thousand_frames_update_without_reset(qapp):
    model = JobTreeModel()  # no model tester here: it walks all 10,000 rows on every signal
    subs = {"beauty": F.frames(1, 10000)}
    model.apply_changes(feed({"Big": F.job(subs)}, reload=True))
    rec = Recorder(model)
    proxy = StatusFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(COL_NAME, QtCore.Qt.AscendingOrder)
    proxy.modelAboutToBeReset.connect(rec._reset)
    revision = 1
    for batch in range(20):  # 20 batches of 500 frames going Queued -> Rendering -> Complete
        numbers = range(batch * 500 + 1, batch * 500 + 501)
        for status in ("Rendering", "Complete"):
            for n in numbers:
                subs["beauty"][n] = F.frame(n, status, host="render%02d" % (n % 8), pid=n,
                                            started=900.0, finished=950.0 if status == "Complete" else None)
            revision += 1
            model.apply_changes(feed({"Big": F.job(subs, only={"beauty": numbers})}, revision=revision))
    assert rec.resets == 0 and rec.inserted == [] and rec.removed == []
    assert model.totals["Complete"] == 10000 and not model.rendering
    # contiguous changed rows were merged: one range per batch and level, not 500 signals
    assert len(rec.changed) <= 20 * 2 * 3
    big = model.index(0, 0)
    assert model.data(big, PROGRESS_ROLE) == 100.0
    assert proxy.rowCount(proxy.index(0, 0, proxy.index(0, 0))) == 10000


def test_status_filter_uses_counts(model):
    subs = {"a": F.frames(1, 3), "b": F.frames(1, 3, "Complete")}
    subs["a"][2] = F.frame(2, "Failed")
    model.apply_changes(feed({"J": F.job(subs), "K": F.job({"x": F.frames(1, 2, "Complete")})}, reload=True))
    proxy = StatusFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_statuses({"Failed"})
    assert proxy.rowCount() == 1
    j = proxy.index(0, 0)
    assert proxy.data(j, DISPLAY_ROLE) == "J"
    assert proxy.rowCount(j) == 1  # only subjob a holds a failed frame
    a = proxy.index(0, 0, j)
    assert proxy.rowCount(a) == 1
    assert proxy.data(proxy.index(0, 0, a)) == "2"
    proxy.set_statuses(())
    assert proxy.rowCount() == 2


def test_tick_refreshes_elapsed_of_rendering_frames(qapp):
    now = [1000.0]
    model = JobTreeModel(clock=lambda: now[0])
    subs = {"s": F.frames(1, 3)}
    subs["s"][3] = F.frame(3, "Rendering", host="h", pid=1, started=995.0)
    model.apply_changes(feed({"J": F.job(subs)}, reload=True))
    rec = Recorder(model)
    now[0] = 1065.0
    model.tick()
    assert rec.changed == [(2, 2)]
    index = model.index_of(model.find("J", "s", 3), COL_ELAPSED)
    assert model.data(index) == "1:10"
