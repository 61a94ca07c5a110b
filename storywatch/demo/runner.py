"""`storywatch demo`: serve the sample site, run the real flow twice, print what happened."""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from storywatch.demo.story_folder import write_story
from storywatch.demo.sample_site import DemoSite, serve
from storywatch.errors import ConfigError
from storywatch.extractors.story import load_story, packaged_stories
from storywatch.flows.monitor import run_pass
from storywatch.flows.rejudge import explain_article
from storywatch.render.console import render_coverage, render_summary

DEFAULT_DEMO_DB = Path("storywatch-data/demo.duckdb")
DEMO_FETCH = """
[fetch]
retries = 0
timeout_seconds = 10
min_interval_seconds = 0  # the demo's one loopback host stands for many outlets
"""


SEED_STORY = "meta-open-models"  # the packaged story the demo follows


def demo_settings(seed_story: Path) -> str:
    """The seed story's story.toml, reading feeds.txt and with the demo's fetch settings."""
    config = (seed_story / "story.toml").read_text("utf-8")
    return config.replace('feeds = "feeds.opml"', 'feeds = "feeds.txt"').split("[fetch]")[0] + DEMO_FETCH


def run_demo(db: Path, console: Console) -> None:
    from storywatch.warehouse.store import Warehouse
    from storywatch.warehouse.views import EXAMPLE_QUERY

    if db.exists() and db.resolve() != DEFAULT_DEMO_DB.resolve():
        raise ConfigError(f"{db}: exists; the demo writes a fresh file, give a new path")
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    seed_story = packaged_stories()[SEED_STORY]
    seeds = load_story(seed_story).seeds
    server, site = serve(lambda base: DemoSite(seeds, base))
    try:
        with tempfile.TemporaryDirectory(prefix="storywatch-demo-") as tmp:
            story = write_story(Path(tmp), seed_story, site.feed_urls(), demo_settings(seed_story), counter_examples=True)
            console.print(f"[bold]Sample news site[/bold] on {site.base} with {len(site.feed_urls())} feeds "
                          f"and {len(site.pages)} articles.")
            for phase in (1, 2):
                site.set_phase(phase)
                if phase == 2:
                    console.print("\n[bold]Second pass[/bold]: one new article, one article edited, other feeds unchanged (304).")
                with console.status(f"pass {phase}: polling feeds, fetching and judging…"):
                    result = run_pass(story, db, allow_private_hosts=True, fresh=phase == 1)  # a new file, on purpose
                render_summary(console, result, title=f"pass {phase}")
            with Warehouse.open(db, read_only=True) as wh:
                render_coverage(console, wh.coverage(result["story"]), result["story"])
                near_miss = next(iter(wh.near_misses(result["story"], 1)), None)
            if near_miss:
                console.print(f"\n[bold]Why was the closest article left out?[/bold] "
                              f"storywatch explain --story {SEED_STORY} {near_miss[0]}", soft_wrap=True, highlight=False)
                for line in explain_article(story, db, near_miss[0]):
                    console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)
    finally:
        server.close()
    python, path = shlex.quote(sys.executable), shlex.quote(str(db.resolve()))
    console.print(f"\nThe story over time: [bold]{python} -m storywatch report --story {SEED_STORY} --db {path}[/bold]",
                  soft_wrap=True, highlight=False)
    console.print(f"Query it: [bold]{python} -c \"import duckdb; print(duckdb.connect({str(db.resolve())!r}, read_only=True)"
                  f".sql('{EXAMPLE_QUERY}'))\"[/bold]", soft_wrap=True, highlight=False)
