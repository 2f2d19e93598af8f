"""The farm address and token, remembered between sessions (QSettings, organisation "PyFarm", application "PyFarm").

The Submit dialog and the Monitor share them. The token is kept in the user's Qt settings in clear text, like a
browser's saved login for an intranet page: it grants access to the farm's queue, nothing on the artist's machine.
Tests hand in a QSettings on a temporary file.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from maya_plugin.qt import QtCore

__all__ = ["FarmSettings", "ORGANIZATION", "APPLICATION"]

ORGANIZATION = "PyFarm"
APPLICATION = "PyFarm"


class FarmSettings(object):
    """Typed access to the few values PyFarm's widgets remember."""

    def __init__(self, qsettings: Any = None) -> None:
        self.qsettings = qsettings if qsettings is not None else QtCore.QSettings(ORGANIZATION, APPLICATION)

    def _get(self, key: str, default: Any = "") -> Any:
        value = self.qsettings.value(key, default)
        return default if value is None else value

    def farm(self) -> Tuple[str, str]:
        """(address, token); empty strings when never set."""
        return str(self._get("farm/url") or ""), str(self._get("farm/token") or "")

    def set_farm(self, url: str, token: str) -> None:
        self.qsettings.setValue("farm/url", url.strip())
        self.qsettings.setValue("farm/token", token.strip())
        self.qsettings.sync()

    def value(self, key: str, default: Optional[Any] = None) -> Any:
        return self._get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, value)
