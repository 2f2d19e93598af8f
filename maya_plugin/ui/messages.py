"""Errors in words an artist can act on (the widgets show these, never a traceback)."""
from __future__ import annotations

from maya_plugin.errors import (FarmAuthError, FarmConflict, FarmError, FarmNotFound, FarmRejected,
                                FarmUnavailable, PreflightFailed, SubmitError)

__all__ = ["describe_error"]


def _sentence(text: str) -> str:
    text = str(text).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?:" else text + "."


def describe_error(exc: BaseException, doing: str = "") -> str:
    """One or two sentences for ``exc``; ``doing`` (e.g. "pause Job1") says what was being attempted."""
    text = _describe(exc, doing)
    return text[:1].upper() + text[1:]


def _describe(exc: BaseException, doing: str) -> str:
    prefix = ("Could not %s: " % doing) if doing else ""
    if isinstance(exc, FarmUnavailable):
        return prefix + _sentence(exc) + " Is the farm node running, and is the address right?"
    if isinstance(exc, FarmAuthError):
        return prefix + _sentence(exc) + " Check the token with whoever runs the farm."
    if isinstance(exc, FarmConflict):
        return prefix + _sentence(exc) + " Choose another job name."
    if isinstance(exc, FarmNotFound):
        return prefix + _sentence(exc) + " It may have been deleted meanwhile."
    if isinstance(exc, FarmRejected):
        return prefix + "the farm said: " + _sentence(exc)
    if isinstance(exc, PreflightFailed):
        return _sentence(exc)
    if isinstance(exc, (SubmitError, FarmError)):
        return prefix + _sentence(exc)
    if isinstance(exc, (OSError, ValueError)):
        return prefix + _sentence(exc)
    return prefix + "unexpected error (%s): %s" % (type(exc).__name__, _sentence(exc))
