"""``farm-monitor``: the Monitor panel as a window of its own, outside Maya.

    farm-monitor --url http://farm-node:8750 --token SECRET
    FARM_URL=http://farm-node:8750 FARM_TOKEN=SECRET farm-monitor

Without ``--url`` or ``FARM_URL`` it opens on the farm the Submit dialog remembered (Qt settings "PyFarm"), or with
an empty address to type in. Qt comes from an optional extra (``pip install "pyfarm[qt]"``); without a Qt binding it
says so and exits with status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="farm-monitor",
                                     description="Watch a PyFarm render farm: jobs, frames, logs and hosts.")
    parser.add_argument("--url", default=None, help="the farm node's address (default: $FARM_URL, else the address "
                                                    "the Maya Submit dialog remembered)")
    parser.add_argument("--token", default=None, help="the farm's access token (default: $FARM_TOKEN)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.url or os.environ.get("FARM_URL") or ""
    token = args.token or os.environ.get("FARM_TOKEN") or ""
    try:
        from maya_plugin.qt import QtWidgets, qt_exec
    except ImportError as exc:
        print("farm-monitor needs a Qt binding for Python, and none could be imported.\n"
              "Install one with:  pip install \"pyfarm[qt]\"   (PySide6; PySide2 on Python 3.7/3.8)\n"
              "(%s)" % exc, file=sys.stderr)
        return 2
    from maya_plugin.farm_client import FarmClient
    from maya_plugin.ui.monitor import MonitorPanel
    from maya_plugin.ui.settings import FarmSettings

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([sys.argv[0] if sys.argv else "farm-monitor"])
    if url:
        # an address given on the command line is used, not remembered over the artist's own
        panel = MonitorPanel(client_factory=FarmClient)
        panel.token_edit.setText(token)
        panel.connect_to(url, token)
    else:
        panel = MonitorPanel(client_factory=FarmClient, settings=FarmSettings())
    panel.setWindowTitle("PyFarm Monitor")
    panel.show()
    try:
        qt_exec(app)
    finally:
        panel.shutdown()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
