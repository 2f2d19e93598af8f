"""The node's configuration layers and the kinds of its settings."""
from __future__ import annotations

import os

import pytest

from farm_node import config
from farm_node.errors import ConfigError


def test_list_settings_split_as_their_kind_says(tmp_path):
    toml = tmp_path / "farm.toml"
    toml.write_text('tags = ["gpu", "arnold"]\npath_map = ["Z:/projects=/mnt/projects"]\n')
    cfg = config.load({}, environ={}, config_file=str(toml))
    assert cfg.tags == ["gpu", "arnold"] and cfg.path_map == ["Z:/projects=/mnt/projects"]
    env = {"FARM_TAGS": "gpu, linux", "FARM_PATH_MAP": "Z:/a=/mnt/a;y:\\b=/mnt/b",
           "FARM_COORDINATOR": "http://a:8750,http://b:8750", "FARM_EXE": os.pathsep.join(["render=/r", "nuke=/n"])}
    cfg = config.load({}, environ=env)
    assert cfg.tags == ["gpu", "linux"]
    assert cfg.path_map == ["Z:/a=/mnt/a", "y:\\b=/mnt/b"]  # a drive letter's ':' is not a separator
    assert cfg.coordinator == ["http://a:8750", "http://b:8750"]
    assert cfg.exe == ["render=/r", "nuke=/n"]
    # repeated flags: tags and coordinators may also be comma lists, NAME=PATH pairs are taken whole
    cfg = config.load({"tags": ["gpu,arnold", "linux"], "exe": ["render=/opt/a,b/Render"]}, environ={})
    assert cfg.tags == ["gpu", "arnold", "linux"] and cfg.exe == ["render=/opt/a,b/Render"]


def test_a_flag_beats_the_environment_which_beats_the_file(tmp_path):
    toml = tmp_path / "farm.toml"
    toml.write_text("[node]\nslots = 2\nheartbeat = 2.0\n")
    cfg = config.load({"slots": 4}, environ={"FARM_SLOTS": "3", "FARM_HEARTBEAT": "3"}, config_file=str(toml))
    assert (cfg.slots, cfg.heartbeat) == (4, 3.0)


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("false", False), ("0", False)])
def test_booleans_from_the_environment(value, expected):
    assert config.load({}, environ={"FARM_ALLOW_MEL": value}).allow_mel is expected


@pytest.mark.parametrize("env, words", [
    ({"FARM_SLOTS": "two"}, "FARM_SLOTS: slots must be a int"),
    ({"FARM_ALLOW_MEL": "maybe"}, "allow_mel must be a boolean"),
    ({"FARM_HEARTBEAT": "true"}, "heartbeat must be a float"),
])
def test_a_bad_value_names_where_it_came_from(env, words):
    with pytest.raises(ConfigError, match=words):
        config.load({}, environ=env)


def test_the_token_can_come_from_a_file(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    assert config.load({"token_file": str(secret)}, environ={}).token == "s3cret"
    with pytest.raises(ConfigError, match="cannot read the token file"):
        config.load({"token_file": str(tmp_path / "missing")}, environ={})
    assert config.load({"token_file": str(secret), "token": "given"}, environ={}).token == "given"


def test_an_unknown_setting_in_the_file_is_refused(tmp_path):
    toml = tmp_path / "farm.toml"
    toml.write_text("slotz = 2\n")
    with pytest.raises(ConfigError, match="unknown setting 'slotz'"):
        config.load({}, environ={}, config_file=str(toml))


def test_the_start_banner_reads_the_token_file_only_where_there_is_one(tmp_path):
    from tests.conftest import NodeProcess
    given = NodeProcess(str(tmp_path / "given")).start()  # the tests' nodes get --token: no token file is made
    try:
        banner = given.output()
    finally:
        given.stop()
    assert "the token given with --token" in banner
    assert "$(cat" not in banner and "FARM_TOKEN=<that token> farm jobs" in banner
