"""Feed lists: OPML (what feed readers export) or plain text (one URL a line, `#` comments)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from storywatch.errors import ConfigError
from storywatch.models import FeedSource
from storywatch.urls import scheme_refusal


def parse_feed_list(data: bytes, name: str) -> list[FeedSource]:
    """Feeds listed in `data` (the contents of file `name`), in order, without repeats."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    sources = _opml(stripped, name) if stripped.startswith(b"<") else _plain(stripped, name)
    unique: dict[str, FeedSource] = {}
    for source in sources:
        refusal = scheme_refusal(source.url)
        if refusal:
            raise ConfigError(f"{name}: feed {source.url!r}: {refusal}")
        unique.setdefault(source.url, source)
    if not unique:
        raise ConfigError(f"{name}: no feeds listed")
    return list(unique.values())


def _opml(data: bytes, name: str) -> list[FeedSource]:
    if b"<!ENTITY" in data:
        raise ConfigError(f"{name}: OPML with entity declarations is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ConfigError(f"{name}: not valid OPML: {exc}") from None
    return [
        FeedSource(url=o.get("xmlUrl", "").strip(), title=(o.get("title") or o.get("text") or "").strip())
        for o in root.iter("outline")
        if o.get("xmlUrl", "").strip()
    ]


def _plain(data: bytes, name: str) -> list[FeedSource]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text: {exc}") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [FeedSource(url=line) for line in lines if line]
