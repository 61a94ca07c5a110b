"""Console output: the one-screen run summary and the coverage table (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from storywatch.models import Verdict


def render_summary(console: Console, result: dict, title: str = "storywatch pass") -> None:
    """Print a pass's counts: feeds, entries, pages, and the verdicts."""
    v = result["verdicts"]
    table = Table(title=f"{title} — {result['story']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("feeds polled", result["feeds"]),
        ("  not modified", result["feeds_not_modified"]),
        ("  failed", result["feeds_failed"]),
        ("  backing off (not polled)", result["feeds_deferred"]),
        ("  failing 3+ polls in a row", result["feeds_long_failing"]),
        ("entries seen / new", f"{result['entries_seen']} / {result['entries_new']}"),
        ("pages fetched", result["pages_fetched"]),
        ("extracted from page", result["extracted"]),
        ("on-story", sum(v[k.value] for k in (Verdict.NEW, Verdict.SYNDICATED, Verdict.SEED_COPY))),
        ("  new", v["new"]),
        ("  syndicated", v["syndicated"]),
        ("  seed copies", v["seed_copy"]),
        ("updates (edited articles)", result["updates"]),
        ("off-topic", v["off_topic"]),
        ("no text / fetch failed / blocked", f"{v['no_text']} / {v['fetch_failed']} / {v['blocked']}"),
        ("alerts queued / sent / failed", f"{result['alerts_queued']} / {result['alerts_sent']} / {result['alerts_failed']}"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    console.print(f"[dim]run {result['run_id']} → {result['db_path']}[/dim]")


def render_coverage(console: Console, rows: list[dict], story: str) -> None:
    table = Table(title=f"coverage — {story}", title_justify="left")
    table.add_column("published", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("outlet", no_wrap=True)
    table.add_column("title", no_wrap=True, overflow="ellipsis", max_width=44)
    table.add_column("relevance", justify="right")
    table.add_column("versions", justify="right")
    for row in rows:
        published = row["published_at"].strftime("%Y-%m-%d") if row["published_at"] else "—"
        table.add_row(published, row["verdict"], row["outlet"] or "", (row["title"] or "")[:70],
                      f"{row['relevance']:.2f}", str(row["versions"]))
    console.print(table)
