"""The store's schema: numbered migrations, a store of the first wave upgraded, a store of a newer PyFarm refused."""
from __future__ import annotations

import sqlite3

import pytest

from farm_node.errors import StoreError
from farm_node.store import SCHEMA_VERSION, Store, schema

FIRST_WAVE = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value);
CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, priority INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL, frame_timeout REAL, paused INTEGER NOT NULL DEFAULT 0, submitted REAL NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}', rev INTEGER NOT NULL);
CREATE TABLE subjobs (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}', UNIQUE (job_id, name));
CREATE TABLE frames (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, subjob_id INTEGER NOT NULL,
    number INTEGER NOT NULL, status TEXT NOT NULL, host TEXT, pid INTEGER, command TEXT NOT NULL, argv TEXT NOT NULL,
    stdout TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, exit_code INTEGER,
    progress REAL NOT NULL DEFAULT 0, started REAL, finished REAL, error TEXT, extra TEXT NOT NULL DEFAULT '{}',
    attempt_id INTEGER, rev INTEGER NOT NULL, UNIQUE (subjob_id, number));
CREATE INDEX frames_next ON frames (status, job_id);
CREATE TABLE attempts (id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, number INTEGER NOT NULL,
    host TEXT NOT NULL, pid INTEGER, started REAL, finished REAL, exit_code INTEGER,
    outcome TEXT NOT NULL DEFAULT 'running', error TEXT, log_path TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', 1);
INSERT INTO meta VALUES ('revision', 7);
INSERT INTO jobs VALUES (1, 'Old', 50, 3, NULL, 0, 1.0, '{}', 5);
INSERT INTO subjobs VALUES (1, 1, 's', '{}');
INSERT INTO frames (job_id, subjob_id, number, status, command, argv, rev)
    VALUES (1, 1, 1, 'Complete', 'render x.mb', '["render", "x.mb"]', 5);
"""


def test_a_first_wave_store_is_upgraded_and_keeps_its_queue(tmp_path):
    path = str(tmp_path / "farm.sqlite")
    db = sqlite3.connect(path)
    db.executescript(FIRST_WAVE)
    db.close()
    store = Store(path)
    try:
        assert store.revision == 7
        assert store.reader.job_dict("Old")["subjobs"]["s"]["frames"]["1"]["status"] == "Complete"
        with store.read() as conn:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(attempts)")}
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
            indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "note_bytes" in columns
        assert versions == [m[0] for m in schema.MIGRATIONS]
        assert "frames_next" not in indexes and "frames_queued" in indexes
    finally:
        store.close()


def test_a_store_of_a_newer_schema_is_refused_and_left_as_it_is(tmp_path):
    path = str(tmp_path / "farm.sqlite")
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_migrations VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer PyFarm"):
        Store(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == SCHEMA_VERSION + 1
    db.close()


def test_opening_a_store_twice_applies_each_migration_once(tmp_path):
    path = str(tmp_path / "farm.sqlite")
    Store(path).close()
    store = Store(path)
    try:
        with store.read() as conn:
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [m[0] for m in schema.MIGRATIONS]
    finally:
        store.close()
