"""The farm node's exception tree.

    FarmNodeError              anything the node raises on purpose
    +-- ConfigError            a bad flag, environment variable or configuration file
    +-- JobSpecError           a submitted job dictionary that is wrong; ``path`` names the place
    +-- NotFound               no such job, subjob or frame
    +-- Conflict               a job name that is already taken
    +-- StaleAttempt           a worker's report for an attempt that is no longer the frame's current one
    +-- QueueXMLError          an XML queue file that cannot be read (broken, hostile, wrong version)
    +-- ProgramNotAllowed      a frame names a program this host does not map with --exe
    +-- StoreError             a store that cannot be used: damaged, of a newer schema, of another farm, unreachable
    +-- CoordinatorUnavailable (a render host) its coordinator cannot be reached, or answered with a server error
    +-- CoordinatorRefused     (a render host) its coordinator refused its token

The HTTP layer turns each into a status code (farm_node/http/app.py has the table) with the message as the error
text; the two coordinator errors never reach it: the render host handles them (its reports wait in its spool).
"""
from __future__ import annotations


class FarmNodeError(Exception):
    """Root of the node's own errors."""


class ConfigError(FarmNodeError):
    pass


class JobSpecError(FarmNodeError):
    """A job dictionary that is not valid. ``path`` is e.g. ``Job1.subjobs.sub1.frames.3.command``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__("%s: %s" % (path, message) if path else message)
        self.path = path
        self.message = message


class NotFound(FarmNodeError):
    pass


class Conflict(FarmNodeError):
    pass


class StaleAttempt(FarmNodeError):
    pass


class QueueXMLError(FarmNodeError, ValueError):
    pass


class ProgramNotAllowed(FarmNodeError):
    pass


class StoreError(FarmNodeError):
    pass


class CoordinatorUnavailable(FarmNodeError):
    pass


class CoordinatorRefused(FarmNodeError):
    pass
