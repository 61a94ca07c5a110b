"""`monitor_story`: one monitoring pass as a Prefect flow.

poll feeds (a task per feed, concurrent) -> plan which pages to fetch (pure) -> fetch and
extract (a task per feed's batch) -> judge in publication order (pure) -> one warehouse
transaction. The flow is the only place that holds the DuckDB connection."""

from __future__ import annotations

import logging
import os
import uuid
from collections import defaultdict
from dataclasses import asdict, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import get_run_context
from prefect.exceptions import TerminationSignal
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from storywatch.flows.alerts import send
from storywatch.flows.fetcher import FetchPolicy
from storywatch.flows.outputs import feed_path, write_feed
from storywatch.flows.runners import task_runner as runner_for
from storywatch.flows.tasks import Retries, fetch_pages, poll_feeds
from storywatch.alerts import plan_messages, raise_alerts, resolve_channels
from storywatch.dedupe import Signature, bucket_keys
from storywatch.errors import StorywatchError, WarehouseError
from storywatch.feedhealth import LONG_FAILING, health_after
from storywatch.judge import Judge
from storywatch.models import FeedPoll, RunCounts, Verdict
from storywatch.evolution import Evolution, add_units, seed_units, to_assess, track, without_headline
from storywatch.novelty import NoveltyIndex, lookup_features
from storywatch.decide import decide
from storywatch.passplan import (MAX_FETCH_ATTEMPTS, entry_article_ids, entry_keys, in_host_turns, page_article_id,
                                 plan_fetches, plan_rechecks, plan_refetches)
from storywatch.recheck import parse_tiers
from storywatch.render.markdown import run_markdown
from storywatch.config import Story
from storywatch.extractors.story import load_story
from storywatch.warehouse.rejudged import labels
from storywatch.warehouse.store import Warehouse

DEFAULT_DB = "storywatch-data/storywatch.duckdb"
# Feeds per poll task: a few tasks for hundreds of feeds, each polling several at once.
POLL_BATCH = 50
# Completed passes, newest first, searched for one that wrote a database file now missing.
VANISHED_LOOKBACK = 200  # the most one request to the Prefect API returns


class _OneLineErrors(logging.Filter):
    """Prefect logs the exception that ends a flow run with its traceback. Ours (a locked, full
    or read-only database; a bad story folder) are one line by design: keep them so."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], StorywatchError):
            record.msg, record.args = "%s", (str(record.exc_info[1]),)
            record.exc_info = record.exc_text = None
        return True


for _logger in ("prefect.flow_runs", "prefect.task_runs"):
    logging.getLogger(_logger).addFilter(_OneLineErrors())


@flow(name="monitor_story", log_prints=False)
def monitor_story(
    story_dir: str,
    db_path: str = DEFAULT_DB,
    feeds_file: str | None = None,
    allow_private_hosts: bool = False,
    wait_seconds: float = 300.0,
    task_runner: str = "threads",
    fresh: bool = False,
) -> dict:
    """Run one pass for the story in `story_dir`, writing to the DuckDB file `db_path`
    (waiting up to `wait_seconds` if another pass holds it). Returns the run's counts (also
    stored in the `runs` table). A `task_runner` other than threads (storywatch.flows.runners)
    runs the pass as a subflow on that runner: a deployment's parameters can name a runner, not
    carry one, so this is how `serve --task-runner` reaches Dask. A `db_path` that earlier
    completed passes wrote and that is gone now is refused, unless `fresh` (a new file is meant):
    a database recreated empty would take every article for new and alert on it again."""
    chosen = runner_for(task_runner)
    if chosen is not None:
        return monitor_story.with_options(task_runner=chosen)(
            story_dir=story_dir, db_path=db_path, feeds_file=feeds_file, allow_private_hosts=allow_private_hosts,
            wait_seconds=wait_seconds, fresh=fresh)
    story = load_story(story_dir, feeds_file)
    if not fresh:
        refuse_if_vanished(db_path)
    run_id = _run_id()
    started = datetime.now(timezone.utc)
    with Warehouse.open(db_path, wait_seconds=wait_seconds) as wh:
        wh.start_run(run_id, story.slug, started)
        try:
            counts = _one_pass(story, wh, run_id, allow_private_hosts)
        except BaseException as exc:
            stopped = isinstance(exc, (KeyboardInterrupt, SystemExit, TerminationSignal))  # a signal, not a fault
            wh.fail_run(run_id, datetime.now(timezone.utc), "interrupted" if stopped else "failed")
            raise
    return {"run_id": run_id, "story": story.slug, "db_path": str(Path(db_path)), **asdict(counts)}


def passes_in(client, states: list, deployments: list[str] | None = None, **read) -> list:  # noqa: ANN001
    """`monitor_story` flow runs (of `deployments`, if named) whose state type is one of `states`,
    from Prefect's sync `client`; `read` goes on to `read_flow_runs` (sort, limit)."""
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterName, FlowFilter, FlowFilterName,
                                                FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType)

    return client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[monitor_story.name])),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=deployments)) if deployments else None,
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states))), **read)


def refuse_if_vanished(db_path: str | Path) -> None:
    """Raise a one-line WarehouseError if `db_path` is missing and Prefect's run history has
    completed passes that wrote it (compared as absolute paths)."""
    if Path(db_path).exists():
        return
    from prefect import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    target = Path(db_path).resolve()
    with get_client(sync_client=True) as client:
        runs = passes_in(client, [StateType.COMPLETED], sort=FlowRunSort.START_TIME_DESC, limit=VANISHED_LOOKBACK)
    wrote = [r.start_time for r in runs if Path(r.parameters.get("db_path") or DEFAULT_DB).resolve() == target]
    if wrote:
        raise WarehouseError(f"{db_path}: the database is gone: {len(wrote)} earlier pass(es) wrote it, the last at "
                             f"{wrote[0]:%Y-%m-%d %H:%M} UTC; restore it, or run with --new-db to start afresh")


def run_pass(story: Path, db: Path, feeds: Path | None = None, allow_private_hosts: bool = False,
             wait: float = 30.0, runner: str = "threads", fresh: bool = False) -> dict:
    """Run `monitor_story` once on the task runner `runner` names (storywatch.flows.runners), with the
    per-run heartbeat thread off (it costs ~1 s a run)."""
    chosen = runner_for(runner)
    flow = monitor_story.with_options(task_runner=chosen) if chosen else monitor_story
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow(
            story_dir=str(story), db_path=str(db), feeds_file=str(feeds) if feeds else None,
            allow_private_hosts=allow_private_hosts, wait_seconds=wait, fresh=fresh,
        )


def _one_pass(story: Story, wh: Warehouse, run_id: str, allow_private_hosts: bool) -> RunCounts:
    settings = story.config.fetch
    policy = FetchPolicy(
        user_agent=settings.user_agent,
        timeout_seconds=settings.timeout_seconds,
        max_bytes=settings.max_bytes,
        max_redirects=settings.max_redirects,
        allow_private_hosts=allow_private_hosts,
        allow_hosts=frozenset(settings.allow_hosts),
        per_host=settings.per_host,
        min_interval=settings.min_interval_seconds,
        robots=settings.robots,
    )
    counts = RunCounts(feeds=len(story.feeds))
    channels = resolve_channels(story.config.alerts, os.environ)
    polls, health = _poll_feeds(story, wh, policy, counts)

    now = datetime.now(timezone.utc)
    known_entries = wh.known_entries(story.slug, entry_keys(polls))  # none when all 304 or unchanged
    known_articles = wh.known_articles(story.slug, entry_article_ids(polls, known_entries))
    plan = plan_fetches(polls, known_entries, known_articles, now, settings.max_pages_per_feed, counts)
    counts.rechecked = plan_rechecks(wh.recheck_candidates(story.slug), plan, parse_tiers(story.config.recheck.tiers),
                                     now, settings.max_pages_per_feed)
    plan_refetches(wh.failed_fetches(story.slug, MAX_FETCH_ATTEMPTS), plan, settings.max_pages_per_feed)
    batches = in_host_turns([batch for batch in plan.batches.values() if batch], lambda batch: batch[0][1].link)
    page_futures = [fetch_pages.submit(batch, policy, settings.concurrency) for batch in batches]
    pages = [page for future in page_futures for page in future.result()]
    get_run_logger().info("fetched %d pages", len(pages))

    decisions, redirected, evolution, buckets = [], {}, Evolution(), {}
    if pages:  # the copy and novelty indexes are built only when there is something to judge
        judge = Judge.for_loaded(story, labels(wh, story.slug))
        buckets = _copy_index(judge, wh, story.slug, pages)
        known_articles = wh.known_articles(story.slug, {page_article_id(p) for p in pages})
        decisions, redirected = decide(pages, judge, known_articles, counts)
        buckets |= {d.article_id: bucket_keys(Signature.from_bytes(d.signature, d.shingles)) for d in decisions
                    if d.version and d.judgment.verdict in (Verdict.NEW, Verdict.SYNDICATED)}
        per_day = story.config.developments.key_per_day
        day_room = defaultdict(lambda: per_day, {day: per_day - n for day, n in
                                                 wh.key_counts(story.slug, now.date() - timedelta(days=365)).items()})
        evolution = _evolution(story, wh, decisions, day_room)
    counts.developments = len(evolution.developments)

    alerting, today = story.config.alerts, now.date()
    context = wh.alert_context(story.slug, alerting.rules.spike_window_days, today)
    alerts = raise_alerts(story.config.title, decisions, context, alerting.min_relevance, alerting.rules, today,
                          evolution.developments)
    outbox = [(alert, channel.label) for alert in alerts for channel in channels]
    counts.alerts_queued = len(outbox)
    sightings = [replace(s, article_id=redirected.get(s.article_id, s.article_id)) for s in plan.sightings]
    checked = [(redirected.get(p.article_id, p.article_id), p.fetched_at) for p in pages if p.article]
    polled = [replace(p, unfinished=p.source.url in plan.unfinished) for p in polls if not p.deferred]
    wh.save_pass(run_id, story.slug, polled, health, sightings, decisions, counts,
                 datetime.now(timezone.utc), outbox, evolution, checked, buckets)
    _deliver_alerts(wh, story, channels, counts)
    counts.alerts_pending, counts.alerts_given_up = wh.alert_backlog(story.slug)
    try:
        write_feed(wh, story, Path(wh.path))
    except OSError as exc:  # the coverage is saved; only its feed file could not be written
        get_run_logger().warning("cannot write the coverage feed %s: %s", feed_path(story, Path(wh.path)), exc)
    wh.update_run_counts(run_id, counts, datetime.now(timezone.utc))
    create_markdown_artifact(run_markdown(story.config.title, counts, decisions,
                                          [(d.outlet, d.sentence) for d in evolution.developments if d.key]),
                             key=f"coverage-{_artifact_key(story.slug)}", description="What this pass found")
    return counts


def _poll_feeds(story: Story, wh: Warehouse, policy: FetchPolicy, counts: RunCounts):  # noqa: ANN202
    """Poll every feed not backing off (a task per POLL_BATCH feeds); returns the polls and each
    polled feed's new (failure score, next poll time)."""
    log = get_run_logger()
    settings = story.config.fetch
    states = wh.feed_states(story.slug)
    started = datetime.now(timezone.utc)
    due = in_host_turns([(s, states.get(s.url)) for s in story.feeds if not _backing_off(states.get(s.url), started)],
                        lambda item: item[0].url)
    retries = Retries(settings.retries, settings.retry_delay_seconds)
    futures = [poll_feeds.submit(due[i:i + POLL_BATCH], policy, retries) for i in range(0, len(due), POLL_BATCH)]
    done = {poll.source.url: poll for future in futures for poll in future.result()}
    polls = [done.get(source.url) or FeedPoll(source=source, polled_at=started, status=None, deferred=True)
             for source in story.feeds]
    health = {}
    for poll in polls:
        state = states.get(poll.source.url)
        if poll.deferred:  # backing off: still counted as failing, never silently dropped
            counts.feeds_deferred += 1
            counts.feeds_long_failing += bool(state and state.consecutive_failures >= LONG_FAILING)
            continue
        health[poll.source.url] = health_after(state.failure_score if state else 0.0, poll)
        if poll.failed:
            counts.feeds_failed += 1
            in_a_row = (state.consecutive_failures if state else 0) + 1
            counts.feeds_long_failing += in_a_row >= LONG_FAILING
            log.warning("feed failed (%d in a row): %s: %s", in_a_row, poll.source.url, poll.error)
        elif poll.not_modified:
            counts.feeds_not_modified += 1
        else:
            counts.feeds_ok += 1
            log.info("feed %s: %d entries", poll.source.url, len(poll.parsed.entries))
    return polls, health


def _copy_index(judge: Judge, wh: Warehouse, slug: str, pages: list) -> dict[str, list[int]]:
    """Give `judge` the earlier coverage this pass's texts could be copies of (sharing an LSH
    bucket or a content hash), the pass's own articles if stored before, and coverage stored
    without buckets; returns the buckets to store for the last."""
    buckets, hashes, ids = set(), set(), set()
    for page in pages:
        ids.update((page.article_id, page_article_id(page)))
        if page.article is not None:
            text_hash, sig = judge.hash_and_signature(page.article.text)
            hashes.add(text_hash)
            buckets.update(bucket_keys(sig))
    missing = {}
    for row in wh.coverage_rows(slug, buckets, hashes, ids):
        sig = Signature.from_bytes(row.minhash, row.shingles)
        judge.remember(row.article_id, row.content_hash, sig)
        if not row.bucketed:
            missing[row.article_id] = bucket_keys(sig)
    return missing


def _evolution(story: Story, wh: Warehouse, decisions: list, day_room) -> Evolution:  # noqa: ANN001
    """What this pass's articles and edits add, judged against the seeds and those stored
    sentences and units of earlier coverage that could match one of theirs (loaded in the order
    they were first said), then the versions not yet in the store (a warehouse from before it
    existed). `day_room` holds how many more key developments each day may take."""
    index = NoveltyIndex()
    for name, text in story.seeds.items():
        index.add(name, text)
    prepared = to_assess(decisions)
    prints = [fp for p in prepared.values() for fp in p.prepared.prints]
    frequency = wh.said_frequency(story.slug, {f for fp in prints for f in fp.features})
    index.add_said(wh.said_sentences(story.slug, lookup_features(prints, frequency)))
    start = len(index)
    backlog = wh.unindexed_versions(story.slug)
    for aid, _, title, text in backlog:
        index.add(aid, without_headline(title, text))
    known = seed_units(story.seeds)
    wanted = {unit for p in prepared.values() for units in p.units for unit in units.all()}
    for unit, first, development in wh.said_units(story.slug, wanted):
        known.first.setdefault(unit, first)
        if development:
            known.developments.add(first)
    unit_backlog = wh.ununitized_versions(story.slug)
    said_before = [(unit, ref) for aid, version, title, text in unit_backlog
                   for unit, ref in add_units(known, aid, version, without_headline(title, text))]
    previous = wh.latest_texts([d.article_id for d in decisions if d.version and d.version > 1])
    settings = story.config.developments
    evolution = track(decisions, index, previous, prepared, known, settings.key_per_article, day_room)
    evolution.indexed[:0] = [(aid, version) for aid, version, _, _ in backlog]
    evolution.unit_indexed[:0] = [(aid, version) for aid, version, _, _ in unit_backlog]
    evolution.units[:0] = said_before
    evolution.said = index.said_since(start)
    return evolution


def _deliver_alerts(wh: Warehouse, story: Story, channels: list, counts: RunCounts) -> None:
    """Send what the outbox holds that is due (this pass's alerts and earlier failures), per
    channel within its quiet hours and hourly limit, and record each outcome."""
    now = datetime.now(timezone.utc)
    settings = story.config.alerts
    counts.alerts_unknown = wh.settle_unknown_deliveries(story.slug)
    by_label = {channel.label: channel for channel in channels}
    sent_recently = wh.sent_last_hour(story.slug, now)
    plan = []
    for label, pending in wh.pending_alerts(story.slug, now).items():
        spec = by_label.get(label)
        if spec is None:
            keys = tuple(p.key for p in pending)
            wh.record_delivery(story.slug, label, keys, now, "channel no longer configured", max_attempts=1)
            continue
        plan += [(spec, m) for m in plan_messages(spec, pending, sent_recently.get(label, 0), settings.mode, now)]
    for spec, message in plan:
        # Recorded before it goes out: a pass killed while sending leaves these `sending`, and the
        # next pass files them as `unknown` (shown, never sent again) rather than lose or repeat them.
        wh.start_delivery(story.slug, spec.label, message.keys)
        error = send(spec, message)
        label, keys = spec.label, message.keys
        wh.record_delivery(story.slug, label, keys, datetime.now(timezone.utc), error, settings.max_attempts)
        if error:
            counts.alerts_failed += len(keys)
            get_run_logger().warning("alert delivery failed: %s", error)
        else:
            counts.alerts_sent += len(keys)


def _artifact_key(slug: str) -> str:
    """Prefect artifact keys allow lower-case letters, digits and dashes only."""
    return "".join(c if c.isalnum() else "-" for c in slug.lower()).strip("-") or "story"


def _backing_off(state, now: datetime) -> bool:  # noqa: ANN001 - FeedState | None
    return bool(state and state.next_poll_at and state.next_poll_at > now)


def _run_id() -> str:
    try:
        return str(get_run_context().flow_run.id)
    except (RuntimeError, AttributeError):
        return str(uuid.uuid4())
