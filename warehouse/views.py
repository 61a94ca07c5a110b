"""The reporting contract: views users query with SQL, re-created idempotently on every open.

Columns are documented in the README and pinned by tests; change them only by adding columns."""

from __future__ import annotations

import duckdb

VIEWS = {
    "latest_versions": """
        SELECT * FROM article_versions
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
        LEFT JOIN (SELECT article_id, count(*) AS versions FROM article_versions GROUP BY article_id) n
               USING (article_id)
    """,
    "coverage": "SELECT * FROM judgments WHERE on_story",
    "daily_coverage": """
        WITH days AS (
            SELECT story, coalesce(published_at, first_seen_at)::DATE AS day, verdict, outlet
            FROM coverage
        ), updates AS (
            SELECT v.story, av.fetched_at::DATE AS day, count(*) AS updates
            FROM article_versions av JOIN verdicts v USING (article_id)
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


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for name, sql in VIEWS.items():
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
