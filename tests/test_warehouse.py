"""Warehouse: migrations recorded once, views with the documented columns, one-writer errors."""

import gzip
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from storywatch.errors import WarehouseError
from tests.test_docs import README
from storywatch.warehouse.migrations import MIGRATIONS
from storywatch.warehouse.store import INSERT_CHUNK, Warehouse, _insert

CONTRACT = {
    "judgments": ["story", "article_id", "url", "outlet", "title", "published_at", "first_seen_at", "relevance",
                  "on_story", "verdict", "duplicate_of", "reason", "versions"],
    "daily_coverage": ["story", "day", "new", "syndicated", "seed_copies", "updates", "outlets"],
    "developments": ["story", "article_id", "outlet", "first_seen_at", "sentence", "facts", "version", "sentence_no",
                     "salience", "key", "first_reported_at", "reported_at_source", "first_outlet", "repeats",
                     "repeated_by"],
    "key_developments": ["story", "article_id", "outlet", "first_seen_at", "sentence", "facts", "version",
                         "sentence_no", "salience", "key", "first_reported_at", "reported_at_source", "first_outlet",
                         "repeats", "repeated_by"],
    "first_reports": ["story", "fact", "outlet", "first_seen_at", "kind", "normalized", "article_id", "reported_at",
                      "reported_at_source"],
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


# One file per released schema, each made by that commit's own code (see fixtures/schemas/README.md).
SCHEMA_FILES = sorted((Path(__file__).parent / "fixtures" / "schemas").glob("*.duckdb*"))
ROWS_BY_SCHEMA = {  # table -> (rows the old code wrote, first schema version that has the table)
    "runs": (1, 1), "feeds": (2, 1), "entries": (3, 1), "articles": (3, 1), "page_versions": (3, 1),
    "verdicts": (3, 1), "alert_outbox": (1, 2), "novel_sentences": (2, 4), "sentence_facts": (2, 4),
    "version_diffs": (1, 4),
}


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict:
    """Every base table's columns and rows (schema_migrations with its applied_at included)."""
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
    return {t: (con.execute(f"SELECT * FROM {t} LIMIT 0").description,
                sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall()))) for t in tables}


def test_a_fixture_for_every_released_schema():
    assert {f.name[:3] for f in SCHEMA_FILES} >= {"001", "002", "003", "004", "005"}
    assert any("2416e58" in f.name for f in SCHEMA_FILES)  # 001 as first released, before it was edited


@pytest.mark.parametrize("fixture", SCHEMA_FILES, ids=[f.name.split(".")[0] for f in SCHEMA_FILES])
def test_upgrade_from_released_schema_keeps_data(tmp_path, fixture):
    """A file made by the code of an earlier release opens with today's code, every migration
    recorded, its rows intact and readable through the views; opening again changes nothing."""
    db = tmp_path / "old.duckdb"
    db.write_bytes(gzip.decompress(fixture.read_bytes()) if fixture.suffix == ".gz" else fixture.read_bytes())
    schema = int(fixture.name[:3])

    with Warehouse.open(db) as w:
        ids = [r[0] for r in w.con.execute("SELECT article_id FROM articles").fetchall()]
        known = w.known_articles("meta-open-models", ids)
        states = w.feed_states("meta-open-models")
    con = duckdb.connect(str(db), read_only=True)
    assert [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()] == \
        [n for n, _ in MIGRATIONS]
    for table, (rows, since) in ROWS_BY_SCHEMA.items():
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (rows if schema >= since else 0,), table
    url = "https://www.theverge.com/2026/11/20/meta-open-sources-llama-5"
    assert con.execute("SELECT url, verdict, on_story, title, versions FROM judgments ORDER BY url").fetchall() == [
        ("https://techcrunch.com/2026/11/20/meta-llama-5-weights-release", "fetch_failed", False,
         "Meta releases Llama 5 weights", 0),  # never fetched: the title is the feed entry's
        ("https://www.theverge.com/2026/11/20/apple-earnings-q4", "off_topic", False,
         "Apple earnings beat estimates", 1),
        (url, "new", True, "Meta open-sources Llama 5, allows commercial use", 2),
    ]
    assert con.execute("SELECT url, outlet, versions FROM coverage").fetchall() == [(url, "The Verge", 2)]
    (a1,) = con.execute("SELECT article_id FROM articles WHERE url = ?", [url]).fetchone()
    assert (known[a1].verdict, known[a1].version) == ("new", 2)
    assert con.execute("SELECT version, summary FROM article_versions WHERE article_id = ? ORDER BY version",
                       [a1]).fetchall()[0] == (1, "first version")
    assert con.execute("SELECT count(*), min(octet_length(minhash)), bool_and(html_gz IS NOT NULL) FROM page_versions"
                       ).fetchone() == (3, 512, True)
    assert con.execute("SELECT feed, consecutive_failures, failure_score, last_error FROM feed_health "
                       "WHERE consecutive_failures > 0").fetchall() == [
        ("https://techcrunch.com/category/artificial-intelligence/feed/", 2, 0.5 if schema >= 3 else 0.0,
         "HTTP 503 Service Unavailable")]  # failure_score: its default where 003 added it
    assert states["https://techcrunch.com/category/artificial-intelligence/feed/"].consecutive_failures == 2
    assert con.execute("SELECT status, new, alerts_sent FROM runs").fetchall() == [
        ("completed", 1, 1 if schema >= 2 else None)]
    assert con.execute("SELECT count(*) FROM alerts WHERE status = 'sent'").fetchone() == (int(schema >= 2),)
    assert con.execute("SELECT count(*) FROM developments").fetchone() == (2 if schema >= 4 else 0,)
    # Developments stored before claims were judged on meaning are kept, re-ranked by their facts.
    ranked = con.execute("SELECT d.salience, d.key, count(f.kind) FROM developments d LEFT JOIN sentence_facts f "
                         "USING (story, article_id, version, sentence_no) GROUP BY ALL").fetchall()
    assert all(salience > 0 and key == (salience >= 1) for salience, key, facts in ranked if facts)
    assert all(salience == 0 and not key for salience, key, facts in ranked if not facts)
    before = _snapshot(con)
    con.close()

    Warehouse.open(db).close()
    con = duckdb.connect(str(db), read_only=True)
    assert _snapshot(con) == before
    con.close()


def test_failed_migration_rolls_back_whole(tmp_path, monkeypatch):
    import storywatch.warehouse.migrations as migrations

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


def test_bulk_insert_spans_chunks_and_keeps_the_last_row_per_key(tmp_path):
    con = duckdb.connect(str(tmp_path / "chunks.duckdb"))
    con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)")
    n = INSERT_CHUNK * 2 + 7  # two full statements and a partial one
    rows = ([i % (n - 3), i] for i in range(n))  # a generator; the last 3 rows repeat keys 0-2
    _insert(con, "INSERT INTO t (k, v)", rows, "ON CONFLICT (k) DO UPDATE SET v = excluded.v", key=1)
    assert con.execute("SELECT count(*), sum(v) FROM t").fetchone() == (n - 3, sum(range(3, n)))
    assert con.execute("SELECT v FROM t WHERE k IN (0, 1, 2) ORDER BY k").fetchall() == [(n - 3,), (n - 2,), (n - 1,)]
