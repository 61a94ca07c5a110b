"""Feed bytes to `ParsedFeed`: feedparser on the raw body (it never fetches), entries turned
into our `FeedEntry` with links resolved against the feed and aggregator wrappers removed."""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime, timezone

import feedparser
import lxml.html
from lxml.etree import ParserError

from storywatch.models import FeedEntry, ParsedFeed
from storywatch.urls import canonicalize, unwrap_aggregator

# Largest number of entries taken from one feed body; a feed with more is truncated, not refused.
MAX_ENTRIES = 2000


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed body fetched from `url`. Never raises: a body that yields no entries and
    looks broken gives a ParsedFeed with `error` set."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser's own parsers can raise on pathological bytes
        return ParsedFeed(url, "", [], f"unparseable feed: {type(exc).__name__}: {exc}")
    entries = []
    seen_guids: set[str] = set()
    for raw in parsed.entries[:MAX_ENTRIES]:
        entry = _entry(raw, url)
        if entry is None or entry.guid in seen_guids:
            continue
        seen_guids.add(entry.guid)
        entries.append(entry)
    title = str(parsed.feed.get("title", "")).strip()
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        cause = parsed.get("bozo_exception") or "no feed elements found"
        return ParsedFeed(url, title, [], f"not a feed: {type(cause).__name__ if isinstance(cause, Exception) else ''} {cause}".replace("  ", " ").strip())
    return ParsedFeed(url, title, entries)


def _entry(raw: dict, feed_url: str) -> FeedEntry | None:
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
        guid=guid[:1000] if len(guid) <= 1000 else hashlib.sha256(guid.encode()).hexdigest(),
        link=link,
        title=title,
        summary=summary,
        content=content.strip(),
        published_at=_date(raw),
        source_name=source_name,
    )


def _link(raw: dict, feed_url: str) -> str:
    """The entry's article URL: its alternate link (or the GUID when it is a permalink),
    absolute, with aggregator redirects unwrapped."""
    candidates = [raw.get("link", "")]
    candidates += [l.get("href", "") for l in raw.get("links", []) or [] if l.get("rel") == "alternate"]
    if raw.get("guidislink"):
        candidates.append(raw.get("id", ""))
    for candidate in filter(None, (str(c).strip() for c in candidates)):
        absolute = canonicalize(unwrap_aggregator(canonicalize(candidate, base=feed_url) or ""))
        if absolute:
            return absolute
    return ""


def _date(raw: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
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
