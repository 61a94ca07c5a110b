"""What a pass leaves for people outside the warehouse: the story's Atom feed, rewritten after
every pass (atomically: a reader never sees half a file)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from storywatch.config import Story
from storywatch.render.atom import FeedEntry, render_atom
from storywatch.warehouse.store import Warehouse


def feed_path(story: Story, db: Path) -> Path:
    """story.toml's `atom` path (relative to the story folder), else `<story>.atom` beside the database."""
    return story.folder / story.config.atom if story.config.atom else Path(db).resolve().parent / f"{story.slug}.atom"


def coverage_feed(wh: Warehouse, story: Story) -> bytes:
    """The story's coverage as Atom XML, from the warehouse."""
    entries = [FeedEntry(aid, title or "", url, outlet or "", published, seen, relevance, tuple(devs),
                         tuple((o or "", u) for o, u in copies))
               for aid, title, url, outlet, published, seen, relevance, devs, copies in wh.feed_rows(story.slug)]
    return render_atom(story.slug, story.config.title, entries, datetime.now(timezone.utc))


def write_feed(wh: Warehouse, story: Story, db: Path) -> Path:
    """Rewrite the story's Atom file; returns its path."""
    path = feed_path(story, db)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(coverage_feed(wh, story))
    os.replace(partial, path)
    return path
