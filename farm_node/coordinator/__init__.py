"""The coordinator: the farm's decisions carried out (see core.py for its parts and their lock order)."""
from __future__ import annotations

from farm_node.coordinator.core import Coordinator
from farm_node.coordinator.hosts import HostState

__all__ = ["Coordinator", "HostState"]
