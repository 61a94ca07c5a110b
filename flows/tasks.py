"""Prefect tasks: one per batch of feed polls, one per feed's batch of pages (never one per
feed or article: the Prefect API records only a few dozen task runs a second). Tasks take and return plain records;
no warehouse connection ever enters a task."""

from __future__ import annotations

import gzip
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

from prefect import task
from prefect.cache_policies import NO_CACHE

from storywatch.extractors.article import meta_refresh_target
from storywatch.extractors.feeds import parse_feed
from storywatch.flows.extraction import extract
from storywatch.flows.fetcher import Fetcher, FetchPolicy, TransientFetchError, media_type
from storywatch.errors import ExtractionError
from storywatch.models import FeedEntry, FeedPoll, FeedSource, FeedState, PageOutcome
from storywatch.text import body_hash
from storywatch.urls import canonicalize, is_aggregator

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
HTML_TYPES = ("text/html", "application/xhtml", "text/plain")


# A server asking us to wait longer than this is not retried within the pass; the feed's next
# poll is put off instead (storywatch.feedhealth).
MAX_RETRY_AFTER_IN_PASS = 60.0
# Feeds polled at once within one poll task.
POLL_THREADS = 8


@dataclass(frozen=True)
class Retries:
    """Retries of transient feed failures (timeouts, connection errors, 429, 5xx) within a pass."""

    times: int = 2
    delay_seconds: float = 5.0


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds(work: list[tuple[FeedSource, FeedState | None]], policy: FetchPolicy, retries: Retries) -> list[FeedPoll]:
    """Poll a batch of feeds a few at a time (one task per batch, not per feed: a Prefect task
    run costs more than a 304). Every feed's outcome comes back, failures included."""
    with Fetcher(policy) as fetcher, ThreadPoolExecutor(max_workers=POLL_THREADS) as pool:
        return list(pool.map(lambda item: _poll_with_retries(fetcher, *item, retries), work))


def _poll_with_retries(fetcher: Fetcher, source: FeedSource, state: FeedState | None, retries: Retries) -> FeedPoll:
    """Poll one feed, retrying transient failures: after the server's Retry-After when it asks
    for at most MAX_RETRY_AFTER_IN_PASS seconds, else after the configured delay."""
    attempt = 0
    while True:
        try:
            return poll_feed(fetcher, source, state)
        except TransientFetchError as exc:
            wait = retries.delay_seconds if exc.retry_after is None else exc.retry_after
            if attempt >= retries.times or wait > MAX_RETRY_AFTER_IN_PASS:
                return _failed_poll(source, str(exc), exc.kind, exc.retry_after)
        except Exception as exc:  # noqa: BLE001 - one feed never fails the batch
            return _failed_poll(source, f"{type(exc).__name__}: {exc}", "hard", None)
        attempt += 1
        time.sleep(wait)


def _failed_poll(source: FeedSource, error: str, kind: str, retry_after: float | None) -> FeedPoll:
    return FeedPoll(source=source, polled_at=datetime.now(timezone.utc), status=None,
                    error=error.splitlines()[0] if error else kind, failure_kind=kind, retry_after=retry_after)


def poll_feed(fetcher: Fetcher, source: FeedSource, state: FeedState | None) -> FeedPoll:
    """Conditional GET of one feed; a 304 or an unchanged body is reported without parsing."""
    headers = {}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    polled_at = datetime.now(timezone.utc)
    result = fetcher.get(source.url, headers=headers, accept=FEED_ACCEPT)
    common = dict(source=source, polled_at=polled_at, status=result.status, etag=result.etag,
                  last_modified=result.last_modified)
    if result.status == 304:
        return FeedPoll(**common, not_modified=True)
    if result.error:  # refused, 4xx, over the size cap, redirect loop: the feed itself is wrong
        return FeedPoll(**common, error=result.error, failure_kind="hard")
    digest = body_hash(result.body)
    if state and state.body_hash == digest:
        return FeedPoll(**common, not_modified=True, body_hash=digest)
    parsed = parse_feed(result.body, result.final_url, result.content_type)
    if parsed.error:
        return FeedPoll(**common, error=parsed.error, failure_kind="hard")
    return FeedPoll(**common, body_hash=digest, parsed=parsed)


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_pages(batch: list[tuple[str, FeedEntry]], policy: FetchPolicy, concurrency: int) -> list[PageOutcome]:
    """Fetch and extract one feed's new or changed pages, a few at a time."""
    with Fetcher(policy) as fetcher, ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda item: _fetch_page(fetcher, *item), batch))


def _fetch_page(fetcher: Fetcher, article_id: str, entry: FeedEntry) -> PageOutcome:
    """One page's outcome. Never raises: whatever one page does (a link no client can encode,
    markup that crashes a parser) is that page's `fetch_failed`, never the whole batch's."""
    fetched_at = datetime.now(timezone.utc)
    try:
        return _page_outcome(fetcher, article_id, entry, fetched_at)
    except ExtractionError:  # no page of this pass can be extracted: the pass fails, not the page
        raise
    except Exception as exc:  # noqa: BLE001 - the boundary of one page
        error = f"{type(exc).__name__} on {entry.link}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
        return PageOutcome(article_id, entry, fetched_at, entry.link, None, "", b"", error, False, None)


def _page_outcome(fetcher: Fetcher, article_id: str, entry: FeedEntry, fetched_at: datetime) -> PageOutcome:
    try:
        result = fetcher.get(entry.link, accept=PAGE_ACCEPT, media_types=HTML_TYPES, robots=True)
        target = meta_refresh_target(result.body, result.final_url) if result.ok else ""
        if target and target != canonicalize(result.final_url):  # one hop, through the same guard
            result = fetcher.get(target, accept=PAGE_ACCEPT, media_types=HTML_TYPES, robots=True)
    except TransientFetchError as exc:
        return PageOutcome(article_id, entry, fetched_at, entry.link, None, "", b"", str(exc), False, None)
    if result.blocked:
        return PageOutcome(article_id, entry, fetched_at, result.final_url, None, "", b"",
                           result.error, True, None)
    declared = media_type(result.content_type)
    is_html = declared.startswith(HTML_TYPES) or not declared  # servers that send no type are tried
    html = result.body if result.ok and is_html else b""
    error = result.error or (None if html else f"not an HTML page ({declared or 'no type'})")
    if is_aggregator(result.final_url):  # an unresolved news-search link: judge the entry's text
        html, error = b"", f"aggregator page, publisher URL not resolved: {result.final_url}"
    # With no usable page, the feed entry's own text stands in (text_source = "feed").
    article = extract(html, result.final_url, entry, fetched_at)
    answered = result.status is not None and 200 <= result.status < 300  # but the body was refused (size cap)
    if result.error and not answered and article.text_source == "none":
        article = None  # nothing to judge: fetch_failed, tried again on later passes
    return PageOutcome(article_id, entry, fetched_at, result.final_url, result.status,
                       result.content_type, gzip.compress(html, 6) if html else b"", error, False, article)
