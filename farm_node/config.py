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

DEFAULT_PORT = 8750


@dataclass
class Config:
    # Address to listen on. Loopback by default: a node that runs programs for whoever reaches it must be opened to
    # the network on purpose (--host 0.0.0.0 or a host's address).
    host: str = "127.0.0.1"
    # TCP port of the HTTP API (0 picks a free one; the chosen port is written to DATA_DIR/node.json).
    port: int = DEFAULT_PORT
    # Where the store (farm.sqlite), logs, backups and the generated token live. Default: the user data folder.
    data_dir: str = ""
    # Access token for every API call but /api/health. Default: generated once and kept in DATA_DIR/token.
    token: str = ""
    # The host name this node reports for the frames it renders. Default: the machine's name.
    name: str = ""
    # Frames rendered at once on this host; 0 makes a coordinator that renders nothing itself.
    slots: int = 1
    # Programs this host may run, as NAME=PATH; a frame's first word is the NAME. `render` defaults to Maya's Render.
    exe: list = field(default_factory=list)
    # Bytes of log kept per attempt; past it the log says so and the process keeps running.
    max_log_bytes: int = 512 * 1024 * 1024
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
    # The coordinator a worker takes frames from (farm-node worker).
    coordinator: str = ""

    def resolved_data_dir(self) -> str:
        if self.data_dir:
            return os.path.abspath(os.path.expanduser(self.data_dir))
        import platformdirs
        return platformdirs.user_data_dir("pyfarm", appauthor=False)

    def resolved_name(self) -> str:
        return self.name or socket.gethostname()


_TYPES = {f.name: f.type for f in fields(Config)}


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = _TYPES[key]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "list":
            if isinstance(value, str):
                # NAME=PATH pairs joined like PATH entries: ':' on Linux and macOS, ';' on Windows.
                return [v for v in (p.strip() for p in value.split(os.pathsep)) if v]
            return list(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError("%s: %s must be a %s, not %r" % (origin, key, kind, value)) from None


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
            if key not in _TYPES:
                raise ConfigError("%s: unknown setting %r" % (path, key))
            values[key] = _coerce(key, value, path)
    for key in _TYPES:
        var = "FARM_" + key.upper()
        if var in env and env[var] != "":
            values[key] = _coerce(key, env[var], var)
    for key, value in (flags or {}).items():
        if value is not None and key in _TYPES:
            values[key] = _coerce(key, value, "--" + key.replace("_", "-"))
    cfg = Config(**values)
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
