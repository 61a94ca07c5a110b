"""Plain records that travel between the pipeline's stages.

Library objects (feedparser dicts, trafilatura documents, httpx responses) are turned into
these at the boundary, so everything past `extractors/` and `flows/fetcher.py` is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Verdict(str, Enum):
    """The closed set of outcomes for one judged URL (one per URL, counted per run)."""

    NEW = "new"
    SYNDICATED = "syndicated"
    SEED_COPY = "seed_copy"
    OFF_TOPIC = "off_topic"
    NO_TEXT = "no_text"
    FETCH_FAILED = "fetch_failed"
    BLOCKED = "blocked"


ON_STORY_VERDICTS = frozenset({Verdict.NEW, Verdict.SYNDICATED, Verdict.SEED_COPY})


@dataclass(frozen=True)
class FeedSource:
    """One feed the story polls, as listed in its OPML or text feeds file."""

    url: str
    title: str = ""


@dataclass(frozen=True)
class FeedState:
    """What we remember about a feed between polls (conditional GET validators and health)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    consecutive_failures: int = 0
    failure_score: float = 0.0
    next_poll_at: datetime | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one HTTP GET: final URL, status, a few headers, and the (capped) body."""

    url: str
    final_url: str
    status: int | None
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    blocked: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed, with its link already resolved against the feed."""

    feed_url: str
    guid: str
    link: str
    title: str
    summary: str
    content: str
    published_at: datetime | None
    source_name: str = ""

    @property
    def fingerprint_text(self) -> str:
        """What must change for a known entry to be worth re-fetching."""
        return "\x1f".join([self.link, self.title, self.summary, self.content])


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's entries, or the one reason it gave none; with the items left out and why (no
    usable link: nothing to fetch or identify; a repeat of an item already in the feed)."""

    url: str
    title: str
    entries: list[FeedEntry]
    error: str | None = None
    without_link: int = 0
    repeats: int = 0


@dataclass(frozen=True)
class Article:
    """Text and metadata pulled from one page (or from its feed entry when the page had none)."""

    url: str
    canonical_url: str
    title: str
    text: str
    author: str
    outlet: str
    language: str
    published_at: datetime | None
    date_source: str  # feed | page | url | none
    text_source: str  # page | feed | none


@dataclass(frozen=True)
class Judgment:
    """The decision about one article: relevance, verdict, and why."""

    verdict: Verdict
    relevance: float
    reason: str
    duplicate_of: str | None = None
    duplicate_score: float | None = None

    @property
    def on_story(self) -> bool:
        return self.verdict in ON_STORY_VERDICTS


@dataclass
class RunCounts:
    """One pass's tallies, printed as the run summary and stored on the run's row."""

    feeds: int = 0
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_deferred: int = 0
    feeds_long_failing: int = 0
    entries_seen: int = 0
    entries_new: int = 0
    pages_fetched: int = 0
    extracted: int = 0
    updates: int = 0
    rechecked: int = 0
    developments: int = 0
    alerts_queued: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0         # delivery attempts that failed in this pass
    alerts_pending: int = 0        # in the outbox after this pass, waiting: a retry, quiet hours (any pass's)
    alerts_given_up: int = 0       # in the outbox, failed for good after their last attempt (any pass's)
    alerts_unknown: int = 0        # in the outbox, sent by a pass killed before it heard back (any pass's)
    verdicts: dict[str, int] = field(default_factory=lambda: {v.value: 0 for v in Verdict})

    @property
    def on_story(self) -> int:
        return sum(self.verdicts[v.value] for v in ON_STORY_VERDICTS)


@dataclass(frozen=True)
class FeedPoll:
    """One feed's poll: what the server said, and the parsed entries when the body changed."""

    source: FeedSource
    polled_at: datetime
    status: int | None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error: str | None = None
    parsed: ParsedFeed | None = None
    failure_kind: str | None = None  # hard | soft | temporary (see storywatch.feedhealth)
    retry_after: float | None = None
    deferred: bool = False  # not polled: backing off after failures
    unfinished: bool = False  # entries left for a later pass: the next poll must not be conditional

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class PageOutcome:
    """One article page fetched (or refused) and extracted; raw HTML kept gzip-compressed."""

    article_id: str
    entry: FeedEntry
    fetched_at: datetime
    final_url: str
    status: int | None
    content_type: str
    html_gz: bytes
    error: str | None
    blocked: bool
    article: Article | None


@dataclass(frozen=True)
class Decision:
    """A judged page ready for the warehouse. `version` is None when a re-fetch found no change."""

    article_id: str
    page: PageOutcome
    judgment: Judgment
    text_hash: str
    signature: bytes
    shingles: int
    version: int | None
    first_seen_at: datetime


@dataclass(frozen=True)
class EntrySeen:
    """A feed entry sighted in a pass, and the article it points at."""

    entry: FeedEntry
    article_id: str
    fingerprint: str
    seen_at: datetime


@dataclass(frozen=True)
class Known:
    """What the warehouse already holds about an article: its verdict and latest version."""

    verdict: str
    attempts: int
    content_hash: str | None
    version: int


@dataclass(frozen=True)
class Label:
    """A person's verdict on one stored article (`storywatch label`): on-story or not, and when.
    Its text joins the seeds (on) or the counter-examples (off) of every later judgment."""

    article_id: str
    on_story: bool
    text: str
    labelled_at: datetime


@dataclass(frozen=True)
class Stored:
    """One stored article as a re-score reads it: its latest text and its current judgment."""

    article_id: str
    url: str
    outlet: str
    title: str
    text: str
    published_at: datetime | None
    judgment: Judgment
