"""Small files the node and the worker keep beside their data: written whole or not at all, read forgivingly; and
the modes of everything in a data folder: the folder its owner's only (0700), its files too (0600) on POSIX. On
Windows the user data folder is already private to its owner (its ACL is inherited), and POSIX modes mean nothing.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import IO, Any

_POSIX = sys.platform != "win32"


def private_dir(path: str) -> str:
    """Make ``path`` (and its parents) if need be; the folder itself is its owner's only, and so are the parents it
    made (``os.makedirs`` gives them the umask's mode)."""
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path and not os.path.isdir(parent):
        private_dir(parent)
    os.makedirs(path, mode=0o700, exist_ok=True)
    if _POSIX:
        os.chmod(path, 0o700)
    return path


def make_private(path: str) -> None:
    """A file its owner's only, if it exists."""
    if _POSIX:
        try:
            os.chmod(path, 0o600)
        except FileNotFoundError:
            pass


def open_private(path: str, mode: str = "ab") -> IO[Any]:
    """``open(path, mode)`` for "ab", "wb" or "w", making the file readable by its owner only."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0) * ("b" in mode)
    flags |= os.O_APPEND if mode.startswith("a") else os.O_TRUNC
    return os.fdopen(os.open(path, flags, 0o600), mode, **({} if "b" in mode else {"encoding": "utf-8"}))


def write_json_atomic(path: str, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename: a crash leaves the old file whole."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def read_json(path: str) -> Any:
    """The JSON in ``path``, or None if it is missing or broken."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_int(path: str) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def write_int(path: str, value: int) -> None:
    tmp = path + ".tmp"
    with open_private(tmp, "w") as f:
        f.write(str(value))
    os.replace(tmp, path)
