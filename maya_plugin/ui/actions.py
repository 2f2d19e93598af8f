"""The Monitor's actions, declared once: text, icon, the panel method they call, tooltip, shortcut, where they show.

Places: ``toolbar``; ``jobs`` (the jobs tree's context menu, shortcut active while the tree has the focus);
``frames`` (the frames table's, the same); ``panel`` (shortcut anywhere in the panel); ``connection`` (a button
beside the farm's address). A shortcut never reaches beyond the panel: docked in Maya, Maya's hotkeys stay Maya's.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

__all__ = ["ActionSpec", "ACTIONS", "ENABLED_WITH"]


class ActionSpec(NamedTuple):
    name: str
    text: str
    icon: str            # a QStyle.StandardPixmap name
    slot: str            # the MonitorPanel method it calls
    tip: str
    shortcut: Optional[str]
    places: Tuple[str, ...]


ACTIONS = (
    ActionSpec("pause", "Pause", "SP_MediaPause", "pause_selected", "No new frame of the selected jobs starts", None,
               ("toolbar", "jobs")),
    ActionSpec("resume", "Resume", "SP_MediaPlay", "resume_selected", "Let the jobs render again", None,
               ("toolbar", "jobs")),
    ActionSpec("cancel", "Cancel", "SP_MediaStop", "cancel_selected",
               "Queued frames are cancelled, rendering ones killed", None, ("toolbar", "jobs")),
    ActionSpec("retry_failed", "Retry failed", "SP_BrowserReload", "retry_failed",
               "Failed and cancelled frames of the selected jobs are queued again", None, ("toolbar", "jobs")),
    ActionSpec("retry_frames", "Retry frames", "SP_BrowserReload", "retry_selected_frames",
               "The selected frames are queued again with fresh attempts (all of the subjob when all are selected)",
               None, ("toolbar", "frames")),
    ActionSpec("delete", "Delete", "SP_TrashIcon", "delete_selected",
               "Remove the selected jobs from the farm (asks first)", "Delete", ("toolbar", "jobs")),
    ActionSpec("copy_command", "Copy command", "SP_FileIcon", "copy_command",
               "Copy the render command of the current frame", "Ctrl+C", ("frames",)),
    ActionSpec("select_all", "Select all frames", "SP_DialogApplyButton", "select_all_frames",
               "Select every frame of the open subjob", "Ctrl+A", ("frames",)),
    ActionSpec("open_output", "Open output", "SP_DirOpenIcon", "open_output", "Open the job's output folder", None,
               ("toolbar", "jobs")),
    ActionSpec("clear_blocklist", "Clear blocklist", "SP_DialogResetButton", "clear_blocklist",
               "Let the hosts the job blocklisted render it again", None, ("jobs",)),
    ActionSpec("refresh", "Refresh", "SP_BrowserReload", "refresh", "Read the queue, the frames and the hosts again",
               "F5", ("panel",)),
    ActionSpec("find", "Find", "SP_FileDialogContentsView", "focus_search", "Find jobs by name or user", "Ctrl+F",
               ("panel",)),
    ActionSpec("save_queue", "Save Queue", "SP_DialogSaveButton", "save_queue", "Save the whole queue as XML", None,
               ("connection",)),
    ActionSpec("load_queue", "Load Queue", "SP_DialogOpenButton", "load_queue", "Restore jobs from a saved queue",
               None, ("connection",)),
)

#: what an action needs to be enabled: "jobs" (a connected farm and selected jobs), "frames" (frames selected),
#: "frame" (a current frame), "connected", "always"
ENABLED_WITH = {"pause": "jobs", "resume": "jobs", "cancel": "jobs", "retry_failed": "jobs", "delete": "jobs",
                "open_output": "jobs", "clear_blocklist": "jobs", "retry_frames": "frames", "copy_command": "frame",
                "select_all": "subjob", "refresh": "connected", "find": "always", "save_queue": "connected",
                "load_queue": "connected"}
