"""A story's start, its derived threshold and its counter-examples: read from a real story folder,
applied by the judge."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from storywatch.errors import ConfigError
from storywatch.extractors.story import load_story
from storywatch.judge import Judge
from storywatch.models import Verdict
from storywatch.timeline import before_story, dates_in, seed_date, story_start

STORIES = Path(__file__).resolve().parents[1] / "bench" / "stories"


def test_dates_are_read_from_datelines_in_several_forms():
    assert dates_in("SACRAMENTO, Calif., Jan. 8, 2025 — and on 7 January 2025, or 2025-01-06.") == [
        date(2025, 1, 8), date(2025, 1, 7), date(2025, 1, 6)]
    assert dates_in("Sept. 2, 2025") == [date(2025, 9, 2)]
    assert dates_in("February 30, 2025 and nothing else") == []


def test_a_seed_date_comes_from_its_lead_not_its_background():
    lead = "WASHINGTON, Sept. 2, 2025 — A judge ruled today." + " Background." * 60 + " On Aug. 5, 2024, he found..."
    assert seed_date(lead) == date(2025, 9, 2)
    assert seed_date(" Background." * 60 + " On Aug. 5, 2024, he found...") is None
    html_date = datetime(2025, 1, 2, tzinfo=timezone.utc)
    assert seed_date("no date here", html_date) == date(2025, 1, 2)


def test_story_start_prefers_the_configured_date_then_the_earliest_seed():
    assert story_start(date(2025, 3, 1), [date(2025, 1, 1)]) == date(2025, 3, 1)
    assert story_start(None, [None, date(2025, 1, 8), date(2025, 1, 7)]) == date(2025, 1, 7)
    assert story_start(None, [None, None]) is None


def test_before_story_needs_both_dates_and_honours_the_window():
    start = date(2025, 9, 2)
    assert before_story(datetime(2025, 8, 1, tzinfo=timezone.utc), start, 7)
    assert not before_story(datetime(2025, 8, 28, tzinfo=timezone.utc), start, 7)
    assert not before_story(None, start, 7)
    assert not before_story(datetime(2020, 1, 1, tzinfo=timezone.utc), None, 7)


def _folder(tmp_path: Path, name: str, with_not: bool = True) -> Path:
    """A user's story folder made from a bench story: its seeds at the top, a feeds file, a
    one-line story.toml, and (optionally) its not/ counter-examples."""
    source = STORIES / name
    folder = tmp_path / name
    folder.mkdir()
    for seed in (source / "seeds").glob("*.txt"):
        shutil.copy(seed, folder / seed.name)
    if with_not:
        shutil.copytree(source / "not", folder / "not")
    (folder / "feeds.txt").write_text("https://example.org/feed.xml\n", "utf-8")
    (folder / "story.toml").write_text('title = "A story"\nfeeds = "feeds.txt"\n', "utf-8")
    return folder


def test_a_story_folder_gets_its_start_from_its_seeds_and_reads_not(tmp_path):
    story = load_story(_folder(tmp_path, "court-ruling"))
    assert story.started == date(2025, 9, 2)
    assert len(story.counter_examples) == 3


def test_seeds_with_no_date_leave_the_story_undated_and_judged_on_content(tmp_path):
    folder = _folder(tmp_path, "court-ruling", with_not=False)
    for seed in folder.glob("*.txt"):  # strip every full date from the seeds
        text = seed.read_text("utf-8")
        for found in ("Sept. 2, 2025", "September 2, 2025", "Sept. 3, 2025"):
            text = text.replace(found, "Tuesday")
        seed.write_text(text, "utf-8")
    story = load_story(folder)
    assert story.started is None
    judge = Judge.for_story(story.seeds, started=story.started)
    old = datetime(2010, 1, 1, tzinfo=timezone.utc)
    text = next(iter(story.seeds.values()))
    verdict = judge.judge("a", "Another outlet's headline\n" + text.replace("Google", "Google Inc."), old)[0]
    assert not verdict.reason.startswith("before_story")


def test_the_judge_puts_an_old_article_before_the_story_and_keeps_its_score(tmp_path):
    story = load_story(_folder(tmp_path, "court-ruling", with_not=False))
    judge = Judge.for_story(story.seeds, started=story.started)
    text = "\n".join(list(story.seeds.values())[0].splitlines()[2:])  # a seed's body under another headline
    rewritten = "Judge rules on Google search remedies\n" + text.replace("the", "a")
    dated_old = judge.judge("old", rewritten, datetime(2024, 8, 5, tzinfo=timezone.utc))[0]
    assert dated_old.verdict is Verdict.OFF_TOPIC and dated_old.reason.startswith("before_story")
    assert dated_old.relevance > judge.threshold  # the score is kept, only the verdict changes
    in_time = judge.off_story(rewritten, dated_old.relevance, datetime(2025, 9, 3, tzinfo=timezone.utc))
    assert in_time == ""


def test_a_counter_example_pulls_its_look_alikes_down(tmp_path):
    story = load_story(_folder(tmp_path, "court-ruling"))
    without = Judge.for_story(story.seeds)
    judge = Judge.for_story(story.seeds, counter_examples=story.counter_examples)
    name, counter = next(iter(story.counter_examples.items()))
    look_alike = "A second outlet on the same news\n" + counter
    score = judge.profile.score(look_alike)
    assert without.off_story(look_alike, max(score, without.threshold), None) == ""
    reason = judge.off_story(look_alike, max(score, judge.threshold), None)
    assert reason.startswith(f"counter_example: closer to not/{name}")
    seed_body = "Another headline\n" + next(iter(story.seeds.values()))
    assert judge.off_story(seed_body, 1.0, None) == ""


def test_the_threshold_is_derived_from_the_seeds_unless_set(tmp_path):
    story = load_story(_folder(tmp_path, "court-ruling", with_not=False))
    derived = Judge.for_story(story.seeds).threshold
    assert 0.0 < derived < 1.0 and derived == Judge.for_story(story.seeds).profile.threshold()
    assert Judge.for_story(story.seeds, threshold=0.7).threshold == 0.7
    fewer = Judge.for_story(dict(list(story.seeds.items())[:3])).threshold
    assert fewer != derived  # it follows the seeds it is given


def test_an_unreadable_counter_example_is_one_line_naming_it(tmp_path):
    folder = _folder(tmp_path, "court-ruling")
    (folder / "not" / "empty.txt").write_text("   \n", "utf-8")
    with pytest.raises(ConfigError, match=r"not/empty\.txt: counter-example has no article text"):
        load_story(folder)
