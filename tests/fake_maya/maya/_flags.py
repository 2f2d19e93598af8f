"""Flag handling shared by the fake's commands: Maya takes each flag by its long or its short name."""
from __future__ import annotations

from typing import Any, Dict


def long_flags(command: str, kwargs: Dict[str, Any], table: Dict[str, str]) -> Dict[str, Any]:
    """kwargs with long flag names (``table`` maps long -> short); unknown flags raise TypeError as Maya does."""
    short_to_long = dict((v, k) for k, v in table.items())
    out = {}
    for key, value in kwargs.items():
        if key in table:
            out[key] = value
        elif key in short_to_long:
            out[short_to_long[key]] = value
        else:
            raise TypeError("Invalid flag '%s' (the fake maya.cmds.%s does not play it)" % (key, command))
    return out
