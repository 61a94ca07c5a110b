"""When to fetch an already-seen article again to look for edits: an age-tiered schedule.

Re-checking everything on every pass grows without bound (diffengine took eight hours a pass after
a month, diffengine#31). Instead an article is re-checked when it reaches each age in `tiers`,
counted from when it was first seen: by default at 15 minutes, 1 hour, 3 hours, 1 day and 3 days,
then never again. So each article costs at most ``len(tiers)`` re-checks, and news is edited most
in its first hours, which is when the checks are densest.

An article is due when one of those moments has passed since it was last checked
(``last_checked_at < first_seen_at + tier <= now``). A pass that runs late, or after a gap,
re-checks once and so catches up on every missed moment at the same time; the next check is the
first moment after that. The first fetch counts as a check (`last_checked_at` None means the article
was only fetched when it was first seen).

Pure and deterministic: every time comes from the caller. Pass timezone-aware datetimes (the
warehouse stores UTC); mixing naive and aware ones raises TypeError, as Python's comparison does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

DEFAULT_TIERS: tuple[timedelta, ...] = (
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(days=1),
    timedelta(days=3),
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w|wk)s?\s*$", re.I)
_UNITS = {"s": "seconds", "sec": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "hr": "hours",
          "d": "days", "day": "days", "w": "weeks", "wk": "weeks"}


def validate_tiers(tiers: Sequence[timedelta]) -> tuple[timedelta, ...]:
    """The tiers as a tuple, after checking they are positive and strictly increasing.

    An empty list is allowed and means "never re-check". Raises ValueError otherwise."""
    out = tuple(tiers)
    for i, tier in enumerate(out):
        if not isinstance(tier, timedelta):
            raise ValueError(f"re-check tier {i + 1} is not a duration: {tier!r}")
        if tier <= timedelta(0):
            raise ValueError(f"re-check tier {i + 1} must be positive, got {tier}")
        if i and tier <= out[i - 1]:
            raise ValueError(f"re-check tiers must increase: {out[i - 1]} then {tier}")
    return out


def parse_tiers(values: Sequence[str | int | float]) -> tuple[timedelta, ...]:
    """Tiers from configuration: strings such as "15m", "1h", "3h", "1d", "3d" (s, m, h, d, w),
    or plain numbers of minutes. Raises ValueError naming the bad value."""
    out = []
    for value in values:
        if isinstance(value, bool):
            raise ValueError(f"not a duration: {value!r}")
        if isinstance(value, (int, float)):
            out.append(timedelta(minutes=value))
            continue
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"not a duration: {value!r} (use e.g. 15m, 1h, 3d)")
        out.append(timedelta(**{_UNITS[m.group(2).lower()]: float(m.group(1))}))
    return validate_tiers(out)


def next_check_at(first_seen_at: datetime, last_checked_at: datetime | None,
                  tiers: Sequence[timedelta] = DEFAULT_TIERS) -> datetime | None:
    """The first scheduled moment after the last check, or None when the schedule is over."""
    checked = first_seen_at if last_checked_at is None else max(last_checked_at, first_seen_at)
    for tier in validate_tiers(tiers):
        moment = first_seen_at + tier
        if moment > checked:
            return moment
    return None


def is_due(first_seen_at: datetime, last_checked_at: datetime | None, now: datetime,
           tiers: Sequence[timedelta] = DEFAULT_TIERS) -> bool:
    """Whether the article should be fetched again on a pass running at `now`."""
    moment = next_check_at(first_seen_at, last_checked_at, tiers)
    return moment is not None and moment <= now


def checks_left(first_seen_at: datetime, last_checked_at: datetime | None,
                tiers: Sequence[timedelta] = DEFAULT_TIERS) -> int:
    """How many scheduled moments are still ahead of the last check (0: never re-checked again)."""
    checked = first_seen_at if last_checked_at is None else max(last_checked_at, first_seen_at)
    return sum(1 for tier in validate_tiers(tiers) if first_seen_at + tier > checked)
