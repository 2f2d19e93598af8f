"""The Monitor's changes feed applied (``PanelFeed``, a mixin of ``MonitorPanel``): the ``FeedWatcher`` started
and stopped, its answers applied to the jobs tree, the open subjob's frames, the followed log and the job's details
(a big answer in slices, between turns of the event loop), the unreachable banner, the hosts and the summary line.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from maya_plugin.qt import QtCore
from maya_plugin.ui.feed import FeedWatcher
from maya_plugin.ui.messages import describe_error

__all__ = ["PanelFeed", "APPLY_SLICE"]

# Jobs of one answer applied in one go; a bigger answer (a reload of a studio queue) is applied in slices.
APPLY_SLICE = 100


def _slices(answer: Dict[str, Any], known: Dict[str, Any]) -> List[Dict[str, Any]]:
    """An answer of the feed as answers of at most ``APPLY_SLICE`` jobs, in order: the first removes what a reload
    no longer has, the last carries what the frames table needs (the others are ``partial``)."""
    jobs = answer.get("jobs") or {}
    if len(jobs) <= APPLY_SLICE:
        return [answer]
    names = list(jobs)
    deleted = list(answer.get("deleted") or ())
    if answer.get("reload"):
        deleted.extend(name for name in known if name not in jobs)
    out = []
    for i in range(0, len(names), APPLY_SLICE):
        part = dict(answer, jobs={n: jobs[n] for n in names[i:i + APPLY_SLICE]}, reload=False,
                    deleted=deleted if i == 0 else [], partial=i + APPLY_SLICE < len(names))
        out.append(part)
    out[-1]["refresh"] = bool(answer.get("reload"))  # the frames table reads its page again after a reload
    return out


class PanelFeed(object):
    """The feed side of the panel; it provides client, feed_wait, watcher, reachable, model, frames, log_view,
    details, hosts_view, banner, summary_label, runner, the queue ``_slices`` and its ``_slice_timer``, _say and
    _update_actions."""

    # -- the feed ---------------------------------------------------------------------------------------------------
    def _start_feed(self) -> None:
        self._stop_watcher()
        watcher = FeedWatcher(self.client, wait=self.feed_wait, parent=self)
        watcher.watching = (self.frames.key,) if self.frames.key else ()
        queued = QtCore.Qt.QueuedConnection
        watcher.changes.connect(self._on_changes, queued)
        watcher.unreachable.connect(self._on_unreachable, queued)
        watcher.reachable.connect(self._on_reachable, queued)
        watcher.failed.connect(self._on_feed_failed, queued)
        self.watcher = watcher
        # The thread starts on the next turn of the event loop, after what is waiting (the panel's first paint):
        # its first answer, read as JSON on that thread with the GIL held, would otherwise fall within the
        # panel's construction, one long stall for Maya.
        self._feed_timer.start()

    def _begin_feed(self) -> None:
        """The deferred half of ``_start_feed`` and ``set_client``: start the watcher, ask for the hosts."""
        watcher = self.watcher
        if watcher is None or watcher.started or self.runner.closed:
            return
        watcher.start()
        self.refresh_hosts()

    def _stop_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def _on_changes(self, answer: Dict[str, Any]) -> None:
        if self.sender() is not None and self.sender() is not self.watcher:
            return  # an answer from a watcher we already replaced
        self.reachable = True
        self.banner.hide()
        parts = _slices(answer, self.model.by_name)
        self._slices.extend(parts)
        if self._slice_timer.isActive():
            return
        if len(parts) > 1:
            self._slice_timer.start()  # a big answer begins on a turn of its own, after what is waiting (a paint)
        else:
            self._apply_slice()

    def _apply_slice(self) -> None:
        """One slice of the answers waiting, then back to the event loop: a reload of 900 jobs is applied in a few
        short steps, not one long one (the GUI thread is Maya's)."""
        if self._slices:
            self._apply(self._slices.popleft())
        if self._slices:
            self._slice_timer.start()

    def _apply(self, answer: Dict[str, Any]) -> None:
        self.model.apply_changes(answer)
        last = not answer.get("partial")
        key = self.frames.key
        if key is not None:
            job = (answer.get("jobs") or {}).get(key[0])
            if self.model.find(*key) is None:
                self.frames.close_subjob()
                self.log_view.follow(None)
                if self.watcher is not None:
                    self.watcher.watching = ()
            elif last and (list(key) in (answer.get("refetch") or ()) or key not in answer.get("watched", (key,))
                           or answer.get("reload") or answer.get("refresh")):
                self.frames.model.refresh()  # too many changes to send, or a poll that did not watch it yet
            elif job:
                rows = (job.get("subjobs") or {}).get(key[1], {}).get("frame_rows") or ()
                columns = answer.get("frame_columns") or ["number"]
                self.frames.set_total(self.model.find(*key).total)
                self.frames.model.apply_rows(columns, rows, answer.get("revision", 0))
                self._log_frame_changed(key, columns, rows)
        name = self.details.job
        if name is not None:
            node = self.model.find(name)
            if node is None:
                self.details.show_job(None)
            elif name in (answer.get("jobs") or {}):
                self.details.show_job(name, node.data)
        self._update_actions()

    def _log_frame_changed(self, key: Tuple[str, str], columns: List[str], rows: Any) -> None:
        followed = self.log_view.key
        if followed is None or followed[:2] != key or not rows:
            return
        at = list(columns).index("number")
        for values in rows:
            if values[at] == followed[2]:
                row = self.frames.model.row_of(followed[2])
                self.log_view.frame_changed(self.frames.model.frame_at(row) if row >= 0
                                            else dict(zip(columns, values)))
                return

    def _on_unreachable(self, text: str) -> None:
        self.reachable = False
        self.banner.setText("The farm does not answer: %s. Retrying by itself..." % text.rstrip("."))
        self.banner.show()
        self._update_summary()

    def _on_reachable(self) -> None:
        self.reachable = True
        self.banner.hide()
        self._say("The farm answers again.")
        self.refresh_hosts()

    def _on_feed_failed(self, exc: BaseException) -> None:
        self.banner.setText(describe_error(exc, "follow the farm"))
        self.banner.show()

    def refresh_hosts(self) -> None:
        """Ask for the farm's hosts (off the GUI thread)."""
        if self.client is None or self._hosts_busy or self.runner.closed:
            return
        self._hosts_busy = True
        self.runner.submit(self.client.workers, on_done=self._got_hosts, on_error=self._hosts_failed)

    def _got_hosts(self, workers: List[Dict[str, Any]]) -> None:
        self._hosts_busy = False
        self.hosts_error = ""
        self.hosts_view.update_workers(workers)
        self._update_summary()

    def _hosts_failed(self, exc: BaseException) -> None:
        self._hosts_busy = False  # the banner reports an unreachable farm; the list keeps its last state
        self.hosts_error = describe_error(exc, "list the hosts")

    def _update_summary(self) -> None:
        totals = self.model.totals
        parts = ["%s %d" % (status, totals.get(status, 0)) for status in ("Rendering", "Queued", "Failed")]
        if totals.get("Complete"):
            parts.append("Complete %d" % totals["Complete"])
        workers = self.hosts_view.workers
        hosts = "hosts busy %d of %d" % (self.hosts_view.busy(), len(workers)) if workers else "no hosts listed"
        shown = len(self.model.jobs)
        jobs = "%d jobs" % len(self.model.by_name) + ("" if shown == len(self.model.by_name) else " (%d shown)" % shown)
        text = "%s: %s; %s" % (jobs, ", ".join(parts), hosts)
        if self.reachable is False:
            text += " (farm unreachable)"
        self.summary_label.setText(text)
