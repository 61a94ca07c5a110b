"""A story is a folder: seed articles (.txt, .md, .html) plus `story.toml`. Reading one
validates everything before anything runs; a bad folder is one line naming the file."""

from __future__ import annotations

import tomllib
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from storywatch.config import Story, StoryConfig
from storywatch.errors import ConfigError
from storywatch.extractors.article import extract_article
from storywatch.extractors.feedlist import parse_feed_list
from storywatch.text import strip_chrome

SEED_SUFFIXES = (".txt", ".md", ".html", ".htm")


def packaged_stories() -> dict[str, Path]:
    """The story folders that ship inside the package (storywatch.seeds), by name."""
    root = Path(str(resources.files("storywatch.seeds")))
    return {p.name: p for p in sorted(root.iterdir()) if (p / "story.toml").is_file()}


def story_folder(folder: str | Path) -> Path:
    """`folder` itself, or, when no such folder exists and it is a bare name, the packaged story
    of that name (`storywatch run --story meta-open-models` works from any directory)."""
    path = Path(folder)
    if not path.is_dir() and len(path.parts) == 1:
        return packaged_stories().get(path.name, path)
    return path


def load_story(folder: str | Path, feeds_file: str | Path | None = None) -> Story:
    """Read and validate a story folder; `feeds_file` overrides the one named in story.toml."""
    folder = story_folder(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: story folder not found")
    config = _read_config(folder / "story.toml")
    feeds_path = Path(feeds_file) if feeds_file else folder / config.feeds
    try:
        feeds = parse_feed_list(feeds_path.read_bytes(), str(feeds_path))
    except OSError as exc:
        raise ConfigError(f"{feeds_path}: cannot read feeds file: {exc.strerror or exc}") from None
    seeds = _read_seeds(folder)
    return Story(slug=folder.resolve().name, folder=folder, config=config, seeds=seeds, feeds=feeds)


def _read_config(path: Path) -> StoryConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return StoryConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: field {field!r}: {first['msg']}") from None


def _read_seeds(folder: Path) -> dict[str, str]:
    seeds: dict[str, str] = {}
    now = datetime.now(timezone.utc)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SEED_SUFFIXES or path.name.startswith("."):
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read seed: {exc.strerror or exc}") from None
        if path.suffix.lower() in (".html", ".htm"):
            text = extract_article(data, path.as_uri(), None, now).text
        else:
            text = data.decode("utf-8", errors="replace")
        text = strip_chrome(text)
        if not text:
            raise ConfigError(f"{path}: seed has no article text")
        seeds[path.name] = text
    if not seeds:
        raise ConfigError(f"{folder}: no seed articles (.txt, .md or .html files)")
    return seeds
