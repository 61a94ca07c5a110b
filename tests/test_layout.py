"""The decision logic stays pure: no network, SQL or Prefect imports, directly or through
another module of ours; and SQL lives only in warehouse/."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ["storywatch.models", "storywatch.urls", "storywatch.dates", "storywatch.text", "storywatch.relevance",
        "storywatch.dedupe", "storywatch.judge", "storywatch.passplan", "extractors.feeds", "extractors.article",
        "extractors.feedlist"]
FORBIDDEN = {"httpx", "httpcore", "requests", "urllib3", "socket", "duckdb", "prefect", "sqlite3", "aiohttp"}


def _imports(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _closure(module: str, seen: set[str]) -> set[str]:
    out = set()
    for name in _imports(module):
        out.add(name.split(".")[0])
        if name.split(".")[0] in ("storywatch", "extractors", "flows", "warehouse") and name not in seen:
            if (ROOT / (name.replace(".", "/") + ".py")).exists():
                seen.add(name)
                out |= _closure(name, seen)
    return out


def test_decision_modules_import_no_network_sql_or_prefect():
    for module in PURE:
        bad = _closure(module, {module}) & FORBIDDEN
        assert not bad, f"{module} imports {bad}"


def test_sql_only_in_warehouse():
    sql = re.compile(r"\b(SELECT|INSERT INTO|CREATE TABLE|UPDATE \w+ SET)\b")
    for package in ("storywatch", "extractors", "flows"):
        for path in (ROOT / package).rglob("*.py"):
            assert not sql.search(path.read_text("utf-8")), path
