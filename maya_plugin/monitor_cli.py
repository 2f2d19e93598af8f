"""``farm-monitor``: the Monitor panel as a window of its own, outside Maya.

    farm-monitor --url http://farm-node:8750 --token SECRET
    FARM_URL=http://farm-node:8750 FARM_TOKEN=SECRET farm-monitor

Without ``--url`` or ``FARM_URL`` it opens on the farm the Submit dialog remembered (Qt settings "PyFarm"), or with
an empty address to type in. Qt comes from an optional extra (``pip install "pyfarm[qt]"``); without a Qt binding it
says so and exits with status 2.

On Linux the PySide6 wheel brings Qt but not the X11 libraries its ``xcb`` platform plugin loads, and a Qt that
cannot load that plugin aborts the process ("Could not load the Qt platform plugin "xcb"", core dumped) before Python
can catch anything. So before Qt starts, ``farm-monitor`` looks for those libraries (``XCB_LIBRARIES``, from Qt's
"Qt for X11 Requirements"; ``libxcb-cursor0`` is needed from Qt 6.5) and for a display, and when something is missing
it names the system packages to install (Debian/Ubuntu and RHEL/Rocky/Fedora names) and exits with status 2. The same
is done when importing Qt fails on a missing system library (``libEGL.so.1``, ...).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Callable, Dict, List, Mapping, Optional, Tuple

__all__ = ["main", "build_parser", "XCB_LIBRARIES", "SYSTEM_LIBRARIES", "missing_xcb_libraries", "qt_system_problem",
           "packages_message"]

#: (library, Debian/Ubuntu package, RHEL/Rocky/Fedora package, Qt versions) of the X11 libraries Qt's xcb platform
#: plugin loads, which the PySide wheels do not bring: what ``ldd`` shows for ``libqxcb.so`` and ``libQt*XcbQpa`` of
#: PySide6 6.5 and PySide2 5.15 (and Qt's "Qt for X11 Requirements"). The last field: None for every Qt, "6.5" for
#: Qt 6.5 and later ("From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed"), "5" for Qt 5 only.
XCB_LIBRARIES = (
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "6.5"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", None),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", None),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms", None),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil", None),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util", None),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb", None),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb", None),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb", None),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb", None),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb", None),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", None),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", None),
    ("libxcb-xinerama.so.0", "libxcb-xinerama0", "libxcb", "5"),
    ("libxcb.so.1", "libxcb1", "libxcb", None),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11", None),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", None),
)
#: The same for libraries QtGui itself links to, named when importing Qt fails on one of them.
SYSTEM_LIBRARIES = XCB_LIBRARIES + (
    ("libEGL.so.1", "libegl1", "mesa-libEGL", None),
    ("libGL.so.1", "libgl1", "mesa-libGL", None),
    ("libOpenGL.so.0", "libopengl0", "libglvnd-opengl", None),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", None),
    ("libfontconfig.so.1", "libfontconfig1", "fontconfig", None),
    ("libfreetype.so.6", "libfreetype6", "freetype", None),
    ("libdbus-1.so.3", "libdbus-1-3", "dbus-libs", None),
    ("libglib-2.0.so.0", "libglib2.0-0", "glib2", None),
    ("libX11.so.6", "libx11-6", "libX11", None),
)

Row = Tuple[str, str, str, Optional[str]]


def _load_library(name: str) -> bool:
    """Whether the dynamic linker finds ``name`` (what Qt does when it loads its plugin)."""
    import ctypes
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def _platform(environ: Mapping[str, str]) -> str:
    """The Qt platform plugin that will be tried first: QT_QPA_PLATFORM's first entry, else xcb outside Wayland."""
    asked = (environ.get("QT_QPA_PLATFORM") or "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked
    return "wayland" if environ.get("WAYLAND_DISPLAY") else "xcb"


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text or "")[:2])


def _needed(row: Row, qt: Tuple[int, ...]) -> bool:
    if row[3] is None or not qt:
        return True
    if row[3] == "5":
        return qt[0] == 5
    return qt >= _version(row[3])


def missing_xcb_libraries(qt_version: str = "", load: Optional[Callable[[str], bool]] = None) -> List[Row]:
    """The rows of ``XCB_LIBRARIES`` that Qt ``qt_version`` needs and the dynamic linker cannot find."""
    qt = _version(qt_version)
    found = load or _load_library
    return [row for row in XCB_LIBRARIES if _needed(row, qt) and not found(row[0])]


def packages_message(missing: List[Row]) -> str:
    """What to install for ``missing`` (rows of ``SYSTEM_LIBRARIES``), in words and as the commands to type."""
    debian = sorted(set(row[1] for row in missing))
    redhat = sorted(set(row[2] for row in missing))
    return ("farm-monitor cannot start Qt on this machine: it needs system libraries that are not installed (%s).\n"
            "Install them, then start farm-monitor again:\n"
            "  sudo apt install %s        (Debian, Ubuntu)\n"
            "  sudo dnf install %s        (RHEL, Rocky, Alma, Fedora)"
            % (", ".join(row[0] for row in missing), " ".join(debian), " ".join(redhat)))


def qt_system_problem(environ: Optional[Mapping[str, str]] = None, platform: Optional[str] = None,
                      qt_version: str = "", load: Optional[Callable[[str], bool]] = None) -> Optional[str]:
    """Why Qt ``qt_version`` could not open a window here (Linux with X11 only: missing libraries, no display), or
    None."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or _platform(environ) != "xcb":
        return None
    missing = missing_xcb_libraries(qt_version, load)
    if missing:
        return packages_message(missing)
    if not environ.get("DISPLAY"):
        return ("farm-monitor opens a window, and no display is set (DISPLAY is empty): run it in a desktop session, "
                "or over ssh with X forwarding (ssh -X).")
    return None


def _import_problem(exc: ImportError) -> Optional[str]:
    """The packages to install when importing Qt failed on a missing system library, or None."""
    found = re.findall(r"(lib[\w.+-]+?\.so(?:\.\d+)*)", str(exc))
    known = dict((row[0], row) for row in SYSTEM_LIBRARIES)  # type: Dict[str, Row]
    missing = [known[name] for name in found if name in known]
    if missing:
        return packages_message(missing)
    if found:
        return ("farm-monitor cannot load Qt: the system library %s is missing. Install the package that provides "
                "it (apt-file search %s, or dnf provides '*/%s')." % (found[0], found[0], found[0]))
    return None


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
        from maya_plugin.qt import QT_VERSION, QtWidgets, qt_exec
    except ImportError as exc:
        told = _import_problem(exc)
        if told is not None:
            print("%s\n(%s)" % (told, exc), file=sys.stderr)
            return 2
        print("farm-monitor needs a Qt binding for Python, and none could be imported.\n"
              "Install one with:  pip install \"pyfarm[qt]\"   (PySide6; PySide2 on Python 3.7/3.8)\n"
              "(%s)" % exc, file=sys.stderr)
        return 2
    if QtWidgets.QApplication.instance() is None:
        # Checked before Qt starts: a Qt that cannot load its platform plugin aborts the process.
        problem = qt_system_problem(qt_version=QT_VERSION)
        if problem is not None:
            print(problem, file=sys.stderr)
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
