"""Windows Job objects through ctypes: a render's whole process tree, killed at once and killed with its host.

A render runs in a Job object of its own with ``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE``: the only handle to the job is
the render host's, so when the host's process ends (a crash, ``TerminateProcess``, Task Manager's End task) Windows
closes the handle and kills every process in the job. ``TerminateJobObject`` kills the tree on a cancel, children
whose parent already exited included (a walk of parent pids misses those). Processes a render starts are in its job
from their creation; the render itself is created suspended, assigned, then resumed, so that nothing it starts can be
outside the job.

Only ctypes and documented kernel32 calls (CreateJobObjectW, SetInformationJobObject, AssignProcessToJobObject,
TerminateJobObject, CreateToolhelp32Snapshot, Thread32First/Next, OpenThread, ResumeThread, CloseHandle). It imports
on every system (the structures are plain ctypes, with Windows' fixed-width types spelled out) and calls Windows
only when a ``Job`` is made. This module starts no process: ``runner.py`` does.
"""
from __future__ import annotations

import ctypes
import functools
from typing import Any

# Windows' types by their width, not ctypes.wintypes (whose DWORD is a C long: 8 bytes on Linux).
DWORD = ctypes.c_uint32
LONG = ctypes.c_int32
LARGE_INTEGER = ctypes.c_int64
ULONGLONG = ctypes.c_uint64
SIZE_T = ctypes.c_size_t
ULONG_PTR = ctypes.c_size_t
HANDLE = ctypes.c_void_p

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JobObjectExtendedLimitInformation = 9
CREATE_SUSPENDED = 0x00000004
TH32CS_SNAPTHREAD = 0x00000004
THREAD_SUSPEND_RESUME = 0x0002
INVALID_HANDLE_VALUE = ctypes.c_void_p(-1).value


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", LARGE_INTEGER), ("PerJobUserTimeLimit", LARGE_INTEGER),
                ("LimitFlags", DWORD), ("MinimumWorkingSetSize", SIZE_T), ("MaximumWorkingSetSize", SIZE_T),
                ("ActiveProcessLimit", DWORD), ("Affinity", ULONG_PTR), ("PriorityClass", DWORD),
                ("SchedulingClass", DWORD)]


class IO_COUNTERS(ctypes.Structure):
    _fields_ = [(name, ULONGLONG) for name in ("ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
                                               "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION), ("IoInfo", IO_COUNTERS),
                ("ProcessMemoryLimit", SIZE_T), ("JobMemoryLimit", SIZE_T), ("PeakProcessMemoryUsed", SIZE_T),
                ("PeakJobMemoryUsed", SIZE_T)]


class THREADENTRY32(ctypes.Structure):
    _fields_ = [("dwSize", DWORD), ("cntUsage", DWORD), ("th32ThreadID", DWORD), ("th32OwnerProcessID", DWORD),
                ("tpBasePri", LONG), ("tpDeltaPri", LONG), ("dwFlags", DWORD)]


@functools.lru_cache(maxsize=None)
def kernel32() -> Any:
    """kernel32 with the signatures this module calls (so 64-bit handles are not cut to a C int); made once."""
    k = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    BOOL = ctypes.c_int
    for name, res, args in (
            ("CreateJobObjectW", HANDLE, [ctypes.c_void_p, ctypes.c_wchar_p]),
            ("SetInformationJobObject", BOOL, [HANDLE, ctypes.c_int, ctypes.c_void_p, DWORD]),
            ("AssignProcessToJobObject", BOOL, [HANDLE, HANDLE]),
            ("TerminateJobObject", BOOL, [HANDLE, ctypes.c_uint]),
            ("CloseHandle", BOOL, [HANDLE]),
            ("CreateToolhelp32Snapshot", HANDLE, [DWORD, DWORD]),
            ("Thread32First", BOOL, [HANDLE, ctypes.POINTER(THREADENTRY32)]),
            ("Thread32Next", BOOL, [HANDLE, ctypes.POINTER(THREADENTRY32)]),
            ("OpenThread", HANDLE, [DWORD, BOOL, DWORD]),
            ("ResumeThread", DWORD, [HANDLE])):
        fn = getattr(k, name)
        fn.restype, fn.argtypes = res, args
    return k


def _check(ok: Any, what: str) -> None:
    if not ok:
        raise ctypes.WinError(ctypes.get_last_error(), what)  # type: ignore[attr-defined]


class Job:
    """One render's Job object. ``api`` is kernel32 (a test hands in a stand-in that records the calls)."""

    def __init__(self, api: Any = None) -> None:
        self.api = api if api is not None else kernel32()
        handle = self.api.CreateJobObjectW(None, None)
        _check(handle, "CreateJobObjectW")
        self.handle = handle
        info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        try:
            _check(self.api.SetInformationJobObject(handle, JobObjectExtendedLimitInformation, ctypes.byref(info),
                                                    ctypes.sizeof(info)), "SetInformationJobObject")
        except OSError:
            self.close()
            raise

    def assign(self, process_handle: int) -> None:
        _check(self.api.AssignProcessToJobObject(self.handle, process_handle), "AssignProcessToJobObject")

    def terminate(self, exit_code: int = 1) -> None:
        """Kill every process in the job; quiet when the job is closed or already empty."""
        if self.handle:
            self.api.TerminateJobObject(self.handle, exit_code)

    def close(self) -> None:
        """Closing the last handle kills what is left in the job (KILL_ON_JOB_CLOSE)."""
        handle, self.handle = self.handle, None
        if handle:
            self.api.CloseHandle(handle)


def resume_process(pid: int, api: Any = None) -> int:
    """Resume the threads of a process created suspended (``CREATE_SUSPENDED``: it has one); how many were."""
    api = api if api is not None else kernel32()
    snapshot = api.CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0)
    if not snapshot or snapshot == INVALID_HANDLE_VALUE:
        raise ctypes.WinError(ctypes.get_last_error(), "CreateToolhelp32Snapshot")  # type: ignore[attr-defined]
    resumed = 0
    try:
        entry = THREADENTRY32()
        entry.dwSize = ctypes.sizeof(THREADENTRY32)
        more = api.Thread32First(snapshot, ctypes.byref(entry))
        while more:
            if entry.th32OwnerProcessID == pid:
                thread = api.OpenThread(THREAD_SUSPEND_RESUME, False, entry.th32ThreadID)
                if thread:
                    try:
                        if api.ResumeThread(thread) != 0xFFFFFFFF:
                            resumed += 1
                    finally:
                        api.CloseHandle(thread)
            entry.dwSize = ctypes.sizeof(THREADENTRY32)
            more = api.Thread32Next(snapshot, ctypes.byref(entry))
    finally:
        api.CloseHandle(snapshot)
    return resumed
