"""Ordered, named schema migrations. Each runs in its own transaction and is recorded in
`schema_migrations`; released migrations are never edited, only appended to.

All timestamps are UTC, stored as TIMESTAMP."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from storywatch.warehouse.transaction import atomic


def _m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY,
            story VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL,            -- running | completed | failed
            feeds INTEGER, feeds_ok INTEGER, feeds_not_modified INTEGER, feeds_failed INTEGER,
            entries_seen INTEGER, entries_new INTEGER, pages_fetched INTEGER, extracted INTEGER,
            updates INTEGER, new INTEGER, syndicated INTEGER, seed_copy INTEGER, off_topic INTEGER,
            no_text INTEGER, fetch_failed INTEGER, blocked INTEGER
        );
        CREATE TABLE feeds (
            story VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            title VARCHAR,
            etag VARCHAR,
            last_modified VARCHAR,
            body_hash VARCHAR,
            last_status INTEGER,
            last_error VARCHAR,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_polled_at TIMESTAMP,
            last_ok_at TIMESTAMP,
            PRIMARY KEY (story, url)
        );
        CREATE TABLE entries (
            story VARCHAR NOT NULL,
            feed_url VARCHAR NOT NULL,
            guid VARCHAR NOT NULL,
            link VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            title VARCHAR,
            published_at TIMESTAMP,
            fingerprint VARCHAR NOT NULL,
            first_seen_at TIMESTAMP NOT NULL,
            last_seen_at TIMESTAMP NOT NULL,
            PRIMARY KEY (story, feed_url, guid)
        );
        CREATE TABLE articles (
            article_id VARCHAR PRIMARY KEY,       -- uuid5 of the canonical URL's identity
            url VARCHAR NOT NULL,                 -- canonical URL
            outlet VARCHAR,
            title VARCHAR,                        -- from the feed entry, for pages never fetched
            published_at TIMESTAMP,               -- from the feed entry
            first_seen_at TIMESTAMP NOT NULL
        );
        CREATE TABLE article_versions (
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            run_id VARCHAR NOT NULL,
            fetched_at TIMESTAMP NOT NULL,
            final_url VARCHAR,
            http_status INTEGER,
            content_type VARCHAR,
            html_gz BLOB,                         -- raw page, gzip: re-extract without the network
            title VARCHAR,
            author VARCHAR,
            outlet VARCHAR,
            language VARCHAR,
            published_at TIMESTAMP,
            date_source VARCHAR,                  -- page | feed | url | none
            text_source VARCHAR,                  -- page | feed | none
            text VARCHAR,
            content_hash VARCHAR,
            minhash BLOB,
            shingles INTEGER,
            PRIMARY KEY (article_id, version)
        );
        CREATE TABLE verdicts (
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL,
            judged_at TIMESTAMP NOT NULL,
            relevance DOUBLE NOT NULL,
            verdict VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            duplicate_of VARCHAR,                 -- article_id, or seed file name for seed_copy
            duplicate_score DOUBLE,
            attempts INTEGER NOT NULL DEFAULT 1,  -- fetch attempts (fetch_failed is retried)
            PRIMARY KEY (story, article_id)
        );
        """
    )


def _m002_alert_outbox(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE alert_outbox (
            story VARCHAR NOT NULL,
            key VARCHAR NOT NULL,                 -- stable: new:<article_id>, outlet:<outlet>, spike:<day>
            channel VARCHAR NOT NULL,             -- a label with no secret in it (name#hash)
            rule VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'pending',   -- pending | sent | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMP,
            sent_at TIMESTAMP,
            last_error VARCHAR,
            PRIMARY KEY (story, key, channel)
        );
        ALTER TABLE runs ADD COLUMN alerts_queued INTEGER;
        ALTER TABLE runs ADD COLUMN alerts_sent INTEGER;
        ALTER TABLE runs ADD COLUMN alerts_failed INTEGER;
        """
    )


def _m003_feed_health(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        ALTER TABLE feeds ADD COLUMN failure_score DOUBLE DEFAULT 0;   -- hard 1, soft 0.5, temporary 0.25
        ALTER TABLE feeds ADD COLUMN next_poll_at TIMESTAMP;           -- backing off until then
        ALTER TABLE runs ADD COLUMN feeds_deferred INTEGER;
        """
    )


def _m004_story_evolution(con: duckdb.DuckDBPyConnection) -> None:
    # The table of page versions becomes `page_versions`, so that `article_versions` can be the
    # documented view of edits (one row per version with what changed).
    con.execute(
        """
        ALTER TABLE article_versions RENAME TO page_versions;
        ALTER TABLE articles ADD COLUMN last_checked_at TIMESTAMP;   -- last fetch, for re-checks
        ALTER TABLE verdicts ADD COLUMN novelty DOUBLE;              -- share of words not said before
        CREATE TABLE novel_sentences (          -- the `developments` view reads these
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            sentence_no INTEGER NOT NULL,         -- position among the version's sentences
            sentence VARCHAR NOT NULL,
            first_seen_at TIMESTAMP NOT NULL,
            PRIMARY KEY (story, article_id, version, sentence_no)
        );
        CREATE TABLE sentence_facts (
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            sentence_no INTEGER NOT NULL,
            kind VARCHAR NOT NULL,                -- money | quantity | percent | date | name
            text VARCHAR NOT NULL,
            normalized VARCHAR NOT NULL,          -- equal for equal facts ("$15 billion" = "15 billion dollars")
            first_seen_at TIMESTAMP NOT NULL,
            PRIMARY KEY (story, article_id, version, sentence_no, kind, normalized)
        );
        CREATE TABLE version_diffs (
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            headline_changed BOOLEAN NOT NULL,
            added VARCHAR[] NOT NULL,
            removed VARCHAR[] NOT NULL,
            summary VARCHAR NOT NULL,
            PRIMARY KEY (article_id, version)
        );
        """
    )


def _m005_articles_entry_fields(con: duckdb.DuckDBPyConnection) -> None:
    # 001_initial was edited after its first release (commit 2416e58): files made by that first
    # release have `articles` without `title` and `published_at`, which the views read (the feed
    # entry's values, for pages never fetched). 002-004 do not touch those columns, so adding them
    # here, after 004 and before the views are re-created, is enough; 001 stays as it is, so files
    # that already have the columns are untouched (`IF NOT EXISTS`, and no backfill for them).
    # For the files that lacked them, fill them as today's code would have on insert: from the
    # article's feed entry (the first seen, if several feeds carried it).
    missing = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'articles' AND column_name IN ('title', 'published_at')"
    ).fetchone()[0] < 2
    con.execute(
        """
        ALTER TABLE articles ADD COLUMN IF NOT EXISTS title VARCHAR;
        ALTER TABLE articles ADD COLUMN IF NOT EXISTS published_at TIMESTAMP;
        """
    )
    if missing:
        con.execute(
            """
            UPDATE articles SET title = e.title, published_at = e.published_at
            FROM (SELECT article_id, title, published_at FROM entries
                  QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY first_seen_at, feed_url, guid) = 1) e
            WHERE articles.article_id = e.article_id
            """
        )


def _m006_stored_indexes(con: duckdb.DuckDBPyConnection) -> None:
    # The copy and novelty indexes, kept instead of rebuilt from the whole history on each pass,
    # so a pass reads only what could match its own texts:
    # - copy_buckets: each on-story article's LSH buckets (storywatch/dedupe.py bucket_keys);
    # - said_sentences: one row per sentence added to the novelty index (storywatch/novelty.py),
    #   in the order it was first said, with its stable feature hashes.
    # Files from before this are filled by their next pass (articles with no bucket, versions
    # missing from said_versions), so no Python runs inside the migration.
    con.execute(
        """
        CREATE TABLE said_sentences (
            story VARCHAR NOT NULL,
            sid BIGINT NOT NULL,                  -- order first said, within the story
            article_id VARCHAR NOT NULL,          -- who said it first (gets the credit)
            sentence VARCHAR NOT NULL,
            features BIGINT[] NOT NULL,           -- novelty.feature_hash of each feature
            numbers VARCHAR[] NOT NULL,           -- its figures (facts.numeric_keys)
            PRIMARY KEY (story, sid)
        );
        CREATE TABLE copy_buckets (
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,          -- on-story coverage, its latest version
            bucket BIGINT NOT NULL                -- one per LSH band
        );
        CREATE TABLE said_versions (              -- article versions already in said_sentences
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (story, article_id, version)
        );
        """
    )


def _m007_labels(con: duckdb.DuckDBPyConnection) -> None:
    # People's verdicts (`storywatch label`), and every verdict a label or a re-score changed, with
    # its previous value, so nothing a pass decided is lost when it is re-judged.
    con.execute(
        """
        CREATE TABLE labels (
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            on_story BOOLEAN NOT NULL,            -- the person's verdict
            labelled_at TIMESTAMP NOT NULL,       -- the latest label wins; earlier ones are in verdict_changes
            PRIMARY KEY (story, article_id)
        );
        CREATE TABLE verdict_changes (
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL,
            cause VARCHAR NOT NULL,               -- label | rescore
            old_verdict VARCHAR NOT NULL,
            old_relevance DOUBLE NOT NULL,
            old_reason VARCHAR NOT NULL,
            new_verdict VARCHAR NOT NULL,
            new_relevance DOUBLE NOT NULL,
            new_reason VARCHAR NOT NULL
        );
        """
    )


def _m008_claims(con: duckdb.DuckDBPyConnection) -> None:
    # Developments judged on meaning (storywatch/claims.py): each gets a salience and a key flag,
    # a fact is flagged new only when nobody reported it before, and the units (facts and words)
    # the story has said are kept with the sentence that said each first, so a later article's
    # restatement of a development is counted as a repeat of it. Developments stored before are
    # kept and re-ranked here by the facts they carry (numbers count 1, names 0.7, at most two of
    # each; key: salience at least 1 and among the 3 most salient of their article version).
    con.execute(
        """
        ALTER TABLE novel_sentences ADD COLUMN salience DOUBLE;
        ALTER TABLE novel_sentences ADD COLUMN key BOOLEAN DEFAULT false;
        ALTER TABLE novel_sentences ADD COLUMN reported_at TIMESTAMP;
        ALTER TABLE sentence_facts ADD COLUMN is_new BOOLEAN DEFAULT true;
        CREATE TABLE said_units (
            story VARCHAR NOT NULL,
            unit VARCHAR NOT NULL,                -- "kind:normalized" for a fact, "word:<stem>" for a word
            ref VARCHAR NOT NULL,                 -- "<article_id>#<version>#<sentence_no>" that said it first
            development BOOLEAN NOT NULL,         -- that sentence is a development
            PRIMARY KEY (story, unit)
        );
        CREATE TABLE unit_versions (              -- article versions whose units are in said_units
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (story, article_id, version)
        );
        CREATE TABLE claim_repeats (              -- a later article restating a development
            story VARCHAR NOT NULL,
            article_id VARCHAR NOT NULL,          -- the development
            version INTEGER NOT NULL,
            sentence_no INTEGER NOT NULL,
            repeat_article_id VARCHAR NOT NULL,   -- the article repeating it
            repeat_outlet VARCHAR,
            seen_at TIMESTAMP NOT NULL,
            PRIMARY KEY (story, article_id, version, sentence_no, repeat_article_id)
        );
        UPDATE novel_sentences SET salience = s.salience, reported_at = novel_sentences.first_seen_at
        FROM (
            SELECT n.story, n.article_id, n.version, n.sentence_no,
                   least(count(f.kind) FILTER (WHERE f.kind IN ('money', 'quantity', 'percent', 'date')), 2)
                   + 0.7 * least(count(f.kind) FILTER (WHERE f.kind = 'name'), 2) AS salience
            FROM novel_sentences n LEFT JOIN sentence_facts f USING (story, article_id, version, sentence_no)
            GROUP BY ALL
        ) s
        WHERE novel_sentences.story = s.story AND novel_sentences.article_id = s.article_id
          AND novel_sentences.version = s.version AND novel_sentences.sentence_no = s.sentence_no;
        UPDATE novel_sentences SET key = true
        FROM (
            SELECT story, article_id, version, sentence_no FROM novel_sentences WHERE salience >= 1
            QUALIFY row_number() OVER (PARTITION BY story, article_id, version ORDER BY salience DESC, sentence_no) <= 3
        ) k
        WHERE novel_sentences.story = k.story AND novel_sentences.article_id = k.article_id
          AND novel_sentences.version = k.version AND novel_sentences.sentence_no = k.sentence_no;
        """
    )


def _m009_alert_backlog(con: duckdb.DuckDBPyConnection) -> None:
    # What the outbox holds after a pass, from this pass and earlier ones: waiting for a retry,
    # failed for good, and unknown (status `sending` then `unknown`: a pass died mid-delivery).
    # The run summary shows them beside what the pass sent.
    con.execute(
        """
        ALTER TABLE runs ADD COLUMN alerts_pending INTEGER;
        ALTER TABLE runs ADD COLUMN alerts_given_up INTEGER;
        ALTER TABLE runs ADD COLUMN alerts_unknown INTEGER;   -- sent by a pass killed before it heard back
        """
    )


MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("001_initial", _m001_initial),
    ("002_alert_outbox", _m002_alert_outbox),
    ("003_feed_health", _m003_feed_health),
    ("004_story_evolution", _m004_story_evolution),
    ("005_articles_entry_fields", _m005_articles_entry_fields),
    ("006_stored_indexes", _m006_stored_indexes),
    ("007_labels", _m007_labels),
    ("008_claims", _m008_claims),
    ("009_alert_backlog", _m009_alert_backlog),
]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this file has not yet recorded; returns the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with atomic(con):
            step(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, now()::TIMESTAMP)", [name])
        applied.append(name)
    return applied
