"""The fake ``maya.mel``: ``eval`` of the MEL the plugin sends, played against ``maya._scene.current()``.

Known expressions: ``workspace -q -fileRuleEntry "<rule>"`` (the rule's folder, ``''`` when not set) and
``renderLayerDisplayName "<node>"`` (``masterLayer`` for defaultRenderLayer, the Render Setup layer linked by
``<node>.message -> X.legacyRenderLayer``, else the node's name). Anything else goes to ``maya._ui_cmds.mel_eval``
when the UI tests provide it, else fails as Maya does with ``RuntimeError``.
"""
from __future__ import annotations

import re
from typing import Any

from maya import _scene

_RULE = re.compile(r'^\s*workspace\s+(?:-q|-query)\s+(?:-fre|-fileRuleEntry)\s+"([^"]*)"\s*;?\s*$')
_DISPLAY = re.compile(r'^\s*renderLayerDisplayName\s+"([^"]*)"\s*;?\s*$')


def eval(expr: str) -> Any:  # noqa: A001 (Maya's name)
    scene = _scene.current()
    scene.calls.append(("mel.eval", (expr,), {}))
    match = _RULE.match(expr)
    if match:
        return scene.file_rules.get(match.group(1), "")
    match = _DISPLAY.match(expr)
    if match:
        name = match.group(1)
        found = [n for n in scene.matches(name) if n.type == "renderLayer"]
        if not found:
            raise RuntimeError("Error occurred during execution of MEL script: %s is not a render layer" % name)
        node = found[0]
        if node.name == "defaultRenderLayer":
            return "masterLayer"
        for src, dst in scene.connections:
            if src == node.name + ".message" and dst.endswith(".legacyRenderLayer"):
                return dst.split(".")[0]
        return scene.short(node.name)
    try:
        from maya import _ui_cmds
    except ImportError:
        _ui_cmds = None
    if _ui_cmds is not None and hasattr(_ui_cmds, "mel_eval"):
        return _ui_cmds.mel_eval(expr)
    raise RuntimeError("Error occurred during execution of MEL script (the fake maya.mel does not play %r)" % expr)
