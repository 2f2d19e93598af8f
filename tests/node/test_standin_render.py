"""The stand-in for Maya's Render, run as a real child process, as the node runs it."""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from farm_node.progress import ProgressParser
from farm_node.standin_render import script_path

REPO = Path(script_path()).parent.parent
RENDERERS = ["mr", "arnold", "sw", "vray", "redshift", "renderman", "rman"]


def standin_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYFARM_STANDIN_")}
    env["PYFARM_STANDIN_SECONDS"] = "0"
    env.update(extra or {})
    return env


def run(args: Sequence[str], cwd: Path, env: Optional[Dict[str, str]] = None,
        merged: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script_path(), *args], cwd=cwd, env=standin_env(env),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merged else subprocess.PIPE,
                          timeout=120)


def text(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.decode("utf-8", "replace")


def read_png(path: Path) -> Tuple[int, int, bytes]:
    """Checks the file is a valid RGB PNG (signature, chunk CRCs, data size); returns width, height, first pixel."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        chunks.append(kind)
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 3 * width)
    return width, height, raw[1:4]


def images(folder: Path) -> List[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))


# --- a normal render -----------------------------------------------------------------------------------------------

def test_script_path_is_this_file() -> None:
    path = Path(script_path())
    assert path.is_absolute() and path.name == "standin_render.py" and path.is_file()


def test_renders_frames_and_says_it_is_a_stand_in(tmp_path: Path) -> None:
    proc = run(["-r", "mr", "-v", "5", "-s", "1", "-e", "3", "scene.mb"], tmp_path)
    out = text(proc).splitlines()
    assert proc.returncode == 0
    assert "stand-in for Maya's Render, not Maya" in out[0]
    assert out[-1] == f"Scene {tmp_path / 'scene.mb'} completed."
    assert images(tmp_path / "images") == ["scene.0001.png", "scene.0002.png", "scene.0003.png"]
    pixels = {read_png(tmp_path / "images" / f"scene.000{n}.png")[2] for n in (1, 2, 3)}
    assert len(pixels) == 3  # the colour follows the frame
    for n in (1, 2, 3):
        path = tmp_path / "images" / f"scene.000{n}.png"
        assert any(line.endswith(f"progr: writing image file {path} (frame {n})") for line in out)


def test_writes_one_line_per_frame_to_stderr(tmp_path: Path) -> None:
    proc = run(["-r", "arnold", "-s", "1", "-e", "2", "scene.mb"], tmp_path, merged=False)
    assert proc.returncode == 0
    err = proc.stderr.decode().splitlines()
    assert err == [f"standin: wrote {tmp_path / 'images' / f'scene.000{n}.png'} (frame {n})" for n in (1, 2)]
    assert b"standin: wrote" not in proc.stdout


def test_fractional_frames_are_printed_as_maya_does(tmp_path: Path) -> None:
    proc = run(["-r", "mr", "-s", "1", "-e", "2", "-b", "0.5", "scene.mb"], tmp_path)
    out = text(proc)
    assert proc.returncode == 0
    for label in ("1", "1.5", "2"):
        assert f"begin scene preprocessing for frame {label}\n" in out
    assert images(tmp_path / "images") == ["scene.0001.5.png", "scene.0001.png", "scene.0002.png"]


def test_output_folder_name_layers_and_camera(tmp_path: Path) -> None:
    args = ["-r", "sw", "-s", "5", "-e", "5", "-rl", "beauty,shadow", "-cam", "|shotCam|shotCamShape",
            "-rd", str(tmp_path / "out"), "-im", "shot", "-pad", "3", "-x", "7", "-y", "5", "scene.mb"]
    proc = run(args, tmp_path)
    assert proc.returncode == 0, text(proc)
    assert images(tmp_path / "out") == ["beauty/shotCam_shotCamShape/shot.005.png",
                                        "shadow/shotCam_shotCamShape/shot.005.png"]
    assert read_png(tmp_path / "out" / "beauty" / "shotCam_shotCamShape" / "shot.005.png")[:2] == (7, 5)


def test_image_name_tokens_replace_subfolders(tmp_path: Path) -> None:
    proc = run(["-s", "1", "-rl", "fg", "-im", "<Scene>_<RenderLayer>", "-rd", "out", "shot.ma"], tmp_path)
    assert proc.returncode == 0
    assert images(tmp_path / "out") == ["shot_fg.0001.png"]


def test_default_output_is_beside_the_scene_or_in_the_project(tmp_path: Path) -> None:
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "shot.mb").write_bytes(b"not really Maya")
    assert run(["-s", "1", "scenes/shot.mb"], tmp_path).returncode == 0
    assert images(tmp_path / "scenes" / "images") == ["shot.0001.png"]
    assert run(["-s", "2", "-proj", str(tmp_path / "proj"), "scenes/shot.mb"], tmp_path).returncode == 0
    assert images(tmp_path / "proj" / "images") == ["shot.0002.png"]


def test_renderer_flags_are_accepted_and_unknown_flags_warned(tmp_path: Path) -> None:
    known = ["-r", "arnold", "-ai:lve", "2", "-rt", "0", "-gpu", "1", "-threads", "4", "-ris", "-pad", "4",
             "-of", "png", "-x", "8", "-y", "8"]
    quiet = run(known + ["-s", "1", "scene.mb"], tmp_path)
    assert quiet.returncode == 0
    assert "unknown flag" not in text(quiet)
    loud = run(["-frobnicate", "3", "-s", "1", "-shiny", "scene.mb"], tmp_path)
    assert loud.returncode == 0
    assert "// Warning: standin: unknown flag -frobnicate with value '3' ignored" in text(loud)
    assert "// Warning: standin: unknown flag -shiny ignored" in text(loud)


def test_mental_ray_below_verbosity_5_prints_no_progress(tmp_path: Path) -> None:
    proc = run(["-r", "mr", "-v", "4", "-s", "1", "scene.mb"], tmp_path)
    assert proc.returncode == 0
    assert "progr:" not in text(proc)
    assert images(tmp_path / "images") == ["scene.0001.png"]


def test_runs_as_a_module(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "farm_node.standin_render", "-s", "1", "-rd", str(tmp_path),
                           str(tmp_path / "scene.mb")], cwd=REPO, env=standin_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    assert proc.returncode == 0, text(proc)
    assert images(tmp_path) == ["scene.0001.png"]


def test_waits_the_configured_time_without_harm(tmp_path: Path) -> None:
    proc = run(["-r", "vray", "-s", "1", "-e", "2", "scene.mb"], tmp_path, {"PYFARM_STANDIN_SECONDS": "0.01"})
    assert proc.returncode == 0


# --- usage ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],                                   # no scene
    ["-r", "mr"],                         # the only word is the renderer's name
    ["-s", "abc", "scene.mb"],            # not a number
    ["-s", "5", "-e", "1", "scene.mb"],   # empty range
    ["-b", "0", "scene.mb"],              # no step
    ["a.mb", "b.mb"],                     # two scenes
    ["scene.mb", "-s"],                   # a flag without its value
])
def test_usage_errors_exit_1(tmp_path: Path, args: List[str]) -> None:
    proc = run(args, tmp_path)
    assert proc.returncode == 1
    assert "Usage: Render [options] filename" in text(proc)
    assert not (tmp_path / "images").exists()


def test_help_prints_usage_and_exits_0(tmp_path: Path) -> None:
    proc = run(["-h"], tmp_path)
    assert proc.returncode == 0
    assert "Usage: Render [options] filename" in text(proc)


# --- failure on demand ---------------------------------------------------------------------------------------------

def test_failing_frame_exits_210(tmp_path: Path) -> None:
    proc = run(["-r", "arnold", "-s", "1", "-e", "3", "scene.mb"], tmp_path, {"PYFARM_STANDIN_FAIL": "2, 9"})
    out = text(proc)
    assert proc.returncode == 210
    assert "Frame rendering aborted." in out
    assert out.splitlines()[-1] == "// Maya exited with status 210"
    assert "completed." not in out
    assert images(tmp_path / "images") == ["scene.0001.png"]


def test_fail_once_then_succeed_on_retry(tmp_path: Path) -> None:
    env = {"PYFARM_STANDIN_FAIL": "2", "PYFARM_STANDIN_FAIL_ONCE_DIR": str(tmp_path / "once")}
    args = ["-r", "sw", "-s", "2", "-e", "2", "scene.mb"]
    assert run(args, tmp_path, env).returncode == 210
    assert list((tmp_path / "once").iterdir())  # the marker the retry finds
    retry = run(args, tmp_path, env)
    assert retry.returncode == 0, text(retry)
    assert images(tmp_path / "images") == ["scene.0002.png"]


@pytest.mark.timeout(120)
def test_hanging_frame_waits_until_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, script_path(), "-r", "redshift", "-s", "1", "-e", "3", "scene.mb"],
                            cwd=tmp_path, env=standin_env({"PYFARM_STANDIN_HANG": "2"}), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if b"hangs (PYFARM_STANDIN_HANG)" in line:
                break
        else:
            pytest.fail("the stand-in ended instead of hanging")
        assert proc.poll() is None
        assert images(tmp_path / "images") == ["scene.0001.png"]
    finally:
        proc.kill()
        proc.communicate()


# --- logs for the node's harder cases --------------------------------------------------------------------------------

def test_junk_log_bytes(tmp_path: Path) -> None:
    args = ["-r", "sw", "-s", "1", "-e", "2", "scene.mb"]
    plain = run(args, tmp_path)
    size = 3 * 1024 * 1024 + 17
    noisy = run(args, tmp_path, {"PYFARM_STANDIN_LOG_BYTES": str(size)})
    assert noisy.returncode == 0
    assert len(noisy.stdout) - len(plain.stdout) == size
    assert b"\xff\xfe" in noisy.stdout and b"\r" in noisy.stdout
    assert max(len(line) for line in noisy.stdout.split(b"\n")) > 50000
    parser = ProgressParser.from_argv(args)
    for i in range(0, len(noisy.stdout), 65536):
        parser.feed(noisy.stdout[i:i + 65536])
    assert parser.progress == 100.0


def test_spawned_grandchild_outlives_the_stand_in(tmp_path: Path) -> None:
    proc = run(["-s", "1", "scene.mb"], tmp_path, {"PYFARM_STANDIN_SPAWN_CHILD": "1"})
    assert proc.returncode == 0
    lines = [line for line in text(proc).splitlines() if line.startswith("standin: child pid ")]
    assert len(lines) == 1
    pid = int(lines[0].rsplit(" ", 1)[1])
    try:
        if os.name == "posix":
            os.kill(pid, 0)  # still there: only killing the process tree would have ended it
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass


# --- end to end with the progress parser ---------------------------------------------------------------------------

@pytest.mark.parametrize("hint", [True, False], ids=["hinted", "any-renderer"])
@pytest.mark.parametrize("renderer", RENDERERS)
def test_each_renderer_style_parses_to_100(tmp_path: Path, renderer: str, hint: bool) -> None:
    args = ["-r", renderer, "-s", "1", "-e", "3", "scene.mb"]
    proc = run(args, tmp_path)
    assert proc.returncode == 0
    parser = ProgressParser.from_argv(["render"] + args) if hint else ProgressParser(None, frames=3)
    first_frame_end = proc.stdout.index(b"standin: wrote")
    values = []
    for i in range(0, len(proc.stdout), 97):  # chunks that cut lines anywhere
        end = min(i + 97, len(proc.stdout))
        value = parser.feed(proc.stdout[i:end])
        if value is not None:
            values.append(value)
        if i <= first_frame_end < end:
            assert parser.progress == pytest.approx(100 / 3, abs=0.01)
    assert values == sorted(values)
    assert any(0 < v < 100 / 3 for v in values)
    assert values[-1] == 100.0
