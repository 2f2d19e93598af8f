"""`farm-node worker`: a render host of a coordinator, until SIGTERM or CTRL-C."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any, Callable

from farm_node.cli.common import config_flags, node_flags


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("worker", help="run a render host that takes frames from a coordinator")
    w.add_argument("--coordinator", action="append", metavar="URL[,URL...]",
                   help="the coordinator's address, e.g. http://farm01:8750; several of one farm (repeatable or"
                        " comma-separated): the worker moves to the next when one stops answering")
    node_flags(w)
    w.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from farm_node import config
    return serve_worker(config.load(config_flags(ns), config_file=ns.config))


def _say(message: str) -> None:
    print(message, flush=True)


def serve_worker(cfg: Any, announce: Callable[[str], None] = _say) -> int:
    """Render frames of the coordinator at ``cfg.coordinator`` until SIGTERM or CTRL-C."""
    from farm_node.errors import ConfigError
    from farm_node.files import write_json_atomic
    from farm_node.runner import ExeMap
    from farm_node.path_map import PathMap
    from farm_node.worker import Worker

    if not cfg.coordinator:
        raise ConfigError("farm-node worker needs the coordinator's address: --coordinator URL (or"
                          " FARM_COORDINATOR), e.g. http://farm01:8750")
    if not cfg.token:
        raise ConfigError("farm-node worker needs the coordinator's worker token: --token-file FILE, --token or"
                          " FARM_TOKEN (the coordinator keeps it in its data folder, file 'worker-token')")
    name = cfg.resolved_name()
    if cfg.data_dir:
        data_dir = cfg.resolved_data_dir()
    else:
        data_dir = os.path.join(cfg.resolved_data_dir(), "worker-" + name)
    os.makedirs(data_dir, exist_ok=True)
    exe_map = ExeMap.from_flags(cfg.exe, allow_mel=cfg.allow_mel)
    worker = Worker(cfg.coordinator, cfg.token, name, data_dir, exe_map, cfg.slots, heartbeat=cfg.heartbeat,
                    max_log_bytes=cfg.max_log_bytes, announce=announce, tags=cfg.tags,
                    path_map=PathMap.parse(cfg.path_map))
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signals = [signal.SIGINT, signal.SIGTERM]
    if sys.platform == "win32":
        signals.append(signal.SIGBREAK)
    for sig in signals:
        signal.signal(sig, on_signal)

    recovered = worker.recover()
    refused = worker.first_contact()
    if refused:
        print("farm-node worker: %s" % refused, file=sys.stderr)
        worker.spool.close()
        return 2
    worker.start()
    write_json_atomic(os.path.join(data_dir, "node.json"),
                      {"url": "", "port": 0, "pid": os.getpid(), "name": name, "coordinator": cfg.coordinator})
    announce("PyFarm worker %r rendering %d frame(s) at once for %s (data in %s); programs: %s" % (
        name, cfg.slots, ", ".join(cfg.coordinator), data_dir,
        ", ".join("%s=%s" % kv for kv in sorted(exe_map.mapping.items())) or "none"))
    if recovered:
        announce("  %d frame(s) this worker was rendering when it was killed are reported abandoned" % recovered)
    while not stop.wait(0.5):
        pass
    worker.stop()
    return 0
