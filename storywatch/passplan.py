"""Which entries of a pass need a page fetch: new links, failed fetches to retry, changed feed
text, and on-story articles due a re-check. Pure; `storywatch.flows.monitor` runs the plan."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, zip_longest
from typing import TypeVar

from storywatch.models import EntrySeen, FeedEntry, FeedPoll, Known, PageOutcome, RunCounts, Verdict
from storywatch.recheck import is_due
from storywatch.urls import article_id, server_of

T = TypeVar("T")

# A page that failed to fetch is tried again on later passes, this many times in all.
MAX_FETCH_ATTEMPTS = 3


def in_host_turns(items: list[T], url: Callable[[T], str]) -> list[T]:
    """`items` reordered so their hosts take turns (a, b, c, a, b, a, ...), each host's own order
    kept. Workers that wait on one host's politeness limit then never hold up the others."""
    by_host: dict[str, list[T]] = {}
    for item in items:
        by_host.setdefault(server_of(url(item)), []).append(item)
    gap = object()
    return [item for item in chain.from_iterable(zip_longest(*by_host.values(), fillvalue=gap)) if item is not gap]


@dataclass
class FetchPlan:
    sightings: list[EntrySeen] = field(default_factory=list)
    batches: dict[str, list[tuple[str, FeedEntry]]] = field(default_factory=dict)  # feed -> work
    unfinished: set[str] = field(default_factory=set)  # feeds with pages left over the per-feed limit


def fingerprint(entry: FeedEntry) -> str:
    return hashlib.sha256(entry.fingerprint_text.encode("utf-8")).hexdigest()


def _entries(polls: list[FeedPoll]) -> Iterator[FeedEntry]:
    return (e for p in polls if p.parsed for e in p.parsed.entries)


def entry_keys(polls: list[FeedPoll]) -> list[tuple[str, str]]:
    """(feed URL, GUID) of every entry the polls parsed: what `plan_fetches` looks up."""
    return [(e.feed_url, e.guid) for e in _entries(polls)]


def entry_article_id(entry: FeedEntry, known_entries: Mapping[tuple[str, str], tuple[str, str]]) -> str:
    """The article an entry stands for: a known entry keeps the ID its page resolved to
    (redirects, canonical URLs), a new one gets its link's."""
    previous = known_entries.get((entry.feed_url, entry.guid))
    return previous[1] if previous else article_id(entry.link)


def entry_article_ids(polls: list[FeedPoll], known_entries: Mapping[tuple[str, str], tuple[str, str]]) -> set[str]:
    """The article IDs the polls' entries stand for: what `plan_fetches` looks up."""
    return {entry_article_id(e, known_entries) for e in _entries(polls)}


def page_article_id(page: PageOutcome) -> str:
    """The article a fetched page is: its canonical URL's ID once extracted, else its entry's."""
    return article_id(page.article.canonical_url) if page.article else page.article_id


def plan_fetches(
    polls: list[FeedPoll],
    known_entries: Mapping[tuple[str, str], tuple[str, str]],
    known_articles: Mapping[str, Known],
    now: datetime,
    max_per_feed: int,
    counts: RunCounts,
) -> FetchPlan:
    """Decide which entries need their page fetched: entries whose URL was never judged,
    failed fetches under the attempt limit, and known entries whose feed text changed (a
    possible edit). `known_entries` maps (feed URL, GUID) to (fingerprint, article ID)."""
    plan = FetchPlan()
    planned: set[str] = set()
    for poll in polls:
        if not poll.parsed:
            continue
        work = plan.batches.setdefault(poll.source.url, [])
        for entry in poll.parsed.entries:
            counts.entries_seen += 1
            fp = fingerprint(entry)
            previous = known_entries.get((entry.feed_url, entry.guid))
            aid = entry_article_id(entry, known_entries)
            counts.entries_new += previous is None
            plan.sightings.append(EntrySeen(entry, aid, fp, now))
            if aid in planned:
                continue
            known = known_articles.get(aid)
            retry = known is not None and known.verdict == Verdict.FETCH_FAILED.value and known.attempts < MAX_FETCH_ATTEMPTS
            edited = known is not None and previous is not None and previous[0] != fp and known.verdict != Verdict.BLOCKED.value
            if not (known is None or retry or edited):
                continue
            if len(work) >= max_per_feed:  # left for the next pass, which must parse this feed again
                plan.unfinished.add(poll.source.url)
                continue
            work.append((aid, entry))
            planned.add(aid)
    return plan


RECHECK_FEED = "recheck:"  # the pseudo-feed re-checks and retried fetches are filed under


def plan_rechecks(
    candidates: list[tuple[str, str, str, datetime, datetime | None]],
    plan: FetchPlan,
    tiers: tuple[timedelta, ...],
    now: datetime,
    limit: int,
) -> int:
    """Add on-story articles due a re-check (age-tiered: see storywatch.recheck) to `plan`,
    unless already planned; returns how many were added."""
    due = [(aid, url, title) for aid, url, title, first_seen, last_checked in sorted(candidates, key=lambda c: c[3])
           if is_due(first_seen, last_checked, now, tiers)]
    return plan_refetches(due, plan, limit)


def plan_refetches(articles: list[tuple[str, str, str]], plan: FetchPlan, limit: int) -> int:
    """Add stored articles, (article_id, url, title), to `plan` in the re-check batch, unless
    already planned, up to `limit` in that batch; returns how many were added. Failed fetches
    come this way too, so a page that failed is tried again even when its feed answers 304."""
    planned = {aid for batch in plan.batches.values() for aid, _ in batch}
    work = plan.batches.setdefault(RECHECK_FEED, [])
    added = 0
    for aid, url, title in articles:
        if len(work) >= limit:
            break
        if aid not in planned:
            work.append((aid, FeedEntry(RECHECK_FEED, aid, url, title, "", "", None)))
            planned.add(aid)
            added += 1
    return added
