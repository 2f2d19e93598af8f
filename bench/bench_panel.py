"""Figure 6: the Monitor panel's model taking batches of 1,000 frame changes on a 100,000-frame job, offscreen.

The model sits behind the sorting/filtering proxy and a tree view with the job expanded, as in the panel. Baseline:
the same batches merged into plain Python dictionaries (the floor of touching 1,000 frames), and the 16.7 ms of one
frame at 60 Hz, the budget for an update that does not stutter.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _frame(n: int, status: str) -> dict[str, Any]:
    return {"status": status, "host": "render%02d" % (n % 40) if status != "Queued" else None,
            "pid": 1000 + n if status != "Queued" else None, "command": "render -r mr -v 5 -s %d -e %d s.mb" % (n, n),
            "stdout": "", "attempts": 1 if status != "Queued" else 0, "progress": 100.0 if status == "Complete" else 0,
            "started": 10.0 if status != "Queued" else None, "finished": 20.0 if status == "Complete" else None,
            "exit_code": 0 if status == "Complete" else None, "error": None}


def _job(frames: dict[int, dict], only: range | None, revision_counts: dict[str, int]) -> dict[str, Any]:
    counts = dict(revision_counts)
    status = "Rendering" if counts.get("rendering") else ("Complete" if counts["complete"] == counts["total"]
                                                          else "Queued")
    shown = frames if only is None else {n: frames[n] for n in only}
    return {"status": status, "frames": counts, "priority": 50, "max_attempts": 3, "paused": False,
            "submitted": 1.0, "frame_timeout": None,
            "subjobs": {"beauty": {"status": status, "complete": counts["complete"], "total": counts["total"],
                                   "failed": 0, "frames": shown}}}


def run(frames: int = 100_000, batch: int = 1_000, batches: int = 30) -> dict[str, float]:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from maya_plugin.qt import QtCore, QtWidgets
    from maya_plugin.ui.model import JobTreeModel
    from maya_plugin.ui.proxy import StatusFilterProxy

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    data = {n: _frame(n, "Queued") for n in range(1, frames + 1)}
    counts = {"complete": 0, "total": frames, "failed": 0, "queued": frames, "rendering": 0, "cancelled": 0}
    model = JobTreeModel()
    resets = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))
    t0 = time.perf_counter()
    model.apply_changes({"revision": 1, "reload": True, "jobs": {"Big": _job(data, None, counts)}, "deleted": []})
    load = time.perf_counter() - t0
    proxy = StatusFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(0, QtCore.Qt.AscendingOrder)
    view = QtWidgets.QTreeView()
    view.setModel(proxy)
    view.setUniformRowHeights(True)
    view.resize(900, 700)
    view.show()
    view.expandAll()
    app.processEvents()

    times, floors = [], []
    plain: dict[int, dict] = {n: dict(f) for n, f in data.items()}
    revision = 1
    for b in range(batches):
        start = (b * batch) % frames + 1
        numbers = range(start, min(start + batch, frames + 1))
        status = "Rendering" if b % 2 == 0 else "Complete"
        changed = {n: _frame(n, status) for n in numbers}
        data.update(changed)
        revision += 1
        answer = {"revision": revision, "reload": False, "jobs": {"Big": _job(data, numbers, counts)},
                  "deleted": []}
        t0 = time.perf_counter()
        for n, f in changed.items():
            plain[n].update(f)
        floors.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.apply_changes(answer)
        app.processEvents()  # the view repaints what changed, as it would between two feed answers
        times.append(time.perf_counter() - t0)
    view.close()
    return {"frames": frames, "batch": batch, "load_s": load, "ms_per_batch": statistics.median(times) * 1000,
            "ms_per_batch_max": max(times) * 1000, "floor_ms": statistics.median(floors) * 1000,
            "resets": len(resets)}


def rows(_tmp: str, quick: bool) -> list[dict]:
    r = run(frames=10_000 if quick else 100_000)
    return [{"figure": "6. panel: %d frame changes on a %d-frame job (median, max)" % (r["batch"], r["frames"]),
             "value": "%.1f ms, %.1f ms; %d resets" % (r["ms_per_batch"], r["ms_per_batch_max"], r["resets"]),
             "baseline": "plain dict merge %.2f ms; 60 Hz frame 16.7 ms" % r["floor_ms"],
             "ratio": r["ms_per_batch"] / 16.7, "target": "no reset", "ok": r["resets"] == 0}]


if __name__ == "__main__":
    print(run())
