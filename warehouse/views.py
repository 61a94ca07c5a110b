"""The reporting contract: views users query with SQL, re-created idempotently on every open.

Columns are documented in the README and pinned by tests; change them only by adding columns."""

from __future__ import annotations

import hashlib

import duckdb

from storywatch.warehouse.transaction import atomic

VIEWS = {
    "latest_versions": """
        SELECT * FROM page_versions
        QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY version DESC) = 1
    """,
    "judgments": """
        SELECT v.story, v.article_id, a.url, coalesce(l.outlet, a.outlet) AS outlet,
               coalesce(l.title, a.title) AS title, coalesce(l.published_at, a.published_at) AS published_at,
               a.first_seen_at, v.relevance,
               v.verdict IN ('new', 'syndicated', 'seed_copy') AS on_story,
               v.verdict, v.duplicate_of, v.reason,
               coalesce(n.versions, 0)::INTEGER AS versions
        FROM verdicts v
        JOIN articles a USING (article_id)
        LEFT JOIN latest_versions l USING (article_id)
        LEFT JOIN (SELECT article_id, count(*) AS versions FROM page_versions GROUP BY article_id) n
               USING (article_id)
    """,
    "coverage": "SELECT * FROM judgments WHERE on_story",
    "daily_coverage": """
        WITH days AS (
            SELECT story, coalesce(published_at, first_seen_at)::DATE AS day, verdict, outlet
            FROM coverage
        ), updates AS (
            SELECT v.story, av.fetched_at::DATE AS day, count(*) AS updates
            FROM page_versions av JOIN verdicts v USING (article_id)
            WHERE av.version > 1 AND v.verdict IN ('new', 'syndicated', 'seed_copy')
            GROUP BY ALL
        ), counted AS (
            SELECT story, day,
                   count(*) FILTER (WHERE verdict = 'new') AS new,
                   count(*) FILTER (WHERE verdict = 'syndicated') AS syndicated,
                   count(*) FILTER (WHERE verdict = 'seed_copy') AS seed_copies,
                   count(DISTINCT outlet) AS outlets
            FROM days GROUP BY ALL
        )
        SELECT story, day,
               coalesce(c.new, 0)::INTEGER AS new,
               coalesce(c.syndicated, 0)::INTEGER AS syndicated,
               coalesce(c.seed_copies, 0)::INTEGER AS seed_copies,
               coalesce(u.updates, 0)::INTEGER AS updates,
               coalesce(c.outlets, 0)::INTEGER AS outlets
        FROM counted c FULL JOIN updates u USING (story, day)
        ORDER BY story, day
    """,
    "article_versions": """
        SELECT p.article_id, p.version, p.fetched_at, p.title,
               coalesce(d.headline_changed, false) AS changed_headline,
               coalesce(d.added, []::VARCHAR[]) AS added, coalesce(d.removed, []::VARCHAR[]) AS removed,
               coalesce(d.summary, 'first version') AS summary
        FROM page_versions p LEFT JOIN version_diffs d USING (article_id, version)
    """,
    "developments": """
        -- one row per claim: the sentence that made it first, who repeated it later and how often
        SELECT d.story, d.article_id, coalesce(p.outlet, a.outlet) AS outlet, d.first_seen_at, d.sentence,
               coalesce(list(f.text ORDER BY f.kind, f.text) FILTER (WHERE f.text IS NOT NULL), []) AS facts,
               d.version, d.sentence_no, coalesce(d.salience, 0.0) AS salience, coalesce(d.key, false) AS key,
               coalesce(d.reported_at, d.first_seen_at) AS first_reported_at,
               CASE WHEN d.version = 1 AND p.published_at IS NOT NULL AND p.published_at <= d.first_seen_at
                    THEN 'published' ELSE 'first_seen' END AS reported_at_source,
               coalesce(p.outlet, a.outlet) AS first_outlet,
               coalesce(r.repeats, 0)::INTEGER AS repeats, coalesce(r.repeated_by, []::VARCHAR[]) AS repeated_by
        FROM novel_sentences d
        JOIN articles a USING (article_id)
        LEFT JOIN page_versions p USING (article_id, version)
        LEFT JOIN sentence_facts f USING (story, article_id, version, sentence_no)
        LEFT JOIN (SELECT story, article_id, version, sentence_no, count(DISTINCT repeat_article_id) AS repeats,
                          list(DISTINCT repeat_outlet ORDER BY repeat_outlet) AS repeated_by
                   FROM claim_repeats GROUP BY ALL) r USING (story, article_id, version, sentence_no)
        GROUP BY ALL
    """,
    "key_developments": "SELECT * FROM developments WHERE key",
    "first_reports": """
        -- facts nobody reported before (not the seeds, not earlier coverage), credited by when
        -- they were reported (an article's publication time, never after storywatch first saw
        -- it; an edit's fetch time), not by fetch order within a pass
        WITH reported AS (
            SELECT f.*, coalesce(p.outlet, a.outlet) AS outlet,
                   CASE WHEN f.version = 1 THEN least(coalesce(p.published_at, f.first_seen_at), f.first_seen_at)
                        ELSE f.first_seen_at END AS reported_at,
                   CASE WHEN f.version = 1 AND p.published_at IS NOT NULL AND p.published_at <= f.first_seen_at
                        THEN 'published' ELSE 'first_seen' END AS reported_at_source
            FROM sentence_facts f JOIN articles a USING (article_id) LEFT JOIN page_versions p USING (article_id, version)
            WHERE coalesce(f.is_new, true)
        )
        SELECT story, text AS fact, outlet, first_seen_at, kind, normalized, article_id, reported_at, reported_at_source
        FROM reported
        QUALIFY row_number() OVER (PARTITION BY story, kind, normalized
                                   ORDER BY reported_at, first_seen_at, article_id, sentence_no) = 1
    """,
    "outlets": """
        SELECT story, outlet, min(first_seen_at) AS first_seen_at, count(*)::INTEGER AS articles,
               count(*) FILTER (WHERE verdict = 'new')::INTEGER AS new,
               count(*) FILTER (WHERE verdict = 'syndicated')::INTEGER AS syndicated
        FROM coverage WHERE verdict IN ('new', 'syndicated')
        GROUP BY ALL
    """,
    "story_timeline": """
        -- day = publication day, else the day storywatch first saw the article
        WITH dated AS (
            SELECT story, article_id, outlet, verdict, coalesce(published_at, first_seen_at)::DATE AS day
            FROM coverage WHERE verdict IN ('new', 'syndicated')
        ), arrivals AS (
            SELECT story, day, count(*) FILTER (WHERE verdict = 'new') AS new_articles FROM dated GROUP BY ALL
        ), outlets_first AS (
            SELECT story, day, count(*) AS new_outlets FROM (
                SELECT story, outlet, min(day) AS day FROM dated GROUP BY ALL) GROUP BY ALL
        ), devs AS (
            -- a development's day is when it was reported: its article's publication, or an edit's fetch
            SELECT d.story, coalesce(d.reported_at, d.first_seen_at)::DATE AS day, count(*) AS developments
            FROM novel_sentences d JOIN dated USING (story, article_id) GROUP BY ALL
        )
        SELECT story, day, coalesce(new_articles, 0)::INTEGER AS new_articles,
               coalesce(new_outlets, 0)::INTEGER AS new_outlets, coalesce(developments, 0)::INTEGER AS developments
        FROM arrivals FULL JOIN outlets_first USING (story, day) FULL JOIN devs USING (story, day)
        ORDER BY story, day
    """,
    "feed_health": """
        SELECT story, url AS feed, title, last_ok_at, consecutive_failures, failure_score,
               last_error, last_status, last_polled_at, next_poll_at
        FROM feeds
    """,
    "alerts": """
        SELECT story, key, rule, channel, created_at, sent_at, attempts, last_error, status
        FROM alert_outbox
    """,
}


# Shown to users after the demo as a first query to try.
EXAMPLE_QUERY = "SELECT * FROM daily_coverage"


VIEWS_HASH = hashlib.sha256(repr(sorted(VIEWS.items())).encode("utf-8")).hexdigest()[:16]


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view in one transaction, and record which definitions they are."""
    with atomic(con):
        for name, sql in VIEWS.items():
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
        con.execute("CREATE TABLE IF NOT EXISTS schema_views (hash VARCHAR NOT NULL)")
        con.execute("DELETE FROM schema_views")
        con.execute("INSERT INTO schema_views VALUES (?)", [VIEWS_HASH])


def views_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Are this file's views the ones this code defines?"""
    try:
        return con.execute("SELECT hash FROM schema_views").fetchall() == [(VIEWS_HASH,)]
    except duckdb.CatalogException:
        return False
