"""No orphan renders (issue 15, rows 5 and 13): a render and everything it started die with the process that started
it, SIGKILL included: a `farm-node worker`, the slots of a `farm-node serve`, and a process of the tests' own.

POSIX: runner.py's render guard (farm_node/render_guard.py) kills the renders' process groups when its pipe from the
host reaches end of file. Windows: a Job object per render with KILL_ON_JOB_CLOSE (farm_node/winjob.py); no Windows
host runs these tests, so its structures are checked against the documented layout and its calls against a stand-in
of kernel32.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from farm_node import runner, winjob
from tests.conftest import ROOT, wait_for
from tests.node.test_node_api import frames_of, seed_job
from tests.node.test_workers import FAST

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="the render guard is the POSIX side")
# Two frames that never end, each with a sleeping grandchild in its process group.
HANGING = {"PYFARM_STANDIN_HANG": "1,2", "PYFARM_STANDIN_SPAWN_CHILD": "1"}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def renders_and_children(client, name) -> list[int]:
    """The pids of both frames' renders and of their grandchildren, once all four run."""
    # From the frames' logs: a frame's stdout in the job is saved when output arrives, at most twice a second, so a
    # hung render's last lines reach it only at its end.
    def ready():
        frames = frames_of(client, name)
        logs = {n: client.log(name, "sub1", n) if f["pid"] else "" for n, f in frames.items()}
        if all("child pid" in text for text in logs.values()):
            return [(frames[n]["pid"], int(text.split("child pid")[1].split()[0])) for n, text in logs.items()]
        return None
    pids = [pid for pair in wait_for(ready, what="both renders and their grandchildren to start") for pid in pair]
    assert all(not gone(p) for p in pids)
    return pids


def guards_of(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children() if any("render_guard.py" in a for a in p.cmdline())]


def wait_gone(pids, what):
    wait_for(lambda: all(gone(p) for p in pids), timeout=30,
             what="%s to be gone (alive: %s)" % (what, [p for p in pids if not gone(p)]))


@POSIX
def test_a_sigkilled_worker_takes_its_renders_and_their_children_with_it(node_factory, worker_factory, unique_name):
    node = node_factory(slots=0, args=FAST)
    worker = worker_factory(node, "doomed", slots=2, env=HANGING)
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1, 2)))
    pids = renders_and_children(client, name)
    (guard,) = guards_of(worker.proc.pid)
    assert guard.status() != psutil.STATUS_ZOMBIE
    worker.kill()
    wait_gone(pids + [guard.pid], "the renders, their grandchildren and the guard")


@POSIX
def test_a_sigkilled_node_takes_its_own_slots_renders_with_it_and_requeues_them_on_start(node_factory,
                                                                                          unique_name):
    node = node_factory(slots=2, env=HANGING)
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1, 2)))
    pids = renders_and_children(client, name)
    node.kill()
    wait_gone(pids, "the node's renders and their grandchildren")
    # started again, it renders them again, without an attempt lost to its death
    node.start()
    client = node.client()
    frames = wait_for(lambda: all(f["pid"] and f["pid"] not in pids for f in frames_of(client, name).values())
                      and frames_of(client, name), what="both frames to render again")
    assert all(f["status"] == "Rendering" and f["attempts"] == 1 for f in frames.values()), frames


@POSIX
def test_a_worker_whose_guard_died_too_kills_the_renders_it_left_when_it_starts_again(node_factory, worker_factory,
                                                                                       unique_name):
    node = node_factory(slots=0, args=FAST)
    worker = worker_factory(node, "twice", slots=2, env=HANGING)
    client = node.client()
    name = unique_name()
    client.submit(seed_job(name, frames=(1, 2)))
    pids = renders_and_children(client, name)
    (guard,) = guards_of(worker.proc.pid)
    # A guard frozen, then killed after its worker (a host that loses both at once): nothing kills the renders...
    guard.suspend()
    try:
        worker.kill()
        guard.kill()
        guard.wait(10)
        assert all(not gone(p) for p in pids)
        # ...until the worker starts again: held.json names them, they are killed, their attempts reported abandoned
        worker.start()
        wait_gone(pids, "the renders the worker left behind")
        wait_for(lambda: "reported abandoned" in worker.output(), what="the worker to report them abandoned")
    finally:
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


# -- in this process: the runner itself -----------------------------------------------------------------------------

_HOST = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, %r)
    from farm_node import runner
    children = [runner.start([sys.executable, "-c", "import time; time.sleep(600)"]) for _ in range(2)]
    if "kill-guard" in sys.argv:  # a guard killed on its own: another takes its place, told of every render
        guard = runner._guard()
        first = guard._proc
        first.kill()
        while guard._proc is first or guard._proc.poll() is not None:
            time.sleep(0.01)
    print(json.dumps([c.pid for c in children]), flush=True)
    time.sleep(600)
""")


@POSIX
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGSEGV", "SIGKILL after its guard was killed"])
def test_whatever_kills_the_process_that_started_renders_kills_the_renders(how):
    args = ["kill-guard"] if "guard" in how else []
    host = subprocess.Popen([sys.executable, "-c", _HOST % ROOT] + args, stdout=subprocess.PIPE)
    try:
        pids = json.loads(host.stdout.readline())
        assert all(not gone(p) for p in pids)
        host.send_signal(getattr(signal, how.split()[0]))
        host.wait(10)
        wait_gone(pids, "the renders of a host killed by %s" % how)
    finally:
        host.kill()
        host.wait()


@POSIX
def test_a_frame_that_ends_takes_what_it_left_running_with_it(tmp_path):
    # The main process exits at once, leaving a sleeping child that no longer holds its output.
    script = tmp_path / "leaves.py"
    script.write_text("import subprocess, sys\n"
                      "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
                      " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                      "print(p.pid, flush=True)\n")
    child = runner.start([sys.executable, str(script)])
    out = b""
    while True:
        data = child.read()
        if not data:
            break
        out += data
    assert child.wait(10) == 0
    left = int(out.split()[0])
    assert not gone(left)
    child.close()
    wait_gone([left], "what the frame left running")


# -- Windows: the Job object, checked against its documented layout and call sequence --------------------------------

def test_the_job_structures_have_the_documented_windows_layout():
    pointer = ctypes.sizeof(ctypes.c_void_p)
    basic = winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION
    extended = winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    # winnt.h: JOBOBJECT_BASIC_LIMIT_INFORMATION is 64 bytes on 64-bit Windows and 48 on 32-bit; the extended one
    # (basic, IO_COUNTERS of six ULONGLONGs, four SIZE_Ts) 144 and 112; THREADENTRY32 is seven 32-bit fields.
    if pointer == 8:
        assert (ctypes.sizeof(basic), ctypes.sizeof(extended)) == (64, 144)
        assert [getattr(basic, f).offset for f in ("LimitFlags", "MinimumWorkingSetSize", "ActiveProcessLimit",
                                                   "Affinity", "PriorityClass", "SchedulingClass")] == \
            [16, 24, 40, 48, 56, 60]
        assert [getattr(extended, f).offset for f in ("IoInfo", "ProcessMemoryLimit", "PeakJobMemoryUsed")] == \
            [64, 112, 136]
    else:
        assert (ctypes.sizeof(basic), ctypes.sizeof(extended)) == (48, 112)
    assert ctypes.sizeof(winjob.IO_COUNTERS) == 48
    assert ctypes.sizeof(winjob.THREADENTRY32) == 28
    assert winjob.THREADENTRY32.th32OwnerProcessID.offset == 12
    assert (winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, winjob.JobObjectExtendedLimitInformation,
            winjob.CREATE_SUSPENDED) == (0x2000, 9, 0x4)


class FakeKernel32:
    """kernel32 as far as winjob calls it: records the calls, fills in what Windows would."""

    def __init__(self, threads=((7, 42), (8, 99))) -> None:
        self.calls: list = []
        self.threads = list(threads)  # (thread id, owner pid)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        answer = getattr(type(self), "_" + name, lambda _self, *a: 1)

        def call(*args):
            self.calls.append((name,) + args)
            return answer(self, *args)
        return call

    def _CreateJobObjectW(self, *_):
        return 1000

    def _SetInformationJobObject(self, handle, cls, info, size):
        flags = ctypes.cast(info, ctypes.POINTER(winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION)).contents
        self.flags = flags.BasicLimitInformation.LimitFlags
        self.size = size
        return 1

    def _CreateToolhelp32Snapshot(self, *_):
        self._left = list(self.threads)
        return 2000

    def _Thread32First(self, snapshot, entry):
        return self._Thread32Next(snapshot, entry)

    def _Thread32Next(self, _snapshot, entry):
        if not self._left:
            return 0
        tid, owner = self._left.pop(0)
        e = ctypes.cast(entry, ctypes.POINTER(winjob.THREADENTRY32)).contents
        assert e.dwSize == ctypes.sizeof(winjob.THREADENTRY32)
        e.th32ThreadID, e.th32OwnerProcessID = tid, owner
        return 1

    def _OpenThread(self, access, inherit, tid):
        return 3000 + tid

    def _ResumeThread(self, _thread):
        return 1


def test_a_job_kills_on_close_terminates_on_a_kill_and_resumes_only_its_process():
    k = FakeKernel32()
    job = winjob.Job(k)
    assert (k.flags, k.size) == (winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
                                 ctypes.sizeof(winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION))
    job.assign(555)
    assert ("AssignProcessToJobObject", 1000, 555) in k.calls
    job.terminate()
    assert ("TerminateJobObject", 1000, 1) in k.calls
    job.close()
    job.close()
    job.terminate()
    assert [c for c in k.calls if c[0] in ("CloseHandle", "TerminateJobObject")] == \
        [("TerminateJobObject", 1000, 1), ("CloseHandle", 1000)]
    k.calls.clear()
    assert winjob.resume_process(42, k) == 1
    names = [c[0] for c in k.calls]
    assert ("OpenThread", winjob.THREAD_SUSPEND_RESUME, False, 7) in k.calls and ("ResumeThread", 3007) in k.calls
    assert ("OpenThread", winjob.THREAD_SUSPEND_RESUME, False, 8) not in k.calls  # another process's thread
    assert names.count("CloseHandle") == 2  # the thread and the snapshot


def test_a_job_that_windows_refuses_closes_what_it_made():
    class Refusing(FakeKernel32):
        def _SetInformationJobObject(self, *_):
            return 0
    k = Refusing()
    if not hasattr(ctypes, "WinError"):  # Windows' error type, stood in for off Windows
        ctypes.WinError = lambda code=None, descr=None: OSError(code, descr)  # type: ignore[attr-defined]
        ctypes.get_last_error = lambda: 5  # type: ignore[attr-defined]
        added = True
    else:
        added = False
    try:
        with pytest.raises(OSError):
            winjob.Job(k)
    finally:
        if added:
            del ctypes.WinError
            del ctypes.get_last_error
    assert ("CloseHandle", 1000) in k.calls
