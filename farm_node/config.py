"""The node's configuration, in layers: defaults, then a TOML file, then ``FARM_*`` environment variables, then flags.

Read when a command starts, never at import. Each key below carries the comment that the README's configuration
reference repeats.
"""
from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from farm_node.errors import ConfigError
from farm_node.wire import DEFAULT_MAX_LOG_BYTES

DEFAULT_PORT = 8750


@dataclass
class Config:
    # Address to listen on. Loopback by default: a node that runs programs for whoever reaches it must be opened to
    # the network on purpose (--host 0.0.0.0 or a host's address).
    host: str = "127.0.0.1"
    # TCP port of the HTTP API (0 picks a free one; the chosen port is written to DATA_DIR/node.json).
    port: int = DEFAULT_PORT
    # Where the store (farm.sqlite), logs, backups and the generated tokens live. Default: the user data folder.
    data_dir: str = ""
    # Access token of the clients (every API call but /api/health and the worker protocol). Default: generated
    # once and kept in DATA_DIR/token. For `farm-node worker`: the coordinator's worker token.
    token: str = ""
    # A file holding the token, so that it need not be on the command line (where `ps` shows it).
    token_file: str = ""
    # (serve) The render hosts' own token for the worker protocol (CONTRACT section 9). Default: generated once and
    # kept in DATA_DIR/worker-token.
    worker_token: str = ""
    # The store: empty for the embedded SQLite file under the data folder, or postgresql://USER@HOST:PORT/DB to keep
    # the farm in PostgreSQL, where several coordinators can share it (CONTRACT section 7).
    store: str = ""
    # The host name this node reports for the frames it renders. Default: the machine's name.
    name: str = ""
    # Frames rendered at once on this host; 0 makes a coordinator that renders nothing itself.
    slots: int = 1
    # Programs this host may run, as NAME=PATH; a frame's first word is the NAME. `render` defaults to Maya's Render.
    exe: list = field(default_factory=list)
    # This host's tags (gpu, arnold, linux...): a job that requires tags renders only on hosts holding all of them.
    tags: list = field(default_factory=list)
    # Path prefixes mapped in a frame's arguments before they run here, as FROM=TO (e.g. Z:/projects=/mnt/projects).
    path_map: list = field(default_factory=list)
    # Let frames use Render's flags that run MEL (-preRender, -postRender, -preLayer, -postLayer, -preFrame,
    # -postFrame). Off: whoever can submit could run code on every render host.
    allow_mel: bool = False
    # Bytes of log kept per attempt; past it the log says so and the process keeps running.
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES
    # Seconds between a worker's heartbeats.
    heartbeat: float = 5.0
    # Seconds of silence after which a worker is declared lost and its frames are requeued.
    lost_after: float = 15.0
    # Failed frames of one job on one host before that host stops getting that job's frames (0: never).
    block_after: int = 3
    # Seconds between automatic XML backups of the queue into DATA_DIR/backups (0: none).
    backup_interval: float = 3600.0
    # Automatic backups kept; older ones are deleted.
    backup_keep: int = 24
    # (worker) The coordinators a worker takes frames from: one address, or several of one farm (it moves to the
    # next when one stops answering).
    coordinator: list = field(default_factory=list)

    def resolved_data_dir(self) -> str:
        if self.data_dir:
            return os.path.abspath(os.path.expanduser(self.data_dir))
        import platformdirs
        return platformdirs.user_data_dir("pyfarm", appauthor=False)

    def resolved_name(self) -> str:
        return self.name or socket.gethostname()


def _items(separator: str, split_each: bool = False) -> Any:
    """A list kind: a string (an environment variable, a TOML string) split on ``separator``; a list (a TOML array,
    repeated flags) as it is, or with each item split too when ``split_each`` (``--tags gpu,arnold``)."""
    def coerce(value: Any) -> list:
        whole = isinstance(value, str)
        parts = [value] if whole else list(value)
        out: list[str] = []
        for part in parts:
            if not isinstance(part, str):
                raise TypeError(part)
            out.extend(part.split(separator) if whole or split_each else [part])
        return [v.strip() for v in out if v.strip()]
    coerce.__name__ = "list"
    return coerce


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


_boolean.__name__ = "boolean"

# How each key's value is read from a TOML file, an environment variable or a flag. NAME=PATH pairs of --exe are
# joined like PATH entries (':' on Linux and macOS, ';' on Windows); path maps by ';' everywhere, since both sides
# of a mapping may hold ':' (a drive letter); tags and coordinators by commas.
_KINDS: dict[str, Any] = {
    "host": str, "port": int, "data_dir": str, "token": str, "token_file": str, "worker_token": str, "store": str,
    "name": str, "slots": int, "exe": _items(os.pathsep), "tags": _items(",", split_each=True), "path_map": _items(";"),
    "allow_mel": _boolean, "max_log_bytes": int, "heartbeat": float, "lost_after": float, "block_after": int,
    "backup_interval": float, "backup_keep": int, "coordinator": _items(",", split_each=True),
}
assert set(_KINDS) == {f.name for f in fields(Config)}, "every setting has its kind"


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = _KINDS[key]
    try:
        if kind is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise TypeError(value)
            return str(value)
        if kind in (int, float) and isinstance(value, bool):
            raise TypeError(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError("%s: %s must be a %s, not %r" % (origin, key, getattr(kind, "__name__", kind), value)
                          ) from None


def _read_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError("cannot read the configuration file %s: %s" % (path, exc.strerror)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("%s is not valid TOML: %s" % (path, exc)) from None
    return data.get("node", data)


def load(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
         config_file: str | None = None) -> Config:
    """Build the configuration from its layers; ``flags`` holds only the flags given on the command line."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or env.get("FARM_CONFIG")
    if path:
        for key, value in _read_toml(path).items():
            key = key.replace("-", "_")
            if key not in _KINDS:
                raise ConfigError("%s: unknown setting %r" % (path, key))
            values[key] = _coerce(key, value, path)
    for key in _KINDS:
        var = "FARM_" + key.upper()
        if var in env and env[var] != "":
            values[key] = _coerce(key, env[var], var)
    for key, value in (flags or {}).items():
        if value is not None and key in _KINDS:
            values[key] = _coerce(key, value, "--" + key.replace("_", "-"))
    cfg = Config(**values)
    if cfg.token_file and not cfg.token:
        try:
            with open(os.path.expanduser(cfg.token_file), encoding="utf-8") as f:
                cfg.token = f.read().strip()
        except OSError as exc:
            raise ConfigError("cannot read the token file %s: %s" % (cfg.token_file, exc.strerror)) from None
        if not cfg.token:
            raise ConfigError("the token file %s is empty" % cfg.token_file)
    if cfg.slots < 0:
        raise ConfigError("--slots must be 0 or more")
    if not 0 <= cfg.port <= 65535:
        raise ConfigError("--port must be from 0 to 65535")
    if cfg.heartbeat <= 0:
        raise ConfigError("--heartbeat must be a number of seconds above 0")
    if cfg.lost_after <= cfg.heartbeat:
        raise ConfigError("--lost-after (%gs) must be longer than --heartbeat (%gs): a host is lost after it missed"
                          " heartbeats" % (cfg.lost_after, cfg.heartbeat))
    return cfg
