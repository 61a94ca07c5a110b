"""The `storywatch` command: `run` one pass for a story, or `demo` the whole path locally."""

from __future__ import annotations

import os
from pathlib import Path

# Prefect with no server configured starts a temporary one; give it time to start on a slow
# machine and keep it from phoning home. Set before Prefect is imported; users may override.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from storywatch.errors import StorywatchError  # noqa: E402

app = typer.Typer(help="Follow one news story across feeds and record its coverage in DuckDB.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()
if not console.is_terminal:  # piped or captured output: keep tables readable
    console = Console(width=120)
DEFAULT_DB = "storywatch-data/storywatch.duckdb"


def run_pass(story: Path, db: Path, feeds: Path | None = None, allow_private_hosts: bool = False) -> dict:
    """Run `monitor_story` once, with the per-run heartbeat thread off (it costs ~1 s a run)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.monitor import monitor_story

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return monitor_story(
            story_dir=str(story), db_path=str(db), feeds_file=str(feeds) if feeds else None,
            allow_private_hosts=allow_private_hosts,
        )


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def run(
    story: Path = typer.Option(..., "--story", help="Story folder: seed articles + story.toml."),
    feeds: Path | None = typer.Option(None, "--feeds", help="Feeds file (OPML or one URL a line); overrides story.toml."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file to write."),
    allow_private_hosts: bool = typer.Option(False, "--allow-private-hosts", help="Allow fetching loopback/private addresses."),
) -> None:
    """Run one monitoring pass and print its summary."""
    from storywatch.story import load_story
    from storywatch.summary import render_summary
    from warehouse.store import Warehouse

    try:
        # Fail fast, with one line, before Prefect starts: bad story folder, locked database.
        load_story(story, feeds)
        Warehouse.open(db).close()
        with console.status("polling feeds, fetching and judging articles…"):
            result = run_pass(story, db, feeds, allow_private_hosts)
    except StorywatchError as exc:
        fail(str(exc))
    render_summary(console, result)


@app.command()
def demo(
    db: Path = typer.Option(Path("storywatch-data/demo.duckdb"), "--db", help="DuckDB file for the demo (made afresh)."),
) -> None:
    """Serve a bundled sample news site on 127.0.0.1 and run two real passes against it."""
    from storywatch.demo.runner import run_demo

    try:
        run_demo(db, console)
    except StorywatchError as exc:
        fail(str(exc))


if __name__ == "__main__":
    app()
