"""A story folder written from a packaged one, with its own feeds and settings: what the demo
runs, and what the tests and benchmarks build their stories from."""

from __future__ import annotations

import shutil
from pathlib import Path

from storywatch.extractors.story import SEED_SUFFIXES


def write_story(folder: Path, seed_story: Path, feed_urls: list[str], toml: str, counter_examples: bool = False) -> Path:
    """`folder/<seed story's name>/`: the seed story's seed files (and its not/ folder of
    counter-examples, if asked), a feeds.txt listing `feed_urls`, and `toml` as story.toml
    (which should name `feeds = "feeds.txt"`)."""
    story = folder / seed_story.name
    story.mkdir(parents=True, exist_ok=True)
    for seed in seed_story.iterdir():
        if seed.suffix.lower() in SEED_SUFFIXES:
            shutil.copy(seed, story / seed.name)
    if counter_examples and (seed_story / "not").is_dir():
        shutil.copytree(seed_story / "not", story / "not", dirs_exist_ok=True)
    (story / "feeds.txt").write_text("\n".join(feed_urls) + "\n", encoding="utf-8")
    (story / "story.toml").write_text(toml, encoding="utf-8")
    return story
