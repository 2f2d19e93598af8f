#!/usr/bin/env python3
"""Run the whole test suite on the Maya matrix: the README's test command, and what .ci/run runs.

1. The node's Python (the interpreter running this script, 3.10+) in ``.venv-test``: every test, with the PySide6 of
   the Maya that ships this Python, in two runs side by side: the node's tests (tests/node) in this process's run,
   and beside it the command line's and the Maya side's (tests/cli, tests/maya, tests/ui). Most of any run waits on
   child processes, so two at once take little more than the longer one. A virtual environment of its own: the
   README's ``.venv`` is the user's, and filling it with a pinned PySide6 would change what they installed.
2. Maya 2022's Python 3.7 with PySide2 in ``.venv37``: the Maya side's tests (tests/maya, tests/ui), against a node run
   by the first environment's Python, after the first beside run (its output printed whole when it ends).
3. Python 3.11 with PySide6 (Maya 2025/2026) in ``.venv311`` when the node's Python is not already 3.11.
   ``PYFARM_MATRIX=full`` adds Python 3.13 with PySide6 (Maya 2027) in ``.venv313``. These too run beside.

Each environment (all of them this script's own) is made and filled on first use and refilled when pyproject.toml
changes, with a line saying which and where. An interpreter that cannot be found is skipped with a line saying so;
the run fails if any run environment fails.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOWS = sys.platform == "win32"
MAYA_TESTS = ["tests/maya", "tests/ui"]
# The node's environment runs them all, in two runs side by side.
NODE_TESTS = ["tests/node", "tests/test_versions.py"]
BESIDE_TESTS = ["tests/cli", "tests/maya", "tests/ui"]
NODE_VENV = ".venv-test"   # not the README's .venv: that one is the user's own
MAYA_DEPS = {
    "3.7": ["requests", "PySide2==5.15.2.1", "pytest>=7,<8", "pytest-qt>=4.2", "pytest-timeout"],
    # The PySide6 that Maya 2025 and 2026 ship; Maya 2027's is 6.8 (the VFX Reference Platform CY2026).
    "3.11": ["requests", "PySide6-Essentials==6.5.3", "pytest>=7", "pytest-qt>=4.2", "pytest-timeout"],
    "3.13": ["requests", "PySide6-Essentials>=6.8,<6.9", "pytest>=7", "pytest-qt>=4.2", "pytest-timeout"],
}


def say(text: str) -> None:
    print("[test_all] " + text, flush=True)


def venv_python(venv: str) -> str:
    return os.path.join(venv, "Scripts", "python.exe") if WINDOWS else os.path.join(venv, "bin", "python")


def _candidates(version: str):
    yield shutil.which("python" + version)
    home = os.path.expanduser("~")
    for pattern in (os.path.join(home, ".pyenv", "versions", version + ".*", "bin", "python"),
                    os.path.join(home, ".pyenv", "pyenv-win", "versions", version + ".*", "python.exe")):
        yield from sorted(glob.glob(pattern), reverse=True)
    if WINDOWS and shutil.which("py"):
        r = subprocess.run(["py", "-" + version, "-c", "import sys; print(sys.executable)"], capture_output=True,
                           text=True)
        if r.returncode == 0:
            yield r.stdout.strip()


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` (e.g. "3.7") that really runs: on PATH, under pyenv, or through py.exe.

    A pyenv shim is on PATH for every version pyenv knows but only runs the ones made global, so each candidate
    is asked its version.
    """
    for candidate in _candidates(version):
        if not candidate:
            continue
        r = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == version:
            return candidate
    return None


def stamp_of(extra: list[str]) -> str:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return hashlib.sha256(f.read() + repr(extra).encode()).hexdigest()


def ensure_env(venv: str, base_python: str, install: list[str]) -> str:
    py = venv_python(venv)
    stamp_file = os.path.join(venv, ".pyfarm-stamp")
    stamp = stamp_of(install)
    if os.path.exists(py) and os.path.exists(stamp_file) and open(stamp_file).read() == stamp:
        return py
    if not os.path.exists(py):
        say("making %s with %s" % (os.path.relpath(venv, ROOT), base_python))
        subprocess.run([base_python, "-m", "venv", venv], check=True)
    say("installing into %s: %s" % (os.path.relpath(venv, ROOT), " ".join(install)))
    for args in (["--upgrade", "pip"], install):
        r = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args], cwd=ROOT,
                           capture_output=True, text=True)
        if r.returncode != 0:
            # pip's own words only when it failed: a clean install says nothing
            sys.stdout.write(r.stdout + r.stderr)
            raise SystemExit("[test_all] pip install %s failed in %s" % (" ".join(args), venv))
    with open(stamp_file, "w") as f:
        f.write(stamp)
    return py


def node_tests() -> list[str]:
    """NODE_TESTS, and any test file or folder under tests/ that neither run names (a new one is never left out)."""
    named = NODE_TESTS + BESIDE_TESTS
    paths = list(NODE_TESTS)
    for name in sorted(os.listdir(os.path.join(ROOT, "tests"))):
        path, full = "tests/" + name, os.path.join(ROOT, "tests", name)
        if path in named:
            continue
        if (name.startswith("test_") and name.endswith(".py")) or (
                os.path.isdir(full) and glob.glob(os.path.join(full, "**", "test_*.py"), recursive=True)):
            paths.append(path)
    return paths


def pytest_command(py: str, paths: list[str], env_extra: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update(env_extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The slowest tests named at the end: what to look at when the suite nears its 15 minutes.
    return [py, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "--durations=25", *paths], env


def pytest(py: str, paths: list[str], env_extra: dict[str, str], label: str) -> int:
    command, env = pytest_command(py, paths, env_extra)
    say("%s: pytest %s" % (label, " ".join(paths)))
    code = subprocess.run(command, cwd=ROOT, env=env).returncode
    say("%s: %s" % (label, "passed" if code == 0 else "FAILED (pytest exit %d)" % code))
    return code


class Beside:
    """Runs of tests beside the node's run, one after the other in a thread of their own (most of any run waits on
    child processes: two at once take little more than the longer one). Each run's output is kept in a file and
    printed whole when all of them have ended."""

    def __init__(self, runs: list[tuple[str, str, list[str], dict[str, str]]]) -> None:
        self.runs = runs  # (label, python, paths, extra environment)
        self.codes: list[int] = []
        self.outs: list[Any] = []
        for label, _, paths, _ in runs:
            say("%s: pytest %s (beside the node's run; its output follows when it ends)" % (label, " ".join(paths)))
        self.thread = threading.Thread(target=self._run_all, daemon=True)
        self.thread.start()

    def _run_all(self) -> None:
        for label, py, paths, env_extra in self.runs:
            command, env = pytest_command(py, paths, env_extra)
            out = tempfile.TemporaryFile()
            self.outs.append(out)
            self.codes.append(subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
                              .returncode)

    def results(self) -> dict[str, str]:
        self.thread.join()
        answers = {}
        for (label, _, _, _), out, code in zip(self.runs, self.outs, self.codes):
            out.seek(0)
            say("%s: its output" % label)
            sys.stdout.flush()
            sys.stdout.buffer.write(out.read())
            sys.stdout.flush()
            say("%s: %s" % (label, "passed" if code == 0 else "FAILED (pytest exit %d)" % code))
            answers[label] = "passed" if code == 0 else "FAILED"
        for label, _, _, _ in self.runs[len(self.codes):]:
            answers[label] = "FAILED"  # a run that never ended (the thread died)
        return answers


def main() -> int:
    if sys.version_info < (3, 10):
        say("run this with Python 3.10 or newer (the farm node's Python); this is %s" % sys.version.split()[0])
        return 2
    results: dict[str, str] = {}
    say("virtual environments of its own, in %s: %s (the node's Python), .venv37, .venv311, .venv313 (the Maya "
        "side's); a .venv of yours is left alone" % (ROOT, NODE_VENV))
    here = "%d.%d" % sys.version_info[:2]
    # The node's environment also runs the Maya side's tests, with the PySide6 of the Maya that has this Python.
    qt = [d for d in MAYA_DEPS.get(here, []) if d.startswith("PySide")] or [".[qt]"]
    node_py = ensure_env(os.path.join(ROOT, NODE_VENV), sys.executable, ["-e", ".[test]", *qt])
    node_version = subprocess.run([node_py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True, check=True).stdout.strip()

    wanted = ["3.7"]
    if node_version != "3.11":
        wanted.append("3.11")
    if os.environ.get("PYFARM_MATRIX") == "full" and node_version != "3.13":
        wanted.append("3.13")
    maya_runs: list[tuple[str, str]] = []  # (label, python)
    for version in wanted:
        label = "python %s (Maya side, %s)" % (version, "PySide2" if version == "3.7" else "PySide6")
        base = find_python(version)
        if base is None:
            say("SKIPPED %s: no Python %s found on PATH, under ~/.pyenv or through py -%s" % (label, version,
                                                                                           version))
            results[label] = "skipped (no interpreter)"
            continue
        maya_runs.append((label, ensure_env(os.path.join(ROOT, ".venv" + version.replace(".", "")), base,
                                            MAYA_DEPS[version])))

    # The node's tests in this process's run; beside it, one after the other, the command line's and the Maya side's
    # tests in the node's environment, then the Maya side's in each Maya Python.
    beside = Beside([("python %s (farm command line, Maya side with PySide6)" % node_version, node_py,
                      BESIDE_TESTS, {})]
                    + [(label, py, MAYA_TESTS, {"PYFARM_NODE_PYTHON": node_py}) for label, py in maya_runs])
    label = "python %s (node)" % node_version
    results[label] = "passed" if pytest(node_py, node_tests(), {}, label) == 0 else "FAILED"
    results.update(beside.results())

    say("summary:")
    for label, result in results.items():
        say("  %-45s %s" % (label, result))
    return 1 if any(r == "FAILED" for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
