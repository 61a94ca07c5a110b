"""Collection health: whether silence in a story means no news or feeds that stopped answering.
From the passes' own counts (the `runs` table) and each feed's state (`feed_health`): the days
on which fewer feeds answered than usual, the feeds failing or backing off now, and the one
line a pass summary prints when part of the collection was dark. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

# A day whose share of answering feeds falls below this fraction of the story's usual share.
LOW_DAY_FRACTION = 0.8


@dataclass(frozen=True)
class CollectionDay:
    day: date
    passes: int
    polled: int  # feed polls due that day (backing-off feeds included: they were due, not asked)
    answered: int  # polls that answered, with news or "not modified"
    low: bool  # fewer feeds answered than usual

    @property
    def share(self) -> float:
        return self.answered / self.polled if self.polled else 0.0


def collection_days(rows: list[dict]) -> list[CollectionDay]:
    """`rows`: per day, passes, feeds polled and feeds answered. A day is low when its share of
    answering feeds is under LOW_DAY_FRACTION of the median day's."""
    shares = [r["answered"] / r["polled"] for r in rows if r["polled"]]
    usual = median(shares) if shares else 0.0
    return [CollectionDay(r["day"], r["passes"], r["polled"], r["answered"],
                          bool(r["polled"]) and r["answered"] / r["polled"] < usual * LOW_DAY_FRACTION)
            for r in rows]


def troubled_feeds(feeds: list[dict], now: datetime) -> list[dict]:
    """Feeds whose last poll failed or that are backing off, longest-failing first, each with
    `state` ("failing" or "backing off until …") for the report."""
    out = []
    for feed in feeds:
        waiting = feed["next_poll_at"] is not None and feed["next_poll_at"] > now
        if feed["consecutive_failures"] or waiting:
            state = f"backing off until {feed['next_poll_at']:%Y-%m-%d %H:%M}" if waiting else "failing"
            out.append({**feed, "state": state})
    return sorted(out, key=lambda f: (-f["consecutive_failures"], f["feed"]))


@dataclass(frozen=True)
class Health:
    """A report's view of its collection: how many feeds, those in trouble, the short days."""

    feeds: int
    troubled: list[dict]
    low: list[CollectionDay]

    @property
    def low_days(self) -> frozenset[date]:
        return frozenset(d.day for d in self.low)


def collection_health(days: list[dict], feeds: list[dict], now: datetime) -> Health:
    """`Health` from the report's per-day collection rows and its feed rows (see
    `collection_days` and `troubled_feeds`), computed once for the chart and both renderings."""
    return Health(len(feeds), troubled_feeds(feeds, now), [d for d in collection_days(days) if d.low])


def silence_warning(result: dict) -> str | None:
    """One line for a pass summary when some feeds gave nothing this pass, else None."""
    dark = result["feeds_failed"] + result["feeds_deferred"]
    if not dark:
        return None
    long = f", {result['feeds_long_failing']} of them for 3+ polls" if result["feeds_long_failing"] else ""
    return (f"{dark} of {result['feeds']} feeds gave nothing this pass ({result['feeds_failed']} failed, "
            f"{result['feeds_deferred']} backing off{long}): silence from them may be a failure, not a lack of news "
            "(see the feed_health view)")
