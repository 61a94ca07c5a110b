"""What labels and re-scores read and write: people's labels, the stored articles a re-score
judges again, and the verdicts it changes (each change kept in `verdict_changes` with the
previous value). Every write is one transaction: a killed re-score leaves the file as it was."""

from __future__ import annotations

from datetime import datetime

import duckdb

from storywatch.alerts import Alert
from storywatch.errors import WarehouseError
from storywatch.models import Judgment, Label, Stored, Verdict
from storywatch.rescore import Change
from storywatch.urls import article_id, unwrap_aggregator
from storywatch.warehouse.store import Warehouse, _first_line, _insert, _update, utc_naive
from storywatch.warehouse.transaction import atomic

# The stored articles a story judged, with their latest text, first judged first: by the pass of
# their first version, then as `decide` took them (publication time, else fetch time).
_STORED = """
    SELECT v.article_id, a.url, coalesce(l.outlet, a.outlet, ''), coalesce(l.title, a.title, ''), l.text,
           coalesce(l.published_at, a.published_at), v.verdict, v.relevance, v.reason, v.duplicate_of,
           v.duplicate_score
    FROM verdicts v JOIN articles a USING (article_id)
    JOIN latest_versions l USING (article_id)
    JOIN page_versions p1 ON p1.article_id = v.article_id AND p1.version = 1
    LEFT JOIN runs r ON r.run_id = p1.run_id
    WHERE v.story = $story AND coalesce(l.text, '') <> '' {where}
    ORDER BY coalesce(r.started_at, p1.fetched_at), coalesce(p1.published_at, p1.fetched_at), v.article_id
"""


def find_article(wh: Warehouse, story: str, url: str) -> str | None:
    """The ID of the article `url` names in this story (any URL variant of it, or a feed link
    that led to it), or None."""
    ids = sorted({article_id(url), article_id(unwrap_aggregator(url))})
    row = wh.con.execute(
        """
        SELECT v.article_id FROM verdicts v JOIN articles a USING (article_id)
        WHERE v.story = $story AND (v.article_id IN (SELECT unnest($ids::VARCHAR[])) OR a.url = $url)
        UNION
        SELECT e.article_id FROM entries e JOIN verdicts v ON v.story = e.story AND v.article_id = e.article_id
        WHERE e.story = $story AND e.link = $url
        LIMIT 1
        """,
        {"story": story, "ids": ids, "url": url},
    ).fetchone()
    return row[0] if row else None


def stored_articles(wh: Warehouse, story: str, only: str | None = None) -> list[Stored]:
    """Every article of the story with stored text (or just the one with ID `only`), first judged first."""
    where, params = ("AND v.article_id = $only", {"story": story, "only": only}) if only else ("", {"story": story})
    rows = wh.con.execute(_STORED.format(where=where), params).fetchall()
    return [Stored(r[0], r[1], r[2], r[3], r[4], r[5], Judgment(Verdict(r[6]), r[7], r[8], r[9], r[10])) for r in rows]


def labels(wh: Warehouse, story: str) -> list[Label]:
    """People's labels on this story's articles, with each article's latest stored text."""
    try:
        rows = wh.con.execute(
            """
            SELECT lb.article_id, lb.on_story, coalesce(l.text, ''), lb.labelled_at
            FROM labels lb LEFT JOIN latest_versions l USING (article_id)
            WHERE lb.story = ? ORDER BY lb.labelled_at, lb.article_id
            """,
            [story],
        ).fetchall()
    except duckdb.CatalogException:  # a file opened read-only, from before labels existed
        return []
    return [Label(*r) for r in rows if r[2]]


def save_label(wh: Warehouse, story: str, label: Label, changes: list[Change], alerts: list[tuple[Alert, str]]) -> None:
    """Record `label` (replacing any earlier one) and the verdict change it makes, in one transaction."""
    _write(wh, story, changes, "label", label.labelled_at, alerts, [[story, label.article_id, label.on_story,
                                                                    utc_naive(label.labelled_at)]])


def save_rescore(wh: Warehouse, story: str, changes: list[Change], at: datetime, alerts: list[tuple[Alert, str]]) -> None:
    """Apply a re-score's changes and queue the alerts they raise (alert, channel label), in one transaction."""
    _write(wh, story, changes, "rescore", at, alerts)


def _write(wh: Warehouse, story: str, changes: list[Change], cause: str, at: datetime,
           alerts: list[tuple[Alert, str]], label_rows: list[list] = ()) -> None:
    history = [[story, c.stored.article_id, utc_naive(at), cause, c.stored.judgment.verdict.value,
                c.stored.judgment.relevance, c.stored.judgment.reason, c.judgment.verdict.value,
                c.judgment.relevance, c.judgment.reason] for c in changes]
    updates = [[story, c.stored.article_id, c.judgment.verdict.value, c.judgment.relevance, c.judgment.reason,
                c.judgment.duplicate_of, c.judgment.duplicate_score, utc_naive(at)] for c in changes]
    try:
        with atomic(wh.con):
            if label_rows:
                _insert(wh.con, "INSERT INTO labels (story, article_id, on_story, labelled_at)", label_rows,
                        "ON CONFLICT (story, article_id) DO UPDATE SET on_story = excluded.on_story, "
                        "labelled_at = excluded.labelled_at")
            _insert(wh.con, "INSERT INTO verdict_changes", history)
            _update(wh.con, "verdicts", "verdict = u.v1, relevance = u.v2, reason = u.v3, duplicate_of = u.v4, "
                                        "duplicate_score = u.v5, judged_at = u.v6", ("story", "article_id"), updates)
            wh.queue_alerts(f"{cause}-{utc_naive(at):%Y%m%dT%H%M%S}", story, alerts, at)
    except (duckdb.Error, OSError) as exc:
        raise WarehouseError(f"{wh.path}: cannot save the {cause} (nothing was changed): {_first_line(exc)}") from None
