"""`farm-node demo`: the original design's Job1 rendered on a throwaway standalone node, watched live.

Maya is not installed here, so `render` is mapped to PyFarm's stand-in for Maya's Render; frame 2 fails once and is
retried, as frames do on a real farm. The demo ends with the original design's report, produced by its own loop over
``FarmClient(...).jobs()``.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, TextIO

from farm_node import standin_render

JOB = "Job1"
SUBJOB = "sub1"


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("demo", help="render the original design's Job1 on a throwaway node, live")
    d.add_argument("--data-dir", help="keep the demo node's data here (default: a temporary folder)")
    d.add_argument("--seconds", type=float, default=1.5, help="render time per frame of the stand-in")
    d.set_defaults(run=lambda ns: run(data_dir=ns.data_dir, seconds=ns.seconds))


def seed_job() -> dict[str, Any]:
    """The original design's Job1: three frames of a mental ray scene."""
    return {JOB: {"subjobs": {SUBJOB: {"frames": {
        str(n): {"command": "render -r mr -v 5 -s %d -e %d scene.mb" % (n, n)} for n in (1, 2, 3)}}}}}


def _start_node(data_dir: str, token: str, seconds: float) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({"PYFARM_STANDIN_SECONDS": str(seconds), "PYFARM_STANDIN_FAIL": "2",
                "PYFARM_STANDIN_FAIL_ONCE_DIR": os.path.join(data_dir, "fail-once")})
    os.makedirs(os.path.join(data_dir, "work"), exist_ok=True)
    os.makedirs(os.path.join(data_dir, "fail-once"), exist_ok=True)
    # The stand-in renders a test pattern for any scene; an empty file keeps it from warning about a missing one.
    open(os.path.join(data_dir, "work", "scene.mb"), "ab").close()
    cmd = [sys.executable, "-m", "farm_node", "serve", "--port", "0", "--data-dir", data_dir, "--token", token,
           "--slots", "2", "--backup-interval", "0", "--exe", "render=" + standin_render.script_path()]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_url(proc: subprocess.Popen, data_dir: str, timeout: float = 30.0) -> str:
    info = os.path.join(data_dir, "node.json")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise SystemExit("the demo node did not start:\n" + err)
        try:
            with open(info, encoding="utf-8") as f:
                data = json.load(f)
            if data.get("pid") == proc.pid:
                return data["url"]
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise SystemExit("the demo node did not start within %ds" % timeout)


def _bar(progress: float, width: int = 24) -> str:
    filled = int(round(width * max(0.0, min(100.0, progress)) / 100.0))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _lines(job: dict[str, Any]) -> list[str]:
    frames = job["subjobs"][SUBJOB]["frames"]
    counts = job["frames"]
    out = ["%s  %-9s  %d/%d complete, %d failed" % (JOB, job["status"], counts["complete"], counts["total"],
                                                  counts["failed"])]
    for n in sorted(frames):
        f = frames[n]
        note = "  (%s)" % _note(f) if _note(f) else ""
        out.append("  frame %d  %-9s %s %5.1f%%  host %-10s pid %-7s attempt %d%s" % (
            n, f["status"], _bar(f.get("progress") or 0), f.get("progress") or 0, f["host"] or "-",
            f["pid"] or "-", f.get("attempts") or 0, note))
    return out


class _Screen:
    """The live status block: on a terminal a table redrawn in place with rich, fitted to the terminal's width (lines
    that wrapped used to leave the header behind at every redraw); elsewhere (CI logs, pipes) each new state is
    printed once, as plain lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.last: list[str] = []
        self.console: Any = None
        self.live: Any = None
        if self.tty:
            from rich.console import Console
            from rich.live import Live
            self.console = Console(file=out, highlight=False)
            self.live = Live(console=self.console, auto_refresh=False, vertical_overflow="visible")

    def say(self, text: str) -> None:
        """Static text; wrapped at word boundaries on a terminal."""
        if self.console is not None:
            from rich.text import Text
            self.console.print(Text(text[:-1] if text.endswith("\n") else text))
        else:
            self.out.write(text)
            self.out.flush()

    def show(self, job: dict[str, Any]) -> None:
        lines = _lines(job)
        if lines == self.last:
            return
        self.last = lines
        if self.live is None:
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()
            return
        if not self.live.is_started:
            self.live.start()
        self.live.update(_table(job), refresh=True)

    def close(self) -> None:
        if self.live is not None and self.live.is_started:
            self.live.stop()


def _table(job: dict[str, Any]) -> Any:
    from rich import box
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text
    counts = job["frames"]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, expand=False)
    for header, justify in (("frame", "right"), ("status", "left"), ("progress", "left"), ("", "right"),
                            ("host", "left"), ("pid", "right"), ("try", "right"), ("", "left")):
        table.add_column(header, justify=justify, no_wrap=header != "", overflow="fold")
    frames = job["subjobs"][SUBJOB]["frames"]
    for n in sorted(frames):
        f = frames[n]
        progress = f.get("progress") or 0
        table.add_row(str(n), Text(f["status"], style=_STYLES.get(f["status"], "")),
                      ProgressBar(total=100, completed=progress, width=12), "%d%%" % progress, f["host"] or "-",
                      str(f["pid"] or "-"), str(f.get("attempts") or 0), Text(_note(f), style="yellow"))
    title = Text("%s  %s  %d/%d complete, %d failed" % (JOB, job["status"], counts["complete"], counts["total"],
                                                       counts["failed"]), style="bold")
    return Group(title, table)


_STYLES = {"Complete": "green", "Rendering": "cyan", "Failed": "red", "Cancelled": "dim"}


def _note(f: dict[str, Any]) -> str:
    if f.get("error") and f["status"] != "Complete":
        return f["error"]
    if (f.get("attempts") or 0) > 1:
        return "attempt %d failed; retried" % (f["attempts"] - 1)
    return ""


def run(data_dir: str | None = None, seconds: float = 1.5, out: TextIO = sys.stdout) -> int:
    from maya_plugin.farm_client import FarmClient

    temporary = data_dir is None
    data_dir = os.path.abspath(data_dir or tempfile.mkdtemp(prefix="pyfarm-demo-"))
    token = secrets.token_urlsafe(16)
    screen = _Screen(out)
    screen.say("PyFarm demo: Maya is not installed here, so `render` runs PyFarm's stand-in for Maya's Render\n"
               "(it prints a mental-ray-like log and writes a small PNG per frame; frame 2 fails once on purpose).\n")
    proc = _start_node(data_dir, token, seconds)
    try:
        url = _wait_url(proc, data_dir)
        screen.say("A standalone farm node is listening on %s (data in %s).\n\n" % (url, data_dir))
        client = FarmClient(url, token)
        client.submit(seed_job())
        revision = 0
        job = client.job(JOB)
        while True:
            screen.show(job)
            if job["status"] in ("Complete", "Failed", "Cancelled"):
                break
            answer = client.changes(revision, wait=5)
            revision = answer["revision"]
            if JOB in answer["jobs"]:
                job = client.job(JOB)
        screen.close()
        screen.say("\nThe original design's report, from FarmClient(%r, token).jobs():\n\n" % url)
        jobs = FarmClient(url, token).jobs()
        frames = jobs["Job1"]["subjobs"]["sub1"]["frames"]
        for frame in frames.keys():
            thisFrame = frames[frame]
            screen.say("Frame %i:\n\tStatus: %s\n\tHost: %s\n\tPID: %i\n\tCommand: %s\n\tLog: %s\n" % (
                frame, thisFrame["status"], thisFrame["host"], thisFrame["pid"], thisFrame["command"],
                _short_log(thisFrame["stdout"])))
        ok = jobs[JOB]["status"] == "Complete"
        images = os.path.join(data_dir, "work", "images")
        keep = not temporary or os.environ.get("PYFARM_DEMO_KEEP") == "1"
        screen.say("\nJob1 is %s. %s\n" % (jobs[JOB]["status"], "Images: " + images if keep else
                                           "The demo's folder is removed now; keep it with --data-dir DIR."))
        return 0 if ok else 1
    finally:
        screen.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if temporary and os.environ.get("PYFARM_DEMO_KEEP") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)


def _short_log(stdout: str, keep: int = 4) -> list[str]:
    """The report's ``Log:`` line as the original prints it (a list of lines), cut to its last few lines."""
    lines = stdout.rstrip("\n").split("\n")
    return lines if len(lines) <= keep else ["..."] + lines[-keep:]
