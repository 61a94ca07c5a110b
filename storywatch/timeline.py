"""When a story started, and whether an article predates it.

A story starts on `started` in story.toml, else on the earliest date its seeds carry: an HTML
seed's own publication date, else a date in a text seed's lead (its dateline, "SACRAMENTO, Jan. 8,
2025 —", or "on Tuesday, Jan. 7, 2025" in the first lines). Dates deeper in a seed are left
alone: background paragraphs name earlier events ("the August 2024 ruling"). An article published
more than `before_story_days` before the start is not coverage of this story, whatever its words
say: most articles about the same actors but another event are older ones. Undated articles, and
stories with no start, are judged on content alone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

LEAD_CHARS = 400  # a dateline sits in the first lines of a seed
BEFORE_STORY_DAYS = 7  # the default window: a week covers the lead-up and time zones

_MONTHS = {m: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for m in names}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MDY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b", re.I)
_DMY = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\.?,?\s+((?:19|20)\d\d)\b", re.I)
_ISO = re.compile(r"\b((?:19|20)\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")


def dates_in(text: str) -> list[date]:
    """Full dates written in `text` ("Jan. 7, 2025", "7 January 2025", "2025-01-07"), in order."""
    found: list[tuple[int, date]] = []
    for pattern, order in ((_MDY, "mdy"), (_DMY, "dmy"), (_ISO, "iso")):
        for m in pattern.finditer(text):
            if order == "mdy":
                y, mo, d = int(m[3]), _MONTHS[m[1].lower()], int(m[2])
            elif order == "dmy":
                y, mo, d = int(m[3]), _MONTHS[m[2].lower()], int(m[1])
            else:
                y, mo, d = int(m[1]), int(m[2]), int(m[3])
            try:
                found.append((m.start(), date(y, mo, d)))
            except ValueError:
                continue
    return [d for _, d in sorted(found)]


def seed_date(text: str, published: datetime | None = None) -> date | None:
    """A seed's own date: its publication metadata, else the first date in its lead."""
    if published is not None:
        return published.date()
    lead = dates_in(text[:LEAD_CHARS])
    return lead[0] if lead else None


def story_start(configured: date | None, seed_dates: list[date | None]) -> date | None:
    """`started` from story.toml, else the earliest seed date, else None (no time rule)."""
    if configured is not None:
        return configured
    known = [d for d in seed_dates if d is not None]
    return min(known) if known else None


def before_story(published: datetime | None, started: date | None, window_days: int) -> bool:
    """True when `published` is more than `window_days` before `started` (both known)."""
    if published is None or started is None:
        return False
    return published.date() < started - timedelta(days=window_days)
