"""What a render host tells the coordinator about itself: its OS, CPUs and memory, and its tags."""
from __future__ import annotations

import os
import platform
from typing import Any, Iterable

from farm_node.errors import ConfigError
from farm_node.scheduler import tag_problem


def host_info() -> dict[str, Any]:
    info: dict[str, Any] = {"os": platform.system(), "os_release": platform.release(), "cpus": os.cpu_count()}
    try:
        import psutil
        info["memory"] = psutil.virtual_memory().total
    except Exception:  # psutil is optional on odd platforms: the host still renders
        info["memory"] = None
    return info


def host_tags(values: Iterable[str]) -> list[str]:
    """This host's ``--tags``, checked and in lower case (a job's ``requires`` are compared with them so)."""
    out: list[str] = []
    for value in values:
        problem = tag_problem(value)
        if problem:
            raise ConfigError("--tags: %s" % problem)
        if value.lower() not in out:
            out.append(value.lower())
    return out
