"""`storywatch report --html`: the story over time as one self-contained HTML
page (inline CSS and SVG chart, no network needed to open it) with a PNG of the chart beside it
for e-mail and chat. Reads only what `Warehouse.report` returns."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storywatch.collection import Health

MAX_DEVELOPMENTS_SHOWN = 200
MAX_PER_OUTLET = 50  # articles listed under one outlet; the rest are counted
WEEKLY_AFTER_DAYS = 60  # a longer story is charted by week


@dataclass(frozen=True)
class Bins:
    weekly: bool
    starts: list[date]  # every day (or Monday) from the first with data to the last, gaps included
    new: list[int]
    syndicated: list[int]
    new_outlets: list[int]


def chart_bins(daily: list[dict]) -> Bins:
    """`daily_coverage` rows (days with coverage only) as the chart's bars: one per day from the
    first to the last, empty days included, or one per week for a story over WEEKLY_AFTER_DAYS."""
    if not daily:
        return Bins(False, [], [], [], [])
    first, last = daily[0]["day"], daily[-1]["day"]
    weekly = (last - first).days > WEEKLY_AFTER_DAYS
    start_of = (lambda d: d - timedelta(days=d.weekday())) if weekly else (lambda d: d)
    step = 7 if weekly else 1
    starts = [start_of(first) + timedelta(days=step * i) for i in range((start_of(last) - start_of(first)).days // step + 1)]
    index = {d: i for i, d in enumerate(starts)}
    new, syndicated, outlets = [0] * len(starts), [0] * len(starts), [0] * len(starts)
    for row in daily:
        i = index[start_of(row["day"])]
        new[i] += row["new"]
        syndicated[i] += row["syndicated"]
        outlets[i] += row["new_outlets"]
    return Bins(weekly, starts, new, syndicated, outlets)


def chart(daily: list[dict], title: str, low_days: frozenset[date] = frozenset()) -> tuple[str, bytes]:
    """Coverage per day (per week past WEEKLY_AFTER_DAYS), new vs syndicated stacked, days with new
    outlets marked, days on which fewer feeds answered than usual shaded: (SVG, PNG). The axis
    runs from the first day with data to the last, ticks fall on days or weeks, never hours."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # labels stay text in the SVG: smaller, searchable, selectable
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    bins = chart_bins(daily)
    width = 7 if bins.weekly else 1
    x = [datetime.combine(b, datetime.min.time()) for b in bins.starts]
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=110)
    for day in sorted(low_days):
        ax.axvspan(datetime.combine(day, datetime.min.time()) - timedelta(hours=12),
                   datetime.combine(day, datetime.min.time()) + timedelta(hours=12), color="#f4d6d2", lw=0,
                   label="fewer feeds answered" if day == min(low_days) else None)
    ax.bar(x, bins.new, width=0.8 * width, color="#1f6feb", label="new")
    ax.bar(x, bins.syndicated, width=0.8 * width, bottom=bins.new, color="#9ab8e8", label="syndicated")
    for at, n, s, outlets in zip(x, bins.new, bins.syndicated, bins.new_outlets):
        if outlets:
            ax.annotate(f"+{outlets} outlet{'s' if outlets > 1 else ''}", (at, n + s), textcoords="offset points",
                        xytext=(0, 9), ha="center", fontsize=8, color="#b3261e")
            ax.plot([at], [n + s], marker="v", color="#b3261e", markersize=6, linestyle="none")
    if x:
        ax.set_xlim(x[0] - timedelta(days=0.6 * width), x[-1] + timedelta(days=0.6 * width))
    span = (x[-1] - x[0]).days if x else 0
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO) if bins.weekly or span > 14
                               else mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.set_title(title + (" (by week)" if bins.weekly else ""), fontsize=11, loc="left")
    ax.set_ylabel("articles a week" if bins.weekly else "articles a day")
    top = max((n + s for n, s in zip(bins.new, bins.syndicated)), default=1)
    ax.set_ylim(0, top * 1.3 + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", frameon=False, fontsize=8, ncols=3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    svg, png = io.StringIO(), io.BytesIO()
    fig.savefig(svg, format="svg")
    fig.savefig(png, format="png")
    plt.close(fig)
    return svg.getvalue().split("?>", 1)[-1], png.getvalue()


def when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value.isoformat()


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def render_html(title: str, data: dict, health: Health, svg: str, png_name: str, now: datetime) -> str:
    """One self-contained page: summary, chart, collection health, developments by day, first
    reports, near misses, edits, coverage by outlet. `now`: naive UTC, when it was made."""
    coverage, devs = data["coverage"], data["developments"]
    counts = {v: sum(1 for c in coverage if c["verdict"] == v) for v in ("new", "syndicated", "seed_copy")}
    outlets = len({c["outlet"] for c in coverage if c["verdict"] != "seed_copy"})
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)} — storywatch</title>",
        "<style>body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;"
        "padding:0 1em;color:#1b1f24}h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}"
        ".kpi{display:flex;gap:1.5em;flex-wrap:wrap;margin:1em 0}.kpi div{background:#f3f6fa;padding:.6em 1em;border-radius:6px}"
        ".kpi b{display:block;font-size:1.4em}table{border-collapse:collapse;width:100%;font-size:.92em}"
        "td,th{text-align:left;padding:.35em .5em;border-bottom:1px solid #eee;vertical-align:top}"
        ".fact{display:inline-block;background:#fff4d6;border-radius:4px;padding:0 .35em;margin:0 .2em .2em 0;font-size:.85em}"
        ".day{color:#57606a;white-space:nowrap}.muted{color:#57606a}svg{max-width:100%;height:auto}"
        "details{margin:.3em 0}summary{cursor:pointer;padding:.2em 0}.warn{background:#fdecea;padding:.6em 1em;"
        "border-radius:6px}</style></head><body>",
        f"<h1>{_e(title)}</h1><p class='muted'>storywatch report · generated {when(now)} UTC</p>",
        "<div class='kpi'>"
        f"<div><b>{counts['new']}</b>new articles</div><div><b>{counts['syndicated']}</b>syndicated copies</div>"
        f"<div><b>{counts['seed_copy']}</b>seed copies</div><div><b>{outlets}</b>outlets</div>"
        f"<div><b>{len(devs)}</b>developments</div><div><b>{len(data['edited'])}</b>edited articles</div></div>",
        f"<h2>Coverage over time</h2>{svg}<p class='muted'>Bars: articles per publication day, new and syndicated. "
        "Red marks: days an outlet covered the story for the first time. Shaded: days on which fewer feeds "
        f"answered than usual. The chart is also in {_e(png_name)}.</p>",
        *_collection(health),
        "<h2>What changed</h2><p class='muted'>The story's key developments by day, newest first: claims neither "
        "the seeds nor earlier coverage made, the most salient of each article, with the outlet that reported each "
        f"first and how many other articles repeated it. All {len(devs)} developments are in the `developments` "
        "view.</p>",
        *_digest(data["digest"]),
    ]
    parts.append("<h2>First reports</h2><p class='muted'>Facts nobody had reported before, the seeds "
                 "included, with when: the article's publication time, or when storywatch first saw it.</p><table>"
                 "<tr><th>fact</th><th>kind</th><th>first reported by</th><th>when</th><th>in</th></tr>")
    for f in data["first_reports"]:
        source = "published" if f["reported_at_source"] == "published" else "first seen"
        parts.append(f"<tr><td><span class='fact'>{_e(f['fact'])}</span></td><td>{_e(f['kind'])}</td>"
                     f"<td>{_e(f['outlet'])}</td><td class='day'>{when(f['reported_at'])} <span class='muted'>({source})"
                     f"</span></td><td><a href='{_e(f['url'])}'>{_e(f['title'])}</a></td></tr>")
    parts.append("</table><h2>Near misses</h2><p class='muted'>The articles judged off the story that came closest, "
                 "with why. If one is coverage, <code>storywatch label --story … URL --on</code> says so.</p><table>"
                 "<tr><th>relevance</th><th>article</th><th>why</th></tr>")
    for m in data["near_misses"]:
        parts.append(f"<tr><td>{m['relevance']:.2f}</td><td><a href='{_e(m['url'])}'>{_e(m['title'] or m['url'])}</a> "
                     f"<span class='muted'>{_e(m['outlet'])}</span></td><td class='muted'>{_e(m['reason'])}</td></tr>")
    if not data["near_misses"]:
        parts.append("<tr><td colspan=3 class='muted'>Nothing was judged off the story.</td></tr>")
    parts.append("</table><h2>Most edited</h2><table><tr><th>article</th><th>outlet</th><th>versions</th>"
                 "<th>last change</th></tr>")
    for a in data["edited"]:
        parts.append(f"<tr><td><a href='{_e(a['url'])}'>{_e(a['title'])}</a></td><td>{_e(a['outlet'])}</td>"
                     f"<td>{a['versions']}</td><td>{_e(a['summary'])} <span class='muted'>{when(a['fetched_at'])}</span></td></tr>")
    if not data["edited"]:
        parts.append("<tr><td colspan=4 class='muted'>No edits seen yet.</td></tr>")
    parts.append("</table>")
    parts.extend(_by_outlet(coverage))
    parts.append("</body></html>")
    return "\n".join(parts)


def _collection(health: Health) -> list[str]:
    """Collection health: failing and backing-off feeds with their last good poll, and the days
    on which fewer feeds answered than usual, so silence is not taken for a lack of news."""
    troubled, low = health.troubled, health.low
    if not troubled and not low:
        return [f"<h2>Collection health</h2><p class='muted'>All {health.feeds} feeds answered their last poll, "
                "and no day had fewer feeds answering than usual.</p>"]
    parts = ["<h2>Collection health</h2><p class='warn'>"
             f"{len(troubled)} of {health.feeds} feeds are failing or backing off"
             + (f", and on {len(low)} day{'s' if len(low) > 1 else ''} fewer feeds answered than usual" if low else "")
             + ": a quiet stretch may be a collection failure, not a lack of news.</p>"]
    if low:
        parts.append("<p>Days with fewer feeds answering: " + ", ".join(
            f"{d.day.isoformat()} ({d.answered} of {d.polled} polls, {d.passes} pass{'es' if d.passes > 1 else ''})"
            for d in low) + "</p>")
    if troubled:
        parts.append("<table><tr><th>feed</th><th>state</th><th>failures in a row</th><th>last good poll</th>"
                     "<th>last error</th></tr>")
        parts.extend(f"<tr><td>{_e(f['title'] or f['feed'])}<br><span class='muted'>{_e(f['feed'])}</span></td>"
                     f"<td>{_e(f['state'])}</td><td>{f['consecutive_failures']}</td><td class='day'>{when(f['last_ok_at'])}</td>"
                     f"<td class='muted'>{_e(f['last_error'])}</td></tr>" for f in troubled)
        parts.append("</table>")
    return parts


def _digest(digest: list[dict]) -> list[str]:
    """Key developments collapsed by day, newest day open."""
    parts, days = [], {}
    for d in digest[:MAX_DEVELOPMENTS_SHOWN]:
        days.setdefault(d["day"], []).append(d)
    for n, (day, rows) in enumerate(days.items()):
        outlets = len({r["first_outlet"] for r in rows})
        parts.append(f"<details{' open' if n == 0 else ''}><summary><b>{_e(day.isoformat())}</b> · {len(rows)} "
                     f"development{'s' if len(rows) > 1 else ''} from {outlets} outlet{'s' if outlets > 1 else ''}"
                     "</summary><table>")
        for d in rows:
            edit = " · <b>edit</b>" if d["version"] > 1 else ""
            facts = "".join(f"<span class='fact'>{_e(f)}</span>" for f in d["facts"] or [])
            repeated = f"repeated by {d['repeats']}: {_e(', '.join(d['repeated_by']))}" if d["repeats"] else ""
            parts.append(f"<tr><td>{_e(d['first_outlet'])}{edit}<br><a href='{_e(d['url'])}' class='muted'>"
                         f"{_e(d['title'])}</a></td><td>{_e(d['sentence'])}<br>{facts}</td><td class='muted'>{repeated}</td></tr>")
        parts.append("</table></details>")
    if len(digest) > MAX_DEVELOPMENTS_SHOWN:
        parts.append(f"<p class='muted'>… {len(digest) - MAX_DEVELOPMENTS_SHOWN} more in the `key_developments` view</p>")
    if not digest:
        parts.append("<p class='muted'>No key developments yet.</p>")
    return parts


def _by_outlet(coverage: list[dict]) -> list[str]:
    """Per-outlet table (originals, copies of others, copies of it elsewhere), then each outlet's
    articles, folded, newest first; a copy links to what it copies."""
    outlets: dict[str, list[dict]] = {}
    for c in coverage:
        outlets.setdefault(c["outlet"] or "—", []).append(c)
    copied = {}
    for c in coverage:
        if c["verdict"] == "syndicated" and c["original_outlet"]:
            copied[c["original_outlet"]] = copied.get(c["original_outlet"], 0) + 1
    order = sorted(outlets, key=lambda o: (-len(outlets[o]), o))
    parts = ["<h2>Coverage by outlet</h2><p class='muted'>Originals are new coverage; copies repeat an earlier "
             "article (syndication) or a seed. \u201cCopied elsewhere\u201d counts other outlets' copies of this "
             "outlet's originals.</p><table><tr><th>outlet</th><th>originals</th><th>copies</th><th>seed copies</th>"
             "<th>copied elsewhere</th><th>first</th><th>last</th></tr>"]
    for outlet in order:
        rows = outlets[outlet]
        days = [c["published_at"] or c["first_seen_at"] for c in rows]
        count = lambda verdict: sum(1 for c in rows if c["verdict"] == verdict)  # noqa: E731
        parts.append(f"<tr><td>{_e(outlet)}</td><td>{count('new')}</td><td>{count('syndicated')}</td>"
                     f"<td>{count('seed_copy')}</td><td>{copied.get(outlet, 0)}</td><td class='day'>{when(min(days))}</td>"
                     f"<td class='day'>{when(max(days))}</td></tr>")
    parts.append("</table>")
    for outlet in order:
        rows = sorted(outlets[outlet], key=lambda c: c["published_at"] or c["first_seen_at"], reverse=True)
        parts.append(f"<details><summary>{_e(outlet)} · {len(rows)} article{'s' if len(rows) > 1 else ''}</summary><table>")
        for c in rows[:MAX_PER_OUTLET]:
            copy = ""
            if c["verdict"] == "syndicated" and c["original_url"]:
                copy = (f" <span class='muted'>copy of <a href='{_e(c['original_url'])}'>"
                        f"{_e(c['original_title'] or c['original_url'])}</a> ({_e(c['original_outlet'])})</span>")
            elif c["verdict"] == "seed_copy":
                copy = f" <span class='muted'>copy of seed {_e(c['duplicate_of'])}</span>"
            parts.append(f"<tr><td class='day'>{when(c['published_at'] or c['first_seen_at'])}</td>"
                         f"<td><a href='{_e(c['url'])}'>{_e(c['title'] or c['url'])}</a>{copy}</td>"
                         f"<td>{c['relevance']:.2f}</td></tr>")
        if len(rows) > MAX_PER_OUTLET:
            parts.append(f"<tr><td colspan=3 class='muted'>… {len(rows) - MAX_PER_OUTLET} more in the `coverage` view</td></tr>")
        parts.append("</table></details>")
    return parts
