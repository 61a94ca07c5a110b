"""The warehouse: one DuckDB connection per pass, the only place that reads or writes tables.

A pass's results are written in one transaction, feed polling state included, so a pass killed
midway leaves the file as it was and the next pass redoes the work. Every write is keyed
(`ON CONFLICT … DO …`), so repeating it changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from pathlib import Path

import duckdb

from storywatch.alerts import Alert, Pending, StoryContext, next_attempt
from storywatch.errors import WarehouseError
from storywatch.evolution import Evolution
from storywatch.models import Decision, EntrySeen, FeedPoll, FeedState, Known, RunCounts, Verdict
from storywatch.novelty import Fingerprint, SaidSentence
from storywatch.urls import outlet_of
from storywatch.warehouse.migrations import MIGRATIONS, migrate
from storywatch.warehouse.transaction import atomic
from storywatch.warehouse.views import ensure_views, views_current


def utc_naive(value: datetime | None) -> datetime | None:
    """Stored form of a timestamp: UTC without tzinfo."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


# Rows per INSERT statement: large enough to stay bulk, small enough that a pass's pages (text
# and raw HTML) are not all converted to DuckDB vectors at once.
INSERT_CHUNK = 1000


def _insert(con: duckdb.DuckDBPyConnection, insert: str, rows: Iterable[list], conflict: str = "", key: int = 0) -> None:
    """Insert `rows` (a generator is built only a chunk at a time) by INSERT_CHUNK-row
    statements, each column sent as one list and unnested: about 80,000 rows/s here, where
    `executemany` manages about 300. `insert` is `INSERT INTO t (columns)`, `conflict` its ON
    CONFLICT clause. With `key` (the number of leading columns that form the conflict target) only
    the last row per key is sent, as row-by-row upserts would leave it."""
    if key:
        rows = {tuple(row[:key]): row for row in rows}.values()
    pending = iter(rows)
    while chunk := list(islice(pending, INSERT_CHUNK)):
        con.execute(f"{insert} SELECT {', '.join('unnest(?)' for _ in chunk[0])} {conflict}",
                    [list(column) for column in zip(*chunk)])


def _update(con: duckdb.DuckDBPyConnection, table: str, assignments: str, keys: tuple[str, ...], rows: list[list]) -> None:
    """`UPDATE table SET assignments` for many rows at once: each row is key values then the
    values `assignments` refers to as u.v1, u.v2 …"""
    if not rows:
        return
    columns = [list(column) for column in zip(*rows)]
    names = [*keys, *(f"v{i}" for i in range(1, len(columns) - len(keys) + 1))]
    source = ", ".join(f"unnest(?) AS {name}" for name in names)
    match = " AND ".join(f"{table}.{k} = u.{k}" for k in keys)
    con.execute(f"UPDATE {table} SET {assignments} FROM (SELECT {source}) u WHERE {match}", columns)


# What `storywatch export` writes: the view, and the column that dates a row (for --since and order).
EXPORTS = {
    "coverage": ("coverage", "coalesce(published_at, first_seen_at)"),
    "judgments": ("judgments", "coalesce(published_at, first_seen_at)"),
    "developments": ("developments", "first_reported_at"),
    "timeline": ("story_timeline", "day"),
}


def _literal(value: str) -> str:
    """A SQL string literal (COPY takes no parameters)."""
    return "'" + value.replace("'", "''") + "'"


def _behind(con: duckdb.DuckDBPyConnection) -> bool:
    """Does this file lack migrations or views this code has?"""
    try:
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    except duckdb.CatalogException:
        return False  # not a storywatch file yet: nothing to read either
    return any(name not in done for name, _ in MIGRATIONS) or not views_current(con)


def _split_ref(ref: str) -> tuple[str, int, int]:
    """"<article_id>#<version>#<sentence_no>" -> its three parts."""
    article_id, version, sentence_no = ref.rsplit("#", 2)
    return article_id, int(version), int(sentence_no)


def _first_line(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0]


@dataclass(frozen=True)
class CoverageRow:
    article_id: str
    content_hash: str
    minhash: bytes
    shingles: int
    bucketed: bool  # its copy_buckets are stored (false in a file from before they were)


class _Locked(Exception):
    """Another process holds the DuckDB file."""


_NOT_WRITABLE = ("permission denied", "operation not permitted", "read-only file system")


def _cannot_open(path: str, message: str, read_only: bool) -> str:
    """One line: a file or folder we may not write is said plainly; nothing was changed."""
    if not read_only and any(cause in message.lower() for cause in _NOT_WRITABLE):
        where = "the file" if Path(path).exists() else "its folder"
        return f"{path}: cannot write {where} ({message.rsplit(': ', 1)[-1]}); nothing was changed"
    return f"{path}: cannot open: {message}"


class Warehouse:
    """Open with `Warehouse.open(path)`; migrations and views are brought up to date on open."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self.con = con
        self.path = path

    @classmethod
    def open(cls, path: str | Path, read_only: bool = False, wait_seconds: float = 0.0,
             on_wait: Callable[[], None] | None = None) -> Warehouse:
        """Open (creating if needed) and migrate. If another process holds the file, call
        `on_wait` once (to say so) and retry for up to `wait_seconds`, then fail with one line."""
        path = str(path)
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                con = cls._connect(path, read_only)
                break
            except _Locked:
                if on_wait is not None and wait_seconds and time.monotonic() < deadline:
                    on_wait()
                    on_wait = None
                if time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"{path}: in use by another storywatch process (DuckDB allows one writer)"
                        + (f"; waited {wait_seconds:g}s" if wait_seconds else "")
                    ) from None
                time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        con.execute("SET TimeZone = 'UTC'")
        if read_only and _behind(con):
            # A file from an older storywatch: bring its schema and views up to date first (a
            # reader must not see views older than its code), then read it.
            con.close()
            cls.open(path, wait_seconds=wait_seconds).close()
            con = cls._connect(path, read_only)
            con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            try:
                migrate(con)
                ensure_views(con)
            except Exception as exc:  # a migration that fails has rolled back; say so in one line
                con.close()
                raise WarehouseError(f"{path}: cannot prepare schema: {_first_line(exc)}") from None
        return cls(con, path)

    @staticmethod
    def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            if not read_only:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            message = _first_line(exc)
            if "could not set lock" in message.lower():  # DuckDB's words; the path itself may say "lock"
                raise _Locked() from None
            raise WarehouseError(_cannot_open(path, message, read_only)) from None
        except (duckdb.Error, OSError) as exc:
            raise WarehouseError(_cannot_open(path, _first_line(exc), read_only)) from None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reads -------------------------------------------------------------------------------

    def feed_states(self, story: str) -> dict[str, FeedState]:
        rows = self.con.execute(
            "SELECT url, etag, last_modified, body_hash, consecutive_failures, failure_score, next_poll_at "
            "FROM feeds WHERE story = ?",
            [story],
        ).fetchall()
        return {r[0]: FeedState(*r[:6], r[6].replace(tzinfo=timezone.utc) if r[6] else None) for r in rows}

    def known_entries(self, story: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """(feed_url, guid) -> (fingerprint, article_id) of those of `keys` seen before for the story."""
        if not keys:
            return {}
        feeds, guids = zip(*keys)
        rows = self.con.execute(
            """
            SELECT e.feed_url, e.guid, e.fingerprint, e.article_id
            FROM entries e JOIN (SELECT unnest($feeds::VARCHAR[]) AS feed_url, unnest($guids::VARCHAR[]) AS guid) k
                 USING (feed_url, guid)
            WHERE e.story = $story
            """,
            {"story": story, "feeds": list(feeds), "guids": list(guids)},
        ).fetchall()
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    def known_articles(self, story: str, ids: Iterable[str]) -> dict[str, Known]:
        """article_id -> what the story knows of it, for those of `ids` judged before."""
        rows = self.con.execute(
            """
            SELECT v.article_id, v.verdict, v.attempts, l.content_hash, coalesce(l.version, 0)
            FROM verdicts v LEFT JOIN latest_versions l USING (article_id)
            WHERE v.story = $story AND v.article_id IN (SELECT unnest($ids::VARCHAR[]))
            """,
            {"story": story, "ids": list(ids)},
        ).fetchall()
        return {r[0]: Known(r[1], r[2], r[3], r[4]) for r in rows}

    def coverage_rows(self, story: str, buckets: set[int], hashes: set[str], ids: set[str]) -> list[CoverageRow]:
        """The on-story articles (not seed copies) a pass's copy index needs: those sharing one of
        `buckets` or `hashes` with a text of the pass, the pass's own `ids` (an edit is judged
        against what came before it), and any with no stored buckets yet.

        In the order they were first judged: by the pass of their first version, then as
        `passplan.decide` took them (publication time, else fetch time) — not by fetch time,
        which within a pass is arbitrary, so an original fetched after its copy would otherwise
        look like the copy's copy once edited."""
        rows = self.con.execute(
            """
            WITH hit AS (
                SELECT DISTINCT article_id FROM copy_buckets
                WHERE story = $story AND bucket IN (SELECT unnest($buckets::BIGINT[]))
            ), bucketed AS (SELECT DISTINCT article_id FROM copy_buckets WHERE story = $story)
            SELECT v.article_id, l.content_hash, l.minhash, l.shingles, b.article_id IS NOT NULL
            FROM verdicts v JOIN latest_versions l USING (article_id)
            JOIN page_versions p1 ON p1.article_id = v.article_id AND p1.version = 1
            LEFT JOIN runs r ON r.run_id = p1.run_id
            LEFT JOIN bucketed b ON b.article_id = v.article_id
            WHERE v.story = $story AND v.verdict IN ('new', 'syndicated') AND l.minhash IS NOT NULL AND l.shingles > 0
              AND (b.article_id IS NULL OR v.article_id IN (SELECT article_id FROM hit)
                   OR l.content_hash IN (SELECT unnest($hashes::VARCHAR[]))
                   OR v.article_id IN (SELECT unnest($ids::VARCHAR[])))
            ORDER BY coalesce(r.started_at, p1.fetched_at), coalesce(p1.published_at, p1.fetched_at), v.article_id
            """,
            {"story": story, "buckets": list(buckets), "hashes": list(hashes), "ids": list(ids)},
        ).fetchall()
        return [CoverageRow(*r) for r in rows]

    def said_frequency(self, story: str, features: set[int]) -> dict[int, int]:
        """feature -> how many of the story's stored said sentences hold it (only those held)."""
        if not features:
            return {}
        rows = self.con.execute(
            """
            SELECT f, count(*) FROM (SELECT unnest(features) AS f FROM said_sentences WHERE story = $story)
            WHERE f IN (SELECT unnest($features::BIGINT[])) GROUP BY f
            """,
            {"story": story, "features": list(features)},
        ).fetchall()
        return dict(rows)

    def said_sentences(self, story: str, features: set[int], chunk: int = 5000) -> Iterator[SaidSentence]:
        """The story's stored said sentences holding any of `features`, in the order first said.
        Their sids are looked up first, then the rows read `chunk` sids at a time (a range of
        sids each, which the file's zone maps prune), so neither side holds them all at once."""
        if not features:
            return
        sids = [r[0] for r in self.con.execute(
            """
            SELECT DISTINCT sid FROM (SELECT sid, unnest(features) AS f FROM said_sentences WHERE story = $story)
            WHERE f IN (SELECT unnest($features::BIGINT[])) ORDER BY sid
            """,
            {"story": story, "features": list(features)},
        ).fetchall()]
        for start in range(0, len(sids), chunk):
            part = sids[start:start + chunk]
            rows = self.con.execute(
                """
                SELECT article_id, sentence, features, numbers FROM said_sentences
                WHERE story = $story AND sid BETWEEN $first AND $last AND sid IN (SELECT unnest($sids::BIGINT[]))
                ORDER BY sid
                """,
                {"story": story, "first": part[0], "last": part[-1], "sids": part},
            ).fetchall()
            yield from (SaidSentence(r[0], r[1], Fingerprint(frozenset(r[2]), frozenset(r[3]))) for r in rows)

    def unindexed_versions(self, story: str) -> list[tuple[str, int, str, str]]:
        """(article_id, version, title, text) of versions of `new` coverage not yet in the said
        store, in the order they were fetched: all of them in a file from before the store."""
        return self._versions_not_in(story, "said_versions")

    def _versions_not_in(self, story: str, marker: str) -> list[tuple[str, int, str, str]]:
        """(article_id, version, title, text) of the versions of `new` coverage that the marker
        table (said_versions or unit_versions) does not list yet, in the order they were fetched."""
        assert marker in ("said_versions", "unit_versions")
        return self.con.execute(
            f"""
            SELECT p.article_id, p.version, coalesce(p.title, ''), p.text
            FROM page_versions p JOIN verdicts v USING (article_id)
            WHERE v.story = ? AND v.verdict = 'new' AND p.text IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {marker} m
                              WHERE m.story = v.story AND m.article_id = p.article_id AND m.version = p.version)
            ORDER BY p.fetched_at, p.article_id, p.version
            """,
            [story],
        ).fetchall()

    def said_units(self, story: str, units: set[str]) -> list[tuple[str, str, bool]]:
        """(unit, ref of the sentence that said it first, whether that is a development) for those
        of `units` the story has said."""
        if not units:
            return []
        return self.con.execute(
            "SELECT unit, ref, development FROM said_units WHERE story = $story "
            "AND unit IN (SELECT unnest($units::VARCHAR[])) ORDER BY unit",
            {"story": story, "units": sorted(units)},
        ).fetchall()

    def ununitized_versions(self, story: str) -> list[tuple[str, int, str, str]]:
        """(article_id, version, title, text) of versions of `new` coverage whose units are not yet
        in said_units, in the order they were fetched: all of them in a file from before it."""
        return self._versions_not_in(story, "unit_versions")

    def key_counts(self, story: str, since: date) -> dict[date, int]:
        """Key developments already stored per reported day, from `since` on."""
        rows = self.con.execute(
            "SELECT reported_at::DATE, count(*) FROM novel_sentences WHERE story = ? AND key "
            "AND reported_at::DATE >= ? GROUP BY 1", [story, since]).fetchall()
        return dict(rows)

    def latest_texts(self, article_ids: list[str]) -> dict[str, tuple[str, str]]:
        """article_id -> (title, text) of its latest stored version."""
        if not article_ids:
            return {}
        rows = self.con.execute(
            f"SELECT article_id, coalesce(title, ''), coalesce(text, '') FROM latest_versions "
            f"WHERE article_id IN ({', '.join('?' * len(article_ids))})",
            article_ids,
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def recheck_candidates(self, story: str) -> list[tuple[str, str, str, datetime, datetime | None]]:
        """On-story articles that may still be due a re-check: (article_id, url, title,
        first_seen_at, last_checked_at), UTC-aware."""
        rows = self.con.execute(
            """
            SELECT a.article_id, a.url, coalesce(l.title, a.title, ''), a.first_seen_at, a.last_checked_at
            FROM articles a JOIN verdicts v USING (article_id) LEFT JOIN latest_versions l USING (article_id)
            WHERE v.story = ? AND v.verdict IN ('new', 'syndicated', 'seed_copy')
            """,
            [story],
        ).fetchall()
        aware = lambda t: t.replace(tzinfo=timezone.utc) if t else None  # noqa: E731
        return [(r[0], r[1], r[2], aware(r[3]), aware(r[4])) for r in rows]

    def failed_fetches(self, story: str, max_attempts: int) -> list[tuple[str, str, str]]:
        """Articles whose page fetch failed fewer than `max_attempts` times: (article_id, url,
        title), to be tried again even when their feed answers 304."""
        return self.con.execute(
            """
            SELECT a.article_id, a.url, coalesce(a.title, '')
            FROM articles a JOIN verdicts v USING (article_id)
            WHERE v.story = ? AND v.verdict = 'fetch_failed' AND v.attempts < ?
            ORDER BY a.first_seen_at, a.article_id
            """,
            [story, max_attempts],
        ).fetchall()

    # ---- writes ------------------------------------------------------------------------------

    def start_run(self, run_id: str, story: str, started_at: datetime) -> None:
        """Record the run as running. Runs still marked running are from a pass that was killed:
        only one process can hold the file, so none of them is alive."""
        self.mark_interrupted()
        self.con.execute(
            "INSERT INTO runs (run_id, story, started_at, status) VALUES (?, ?, ?, 'running') "
            "ON CONFLICT (run_id) DO NOTHING",
            [run_id, story, utc_naive(started_at)],
        )

    def save_pass(
        self,
        run_id: str,
        story: str,
        polls: list[FeedPoll],
        health: dict[str, tuple[float, datetime | None]],
        sightings: list[EntrySeen],
        decisions: list[Decision],
        counts: RunCounts,
        finished_at: datetime,
        outbox: list[tuple[Alert, str]] = (),
        evolution: Evolution | None = None,
        checked: list[tuple[str, datetime]] = (),
        buckets: dict[str, list[int]] | None = None,
    ) -> None:
        """Write one pass's results in one transaction: feed state, entries, articles,
        versions, verdicts, the alerts they raise (alert, channel label) and the run's counts.
        `health` maps a polled feed's URL to its failure score and next poll time; `evolution`
        holds the pass's developments, novelty and edit diffs; `checked` the (article_id, time)
        of every page fetched, for the re-check schedule; `buckets` the copy-index buckets of
        articles whose latest text is new to the index (they replace any stored before)."""
        try:
            with atomic(self.con):
                self._save_feeds(story, polls, health)
                self._save_entries(story, sightings)
                self._save_decisions(run_id, story, decisions)
                self.queue_alerts(run_id, story, outbox, finished_at)
                if evolution is not None:
                    self._save_evolution(story, evolution, {d.article_id: d.page.fetched_at for d in decisions})
                _update(self.con, "articles", "last_checked_at = u.v1", ("article_id",),
                        [[aid, utc_naive(at)] for aid, at in checked])
                self._save_buckets(story, buckets or {})
                self._finish_run(run_id, counts, finished_at, "completed")
        except (duckdb.Error, OSError) as exc:  # disk full, file gone read-only: nothing was written
            raise WarehouseError(f"{self.path}: cannot write this pass (nothing was saved): {_first_line(exc)}") from None

    def _save_evolution(self, story: str, evo: Evolution, seen_at: dict[str, datetime]) -> None:
        devs = [[story, d.article_id, d.version, d.sentence_no, d.sentence, utc_naive(seen_at[d.article_id]),
                 d.salience, d.key, utc_naive(d.reported_at or seen_at[d.article_id])] for d in evo.developments]
        facts = [[story, d.article_id, d.version, d.sentence_no, f.kind, f.text, f.normalized,
                  utc_naive(seen_at[d.article_id]), f"{f.kind}:{f.normalized}" in d.new_facts]
                 for d in evo.developments for f in {(f.kind, f.normalized): f for f in d.facts}.values()]
        # A reworded sentence shows as its old form removed and its new form added.
        diffs = [[aid, version, diff.headline_changed,
                  [s.text for s in diff.added] + [c.new.text for c in diff.changed],
                  [s.text for s in diff.removed] + [c.old.text for c in diff.changed],
                  diff.summary] for (aid, version), diff in evo.diffs.items()]
        _insert(self.con, "INSERT INTO novel_sentences (story, article_id, version, sentence_no, sentence, "
                          "first_seen_at, salience, key, reported_at)", devs, "ON CONFLICT DO NOTHING")
        _insert(self.con, "INSERT INTO sentence_facts (story, article_id, version, sentence_no, kind, text, "
                          "normalized, first_seen_at, is_new)", facts, "ON CONFLICT DO NOTHING")
        _insert(self.con, "INSERT INTO version_diffs", diffs, "ON CONFLICT DO NOTHING")
        _update(self.con, "verdicts", "novelty = u.v1", ("story", "article_id"),
                [[story, aid, score] for aid, score in evo.novelty.items()])
        first = self.con.execute("SELECT coalesce(max(sid), -1) + 1 FROM said_sentences WHERE story = ?",
                                 [story]).fetchone()[0]
        _insert(self.con, "INSERT INTO said_sentences",
                ([story, first + i, s.key, s.text, sorted(s.fingerprint.features), sorted(s.fingerprint.numbers)]
                 for i, s in enumerate(evo.said)))
        _insert(self.con, "INSERT INTO said_versions", [[story, aid, version] for aid, version in evo.indexed],
                "ON CONFLICT DO NOTHING")
        developments = {f"{d.article_id}#{d.version}#{d.sentence_no}" for d in evo.developments}
        _insert(self.con, "INSERT INTO said_units", [[story, unit, ref, ref in developments] for unit, ref in evo.units],
                "ON CONFLICT DO NOTHING")
        _insert(self.con, "INSERT INTO unit_versions", [[story, aid, version] for aid, version in evo.unit_indexed],
                "ON CONFLICT DO NOTHING")
        _insert(self.con, "INSERT INTO claim_repeats",
                [[story, *_split_ref(r.ref), r.article_id, r.outlet, utc_naive(r.seen_at)] for r in evo.repeats],
                "ON CONFLICT DO NOTHING")

    def _save_buckets(self, story: str, buckets: dict[str, list[int]]) -> None:
        if not buckets:
            return
        self.con.execute("DELETE FROM copy_buckets WHERE story = $story AND article_id IN (SELECT unnest($ids))",
                         {"story": story, "ids": list(buckets)})
        _insert(self.con, "INSERT INTO copy_buckets",
                [[story, aid, key] for aid, keys in buckets.items() for key in keys])

    def queue_alerts(self, run_id: str, story: str, outbox, created_at: datetime) -> None:
        """Queue (alert, channel label) pairs; an alert already queued for a channel is kept as it is."""
        rows = [[story, a.key, channel, a.rule, a.title, a.body, run_id, utc_naive(created_at), utc_naive(created_at)]
                for a, channel in outbox]
        _insert(self.con, "INSERT INTO alert_outbox (story, key, channel, rule, title, body, run_id, created_at, "
                          "next_attempt_at)", rows, "ON CONFLICT (story, key, channel) DO NOTHING")

    def alert_context(self, story: str, days: int, today: date) -> StoryContext:
        """Outlets already covering the story, and new + syndicated articles per first-seen day."""
        outlets = self.con.execute(
            "SELECT DISTINCT outlet FROM coverage WHERE story = ? AND verdict = 'new'", [story]
        ).fetchall()
        daily = self.con.execute(
            """
            SELECT first_seen_at::DATE, count(*) FROM coverage
            WHERE story = ? AND verdict IN ('new', 'syndicated') AND first_seen_at::DATE >= ?
            GROUP BY 1
            """,
            [story, today - timedelta(days=days)],
        ).fetchall()
        return StoryContext(frozenset(o for (o,) in outlets if o), {d: n for d, n in daily})

    def pending_alerts(self, story: str, now: datetime) -> dict[str, list[Pending]]:
        """Alerts due for delivery, per channel label, oldest first."""
        rows = self.con.execute(
            """
            SELECT channel, key, rule, title, body, attempts FROM alert_outbox
            WHERE story = ? AND status = 'pending' AND coalesce(next_attempt_at, created_at) <= ?
            ORDER BY created_at, key
            """,
            [story, utc_naive(now)],
        ).fetchall()
        out: dict[str, list[Pending]] = {}
        for channel, *rest in rows:
            out.setdefault(channel, []).append(Pending(*rest))
        return out

    def sent_last_hour(self, story: str, now: datetime) -> dict[str, int]:
        """Messages sent per channel in the past hour (a digest counts once: one per sent_at)."""
        rows = self.con.execute(
            """
            SELECT channel, count(DISTINCT sent_at) FROM alert_outbox
            WHERE story = ? AND status = 'sent' AND sent_at > ? GROUP BY 1
            """,
            [story, utc_naive(now - timedelta(hours=1))],
        ).fetchall()
        return dict(rows)

    def start_delivery(self, story: str, channel: str, keys: tuple[str, ...]) -> None:
        """Mark a message's alerts `sending`, before it goes out (committed at once)."""
        self.con.execute(
            f"UPDATE alert_outbox SET status = 'sending' WHERE story = ? AND channel = ? "
            f"AND key IN ({', '.join('?' * len(keys))})", [story, channel, *keys])

    def settle_unknown_deliveries(self, story: str) -> int:
        """Alerts left `sending` by a pass that died mid-delivery: whether they arrived is unknown.
        They become `unknown`, kept and shown, never sent again (a second copy would be silent
        duplication). Returns how many the outbox holds."""
        self.con.execute("UPDATE alert_outbox SET status = 'unknown', last_error = 'the pass sending it was killed' "
                         "WHERE story = ? AND status = 'sending'", [story])
        return self.con.execute("SELECT count(*) FROM alert_outbox WHERE story = ? AND status = 'unknown'",
                                [story]).fetchone()[0]

    def record_delivery(self, story: str, channel: str, keys: tuple[str, ...], sent_at: datetime,
                        error: str | None, max_attempts: int) -> None:
        """Mark a message's alerts sent, or count a failed attempt (failed after `max_attempts`)."""
        if error is None:
            self.con.execute(
                f"UPDATE alert_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
                f"WHERE story = ? AND channel = ? AND key IN ({', '.join('?' * len(keys))})",
                [utc_naive(sent_at), story, channel, *keys],
            )
            return
        for key in keys:
            (attempts,) = self.con.execute(
                "SELECT attempts + 1 FROM alert_outbox WHERE story = ? AND channel = ? AND key = ?",
                [story, channel, key],
            ).fetchone()
            self.con.execute(
                """
                UPDATE alert_outbox SET attempts = ?, last_error = ?, next_attempt_at = ?,
                       status = CASE WHEN ? >= ? THEN 'failed' ELSE 'pending' END
                WHERE story = ? AND channel = ? AND key = ?
                """,
                [attempts, error, utc_naive(next_attempt(attempts, sent_at)), attempts, max_attempts, story, channel, key],
            )

    def alert_backlog(self, story: str) -> tuple[int, int]:
        """(waiting: for a retry or out of quiet hours, failed for good) in the story's outbox,
        whichever pass queued them."""
        pending, failed = self.con.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed') "
            "FROM alert_outbox WHERE story = ?", [story]).fetchone()
        return pending, failed

    def fail_run(self, run_id: str, finished_at: datetime, status: str = "failed") -> None:
        """Mark a run failed (or `interrupted`), if the file still takes writes (it may be why
        the run failed)."""
        try:
            self.con.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                [status, utc_naive(finished_at), run_id],
            )
        except duckdb.Error:
            pass

    def mark_interrupted(self) -> None:
        """Runs still marked running are from a process that is gone (only one process can hold
        the file): they were interrupted."""
        self.con.execute("UPDATE runs SET status = 'interrupted', finished_at = now()::TIMESTAMP "
                         "WHERE status = 'running'")

    def _save_feeds(self, story: str, polls: list[FeedPoll], health: dict[str, tuple[float, datetime | None]]) -> None:
        rows = []
        for p in polls:
            ok = not p.failed
            score, next_poll = health.get(p.source.url, (0.0, None))
            # A failed poll's validators must not be kept: the next poll has to see the body.
            rows.append([
                story, p.source.url, (p.parsed.title if p.parsed else "") or p.source.title,
                p.etag if ok else None, p.last_modified if ok else None, p.body_hash if ok else None,
                p.status, p.error,
                0 if ok else 1, utc_naive(p.polled_at), utc_naive(p.polled_at) if ok else None,
                score, utc_naive(next_poll),
            ])
        _insert(
            self.con,
            """
            INSERT INTO feeds (story, url, title, etag, last_modified, body_hash, last_status,
                               last_error, consecutive_failures, last_polled_at, last_ok_at,
                               failure_score, next_poll_at)""",
            rows,
            """
            ON CONFLICT (story, url) DO UPDATE SET
                title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE feeds.title END,
                etag = CASE WHEN excluded.last_error IS NULL THEN coalesce(excluded.etag, feeds.etag) END,
                last_modified = CASE WHEN excluded.last_error IS NULL
                                     THEN coalesce(excluded.last_modified, feeds.last_modified) END,
                body_hash = CASE WHEN excluded.last_error IS NULL THEN coalesce(excluded.body_hash, feeds.body_hash) END,
                last_status = excluded.last_status,
                last_error = excluded.last_error,
                consecutive_failures = CASE WHEN excluded.last_error IS NULL THEN 0
                                            ELSE feeds.consecutive_failures + 1 END,
                last_polled_at = excluded.last_polled_at,
                last_ok_at = coalesce(excluded.last_ok_at, feeds.last_ok_at),
                failure_score = excluded.failure_score,
                next_poll_at = excluded.next_poll_at
            """,
            key=2,
        )
        # No validators for a feed with pages left: the next poll gets the whole body and plans the rest.
        _update(self.con, "feeds", "etag = NULL, last_modified = NULL, body_hash = NULL", ("story", "url"),
                [[story, p.source.url] for p in polls if p.unfinished])

    def _save_entries(self, story: str, sightings: list[EntrySeen]) -> None:
        _insert(
            self.con,
            "INSERT INTO entries (story, feed_url, guid, link, article_id, title, published_at, fingerprint, "
            "first_seen_at, last_seen_at)",
            [
                [story, s.entry.feed_url, s.entry.guid, s.entry.link, s.article_id, s.entry.title,
                 utc_naive(s.entry.published_at), s.fingerprint, utc_naive(s.seen_at), utc_naive(s.seen_at)]
                for s in sightings
            ],
            """
            ON CONFLICT (story, feed_url, guid) DO UPDATE SET
                link = excluded.link, article_id = excluded.article_id, title = excluded.title,
                published_at = excluded.published_at, fingerprint = excluded.fingerprint,
                last_seen_at = excluded.last_seen_at
            """,
            key=3,
        )

    def _save_decisions(self, run_id: str, story: str, decisions: list[Decision]) -> None:
        articles, versions, verdicts = [], [], []
        for d in decisions:
            page, art, j = d.page, d.page.article, d.judgment
            url = art.canonical_url if art else page.entry.link
            outlet = art.outlet if art else (page.entry.source_name or outlet_of(url))
            articles.append([d.article_id, url, outlet, page.entry.title, utc_naive(page.entry.published_at),
                             utc_naive(d.first_seen_at)])
            if d.version is not None:
                versions.append([
                    d.article_id, d.version, run_id, utc_naive(page.fetched_at), page.final_url,
                    page.status, page.content_type, page.html_gz or None,
                    art.title if art else page.entry.title, art.author if art else None,
                    outlet, art.language if art else None,
                    utc_naive(art.published_at) if art else utc_naive(page.entry.published_at),
                    art.date_source if art else ("feed" if page.entry.published_at else "none"),
                    art.text_source if art else "none", art.text if art else None,
                    d.text_hash or None, d.signature or None, d.shingles,
                ])
            failed = j.verdict in (Verdict.FETCH_FAILED, Verdict.BLOCKED)
            verdicts.append([
                story, d.article_id, run_id, utc_naive(page.fetched_at), j.relevance, j.verdict.value,
                j.reason, j.duplicate_of, j.duplicate_score, 1 if failed else 0,
            ])
        _insert(self.con, "INSERT INTO articles (article_id, url, outlet, title, published_at, first_seen_at)",
                articles, "ON CONFLICT (article_id) DO NOTHING")
        _insert(self.con, "INSERT INTO page_versions (article_id, version, run_id, fetched_at, final_url, http_status, "
                          "content_type, html_gz, title, author, outlet, language, published_at, date_source, "
                          "text_source, text, content_hash, minhash, shingles)",
                versions, "ON CONFLICT (article_id, version) DO NOTHING")
        _insert(
            self.con,
            "INSERT INTO verdicts (story, article_id, run_id, judged_at, relevance, verdict, reason, duplicate_of, "
            "duplicate_score, attempts)",
            verdicts,
            """
                ON CONFLICT (story, article_id) DO UPDATE SET
                    run_id = excluded.run_id, judged_at = excluded.judged_at,
                    relevance = excluded.relevance, verdict = excluded.verdict,
                    reason = excluded.reason, duplicate_of = excluded.duplicate_of,
                    duplicate_score = excluded.duplicate_score,
                    attempts = verdicts.attempts + excluded.attempts
            """,
            key=2,
        )

    def update_run_counts(self, run_id: str, counts: RunCounts, finished_at: datetime) -> None:
        """Rewrite a finished run's counts (after alert delivery, which follows the pass's write)."""
        self._finish_run(run_id, counts, finished_at, "completed")

    def _finish_run(self, run_id: str, counts: RunCounts, finished_at: datetime, status: str) -> None:
        v = counts.verdicts
        self.con.execute(
            """
            UPDATE runs SET finished_at = ?, status = ?, feeds = ?, feeds_ok = ?,
                feeds_not_modified = ?, feeds_failed = ?, entries_seen = ?, entries_new = ?,
                pages_fetched = ?, extracted = ?, updates = ?, new = ?, syndicated = ?,
                seed_copy = ?, off_topic = ?, no_text = ?, fetch_failed = ?, blocked = ?,
                alerts_queued = ?, alerts_sent = ?, alerts_failed = ?, feeds_deferred = ?,
                alerts_pending = ?, alerts_given_up = ?, alerts_unknown = ?
            WHERE run_id = ?
            """,
            [
                utc_naive(finished_at), status, counts.feeds, counts.feeds_ok,
                counts.feeds_not_modified, counts.feeds_failed, counts.entries_seen,
                counts.entries_new, counts.pages_fetched, counts.extracted, counts.updates,
                v["new"], v["syndicated"], v["seed_copy"], v["off_topic"], v["no_text"],
                v["fetch_failed"], v["blocked"], counts.alerts_queued, counts.alerts_sent,
                counts.alerts_failed, counts.feeds_deferred, counts.alerts_pending, counts.alerts_given_up, counts.alerts_unknown, run_id,
            ],
        )

    # ---- reporting ---------------------------------------------------------------------------

    def coverage(self, story: str, limit: int = 50) -> list[dict]:
        """Rows of the `coverage` view for a story, earliest first."""
        cursor = self.con.execute(
            """
            SELECT verdict, outlet, title, published_at, relevance, versions, url
            FROM coverage WHERE story = ?
            ORDER BY coalesce(published_at, first_seen_at), article_id LIMIT ?
            """,
            [story, limit],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def has_story(self, story: str) -> bool:
        """Has any pass run for this story in this file?"""
        return self.con.execute("SELECT count(*) FROM runs WHERE story = ?", [story]).fetchone()[0] > 0

    def new_names(self, story: str) -> list[tuple[str, str, str, int]]:
        """(name, outlet, day, articles) of the names coverage reported first (no seed had them):
        who reported each first and when, and how many on-story articles name it, most-named
        first, then newest."""
        return self.con.execute("""
            WITH named AS (
                SELECT s.normalized, count(DISTINCT s.article_id) AS articles
                FROM sentence_facts s JOIN coverage c USING (story, article_id)
                WHERE s.story = ? AND s.kind = 'name' GROUP BY ALL
            )
            SELECT f.fact, any_value(f.outlet ORDER BY f.reported_at), min(f.reported_at)::DATE::VARCHAR,
                   any_value(n.articles)
            FROM first_reports f JOIN coverage c USING (story, article_id) JOIN named n USING (normalized)
            WHERE f.story = ? AND f.kind = 'name'
            GROUP BY f.fact ORDER BY any_value(n.articles) DESC, min(f.reported_at) DESC, f.fact""",
            [story, story]).fetchall()

    def near_misses(self, story: str, limit: int = 10) -> list[tuple[str, str, float]]:
        """(url, title, relevance) of the off-topic articles that scored highest: what a person
        should look at to find what the story left out."""
        return self.con.execute(
            "SELECT url, coalesce(title, url), relevance FROM judgments WHERE story = ? AND verdict = 'off_topic' "
            "ORDER BY relevance DESC, url LIMIT ?", [story, limit]).fetchall()

    def feed_rows(self, story: str, limit: int = 200) -> list[tuple]:
        """The newest `limit` new on-story articles, newest first: (article_id, title, url, outlet,
        published_at, first_seen_at, relevance, [key developments], [(copy outlet, copy url)])."""
        return self.con.execute(
            """
            SELECT c.article_id, c.title, c.url, c.outlet, c.published_at, c.first_seen_at, c.relevance,
                   coalesce((SELECT list(k.sentence ORDER BY k.version, k.sentence_no) FROM key_developments k
                             WHERE k.story = c.story AND k.article_id = c.article_id), []),
                   coalesce((SELECT list((s.outlet, s.url) ORDER BY s.first_seen_at, s.url) FROM coverage s
                             WHERE s.story = c.story AND s.verdict = 'syndicated' AND s.duplicate_of = c.article_id), [])
            FROM coverage c WHERE c.story = ? AND c.verdict = 'new'
            ORDER BY c.first_seen_at DESC, c.article_id LIMIT ?
            """,
            [story, limit],
        ).fetchall()

    def export(self, story: str, what: str, fmt: str, out: Path, since: date | None = None) -> int:
        """Write one view's rows for `story` (from `since` on) to `out` with DuckDB's own COPY,
        which streams: nothing is held in memory whole. Returns the rows written."""
        view, when = EXPORTS[what]
        where = f"story = {_literal(story)}" + (f" AND {when}::DATE >= DATE {_literal(since.isoformat())}" if since else "")
        options = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet", "jsonl": "FORMAT json"}[fmt]
        query = f"SELECT * FROM {view} WHERE {where} ORDER BY {when}"
        try:
            (written,) = self.con.execute(f"COPY ({query}) TO {_literal(str(out))} ({options})").fetchone()
        except duckdb.Error as exc:
            raise WarehouseError(f"{out}: cannot write the export: {_first_line(exc)}") from None
        return written

    def report(self, story: str, since: date | None = None) -> dict:
        """Everything `storywatch report` shows, from the views only."""
        start = since or date(1970, 1, 1)

        def rows(sql: str, *params) -> list[dict]:
            cursor = self.con.execute(sql, [story, *params])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]

        return {
            "daily": rows("""
                SELECT d.day, d.new, d.syndicated, d.seed_copies, d.updates, d.outlets,
                       coalesce(t.new_outlets, 0) AS new_outlets, coalesce(t.developments, 0) AS developments
                FROM daily_coverage d LEFT JOIN story_timeline t USING (story, day)
                WHERE d.story = ? AND d.day >= ? ORDER BY d.day""", start),
            "coverage": rows("""
                SELECT c.verdict, c.outlet, c.title, c.url, c.published_at, c.first_seen_at, c.relevance, c.versions,
                       c.duplicate_of, o.url AS original_url, o.outlet AS original_outlet, o.title AS original_title
                FROM coverage c LEFT JOIN judgments o ON o.story = c.story AND o.article_id = c.duplicate_of
                WHERE c.story = ? AND coalesce(c.published_at, c.first_seen_at)::DATE >= ?
                ORDER BY coalesce(c.published_at, c.first_seen_at)""", start),
            "collection": rows("""
                SELECT started_at::DATE AS day, count(*) AS passes, sum(feeds)::INTEGER AS polled,
                       sum(coalesce(feeds_ok, 0) + coalesce(feeds_not_modified, 0))::INTEGER AS answered
                FROM runs WHERE story = ? AND status = 'completed' AND started_at::DATE >= ?
                GROUP BY ALL ORDER BY day""", start),
            "feeds": rows("""
                SELECT feed, title, last_ok_at, last_polled_at, consecutive_failures, last_error, next_poll_at
                FROM feed_health WHERE story = ? ORDER BY feed"""),
            "developments": rows("""
                SELECT d.first_seen_at, d.outlet, d.sentence, d.facts, j.title, j.url, d.version, d.key,
                       coalesce(j.published_at, j.first_seen_at) AS published_at
                FROM developments d JOIN judgments j USING (story, article_id)
                WHERE d.story = ? AND d.first_reported_at::DATE >= ?
                ORDER BY d.first_reported_at, d.article_id, d.version, d.sentence_no""", start),
            "digest": rows("""
                SELECT d.first_reported_at::DATE AS day, d.first_reported_at, d.reported_at_source, d.first_outlet,
                       d.sentence, d.facts, d.repeats, d.repeated_by, d.version, j.title, j.url
                FROM key_developments d JOIN judgments j USING (story, article_id)
                WHERE d.story = ? AND d.first_reported_at::DATE >= ?
                ORDER BY day DESC, d.salience DESC, d.first_reported_at, d.sentence_no""", start),
            "first_reports": rows("""
                SELECT f.fact, f.kind, f.outlet, f.reported_at, f.reported_at_source, j.title, j.url
                FROM first_reports f JOIN judgments j USING (story, article_id)
                WHERE f.story = ? AND f.kind <> 'name' AND f.reported_at::DATE >= ?
                ORDER BY f.reported_at, f.fact""", start),
            "near_misses": rows("""
                SELECT title, outlet, url, relevance, reason, coalesce(published_at, first_seen_at) AS published_at
                FROM judgments WHERE story = ? AND verdict = 'off_topic'
                  AND coalesce(published_at, first_seen_at)::DATE >= ?
                ORDER BY relevance DESC, url LIMIT 10""", start),
            "edited": rows("""
                SELECT j.title, j.outlet, j.url, j.versions, v.summary, v.fetched_at
                FROM judgments j JOIN article_versions v USING (article_id)
                WHERE j.story = ? AND j.versions > 1 AND v.version = j.versions AND v.fetched_at::DATE >= ?
                ORDER BY j.versions DESC, v.fetched_at DESC LIMIT 20""", start),
        }
