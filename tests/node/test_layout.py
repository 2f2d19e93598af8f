"""The rooms of farm_node (docs/DESIGN.md, "Layout"), checked on the source: who may import whom, where SQL lives, how
big a module may grow, and the public face of each package."""
from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "farm_node")
# The stand-in renderer runs by path as one stdlib-only file, by design (like Qt.py is one file).
ONE_FILE_BY_DESIGN = {"farm_node.standin_render"}


def _modules() -> dict[str, str]:
    out = {}
    for folder, _dirs, files in os.walk(PACKAGE):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                out[rel[:-9] if rel.endswith(".__init__") else rel] = path
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """farm_node modules ``name`` imports, at module level or inside functions (both are edges of the graph)."""
    tree = ast.parse(open(MODULES[name], encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            found.add(base)
            found.update("%s.%s" % (base, a.name) for a in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for n in GRAPH[m]:
            if n == goal:
                return True
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return False


def test_no_import_cycle_between_modules_of_different_packages():
    # A package's __init__ re-exports its modules, and they import each other's siblings: edges into a package's
    # face from its own modules are not cycles of the design. Every other cycle is.
    def room(m: str) -> str:
        return m.rsplit(".", 1)[0] if m.count(".") >= 2 else m

    cycles = []
    for a, deps in GRAPH.items():
        for b in deps:
            if room(a) != room(b) and _reaches(b, a) and not (a.startswith(b + ".") or b.startswith(a + ".")):
                cycles.append((a, b))
    assert cycles == []


@pytest.mark.parametrize("module", sorted(set(MODULES) - ONE_FILE_BY_DESIGN))
def test_no_module_over_500_lines(module):
    with open(MODULES[module], encoding="utf-8") as f:
        assert sum(1 for _ in f) <= 500


def test_no_class_over_400_lines():
    big = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 400:
                big.append((name, node.name))
    assert big == []


_SQL = re.compile(r"""["'](\s*)(SELECT|INSERT|UPDATE|DELETE|CREATE|BEGIN|PRAGMA)\s""")


def test_sql_only_inside_the_store():
    outside = [name for name, path in MODULES.items() if not name.startswith("farm_node.store")
               and (_SQL.search(open(path, encoding="utf-8").read()) or "sqlite3" in GRAPH[name]
                    or "import sqlite3" in open(path, encoding="utf-8").read())]
    assert outside == []


def test_the_render_host_imports_nothing_of_the_coordinators_side():
    coordinator_side = [m for m in MODULES if m.split(".")[1:2] and m.split(".")[1] in ("coordinator", "store", "http", "server",
                                                                  "backup", "local_worker", "queue_xml")]
    reached = [m for m in coordinator_side if _reaches("farm_node.worker", m) or _reaches("farm_node.worker.agent", m)]
    assert reached == []


def test_the_http_layer_reaches_the_store_only_through_what_it_is_handed():
    for name in (m for m in MODULES if m.startswith("farm_node.http")):
        source = open(MODULES[name], encoding="utf-8").read()
        assert "coordinator.store" not in source and ".store." not in source.replace("farm_node.store", ""), name


def test_only_the_cli_may_import_the_maya_sides_client():
    users = [name for name, path in MODULES.items() if "maya_plugin" in open(path, encoding="utf-8").read()
             and re.search(r"^\s*(from|import) maya_plugin", open(path, encoding="utf-8").read(), re.M)]
    assert all(u.startswith("farm_node.cli") for u in users), users


def test_each_package_shows_its_public_face():
    import farm_node.coordinator
    import farm_node.http
    import farm_node.queue_xml
    import farm_node.store
    import farm_node.worker
    assert {"Coordinator", "HostState"} <= set(farm_node.coordinator.__all__)
    assert {"Store", "QueueReader", "Txn", "FrameRow", "AttemptRow"} <= set(farm_node.store.__all__)
    assert farm_node.http.__all__ == ["create_app"]
    assert {"Worker", "Spool"} <= set(farm_node.worker.__all__)
    assert {"write_queue", "iter_records", "load_queue", "derive_status"} <= set(farm_node.queue_xml.__all__)
    for package in (farm_node.coordinator, farm_node.store, farm_node.http, farm_node.worker, farm_node.queue_xml):
        for name in package.__all__:
            assert hasattr(package, name), (package.__name__, name)


def test_one_derive_status():
    from farm_node import queue_xml, scheduler
    assert queue_xml.derive_status is scheduler.derive_status
    defining = [name for name, path in MODULES.items() if "def derive_status" in open(path, encoding="utf-8").read()]
    assert defining == ["farm_node.scheduler"]
