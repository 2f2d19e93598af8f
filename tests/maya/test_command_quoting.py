"""Frame commands survive POSIX shell-word splitting: shlex.split(command) == argv, for nasty scene paths."""
from __future__ import annotations

import random
import shlex

import pytest

from maya import _scenes
from maya_plugin.builder import build_job, command_string
from maya_plugin.scene import read_scene

NASTY = [
    "/projects/demo/scenes/scene.mb",
    "/projects/my show/scenes/shot 010 v003.mb",
    "/projects/it's/scenes/artist's scene.ma",
    '/projects/"quoted"/scenes/say "hi".mb',
    "/projects/$HOME/scenes/`whoami`.mb",
    "/projects/semi;colon/a&b|c>d<e.mb",
    "/projects/glob/*?[abc]{x,y}~.mb",
    "/projects/tab\there/new\nline.mb",
    "/projects/unicode/ш é 日本.mb",
    "C:/Users/Artist Name/Documents/maya/projects/default/scenes/test scene.mb",
    "C:\\Users\\artist\\scene with\\backslashes.mb",
    "//fileserver/share/it's a \"mix\" of $ and \\.mb",
    "/projects/trailing space /scene.mb ",
    "/projects/#hash/!bang/%percent.mb",
]


@pytest.mark.parametrize("path", NASTY)
def test_nasty_scene_paths_round_trip(maya_scene, path):
    maya_scene(_scenes.variant(_scenes.TWO_CAMERAS, file=path))
    jobs = build_job(read_scene(), name="quoting", frames="1-2", frames_per_task=2)
    for subjob in jobs["quoting"]["subjobs"].values():
        for entry in subjob["frames"].values():
            assert entry["argv"][-1] == path
            assert shlex.split(entry["command"]) == entry["argv"]


def test_layer_and_camera_names_round_trip(maya_scene):
    maya_scene({"file": "/p/a b.ma", "cameras": [{"name": "persp", "renderable": False},
                                                 {"name": "ns:cam", "parent": "grp"},
                                                 {"name": "ns:cam", "parent": "grp2"}],
                "layers": [{"name": "defaultRenderLayer"}, {"name": "beauty", "setup": True}]})
    jobs = build_job(read_scene(), name="j", frames="1")
    argvs = [e["argv"] for s in jobs["j"]["subjobs"].values() for e in s["frames"].values()]
    assert ["render", "-r", "sw", "-rl", "rs_beauty", "-cam", "grp|ns:cam", "-im", "<Layer>/<Camera>/<Scene>",
            "-s", "1", "-e", "1", "/p/a b.ma"] in argvs
    for s in jobs["j"]["subjobs"].values():
        for e in s["frames"].values():
            assert shlex.split(e["command"]) == e["argv"]


def test_plain_words_are_not_quoted():
    assert command_string(["render", "-r", "mr", "-v", "5", "-s", "-10", "-e", "1", "/p/scene.mb"]) == (
        "render -r mr -v 5 -s -10 -e 1 /p/scene.mb")
    assert command_string(["render", "-ai:lve", "2", "/p/a b.mb"]) == "render -ai:lve 2 '/p/a b.mb'"


def test_random_strings_round_trip():
    rng = random.Random(11)
    alphabet = "ab /\\'\"$`;&|<>*?[]{}()~#!%\t\n é"
    for _ in range(500):
        argv = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 6))]
        assert shlex.split(command_string(argv)) == argv
