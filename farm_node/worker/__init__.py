"""A render host of a coordinator (`farm-node worker`): a client of the coordinator, never above it.

It imports the exec side (runner, frame_run, progress), the wire vocabulary, files and errors, and nothing of the
coordinator's side.
"""
from __future__ import annotations

from farm_node.worker.agent import Worker
from farm_node.worker.client import CoordinatorClient
from farm_node.worker.spool import Spool

__all__ = ["Worker", "CoordinatorClient", "Spool"]
