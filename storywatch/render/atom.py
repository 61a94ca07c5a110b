"""The story's coverage as an Atom feed (RFC 4287), so anyone can follow it in a feed reader.

One entry per new on-story article, newest first: its title, link, outlet (as the entry's
author), publication and first-seen times, relevance, its key developments and links to the
copies other outlets published. Entry IDs are `urn:uuid:<article_id>` (the article's stable ID),
so they never change from one pass to the next. Pure: the flow writes the file, the CLI prints it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    article_id: str
    title: str
    url: str
    outlet: str
    published: datetime | None
    first_seen: datetime
    relevance: float
    developments: tuple[str, ...] = ()
    copies: tuple[tuple[str, str], ...] = ()   # (outlet, url) of syndicated copies


def _stamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_atom(story: str, title: str, entries: list[FeedEntry], generated: datetime) -> bytes:
    """The feed as UTF-8 XML. `updated` is the newest entry's time (or `generated` when empty),
    so an unchanged story gives an unchanged file."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:storywatch:{story}"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{title} (storywatch)"
    newest = max((e.first_seen for e in entries), default=generated)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(newest)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "storywatch"
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "storywatch"
    for e in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:uuid:{e.article_id}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = e.title or e.url
        ET.SubElement(entry, f"{{{ATOM}}}link", href=e.url, rel="alternate")
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(e.first_seen)
        if e.published:
            ET.SubElement(entry, f"{{{ATOM}}}published").text = _stamp(e.published)
        who = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(who, f"{{{ATOM}}}name").text = e.outlet or "unknown outlet"
        for outlet, url in e.copies:
            ET.SubElement(entry, f"{{{ATOM}}}link", href=url, rel="related", title=f"copy: {outlet}")
        lines = [f"{e.outlet or 'unknown outlet'} · relevance {e.relevance:.2f}"]
        lines += [f"• {d}" for d in e.developments]
        lines += [f"Copy: {outlet} {url}" for outlet, url in e.copies]
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = "\n".join(lines)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")
