#!/usr/bin/env python3
"""PyFarm's stand-in for Maya's command-line ``Render`` (tests and the demo only: this is not Maya).

It takes the arguments a farm passes to ``Render``, prints a log in the style of the chosen renderer (so that the
node's progress parser can be tested end to end against each style) and writes one small real PNG per frame.
Stdlib only and without package-relative imports, so it runs by path (``python /path/to/standin_render.py ARGS``, which
is how the node runs it: ``script_path()``) as well as ``python -m farm_node.standin_render ARGS``.

Command line, as real Render: ``Render [options] filename`` with
  -r NAME       renderer whose log style is printed: mr (mental ray), arnold, sw (Maya Software; also hw, hw2, vr,
                file and anything unknown, with a warning for unknown names), vray, redshift, renderman (RfM 22+),
                rman (RfM before 22)
  -s -e -b      start, end, step; floats (1.5 is a frame); default 1, start, 1
  -rl LAYERS    comma-separated layers, each rendered for every frame into a subfolder; a boolean means "as saved"
  -cam CAMERA   the camera, a subfolder of the output
  -rd DIR       output folder; default <proj>/images with -proj, else images/ beside the scene
  -im NAME      image name, default the scene's base name; <Scene>, <RenderLayer>, <Camera> are replaced
  -proj DIR     project folder
  -v N          mental ray verbosity: below 5 its "progr:" lines are not printed (5 = progress messages)
  -pad N        frame-number padding (default 4);   -x N -y N   image size (small by default, at most 256)
  -of FMT       accepted, but the image is always a PNG;   -ai:lve, -rt, -gpu, -threads, -ris ...   accepted
  unknown flags take the next word as their value and are reported with a warning line, as a tolerant renderer.

Exit codes:
  0    every frame rendered; the last line is ``Scene <path> completed.``
  1    usage error (no scene, a flag without its value, a value that is not a number, an empty frame range); the
       ``Usage: Render [options] filename`` text is printed, as real Render does. ``-h`` prints it and exits 0.
  210  a frame failed (on demand, or its image could not be written): ``// Error: ... Frame rendering aborted.`` on
       stderr, then ``// Maya exited with status 210``. Frames rendered before it keep their images.

Output: stdout, flushed after every line; stderr gets one ``standin: wrote <image> (frame N)`` line per frame and the
error lines. A missing scene file is only warned about, so tests need not make one.

Environment, read when ``main`` runs:
  PYFARM_STANDIN_SECONDS        seconds per frame, spread over its progress lines (default 0.2; 0 = no waiting)
  PYFARM_STANDIN_FAIL           frames that fail, comma-separated ("3,7.5")
  PYFARM_STANDIN_FAIL_ONCE_DIR  a folder: a failing frame leaves a marker file there and fails only the first time
  PYFARM_STANDIN_HANG           frames that never finish (they sleep until killed)
  PYFARM_STANDIN_LOG_BYTES      that many bytes of junk log first: long lines, a line without newline, invalid UTF-8,
                                \\r updates
  PYFARM_STANDIN_SPAWN_CHILD    "1": start a sleeping grandchild first and print ``standin: child pid N``
"""
from __future__ import annotations

import math
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from typing import BinaryIO, Dict, List, Optional, Sequence, Tuple

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_RENDER_FAILED = 210

USAGE = """Usage: Render [options] filename
  where "filename" is a Maya ASCII or a Maya binary file.
Common options:
  -r <name>        renderer: mr, arnold, sw, vray, redshift, renderman, rman
  -s <float>       starting frame          -e <float>   end frame          -b <float>   by frame (step)
  -rl <names>      render layers           -cam <name>  camera
  -rd <path>       output directory        -im <name>   image file name    -proj <dir>  project directory
  -x <int> -y <int> resolution             -pad <int>   frame padding      -of <fmt>    image format
  -h               this help
(PyFarm's stand-in for Maya's Render: it prints a renderer-like log and writes a small PNG per frame.)"""

_VALUE_FLAGS = frozenset((
    "-r", "-s", "-e", "-b", "-rl", "-cam", "-rd", "-im", "-proj", "-v", "-ai:lve", "-rt", "-gpu", "-threads", "-pad",
    "-of", "-x", "-y",
    # Other documented Render flags that take a value (maya.md section 3): accepted without a warning.
    "-rfs", "-rfb", "-fnc", "-percentRes", "-rp", "-log", "-pythonver", "-skipExistingFrames", "-t", "-res",
    "-imageFile", "-art", "-aml", "-ai:alf", "-eaa", "-mb", "-n", "-inc", "-lr",
))
_BOOL_FLAGS = frozenset(("-ris", "-test", "-verb", "-keepMel"))
_HELP_FLAGS = frozenset(("-h", "-help", "--help"))
_BOOLEAN_WORDS = frozenset(("true", "false", "1", "0", "on", "off", "yes", "no"))

_DEFAULT_SECONDS = 0.2
_MAX_SIDE = 256
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")


def script_path() -> str:
    """The absolute path of this file: the node maps ``render`` to it and runs it with its own Python."""
    return os.path.abspath(__file__)


class _UsageError(Exception):
    pass


class _Help(Exception):
    pass


# --- command line -------------------------------------------------------------------------------------------------

class _Options:
    def __init__(self) -> None:
        self.values: Dict[str, str] = {}
        self.flags: List[str] = []
        self.unknown: List[Tuple[str, Optional[str]]] = []
        self.scene = ""
        self.frames: List[float] = []
        self.layers: List[Optional[str]] = [None]
        self.renderer = ""
        self.pad = 4
        self.size = (16, 9)
        self.verbosity: Optional[int] = None


def _is_flag(word: str) -> bool:
    # Negative numbers are values (-s -5), not flags.
    return word.startswith("-") and not _NUMBER.match(word)


def _number(opts: _Options, flag: str, kind: type, default: float | None = None):
    text = opts.values.get(flag)
    if text is None:
        return default
    try:
        return kind(text)
    except ValueError:
        raise _UsageError(f"{flag} needs a number, not {text!r}") from None


def _parse(argv: Sequence[str]) -> _Options:
    opts = _Options()
    files: List[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _HELP_FLAGS:
            raise _Help()
        if word in _BOOL_FLAGS:
            opts.flags.append(word)
            i += 1
        elif word in _VALUE_FLAGS:
            if i + 1 >= len(argv):
                raise _UsageError(f"{word} needs a value")
            opts.values[word] = argv[i + 1]
            i += 2
        elif _is_flag(word):
            # Tolerant: an unknown flag takes the next word, unless that is the scene (the last word) or a flag.
            has_value = i + 1 < len(argv) - 1 and not _is_flag(argv[i + 1])
            opts.unknown.append((word, argv[i + 1] if has_value else None))
            i += 2 if has_value else 1
        else:
            files.append(word)
            i += 1
    if not files:
        raise _UsageError("no scene file given")
    if len(files) > 1:
        raise _UsageError("more than one scene file: " + " ".join(files))
    opts.scene = files[0]
    opts.renderer = opts.values.get("-r", "")
    opts.frames = _frames(opts)
    opts.pad = _number(opts, "-pad", int, 4)
    width = _number(opts, "-x", int, 16)
    height = _number(opts, "-y", int, 9)
    if width < 1 or height < 1 or opts.pad < 0:
        raise _UsageError("-x, -y must be positive and -pad not negative")
    opts.size = (min(width, _MAX_SIDE), min(height, _MAX_SIDE))
    opts.verbosity = _number(opts, "-v", int, None)
    layers = opts.values.get("-rl")
    if layers is not None and layers.strip().lower() not in _BOOLEAN_WORDS:
        opts.layers = [name.strip() for name in layers.split(",") if name.strip()] or [None]
    return opts


def _frames(opts: _Options) -> List[float]:
    start = _number(opts, "-s", float, None)
    end = _number(opts, "-e", float, None)
    step = _number(opts, "-b", float, 1.0)
    if start is None:
        start = end if end is not None else 1.0
    if end is None:
        end = start
    if not step > 0:
        raise _UsageError(f"the step -b must be positive, not {step:g}")
    if end < start:
        raise _UsageError(f"the end frame {end:g} is before the start frame {start:g}")
    # Multiply rather than accumulate, so that -b 0.1 does not drift.
    count = int(math.floor((end - start) / step + 1e-9)) + 1
    return [round(start + k * step, 6) for k in range(count)]


def frame_label(frame: float) -> str:
    """A frame as Maya prints it: ``7`` for whole frames, ``7.5`` otherwise."""
    if frame == int(frame):
        return str(int(frame))
    return ("%.4f" % frame).rstrip("0").rstrip(".")


def _frame_token(frame: float, pad: int) -> str:
    whole, _, fraction = frame_label(abs(frame)).partition(".")
    return ("-" if frame < 0 else "") + whole.zfill(pad) + ("." + fraction if fraction else "")


def _safe_name(name: str) -> str:
    # Maya DAG paths and namespaces (|cam|camShape, ns:layer) must not become folders.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.lstrip("|")) or "_"


# --- environment --------------------------------------------------------------------------------------------------

class _Env:
    def __init__(self, environ: Dict[str, str], warn) -> None:
        self.seconds = self._float(environ, "PYFARM_STANDIN_SECONDS", _DEFAULT_SECONDS, warn)
        self.fail = self._frames(environ, "PYFARM_STANDIN_FAIL", warn)
        self.fail_once_dir = environ.get("PYFARM_STANDIN_FAIL_ONCE_DIR") or None
        self.hang = self._frames(environ, "PYFARM_STANDIN_HANG", warn)
        self.log_bytes = int(self._float(environ, "PYFARM_STANDIN_LOG_BYTES", 0, warn))
        self.spawn_child = environ.get("PYFARM_STANDIN_SPAWN_CHILD", "").strip().lower() in ("1", "true", "yes")

    @staticmethod
    def _float(environ: Dict[str, str], name: str, default: float, warn) -> float:
        text = environ.get(name, "").strip()
        if not text:
            return default
        try:
            return max(0.0, float(text))
        except ValueError:
            warn(f"{name}={text!r} is not a number; using {default}")
            return default

    @staticmethod
    def _frames(environ: Dict[str, str], name: str, warn) -> List[float]:
        frames = []
        for part in environ.get(name, "").split(","):
            if part.strip():
                try:
                    frames.append(float(part))
                except ValueError:
                    warn(f"{name}: {part.strip()!r} is not a frame number; ignored")
        return frames


def _listed(frame: float, frames: Sequence[float]) -> bool:
    return any(abs(frame - f) < 1e-6 for f in frames)


# --- output -------------------------------------------------------------------------------------------------------

def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


class _Log:
    """Line-wise, flushed output: a farm reads the log live, so nothing may wait in a buffer."""

    def __init__(self, out: BinaryIO, err: BinaryIO) -> None:
        self._out = out
        self._err = err

    def out(self, line: str) -> None:
        self.raw(_encode(line) + b"\n")

    def err(self, line: str) -> None:
        self._err.write(_encode(line) + b"\n")
        self._err.flush()

    def raw(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()

    def warn(self, text: str) -> None:
        self.out("// Warning: standin: " + text)


def _png(width: int, height: int, frame: float) -> bytes:
    """A valid RGB PNG whose colour follows the frame number (so frames are told apart at a glance)."""
    k = int(round(frame * 10))
    base = ((37 * k + 64) % 256, (91 * k + 128) % 256, (53 * k + 192) % 256)
    row_pixels = bytearray()
    for x in range(width):
        row_pixels += bytes(((c + 2 * x) % 256 for c in base))
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type "none"
        raw += bytes((v + y) % 256 for v in row_pixels) if y else row_pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Software\x00PyFarm standin_render (not Maya), frame " + frame_label(frame).encode())
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def _write_file(path: str, data: bytes) -> None:
    # Write beside and rename, so that a watcher never sees half an image.
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = path + ".part"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _junk_block(size: int) -> bytes:
    unit = (b"standin junk: a long line " + b"x" * 5000 + b"\n"
            + b"standin junk: invalid UTF-8 \xff\xfe\xc3\x28 \xe2\x82 \xed\xa0\x80 end\n"
            + b"\rstandin junk update 1/3\rstandin junk update 2/3\rstandin junk update 3/3\n"
            + b"standin junk: no newline for a while " + b"z" * 60000)
    return (unit * (size // len(unit) + 1))[:size]


def _write_junk(log: _Log, total: int) -> None:
    if total <= 0:
        return
    block = _junk_block(min(total, 1 << 20))
    left = total - 1  # the last byte is a newline, so the real log starts on a line of its own
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        log.raw(piece)
        left -= len(piece)
    log.raw(b"\n")


def _spawn_child(log: _Log) -> None:
    # Same process group, no inherited pipes: killing the tree must reach it, but it must not hold our log open.
    devnull = subprocess.DEVNULL
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                             stdin=devnull, stdout=devnull, stderr=devnull)
    log.out(f"standin: child pid {child.pid}")


# --- renderer log styles ------------------------------------------------------------------------------------------

class _Frame:
    def __init__(self, frame: float, index: int, total: int, path: str, layer: Optional[str]) -> None:
        self.frame = frame
        self.label = frame_label(frame)
        self.index = index  # 1-based, over every layer's frames
        self.total = total
        self.path = path
        self.layer = layer


class _Style:
    """Maya Software, also used for renderers without a style of their own."""

    name = "Maya Software"
    steps: Tuple[float, ...] = tuple(range(10, 101, 10))

    def __init__(self, opts: _Options) -> None:
        self.opts = opts
        self.t0 = time.monotonic()

    def begin(self, fr: _Frame) -> List[str]:
        return [f"Starting Rendering {fr.path}.", "Constructing shading groups.", "Rendering current frame."]

    def progress(self, fr: _Frame, pct: float) -> List[str]:
        return [f"[PROGRESS] Percentage of rendering done: {pct:g}"]

    def end(self, fr: _Frame) -> List[str]:
        return [f"Finished Rendering {fr.path}."]


class _MentalRay(_Style):
    name = "mental ray"
    steps = (4.2, 12.5, 25.0, 37.5, 50.0, 62.5, 75.0, 87.5, 100.0)

    def __init__(self, opts: _Options) -> None:
        super().__init__(opts)
        self.host = socket.gethostname().split(".")[0] or "localhost"
        # -v 5 is the level that adds progress messages; below it mental ray prints no "progr:" lines.
        self.quiet = opts.verbosity is not None and opts.verbosity < 5

    def begin(self, fr: _Frame) -> List[str]:
        return [] if self.quiet else [f"SCEN 0.0  progr: begin scene preprocessing for frame {fr.label}",
                                      f"SCEN 0.0  progr: end scene preprocessing for frame {fr.label}"]

    def progress(self, fr: _Frame, pct: float) -> List[str]:
        thread = int(pct) % 4 + 1
        return [] if self.quiet else [f"JOB  0.{thread}  progr: {pct:6.1f}% rendered on {self.host}.{thread}"]

    def end(self, fr: _Frame) -> List[str]:
        return [] if self.quiet else [f"PHEN 0.0  progr: writing image file {fr.path} (frame {fr.label})",
                                      "RC   0.0  progr: rendering finished"]


class _Arnold(_Style):
    name = "Arnold"
    steps = tuple(range(0, 101, 5))

    def _stamp(self, fr: _Frame) -> str:
        seconds = int(time.monotonic() - self.t0)
        clock = "%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
        return f"{clock}  {505 + fr.index:4d}MB         |"

    def begin(self, fr: _Frame) -> List[str]:
        w, h = self.opts.size
        return [f"{self._stamp(fr)} [mtoa] Rendering frame {fr.label}",
                f"{self._stamp(fr)} rendering image at {w} x {h}, 3 AA samples"]

    def progress(self, fr: _Frame, pct: float) -> List[str]:
        return [f"{self._stamp(fr)}{int(pct):6d}% done - 27 rays/pixel"]

    def end(self, fr: _Frame) -> List[str]:
        return [f"{self._stamp(fr)}  render done in 0:00.{fr.index % 1000:03d}",
                f"{self._stamp(fr)}  [driver_png] writing file `{fr.path}'"]


class _VRay(_Style):
    name = "V-Ray"

    @staticmethod
    def _stamp() -> str:
        return time.strftime("[%Y/%b/%d|%H:%M:%S] ")

    def begin(self, fr: _Frame) -> List[str]:
        s = self._stamp()
        return [f"{s}V-Ray: Starting frame {fr.label}", f"{s}V-Ray: Building light cache...",
                f"{s}V-Ray: Prepass 1 of 2...", f"{s}V-Ray: Prepass 2 of 2...", f"{s}V-Ray: Rendering image..."]

    def progress(self, fr: _Frame, pct: float) -> List[str]:
        return [f"{self._stamp()}V-Ray: {int(pct)}%"]

    def end(self, fr: _Frame) -> List[str]:
        s = self._stamp()
        return [f'{s}V-Ray: Successfully written image file "{fr.path}"', f"{s}V-Ray: Total frame time 0.2 s"]


class _Redshift(_Style):
    name = "Redshift"
    blocks = 16
    steps = tuple(b * 100.0 / 16 for b in range(1, 17))

    def begin(self, fr: _Frame) -> List[str]:
        return [f"Rendering frame {fr.label} ({fr.index}/{fr.total})...", "\tPreparing materials and shaders"]

    def progress(self, fr: _Frame, pct: float) -> List[str]:
        block = int(round(pct * self.blocks / 100))
        x, y = (block - 1) % 4 * 128, (block - 1) // 4 * 128
        return [f"\tBlock {block}/{self.blocks} ({x},{y})-({x + 127},{y + 127}) rendered by GPU 0 in 3ms"]

    def end(self, fr: _Frame) -> List[str]:
        return [f"\tSaved file '{fr.path}' in 1ms", f"Frame done - total time for frame {fr.label}: 0.2s"]


class _RenderMan(_Style):
    """RenderMan 22+: prman's R90000 progress only."""

    name = "RenderMan"

    def begin(self, fr: _Frame) -> List[str]:
        return []

    def progress(self, fr: _Frame, pct: float) -> List[str]:
        return [f"R90000 {int(pct):3d}%"]

    def end(self, fr: _Frame) -> List[str]:
        return []


class _RenderManClassic(_RenderMan):
    """RenderMan for Maya before 22: a frame notice, then prman's progress."""

    name = "RenderMan (before 22)"

    def begin(self, fr: _Frame) -> List[str]:
        return [f"rfm Notice: Rendering {os.path.basename(self.opts.scene)} at {fr.label}"]


_STYLES = {
    "mr": _MentalRay, "mentalray": _MentalRay, "arnold": _Arnold, "vray": _VRay, "redshift": _Redshift,
    "renderman": _RenderMan, "rman": _RenderManClassic,
    "sw": _Style, "hw": _Style, "hw2": _Style, "vr": _Style, "file": _Style, "": _Style,
}


# --- rendering ----------------------------------------------------------------------------------------------------

class _Render:
    def __init__(self, opts: _Options, env: _Env, log: _Log) -> None:
        self.opts = opts
        self.env = env
        self.log = log
        style = _STYLES.get(opts.renderer.lower())
        if style is None:
            log.warn(f"unknown renderer {opts.renderer!r}; printing a Maya Software log")
            style = _Style
        self.style = style(opts)
        self.scene = os.path.abspath(opts.scene)
        self.scene_base = os.path.splitext(os.path.basename(opts.scene))[0] or "untitled"

    def output_dir(self) -> str:
        if "-rd" in self.opts.values:
            return os.path.abspath(self.opts.values["-rd"])
        if "-proj" in self.opts.values:
            return os.path.join(os.path.abspath(self.opts.values["-proj"]), "images")
        return os.path.join(os.path.dirname(self.scene), "images")

    def image_path(self, layer: Optional[str], frame: float) -> str:
        camera = self.opts.values.get("-cam")
        name = self.opts.values.get("-im") or self.scene_base
        folder = self.output_dir()
        if layer and "<RenderLayer>" not in name and "<Layer>" not in name:
            folder = os.path.join(folder, _safe_name(layer))
        if camera and "<Camera>" not in name:
            folder = os.path.join(folder, _safe_name(camera))
        for token, value in (("<Scene>", self.scene_base), ("<RenderLayer>", layer or "masterLayer"),
                             ("<Layer>", layer or "masterLayer"), ("<Camera>", camera or "camera")):
            name = name.replace(token, _safe_name(value))
        return os.path.join(folder, f"{name}.{_frame_token(frame, self.opts.pad)}.png")

    def run(self) -> int:
        total = len(self.opts.frames) * len(self.opts.layers)
        self.log.out(f"standin: printing the log in the style of {self.style.name} for {self.scene}, {total} frame(s), "
                     f"output in {self.output_dir()}")
        if not os.path.exists(self.scene):
            self.log.warn(f"scene file {self.scene} does not exist; rendering a test pattern anyway")
        if self.opts.values.get("-of", "png").lower() != "png":
            self.log.warn(f"writes PNG images only; -of {self.opts.values['-of']} ignored")
        if self.env.spawn_child:
            _spawn_child(self.log)
        _write_junk(self.log, self.env.log_bytes)
        index = 0
        for layer in self.opts.layers:
            for frame in self.opts.frames:
                index += 1
                fr = _Frame(frame, index, total, self.image_path(layer, frame), layer)
                code = self.frame(fr)
                if code:
                    self.log.out(f"// Maya exited with status {code}")
                    return code
        self.log.out(f"Scene {self.scene} completed.")
        return EXIT_OK

    def frame(self, fr: _Frame) -> int:
        style, env = self.style, self.env
        fails = _listed(fr.frame, env.fail) and self._fails_now(fr)
        hangs = _listed(fr.frame, env.hang)
        delay = env.seconds / len(style.steps)
        self._lines(style.begin(fr))
        for pct in style.steps:
            self._lines(style.progress(fr, pct))
            if hangs:
                self.log.out(f"standin: frame {fr.label} hangs (PYFARM_STANDIN_HANG) until it is killed")
                while True:
                    time.sleep(60)
            if fails and pct >= 40:
                self.log.err(f"// Error: standin: simulated failure of frame {fr.label} (PYFARM_STANDIN_FAIL). "
                             "Frame rendering aborted.")
                return EXIT_RENDER_FAILED
            if delay > 0:
                time.sleep(delay)
        try:
            _write_file(fr.path, _png(self.opts.size[0], self.opts.size[1], fr.frame))
        except OSError as exc:
            self.log.err(f"// Error: Cannot write image file {fr.path}: {exc}. Frame rendering aborted.")
            return EXIT_RENDER_FAILED
        self._lines(style.end(fr))
        self.log.err(f"standin: wrote {fr.path} (frame {fr.label})")
        return EXIT_OK

    def _fails_now(self, fr: _Frame) -> bool:
        folder = self.env.fail_once_dir
        if not folder:
            return True
        parts = [self.scene_base] + [_safe_name(p) for p in (fr.layer, self.opts.values.get("-cam")) if p]
        marker = os.path.join(folder, f"{'_'.join(parts)}.{_frame_token(fr.frame, 4)}.failed")
        os.makedirs(folder, exist_ok=True)
        try:
            # O_EXCL makes "first time" atomic, should two attempts of the frame overlap.
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def _lines(self, lines: List[str]) -> None:
        for line in lines:
            self.log.out(line)


def main(argv: Optional[Sequence[str]] = None, environ: Optional[Dict[str, str]] = None) -> int:
    """Run the stand-in with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    log = _Log(sys.stdout.buffer, sys.stderr.buffer)
    log.out("PyFarm standin_render: a stand-in for Maya's Render, not Maya (tests and demo only)")
    try:
        opts = _parse(argv)
    except _Help:
        log.out(USAGE)
        return EXIT_OK
    except _UsageError as exc:
        log.err(f"// Error: {exc}")
        log.out(USAGE)
        return EXIT_USAGE
    for flag, value in opts.unknown:
        log.warn(f"unknown flag {flag}" + (f" with value {value!r}" if value is not None else "") + " ignored")
    env = _Env(dict(os.environ if environ is None else environ), log.warn)
    try:
        return _Render(opts, env, log).run()
    except BrokenPipeError:
        # The reader went away (the farm killed us or stopped listening): nothing left to tell anyone.
        return EXIT_RENDER_FAILED


if __name__ == "__main__":
    sys.exit(main())
