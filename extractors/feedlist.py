"""Feed lists: OPML (what feed readers export) or plain text (one URL a line, `#` comments)."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

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


def append_feeds(path: Path, feeds: list[tuple[str, str]]) -> int:
    """Add (url, note) feeds that `path` does not list yet, keeping everything it has: OPML gets
    outlines before `</body>`, plain text gets the note as a comment line above each URL.
    Returns how many were added."""
    data = path.read_bytes()
    have = {f.url for f in parse_feed_list(data, str(path))}
    fresh = [(url, note) for url, note in feeds if url not in have]
    if not fresh:
        return 0
    text = data.decode("utf-8")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        if "</body>" not in text:
            raise ConfigError(f"{path}: OPML without </body>: add the feeds by hand")
        lines = "".join(f'    <outline type="rss" text="{html.escape(note)}" xmlUrl="{html.escape(url)}"/>\n'
                        for url, note in fresh)
        head, tail = text.rsplit("</body>", 1)
        text = f"{head.rstrip()}\n{lines}  </body>{tail}"
    else:
        text = text.rstrip("\n") + "\n" + "".join(f"# {note}\n{url}\n" for url, note in fresh)
    path.write_text(text, encoding="utf-8")
    return len(fresh)
