"""Fixtures of the node's tests: a real PostgreSQL server started once per session, a database of its own per test,
and stores of either engine (the embedded SQLite file, or PostgreSQL)."""
from __future__ import annotations

import os
import tempfile
import uuid

import pytest

from tests.pg_server import PgServer

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session (never skipped: CI installs its binaries with the test extra)."""
    server = PgServer(tempfile.mkdtemp(prefix="pyfarm-pg-")).start()
    yield server
    server.remove()


@pytest.fixture
def pg_url(pg_server):
    """A new, empty database on the session's server: ``postgresql://postgres@127.0.0.1:PORT/farm_xxx``."""
    name = "farm_%s" % uuid.uuid4().hex[:12]
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


@pytest.fixture(params=ENGINES)
def store_engine(request):
    return request.param


@pytest.fixture
def store_url(store_engine, request):
    """``--store`` for the engine of this test: empty (SQLite under the data folder) or a fresh PostgreSQL
    database."""
    if store_engine == "sqlite":
        return ""
    return request.getfixturevalue("pg_url")


@pytest.fixture
def make_store(store_url, tmp_path):
    """``make_store()`` opens the test's store (again, after a close: the same database or file)."""
    from farm_node.store import open_store
    opened = []

    def make():
        store = open_store(store_url, str(tmp_path))
        opened.append(store)
        return store

    yield make
    for store in opened:
        if not store.closed:
            store.close()


def pytest_collection_modifyitems(config, items):
    # The PostgreSQL server binaries come with the test extra; a machine without them must say so, not skip.
    if os.environ.get("PYFARM_NO_PG") == "1":
        skip = pytest.mark.skip(reason="PYFARM_NO_PG=1: the PostgreSQL tests are switched off on this machine")
        for item in items:
            if "pg_server" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)


# -- real nodes on either engine ------------------------------------------------------------------------------------
# The node's API, restart, worker, backup and soak tests run on both stores: these override the session node and
# the node factory of tests/conftest.py with the engine of the test (``store_engine``). A PostgreSQL node gets a
# database of its own, kept across its restarts.

@pytest.fixture(scope="session")
def _session_nodes(request):
    from tests.conftest import NodeProcess
    nodes = {}

    def get(engine):
        if engine not in nodes:
            args = []
            if engine == "postgresql":
                server = request.getfixturevalue("pg_server")
                args = ["--store", server.create_database("farm_session_%s" % uuid.uuid4().hex[:8])]
            data_dir = tempfile.mkdtemp(prefix="pyfarm-session-node-%s-" % engine)
            nodes[engine] = NodeProcess(data_dir, slots=2, args=args).start()
        return nodes[engine]

    yield get
    for node in nodes.values():
        node.stop()


@pytest.fixture
def farm_node_server(_session_nodes, store_engine):
    """The session's node of this test's engine (2 slots, stand-in renderer). Use unique job names."""
    return _session_nodes(store_engine)


@pytest.fixture
def node_factory(node_factory, store_engine, request):
    """``node_factory(...)`` of tests/conftest.py, each node on this test's engine; ``store=URL`` puts a node on a
    given database (several coordinators of one farm)."""
    base = node_factory

    def make(slots=1, args=None, env=None, start=True, name="node", store=None):
        args = list(args or [])
        if store is None and store_engine == "postgresql" and "--store" not in args:
            store = request.getfixturevalue("pg_server").create_database("farm_%s" % uuid.uuid4().hex[:12])
        if store:
            args += ["--store", store]
        return base(slots=slots, args=args, env=env, start=start, name=name)

    return make
