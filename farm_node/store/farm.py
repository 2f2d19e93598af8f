"""The store on what a farm of several coordinators shares beyond the queue: the hosts with the coordinator each is
attached to and a count of the heartbeats it was heard of by, and the attempts' logs kept in the database in chunks
(CONTRACT section 7)."""
from __future__ import annotations

import json
from typing import Any, Iterator, NamedTuple, Optional

from farm_node.store.db import Database


class FarmHost(NamedTuple):
    name: str
    slots: int
    info: dict
    worker_id: Optional[str]
    last_seen: Optional[float]
    lost: bool
    stopped: bool
    coordinator: Optional[str]   # the coordinator it is attached to; for a coordinator's own slots, its own name
    beats: int                   # how many times it was heard of: silent while this does not move


class FarmMixin(Database):
    def host_heard(self, name: str, slots: int, info: dict[str, Any], worker_id: str | None, coordinator: str,
                   seen_at: float, stopped: bool = False) -> int:
        """A host attached to ``coordinator`` was heard of (at ``seen_at``, the wall clock, for display): one beat
        more, returned (not a change of the queue: no revision)."""
        with self.read() as db:
            return db.execute(
                "INSERT INTO hosts (name, slots, info, worker_id, last_seen, lost, stopped, coordinator, beats)"
                " VALUES (?, ?, ?, ?, ?, 0, ?, ?, 1) ON CONFLICT (name) DO UPDATE SET slots=excluded.slots,"
                " info=excluded.info, worker_id=excluded.worker_id, last_seen=excluded.last_seen, lost=0,"
                " stopped=excluded.stopped, coordinator=excluded.coordinator, beats=hosts.beats + 1 RETURNING beats",
                (name, slots, json.dumps(info), worker_id, seen_at, 1 if stopped else 0, coordinator)).fetchone()[0]

    def host_lost(self, name: str, beats: int) -> bool:
        """Mark a host lost if it was not heard of since its ``beats``-th beat; False if it was meanwhile."""
        with self.read() as db:
            return db.execute("UPDATE hosts SET lost=1 WHERE name=? AND lost=0 AND beats=?", (name, beats)
                              ).rowcount == 1

    def farm_hosts(self) -> list[FarmHost]:
        with self.read() as db:
            rows = db.execute("SELECT name, slots, info, worker_id, last_seen, lost, stopped, coordinator, beats"
                              " FROM hosts ORDER BY name").fetchall()
        return [FarmHost(r[0], r[1], json.loads(r[2]), r[3], r[4], bool(r[5]), bool(r[6]), r[7], r[8])
                for r in rows]

    def farm_value(self, key: str, make: str) -> str:
        """A value every coordinator of the farm shares (its id, its tokens): the first to ask sets it to ``make``."""
        with self.read() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, make))
            return str(db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()[0])

    # -- logs in the database -----------------------------------------------------------------------------------
    def attempt_ids(self, frame_id: int) -> list[tuple[int, int]]:
        """``(attempt number, attempt id)`` of a frame's attempts, oldest first."""
        with self.read() as db:
            return [(r[0], r[1]) for r in db.execute("SELECT number, id FROM attempts WHERE frame_id=? ORDER BY"
                                                     " number", (frame_id,))]

    def log_size(self, attempt_id: int) -> int:
        with self.read() as db:
            return int(db.execute("SELECT COALESCE(SUM(octet_length(data)), 0) FROM log_chunks WHERE attempt_id=?",
                                  (attempt_id,)).fetchone()[0])

    def append_log(self, attempt_id: int, start: int, data: bytes) -> None:
        with self.read() as db:
            db.execute("INSERT INTO log_chunks (attempt_id, start, data) VALUES (?, ?, ?)"
                       " ON CONFLICT (attempt_id, start) DO NOTHING", (attempt_id, start, data))

    def read_log(self, attempt_id: int, offset: int, end: int) -> Iterator[bytes]:
        """The log's bytes from ``offset`` to ``end``, a chunk at a time, from a snapshot of its own."""
        with self.snapshot() as db:
            rows = db.execute("SELECT start, data FROM log_chunks WHERE attempt_id=? AND start + octet_length(data) > ?"
                              " AND start < ? ORDER BY start", (attempt_id, offset, end)).fetchall()
        for start, data in rows:
            data = bytes(data)
            lo = max(0, offset - start)
            hi = min(len(data), end - start)
            if hi > lo:
                yield data[lo:hi]
