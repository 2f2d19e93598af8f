"""The worker's slots: how many are rendering, how many wait for a next frame, and who asks for it.

A frame that reports its end hands its slot to the sender, which asks for the slot's next frame with the batch
carrying that end (docs/DESIGN.md, "Next frames with the reports"); when it cannot (not attached, stopping, nothing to
send) the lease thread asks. Slots being asked for are counted, so a host never asks for more frames than it has
free slots.
"""
from __future__ import annotations

import threading


class SlotLedger:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._lock = threading.Lock()
        self._running: set[int] = set()   # attempts in a frame thread
        self._ended: set[int] = set()     # ...of which reported their end (the thread may still be closing)
        self._handoff = 0                 # slots the sender is to ask for with the batch carrying those ends
        self._asking = 0                  # slots asked for by a call in flight (the sender's or the lease thread's)
        self.freed = threading.Event()    # a slot may have become free for the lease thread

    def running(self, attempt: int) -> None:
        with self._lock:
            self._running.add(attempt)

    def ending(self, attempt: int) -> None:
        """A frame reported its end: its slot's next frame is asked for by the sender, with that report."""
        with self._lock:
            if attempt in self._running:
                self._ended.add(attempt)
                self._handoff += 1

    def done(self, attempt: int) -> None:
        """A frame's thread is over; its slot goes to the lease thread unless the sender was handed it."""
        with self._lock:
            self._running.discard(attempt)
            handed = attempt in self._ended
            self._ended.discard(attempt)
        if not handed:
            self.freed.set()

    def reserve(self) -> int:
        """The slots nobody is getting a frame for, now counted as asked for by the caller."""
        with self._lock:
            free = self.slots - (len(self._running) - len(self._ended)) - self._handoff - self._asking
            if free > 0:
                self._asking += free
            return max(0, free)

    def take_handoff(self) -> int:
        """The slots the sender asks for with the batch it sends now."""
        with self._lock:
            n, self._handoff = self._handoff, 0
            self._asking += n
            return n

    def release_handoff(self) -> None:
        """Slots the sender was to ask for but will not (nothing to send, or not attached): the lease thread's."""
        with self._lock:
            n, self._handoff = self._handoff, 0
        if n:
            self.freed.set()

    def hand_back(self, n: int) -> None:
        """The reports that asked for ``n`` slots' frames did not get through: the next batch asks again."""
        with self._lock:
            self._asking -= n
            self._handoff += n

    def asked(self, n: int) -> None:
        """A call that asked for ``n`` slots' frames is over (its leases, if any, are taken)."""
        with self._lock:
            self._asking -= n
        self.freed.set()
