"""`monitor_story`: one monitoring pass as a Prefect flow.

poll feeds (a task per feed, concurrent) -> plan which pages to fetch (pure) -> fetch and
extract (a task per feed's batch) -> judge in publication order (pure) -> one warehouse
transaction. The flow is the only place that holds the DuckDB connection."""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.context import get_run_context

from flows.http import FetchPolicy
from flows.tasks import fetch_pages, poll_feed
from storywatch.dedupe import Signature
from storywatch.judge import Judge
from storywatch.models import FeedPoll, RunCounts
from storywatch.passplan import decide, plan_fetches
from storywatch.story import Story, load_story
from warehouse.store import Warehouse

DEFAULT_DB = "storywatch-data/storywatch.duckdb"


@flow(name="monitor_story", log_prints=False)
def monitor_story(
    story_dir: str,
    db_path: str = DEFAULT_DB,
    feeds_file: str | None = None,
    allow_private_hosts: bool = False,
) -> dict:
    """Run one pass for the story in `story_dir`, writing to the DuckDB file `db_path`.
    Returns the run's counts (also stored in the `runs` table)."""
    story = load_story(story_dir, feeds_file)
    run_id = _run_id()
    started = datetime.now(timezone.utc)
    with Warehouse.open(db_path) as wh:
        wh.start_run(run_id, story.slug, started)
        try:
            counts = _run_pass(story, wh, run_id, allow_private_hosts)
        except BaseException:
            wh.fail_run(run_id, datetime.now(timezone.utc))
            raise
    return {"run_id": run_id, "story": story.slug, "db_path": str(Path(db_path)), **asdict(counts)}


def _run_pass(story: Story, wh: Warehouse, run_id: str, allow_private_hosts: bool) -> RunCounts:
    log = get_run_logger()
    settings = story.config.fetch
    policy = FetchPolicy(
        user_agent=settings.user_agent,
        timeout_seconds=settings.timeout_seconds,
        max_bytes=settings.max_bytes,
        max_redirects=settings.max_redirects,
        allow_private_hosts=allow_private_hosts,
        allow_hosts=frozenset(settings.allow_hosts),
    )
    counts = RunCounts(feeds=len(story.feeds))
    states = wh.feed_states(story.slug)
    poller = poll_feed.with_options(retries=settings.retries, retry_delay_seconds=settings.retry_delay_seconds)
    futures = [poller.submit(source, states.get(source.url), policy) for source in story.feeds]
    polls = [_poll_outcome(future, source) for future, source in zip(futures, story.feeds)]
    for poll in polls:
        if poll.failed:
            counts.feeds_failed += 1
            log.warning("feed failed: %s: %s", poll.source.url, poll.error)
        elif poll.not_modified:
            counts.feeds_not_modified += 1
        else:
            counts.feeds_ok += 1
            log.info("feed %s: %d entries", poll.source.url, len(poll.parsed.entries))

    now = datetime.now(timezone.utc)
    known_articles = wh.known_articles(story.slug)
    plan = plan_fetches(polls, wh.known_entries(story.slug), known_articles, now,
                        settings.max_pages_per_feed, counts)
    page_futures = [fetch_pages.submit(batch, policy, settings.concurrency) for batch in plan.batches.values() if batch]
    pages = [page for future in page_futures for page in future.result()]
    log.info("fetched %d pages", len(pages))

    judge = Judge.for_story(story.seeds, story.config.thresholds.relevance)
    for row in wh.coverage_rows(story.slug):
        judge.remember(row.article_id, row.content_hash, Signature.from_bytes(row.minhash, row.shingles))
    decisions, redirected = decide(pages, judge, known_articles, counts)
    sightings = [replace(s, article_id=redirected.get(s.article_id, s.article_id)) for s in plan.sightings]
    wh.save_pass(run_id, story.slug, polls, sightings, decisions, counts, datetime.now(timezone.utc))
    return counts


def _poll_outcome(future, source) -> FeedPoll:  # noqa: ANN001 - a Prefect future
    """The poll's result; a task that failed after its retries becomes a failed poll."""
    try:
        return future.result()
    except Exception as exc:  # one feed failing never fails the run
        return FeedPoll(source=source, polled_at=datetime.now(timezone.utc), status=None,
                        error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _run_id() -> str:
    try:
        return str(get_run_context().flow_run.id)
    except (RuntimeError, AttributeError):
        return str(uuid.uuid4())
