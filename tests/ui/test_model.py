"""The Monitor's models on synthetic answers (no node): the jobs tree applies the narrowed feed incrementally,
sorts and filters itself without resets; the frames table knows its row count and reads pages for the rows shown."""
from __future__ import annotations

import pytest

from maya_plugin.qt import DISPLAY_ROLE, QtCore
from maya_plugin.ui.columns import (FRAME_ROLE, JOB_NAME, JOB_PRIORITY, JOB_STATUS, JOB_USER, NODE_ROLE,
                                    PROGRESS_ROLE)
from maya_plugin.ui.frames_model import PAGE_ROWS, FrameQuery, FramesModel
from maya_plugin.ui.model import JobTreeModel
from maya_plugin.ui.nodes import KIND_JOB, KIND_SUBJOB

import ui_feeds as F


class Recorder(object):
    """Counts the model's structural signals."""

    def __init__(self, model):
        self.resets = 0
        self.layouts = 0
        self.inserted = []
        self.removed = []
        self.changed = []
        model.modelAboutToBeReset.connect(self._reset)
        model.layoutChanged.connect(self._layout)
        model.rowsInserted.connect(lambda parent, first, last: self.inserted.append((first, last)))
        model.rowsRemoved.connect(lambda parent, first, last: self.removed.append((first, last)))
        model.dataChanged.connect(lambda tl, br, *roles: self.changed.append((tl.row(), br.row())))

    def _reset(self, *args):
        self.resets += 1

    def _layout(self, *args):
        self.layouts += 1


@pytest.fixture
def model(qapp, qtmodeltester):
    m = JobTreeModel(clock=lambda: 1000.0)
    qtmodeltester.check(m)  # keeps checking the model's consistency on every signal it emits
    return m


def names(model):
    return [model.data(model.index(r, JOB_NAME)) for r in range(model.rowCount())]


def test_a_reload_builds_jobs_and_subjobs_without_frames(model):
    model.apply_changes(F.feed({"Job1": F.job({"sub1": {"Queued": 3}, "sub2": {"Complete": 2}}, user="ann")},
                               reload=True))
    assert model.rowCount() == 1
    job = model.index(0, 0)
    assert model.data(job) == "Job1" and model.data(job, NODE_ROLE).kind == KIND_JOB
    assert model.data(model.index(0, JOB_USER)) == "ann"
    assert model.rowCount(job) == 2
    sub1 = model.index(0, 0, job)
    assert model.data(sub1, NODE_ROLE).kind == KIND_SUBJOB and model.parent(sub1) == job
    assert model.rowCount(sub1) == 0  # frames are the frames table's
    assert model.find("Job1", "sub2").total == 2
    assert model.totals["Queued"] == 3 and model.totals["Complete"] == 2


def test_counts_only_heads_merge_and_whole_heads_replace(model):
    model.apply_changes(F.feed({"J": F.job({"s": {"Queued": 4}}, blocklist=["render01"], user="bob")},
                               reload=True))
    rec = Recorder(model)
    counts = F.job({"s": {"Queued": 2, "Rendering": 2}}, status="Rendering")
    counts["counts_only"] = True
    del counts["priority"], counts["submitted"]
    model.apply_changes(F.feed({"J": counts}, revision=2))
    node = model.find("J")
    assert node.status == "Rendering" and node.data["user"] == "bob" and node.data["blocklist"] == ["render01"]
    assert "counts_only" not in node.data
    assert rec.resets == 0 and rec.inserted == [] and rec.removed == [] and (0, 0) in rec.changed
    model.apply_changes(F.feed({"J": F.job({"s": {"Queued": 4}}, user="bob")}, revision=3))
    assert "blocklist" not in model.find("J").data  # a whole head says the blocklist was cleared


def test_new_deleted_and_reshaped_jobs_are_row_insertions_and_removals(model):
    model.apply_changes(F.feed({"A": F.job({"s": {"Queued": 2}})}, reload=True))
    rec = Recorder(model)
    model.apply_changes(F.feed({"B": F.job({"s": {"Queued": 2}})}, revision=2))
    assert rec.inserted == [(1, 1)] and rec.resets == 0
    model.apply_changes(F.feed({}, revision=3, deleted=["A"]))
    assert rec.removed == [(0, 0)] and names(model) == ["B"]
    model.apply_changes(F.feed({"B": F.job({"s": {"Queued": 2}, "t": {"Queued": 1}})}, revision=4))
    assert model.rowCount(model.index(0, 0)) == 2 and rec.resets == 0
    model.apply_changes(F.feed({"C": F.job({"s": {"Queued": 1}})}, revision=5, reload=True))
    assert names(model) == ["C"] and rec.resets == 0


def test_sorting_is_one_key_per_job_and_keeps_expansion(model, qapp, qtbot):
    heads = {"b": F.job({"s": {"Queued": 1}}, priority=10, user="zoe"),
             "a": F.job({"s": {"Failed": 1}}, status="Failed", priority=90, user="al"),
             "c": F.job({"s": {"Rendering": 1}}, status="Rendering", priority=50, user="max")}
    model.apply_changes(F.feed(heads, reload=True))
    assert names(model) == ["a", "b", "c"]
    sub_of_c = QtCore.QPersistentModelIndex(model.index(0, 0, model.index(2, 0)))
    model.sort(JOB_PRIORITY, QtCore.Qt.DescendingOrder)
    assert names(model) == ["a", "c", "b"]
    assert sub_of_c.isValid() and model.node(sub_of_c.parent()).name == "c"
    model.sort(JOB_STATUS, QtCore.Qt.AscendingOrder)
    assert names(model) == ["c", "a", "b"]  # Rendering, Failed, Queued
    model.sort(JOB_USER, QtCore.Qt.AscendingOrder)
    assert names(model) == ["a", "c", "b"]
    # a change of a sort key moves the job a moment later (one layout change for every answer meanwhile), no reset
    model.sort(JOB_STATUS, QtCore.Qt.AscendingOrder)
    rec = Recorder(model)
    done = F.job({"s": {"Complete": 1}}, status="Complete")
    done["counts_only"] = True
    model.apply_changes(F.feed({"c": done}, revision=2))
    rendering = F.job({"s": {"Rendering": 1}}, status="Rendering")
    rendering["counts_only"] = True
    model.apply_changes(F.feed({"b": rendering}, revision=3))
    assert model.resort_pending and rec.layouts == 0
    qtbot.waitUntil(lambda: names(model) == ["b", "a", "c"])
    assert rec.resets == 0 and rec.layouts == 1 and not model.resort_pending


def test_new_jobs_take_their_place_in_the_order_without_a_resort(model):
    model.apply_changes(F.feed({n: F.job({"s": {"Queued": 1}}, priority=p)
                                for n, p in (("b", 20), ("d", 40), ("f", 60))}, reload=True))
    model.sort(JOB_PRIORITY, QtCore.Qt.DescendingOrder)
    assert names(model) == ["f", "d", "b"]
    rec = Recorder(model)
    model.apply_changes(F.feed({n: F.job({"s": {"Queued": 1}}, priority=p)
                                for n, p in (("a", 10), ("e", 50), ("c", 30), ("g", 70), ("h", 45))}, revision=2))
    assert names(model) == ["g", "f", "e", "h", "d", "c", "b", "a"]
    assert rec.layouts == 0 and rec.resets == 0 and sorted(rec.inserted) == [(0, 0), (2, 3), (5, 5), (7, 7)]
    assert [model.find(n).row for n in names(model)] == list(range(8))
    model.sort(JOB_NAME, QtCore.Qt.AscendingOrder)
    model.apply_changes(F.feed({"ca": F.job({"s": {"Queued": 1}})}, revision=3))
    assert names(model) == ["a", "b", "c", "ca", "d", "e", "f", "g", "h"]


def test_a_big_answer_in_slices_counts_its_totals_once_at_the_end(model):
    seen = []
    model.summaryChanged.connect(lambda: seen.append(dict(model.totals)))
    part = F.feed({"a": F.job({"s": {"Queued": 2}})}, reload=True)
    part["partial"] = True
    model.apply_changes(part)
    assert seen == [] and names(model) == ["a"]
    model.apply_changes(F.feed({"b": F.job({"s": {"Queued": 3}})}, revision=1))
    assert len(seen) == 1 and seen[0]["Queued"] == 5


def test_filter_by_status_and_text_removes_and_inserts_rows(model):
    model.apply_changes(F.feed({"shot010": F.job({"s": {"Failed": 1, "Complete": 1}}, status="Failed", user="ann"),
                                "shot020": F.job({"s": {"Complete": 2}}, status="Complete", user="bob"),
                                "turntable": F.job({"s": {"Queued": 1}}, paused=True, status="Paused",
                                                   user="ann")}, reload=True))
    rec = Recorder(model)
    model.set_filter(["Failed"])
    assert names(model) == ["shot010"]
    model.set_filter(["Paused"])
    assert names(model) == ["turntable"]
    model.set_filter([], "ANN")
    assert names(model) == ["shot010", "turntable"]
    model.set_filter([], "shot0")
    assert names(model) == ["shot010", "shot020"]
    # a job that starts to pass while filtered shows up
    failed = F.job({"s": {"Failed": 2}}, status="Failed", user="bob")
    model.set_filter(["Failed"])
    model.apply_changes(F.feed({"shot020": failed}, revision=2))
    assert names(model) == ["shot010", "shot020"]
    model.set_filter([])
    assert len(names(model)) == 3 and rec.resets == 0
    assert len(model.by_name) == 3


def test_a_thousand_jobs_change_without_reset(qapp):
    model = JobTreeModel()
    model.apply_changes(F.feed({"job%04d" % i: F.job({"s": {"Queued": 1000}}, submitted=i) for i in range(1000)},
                               reload=True))
    rec = Recorder(model)
    for batch in range(5):
        heads = {}
        for i in range(batch * 200, batch * 200 + 200):
            head = F.job({"s": {"Queued": 999, "Complete": 1}}, status="Rendering")
            head["counts_only"] = True
            heads["job%04d" % i] = head
        model.apply_changes(F.feed(heads, revision=batch + 2))
    assert rec.resets == 0 and rec.inserted == [] and rec.removed == []
    assert len(rec.changed) <= 5 * (1 + 200)  # one range of job rows a batch, one of each job's subjobs
    assert model.totals["Complete"] == 1000 and model.totals["Total"] == 1000000


def test_an_index_kept_across_a_deletion_is_a_persistent_one_and_finds_nothing(model):
    """As with any Qt model, what must outlive a change is a QPersistentModelIndex: a deleted job's goes invalid,
    and the model finds no node behind it (nor behind an index of another model)."""
    model.apply_changes(F.feed({"A": F.job({"s": {"Queued": 2}}), "B": F.job({"t": {"Queued": 1}})}, reload=True))
    kept = QtCore.QPersistentModelIndex(model.index(0, 0, model.index(0, 0)))
    assert model.node(QtCore.QModelIndex(kept)).name == "s"
    model.apply_changes(F.feed({}, revision=2, deleted=["A"]))
    assert not kept.isValid() and model.node(QtCore.QModelIndex(kept)) is None
    assert model.node(model.index(0, 0)).name == "B"
    assert model.node(JobTreeModel().index(0, 0)) is None


# -- the frames table --------------------------------------------------------------------------------------------
@pytest.fixture
def pages(qapp):
    return F.FakePages(100000)


@pytest.fixture
def frames(qapp, pages):
    return FramesModel(pages.fetch)


def flush(qapp, pages):
    """Let the model ask for what it wants, then answer it (twice: an answer may make it ask for more)."""
    for _ in range(3):
        qapp.processEvents()
        pages.answer_all()
    qapp.processEvents()


def test_a_big_subjob_has_its_rows_at_once_and_reads_only_the_pages_shown(qapp, frames, pages):
    frames.show(FrameQuery("Big", "beauty"), total_hint=100000)
    assert frames.rowCount() == 100000  # from the summary, before any page
    assert frames.data(frames.index(5, 0)) == "..."
    frames.set_visible(0, 40)
    flush(qapp, pages)
    assert [a[1] for a in pages.asked] == [0]
    assert frames.data(frames.index(5, 0)) == "6" and frames.data(frames.index(5, 0), FRAME_ROLE)["number"] == 6
    frames.set_visible(50000, 50040)
    flush(qapp, pages)
    assert [a[1] for a in pages.asked] == [0, 50000 // PAGE_ROWS * PAGE_ROWS]
    assert frames.frame_at(50010)["number"] == 50011
    # scrolling all the way keeps a bounded number of pages
    for first in range(0, 100000, 4000):
        frames.set_visible(first, first + 40)
        flush(qapp, pages)
    assert frames.loaded_rows() <= 25 * PAGE_ROWS


def test_sorting_and_filtering_are_the_nodes(qapp, frames, pages):
    pages.frames[7]["status"] = "Failed"
    pages.frames[9]["status"] = "Failed"
    frames.show(FrameQuery("Big", "beauty"), total_hint=100000)
    frames.set_visible(0, 30)
    flush(qapp, pages)
    resets = []
    frames.modelAboutToBeReset.connect(lambda: resets.append(1))
    frames.sort(1, QtCore.Qt.AscendingOrder)  # Status
    flush(qapp, pages)
    assert pages.asked[-1][0].sort == "status"
    assert [frames.frame_at(r)["number"] for r in range(3)] == [7, 9, 1]
    frames.show(FrameQuery("Big", "beauty", statuses=("Failed",)), total_hint=100000)
    assert frames.rowCount() == 0  # a filtered count is the node's
    flush(qapp, pages)
    assert frames.rowCount() == 2 and frames.frame_at(1)["number"] == 9


def test_feed_changes_merge_into_the_rows_shown(qapp, frames, pages):
    frames.show(FrameQuery("Big", "beauty"), total_hint=100000)
    frames.set_visible(0, 30)
    flush(qapp, pages)
    changed = []
    frames.dataChanged.connect(lambda tl, br, *roles: changed.append((tl.row(), br.row())))
    n = frames.apply_rows(["number", "status", "host"], [[3, "Rendering", "render07"], [4, "Rendering", None],
                                                          [90000, "Complete", None]], revision=2)
    assert n == 2 and changed == [(2, 3)]  # the frame far away is not here: nothing to do
    assert frames.data(frames.index(2, 3)) == "render07"
    assert frames.data(frames.index(2, 1), DISPLAY_ROLE) == "Rendering"
    asked = len(pages.asked)
    qapp.processEvents()
    assert len(pages.asked) == asked  # frame order, no filter: rows stay put, nothing read again
    pages.revision = 3
    frames.refresh()
    flush(qapp, pages)
    assert len(pages.asked) == asked + 1 and frames.frame_at(2)["status"] == "Queued"  # the node's word wins


def test_feed_rows_merge_into_the_rows_shown_by_their_columns(qapp, frames, pages):
    """The narrowed feed sends frames as rows of its frame_columns: a row of a frame shown updates it, column by
    column as named; a row of a frame not on a page here is left alone."""
    frames.show(FrameQuery("Big", "beauty"), total_hint=100000)
    frames.set_visible(0, 30)
    flush(qapp, pages)
    changed = []
    frames.dataChanged.connect(lambda tl, br, *roles: changed.append((tl.row(), br.row())))
    columns = ["status", "number", "host"]  # the order is the answer's, not a fixed one
    n = frames.apply_rows(columns, [["Rendering", 5, "render09"], ["Complete", 90000, "render01"]], revision=2)
    assert n == 1 and changed == [(4, 4)]
    assert frames.frame_at(4)["host"] == "render09" and frames.frame_at(4)["status"] == "Rendering"
    assert frames.row_of(90000) < 0
    assert frames.feed_revision == 2


def test_an_old_answer_for_a_page_asked_again_is_dropped(qapp, frames, pages):
    frames.show(FrameQuery("Big", "beauty"), total_hint=100000)
    frames.set_visible(0, 30)
    qapp.processEvents()
    first = pages.waiting.pop(0)
    frames.refresh()  # asks page 0 again while the first answer is on its way
    qapp.processEvents()
    pages.frames[1]["status"] = "Complete"
    pages.answer_all()
    first[3]({"revision": 1, "total": 100000, "offset": 0, "frames": [F.frame(1, "Queued")]})
    assert frames.frame_at(0)["status"] == "Complete"


def test_progress_of_a_job_comes_from_its_counts(model):
    model.apply_changes(F.feed({"J": F.job({"s": {"Complete": 3, "Queued": 1}})}, reload=True))
    assert model.data(model.index(0, 0), PROGRESS_ROLE) == 75.0


def test_a_reload_that_repeats_the_heads_repaints_and_moves_nothing(model, qtbot):
    heads = {"j%d" % i: F.job({"s": {"Queued": 3, "Complete": i}}, priority=i) for i in range(5)}
    model.apply_changes(F.feed(heads, reload=True))
    model.sort(JOB_PRIORITY, QtCore.Qt.AscendingOrder)
    rec = Recorder(model)
    again = F.feed({n: dict(h) for n, h in heads.items()}, revision=7, reload=True)
    again["jobs"]["j1"] = F.job({"s": {"Queued": 2, "Complete": 2}}, priority=1)
    model.apply_changes(again)  # a reconnect: the summary again, one job moved on
    assert rec.changed == [(1, 1), (0, 0)]  # j1's row, then its subjob's: nothing for the four others
    assert rec.layouts == 0 and rec.inserted == [] and rec.removed == [] and model.revision == 7


def test_rows_changed_in_quick_succession_are_repainted_together(model, qtbot):
    model.apply_changes(F.feed({n: F.job({"s": {"Queued": 2}}) for n in "abc"}, reload=True))
    rec = Recorder(model)
    for revision, name in enumerate("abc", 2):
        head = F.job({"s": {"Queued": 1, "Complete": 1}}, status="Rendering")
        head["counts_only"] = True
        model.apply_changes(F.feed({name: head}, revision=revision))
    assert rec.changed == [(0, 0), (0, 0)]  # the first answer's job row and its subjob, at once
    assert model.totals["Complete"] == 3 and model.find("c").status == "Rendering"  # the data is there already
    qtbot.waitUntil(lambda: len(rec.changed) == 5)
    assert rec.changed[2:] == [(1, 2), (0, 0), (0, 0)]  # the next two in one repaint
    model.apply_changes(F.feed({}, revision=9, deleted=["a"]))
    assert model.totals["Complete"] == 2 and model.totals["Total"] == 4


def test_frames_changed_in_quick_succession_are_repainted_together(qapp, qtbot, frames, pages):
    frames.show(FrameQuery("Big", "beauty"), total_hint=100000)
    frames.set_visible(0, 30)
    flush(qapp, pages)
    changed = []
    frames.dataChanged.connect(lambda tl, br, *roles: changed.append((tl.row(), br.row())))
    frames.apply_rows(["number", "status"], [[1, "Rendering"]], revision=2)
    frames.apply_rows(["number", "status"], [[2, "Rendering"]], revision=3)
    frames.apply_rows(["number", "progress"], [[8, 50]], revision=4)
    frames.apply_rows(["number", "status"], [[3, "Complete"]], revision=4)
    assert changed == [(0, 0)] and frames.frame_at(7)["progress"] == 50  # the first at once, the data at once
    qtbot.waitUntil(lambda: len(changed) == 3)
    assert changed[1:] == [(1, 2), (7, 7)]
