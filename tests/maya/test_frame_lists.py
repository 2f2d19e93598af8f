"""The frame-list parser, formatter and chunker (maya_plugin.frames) against tables of good and bad inputs."""
from __future__ import annotations

import random

import pytest

from maya_plugin.errors import FrameListError, SubmitError
from maya_plugin.frames import (MAX_FRAMES, chunk, format_frames, frame_range, frame_runs, parse_frames,
                                parse_vray_frames)

GOOD = [
    ("1", [1]),
    ("1-5", [1, 2, 3, 4, 5]),
    ("1-10x5", [1, 6]),
    ("1-100x25", [1, 26, 51, 76]),
    ("1-9:4", [1, 5, 9]),
    ("1,5,10-12", [1, 5, 10, 11, 12]),
    ("-10--8", [-10, -9, -8]),
    ("-3-2", [-3, -2, -1, 0, 1, 2]),
    ("-5", [-5]),
    ("0", [0]),
    ("  1 - 3 ,  7  ", [1, 2, 3, 7]),
    ("1 5 10", [1, 5, 10]),
    ("1-3 7-8", [1, 2, 3, 7, 8]),
    ("1-10x3, 150", [1, 4, 7, 10, 150]),
    ("5,1,3,1,5", [1, 3, 5]),
    ("1-5,3-7", [1, 2, 3, 4, 5, 6, 7]),
    ("10-10", [10]),
    ("1-10 x 2", [1, 3, 5, 7, 9]),
    ("1001-1003", [1001, 1002, 1003]),
    ("1-100x2,150,200-210", list(range(1, 101, 2)) + [150] + list(range(200, 211))),
]


@pytest.mark.parametrize("text,expected", GOOD)
def test_good_frame_lists(text, expected):
    assert parse_frames(text) == expected


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("abc", "'abc'"),
    ("x0", "'x0'"),
    ("10-1", "'10-1'"),
    ("1-10x0", "'1-10x0'"),
    ("1-10x-2", "'1-10x-2'"),
    ("1.5", "'1.5'"),
    ("1-", "'1-'"),
    ("1-10x", "'1-10x'"),
    ("1,,2", "empty item"),
    ("1-3, abc, 5", "'abc'"),
    ("1 2 three", "'three'"),
    ("-", "'-'"),
    ("1-%d" % (MAX_FRAMES + 1), "too many frames"),
]


@pytest.mark.parametrize("text,named", BAD)
def test_bad_frame_lists_name_the_bad_part(text, named):
    with pytest.raises(FrameListError) as info:
        parse_frames(text)
    assert named in str(info.value)


def test_every_bad_part_is_named():
    with pytest.raises(FrameListError) as info:
        parse_frames("1-3, abc, 10-1 7 1-10x0,5")
    assert info.value.problems == [
        "'abc' is not a frame (12), a range (1-100) or a stepped range (1-100x5)",
        "'10-1': the range ends before it starts (write 1-10)",
        "'1-10x0': the step must be 1 or more",
    ]
    assert str(info.value) == "; ".join(info.value.problems)
    with pytest.raises(FrameListError) as info:
        parse_frames("x0")
    assert info.value.problems == [str(info.value)]


@pytest.mark.parametrize("text,expected", [
    ("1-3;10", [1, 2, 3, 10]),
    ("1-3,10", [1, 2, 3, 10]),
    ("5", [5]),
    (" 1 ; 4-5 ; 9 ", [1, 4, 5, 9]),
    ("1-10x5;20", [1, 6, 20]),
])
def test_v_ray_specific_frames(text, expected):
    assert parse_vray_frames(text) == expected


@pytest.mark.parametrize("text,named", [("", "frame list is empty"), (None, "frame list is empty"),
                                        ("1-3;;4", "empty item"), ("1-3;a", "'a'")])
def test_bad_v_ray_frame_lists(text, named):
    with pytest.raises(FrameListError) as info:
        parse_vray_frames(text)
    assert named in str(info.value)


def test_frame_list_errors_belong_to_the_tree():
    with pytest.raises(SubmitError):
        parse_frames("10-1")
    with pytest.raises(ValueError):
        parse_frames("10-1")


def test_messages_read_well():
    with pytest.raises(FrameListError) as info:
        parse_frames("10-1")
    assert str(info.value) == "'10-1': the range ends before it starts (write 1-10)"
    with pytest.raises(FrameListError) as info:
        parse_frames("1-10x0")
    assert str(info.value) == "'1-10x0': the step must be 1 or more"
    with pytest.raises(FrameListError) as info:
        parse_frames("x0")
    assert str(info.value) == "'x0' is not a frame (12), a range (1-100) or a stepped range (1-100x5)"


FORMATS = [
    ([], ""),
    ([1], "1"),
    ([1, 2], "1-2"),
    ([1, 2, 3, 4, 5], "1-5"),
    ([1, 3, 5, 7, 9], "1-9x2"),
    ([1, 5], "1,5"),
    ([1, 2, 3, 5, 7, 9, 12], "1-3,5-9x2,12"),
    ([3, 1, 2, 2], "1-3"),
    ([-10, -9, -8], "-10--8"),
    ([1, 3, 4, 5], "1,3-5"),
    ([1, 11, 21, 22], "1-21x10,22"),
]


@pytest.mark.parametrize("frames,text", FORMATS)
def test_format_frames(frames, text):
    assert format_frames(frames) == text


def test_format_round_trips_through_the_parser():
    rng = random.Random(7)
    for _ in range(300):
        frames = [rng.randint(-50, 200) for _ in range(rng.randint(1, 40))]
        assert parse_frames(format_frames(frames)) == sorted(set(frames))


CHUNKS = [
    ([1, 2, 3, 4, 5, 10, 11], 4, [[1, 2, 3, 4], [5], [10, 11]]),
    ([1, 2, 3], 1, [[1], [2], [3]]),
    ([1, 6, 11, 16, 21], 2, [[1, 6], [11, 16], [21]]),
    ([1, 2, 3, 10, 20, 30], 10, [[1, 2, 3], [10, 20, 30]]),
    ([1, 5], 10, [[1], [5]]),
    ([-3, -2, -1, 0], 3, [[-3, -2, -1], [0]]),
    ([], 4, []),
]


@pytest.mark.parametrize("frames,size,expected", CHUNKS)
def test_chunks_are_runs_with_one_step(frames, size, expected):
    assert chunk(frames, size) == expected


def test_chunk_size_must_be_positive():
    with pytest.raises(FrameListError):
        chunk([1, 2], 0)


def test_runs_and_ranges():
    assert frame_runs([1, 2, 3, 7, 9, 11]) == [(1, 3, 1, [1, 2, 3]), (7, 11, 2, [7, 9, 11])]
    assert frame_range(1, 10, 3) == [1, 4, 7, 10]
    assert frame_range(5, 1) == []
    with pytest.raises(FrameListError):
        frame_range(1, 10, 0)
