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
from storywatch.text import strip_chrome, words
from storywatch.timeline import seed_date, story_start

SEED_SUFFIXES = (".txt", ".md", ".html", ".htm")
# A seed or counter-example shorter than this cannot say what a story is (a headline, a stub).
MIN_WORDS = 40


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
    """Read and validate a story folder; `feeds_file` overrides the one named in story.toml.
    Counter-examples (articles that are *not* the story) are read from its `not/` folder."""
    folder = story_folder(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: story folder not found")
    config = _read_config(folder / "story.toml")
    feeds_path = Path(feeds_file) if feeds_file else folder / config.feeds
    try:
        feeds = parse_feed_list(feeds_path.read_bytes(), str(feeds_path))
    except OSError as exc:
        raise ConfigError(f"{feeds_path}: cannot read feeds file: {exc.strerror or exc}") from None
    seeds = _read_articles(folder, "seed", skip={feeds_path.resolve(), (folder / config.feeds).resolve()})
    if not seeds:
        raise ConfigError(f"{folder}: no seed articles (.txt, .md or .html files)")
    counter = _read_articles(folder / "not", "counter-example") if (folder / "not").is_dir() else {}
    started = story_start(config.started, [seed_date(text, published) for text, published in seeds.values()])
    return Story(slug=folder.resolve().name, folder=folder, config=config,
                 seeds={name: text for name, (text, _) in seeds.items()}, feeds=feeds,
                 counter_examples={name: text for name, (text, _) in counter.items()}, started=started)


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


def _read_articles(folder: Path, what: str, skip: set[Path] = frozenset()) -> dict[str, tuple[str, datetime | None]]:
    """Each article file of `folder` but those in `skip` (the story's feeds files, often feeds.txt):
    name -> (text, publication date from HTML metadata)."""
    found: dict[str, tuple[str, datetime | None]] = {}
    now = datetime.now(timezone.utc)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SEED_SUFFIXES or path.name.startswith(".") or path.resolve() in skip:
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
        published = None
        if path.suffix.lower() in (".html", ".htm"):
            article = extract_article(data, path.as_uri(), None, now)
            text, published = article.text, article.published_at
        else:
            text = _decode(path, data, what)
        text = strip_chrome(text)
        if not text:
            raise ConfigError(f"{path}: {what} has no article text")
        if len(words(text)) < MIN_WORDS:
            raise ConfigError(f"{path}: {what} too short to define a story ({len(words(text))} words; "
                              f"at least {MIN_WORDS})")
        found[path.name] = (text, published)
    return found


def _decode(path: Path, data: bytes, what: str) -> str:
    """A text article's bytes as text: UTF-8 (a byte-order mark allowed); anything else is refused
    rather than guessed, since a wrong guess would shift every score."""
    if b"\x00" in data[:8192]:
        raise ConfigError(f"{path}: {what} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                          f"save it as UTF-8") from None
