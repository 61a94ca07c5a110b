"""Publication dates: parse, reject the impossible, and pick one with the place it came from."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

EARLIEST = datetime(1995, 1, 1, tzinfo=timezone.utc)
# Clocks and time zones disagree a little; a date more than this far ahead is impossible.
FUTURE_SLACK = timedelta(days=1)
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?!\d)")


def parse_iso(value: str | None) -> datetime | None:
    """An ISO-8601 date or datetime as an aware UTC datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def date_in_url(url: str) -> datetime | None:
    """A /2025/03/04/ or 2025-03-04 date in a URL path, if any."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=timezone.utc)
    except ValueError:
        return None


def plausible(value: datetime | None, now: datetime) -> bool:
    return value is not None and EARLIEST <= value <= now + FUTURE_SLACK


def choose_date(
    page: datetime | None, feed: datetime | None, url: datetime | None, now: datetime
) -> tuple[datetime | None, str]:
    """The first plausible date of page metadata, feed entry, URL path; with its source name."""
    for value, source in ((page, "page"), (feed, "feed"), (url, "url")):
        if plausible(value, now):
            return value, source
    return None, "none"
