#!/usr/bin/env python3
"""Make docs/images/monitor.png: the Monitor panel, offscreen, watching a real farm node render a studio queue.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_panel.py [--out docs/images/monitor.png]

It starts ``farm-node serve`` on 127.0.0.1 (a free port, a temporary data folder, the stand-in renderer as ``render``,
two slots, three seconds a frame, frame 3 failing), submits a queue of 176,000 frames shaped like the Submit
dialog's jobs (a 100,000-frame turntable, 150 shots of 500 frames, a lighting shot of two layers), opens the big
subjob once the panel shows every state at once (frames rendering with their progress, complete ones, a failed one,
queued work), selects a rendering frame so its log tails, and saves ``QWidget.grab()`` of the panel. Maya-like dark
colours. The node runs on this interpreter, or on ``PYFARM_NODE_PYTHON``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
TOKEN = "screenshot"


def start_node(data_dir: str) -> Any:
    env = dict(os.environ, PYFARM_STANDIN_SECONDS="3", PYFARM_STANDIN_FAIL="3")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    python = os.environ.get("PYFARM_NODE_PYTHON") or sys.executable
    command = [python, "-m", "farm_node", "serve", "--port", "0", "--data-dir", data_dir, "--token", TOKEN,
               "--slots", "2", "--name", "render01", "--exe",
               "render=" + os.path.join(ROOT, "farm_node", "standin_render.py")]
    process = subprocess.Popen(command, env=env, cwd=data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("the node did not start: %s" % process.stderr.read().decode("utf-8", "replace"))
        try:
            with open(os.path.join(data_dir, "node.json")) as f:
                info = json.load(f)
            if info.get("pid") == process.pid:
                return process, info["url"]
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit("the node did not start within 30 s")


def job(scene: str, layers: Dict[str, range], renderer: str, priority: int, **extra: Any) -> Dict[str, Any]:
    flags = {"arnold": ["-r", "arnold", "-ai:lve", "2"], "redshift": ["-r", "redshift"], "sw": ["-r", "sw"]}[renderer]
    subjobs = {}
    for layer, frames in layers.items():
        layer_flag = ["-rl", "rs_" + layer] if len(layers) > 1 else []
        subjobs[layer] = {"layer": layer, "frames": {n: {
            "argv": ["render"] + flags + layer_flag + ["-s", str(n), "-e", str(n), scene],
            "command": " ".join(["render"] + flags + layer_flag + ["-s", str(n), "-e", str(n), scene]),
        } for n in frames}}
    body = {"scene": scene, "renderer": renderer, "priority": priority, "max_attempts": 1,
            "output": os.path.join(os.path.dirname(os.path.dirname(scene)), "images"), "subjobs": subjobs}
    body.update(extra)
    return body


def dark_palette(app: Any) -> None:
    from maya_plugin.qt import QtGui, QtWidgets
    app.setStyle(QtWidgets.QStyleFactory.create("Fusion"))
    palette = QtGui.QPalette()
    for role, colour in (("Window", "#444444"), ("WindowText", "#dddddd"), ("Base", "#2b2b2b"),
                         ("AlternateBase", "#323232"), ("Text", "#dddddd"), ("Button", "#5d5d5d"),
                         ("ButtonText", "#eeeeee"), ("Highlight", "#5285a6"), ("HighlightedText", "#ffffff"),
                         ("ToolTipBase", "#ffffdc"), ("ToolTipText", "#000000"), ("PlaceholderText", "#8a8a8a")):
        palette.setColor(getattr(QtGui.QPalette, role), QtGui.QColor(colour))
    app.setPalette(palette)


def wait(app: Any, condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        app.processEvents()
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit("timed out waiting for %s" % what)


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "images", "monitor.png"))
    args = parser.parse_args(argv)
    from maya_plugin.farm_client import FarmClient
    from maya_plugin.qt import QtCore, QtWidgets
    from maya_plugin.ui.monitor import MonitorPanel

    data_dir = tempfile.mkdtemp(prefix="pyfarm-shot-")
    work = os.path.join(data_dir, "projects")
    process, url = start_node(data_dir)
    try:
        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
        dark_palette(app)
        client = FarmClient(url, TOKEN, timeout=300)
        scenes = {}
        for shot, name in (("turntable", "turntable_v001.mb"), ("shot010", "shot010_lighting_v012.mb"),
                           ("shot020", "shot020_fx_v003.mb")):
            path = os.path.join(work, shot, "scenes", name)
            os.makedirs(os.path.dirname(path))
            open(path, "w").close()
            scenes[shot] = path
        client.submit({"shot010_lighting_v012": job(scenes["shot010"], {"beauty": range(1001, 1121),
                                                                        "shadow": range(1001, 1121)}, "arnold", 60,
                                                    user="ana")})
        for n in range(150):
            client.submit({"seq%02d_shot%03d_fx_v003" % (n // 10, n): job(scenes["shot020"], {
                "masterLayer": range(1, 501)}, "redshift", 50, user=("ana", "ben", "chloe", "dev")[n % 4])})
        client.submit({"turntable_v001": job(scenes["turntable"], {"masterLayer": range(1, 100001)}, "sw", 100,
                                             user="wrangler")})
        panel = MonitorPanel(client=client, feed_wait=2.0, hosts_poll_ms=1000, log_poll_ms=300)
        panel.token_edit.setText(TOKEN)
        panel.resize(1100, 860)
        panel.show()
        wait(app, lambda: panel.model.find("turntable_v001") is not None, 120, "the queue")
        panel.view.sortByColumn(4, QtCore.Qt.DescendingOrder)  # priority: the big job first
        panel.select("turntable_v001", "masterLayer")

        def ready() -> bool:
            big = panel.model.find("turntable_v001")
            return big.count("Failed") >= 1 and big.count("Complete") >= 3 and big.count("Rendering") >= 2
        wait(app, ready, 180, "a farm in every state")
        frames = panel.frames
        wait(app, lambda: frames.model.frame_at(0) is not None and
             sum(1 for r in range(8) if (frames.model.frame_at(r) or {}).get("status") == "Rendering") >= 1,
             60, "the frames")
        rendering = [r for r in range(20) if (frames.model.frame_at(r) or {}).get("status") == "Rendering"]
        frames.view.setCurrentIndex(frames.model.index(rendering[0], 0))
        wait(app, lambda: bool(panel.log_view.plain_text().strip()), 60, "the log")
        panel.refresh_hosts()
        wait(app, lambda: panel.hosts_view.topLevelItemCount() > 0, 30, "the hosts")
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        if not panel.grab().save(args.out, "PNG"):
            raise SystemExit("could not write %s" % args.out)
        print("wrote %s" % args.out)
        watcher = panel.watcher
        panel.shutdown()
        if watcher is not None:
            watcher.join(10)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
