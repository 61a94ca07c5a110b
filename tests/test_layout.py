"""The layer map, checked from the imports themselves: every module of the package, found by
walking the folders (never a hand-kept list), may import only its own layer and the layers below.

    core (storywatch.*)  <-  extractors, warehouse, render  <-  flows  <-  cli, demo

The core, extractors and render import no network, SQL or Prefect library; SQL lives only in
the warehouse; no module is named after a standard-library module; and nothing imports the
folders under their bare names (`flows`, `warehouse`, `extractors`, `seeds`)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Where each part of the package lives in the checkout (pyproject.toml's package-dir).
FOLDERS = {"storywatch": ROOT / "storywatch", "storywatch.flows": ROOT / "flows",
           "storywatch.extractors": ROOT / "extractors", "storywatch.warehouse": ROOT / "warehouse",
           "storywatch.seeds": ROOT / "seeds"}
ALLOWED = {
    "core": {"core"},
    "extractors": {"core", "extractors"},
    "warehouse": {"core", "warehouse"},
    "render": {"core", "render"},
    "flows": {"core", "extractors", "warehouse", "render", "flows"},
    "app": {"core", "extractors", "warehouse", "render", "flows", "app"},
}
FORBIDDEN = {"httpx", "httpcore", "requests", "urllib3", "socket", "duckdb", "prefect", "prefect_dask", "sqlite3",
             "aiohttp", "apprise"}
BARE = {"flows", "warehouse", "extractors", "seeds"}


def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if package == "storywatch" and parts[0] in ("flows", "extractors", "warehouse", "seeds"):
                continue
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def layer(module: str) -> str:
    for prefix, name in (("storywatch.flows", "flows"), ("storywatch.extractors", "extractors"),
                         ("storywatch.warehouse", "warehouse"), ("storywatch.render", "render"),
                         ("storywatch.demo", "app"), ("storywatch.cli", "app"), ("storywatch.__main__", "app")):
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "core"


def imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


MODULES = modules()


def test_the_walk_finds_every_part_of_the_package():
    layers = {layer(m) for m in MODULES}
    assert layers == set(ALLOWED)
    assert {"storywatch.flows.monitor", "storywatch.extractors.story", "storywatch.warehouse.store",
            "storywatch.relevance", "storywatch.render.console", "storywatch.cli"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layer_map(module):
    own = layer(module)
    for name in imports(MODULES[module]):
        top = name.split(".")[0]
        assert top not in BARE, f"{module} imports bare {name!r}; use storywatch.{name}"
        if top == "storywatch" and name in MODULES:
            assert layer(name) in ALLOWED[own], f"{module} ({own}) imports {name} ({layer(name)})"
        if own in ("core", "extractors", "render"):
            assert top not in FORBIDDEN, f"{module} ({own}) imports {name}"


def test_no_module_is_named_after_the_standard_library():
    clashes = {m: m.rsplit(".", 1)[-1] for m in MODULES if m.rsplit(".", 1)[-1] in sys.stdlib_module_names}
    assert not clashes


def test_sql_only_in_warehouse():
    sql = re.compile(r"\b(SELECT|INSERT INTO|CREATE TABLE|UPDATE \w+ SET)\b")
    for module, path in MODULES.items():
        if layer(module) != "warehouse":
            assert not sql.search(path.read_text("utf-8")), path


def test_the_folders_cannot_be_imported_under_their_bare_names():
    """Even from the checkout's root, where the folders sit on the import path."""
    for bare in sorted(BARE):
        done = subprocess.run([sys.executable, "-c", f"import {bare}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode != 0, bare
        assert f"import storywatch.{bare}, not {bare}" in done.stderr
