"""Console output (rich): the one-screen pass summary, the coverage table and `storywatch report`'s
tables of the story over time."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from storywatch.collection import Health, silence_warning
from storywatch.models import Verdict
from storywatch.render.page import when


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
        ("alerts queued / sent this pass", f"{result['alerts_queued']} / {result['alerts_sent']}"),
        ("alerts waiting (retry, quiet hours) / failed for good / unknown",
         f"{result['alerts_pending']} / {result['alerts_given_up']} / {result['alerts_unknown']}"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    warning = silence_warning(result)
    if warning:
        console.print(f"[yellow]{warning}[/yellow]")
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


def render_digest(console: Console, digest: list[dict]) -> None:
    """The story's key developments by day, newest first: what changed, who said it first, how
    many outlets repeated it."""
    table = Table(title=f"what changed — {len(digest)} key developments, newest first", title_justify="left")
    table.add_column("day", no_wrap=True)
    table.add_column("first reported by", no_wrap=True)
    table.add_column("development", overflow="fold")
    table.add_column("repeated", justify="right")
    for d in digest:
        edit = " (edit)" if d["version"] > 1 else ""
        table.add_row(d["day"].isoformat(), f"{d['first_outlet'] or ''}{edit}", d["sentence"],
                      f"{d['repeats']}" if d["repeats"] else "—")
    console.print(table)


def render_collection(console: Console, health: Health) -> None:
    """The feeds failing or backing off, with their last good poll, and the days with fewer
    feeds answering than usual: a quiet story may be a quiet collection."""
    troubled, low = health.troubled, health.low
    if not troubled and not low:
        console.print(f"collection: all {health.feeds} feeds answered their last poll; no day was short of feeds")
        return
    console.print(f"[yellow]collection: {len(troubled)} of {health.feeds} feeds failing or backing off; "
                  f"{len(low)} day(s) with fewer feeds answering than usual: silence may be a failure[/yellow]")
    if low:
        console.print("  short days: " + ", ".join(f"{d.day.isoformat()} ({d.answered}/{d.polled})" for d in low))
    table = Table(title="feeds failing or backing off", title_justify="left")
    for name in ("feed", "state", "failures", "last good poll", "last error"):
        table.add_column(name, overflow="fold")
    for f in troubled:
        table.add_row(f["feed"], f["state"], str(f["consecutive_failures"]), when(f["last_ok_at"]), f["last_error"] or "")
    console.print(table)


def render_report(console: Console, title: str, data: dict, health: Health) -> None:
    render_collection(console, health)
    render_digest(console, data["digest"])
    daily = Table(title=f"{title} — coverage by day", title_justify="left")
    for name in ("day", "new", "syndicated", "seed copies", "updates", "outlets", "new outlets", "developments"):
        daily.add_column(name, justify="left" if name == "day" else "right")
    for r in data["daily"]:
        daily.add_row(r["day"].isoformat(), *(str(r[k]) for k in ("new", "syndicated", "seed_copies", "updates",
                                                                   "outlets", "new_outlets", "developments")))
    console.print(daily)
    firsts = Table(title="first reports (facts nobody had reported before)", title_justify="left")
    for name in ("fact", "kind", "outlet", "reported", "time from"):
        firsts.add_column(name)
    for f in data["first_reports"][:25]:
        firsts.add_row(f["fact"], f["kind"], f["outlet"] or "", when(f["reported_at"]),
                       "publication" if f["reported_at_source"] == "published" else "first seen")
    console.print(firsts)
    near = Table(title="near misses (judged off the story; `storywatch label URL --on` if wrong)", title_justify="left")
    for name in ("relevance", "article", "why"):
        near.add_column(name, overflow="fold")
    for m in data["near_misses"]:
        near.add_row(f"{m['relevance']:.2f}", f"{m['title'] or m['url']} ({m['outlet'] or ''})\n{m['url']}", m["reason"])
    console.print(near)
    edited = Table(title="most edited", title_justify="left")
    for name in ("article", "outlet", "versions", "last change"):
        edited.add_column(name, overflow="fold")
    for a in data["edited"][:10]:
        edited.add_row(a["title"] or a["url"], a["outlet"] or "", str(a["versions"]), a["summary"])
    console.print(edited)
    keys = sum(1 for d in data["developments"] if d["key"])
    console.print(f"[dim]{len(data['developments'])} developments in all, {keys} key "
                  f"(the `developments` and `key_developments` views)[/dim]")
