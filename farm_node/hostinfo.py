"""What a render host tells the coordinator about itself: its OS, CPUs and memory."""
from __future__ import annotations

import os
import platform
from typing import Any


def host_info() -> dict[str, Any]:
    info: dict[str, Any] = {"os": platform.system(), "os_release": platform.release(), "cpus": os.cpu_count()}
    try:
        import psutil
        info["memory"] = psutil.virtual_memory().total
    except Exception:  # psutil is optional on odd platforms: the host still renders
        info["memory"] = None
    return info
