#!/usr/bin/env python3
"""Draw PyFarm's shelf icons: ``icons/pyfarm_submit.{png,svg}`` and ``icons/pyfarm_monitor.{png,svg}``.

    QT_QPA_PLATFORM=offscreen python tools/make_icons.py

Made for Maya's dark grey shelf at 32 px: a solid coloured tile (orange for Submit, blue for Monitor, the colours of
the Monitor's statuses) with one white sign, so they read at a glance and differ by colour as well as by shape. Each
icon is a few shapes in a 32 x 32 box, drawn once with QPainter (the PNG) and written once as SVG, from the same list.
"""
from __future__ import annotations

import os
import sys
from typing import List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# A shape: ("rect", x, y, w, h, radius, colour) or ("poly", [(x, y), ...], colour)
Shape = Tuple

ORANGE, BLUE, WHITE = "#ef8a2c", "#3d8fd9", "#ffffff"
DARK = "#1d3b57"

SUBMIT = [
    ("rect", 1, 1, 30, 30, 6, ORANGE),
    ("poly", [(16, 4), (27, 15), (20, 15), (20, 23), (12, 23), (12, 15), (5, 15)], WHITE),  # an arrow up: send
    ("rect", 7, 25, 18, 3, 1.5, WHITE),  # the farm it goes to
]  # type: List[Shape]

MONITOR = [
    ("rect", 1, 1, 30, 30, 6, BLUE),
    ("rect", 5, 7, 22, 4, 2, DARK), ("rect", 5, 7, 22, 4, 2, WHITE),  # three progress bars
    ("rect", 5, 14, 22, 4, 2, DARK), ("rect", 5, 14, 14, 4, 2, WHITE),
    ("rect", 5, 21, 22, 4, 2, DARK), ("rect", 5, 21, 7, 4, 2, WHITE),
]  # type: List[Shape]

ICONS = {"pyfarm_submit": SUBMIT, "pyfarm_monitor": MONITOR}


def svg(shapes: List[Shape]) -> str:
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">']
    for shape in shapes:
        if shape[0] == "rect":
            _, x, y, w, h, r, colour = shape
            out.append('  <rect x="%g" y="%g" width="%g" height="%g" rx="%g" fill="%s"/>' % (x, y, w, h, r, colour))
        else:
            _, points, colour = shape
            out.append('  <polygon points="%s" fill="%s"/>' % (" ".join("%g,%g" % p for p in points), colour))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def png(shapes: List[Shape], size: int, path: str) -> None:
    from maya_plugin.qt import QtCore, QtGui
    image = QtGui.QImage(size, size, QtGui.QImage.Format_ARGB32)
    image.fill(QtGui.QColor(0, 0, 0, 0))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    painter.scale(size / 32.0, size / 32.0)
    painter.setPen(QtCore.Qt.NoPen)
    for shape in shapes:
        if shape[0] == "rect":
            _, x, y, w, h, r, colour = shape
            painter.setBrush(QtGui.QColor(colour))
            painter.drawRoundedRect(QtCore.QRectF(x, y, w, h), r, r)
        else:
            _, points, colour = shape
            painter.setBrush(QtGui.QColor(colour))
            painter.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(px, py) for px, py in points]))
    painter.end()
    if not image.save(path, "PNG"):
        raise OSError("could not write %s" % path)


def main() -> int:
    from maya_plugin.qt import QtGui
    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(sys.argv[:1])  # noqa: F841 (QPainter needs it)
    folder = os.path.join(ROOT, "icons")
    os.makedirs(folder, exist_ok=True)
    for name, shapes in ICONS.items():
        with open(os.path.join(folder, name + ".svg"), "w") as f:
            f.write(svg(shapes))
        png(shapes, 32, os.path.join(folder, name + ".png"))
        print("wrote icons/%s.png and icons/%s.svg" % (name, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
