"""Collection health and the chart's bins: pure rules on rows as the warehouse returns them."""

from datetime import date, datetime, timedelta

from storywatch.collection import collection_days, silence_warning, troubled_feeds
from storywatch.render.page import chart_bins


def _day(n: int, polled: int, answered: int, passes: int = 4) -> dict:
    return {"day": date(2026, 12, 1) + timedelta(days=n), "passes": passes, "polled": polled, "answered": answered}


def test_a_day_is_short_when_fewer_feeds_answered_than_usual():
    days = collection_days([_day(0, 40, 40), _day(1, 40, 39), _day(2, 40, 20), _day(3, 40, 38), _day(4, 0, 0, 0)])
    assert [d.low for d in days] == [False, False, True, False, False]
    assert days[2].share == 0.5
    assert not any(d.low for d in collection_days([_day(0, 10, 5), _day(1, 10, 5)]))  # usual for this story


def test_failing_and_backing_off_feeds_come_first_by_failures():
    now = datetime(2026, 12, 6, 12, 0)
    feeds = [
        {"feed": "a", "consecutive_failures": 0, "next_poll_at": None},
        {"feed": "b", "consecutive_failures": 1, "next_poll_at": None},
        {"feed": "c", "consecutive_failures": 5, "next_poll_at": now + timedelta(hours=2)},
        {"feed": "d", "consecutive_failures": 0, "next_poll_at": now + timedelta(minutes=30)},  # a Retry-After
    ]
    troubled = troubled_feeds(feeds, now)
    assert [(f["feed"], f["state"]) for f in troubled] == [
        ("c", "backing off until 2026-12-06 14:00"), ("b", "failing"), ("d", "backing off until 2026-12-06 12:30")]


def test_a_pass_with_dark_feeds_says_so_in_one_line():
    quiet = {"feeds": 10, "feeds_failed": 0, "feeds_deferred": 0, "feeds_long_failing": 0}
    assert silence_warning(quiet) is None
    line = silence_warning({**quiet, "feeds_failed": 2, "feeds_deferred": 1, "feeds_long_failing": 1})
    assert line.startswith("3 of 10 feeds gave nothing this pass (2 failed, 1 backing off, 1 of them for 3+ polls)")


def _daily(day: date, new: int, syndicated: int = 0, new_outlets: int = 0) -> dict:
    return {"day": day, "new": new, "syndicated": syndicated, "new_outlets": new_outlets}


def test_the_chart_has_a_bar_for_every_day_from_first_to_last():
    bins = chart_bins([_daily(date(2026, 12, 1), 3, 1, 2), _daily(date(2026, 12, 4), 1)])
    assert not bins.weekly
    assert bins.starts == [date(2026, 12, d) for d in (1, 2, 3, 4)]
    assert (bins.new, bins.syndicated, bins.new_outlets) == ([3, 0, 0, 1], [1, 0, 0, 0], [2, 0, 0, 0])


def test_a_long_story_is_charted_by_week_from_monday():
    first = date(2026, 9, 2)  # a Wednesday
    daily = [_daily(first + timedelta(days=n), 1, 1) for n in range(0, 90, 3)]
    bins = chart_bins(daily)
    assert bins.weekly and bins.starts[0] == date(2026, 8, 31) and all(d.weekday() == 0 for d in bins.starts)
    assert sum(bins.new) == len(daily) and sum(bins.syndicated) == len(daily)
    assert chart_bins([]).starts == []
