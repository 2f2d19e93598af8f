"""A fake ``maya`` package for PyFarm's tests. Tests only, never shipped.

It plays one scene at a time through the ``maya.cmds`` / ``maya.mel`` calls the plugin makes, behaving as the
documented Maya commands do (return types, shape vs transform names, ``None`` where Maya returns None, ``ValueError``
for an unknown object, ``TypeError`` for a flag the command does not have). Scenes are plain data, loaded with::

    import maya._scene
    maya._scene.load({"file": "/projects/demo/scenes/scene.mb", ...})   # see maya/_scene.py for the keys
    maya._scene.load(maya._scenes.MENTAL_RAY_2016)                       # the catalogue of test scenes

Shared state for other fakes: ``maya._scene.current()`` is the open scene; its ``plugins`` (a set of loaded plugin
names), ``batch`` (``about(batch=True)``) and ``calls`` (every cmds call, as ``(command, args, kwargs)``) may be read
and changed by the UI commands in ``maya._ui_cmds`` (owned by the UI tests).
"""
