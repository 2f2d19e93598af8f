"""The only module that starts processes: frame commands as children, never through a shell.

A frame's first word is a program *name*; the host's ``--exe NAME=PATH`` map says which file that name runs, and a
name that is not in the map starts nothing. Each child gets its own process group (its own console process group on
Windows) so that cancelling a frame kills the renderer and everything it started.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from typing import Any, Iterable, Mapping

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
    """A started frame process whose stdout and stderr arrive merged on one pipe, and the tree it heads.

    ``close()`` ends the frame: what is left of its tree is killed (a process that outlives the frame's main
    process would be a render nobody follows) and the guard (POSIX) or the Job object (Windows) lets go of it.
    """

    def __init__(self, popen: subprocess.Popen, job: Any = None, guard: "_Guard | None" = None) -> None:
        self.popen = popen
        self.pid = popen.pid
        self._fd = popen.stdout.fileno() if popen.stdout else -1
        self._job = job
        self._guard = guard
        self._closed = False

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
        if self._job is not None:
            self._job.terminate()
        else:
            kill_tree(self.pid)

    def close(self, pipe: bool = True) -> None:
        """The frame is over: kill what is left of its tree, stop guarding it, close the pipe (unless ``pipe`` is
        False: a thread still reads it)."""
        if not self._closed:
            self._closed = True
            if self._job is not None:
                self._job.close()  # the last handle: KILL_ON_JOB_CLOSE ends what is left
            elif self.popen.poll() is not None:
                # Reaped, so the group id is still ours while any member lives, and no new process can take it.
                _kill_group(self.pid)
            else:
                kill_tree(self.pid)
                self.popen.wait()
            if self._guard is not None:
                self._guard.forget(self.pid)
        if pipe and self.popen.stdout:
            self.popen.stdout.close()


def start(args: list[str], cwd: str | None = None, env: Mapping[str, str] | None = None) -> Child:
    """Start ``args`` (a list, never a shell) in a process tree of its own that dies with this process, whatever
    ends it. Raises OSError if it cannot start."""
    if _WINDOWS:
        return _start_windows(args, cwd, env)
    return _start_posix(args, cwd, env)


def _popen(args: list[str], cwd: str | None, env: Mapping[str, str] | None, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=cwd, env=dict(env) if env is not None else None, bufsize=0, close_fds=True,
                            **kwargs)


def _start_posix(args: list[str], cwd: str | None, env: Mapping[str, str] | None) -> Child:
    # A session of its own: its process group holds the grandchildren too, so one killpg ends the tree; the guard
    # kills that group when this process dies. The marker lets the guard find a render whose group it never heard
    # of (this process died between the fork and telling it).
    guard = _guard()
    guard.ready()  # before the fork: a guard that cannot start fails the start, not the render's guarding
    marked = None  # this process's environment, which carries the marker (``_Guard``)
    if env is not None:
        marked = dict(env)
        marked[_MARKER] = guard.token
    popen = _popen(args, cwd, marked, start_new_session=True)
    try:
        guard.watch(popen.pid)
    except OSError:
        kill_tree(popen.pid)  # a render no guard knows must not run
        popen.wait()
        raise
    return Child(popen, guard=guard)


def _start_windows(args: list[str], cwd: str | None, env: Mapping[str, str] | None) -> Child:
    from farm_node import winjob
    flags = subprocess.CREATE_NEW_PROCESS_GROUP | getattr(subprocess, "CREATE_NO_WINDOW", 0)  # type: ignore
    try:
        job = winjob.Job()
    except OSError:  # no Job objects here (a job that forbids nesting them): the tree is walked at a kill
        return Child(_popen(args, cwd, env, creationflags=flags))
    try:
        popen = _popen(args, cwd, env, creationflags=flags | winjob.CREATE_SUSPENDED)
    except OSError:
        job.close()
        raise
    # Suspended until it is in the job, so that nothing it starts is outside it.
    try:
        try:
            job.assign(int(popen._handle))  # type: ignore[attr-defined]
        except OSError:
            job.close()
            job = None
        if not winjob.resume_process(popen.pid):
            raise OSError("the process was created suspended and could not be resumed")
    except OSError:
        popen.kill()
        popen.wait()
        if job is not None:
            job.close()
        raise
    return Child(popen, job=job)


def kill_tree(pid: int) -> None:
    """Kill the process ``pid`` and every process it started; quiet if they are already gone."""
    if _WINDOWS:
        _kill_tree_windows(pid)
        return
    if not _kill_group(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_group(pgid: int) -> bool:
    try:
        # The child leads its own session, so its process group id is its pid, and the group holds the
        # grandchildren too, even those whose parent already exited.
        os.killpg(pgid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _kill_tree_windows(pid: int) -> None:
    # A pid alone (an orphan found after a restart, a host without Job objects): the tree by parent pids.
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
    The guard (POSIX) or the Job object (Windows) kills renders with their host, so this finds one only when the
    guard was killed with it.
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


# -- the render guard (POSIX) ---------------------------------------------------------------------------------------
_MARKER = "PYFARM_RENDER_GUARD"
_GUARD_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "render_guard.py")


class _Guard:
    """This process's render guard (``render_guard.py``): told each render's process group, it kills those still
    running when this process dies. Started with the first render, started again if it dies on its own."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        # The marker goes into this process's own environment, once: every render inherits it without an
        # environment of its own being built and encoded for each start (0.13 ms of a trivial frame's 1 ms here,
        # more with a studio's environment). A host process starts nothing but renders and this guard (which does
        # not count itself); an ancestor's marker it inherited is replaced by its own.
        os.environ[_MARKER] = self.token
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._fd = -1
        self._groups: set[int] = set()

    def ready(self) -> None:
        """A guard running (started now if need be); OSError if none can start."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._spawn()

    def watch(self, pgid: int) -> None:
        with self._lock:
            self._groups.add(pgid)
            self._send(b"+%d\n" % pgid)

    def forget(self, pgid: int) -> None:
        with self._lock:
            if pgid in self._groups:
                self._groups.discard(pgid)
                self._send(b"-%d\n" % pgid)

    def _send(self, line: bytes) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._spawn()
            return  # the new guard was told every group
        try:
            os.write(self._fd, line)
        except OSError:  # the guard died on its own: a new one, told every group
            self._spawn()

    def _spawn(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        read_end, self._fd = os.pipe()  # not inheritable: renders never hold the write end
        try:
            self._proc = subprocess.Popen([sys.executable, "-I", _GUARD_SCRIPT, self.token], stdin=read_end,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                                          start_new_session=True)
        finally:
            os.close(read_end)
        if self._groups:
            os.write(self._fd, b"".join(b"+%d\n" % g for g in sorted(self._groups)))
        # Its own death is seen at once, not at the next render's start: a guard must be there when this dies.
        threading.Thread(target=self._respawn_when_dead, args=(self._proc,), name="render-guard",
                         daemon=True).start()

    def _respawn_when_dead(self, proc: subprocess.Popen) -> None:
        proc.wait()
        with self._lock:
            if self._proc is proc and self._groups:
                self._spawn()


_GUARD: _Guard | None = None
_GUARD_LOCK = threading.Lock()


def _guard() -> _Guard:
    global _GUARD
    with _GUARD_LOCK:
        if _GUARD is None:
            _GUARD = _Guard()
        return _GUARD
