"""Is the SQLite file at the data folder a farm that may be served? Checked before the store opens it.

A store emptied to 0 bytes, truncated, or whose header is not SQLite's would otherwise be served as an empty farm (or
stop the node with a traceback), and the rolling backups, written from it, would rotate the good copies out within a
day. So the node refuses to start, with one sentence naming the file, the newest backup and the command that brings
it back. What is checked is what costs nothing on a big store: the header, the size it claims, and the schema.

The disk under the data folder can fill up while the node runs: ``disk_full`` tells an error of that kind (SQLite's
"database or disk is full", or an OS error ENOSPC/EDQUOT) from the others, so callers can wait for space instead of
failing the frame or answering 500.
"""
from __future__ import annotations

import errno
import glob
import logging
import os
import shutil
import sqlite3
import struct
import threading
from contextlib import contextmanager
from typing import Iterator

from farm_node.errors import StoreError

HEADER = b"SQLite format 3\x00"
# What every farm store holds once its first migration ran.
FARM_TABLES = {"jobs", "subjobs", "frames", "attempts"}
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_SQLITE_FULL = 13


def newest_backup(backups_dir: str) -> str | None:
    files = sorted(glob.glob(os.path.join(backups_dir, "queue-*.xml")))
    return files[-1] if files else None


def _refusal(path: str, what: str, backups_dir: str) -> StoreError:
    data_dir = os.path.dirname(path)
    backup = newest_backup(backups_dir)
    moved = path + ".damaged"
    text = ("the store %s %s: it is not served as a farm. Move it away (mv %s %s), start the node again, and"
            % (path, what, path, moved))
    if backup:
        text += " bring the queue back from the newest backup: farm-node restore %s --data-dir %s" % (backup, data_dir)
    else:
        text += " it starts an empty farm (there is no backup in %s)" % backups_dir
    return StoreError(text)


def check_sqlite(path: str, backups_dir: str) -> None:
    """Raise ``StoreError`` (saying how to recover) if the SQLite file at ``path`` is empty, truncated or not
    SQLite's; a missing file is a new farm."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return
    if size == 0:
        raise _refusal(path, "is empty (0 bytes)", backups_dir)
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise StoreError("cannot read the store %s: %s" % (path, exc.strerror)) from None
    if len(head) < 100 or not head.startswith(HEADER):
        raise _refusal(path, "is not an SQLite database (its header is damaged)", backups_dir)
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise _refusal(path, "is not an SQLite database (its header is damaged)", backups_dir)
    change, pages, valid_for = (struct.unpack(">I", head[24:28])[0], struct.unpack(">I", head[28:32])[0],
                                struct.unpack(">I", head[92:96])[0])
    # The page count in the header is trusted only when written with the change counter (SQLite's own rule).
    if size % page_size or (pages and change == valid_for and size < pages * page_size):
        raise _refusal(path, "is truncated (%d bytes; its header says %d)" % (size, pages * page_size), backups_dir)
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise _refusal(path, "cannot be read (%s)" % exc, backups_dir) from None
    if not FARM_TABLES <= tables and newest_backup(backups_dir):
        # A file with no farm in it beside backups of one: emptied, or replaced by mistake.
        raise _refusal(path, "holds no farm (no jobs table) while backups of one exist", backups_dir)


@contextmanager
def refusing_damage(path: str, backups_dir: str) -> Iterator[None]:
    """Around opening the store: what SQLite finds wrong there becomes the same sentence as ``check_sqlite``'s."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if disk_full(exc):
            raise StoreError("the disk of the store %s is full: free some space and start the node again" % path
                             ) from None
        raise _refusal(path, "cannot be used (%s)" % exc, backups_dir) from None


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full, or was raised while handling such an error (a
    ROLLBACK after SQLite already rolled the transaction back on SQLITE_FULL fails in turn)."""
    for _ in range(4):
        if exc is None:
            return False
        if _full(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _FULL_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == _SQLITE_FULL or (code is None and "full" in str(exc))
    return getattr(exc, "sqlstate", None) == "53100"  # PostgreSQL's disk_full


# Free space under which the data folder's disk counts as full (a frame's end is a few pages of SQLite).
MIN_FREE = 1024 * 1024


class DiskHealth:
    """Whether the data folder's disk has room: what ``/api/health`` says, and what the node's render slots wait on.

    A write that fails for lack of space (``failed``) makes the node ``degraded`` with the reason; it is well again
    once the disk has ``MIN_FREE`` bytes free, checked when asked (``problem``), so rendering resumes by itself.
    """

    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir
        self._problem: str | None = None

    def failed(self, what: str, exc: BaseException) -> None:
        reason = "the disk of the data folder %s is full: %s failed (%s)" % (self.data_dir, what,
                                                                            getattr(exc, "strerror", None) or exc)
        if self._problem is None:
            logging.getLogger("farm_node").error("%s; the node waits for free space", reason)
        self._problem = reason

    def problem(self) -> str | None:
        """The reason the node is degraded, or None (after a failure: until the disk has room again)."""
        if self._problem is not None and self.free() >= MIN_FREE:
            logging.getLogger("farm_node").warning("the disk of the data folder %s has room again", self.data_dir)
            self._problem = None
        return self._problem

    def free(self) -> int:
        try:
            return shutil.disk_usage(self.data_dir).free
        except OSError:
            return 0

    def wait_for_room(self, stop: threading.Event, every: float = 0.5) -> None:
        while self.problem() is not None and not stop.wait(every):
            pass
