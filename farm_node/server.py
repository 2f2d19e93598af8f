"""`farm-node serve`: put a store, a coordinator, the local slots and the HTTP API together and run them."""
from __future__ import annotations

import hmac
import logging
import os
import secrets
import socket
import sys
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Callable

from farm_node.config import Config
from farm_node.errors import ConfigError
from farm_node.files import make_private, private_dir, write_json_atomic

log = logging.getLogger("farm_node")


def load_or_create_token(data_dir: str, file_name: str = "token") -> tuple[str, str, bool]:
    """A token of the node's from DATA_DIR/``file_name`` (``token``: the clients', ``worker-token``: the render
    hosts'), made on first use and readable by its owner only."""
    path = os.path.join(data_dir, file_name)
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
        if token:
            return token, path, False
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    # O_EXCL: two nodes started at once on one folder must not each write their own token.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_token(data_dir, file_name)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    if sys.platform != "win32":
        os.chmod(path, 0o600)
    # On Windows the user data folder is already private to its owner; no POSIX modes to set.
    return token, path, True


def _token(given: str, data_dir: str, file_name: str, flags: str) -> tuple[str, str]:
    """The token to use and a note of where it comes from (never the token itself)."""
    if given:
        return given, "the token given with %s" % flags
    token, path, made = load_or_create_token(data_dir, file_name)
    return token, "%s token kept in %s (owner-only)" % ("a new" if made else "the", path)


def open_farm_store(cfg: Config, data_dir: str, announce: Callable[[str], None]) -> Any:
    """The PostgreSQL store ``--store`` names (CONTRACT section 7). A PostgreSQL that does not answer yet is waited
    for (a node may start before its database); one that refuses the login, or lacks the database, is an error at
    once. A data folder used with one farm's database refuses another's: what it keeps belongs to the farm it
    served."""
    from farm_node.errors import StoreError
    from farm_node.store import open_store
    from farm_node.store.pg import wait_for_store
    wait_for_store(cfg.store, announce)
    store = open_store(cfg.store, data_dir)
    farm = store.farm_value("farm", secrets.token_hex(8))
    mark = os.path.join(data_dir, "farm-id")
    try:
        with open(mark, encoding="ascii") as f:
            known = f.read().strip()
    except FileNotFoundError:
        known = ""
    if known and known != farm:
        store.close()
        raise StoreError("the data folder %s served the farm %s, but the store %s holds the farm %s: give --store"
                         " that farm's database, or this node a data folder of its own (--data-dir)"
                         % (data_dir, known, store.path, farm))
    if not known:
        with open(mark, "w", encoding="ascii") as f:
            f.write(farm + "\n")
    return store


def _farm_token(store: Any, data_dir: str, name: str) -> str:
    """On a farm's shared store every coordinator takes the farm's tokens from it (the first one made them), so
    that clients and render hosts may use any coordinator; they are written into the data folder too (owner-only),
    where the node's own files are read from. Returns "" so that ``_token`` reads that file."""
    if store.shared:
        value = store.farm_value(name, secrets.token_urlsafe(32))
        path = os.path.join(data_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                same = f.read().strip() == value
        except FileNotFoundError:
            same = False
        if not same:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(value + "\n")
    return ""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it a
    # kept-alive HTTP connection waits ~40 ms per answer on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform != "win32":
        # Windows' SO_REUSEADDR lets a second process steal the port; elsewhere it only skips TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _server_class() -> Any:
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Any:
            # uvicorn re-raises the signal once its graceful shutdown is over, so a clean stop would exit by
            # SIGTERM; a node that stopped cleanly exits 0.
            signals = [signal.SIGINT, signal.SIGTERM]
            if sys.platform == "win32":
                signals.append(signal.SIGBREAK)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig: int, frame: Any) -> None:
            # Stop handing out frames and answer the workers' long polls now, not after the graceful shutdown's
            # wait for open connections.
            for hook in getattr(self, "exit_hooks", ()):
                hook()
            super().handle_exit(sig, frame)

    return Server


def serve(cfg: Config, announce: Callable[[str], None] = print) -> int:
    import asyncio

    import uvicorn

    from farm_node import runner
    from farm_node.backup import RollingBackups
    from farm_node.coordinator import Coordinator
    from farm_node.http import create_app
    from farm_node.local_worker import LocalWorker
    from farm_node.path_map import PathMap
    from farm_node.runner import ExeMap
    from farm_node.store import Store
    from farm_node.store import health as store_health

    data_dir = private_dir(cfg.resolved_data_dir())
    name = cfg.resolved_name()
    if cfg.store:
        store = open_farm_store(cfg, data_dir, announce)
    else:
        store_path = os.path.join(data_dir, "farm.sqlite")
        backups_dir = os.path.join(data_dir, "backups")
        store_health.check_sqlite(store_path, backups_dir)
        if not os.path.exists(store_path) and store_health.newest_backup(backups_dir):
            announce("  no store in %s: starting an empty farm; the newest backup is %s (farm-node restore FILE"
                     " brings it back)" % (data_dir, store_health.newest_backup(backups_dir)))
        with store_health.refusing_damage(store_path, backups_dir):
            store = Store(store_path)
        for suffix in ("", "-wal", "-shm"):  # SQLite makes them by the umask
            make_private(store_path + suffix)
    token, token_note = _token(cfg.token or _farm_token(store, data_dir, "token"), data_dir, "token",
                               "--token / --token-file / FARM_TOKEN")
    worker_token, worker_note = _token(cfg.worker_token or _farm_token(store, data_dir, "worker-token"), data_dir,
                                       "worker-token", "--worker-token / FARM_WORKER_TOKEN")
    if hmac.compare_digest(token, worker_token):
        raise ConfigError("the worker token must differ from the clients' token: render hosts and clients hold"
                          " different secrets (CONTRACT section 9)")
    coordinator = Coordinator(store, data_dir, name, max_log_bytes=cfg.max_log_bytes, heartbeat=cfg.heartbeat,
                              lost_after=cfg.lost_after, block_after=cfg.block_after)
    coordinator.actions.allow_mel = cfg.allow_mel
    recovered = coordinator.recover(runner.kill_orphan)
    exe_map = ExeMap.from_flags(cfg.exe, allow_mel=cfg.allow_mel)
    work_dir = private_dir(os.path.join(data_dir, "work"))
    # Whether the data folder's disk has room: what /api/health says, what the slots wait on when it is full.
    disk = getattr(coordinator.logs, "disk", None) or store_health.DiskHealth(data_dir)
    local = LocalWorker(coordinator, exe_map, cfg.slots, name, cwd=work_dir, disk=disk, tags=cfg.tags,
                        path_map=PathMap.parse(cfg.path_map))
    sock = bind(cfg.host, cfg.port)
    port = sock.getsockname()[1]
    shown_host = "[%s]" % cfg.host if ":" in cfg.host else cfg.host
    url = "http://%s:%d" % (shown_host, port)
    background: list[asyncio.Task] = []

    @asynccontextmanager
    async def lifespan(app: Any):
        local.start()
        # Remote render hosts: silent ones are declared lost, unclaimed frames requeued after a restart.
        coordinator.start()
        if cfg.backup_interval > 0:
            backups = RollingBackups(store.reader, data_dir, cfg.backup_interval, cfg.backup_keep)
            background.append(asyncio.create_task(backups.loop()))
        write_json_atomic(os.path.join(data_dir, "node.json"),
                          {"url": url, "port": port, "pid": os.getpid(), "name": name})
        announce("PyFarm node %r listening on %s (data in %s)" % (name, url, data_dir))
        announce("  renders %d frame(s) at once; programs: %s" % (
            cfg.slots, ", ".join("%s=%s" % kv for kv in sorted(exe_map.mapping.items())) or "none"))
        token_file = os.path.join(data_dir, "token")
        # The example reads the token file only where there is one: a token given on the command line has none.
        example = ("FARM_TOKEN=$(cat %s) farm jobs" % token_file if os.path.exists(token_file)
                   else "FARM_TOKEN=<that token> farm jobs")
        announce("  auth: %s; clients send 'Authorization: Bearer <token>', e.g. %s" % (token_note, example))
        announce("  render hosts: %s; e.g. farm-node worker --coordinator %s --token-file <a copy of %s>"
                 % (worker_note, url, os.path.join(data_dir, "worker-token")))
        if recovered:
            announce("  %d frame(s) that were rendering when the node stopped are queued again" % recovered)
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            coordinator.shutdown()
            local.stop()

    app = create_app(coordinator, store.reader, token, name, lifespan=lifespan, worker_token=worker_token,
                     disk=disk)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3, lifespan="on",
                            access_log=False)
    server = _server_class()(config)
    server.exit_hooks = [coordinator.shutdown, app.state.close_polls]
    try:
        server.run(sockets=[sock])
    finally:
        store.close()
        coordinator.close()
    return 0
