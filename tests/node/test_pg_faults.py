"""A PostgreSQL store that is wrong, refuses, belongs elsewhere, or goes away: a clear sentence, a node that waits
and recovers, nothing lost (issue 14's "bad input and faults")."""
from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from tests.conftest import ROOT, NodeProcess, node_python, wait_for
from tests.pg_server import PgServer



def serve(data_dir, store, timeout=60):
    """`farm-node serve --store STORE` that is expected to stop at once: (exit code, what it printed)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([node_python(), "-m", "farm_node", "serve", "--port", "0", "--data-dir", str(data_dir),
                        "--store", store, "--token", "t1", "--worker-token", "w1", "--slots", "0"],
                       capture_output=True, text=True, timeout=timeout, env=env)
    return r.returncode, r.stdout + r.stderr


def test_an_address_that_is_not_one_is_refused_in_words(tmp_path):
    code, out = serve(tmp_path, "postgresql://postgres@127.0.0.1:notaport/farm")
    assert code == 2 and "not a PostgreSQL address" in out and "Traceback" not in out


def test_a_login_the_database_refuses_and_a_database_that_is_not_there(pg_server, tmp_path):
    code, out = serve(tmp_path / "a", pg_server.url("postgres").replace("postgres@", "nobody@"))
    assert code == 2 and "refused the login" in out and "nobody" in out and "Traceback" not in out
    code, out = serve(tmp_path / "b", pg_server.url("no_such_farm"))
    assert code == 2 and "does not exist" in out and "createdb" in out and "Traceback" not in out


def test_a_store_of_a_newer_schema_is_refused(pg_url, tmp_path):
    from farm_node.store import SCHEMA_VERSION, open_store
    open_store(pg_url, str(tmp_path)).close()
    import psycopg
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (%s, 0)", (SCHEMA_VERSION + 1,))
    code, out = serve(tmp_path / "node", pg_url)
    assert code == 2 and "newer PyFarm" in out and "Traceback" not in out


def test_a_data_folder_of_one_farm_refuses_another_farms_database(pg_server, tmp_path):
    first = pg_server.create_database("farm_one_%s" % os.getpid())
    other = pg_server.create_database("farm_two_%s" % os.getpid())
    node = NodeProcess(str(tmp_path / "node"), slots=0, args=["--store", first]).start()
    node.stop()
    code, out = serve(tmp_path / "node", other)
    assert code == 2 and "served the farm" in out and "--data-dir" in out and "Traceback" not in out


def test_a_node_started_before_its_database_waits_for_it(tmp_path, unique_name):
    server = PgServer(tempfile.mkdtemp(prefix="pyfarm-pg-late-"))
    nodes = []
    try:
        server.start()
        url = server.create_database("farm_late")
        server.stop()
        node = NodeProcess(str(tmp_path / "node"), slots=1, args=["--store", url])
        nodes.append(node)
        from tests.conftest import _spawn
        node.proc = _spawn(node.data_dir, ["serve", "--port", "0", "--data-dir", node.data_dir, "--token",
                                           node.token, "--worker-token", node.worker_token, "--slots", "1",
                                           "--store", url], {}, node.output_path)
        wait_for(lambda: "waiting for the store" in node.output(), what="the node to say it waits for the store")
        assert node.alive()
        server.start()
        wait_for(lambda: os.path.exists(os.path.join(node.data_dir, "node.json")), what="the node to start")
        import json
        with open(os.path.join(node.data_dir, "node.json")) as f:
            node.url = json.load(f)["url"]
        name = unique_name("late")
        node.client().submit({name: {"subjobs": {"s": {"frames": {"1": {"command": "render -s 1 -e 1 x.mb"}}}}}})
        wait_for(lambda: node.client().job(name)["status"] == "Complete", what="the job to render")
    finally:
        for node in nodes:
            node.stop()
        server.remove()


def test_postgresql_going_away_and_coming_back_loses_nothing(tmp_path, unique_name):
    server = PgServer(tempfile.mkdtemp(prefix="pyfarm-pg-away-")).start()
    nodes = [None]
    try:
        url = server.create_database("farm_away")
        node = nodes[0] = NodeProcess(str(tmp_path / "node"), slots=2, args=["--store", url, "--heartbeat", "0.25",
                                                                  "--lost-after", "1.5"],
                           env={"PYFARM_STANDIN_SECONDS": "1.0"}).start()
        client = node.client()
        name = unique_name("away")
        client.submit({name: {"subjobs": {"s": {"frames": {
            str(i): {"command": "render -s %d -e %d x.mb" % (i, i)} for i in range(1, 9)}}}}})
        wait_for(lambda: client.job(name)["frames"]["complete"] >= 2, what="the job under way")
        server.kill()  # the database crashes: no goodbye to its clients
        from maya_plugin.errors import FarmRejected
        with pytest.raises(FarmRejected) as refused:
            client.summary()
        assert refused.value.status == 503 and "unreachable" in str(refused.value)
        server.start()  # it comes back, from its WAL
        done = wait_for(lambda: client.job(name)["status"] == "Complete" and client.job(name), timeout=120,
                        what="the job to finish once the database is back")
        assert done["frames"]["complete"] == 8
        from tests.node.test_farm_of_coordinators import assert_each_frame_complete_once
        assert_each_frame_complete_once(url, tmp_path, {name})
        assert node.stop() == 0
    finally:
        if nodes[0] is not None:
            nodes[0].stop()
        server.remove()


def test_the_first_write_after_the_writers_connection_died_while_idle_succeeds(pg_url, tmp_path):
    """A connection that died while idle is found broken only by its next statement: the BEGIN of the next write.
    That BEGIN wrote nothing, so the store connects again and writes, rather than failing once for the old one."""
    import psycopg

    from farm_node.store import open_store
    store = open_store(pg_url, str(tmp_path))
    try:
        before = store.revision
        with store.write():
            pass
        pid = store._conn.raw.info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with store.write() as txn:
            rev = txn.rev
        assert rev > before + 1 and store._conn.raw.info.backend_pid != pid
    finally:
        store.close()
