"""`storywatch demo`: serve the sample site, run the real flow twice, print what happened."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rich.console import Console

from storywatch.demo.site import DemoSite, serve
from storywatch.errors import ConfigError
from storywatch.story import load_story
from storywatch.summary import render_coverage, render_summary

SEED_STORY = Path(__file__).resolve().parents[2] / "seeds" / "meta-open-models"
DEFAULT_DEMO_DB = Path("storywatch-data/demo.duckdb")
DEMO_FETCH = """
[fetch]
retries = 0
timeout_seconds = 10
"""


def prepare_story(folder: Path, feed_urls: list[str]) -> Path:
    """A copy of the seed story whose feeds file lists the local site's feeds."""
    story = folder / "meta-open-models"
    story.mkdir(parents=True)
    for seed in SEED_STORY.iterdir():
        if seed.suffix in (".txt", ".md", ".html"):
            shutil.copy(seed, story / seed.name)
    config = (SEED_STORY / "story.toml").read_text("utf-8")
    config = config.replace('feeds = "feeds.opml"', 'feeds = "feeds.txt"').split("[fetch]")[0] + DEMO_FETCH
    (story / "story.toml").write_text(config, "utf-8")
    (story / "feeds.txt").write_text("# the demo site's feeds\n" + "\n".join(feed_urls) + "\n", "utf-8")
    return story


def run_demo(db: Path, console: Console) -> None:
    from storywatch.cli import run_pass
    from warehouse.store import Warehouse
    from warehouse.views import EXAMPLE_QUERY

    if db.exists() and db.resolve() != DEFAULT_DEMO_DB.resolve():
        raise ConfigError(f"{db}: exists; the demo writes a fresh file, give a new path")
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if not SEED_STORY.is_dir():
        raise ConfigError(f"{SEED_STORY}: seed story folder not found")
    seeds = load_story(SEED_STORY, SEED_STORY / "feeds.opml").seeds
    server, site = serve(lambda base: DemoSite(seeds, base))
    try:
        with tempfile.TemporaryDirectory(prefix="storywatch-demo-") as tmp:
            story = prepare_story(Path(tmp), site.feed_urls())
            console.print(f"[bold]Sample news site[/bold] on {site.base} with {len(site.feed_urls())} feeds "
                          f"and {len(site.pages)} articles.")
            for phase in (1, 2):
                site.set_phase(phase)
                if phase == 2:
                    console.print("\n[bold]Second pass[/bold]: one new article, one article edited, other feeds unchanged (304).")
                with console.status(f"pass {phase}: polling feeds, fetching and judging…"):
                    result = run_pass(story, db, allow_private_hosts=True)
                render_summary(console, result, title=f"pass {phase}")
            with Warehouse.open(db, read_only=True) as wh:
                render_coverage(console, wh.coverage(result["story"]), result["story"])
    finally:
        server.shutdown()
    console.print(f"\nQuery it: [bold]python -c \"import duckdb; print(duckdb.connect('{db}', read_only=True)"
                  f".sql('{EXAMPLE_QUERY}'))\"[/bold]", soft_wrap=True)
