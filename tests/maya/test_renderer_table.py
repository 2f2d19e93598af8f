"""maya_plugin.renderers: render globals names -> Render -r values, and mental ray's Maya versions."""
from __future__ import annotations

import pytest

from maya_plugin import renderers


@pytest.mark.parametrize("name,flag,args", [
    ("mentalRay", "mr", ("-v", "5")),
    ("arnold", "arnold", ("-ai:lve", "2")),
    ("mayaSoftware", "sw", ()),
    ("mayaHardware", "hw", ()),
    ("mayaHardware2", "hw2", ()),
    ("vray", "vray", ()),
    ("redshift", "redshift", ()),
    ("renderman", "renderman", ()),
    ("renderMan", "rman", ()),
    ("renderManRIS", "rman", ("-ris",)),
    ("_3delight", "3delight", ()),
])
def test_table(name, flag, args):
    r = renderers.lookup(name)
    assert (r.flag, r.args) == (flag, args)
    assert renderers.resolve(name) == r


def test_3delight_flags():
    r = renderers.lookup("_3delight")
    assert (r.step_flag, r.layer_flag, r.camera_flag) == ("-inc", "-lr", "-cam")
    assert renderers.lookup("arnold").step_flag == "-b"


@pytest.mark.parametrize("name", ["povray", "ifmIrayPhotoreal", "finalRender", "turtle", "", None, "MentalRay"])
def test_unknown_renderers(name):
    assert renderers.lookup(name) is None


def test_by_flag():
    assert renderers.by_flag("mr").name == "mentalRay"
    assert renderers.by_flag("rman").name == "renderMan"
    assert renderers.resolve("hw2").name == "mayaHardware2"
    assert renderers.by_flag("nope") is None


@pytest.mark.parametrize("year,support", [(2014, "bundled"), (2016, "bundled"), (2017, "plugin"), (2018, "plugin"),
                                          (2019, "unsupported"), (2027, "unsupported"), (None, "unknown")])
def test_mental_ray_by_year(year, support):
    assert renderers.mental_ray_support(year) == support
