"""PyFarm's widgets: the Submit dialog and the Monitor panel, with their model and background threads.

Widgets get a client object (``maya_plugin.farm_client.FarmClient`` or anything with its methods) or a factory for
one; they never import the network library, and every farm call runs off the GUI thread (``TaskRunner``,
``FeedWatcher``). Maya's controls (shelf, workspace control) are built by ``maya_plugin.maya_ui``, not here.

    MonitorPanel(client=..., client_factory=..., settings=...)   jobs > subjobs > frames, log, hosts, actions
    SubmitDialog(scene_source, client_factory, settings=...)     options, pre-flight checks, the farm's answer
    MayaSceneSource(), StaticSceneSource(summary, build)          what the Submit dialog reads a scene through
    FarmSettings(qsettings=None)                                   the remembered farm address and token
"""
from __future__ import annotations

from maya_plugin.ui.monitor import MonitorPanel
from maya_plugin.ui.scene_source import MayaSceneSource, SceneSummary, StaticSceneSource
from maya_plugin.ui.settings import FarmSettings
from maya_plugin.ui.submit_dialog import SubmitDialog

__all__ = ["MonitorPanel", "SubmitDialog", "MayaSceneSource", "StaticSceneSource", "SceneSummary", "FarmSettings"]
