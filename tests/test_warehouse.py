"""Warehouse: migrations recorded once, views with the documented columns, one-writer errors."""

import subprocess
import sys
import time

import duckdb
import pytest

from storywatch.errors import WarehouseError
from tests.test_docs import README
from warehouse.migrations import MIGRATIONS
from warehouse.store import Warehouse

CONTRACT = {
    "judgments": ["story", "article_id", "url", "outlet", "title", "published_at", "first_seen_at", "relevance",
                  "on_story", "verdict", "duplicate_of", "reason", "versions"],
    "daily_coverage": ["story", "day", "new", "syndicated", "seed_copies", "updates", "outlets"],
    "developments": ["story", "article_id", "outlet", "first_seen_at", "sentence", "facts", "version", "sentence_no"],
    "first_reports": ["story", "fact", "outlet", "first_seen_at", "kind", "normalized", "article_id", "reported_at"],
    "article_versions": ["article_id", "version", "fetched_at", "title", "changed_headline", "added", "removed",
                         "summary"],
    "outlets": ["story", "outlet", "first_seen_at", "articles", "new", "syndicated"],
    "story_timeline": ["story", "day", "new_articles", "new_outlets", "developments"],
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
        assert f"| `{view}` |" in README and f"| `{', '.join(columns)}` |" in README, view  # as documented
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


def test_upgrade_from_first_released_schema_keeps_data(tmp_path):
    """A file at schema 001 (made by running only the first migration, as the first release did)
    upgrades to the current schema with its rows intact and every view working."""
    from warehouse.migrations import MIGRATIONS

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    name, first = MIGRATIONS[0]
    first(con)
    con.execute("INSERT INTO schema_migrations VALUES (?, now()::TIMESTAMP)", [name])
    con.execute("INSERT INTO feeds (story, url, consecutive_failures) VALUES ('s', 'https://f.example/rss', 2)")
    con.execute("INSERT INTO articles VALUES ('a1', 'https://n.example/a', 'N', 'T', NULL, TIMESTAMP '2026-11-20 10:00')")
    con.execute("INSERT INTO verdicts VALUES ('s', 'a1', 'r1', TIMESTAMP '2026-11-20 10:00', 0.9, 'new', 'r', NULL, NULL, 1)")
    con.execute("INSERT INTO runs (run_id, story, started_at, status, new) VALUES ('r1', 's', TIMESTAMP '2026-11-20 10:00', 'completed', 1)")
    con.close()

    Warehouse.open(db).close()
    con = duckdb.connect(str(db), read_only=True)
    assert [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()] == [n for n, _ in MIGRATIONS]
    assert con.execute("SELECT verdict, on_story FROM judgments").fetchall() == [("new", True)]
    assert con.execute("SELECT consecutive_failures, failure_score, next_poll_at FROM feed_health").fetchall() == [(2, 0.0, None)]
    assert con.execute("SELECT new, alerts_sent FROM runs").fetchall() == [(1, None)]
    assert con.execute("SELECT count(*) FROM alerts").fetchone() == (0,)


def test_failed_migration_rolls_back_whole(tmp_path, monkeypatch):
    import warehouse.migrations as migrations

    def broken(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("999_broken", broken)])
    db = tmp_path / "m.duckdb"
    with pytest.raises(WarehouseError, match=r"m\.duckdb: cannot prepare schema: disk trouble$"):
        Warehouse.open(db)
    con = duckdb.connect(str(db), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "half_done" not in tables and "feeds" in tables
    assert "999_broken" not in {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
