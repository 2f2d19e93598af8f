"""`farm-node demo` end to end: the README's first command."""
from __future__ import annotations

import io
import subprocess
import sys

from farm_node.cli import demo


def test_demo_renders_job1_with_a_retry_and_prints_the_original_report(tmp_path):
    out = io.StringIO()
    assert demo.run(data_dir=str(tmp_path / "demo"), seconds=0.05, out=out) == 0
    text = out.getvalue()
    assert "stand-in for Maya's Render" in text
    assert "attempt 1 failed; retried" in text
    for n in (1, 2, 3):
        assert "Frame %d:\n\tStatus: Complete\n\tHost: " % n in text
        assert "\tCommand: render -r mr -v 5 -s %d -e %d scene.mb\n" % (n, n) in text
    assert "Job1 is Complete" in text
    assert (tmp_path / "demo" / "work" / "images" / "scene.0003.png").exists()


def test_demo_runs_as_a_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "farm_node", "demo", "--seconds", "0.02", "--data-dir",
                        str(tmp_path / "d")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Frame 2:\n\tStatus: Complete" in r.stdout


def test_demo_redraws_in_place_in_an_80_column_terminal(tmp_path):
    import os

    from tests.cli.terminal import PtyRun, strip_escapes
    from tests.conftest import ROOT
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = PtyRun([sys.executable, "-m", "farm_node", "demo", "--seconds", "0.3", "--data-dir", str(tmp_path / "d")],
                 env, columns=80, rows=24, cwd=ROOT)
    assert run.finish() == 0, run.raw
    assert run.too_wide() == []
    screen = run.screen().text()
    # The live table was drawn at each change, always over itself: one header on the screen, then the report.
    assert strip_escapes(run.raw).count("frame  status") > 1
    assert sum(line.startswith("frame  status") for line in screen) == 1
    assert sum(line.startswith("Job1  ") for line in screen) == 1
    table = screen.index(next(line for line in screen if line.startswith("frame  status")))
    assert [line.split()[:2] for line in screen[table + 2:table + 5]] == [["1", "Complete"], ["2", "Complete"],
                                                                           ["3", "Complete"]]
    assert "attempt 1 failed; retried" in screen[table + 3]
    report = screen.index(next(line for line in screen if line.startswith("The original design's report")))
    assert report > table
    first = screen.index("Frame 1:")
    assert first > report and screen[first + 1] == "        Status: Complete"
    assert any(line.startswith("Job1 is Complete.") for line in screen[first:])
