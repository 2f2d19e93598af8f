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
