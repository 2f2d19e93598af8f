"""The exception tree of the Maya side.

    FarmError                    anything PyFarm's Maya side raises on purpose
    +-- FarmUnavailable          the farm node cannot be reached (refused, timed out, DNS)
    +-- FarmAuthError            the node refused the token (HTTP 401)
    +-- FarmRejected             the node answered with an error; carries its message
    |   +-- FarmNotFound         404: no such job, subjob or frame
    |   +-- FarmConflict         409: a job name that is already taken
    +-- SubmitError              the scene cannot become a job
        +-- FrameListError       a frame list such as "10-1" that means nothing
        +-- SceneError           the scene cannot be read (no Maya, unknown node, ...)

Lower-level errors (requests, socket, Maya's RuntimeError) are translated at the boundary that meets them, so callers
and the UI only ever see these, each with a message an artist can read.
"""
from __future__ import annotations

from typing import Any, Optional


class FarmError(Exception):
    """Root of every error PyFarm's Maya side raises on purpose."""


class FarmUnavailable(FarmError):
    """The farm node did not answer (connection refused, timeout, unknown host)."""


class FarmAuthError(FarmError):
    """The farm node refused our token."""


class FarmRejected(FarmError):
    """The farm node answered with an error status; ``message`` is its own words."""

    def __init__(self, message: str, status: int = 0, path: Optional[str] = None,
                 payload: Optional[dict] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.path = path
        self.payload = payload or {}

    def __str__(self) -> str:
        if self.path:
            return "%s (at %s)" % (self.message, self.path)
        return self.message


class FarmNotFound(FarmRejected):
    """HTTP 404: the job, subjob or frame does not exist on the farm."""


class FarmConflict(FarmRejected):
    """HTTP 409: a job of that name is already on the farm."""


class SubmitError(FarmError):
    """The open scene cannot be turned into a job."""


class FrameListError(SubmitError, ValueError):
    """A frame list that cannot be parsed or renders nothing; the message names every bad part, ``problems`` lists
    them one by one."""

    def __init__(self, message: str, problems: Any = None) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems else [message]


class SceneError(SubmitError):
    """The scene could not be read through maya.cmds."""

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.detail = detail


class PreflightFailed(SubmitError):
    """Pre-flight checks found errors that block the submission; ``checks`` holds every finding (errors first)."""

    def __init__(self, message: str, checks: Any = None) -> None:
        super().__init__(message)
        self.checks = list(checks or [])
