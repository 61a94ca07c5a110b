"""The age-tiered re-check schedule: due at 15 min, 1 h, 3 h, 1 day and 3 days after first
seen, once per moment even after a gap, then never; tiers configurable."""

from bisect import bisect_right
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storywatch.recheck import DEFAULT_TIERS, checks_left, is_due, next_check_at, parse_tiers

T0 = datetime(2026, 11, 18, 13, 20, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def test_default_moments():
    assert next_check_at(T0, None) == T0 + timedelta(minutes=15)
    assert not is_due(T0, None, T0 + 14 * MIN)
    assert is_due(T0, None, T0 + 15 * MIN)
    assert next_check_at(T0, T0 + 15 * MIN) == T0 + timedelta(hours=1)
    assert not is_due(T0, T0 + 15 * MIN, T0 + 59 * MIN)
    assert is_due(T0, T0 + 15 * MIN, T0 + 60 * MIN)
    assert next_check_at(T0, T0 + timedelta(hours=1)) == T0 + timedelta(hours=3)
    assert next_check_at(T0, T0 + timedelta(hours=3)) == T0 + timedelta(days=1)
    assert next_check_at(T0, T0 + timedelta(days=1)) == T0 + timedelta(days=3)
    assert next_check_at(T0, T0 + timedelta(days=3)) is None
    assert not is_due(T0, T0 + timedelta(days=3), T0 + timedelta(days=300))


def test_half_hourly_passes_recheck_five_times_then_stop():
    last, checks = None, []
    for step in range(1, 24 * 2 * 10 + 1):  # every 30 minutes for ten days
        now = T0 + step * timedelta(minutes=30)
        if is_due(T0, last, now):
            checks.append(now - T0)
            last = now
    assert checks == [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=3), timedelta(days=1), timedelta(days=3)]


def test_a_gap_catches_up_once():
    # the flow did not run for two days: one re-check covers 15 min, 1 h, 3 h and 1 day
    assert is_due(T0, None, T0 + timedelta(days=2))
    assert next_check_at(T0, T0 + timedelta(days=2)) == T0 + timedelta(days=3)
    assert checks_left(T0, T0 + timedelta(days=2)) == 1
    assert checks_left(T0, None) == 5


def test_custom_tiers_and_parsing():
    tiers = parse_tiers(["30m", "2h", "1d"])
    assert tiers == (timedelta(minutes=30), timedelta(hours=2), timedelta(days=1))
    assert parse_tiers(["15m", "1h", "3h", "1d", "3d"]) == DEFAULT_TIERS
    assert parse_tiers([15, 90]) == (timedelta(minutes=15), timedelta(minutes=90))
    assert not is_due(T0, None, T0 + 20 * MIN, tiers)
    assert is_due(T0, None, T0 + 30 * MIN, tiers)
    assert next_check_at(T0, T0 + timedelta(days=1), tiers) is None
    assert not is_due(T0, None, T0 + timedelta(days=30), [])  # no tiers: never re-check
    for bad in (["1h", "30m"], ["0m"], ["soon"], ["1h", "1h"], [True]):
        with pytest.raises(ValueError):
            parse_tiers(bad)


def test_clock_before_first_seen_and_naive_mix():
    assert not is_due(T0, None, T0 - timedelta(hours=1))
    assert next_check_at(T0, T0 - timedelta(hours=1)) == T0 + timedelta(minutes=15)  # check before first seen
    with pytest.raises(TypeError):
        is_due(T0, None, datetime(2026, 11, 19))


@given(st.lists(st.integers(min_value=0, max_value=6 * 24 * 60), min_size=1, max_size=60))
def test_one_recheck_per_tier_window_reached(offsets):
    """Passes at arbitrary minutes after first seen re-check exactly once in each window between
    two tier moments that some pass falls into, and never before the first moment."""
    tier_minutes = [t / MIN for t in DEFAULT_TIERS]
    last, checked_at = None, []
    for minutes in sorted(set(offsets)):
        now = T0 + minutes * MIN
        if is_due(T0, last, now):
            checked_at.append(minutes)
            last = now
    windows = {bisect_right(tier_minutes, m) for m in offsets} - {0}
    assert len(checked_at) == len(windows) <= len(DEFAULT_TIERS)
    assert all(m >= 15 for m in checked_at)
