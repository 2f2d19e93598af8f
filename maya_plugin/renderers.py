"""The renderers the farm knows: the render globals' name -> the ``Render -r`` value and its usual flags.

Sources are in ``shared/notes/maya.md`` section 3 ("Renderer names for -r") and section 2 (the ``currentRenderer``
values). The usual flags are what a farm adds to every frame:

- mental ray: ``-r mr -v 5`` (verbosity 5 prints progress messages; the original design's form).
- Arnold: ``-r arnold -ai:lve 2`` (log verbosity 2 is the most MtoA 1-2 accept and the default of MtoA 3+).
- everything else: just ``-r NAME``.

Two renderers name frames and layers differently: 3Delight takes the step as ``-inc`` and the layer as ``-lr``
(notes, section 3); every other renderer uses Render's common ``-b`` and ``-rl``.

``image_flag`` is how the farm gives a task its own image names (``-im PREFIX``, Render's common "image file output
name" flag, which sets ``defaultRenderGlobals.imageFilePrefix``: notes, sections 3 and 8). Renderers that name their
images elsewhere have none, so the farm never relies on it for them: V-Ray keeps its prefix in
``vraySettings.fileNamePrefix`` (DCM renderers.py) and RenderMan and 3Delight have their own output settings; a scene
whose images would collide on those is refused before it leaves (``preflight``: ``image_names_collide``).

mental ray left Maya in steps (notes, section 3): bundled up to 2016, a separate NVIDIA plugin (``Mayatomr``) for
2017 and 2018, gone from 2019 on. ``mental_ray_support(year)`` says which applies.
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Tuple

__all__ = ["Renderer", "RENDERERS", "lookup", "by_flag", "resolve", "mental_ray_support",
           "MENTAL_RAY_PLUGIN", "MENTAL_RAY_BUNDLED_UNTIL", "MENTAL_RAY_LAST"]


class Renderer(NamedTuple):
    """One renderer: ``name`` as the render globals store it, ``flag`` the ``-r`` value, ``args`` its usual flags."""

    name: str
    flag: str
    label: str
    args: Tuple[str, ...] = ()
    step_flag: str = "-b"
    layer_flag: str = "-rl"
    camera_flag: str = "-cam"
    image_flag: Optional[str] = "-im"


def _table(*rows: Renderer) -> Dict[str, Renderer]:
    return dict((r.name, r) for r in rows)


#: render globals' ``currentRenderer`` value -> Renderer
RENDERERS = _table(
    Renderer("mentalRay", "mr", "mental ray", ("-v", "5")),
    Renderer("arnold", "arnold", "Arnold", ("-ai:lve", "2")),
    Renderer("mayaSoftware", "sw", "Maya Software"),
    Renderer("mayaHardware", "hw", "Maya Hardware"),
    Renderer("mayaHardware2", "hw2", "Maya Hardware 2.0"),
    Renderer("vray", "vray", "V-Ray", image_flag=None),
    Renderer("redshift", "redshift", "Redshift"),
    Renderer("renderman", "renderman", "RenderMan 22+", image_flag=None),
    Renderer("renderMan", "rman", "RenderMan (before 22)", image_flag=None),
    Renderer("renderManRIS", "rman", "RenderMan RIS (before 22)", ("-ris",), image_flag=None),
    Renderer("_3delight", "3delight", "3Delight", (), step_flag="-inc", layer_flag="-lr", image_flag=None),
)

#: The mental ray plugin's name, as ``pluginInfo`` knows it.
MENTAL_RAY_PLUGIN = "Mayatomr"
#: The last Maya that bundles mental ray.
MENTAL_RAY_BUNDLED_UNTIL = 2016
#: The last Maya for which a mental ray plugin exists (NVIDIA's separate download for 2017 and 2018).
MENTAL_RAY_LAST = 2018


def lookup(name: str) -> Optional[Renderer]:
    """The renderer whose render globals name is ``name``, or None when the farm does not know it."""
    return RENDERERS.get(name or "")


def by_flag(flag: str) -> Optional[Renderer]:
    """The renderer whose ``-r`` value is ``flag`` (the first one listed for ``rman``), or None."""
    for renderer in RENDERERS.values():
        if renderer.flag == flag:
            return renderer
    return None


def resolve(value: str) -> Optional[Renderer]:
    """A renderer named either way: the render globals name (``mentalRay``) or the ``-r`` value (``mr``)."""
    return lookup(value) or by_flag(value)


def mental_ray_support(year: Optional[int]) -> str:
    """How a Maya of that year gets mental ray: ``"bundled"`` (up to 2016), ``"plugin"`` (2017, 2018: NVIDIA's
    separate Mayatomr plugin must be loaded), ``"unsupported"`` (2019 and later) or ``"unknown"`` (no year)."""
    if year is None:
        return "unknown"
    if year <= MENTAL_RAY_BUNDLED_UNTIL:
        return "bundled"
    if year <= MENTAL_RAY_LAST:
        return "plugin"
    return "unsupported"
