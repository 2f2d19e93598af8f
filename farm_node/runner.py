"""The only module that starts processes: frame commands as children, never through a shell.

A frame's first word is a program *name*; the host's ``--exe NAME=PATH`` map says which file that name runs, and a
name that is not in the map starts nothing. Each child gets its own process group (its own console process group on
Windows) so that cancelling a frame kills the renderer and everything it started.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import Iterable, Mapping

from farm_node.errors import ConfigError, ProgramNotAllowed
from farm_node.wire import code_flag

_WINDOWS = sys.platform == "win32"


def parse_exe_flags(flags: Iterable[str]) -> dict[str, str]:
    """``["render=/usr/autodesk/maya2024/bin/Render", ...]`` to a name -> path map."""
    out: dict[str, str] = {}
    for flag in flags:
        name, sep, path = flag.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or not path:
            raise ConfigError("--exe takes NAME=PATH (for example render=/usr/autodesk/maya2024/bin/Render),"
                              " not %r" % flag)
        out[name] = path
    return out


def find_maya_render(environ: Mapping[str, str] | None = None) -> str | None:
    """Maya's command-line renderer: ``$MAYA_LOCATION/bin/Render`` (``Render.exe`` on Windows), else on PATH."""
    env = os.environ if environ is None else environ
    exe = "Render.exe" if _WINDOWS else "Render"
    location = env.get("MAYA_LOCATION")
    if location:
        candidate = os.path.join(location, "bin", exe)
        if os.path.isfile(candidate):
            return candidate
    return shutil.which(exe, path=env.get("PATH"))


class ExeMap:
    """Which program each name runs on this host, and whether Render's code-running flags may be used here."""

    def __init__(self, mapping: Mapping[str, str], allow_mel: bool = False) -> None:
        self.mapping = dict(mapping)
        self.allow_mel = allow_mel

    @classmethod
    def from_flags(cls, flags: Iterable[str], environ: Mapping[str, str] | None = None,
                   allow_mel: bool = False) -> "ExeMap":
        mapping = parse_exe_flags(flags)
        if "render" not in mapping:
            render = find_maya_render(environ)
            if render:
                mapping["render"] = render
        return cls(mapping, allow_mel)

    def names(self) -> list[str]:
        return sorted(self.mapping)

    def resolve(self, argv: list[str]) -> list[str]:
        """The argument list to start for a frame's ``argv``; raises ProgramNotAllowed for an unmapped name."""
        name = argv[0] if argv else ""
        path = self.mapping.get(name)
        if path is None:
            allowed = ", ".join(self.names()) or "none"
            raise ProgramNotAllowed(
                "program %r is not allowed on this host; it runs only the programs mapped with --exe NAME=PATH"
                " (here: %s). Nothing was started." % (name, allowed))
        flag = None if self.allow_mel else code_flag(argv)
        if flag is not None:
            # Defence in depth: the coordinator refuses such a frame at submit unless it allows them, and a host
            # that does not allow them still starts nothing (a restored queue, a coordinator of other settings).
            raise ProgramNotAllowed(
                "the flag %s runs MEL code, which this host does not allow (a host started with --allow-mel does)."
                " Nothing was started." % flag)
        if path.endswith(".py"):
            # A Python program (such as the stand-in renderer) runs with the node's own interpreter, so that it
            # needs no shebang and works the same on Windows.
            return [sys.executable, path, *argv[1:]]
        return [path, *argv[1:]]


class Child:
    """A started frame process whose stdout and stderr arrive merged on one pipe."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.pid = popen.pid
        self._fd = popen.stdout.fileno() if popen.stdout else -1

    def read(self, size: int = 65536) -> bytes:
        """Up to ``size`` bytes as soon as any are there; b"" once every writer has closed the pipe."""
        try:
            return os.read(self._fd, size)
        except OSError:
            return b""

    def fileno(self) -> int:
        return self._fd

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout)

    def kill_tree(self) -> None:
        kill_tree(self.pid)

    def close(self) -> None:
        if self.popen.stdout:
            self.popen.stdout.close()


def start(args: list[str], cwd: str | None = None, env: Mapping[str, str] | None = None) -> Child:
    """Start ``args`` (a list, never a shell) in a process group of its own. Raises OSError if it cannot start."""
    kwargs: dict = {}
    if _WINDOWS:
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | getattr(subprocess, "CREATE_NO_WINDOW", 0)
    else:
        kwargs["start_new_session"] = True
    popen = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             cwd=cwd, env=dict(env) if env is not None else None, bufsize=0, close_fds=True,
                             **kwargs)
    return Child(popen)


def kill_tree(pid: int) -> None:
    """Kill the process ``pid`` and every process it started; quiet if they are already gone."""
    if _WINDOWS:
        _kill_tree_windows(pid)
        return
    try:
        # The child leads its own session, so its process group id is its pid, and the group holds the
        # grandchildren too, even those whose parent already exited.
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_tree_windows(pid: int) -> None:
    import psutil
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = parent.children(recursive=True) + [parent]
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=5)


def kill_orphan(pid: int, started: float | None) -> bool:
    """Kill a frame process left behind by a node that died, if ``pid`` is still that process.

    A pid can be reused by an unrelated process after a reboot; the process's start time must match the attempt's.
    """
    import psutil
    try:
        proc = psutil.Process(pid)
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    if started is not None and abs(created - started) > 30:
        return False
    kill_tree(pid)
    return True
