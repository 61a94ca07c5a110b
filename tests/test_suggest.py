"""`storywatch feeds suggest`: news-search feeds from the story's heaviest terms, on the packaged
story and on a story folder made here from other seeds; names the coverage brought in; feeds it
supersedes; --write keeps what the feeds file had and adds each feed once."""

import shutil
from pathlib import Path

from typer.testing import CliRunner

from storywatch.cli import app
from storywatch.extractors.feedlist import parse_feed_list
from storywatch.extractors.story import load_story, packaged_stories
from storywatch.relevance import StoryProfile
from storywatch.suggest import search_query, story_queries, superseded

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _profile(folder: Path) -> StoryProfile:
    story = load_story(folder)
    return StoryProfile.from_seeds(list(story.seeds.values()), list(story.counter_examples.values()))


def test_the_seed_story_gets_queries_of_its_actors_and_event_and_write_adds_them_once(tmp_path):
    story = shutil.copytree(packaged_stories()["meta-open-models"], tmp_path / "meta-open-models")
    before = parse_feed_list((story / "feeds.opml").read_bytes(), "feeds.opml")
    result = runner.invoke(app, ["feeds", "suggest", "--story", str(story), "--db", str(tmp_path / "none.duckdb"), "--write"])
    assert result.exit_code == 0, result.output
    urls = [line.split()[-1] for line in result.output.splitlines() if line.startswith(("  Google News", "  Bing News"))]
    queries = {search_query(url) for url in urls}
    assert ("Google News", '"alexandr wang" meta "open source"') in queries
    assert ("Bing News", '"alexandr wang" meta "open source"') in queries
    assert len(urls) == 4 and f"added 4 feed(s) to {story / 'feeds.opml'}" in result.output
    after = parse_feed_list((story / "feeds.opml").read_bytes(), "feeds.opml")
    assert [f.url for f in after] == [f.url for f in before] + urls  # nothing lost, each added once
    again = runner.invoke(app, ["feeds", "suggest", "--story", str(story), "--db", str(tmp_path / "none.duckdb"), "--write"])
    assert "already lists them all" in again.output
    assert len(parse_feed_list((story / "feeds.opml").read_bytes(), "feeds.opml")) == len(after)


def test_a_story_made_from_other_seeds_gets_its_own_queries_and_its_stale_feed_superseded(tmp_path):
    source = ROOT / "bench" / "stories" / "tune-cyberattack"
    story = tmp_path / "ms-cyberattack"
    shutil.copytree(source / "seeds", story)
    (story / "story.toml").write_text('title = "Marks & Spencer cyberattack"\nfeeds = "feeds.txt"\n', "utf-8")
    stale = "https://news.google.com/rss/search?q=retail+football+results&hl=en-US&gl=US&ceid=US:en"
    (story / "feeds.txt").write_text(f"{stale}\n", "utf-8")
    result = runner.invoke(app, ["feeds", "suggest", "--story", str(story), "--db", str(tmp_path / "none.duckdb"), "--write"])
    assert result.exit_code == 0, result.output
    first = story_queries(_profile(story))[0]
    assert any("spencer" in t.lower() or "m&s" in t.lower() for t in first.terms), first
    assert f"superseded: {stale} (retail football results)" in result.output
    assert "football" in result.output.split("superseded:")[1]  # the reason names the stale terms
    text = (story / "feeds.txt").read_text("utf-8")
    assert text.startswith(stale + "\n") and text.count("https://") == 5  # the old feed and four new ones
    assert "# Google News: " in text  # each with why, as a comment


def test_names_the_coverage_brought_in_make_queries_when_several_articles_name_them():
    profile = _profile(packaged_stories()["meta-open-models"])
    names = [("Lena Marchetti", "TechWire", "2026-11-21", 4), ("Marchetti", "TechWire", "2026-11-21", 4),
             ("Anthropic", "The Ledger", "2026-11-19", 5), ("Carla Stein", "The Ledger", "2026-11-19", 1)]
    queries = story_queries(profile, names)
    from_coverage = [q for q in queries if q.from_coverage]
    assert [q.terms for q in from_coverage] == [("Lena Marchetti", "alexandr wang")]  # Anthropic: a seed term already
    assert "first reported by TechWire on 2026-11-21, named by 4 on-story articles" in from_coverage[0].reason
    old = "https://www.bing.com/news/search?q=%22Lena+Marchetti%22+Meta&format=rss"
    assert superseded([old], queries, profile)[0].by == 'Bing News: "Lena Marchetti" "alexandr wang"'
    kept = "https://www.bing.com/news/search?q=%22alexandr+wang%22+meta+%22open+source%22&format=rss"
    assert superseded([kept, "https://example.com/feed.xml"], queries, profile) == []  # today's own, and no search feed
