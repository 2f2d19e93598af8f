"""The store's tables and indexes (SQLite), and the columns added since the first stores were written."""
from __future__ import annotations

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    frame_timeout REAL,
    paused INTEGER NOT NULL DEFAULT 0,
    submitted REAL NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    rev INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subjobs (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    UNIQUE (job_id, name)
);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    subjob_id INTEGER NOT NULL REFERENCES subjobs(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    host TEXT,
    pid INTEGER,
    command TEXT NOT NULL,
    argv TEXT NOT NULL,
    stdout TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    progress REAL NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    error TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    attempt_id INTEGER,
    rev INTEGER NOT NULL,
    UNIQUE (subjob_id, number)
);
CREATE INDEX IF NOT EXISTS frames_job ON frames (job_id);
CREATE INDEX IF NOT EXISTS frames_queued ON frames (job_id, number, subjob_id) WHERE status='Queued';
CREATE INDEX IF NOT EXISTS frames_rev ON frames (rev);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER,
    started REAL,
    finished REAL,
    exit_code INTEGER,
    outcome TEXT NOT NULL DEFAULT 'running',
    error TEXT,
    log_path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_frame ON attempts (frame_id);
CREATE INDEX IF NOT EXISTS attempts_live ON attempts (host) WHERE outcome='running';
CREATE TABLE IF NOT EXISTS tombstones (name TEXT NOT NULL, rev INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocklist (job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                                      host TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
                                      blocked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, host));
CREATE TABLE IF NOT EXISTS hosts (name TEXT PRIMARY KEY, slots INTEGER NOT NULL, info TEXT NOT NULL DEFAULT '{}',
                                  worker_id TEXT, last_seen REAL, lost INTEGER NOT NULL DEFAULT 0);
-- Indexes of stores written before: every status change moved a frame's entry in them, the partial indexes above
-- change only when a frame leaves the queue or an attempt ends.
DROP INDEX IF EXISTS frames_next;
DROP INDEX IF EXISTS attempts_running;
"""

# Columns added after a store file may already exist: (table, column, declaration).
ADDED_COLUMNS = (
    # Bytes of "[pyfarm] ..." notes the coordinator wrote into an attempt's log, so that the bytes the render host
    # sent can be told from them (a replayed report must not write its log bytes twice).
    ("attempts", "note_bytes", "INTEGER NOT NULL DEFAULT 0"),
)
