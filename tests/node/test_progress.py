"""ProgressParser against the log lines of maya.md section 4, fed as a live process would feed them."""
from __future__ import annotations

import tracemalloc
from typing import List, Optional

import pytest

from farm_node.progress import MAX_LINE_BYTES, ProgressParser, frames_from_argv, renderer_from_argv

# Real MtoA output (maya.md section 4, from AtomicConductor/mayaio-2019-bug-repro README.md).
ARNOLD_REAL = (
    b"00:00:01   505MB         |     5% done - 27 rays/pixel\n"
    b"00:00:09   514MB         |  render done in 0:08.090\n"
    b"00:00:09   514MB         |  [driver_exr] writing file `/tmp/output/maya2019-mtoa3.2.0.1-basic_01.0001.exr'\n"
    b"Scene /tmp/content/maya2019-mtoa3.2.0.1-basic_01.ma completed.\n"
)


def feed_all(parser: ProgressParser, data: bytes, chunk: int = 0) -> List[float]:
    """Every value feed() reported, feeding ``chunk`` bytes at a time (0: a line at a time)."""
    pieces = (data.splitlines(keepends=True) if not chunk
              else [data[i:i + chunk] for i in range(0, len(data), chunk)])
    values = []
    for piece in pieces:
        value = parser.feed(piece)
        if value is not None:
            values.append(value)
    return values


def lines(*text: str) -> bytes:
    return "".join(line + "\n" for line in text).encode()


# --- one renderer at a time ------------------------------------------------------------------------------------------

def test_arnold_real_lines() -> None:
    parser = ProgressParser("arnold")
    first_line_end = ARNOLD_REAL.index(b"\n") + 1
    assert parser.feed(ARNOLD_REAL[:first_line_end]) == 5.0
    assert parser.feed(ARNOLD_REAL[first_line_end:]) == 100.0
    assert parser.frames_done == 1


@pytest.mark.parametrize("renderer", ["arnold", None])
def test_arnold_percent_steps(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer)
    assert parser.feed(b"00:00:03   510MB         |    45% done - 27 rays/pixel\n") == 45.0
    assert parser.feed(b"00:00:04   510MB         |   100% done - 27 rays/pixel\n") == 100.0


@pytest.mark.parametrize("renderer", ["mr", None])
def test_mental_ray(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer)
    assert parser.feed(lines("SCEN 0.0 progr: begin scene preprocessing for frame 1")) is None
    assert parser.feed(lines("JOB  0.3  progr:  42.0% rendered on render01.3")) == 42.0
    assert parser.feed(lines("JOB  0.1  progr:    7.5% computing final gather points on render01.1")) is None
    assert parser.feed(lines("PHEN 0.0 progr: writing image file /x/img.0001.iff (frame 1)",
                             "RC   0.0 progr: rendering finished")) == 100.0


@pytest.mark.parametrize("renderer", ["sw", None])
def test_maya_software(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer)
    log = lines("Starting Rendering /home/u/maya/projects/default/images/tmp/untitled.iff.",
                "Constructing shading groups.", "Rendering current frame.",
                "[PROGRESS] Percentage of rendering done: 40")
    assert feed_all(parser, log) == [40.0]
    assert parser.feed(lines("Finished Rendering /home/u/maya/projects/default/images/untitled.iff.")) == 100.0


@pytest.mark.parametrize("renderer", ["vray", None])
def test_vray(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer)
    assert parser.feed(lines("V-Ray: Prepass 1 of 2...", "V-Ray: Rendering image...")) is None
    assert parser.feed(lines("[2024/Jan/05|10:00:01] V-Ray: 40%")) == 40.0
    assert parser.feed(lines("V-Ray:  55 %")) == 55.0
    assert parser.feed(lines("Rendering image... 70 % completed")) == 70.0
    assert parser.feed(lines("V-Ray: Total frame time 12.3 s")) == 100.0


@pytest.mark.parametrize("renderer", ["redshift", None])
def test_redshift_blocks_and_frame_index(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer)  # no frame count given: the log's (i/n) tells it
    assert parser.feed(lines("Rendering frame 10 (1/2)...")) is None
    assert parser.feed(lines("\tBlock 8/16 (384,0)-(511,127) rendered by GPU 0 in 12ms")) == 25.0
    assert parser.feed(lines("Rendering frame 11 (2/2)...")) == 50.0
    assert parser.feed(lines("\tBlock 16/16 (384,384)-(511,511) rendered by GPU 0 in 3ms")) == 100.0


@pytest.mark.parametrize("renderer", ["renderman", "rman", None])
def test_renderman_22_percent(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer)
    assert parser.feed(b"R90000  40%\n") == 40.0
    assert parser.feed(b"R90000 100%\n") == 100.0


def test_renderman_before_22_frame_notices() -> None:
    parser = ProgressParser("rman", frames=2)
    log = lines("rfm Notice: Rendering shot.ma at 1", "R90000 100%", "rfm Notice: Rendering shot.ma at 2")
    assert feed_all(parser, log) == [50.0]
    assert parser.frames_done == 1


def test_generic_progress() -> None:
    parser = ProgressParser()
    assert parser.feed(b"[PROGRESS] 30 percent\n") == 30.0
    assert parser.feed(b"[PROGRESS] 30 percent\n") is None  # unchanged


def test_renderer_hint_ignores_other_renderers_lines() -> None:
    parser = ProgressParser("arnold")
    assert feed_all(parser, lines("V-Ray: 40%", "R90000  60%", "JOB 0.1 progr: 70.0% rendered on h.1")) == []
    assert parser.feed(lines("00:00:01   505MB         |    20% done - 3 rays/pixel")) == 20.0
    # The generic form is printed by wrappers around any renderer.
    assert parser.feed(b"[PROGRESS] 25 percent\n") == 25.0


def test_unknown_renderer_hint_tries_every_renderer() -> None:
    parser = ProgressParser("file")
    assert parser.feed(b"V-Ray: 40%\n") == 40.0


def test_never_goes_backwards_within_a_frame() -> None:
    parser = ProgressParser("vray")
    assert feed_all(parser, lines("V-Ray: 80%", "V-Ray: 10%", "V-Ray: 85%")) == [80.0, 85.0]
    assert parser.progress == 85.0


# --- bytes as they come from a process -------------------------------------------------------------------------------

def test_byte_by_byte_gives_the_same_answer() -> None:
    whole = ProgressParser("arnold")
    feed_all(whole, ARNOLD_REAL)
    split = ProgressParser("arnold")
    values = feed_all(split, ARNOLD_REAL, chunk=1)
    assert values == [5.0, 100.0]
    assert split.progress == whole.progress == 100.0


def test_line_split_across_chunks_waits_for_its_end() -> None:
    parser = ProgressParser("arnold")
    assert parser.feed(b"00:00:01   505MB         |    3") is None
    assert parser.feed(b"5% done - 27 rays/pixel") is None  # no line end yet
    assert parser.feed(b"\n") == 35.0


def test_carriage_return_updates() -> None:
    parser = ProgressParser("renderman")
    assert parser.feed(b"R90000  10%\rR90000  20%\rR90000  30%\r") == 30.0
    assert parser.feed(b"\r\nR90000  50%\r\n") == 50.0


def test_invalid_utf8_around_progress() -> None:
    parser = ProgressParser("mr")
    data = b"\xff\xfe junk \xc3\x28\nJOB 0.1 progr:  64.0% rendered on \xed\xa0\x80host.1\n\x80\x81"
    assert parser.feed(data) == 64.0


def test_huge_line_without_newline_does_not_grow_memory() -> None:
    parser = ProgressParser("arnold")
    chunk = b"\xffjunk " * (1 << 17)  # 640 KiB, made once outside the measurement
    tracemalloc.start()
    try:
        for _ in range(160):  # 100 MiB of one line
            assert parser.feed(chunk) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_LINE_BYTES + (1 << 16)
    # The endless line ends; the next line is read normally.
    assert parser.feed(b"\n00:00:02   505MB         |    15% done - 3 rays/pixel\n") == 15.0


def test_progress_at_the_end_of_a_long_line_is_still_seen() -> None:
    parser = ProgressParser("arnold")
    parser.feed(b"x" * (3 * MAX_LINE_BYTES))
    assert parser.feed(b" |    60% done - 3 rays/pixel\n") == 60.0


def test_big_chunk_of_junk_with_many_lines() -> None:
    parser = ProgressParser()
    junk = (b"z" * 300 + b"\n") * 20000 + b"\rjunk 12/100\r"
    assert parser.feed(junk) is None
    assert parser.feed(junk + b"[PROGRESS] 12 percent\n" + junk) == 12.0


# --- several frames in one command -----------------------------------------------------------------------------------

def mental_ray_frame(frame: int) -> bytes:
    return lines(f"SCEN 0.0 progr: begin scene preprocessing for frame {frame}",
                 "JOB  0.1  progr:  50.0% rendered on h.1", "JOB  0.2  progr: 100.0% rendered on h.2",
                 f"PHEN 0.0 progr: writing image file /i/s.{frame:04d}.iff (frame {frame})",
                 "RC   0.0 progr: rendering finished")


def test_multi_frame_mental_ray_is_overall() -> None:
    parser = ProgressParser("mr", frames=4)
    assert feed_all(parser, mental_ray_frame(1)) == [12.5, 25.0]
    assert feed_all(parser, mental_ray_frame(2)) == [37.5, 50.0]
    assert parser.frames_done == 2
    assert parser.feed(mental_ray_frame(3) + mental_ray_frame(4)) == 100.0
    assert parser.frames_done == 4


def test_multi_frame_start_marker_without_end_marker_still_counts() -> None:
    parser = ProgressParser("mr", frames=2)
    feed_all(parser, lines("SCEN 0.0 progr: begin scene preprocessing for frame 1",
                           "JOB 0.1 progr: 90.0% rendered on h.1",
                           "SCEN 0.0 progr: begin scene preprocessing for frame 2"))
    assert parser.progress == 50.0


def test_multi_frame_arnold_render_done() -> None:
    parser = ProgressParser("arnold", frames=2)
    frame = lines("00:00:01   505MB         |    50% done - 2 rays/pixel", "00:00:02   505MB         |  render done")
    assert feed_all(parser, frame) == [25.0, 50.0]
    assert feed_all(parser, frame) == [75.0, 100.0]


@pytest.mark.parametrize("renderer", ["renderman", None])
def test_multi_frame_without_markers_counts_a_falling_percentage(renderer: Optional[str]) -> None:
    parser = ProgressParser(renderer, frames=3)
    values = feed_all(parser, b"R90000  50%\nR90000 100%\nR90000   0%\nR90000  60%\nR90000  90%\n")
    assert values == [pytest.approx(16.67), pytest.approx(33.33), pytest.approx(53.33), pytest.approx(63.33)]


def test_multi_frame_never_goes_backwards() -> None:
    parser = ProgressParser("vray", frames=2)
    log = lines("V-Ray: 50%", "V-Ray: 100%", "V-Ray: Building light cache...", "V-Ray: 10%", "V-Ray: 90%",
                "V-Ray: Total frame time 1.0 s", "V-Ray: 30%", "V-Ray: Total frame time 1.0 s")
    values = feed_all(parser, log, chunk=5)
    assert values == sorted(values)
    assert values[-1] == 100.0


def test_more_frame_ends_than_frames_stays_at_100() -> None:
    parser = ProgressParser("sw", frames=1)
    feed_all(parser, lines("Finished Rendering a.iff.", "Finished Rendering b.iff."))
    assert parser.progress == 100.0


def test_frames_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ProgressParser("mr", frames=0)


# --- argv helpers --------------------------------------------------------------------------------------------------

def test_renderer_from_argv() -> None:
    assert renderer_from_argv(["render", "-r", "mr", "-v", "5", "-s", "1", "-e", "1", "scene.mb"]) == "mr"
    assert renderer_from_argv(["render", "-s", "1", "scene.mb"]) is None
    assert renderer_from_argv(["render", "scene.mb", "-r"]) is None


@pytest.mark.parametrize("argv, frames", [
    ("render -r mr -v 5 -s 1 -e 1 scene.mb", 1),
    ("render -r arnold -s 1 -e 4 scene.mb", 4),
    ("render -s 1 -e 10 -b 2 scene.mb", 5),
    ("render -s 1 -e 2 -b 0.5 scene.mb", 3),
    ("render -s -5 -e 5 scene.mb", 11),
    ("render -s 1 -e 4 -rl beauty,shadow scene.mb", 8),
    ("render -s 1 -e 4 -rl true scene.mb", 4),
    ("render -s 7 scene.mb", 1),
    ("render -r sw scene.mb", None),
    ("render -s one -e 4 scene.mb", None),
    ("render -s 5 -e 1 scene.mb", None),
])
def test_frames_from_argv(argv: str, frames: Optional[int]) -> None:
    assert frames_from_argv(argv.split()) == frames


def test_from_argv() -> None:
    parser = ProgressParser.from_argv("render -r mr -s 1 -e 2 scene.mb".split())
    assert parser.renderer == "mr"
    assert feed_all(parser, mental_ray_frame(1)) == [25.0, 50.0]
