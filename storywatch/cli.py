"""The `storywatch` command: `run` one pass for a story, or `demo` the whole path locally."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

# Prefect with no server configured starts a temporary one; give it time to start on a slow
# machine and keep it from phoning home. Set before Prefect is imported; users may override.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from storywatch.errors import StorywatchError  # noqa: E402

HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(help="Follow one news story across feeds and record its coverage in DuckDB.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, context_settings=HELP,
                  rich_markup_mode=None)
console = Console()
if not console.is_terminal:  # piped or captured output: keep tables readable
    console = Console(width=120)
DEFAULT_DB = "storywatch-data/storywatch.duckdb"


alerts_app = typer.Typer(help="Alert channels.", no_args_is_help=True, context_settings=HELP)
app.add_typer(alerts_app, name="alerts")
feeds_app = typer.Typer(help="The story's feeds.", no_args_is_help=True, context_settings=HELP)
app.add_typer(feeds_app, name="feeds")


def _version(value: bool) -> None:
    if value:
        from storywatch import __version__

        console.print(f"storywatch {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Follow one news story across feeds and record its coverage in DuckDB."""


def _stop_on_signals(what: str, db: Path) -> None:
    """Ctrl-C or SIGTERM stops at once, in one line, with a non-zero exit. Nothing of an
    unfinished pass is kept (a pass is written in one transaction at its end); the watchdog
    (storywatch.flows.lifeline) stops every process this one started and marks the run
    `interrupted`, and the database is free as soon as this process is gone.

    A Python signal handler runs only when the main thread next runs Python, which a pass
    waiting inside a C call (a lock, a socket) may not do for a long while. The signal's number
    is also written to a wake-up pipe the moment it arrives, whichever thread takes it, and a
    thread of ours reading that pipe stops the process."""
    import threading

    from storywatch.flows import lifeline

    if not _OWN_PROCESS:  # called in-process (a test's CliRunner): the signals are not ours to take
        return
    lifeline.start(db)

    once = threading.Lock()

    def stop(signum: int) -> None:
        if not once.acquire(blocking=False):
            return  # the handler and the wake-up thread may both see one signal
        sys.stderr.write(f"{what} interrupted by {signal.Signals(signum).name}: stopping; "
                         f"nothing of an unfinished pass is saved ({db})\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stop(signum))
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def wait() -> None:
        while True:  # the pipe carries every signal that has a Python handler: act on ours only
            number = os.read(read_end, 1)[0]
            if number in (signal.SIGINT, signal.SIGTERM):
                stop(number)

    threading.Thread(target=wait, name="storywatch-signals", daemon=True).start()


RUNNER_HELP = "Where a pass's tasks run: threads | dask (a local cluster of processes) | dask://HOST:PORT."


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def run(
    story: Path = typer.Option(..., "--story", help="Story folder: seed articles + story.toml."),
    feeds: Path | None = typer.Option(None, "--feeds", help="Feeds file (OPML or one URL a line); overrides story.toml."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file to write."),
    allow_private_hosts: bool = typer.Option(False, "--allow-private-hosts/--no-allow-private-hosts", help="Allow fetching loopback/private addresses."),
    wait: float = typer.Option(30.0, "--wait", help="Seconds to wait for another pass holding the database."),
    runner: str = typer.Option("threads", "--task-runner", help=RUNNER_HELP),
    new_db: bool = typer.Option(False, "--new-db", help="Start a new database file where earlier passes wrote one "
                                "that is gone (by default that is refused: everything would alert again)."),
) -> None:
    """Run one monitoring pass and print its summary."""
    from storywatch.alerts import resolve_channels
    from storywatch.flows.monitor import refuse_if_vanished, run_pass
    from storywatch.flows.runners import task_runner
    from storywatch.extractors.story import load_story
    from storywatch.render.console import render_summary
    from storywatch.warehouse.store import Warehouse

    try:
        # Fail fast, with one line, before Prefect starts: bad story folder or alert channel,
        # database held by another pass beyond `wait` seconds. The file stays held until the
        # pass ends (the flow's connection in this process shares it), so a `storywatch run`
        # started at the same moment waits or stops here, never inside the flow.
        resolve_channels(load_story(story, feeds).config.alerts, os.environ)
        task_runner(runner)  # a bad --task-runner is one line before anything starts
        _stop_on_signals("storywatch run", db)
        if not new_db:
            refuse_if_vanished(db)  # before opening it would make an empty file in its place
        waiting = lambda: console.print(f"waiting up to {wait:g}s for {db}: in use by another storywatch process",  # noqa: E731
                                        highlight=False, soft_wrap=True)
        with Warehouse.open(db, wait_seconds=wait, on_wait=waiting), \
                console.status("polling feeds, fetching and judging articles…"):
            result = run_pass(story, db, feeds, allow_private_hosts, wait, runner, fresh=new_db)
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


@app.command()
def serve(
    story: list[Path] = typer.Option(..., "--story", help="Story folder (repeat for several stories)."),
    every: str | None = typer.Option(None, "--every", help="Interval such as 30m, 2h, 90s (default 30m)."),
    cron: str | None = typer.Option(None, "--cron", help="Cron expression, e.g. '*/30 * * * *' (UTC)."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file all stories write to."),
    allow_private_hosts: bool = typer.Option(False, "--allow-private-hosts/--no-allow-private-hosts", help="Allow fetching loopback/private addresses."),
    feeds: Path | None = typer.Option(None, "--feeds", help="Feeds file (OPML or one URL a line) for the one --story; overrides story.toml."),
    wait: float = typer.Option(300.0, "--wait", help="Seconds a pass waits for another pass holding the database."),
    runner: str = typer.Option("threads", "--task-runner", help=RUNNER_HELP),
) -> None:
    """Run each story's pass on a schedule until stopped (Prefect `serve`; no work pool needed)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from storywatch.flows.serve import deployments_for, local_prefect_server
    from storywatch.extractors.story import load_story

    try:
        stories = [load_story(folder, feeds) for folder in story]
        deployments = deployments_for(stories, db, every, cron, allow_private_hosts, wait, feeds, runner)  # before a server starts
        _stop_on_signals("storywatch serve", db)
        if PREFECT_API_URL.value():
            _serve_fresh(deployments)
            return
        home = db.resolve().parent / "prefect"
        console.print(f"Starting a local Prefect server (state in {home}) …")
        with local_prefect_server(home) as api, temporary_settings(updates={PREFECT_API_URL: api}):
            console.print(f"Prefect UI: {api.removesuffix('/api')}")
            _serve_fresh(deployments)
    except (StorywatchError, ValueError) as exc:
        fail(str(exc))


def _serve_fresh(deployments: list) -> None:
    """Prefect `serve`, after clearing what an earlier `serve` left: runs scheduled and never
    started, runs left unfinished."""
    from prefect import serve as prefect_serve

    from storywatch.flows.serve import clear_leftovers

    dropped, crashed = clear_leftovers(deployments)
    if dropped:
        console.print(f"dropped {dropped} pass(es) left scheduled by an earlier serve")
    if crashed:
        console.print(f"marked {crashed} pass(es) an earlier serve left unfinished as crashed")
    prefect_serve(*deployments)


@app.command()
def report(
    story: Path = typer.Option(..., "--story", help="Story folder."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file to read."),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report here (and a PNG chart beside it)."),
    since: str | None = typer.Option(None, "--since", help="Only coverage from this date on (YYYY-MM-DD)."),
) -> None:
    """Show how the story developed: coverage by day, developments, first reports, edits."""
    from datetime import date, datetime, timezone

    from storywatch.collection import collection_health
    from storywatch.render.console import render_report
    from storywatch.render.page import chart, render_html
    from storywatch.extractors.story import load_story
    from storywatch.warehouse.store import Warehouse

    try:
        loaded = load_story(story)
        start = date.fromisoformat(since) if since else None
        if not db.exists():
            fail(f"{db}: no such database (run a pass first)")
        with Warehouse.open(db, read_only=True) as wh:
            if not wh.has_story(loaded.slug):
                fail(f"{db}: no pass of story {loaded.slug!r} in it (run one first, or give the --db it wrote)")
            data = wh.report(loaded.slug, start)
    except ValueError:
        fail(f"--since {since!r}: expected a date as YYYY-MM-DD")
    except StorywatchError as exc:
        fail(str(exc))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    health = collection_health(data["collection"], data["feeds"], now)
    render_report(console, loaded.config.title, data, health)
    if html:
        svg, png = chart(data["daily"], loaded.config.title, health.low_days)
        png_path = html.with_suffix(".png")
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(loaded.config.title, data, health, svg, png_path.name, now), encoding="utf-8")
        png_path.write_bytes(png)
        console.print(f"wrote {html} and {png_path}")


@app.command()
def label(
    url: str = typer.Argument(..., help="The article's URL (as stored, or any variant of it)."),
    story: Path = typer.Option(..., "--story", help="Story folder."),
    on: bool | None = typer.Option(None, "--on/--off", help="The article is (--on) or is not (--off) coverage of the story."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file."),
    wait: float = typer.Option(30.0, "--wait", help="Seconds to wait for a pass holding the database."),
) -> None:
    """Record a person's verdict on one stored article: it keeps that verdict, and its text counts
    as a seed (--on) or a counter-example (--off) from the next pass or rescore on."""
    from storywatch.flows.rejudge import label_article

    if on is None:
        fail("say --on (it is coverage of the story) or --off (it is not)")
    try:
        change = label_article(story, db, url, on, wait)
    except StorywatchError as exc:
        fail(str(exc))
    side = "on-story" if on else "off-story"
    if change is None:
        console.print(f"labelled {side}: {url} (verdict unchanged)", highlight=False)
    else:
        console.print(f"labelled {side}: {url} ({change.stored.judgment.verdict.value} -> {change.judgment.verdict.value})",
                      highlight=False)
    console.print("Run `storywatch rescore` to judge the other stored articles with this label.", highlight=False)


@app.command()
def rescore(
    story: Path = typer.Option(..., "--story", help="Story folder."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file."),
    wait: float = typer.Option(30.0, "--wait", help="Seconds to wait for a pass holding the database."),
) -> None:
    """Judge every stored article again, offline, after seeds, not/, labels or settings changed.
    Changed verdicts keep their previous value in verdict_changes; newly new coverage alerts once."""
    from storywatch.flows.rejudge import rescore_story

    try:
        changes, judged = rescore_story(story, db, wait)
    except StorywatchError as exc:
        fail(str(exc))
    moved = [c for c in changes if c.judgment.verdict != c.stored.judgment.verdict]
    console.print(f"re-judged {judged} stored articles: {len(moved)} verdicts changed, "
                  f"{len(changes) - len(moved)} scores or reasons updated", highlight=False)
    for c in moved:
        console.print(f"  {c.stored.judgment.verdict.value} -> {c.judgment.verdict.value}  "
                      f"{c.judgment.relevance:.2f}  {c.stored.title or c.stored.url}", highlight=False, soft_wrap=True)


@app.command()
def explain(
    url: str = typer.Argument(..., help="The article's URL (as stored, or any variant of it)."),
    story: Path = typer.Option(..., "--story", help="Story folder."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file to read."),
) -> None:
    """Say why one stored article is in or out of the story: score and rule, terms, nearest seed."""
    from storywatch.flows.rejudge import explain_article

    try:
        lines = explain_article(story, db, url)
    except StorywatchError as exc:
        fail(str(exc))
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True, markup=False)


@app.command()
def feed(
    story: Path = typer.Option(..., "--story", help="Story folder."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file to read."),
) -> None:
    """Print the story's coverage as an Atom feed (each pass also writes it to <story>.atom beside the database)."""
    from storywatch.extractors.story import load_story
    from storywatch.flows.outputs import coverage_feed
    from storywatch.warehouse.store import Warehouse

    try:
        loaded = load_story(story)
        if not db.exists():
            fail(f"{db}: no such database (run a pass first)")
        with Warehouse.open(db, read_only=True) as wh:
            xml = coverage_feed(wh, loaded)
    except StorywatchError as exc:
        fail(str(exc))
    sys.stdout.write(xml.decode("utf-8") + "\n")


@app.command()
def export(
    story: Path = typer.Option(..., "--story", help="Story folder."),
    what: str = typer.Option("coverage", "--what", help="coverage | judgments | developments | timeline (the views)."),
    fmt: str = typer.Option("csv", "--format", help="csv | parquet | jsonl"),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file to read."),
    since: str | None = typer.Option(None, "--since", help="Only rows from this date on (YYYY-MM-DD)."),
    out: Path | None = typer.Option(None, "--out", help="File to write (default: <story>-<what>.<format> here)."),
) -> None:
    """Write a view of the story to CSV, Parquet or JSON lines, streamed by DuckDB's COPY."""
    from datetime import date

    from storywatch.extractors.story import load_story
    from storywatch.warehouse.store import EXPORTS, Warehouse

    if what not in EXPORTS:
        fail(f"--what {what!r}: expected one of {', '.join(EXPORTS)}")
    if fmt not in ("csv", "parquet", "jsonl"):
        fail(f"--format {fmt!r}: expected csv, parquet or jsonl")
    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        fail(f"--since {since!r}: expected a date as YYYY-MM-DD")
    try:
        loaded = load_story(story)
        if not db.exists():
            fail(f"{db}: no such database (run a pass first)")
        target = out or Path(f"{loaded.slug}-{what}.{fmt}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with Warehouse.open(db, read_only=True) as wh:
            rows = wh.export(loaded.slug, what, fmt, target, start)
    except StorywatchError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")
    console.print(f"wrote {rows} rows of {what} to {target}", highlight=False)


@feeds_app.command("suggest")
def feeds_suggest(
    story: Path = typer.Option(..., "--story", help="Story folder."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="DuckDB file whose key developments may bring new names."),
    write: bool = typer.Option(False, "--write", help="Append the suggested feeds to the story's feeds file."),
) -> None:
    """Google News and Bing News search feeds built from the story's heaviest terms, with why,
    and which of the story's search feeds they supersede."""
    from storywatch.extractors.feedlist import append_feeds
    from storywatch.extractors.story import load_story
    from storywatch.relevance import StoryProfile
    from storywatch.suggest import story_queries, suggestions, superseded
    from storywatch.warehouse.store import Warehouse

    try:
        loaded = load_story(story)
        profile = StoryProfile.from_seeds(list(loaded.seeds.values()), list(loaded.counter_examples.values()))
        names = []
        if db.exists():
            with Warehouse.open(db, read_only=True) as wh:
                names = wh.new_names(loaded.slug) if wh.has_story(loaded.slug) else []
        queries = story_queries(profile, names)
        found = suggestions(queries)
        named = sum(q.from_coverage for q in queries)
        print(f"news-search feeds for {loaded.slug}, from its heaviest terms"
              + (f" and {named} name(s) its coverage brought in" if named else "") + ":")
        for s in found:
            print(f"  {s.engine:<12} {s.url}\n  {'':<12} {s.query.text}: {s.query.reason}")
        for old in superseded([f.url for f in loaded.feeds], queries, profile):
            print(f"superseded: {old.url} ({old.query}) -> {old.by}: {old.reason}")
        if write:
            feeds_file = loaded.folder / loaded.config.feeds
            added = append_feeds(feeds_file, [(s.url, f"{s.engine}: {s.query.text} ({s.query.reason})") for s in found])
            print(f"added {added} feed(s) to {feeds_file}" if added else f"{feeds_file} already lists them all")
    except StorywatchError as exc:
        fail(str(exc))


@alerts_app.command("test")
def alerts_test(story: Path = typer.Option(..., "--story", help="Story folder whose channels to test.")) -> None:
    """Send a test message to every configured channel and report each result."""
    from storywatch.flows.alerts import send
    from storywatch.alerts import Message, resolve_channels
    from storywatch.extractors.story import load_story

    try:
        loaded = load_story(story)
        channels = resolve_channels(loaded.config.alerts, os.environ)
    except StorywatchError as exc:
        fail(str(exc))
    if not channels:
        fail(f"{story}: no alert channels configured (story.toml [alerts] or ${loaded.config.alerts.channels_env})")
    message = Message(f"storywatch test: {loaded.config.title}", "This is a test alert from storywatch.", ())
    failures = 0
    for channel in channels:
        error = send(channel, message)
        failures += error is not None
        console.print(f"{channel.label}: " + ("[green]sent[/green]" if error is None else f"[red]failed[/red] {error}"),
                      highlight=False)
    raise typer.Exit(1 if failures else 0)


_OWN_PROCESS = False


def entry() -> None:
    """The `storywatch` command (and `python -m storywatch`): the process is ours, so are its
    signals and the processes it starts."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    app()


if __name__ == "__main__":
    entry()
