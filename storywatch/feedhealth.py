"""Feed health: failures counted fractionally by kind, and a linear, capped back-off.

A feed is never disabled: however long it fails, it is polled again at least every
`BACKOFF_CAP`, and it shows in the `feed_health` view and the run summary.

- hard (1.0): the feed is wrong as it stands — 4xx, not a feed, over the size cap, redirect loop,
  refused by the address guard;
- soft (0.5): the server is struggling — 5xx, 429, timeouts (after the pass's retries);
- temporary (0.25): the network between us — DNS failures, refused or reset connections.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WEIGHTS = {"hard": 1.0, "soft": 0.5, "temporary": 0.25}
BACKOFF_STEP = timedelta(minutes=30)  # per point of failure score
BACKOFF_CAP = timedelta(hours=12)
RETRY_AFTER_CAP = timedelta(hours=12)
# A feed failing this many polls in a row is called out in the run summary.
LONG_FAILING = 3


def next_poll_at(polled_at: datetime, failure_score: float, retry_after: float | None = None) -> datetime | None:
    """When a failing feed may be polled again (None: at the next pass)."""
    if failure_score <= 0 and not retry_after:
        return None
    wait = min(BACKOFF_STEP * failure_score, BACKOFF_CAP)
    if retry_after:
        wait = max(wait, min(timedelta(seconds=retry_after), RETRY_AFTER_CAP))
    return polled_at + wait


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/invalid."""
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def health_after(previous_score: float, poll) -> tuple[float, datetime | None]:  # poll: FeedPoll
    """A feed's failure score and next poll time after `poll` (success resets both)."""
    if not poll.failed:
        return 0.0, None
    score = previous_score + WEIGHTS.get(poll.failure_kind or "hard", 1.0)
    return score, next_poll_at(poll.polled_at, score, poll.retry_after)
