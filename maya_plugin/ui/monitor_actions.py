"""What the Monitor's actions do (``PanelActions``, a mixin of ``MonitorPanel``): job actions, frame actions, the
queue's backup and restore, and the hooks that need a person or the desktop (replaced by tests).

Every farm call goes through ``_call`` onto the panel's TaskRunner; what it says back goes to the status line. An
action on frames reads the frames table's selection as ranges: all of a subjob is one call, never one per frame.
"""
from __future__ import annotations

import os
from typing import Any, Callable, List, Optional

from maya_plugin.errors import FarmConflict
from maya_plugin.qt import QtCore, QtGui, QtWidgets
from maya_plugin.ui import farm_calls
from maya_plugin.ui.messages import describe_error
from maya_plugin.ui.nodes import JobNode

__all__ = ["PanelActions"]


class PanelActions(object):
    """The action methods of the panel; it provides client, runner, frames, model, view and _say."""

    # -- actions ----------------------------------------------------------------------------------------------------
    def _call(self, doing: str, done: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        if self.client is None:
            self._say("Not connected to a farm.", True)
            return False
        self.runner.submit(fn, *args, on_done=lambda result: self._say(done),
                           on_error=lambda exc: self._say(describe_error(exc, doing), True), **kwargs)
        return True

    def _target_jobs(self) -> List[str]:
        """The selected jobs, else the job of the open subjob."""
        jobs = [j.name for j in self.selected_jobs()]
        if not jobs and self.frames.key is not None:
            jobs = [self.frames.key[0]]
        return jobs

    def _each_job(self, verb: str, past: str, method: str) -> int:
        jobs = self._target_jobs()
        if not jobs:
            self._say("Select a job first.", True)
            return 0
        for job in jobs:
            self._call("%s %s" % (verb, job), "%s %s." % (past, job), getattr(self.client, method), job)
        return len(jobs)

    def pause_selected(self) -> int:
        return self._each_job("pause", "Paused", "pause")

    def resume_selected(self) -> int:
        return self._each_job("resume", "Resumed", "resume")

    def cancel_selected(self) -> int:
        return self._each_job("cancel", "Cancelled", "cancel")

    def retry_failed(self) -> int:
        return self._each_job("retry the failed frames of", "Queued again the failed frames of", "retry")

    def retry_selected_frames(self) -> int:
        """Retry the selected frames: all of the subjob in one call when all are selected, the numbers of the rows
        held here, or the rows' numbers read from the node first (off the GUI thread)."""
        query = self.frames.model.query
        ranges = self.frames.selection_ranges()
        if query is None or not ranges:
            self._say("Select frames first.", True)
            return 0
        where = "%s / %s" % (query.job, query.subjob)
        if self.frames.whole_subjob_selected():
            self._call("retry %s" % where, "Queued again every frame of %s." % where, self.client.retry, query.job,
                       subjob=query.subjob)
            return self.frames.model.total
        frames, whole = self.frames.loaded_selection()
        if whole:
            numbers = sorted(int(f["number"]) for f in frames)
            self._call("retry frames of %s" % where, "Queued again %d frame(s) of %s." % (len(numbers), where),
                       self.client.retry, query.job, subjob=query.subjob, frames=numbers)
            return len(numbers)
        count = self.frames.selected_count()
        self._call("retry frames of %s" % where, "Queued again %d frame(s) of %s." % (count, where),
                   farm_calls.retry_rows, self.client, query, ranges)
        return count

    def delete_selected(self) -> int:
        jobs = self._target_jobs()
        if not jobs:
            self._say("Select a job first.", True)
            return 0
        text = ("Delete %s from the farm? Its rendering frames are killed. This cannot be undone."
                % (", ".join('"%s"' % n for n in jobs) if len(jobs) < 4 else "%d jobs" % len(jobs)))
        if not self.confirm(text):
            return 0
        return self._each_job("delete", "Deleted", "delete")

    def set_priority(self, job: str, priority: int) -> bool:
        return self._call("change the priority of %s" % job, "Priority of %s set to %d." % (job, priority),
                          self.client.update, job, priority=int(priority)) if self.client else False

    def clear_blocklist(self, job: Optional[str] = None) -> int:
        jobs = [job] if job else self._target_jobs()
        for name in jobs:
            self._call("clear the blocklist of %s" % name, "Cleared the blocklist of %s." % name,
                       self.client.clear_blocklist, name)
        return len(jobs)

    def select_all_frames(self) -> int:
        self.frames.view.selectAll()
        return self.frames.selected_count()

    def copy_command(self) -> str:
        frame = self.frames.current_frame()
        frames = self.selected_frames() if frame is None else [frame]
        text = "\n".join(f.get("command") or "" for f in frames if f.get("command"))
        if not text:
            self._say("Select a frame to copy its command.", True)
            return ""
        QtWidgets.QApplication.clipboard().setText(text)
        self._say("Copied the command of frame %s." % frames[0].get("number") if len(frames) == 1
                  else "Copied %d commands." % len(frames))
        return text

    def output_folder(self, job: JobNode) -> str:
        """Where a job's images go: its ``output`` folder, else the scene's folder."""
        output = job.data.get("output")
        if output:
            return str(output)
        scene = job.data.get("scene")
        return os.path.dirname(str(scene)) if scene else ""

    def open_output(self) -> str:
        names = self._target_jobs()
        job = self.model.find(names[0]) if names else None
        folder = self.output_folder(job) if job is not None else ""
        if not folder:
            self._say("This job does not say where its images go.", True)
            return ""
        self.open_url(QtCore.QUrl.fromLocalFile(folder))
        self._say("Opened %s" % folder)
        return folder

    def save_queue(self, path: Optional[str] = None) -> bool:
        path = path or self.ask_save_path()
        if not path:
            return False
        return self._call("save the queue", "Saved the queue to %s." % path, farm_calls.save_queue, self.client,
                          path)

    def load_queue(self, path: Optional[str] = None) -> bool:
        path = path or self.ask_open_path()
        if not path:
            return False
        if self.client is None:
            self._say("Not connected to a farm.", True)
            return False
        self._restore(path, False)
        return True

    def _restore(self, path: str, replace: bool) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, FarmConflict) and not replace and self.confirm(
                    "%s\nReplace the farm's jobs of the same names with the saved ones?" % describe_error(exc)):
                self._restore(path, True)
                return
            self._say(describe_error(exc, "load the queue"), True)

        self.runner.submit(farm_calls.load_queue, self.client, path, replace,
                           on_done=lambda names: self._say("Restored %d job(s): %s." % (len(names), ", ".join(names))),
                           on_error=failed)

    # -- hooks (replaced by tests) ----------------------------------------------------------------------------------
    def confirm(self, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, "PyFarm", text,
                                                QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No,
                                                QtWidgets.QMessageBox.No)
        return answer == QtWidgets.QMessageBox.Yes

    def ask_save_path(self) -> str:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the farm's queue", "pyfarm-queue.xml",
                                                        "Queue XML (*.xml)")
        return path

    def ask_open_path(self) -> str:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load a saved queue", "", "Queue XML (*.xml)")
        return path

    def open_url(self, url: Any) -> None:
        QtGui.QDesktopServices.openUrl(url)
