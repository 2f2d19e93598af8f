"""`farm log JOB SUBJOB FRAME [--attempt N] [-f]`: a frame's log, or with -f its log followed while it renders.

Following reads the log from where it was left (``log_chunk``'s next offset) each time the changes feed says the
frame changed, and stops once the frame has ended (Complete, Failed, Cancelled) and the last bytes are read. A frame
that fails and is queued again starts a new attempt, and so a new log: it is followed too, after a separating line.
"""
from __future__ import annotations

import argparse
from typing import Any

from farm_node.cli.farm.connect import add_command
from farm_node.errors import ConfigError

WAIT = 10.0     # seconds of one long poll of the changes feed


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "log", "print a frame's log; -f follows it while the frame renders",
                    examples="farm log shot010_lighting beauty 1001\nfarm log shot010_lighting beauty 1001 -f\n"
                             "farm log shot010_lighting beauty 1001 --attempt 1")
    p.add_argument("job", help="the job's name")
    p.add_argument("subjob", help="the subjob's name")
    p.add_argument("frame", type=int, help="the frame number")
    p.add_argument("--attempt", type=int, metavar="N", help="the log of attempt N (default: the latest)")
    p.add_argument("-f", "--follow", action="store_true",
                   help="keep printing as the frame renders, until it ends (Ctrl-C stops)")
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from farm_node.cli.farm import connect
    if ns.follow and ns.attempt is not None:
        raise ConfigError("--attempt reads one attempt's log as it is; -f follows the latest attempt")
    out = connect.output(ns)
    client = connect.client(ns, timeout=connect.TIMEOUT)
    if not ns.follow:
        text, offset = client.log_chunk(ns.job, ns.subjob, ns.frame, 0, ns.attempt)
        if out.as_json:
            out.json({"job": ns.job, "subjob": ns.subjob, "frame": ns.frame, "attempt": ns.attempt, "log": text,
                      "next_offset": offset})
        else:
            out.raw(text)
        return 0
    return Follow(client, out, ns).run()


class Follow:
    """Follows one frame's log, attempt after attempt.

    Reads name the attempt (the log route's numbering, which a user's retry does not restart, unlike the frame's
    ``attempts``): a slot's frame end and the frame's next lease are one commit, so the feed may never show the
    failed attempt's end, and its last lines (the renderer's error) must still be read before the next attempt's.
    """

    def __init__(self, client: Any, out: Any, ns: argparse.Namespace) -> None:
        self.client = client
        self.out = out
        self.ns = ns
        self.number: int | None = None     # the attempt being read; None before the frame has one
        self.offset = 0
        self.printed = False
        self.status: str | None = None
        self.key: tuple | None = None

    def run(self) -> int:
        from farm_node.cli.farm import lookup
        from maya_plugin.farm_client import feed_frames
        ns = self.ns
        self._probe(None)  # the farm's own words if the job, subjob or frame does not exist
        # The frame with the revision it was read at: a change after it is in the feed's next answer.
        revision, frame = lookup.frame_of(self.client, ns.job, ns.subjob, ns.frame)
        while self._probe((self.number or 0) + 1):
            self.number = (self.number or 0) + 1
        if frame is not None:
            self.see(frame)
        if self.status == "Queued":
            self.out.note("frame %d is queued; waiting for it to start (Ctrl-C stops)" % ns.frame)
        self.catch_up()
        watch = [(ns.job, ns.subjob)]
        while self.status not in lookup.ENDED:
            # The feed narrowed to this subjob: its frames' changes, compact, and nothing of the rest of the farm.
            answer = self.client.changes(revision, wait=WAIT, watch=watch)
            revision = answer["revision"]
            if ns.job in (answer.get("deleted") or ()):
                from farm_node.errors import NotFound
                raise NotFound("job %r was deleted" % ns.job)
            sub = (((answer.get("jobs") or {}).get(ns.job) or {}).get("subjobs") or {}).get(ns.subjob) or {}
            frame = feed_frames(answer, sub).get(ns.frame)
            if [ns.job, ns.subjob] in (answer.get("refetch") or ()):
                frame = lookup.frame_of(self.client, ns.job, ns.subjob, ns.frame)[1] or frame
            if frame is not None and self.see(frame):
                self.catch_up()
            else:
                self.read()
        self.catch_up()  # what the frame wrote between the last read and the news of its end
        if self.out.as_json:
            self.out.json_line({"job": ns.job, "subjob": ns.subjob, "frame": ns.frame, "status": self.status})
        return 0

    def see(self, frame: dict[str, Any]) -> bool:
        """Take the frame's new state; True when it may have started another attempt since the last one seen."""
        self.status = frame.get("status")
        key = (frame.get("attempts"), frame.get("started"))
        moved = key != self.key
        self.key = key
        return moved

    def catch_up(self) -> None:
        """Read the attempt being read to its end while a newer one exists, then the newest as far as it goes."""
        while self._probe((self.number or 0) + 1):
            self.read()
            self.number = (self.number or 0) + 1
            self.offset = 0
            if self.printed and not self.out.as_json:
                self.out.raw("\n----- frame %d: attempt %d -----\n" % (self.ns.frame, self.number))
        self.read()

    def _probe(self, number: int | None) -> bool:
        """Whether the frame has attempt ``number`` (None: whether the frame exists); reads no log bytes."""
        from maya_plugin.errors import FarmNotFound
        try:
            self.client.log_chunk(self.ns.job, self.ns.subjob, self.ns.frame, 1 << 62, number)
            return True
        except FarmNotFound:
            if number is None:
                raise
            return False

    def read(self) -> None:
        if self.number is None:
            return
        ns = self.ns
        start = self.offset
        text, self.offset = self.client.log_chunk(ns.job, ns.subjob, ns.frame, start, self.number)
        if not text:
            return
        self.printed = True
        if self.out.as_json:
            self.out.json_line({"job": ns.job, "subjob": ns.subjob, "frame": ns.frame, "attempt": self.number,
                                "offset": start, "log": text})
        else:
            self.out.raw(text)
