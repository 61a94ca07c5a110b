"""The pure middle of a pass: which entries need a page fetch, and how fetched pages become
decisions. No network, SQL or Prefect here; `flows/monitor.py` feeds it and stores the result."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from storywatch.judge import Judge
from storywatch.recheck import is_due
from storywatch.models import Decision, EntrySeen, FeedEntry, FeedPoll, Judgment, Known, PageOutcome, RunCounts, Verdict
from storywatch.urls import article_id

# A page that failed to fetch is tried again on later passes, this many times in all.
MAX_FETCH_ATTEMPTS = 3


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


RECHECK_FEED = "recheck:"  # the pseudo-feed a re-check batch is filed under


def plan_rechecks(
    candidates: list[tuple[str, str, str, datetime, datetime | None]],
    plan: FetchPlan,
    tiers: tuple[timedelta, ...],
    now: datetime,
    limit: int,
) -> int:
    """Add on-story articles due a re-check (age-tiered: see storywatch.recheck) to `plan`,
    unless already planned; returns how many were added."""
    planned = {aid for batch in plan.batches.values() for aid, _ in batch}
    work = plan.batches.setdefault(RECHECK_FEED, [])
    for aid, url, title, first_seen, last_checked in sorted(candidates, key=lambda c: c[3]):
        if len(work) >= limit:
            break
        if aid not in planned and is_due(first_seen, last_checked, now, tiers):
            work.append((aid, FeedEntry(RECHECK_FEED, aid, url, title, "", "", None)))
    return len(work)


def decide(
    pages: list[PageOutcome],
    judge: Judge,
    known_articles: Mapping[str, Known],
    counts: RunCounts,
) -> tuple[list[Decision], dict[str, str]]:
    """Judge fetched pages in publication order (so the original, not a later copy, is `new`).

    Each article is decided once a pass: first sight (or a retried failed fetch) gets a counted
    verdict; a known article whose text changed gets a new version and is re-judged; an
    unchanged re-fetch writes nothing. Returns the decisions and a map from entry-link IDs to
    the article ID the page's canonical URL gave, for links that turned out to be variants."""
    decisions: list[Decision] = []
    redirected: dict[str, str] = {}
    done: set[str] = set()

    def when(page: PageOutcome) -> float:
        published = (page.article.published_at if page.article else None) or page.entry.published_at
        return (published or page.fetched_at).timestamp()

    for page in sorted(pages, key=lambda p: (when(p), p.article_id)):
        counts.pages_fetched += 0 if page.blocked else 1
        aid = page_article_id(page)
        if aid != page.article_id:
            redirected[page.article_id] = aid
        known = known_articles.get(aid)
        if aid in done or (page.article is None and known is not None and known.version > 0):
            continue  # already decided this pass, or a failed re-check of a stored article
        done.add(aid)
        if page.article is None:
            verdict = Verdict.BLOCKED if page.blocked else Verdict.FETCH_FAILED
            judgment = Judgment(verdict, 0.0, page.error or verdict.value)
            counts.verdicts[verdict.value] += 1
            decisions.append(Decision(aid, page, judgment, "", b"", 0, None, page.fetched_at))
            continue
        counts.extracted += 1 if page.article.text_source == "page" else 0
        judgment, text_hash, sig = judge.judge(aid, page.article.text)
        if judgment.verdict is Verdict.NO_TEXT and page.error:  # say why the page gave none
            judgment = replace(judgment, reason=f"{page.error}; no text in the feed entry either")
        if known is not None and known.content_hash == text_hash:
            continue
        if known is not None and known.version > 0:
            counts.updates += 1
        else:
            counts.verdicts[judgment.verdict.value] += 1
        if judgment.verdict in (Verdict.NEW, Verdict.SYNDICATED):
            judge.remember(aid, text_hash, sig)
        version = (known.version if known else 0) + 1
        decisions.append(Decision(aid, page, judgment, text_hash, sig.to_bytes(), sig.size, version, page.fetched_at))
    return decisions, redirected
