"""Figure 6: the Monitor as a wrangler sees it, through the real widget on a real node, offscreen.

A farm of 1,000,000 frames (one 100,000-frame job "big" and 900 jobs of 1,000 frames) on a node that renders nothing
itself, with simulated render hosts (``bench/sim_workers.py``, another process) finishing frames all along. The
panel runs in a child process of its own (``--drive new|old``), with a 10 ms QTimer recording every gap of its event
loop; the worst gap of each step is the stall a wrangler feels (inside Maya, Maya freezes for it). Steps: launch
(and the time to the first rows), expand the big job and open its subjob, click a frame, scroll, sort every column
both ways (jobs and frames), select all, cancel and retry the big job, a node restart and the reconnect (bytes on the
wire, counted at the client's transport), live updates; then the panel's memory (RSS of its process). And, on the
node: a watched changes poll with 1,000 changed frames.

``--drive old`` runs the panel of before issue 11 (``OLD_PANEL``, read from git into a temporary folder) through the
same steps, on the same node; its sorts are those of the Status and Name columns only (each costs it many
seconds), and a step it cannot finish within ``STEP_TIMEOUT`` is reported as such.

To iterate on the panel: ``python bench/bench_panel.py --no-old`` skips the old panel; ``--farm DIR`` keeps the
node's data folder in DIR and, when DIR already holds a farm, uses it rather than building one again (its frames
have gone on finishing; the published figures come from a fresh farm). With ``PYFARM_BENCH_SAMPLE=FILE`` the panel
process records, from a thread of its own, the GUI thread's Python stack whenever the event loop has not ticked for
``SAMPLE_GAP_MS``, and writes the commonest stacks of each step to FILE (what a stall is made of). The panel
process first shows a plain window (``warm_qt``), as Maya has before it opens the panel; ``PYFARM_BENCH_COLD=1``
times the launch of a fresh process instead.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_PANEL = "91e14c2"  # the last commit with the panel that held every frame
STEP_TIMEOUT = 240.0
TICK_MS = 10
SAMPLE_GAP_MS = 25


# -- the farm (parent process) -------------------------------------------------------------------------------------
def build_farm(session: Any, url: str, headers: dict, big: int, jobs: int, per: int) -> None:
    def frames(n: int, scene: str) -> dict:
        return {str(i): {"command": "render -r arnold -s %d -e %d /shows/x/%s.mb" % (i, i, scene)}
                for i in range(1, n + 1)}

    body = {"big": {"subjobs": {"beauty": {"frames": frames(big, "big")}}, "user": "wrangler", "priority": 60,
                    "scene": "/shows/x/big.mb", "renderer": "arnold"}}
    session.post(url + "/api/jobs", data=json.dumps(body), headers=headers).raise_for_status()
    batch: dict = {}
    for j in range(jobs):
        batch["shot%03d_v001" % j] = {"subjobs": {"masterLayer": {"frames": frames(per, "shot%03d" % j)}},
                                      "user": "artist%02d" % (j % 40), "scene": "/shows/x/shot%03d.mb" % j}
        if len(batch) == 50 or j == jobs - 1:
            session.post(url + "/api/jobs", data=json.dumps(batch), headers=headers).raise_for_status()
            batch = {}


def watched_poll(session: Any, url: str, headers: dict, spread: bool) -> Dict[str, Any]:
    """Median of 20 GETs of a watched changes poll with 1,000 changed frames (in the watched subjob, or spread over
    100 jobs of which one is watched): the round trip, what the node says the answer cost it (its Server-Timing),
    and GET /api/health's round trip beside them (the floor of a request to the node, on this machine, now)."""
    rev = session.get(url + "/api/changes?since=0&view=summary", headers=headers).json()["revision"]
    if spread:
        for j in range(100):
            session.post(url + "/api/jobs/shot%03d_v001/retry" % j, headers=headers,
                         data=json.dumps({"subjob": "masterLayer", "frames": list(range(1, 11))}))
    else:
        session.post(url + "/api/jobs/big/retry", headers=headers,
                     data=json.dumps({"subjob": "beauty", "frames": list(range(1, 1001))}))
    path = url + "/api/changes?since=%d&view=summary&watch=%s" % (rev, "shot000_v001/masterLayer" if spread
                                                                 else "big/beauty")
    times, health, node = [], [], []
    body = b""
    for _ in range(20):
        t0 = time.perf_counter()
        r = session.get(path, headers=headers)
        body = r.content
        times.append(time.perf_counter() - t0)
        node.append(float(r.headers["Server-Timing"].split("dur=")[1]) / 1000)
        t0 = time.perf_counter()
        session.get(url + "/api/health")
        health.append(time.perf_counter() - t0)
    answer = json.loads(body)
    sent = sum(len(s.get("frame_rows") or ()) for j in answer["jobs"].values() for s in j["subjobs"].values())
    return {"ms": statistics.median(times) * 1000, "health_ms": statistics.median(health) * 1000,
            "node_ms": statistics.median(node) * 1000,
            "bytes": len(body), "jobs": len(answer["jobs"]), "frames_sent": sent}


def start_sims(nd: Any, workers: int) -> subprocess.Popen:
    tokens = [t for t in (getattr(nd, "worker_token", None), nd.token) if t]
    for token in tokens:
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "sim_workers.py"), nd.url, token,
                                 "--workers", str(workers), "--frames", "100000000", "--timeout", "3600"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        if line.strip() == "ready":
            return proc
        proc.kill()
        proc.wait()
    raise RuntimeError("the simulated hosts could not join the node")


def stop(proc: Optional[subprocess.Popen]) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()


def run_driver(which: str, nd: Any, workers: int, python: str, pythonpath: str) -> Dict[str, Any]:
    """Run ``--drive which`` in a child process; restart the node (and the hosts) when it says RESTART."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=pythonpath)
    sims = start_sims(nd, workers)
    done_before, t_before = _complete(nd), time.perf_counter()
    child = subprocess.Popen([python, os.path.abspath(__file__), "--drive", which, nd.url, nd.token],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    result: Dict[str, Any] = {}
    try:
        for line in child.stdout:
            line = line.strip()
            if line == "RESTART":
                stop(sims)
                nd.stop()
                nd.start()
                sims = start_sims(nd, workers)
                child.stdin.write("RESTARTED\n")
                child.stdin.flush()
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        child.wait()
        result["frames_per_s"] = (_complete(nd) - done_before) / (time.perf_counter() - t_before)
    finally:
        stop(child)
        stop(sims)
    return result


def _complete(nd: Any) -> int:
    return sum(j["frames"]["complete"] for j in nd.client(timeout=120).summary()["jobs"].values())


# -- the panel (child process) ---------------------------------------------------------------------------------------
class Stalls(object):
    """A 10 ms timer on the GUI thread: the worst gap between two of its ticks in each step."""

    def __init__(self, QtCore: Any) -> None:
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.worst = 0.0
        self.steps: Dict[str, float] = {}
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    sampler: Any = None
    step = 0

    def begin(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.step += 1
        if self.sampler is not None:
            self.sampler.step = "step %d" % self.step

    def end(self, name: str) -> float:
        self._tick()
        self.steps[name] = max(self.steps.get(name, 0.0), self.worst * 1000)
        if self.sampler is not None and self.sampler.step in self.sampler.counts:
            self.sampler.counts[name + " (%.0f ms)" % (self.worst * 1000)] = self.sampler.counts.pop(self.sampler.step)
        return self.steps[name]


class GapSampler(object):
    """Every 2 ms, when the GUI thread's event loop has not ticked for ``SAMPLE_GAP_MS``, the GUI thread's Python
    stack, counted per step (a stack in C++ with the GIL released still shows the Python call that went there)."""

    def __init__(self, stalls: Stalls, path: str) -> None:
        import collections
        self.stalls = stalls
        self.path = path
        self.step = "before"
        self.counts: Dict[str, Any] = collections.defaultdict(collections.Counter)
        self.main = threading.get_ident()
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            if time.perf_counter() - self.stalls.last < SAMPLE_GAP_MS / 1000.0:
                continue
            frame = sys._current_frames().get(self.main)
            stack = []
            while frame is not None and len(stack) < 30:
                code = frame.f_code
                stack.append("%s:%s:%d" % (os.path.basename(code.co_filename), code.co_name, frame.f_lineno))
                frame = frame.f_back
            self.counts[self.step][tuple(stack)] += 1

    def dump(self) -> None:
        self._stop.set()
        with open(self.path, "w") as f:
            for step, counter in self.counts.items():
                f.write("=== %s: %d samples\n" % (step, sum(counter.values())))
                for stack, n in counter.most_common(12):
                    f.write("  %d x\n" % n)
                    for line in stack[:18]:
                        f.write("      %s\n" % line)


class Wire(object):
    """Counts the bytes of every answer the client's transport receives."""

    def __init__(self, transport: Any) -> None:
        self.inner = transport
        self.bytes = 0
        self._lock = threading.Lock()

    def send(self, *args: Any, **kwargs: Any) -> Any:
        r = self.inner.send(*args, **kwargs)
        with self._lock:
            self.bytes += len(r.body) + sum(len(k) + len(v) + 4 for k, v in r.headers.items())
        return r

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def warm_qt(QtWidgets: Any, app: Any) -> None:
    """Show, paint and close a plain window (a toolbar, a line edit, a tree, tabs), as Maya has done long before its
    shelf opens the panel: Qt's style, fonts and first widgets are loaded then, not in the panel's launch. (In a
    fresh process they add 10-15 ms to the first widgets made; ``PYFARM_BENCH_COLD=1`` leaves them in.)"""
    window = QtWidgets.QMainWindow()
    window.addToolBar("tools").addAction("action")
    body = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(body)
    for widget in (QtWidgets.QLineEdit("text"), QtWidgets.QTreeView(), QtWidgets.QTableView(), QtWidgets.QTabWidget(),
                   QtWidgets.QPlainTextEdit("log")):
        layout.addWidget(widget)
    window.setCentralWidget(body)
    window.show()
    app.processEvents()
    window.close()
    app.processEvents()


def drive(which: str, url: str, token: str) -> Dict[str, Any]:
    from maya_plugin.farm_client import FarmClient
    from maya_plugin.qt import QtCore, QtWidgets, qt_exec
    from maya_plugin.ui.monitor import MonitorPanel

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench"])
    if not os.environ.get("PYFARM_BENCH_COLD"):
        warm_qt(QtWidgets, app)
    stalls = Stalls(QtCore)
    if os.environ.get("PYFARM_BENCH_SAMPLE"):
        stalls.sampler = GapSampler(stalls, os.environ["PYFARM_BENCH_SAMPLE"])
    restarted = threading.Event()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "RESTARTED":
                restarted.set()

    threading.Thread(target=read_stdin, daemon=True).start()
    timeouts: List[str] = []

    def until(cond: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT) -> bool:
        """Run the event loop (as a user's session would) until ``cond()``."""
        loop = QtCore.QEventLoop()
        deadline = time.perf_counter() + timeout
        poll = QtCore.QTimer()
        poll.setInterval(5)

        def check() -> None:
            if cond() or time.perf_counter() > deadline:
                loop.quit()
        poll.timeout.connect(check)
        poll.start()
        if not cond():
            qt_exec(loop)
        poll.stop()
        ok = bool(cond())
        if not ok:
            timeouts.append(what)
        return ok

    def settle(seconds: float) -> None:
        end = time.perf_counter() + seconds
        until(lambda: time.perf_counter() >= end, "settle", seconds + 5)

    client = FarmClient(url, token, timeout=600)
    wire = Wire(client._transport)
    client._transport = wire
    new = which == "new"
    figures: Dict[str, Any] = {}

    # the floor: the worst gap of an idle event loop in this process, on this machine, now
    stalls.begin()
    settle(3.0)
    stalls.end("idle event loop (the machine's floor)")

    stalls.begin()
    t0 = time.perf_counter()
    panel = MonitorPanel(client=client, feed_wait=20.0, hosts_poll_ms=5000)
    panel.resize(1200, 900)
    panel.show()
    until(lambda: panel.model.rowCount() > 0, "first rows")
    app.processEvents()  # the first paint of those rows
    figures["first_rows_s"] = time.perf_counter() - t0
    figures["launch_bytes"] = wire.bytes
    settle(2.0)
    stalls.end("launch")

    def frames_ready(row: int = 0) -> bool:
        if new:
            return panel.frames.model.frame_at(row) is not None
        return True

    stalls.begin()
    panel.select("big", "beauty")
    until(frames_ready, "open the big subjob")
    settle(0.5)
    stalls.end("expand and open the big subjob")

    stalls.begin()
    if new:
        panel.frames.view.setCurrentIndex(panel.frames.model.index(3, 0))
    else:
        panel.select("big", "beauty", [4])
    settle(0.5)
    stalls.end("click a frame")

    stalls.begin()
    if new:
        view = panel.frames.view
        middle = panel.frames.model.rowCount() // 2
        view.scrollTo(panel.frames.model.index(middle, 0))
        until(lambda: frames_ready(middle), "scroll")
        view.scrollToBottom()
        until(lambda: frames_ready(panel.frames.model.rowCount() - 1), "scroll")
        view.scrollToTop()
        until(frames_ready, "scroll")
    else:
        panel.view.scrollToBottom()
        settle(0.2)
        panel.view.scrollToTop()
    settle(0.3)
    stalls.end("scroll the big subjob")

    stalls.begin()
    orders = (QtCore.Qt.AscendingOrder, QtCore.Qt.DescendingOrder)
    columns = range(panel.model.columnCount()) if new else (1, 0)
    for column in columns:
        for order in orders:
            panel.view.sortByColumn(column, order)
            app.processEvents()
    panel.view.sortByColumn(0, QtCore.Qt.AscendingOrder)
    settle(0.3)
    stalls.end("sort the jobs, each column both ways")
    if new:
        stalls.begin()
        for column in range(panel.frames.model.columnCount()):
            for order in orders:
                panel.frames.view.sortByColumn(column, order)
                until(frames_ready, "sort frames")
        panel.frames.view.sortByColumn(0, QtCore.Qt.AscendingOrder)
        until(frames_ready, "sort frames")
        settle(0.3)
        stalls.end("sort the big subjob's frames, each column both ways")

    stalls.begin()
    if new:
        panel.frames.view.setFocus()
        panel.select_all_frames()
        figures["selected"] = panel.frames.selected_count()
    else:
        panel.view.selectAll()
    settle(0.5)
    stalls.end("select all frames of the big subjob")

    big = lambda: panel.model.find("big")  # noqa: E731
    count = (lambda s: big().count(s)) if new else (lambda s: big().counts.get(s, 0))  # noqa: E731

    stalls.begin()
    panel.view.clearSelection()
    panel.select("big")
    panel.cancel_selected()
    size = big().data["frames"]["total"] if new else len(big().subjobs[0].frames)
    until(lambda: count("Cancelled") > size // 2, "cancel")
    if new:
        until(lambda: (panel.frames.model.frame_at(0) or {}).get("status") in ("Cancelled", "Complete"), "cancel")
    settle(1.0)
    stalls.end("cancel the 100,000-frame job")

    stalls.begin()
    panel.select("big")
    panel.retry_failed()
    until(lambda: count("Cancelled") == 0, "retry")
    settle(1.0)
    stalls.end("retry the 100,000-frame job")

    stalls.begin()
    settle(5.0)
    stalls.end("live: frames finishing, the big subjob open")

    stalls.begin()
    print("RESTART", flush=True)
    until(lambda: panel.banner.isVisible() or restarted.is_set(), "the banner")
    until(restarted.is_set, "the node to restart")
    before = wire.bytes
    t0 = time.perf_counter()
    applied = [0]
    panel.model.summaryChanged.connect(lambda: applied.__setitem__(0, applied[0] + 1))
    until(lambda: panel.reachable and not panel.banner.isVisible() and applied[0] > 0, "the reconnect")
    until(frames_ready, "the page after the reconnect")
    figures["reconnect_s"] = time.perf_counter() - t0
    settle(1.0)
    figures["reconnect_bytes"] = wire.bytes - before
    stalls.end("node restart and reconnect")

    try:
        import psutil
        figures["rss_mb"] = psutil.Process().memory_info().rss / 2 ** 20
    except ImportError:
        figures["rss_mb"] = None
    figures["stalls_ms"] = stalls.steps
    figures["timeouts"] = timeouts
    if stalls.sampler is not None:
        stalls.sampler.dump()
    watcher = panel.watcher
    panel.shutdown()
    if watcher is not None:
        watcher.join(5)
    return figures


# -- the figure ----------------------------------------------------------------------------------------------------
def old_tree(tmp: str) -> str:
    folder = os.path.join(tmp, "old-panel")
    os.makedirs(folder)
    archive = subprocess.run(["git", "-C", ROOT, "archive", OLD_PANEL, "maya_plugin"], check=True,
                             stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder


def run(tmp: str, quick: bool = False, old: bool = True, workers: int = 4, farm: Optional[str] = None
        ) -> Dict[str, Any]:
    import requests

    sys.path.insert(0, ROOT)
    from tests.conftest import NodeProcess
    big, jobs, per = (10000, 90, 1000) if quick else (100000, 900, 1000)
    built = farm is not None and os.path.exists(os.path.join(farm, "farm.sqlite"))
    if farm is not None:
        os.makedirs(farm, exist_ok=True)
    nd = NodeProcess(farm or tempfile.mkdtemp(dir=tmp), slots=0, args=["--backup-interval", "0"]).start()
    out: Dict[str, Any] = {"frames": big + jobs * per}
    try:
        session = requests.Session()
        headers = {"Authorization": "Bearer " + nd.token}
        t0 = time.perf_counter()
        if not built:
            build_farm(session, nd.url, headers, big, jobs, per)
        out["build_s"] = time.perf_counter() - t0
        out["poll_watched"] = watched_poll(session, nd.url, headers, spread=False)
        out["poll_spread"] = watched_poll(session, nd.url, headers, spread=True)
        t0 = time.perf_counter()
        session.post(nd.url + "/api/jobs/big/cancel", headers=headers).raise_for_status()
        out["node_cancel_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        session.post(nd.url + "/api/jobs/big/retry", headers=headers).raise_for_status()
        out["node_retry_s"] = time.perf_counter() - t0
        out["summary_bytes"] = len(session.get(nd.url + "/api/summary", headers=headers).content)
        python = sys.executable
        out["new"] = run_driver("new", nd, workers, python, ROOT)
        if old:
            out["old"] = run_driver("old", nd, workers, python, old_tree(tmp) + os.pathsep + ROOT)
        body = {"gone": {"subjobs": {"s": {"frames": {str(i): {"command": "render -s %d -e %d g.mb" % (i, i)}
                                                      for i in range(1, big + 1)}}}}}
        session.post(nd.url + "/api/jobs", data=json.dumps(body), headers=headers).raise_for_status()
        t0 = time.perf_counter()
        session.delete(nd.url + "/api/jobs/gone", headers=headers).raise_for_status()
        out["node_delete_s"] = time.perf_counter() - t0
    finally:
        nd.stop()
    return out


def rows(tmp: str, quick: bool) -> List[dict]:
    r = run(tmp, quick)
    new, old = r["new"], r.get("old") or {}
    n = r["frames"]

    idle = "idle event loop (the machine's floor)"

    def worst(f: Dict[str, Any]) -> float:
        return max([v for k, v in (f.get("stalls_ms") or {}).items() if k != idle] or [float("nan")])

    def old_step(step: str) -> str:
        value = (old.get("stalls_ms") or {}).get(step)
        return "today's panel %s" % ("-" if value is None else "%.0f ms" % value)

    out = [{"figure": "6. panel, %d frames: first rows after launch" % n, "value": "%.2f s" % new["first_rows_s"],
            "baseline": "today's panel %s" % ("%.1f s" % old["first_rows_s"] if "first_rows_s" in old else "-"),
            "ratio": None, "target": "< 1 s", "ok": new["first_rows_s"] < 1}]
    for step, value in new["stalls_ms"].items():
        out.append({"figure": "6. panel stall: %s" % step, "value": "%.0f ms" % value, "baseline": old_step(step),
                    "ratio": None, "target": "-" if step == idle else "< 50 ms", "ok": None if step == idle
                    else value < 50})
    out.append({"figure": "6. panel: worst stall through all of it", "value": "%.0f ms" % worst(new),
                "baseline": "today's panel %.0f ms" % worst(old) if old else "-", "ratio": None,
                "target": "< 50 ms", "ok": worst(new) < 50})
    out.append({"figure": "6. panel: frames finishing during the session", "value": "%.0f frames/s" % new.get(
        "frames_per_s", 0), "baseline": "today's panel's session %.0f frames/s" % old.get("frames_per_s", 0),
        "ratio": None, "target": "-", "ok": None})
    out.append({"figure": "6. panel: reconnect after a node restart", "value": "%.0f KB in %.1f s" % (
        new["reconnect_bytes"] / 1024, new["reconnect_s"]), "baseline": "today's panel %s" % (
        "%.1f MB" % (old["reconnect_bytes"] / 2 ** 20) if "reconnect_bytes" in old else "-"),
        "ratio": None, "target": "< 1 MB", "ok": new["reconnect_bytes"] < 2 ** 20})
    out.append({"figure": "6. panel: memory (RSS of its process)", "value": "%.0f MB" % new["rss_mb"],
                "baseline": "today's panel %s" % ("%.0f MB" % old["rss_mb"] if old.get("rss_mb") else "-"),
                "ratio": None, "target": "< 300 MB", "ok": new["rss_mb"] < 300})
    for key, what in (("poll_watched", "in the watched subjob"), ("poll_spread", "over 100 jobs, one watched")):
        p = r[key]
        out.append({"figure": "6. node: watched changes poll, 1,000 changed frames %s" % what,
                    "value": "%.2f ms on the node (round trip %.2f ms), %.0f KB" % (p["node_ms"], p["ms"],
                                                                                     p["bytes"] / 1024),
                    "baseline": "GET /api/health %.2f ms" % p["health_ms"], "ratio": p["ms"] / p["health_ms"],
                    "target": "< 5 ms", "ok": p["node_ms"] < 5})
    out.append({"figure": "6. node: cancel / retry / delete of a 100,000-frame job",
                "value": "%.2f s / %.2f s / %.2f s" % (r["node_cancel_s"], r["node_retry_s"], r["node_delete_s"]),
                "baseline": "summary of the farm %.0f KB" % (r["summary_bytes"] / 1024), "ratio": None,
                "target": "-", "ok": None})
    if new.get("timeouts") or old.get("timeouts"):
        out.append({"figure": "6. steps that did not finish in %d s" % STEP_TIMEOUT,
                    "value": ", ".join(new.get("timeouts") or ["none"]),
                    "baseline": "today's panel: %s" % ", ".join(old.get("timeouts") or ["none"]), "ratio": None,
                    "target": "none", "ok": not new.get("timeouts")})
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        print("RESULT " + json.dumps(drive(sys.argv[2], sys.argv[3], sys.argv[4])), flush=True)
    else:
        with tempfile.TemporaryDirectory(prefix="pyfarm-bench-panel-") as tmp_dir:
            farm_dir = sys.argv[sys.argv.index("--farm") + 1] if "--farm" in sys.argv else None
            print(json.dumps(run(tmp_dir, quick="--quick" in sys.argv, old="--no-old" not in sys.argv,
                                 farm=farm_dir), indent=1))
