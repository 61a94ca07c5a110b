"""Warehouse: migrations recorded once, views with the documented columns, one-writer errors."""

import subprocess
import sys
import time

import duckdb
import pytest

from storywatch.errors import WarehouseError
from warehouse.migrations import MIGRATIONS
from warehouse.store import Warehouse

CONTRACT = {
    "judgments": ["story", "article_id", "url", "outlet", "title", "published_at", "first_seen_at", "relevance",
                  "on_story", "verdict", "duplicate_of", "reason", "versions"],
    "daily_coverage": ["story", "day", "new", "syndicated", "seed_copies", "updates", "outlets"],
    "feed_health": ["story", "feed", "title", "last_ok_at", "consecutive_failures", "failure_score", "last_error",
                    "last_status", "last_polled_at", "next_poll_at"],
    "alerts": ["story", "key", "rule", "channel", "created_at", "sent_at", "attempts", "last_error", "status"],
}


def test_migrations_applied_once_and_views_match_contract(tmp_path):
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    Warehouse.open(db).close()
    con = duckdb.connect(str(db), read_only=True)
    names = [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
    assert names == [name for name, _ in MIGRATIONS]
    for view, columns in CONTRACT.items():
        assert [d[0] for d in con.execute(f"SELECT * FROM {view} LIMIT 0").description] == columns
    assert [d[0] for d in con.execute("SELECT * FROM coverage LIMIT 0").description] == CONTRACT["judgments"]


def test_second_writer_gets_one_line_error(tmp_path):
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(WarehouseError, match="in use by another storywatch process") as info:
            Warehouse.open(db)
        assert str(db) in str(info.value) and "\n" not in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def test_unwritable_path_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WarehouseError, match="cannot open") as info:
        Warehouse.open(blocker / "sub" / "w.duckdb")
    assert "\n" not in str(info.value)
