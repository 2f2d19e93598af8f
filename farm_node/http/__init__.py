"""The HTTP layer: FastAPI only, no SQL, no processes (see app.py)."""
from __future__ import annotations

from farm_node.http.app import create_app

__all__ = ["create_app"]
