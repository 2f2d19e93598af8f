"""Path mapping on the host that renders (CONTRACT section 6): the rules as tables (Windows to Linux, Linux to
Windows, arguments that merely look like paths), then real hosts: a worker with --map, a node's own slots with the
TOML config, the image written where the mapping says, the log's first line the arguments that ran.
"""
from __future__ import annotations

import glob
import os
import shlex
import sys

import pytest

from farm_node.errors import ConfigError
from farm_node.path_map import PathMap
from tests.conftest import STANDIN, wait_for

TO_LINUX = PathMap.parse(["Z:/projects=/mnt/projects", "Z:/projects/show1=/fast/show1",
                          "//fileserver/projects=/mnt/fs"], sep="/")
TO_WINDOWS = PathMap.parse(["/mnt/projects=P:\\projects", "/home/art=\\\\nas\\art"], sep="\\")


@pytest.mark.parametrize("word, mapped", [
    ("Z:/projects/shot/scene.mb", "/mnt/projects/shot/scene.mb"),
    ("z:\\projects\\shot\\scene.mb", "/mnt/projects/shot/scene.mb"),          # drive letter in either case, \\ or /
    ("Z:\\projects/shot\\scene.mb", "/mnt/projects/shot/scene.mb"),            # both at once
    ("Z:/projects", "/mnt/projects"),                                          # the prefix itself
    ("Z:/projects/", "/mnt/projects/"),                                        # a trailing separator kept
    ("Z:/projects//shot/x.mb", "/mnt/projects/shot/x.mb"),
    ("Z:/projects/show1/a.mb", "/fast/show1/a.mb"),                            # the longest prefix wins
    ("\\\\fileserver\\projects\\a.mb", "/mnt/fs/a.mb"),                       # UNC
    ("//fileserver/projects/a.mb", "/mnt/fs/a.mb"),
])
def test_windows_paths_map_to_a_linux_host(word, mapped):
    assert TO_LINUX.map_path(word) == mapped


@pytest.mark.parametrize("word, mapped", [
    ("/mnt/projects/shot/scene.mb", "P:\\projects\\shot\\scene.mb"),
    ("/mnt/projects", "P:\\projects"),
    ("/home/art/tex/a.tx", "\\\\nas\\art\\tex\\a.tx"),
    ("\\mnt\\projects\\x", "P:\\projects\\x"),
])
def test_linux_paths_map_to_a_windows_host(word, mapped):
    assert TO_WINDOWS.map_path(word) == mapped


@pytest.mark.parametrize("word", [
    "Z:/projectsX/scene.mb",         # not a whole component
    "Z:/Projects/scene.mb",          # components other than the drive letter match exactly
    "Y:/projects/scene.mb",
    "projects/scene.mb", "Z:projects/scene.mb", "Z:",      # relative, drive-relative, a bare drive
    "-rd", "1:10", "-ai:lve", "mr", "5", "3.5", "",        # flags, frame ranges, values
    "http://fileserver/projects/a.mb",                     # a URL
    "-im=Z:/projects/x", "--out:Z:/projects/x",            # a path inside a longer word
    "/mnt/projects/a.mb",                                  # a path of the host's own side already
    "//fileserver/projectsX/a.mb", "///fileserver/projects/a.mb",
])
def test_arguments_that_merely_look_like_paths_stay_as_they_are(word):
    assert TO_LINUX.map_path(word) == word


@pytest.mark.parametrize("word", [
    "/mnt/projectsX/a.mb", "/Mnt/projects/a.mb", "mnt/projects/a.mb", "//mnt/projects/a.mb",  # UNC, not the root
    "-rd", "1:10", "-proj=/mnt/projects", "P:\\projects\\a.mb", "/home/artist/a.mb",
])
def test_on_a_windows_host_too(word):
    assert TO_WINDOWS.map_path(word) == word


def test_a_frames_arguments_are_mapped_but_never_its_program_name():
    argv = ["Z:/projects/render", "-r", "mr", "-rd", "Z:/projects/out", "-s", "1", "-e", "1", "Z:/projects/a.mb"]
    assert TO_LINUX.apply(argv) == ["Z:/projects/render", "-r", "mr", "-rd", "/mnt/projects/out", "-s", "1", "-e",
                                    "1", "/mnt/projects/a.mb"]
    assert PathMap().apply(argv) == argv and not PathMap()


@pytest.mark.parametrize("flag", ["Z:/projects", "Z:/projects=", "=/mnt/x", "projects=/mnt/projects",
                                  "Z:/projects=mnt/projects", "Z:projects=/mnt"])
def test_a_rule_needs_two_absolute_paths(flag):
    with pytest.raises(ConfigError, match="FROM=TO"):
        PathMap.parse([flag])


def _render_job(folder_word):
    # argv, not only the command: POSIX word splitting would take a Windows path's backslashes for escapes.
    argv = ["render", "-r", "sw", "-s", "1", "-e", "1", "-rd", folder_word + "/out", folder_word + "/scene.mb"]
    return {"subjobs": {"s": {"frames": {"1": {"command": " ".join(argv), "argv": argv}}}}}


def test_a_worker_and_a_nodes_own_slots_render_where_their_mapping_says(node_factory, worker_factory, unique_name,
                                                                        tmp_path):
    projects = str(tmp_path / "projects")
    config = tmp_path / "node.toml"
    config.write_text('tags = ["linux", "Maya2024"]\npath_map = ["Z:/projects=%s"]\n' % projects.replace("\\", "/"))
    node = node_factory(slots=1, args=["--config", str(config)])
    client = node.client()
    own = node.client().health()["node"]
    name = unique_name("own")
    client.submit({name: _render_job("z:\\projects")})
    job = wait_for(lambda: client.job(name)["status"] == "Complete" and client.job(name), what="the node's frame")
    frame = job["subjobs"]["s"]["frames"][1]
    assert frame["command"] == "render -r sw -s 1 -e 1 -rd z:\\projects/out z:\\projects/scene.mb"  # as submitted
    ran = [sys.executable, STANDIN, "-r", "sw", "-s", "1", "-e", "1", "-rd", os.path.join(projects, "out"),
           os.path.join(projects, "scene.mb")]
    assert client.log(name, "s", 1).splitlines()[0] == "[pyfarm] running: " + shlex.join(ran)
    assert glob.glob(os.path.join(projects, "out", "**", "*.png"), recursive=True)
    hosts = {w["name"]: w for w in client.workers()}
    assert hosts[own]["tags"] == ["linux", "maya2024"]

    far = str(tmp_path / "far")
    worker = worker_factory(node, "mapped", args=["--map", "//fileserver/projects=" + far, "--tags", "gpu"])
    wait_for(lambda: "mapped" in {w["name"] for w in client.workers()}, what="the worker")
    name = unique_name("far")
    client.submit({name: dict(_render_job("//fileserver/projects"), requires=["gpu"])})
    wait_for(lambda: client.job(name)["status"] == "Complete", what="the worker's frame")
    assert client.job(name)["subjobs"]["s"]["frames"][1]["host"] == worker.name
    first = client.log(name, "s", 1).splitlines()[0]
    assert first.startswith("[pyfarm] running: ") and shlex.quote(os.path.join(far, "scene.mb")) in first
    assert glob.glob(os.path.join(far, "out", "**", "*.png"), recursive=True)


def test_a_bad_mapping_or_tag_stops_a_host_at_start_with_the_reason(node_factory, worker_factory):
    node = node_factory(slots=0)
    worker = worker_factory(node, "bad", args=["--map", "Z:/projects"], start=None)
    worker.spawn()
    assert worker.proc.wait(30) != 0
    assert "--map takes FROM=TO" in worker.output()
    worker = worker_factory(node, "bad2", args=["--tags", "no spaces"], start=None)
    worker.spawn()
    assert worker.proc.wait(30) != 0
    assert "--tags" in worker.output() and "not a tag" in worker.output()
