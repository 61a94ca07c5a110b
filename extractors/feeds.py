"""Feed bytes to `ParsedFeed`: feedparser on the raw body (it never fetches), entries turned
into our `FeedEntry` with links resolved against the feed and aggregator wrappers removed."""

from __future__ import annotations

import calendar
import hashlib
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone

import feedparser
import lxml.html
from lxml.etree import ParserError

from storywatch.dates import plausible
from storywatch.models import FeedEntry, ParsedFeed
from storywatch.urls import canonicalize, unwrap_aggregator

# Longest GUID kept as it is; longer ones are stored as their hash.
MAX_GUID = 1000


def parse_feed(body: bytes, url: str, content_type: str = "", now: datetime | None = None) -> ParsedFeed:
    """Parse a feed body fetched from `url`. Never raises: a body that is not a feed, or whose
    items all lack a usable link, gives a ParsedFeed with `error` set. Every item with a link
    is kept (the body-size cap bounds how many); items repeating a GUID keep their own
    identity when their links differ (a publisher's GUID bug), and are dropped as repeats when
    the link is the same. Dates outside 1995..now+1 day are dropped."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser's own parsers can raise on pathological bytes
        return ParsedFeed(url, "", [], f"unparseable feed: {type(exc).__name__}: {exc}")
    now = now or datetime.now(timezone.utc)
    candidates = [_entry(raw, url, now) for raw in parsed.entries]
    links_by_guid: dict[str, set[str]] = defaultdict(set)
    for entry in filter(None, candidates):
        links_by_guid[entry.guid].add(entry.link)
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for entry in filter(None, candidates):
        if len(links_by_guid[entry.guid]) > 1:
            entry = replace(entry, guid=_guid_key(f"{entry.guid} {entry.link}"))
        if entry.guid not in seen:
            seen.add(entry.guid)
            entries.append(entry)
    without_link = candidates.count(None)
    title = str(parsed.feed.get("title", "")).strip()
    error = None
    if not entries and without_link:
        error = f"feed has {without_link} item(s) but none with a usable http(s) link"
    elif not entries and not parsed.get("version"):
        cause = parsed.get("bozo_exception")
        error = f"not a feed: {type(cause).__name__}: {cause}" if isinstance(cause, Exception) else "not a feed: no RSS, Atom or RDF elements found"
    return ParsedFeed(url, title, entries, " ".join(error.split()) if error else None,
                      without_link, len(candidates) - without_link - len(entries))


def _guid_key(guid: str) -> str:
    return guid if len(guid) <= MAX_GUID else hashlib.sha256(guid.encode()).hexdigest()


def _entry(raw: dict, feed_url: str, now: datetime) -> FeedEntry | None:
    link = _link(raw, feed_url)
    if not link:
        return None
    title = html_to_text(raw.get("title", ""))
    summary = html_to_text(raw.get("summary", ""))
    content = "\n".join(html_to_text(c.get("value", "")) for c in raw.get("content", []) or [])
    guid = str(raw.get("id") or "").strip() or link
    source = raw.get("source") or {}
    source_name = str(source.get("title", "")).strip() if hasattr(source, "get") else ""
    if source_name and title.endswith(f" - {source_name}"):  # news-search titles carry the outlet
        title = title[: -len(source_name) - 3].rstrip()
    return FeedEntry(
        feed_url=feed_url,
        guid=_guid_key(guid),
        link=link,
        title=title,
        summary=summary,
        content=content.strip(),
        published_at=_date(raw, now),
        source_name=source_name,
    )


def _link(raw: dict, feed_url: str) -> str:
    """The entry's article URL: its alternate link (or the GUID when it is a permalink),
    absolute, with aggregator redirects unwrapped."""
    links = raw.get("links", []) or []
    candidates = [raw.get("link", "")]
    candidates += [l.get("href", "") for l in links if l.get("rel") == "alternate"]
    if raw.get("guidislink"):
        candidates.append(raw.get("id", ""))
    candidates += [l.get("href", "") for l in links if l.get("rel") == "self"]  # Atom entries with only a self link
    for candidate in filter(None, (str(c).strip() for c in candidates)):
        absolute = canonicalize(unwrap_aggregator(canonicalize(candidate, base=feed_url) or ""))
        if absolute:
            return absolute
    return ""


def _date(raw: dict, now: datetime) -> datetime | None:
    """The entry's first plausible date (published, updated, created)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            try:
                found = datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
            if plausible(found, now):
                return found
    return None


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment from a feed (titles, summaries, content)."""
    fragment = (fragment or "").strip()
    if "<" not in fragment and "&" not in fragment:
        return fragment
    try:
        root = lxml.html.fromstring(fragment)
    except (ParserError, ValueError):
        return fragment
    for block in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4"):
        block.tail = "\n" + (block.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)
