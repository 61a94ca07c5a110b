"""`storywatch report --html`: the story over time as one self-contained HTML
page (inline CSS and SVG chart, no network needed to open it) with a PNG of the chart beside it
for e-mail and chat. Reads only what `Warehouse.report` returns."""

from __future__ import annotations

import html
import io
from datetime import date, datetime

MAX_DEVELOPMENTS_SHOWN = 200


def chart(daily: list[dict], title: str) -> tuple[str, bytes]:
    """Coverage per day, new vs syndicated stacked, days with new outlets marked: (SVG, PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [row["day"] for row in daily]
    new = [row["new"] for row in daily]
    syndicated = [row["syndicated"] for row in daily]
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=110)
    ax.bar(days, new, color="#1f6feb", label="new")
    ax.bar(days, syndicated, bottom=new, color="#9ab8e8", label="syndicated")
    for day, n, s, row in zip(days, new, syndicated, daily):
        if row["new_outlets"]:
            ax.annotate(f"+{row['new_outlets']} outlet{'s' if row['new_outlets'] > 1 else ''}", (day, n + s),
                        textcoords="offset points", xytext=(0, 9), ha="center", fontsize=8, color="#b3261e")
            ax.plot([day], [n + s], marker="v", color="#b3261e", markersize=6, linestyle="none")
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_ylabel("articles")
    top = max((n + s for n, s in zip(new, syndicated)), default=1)
    ax.set_ylim(0, top * 1.3 + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", frameon=False, fontsize=8, ncols=2)
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


def render_html(title: str, data: dict, svg: str, png_name: str) -> str:
    """One self-contained page: summary, chart, developments timeline, first reports, edits."""
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
        ".day{color:#57606a;white-space:nowrap}.muted{color:#57606a}svg{max-width:100%;height:auto}</style></head><body>",
        f"<h1>{_e(title)}</h1><p class='muted'>storywatch report · generated {when(datetime.now())}</p>",
        "<div class='kpi'>"
        f"<div><b>{counts['new']}</b>new articles</div><div><b>{counts['syndicated']}</b>syndicated copies</div>"
        f"<div><b>{counts['seed_copy']}</b>seed copies</div><div><b>{outlets}</b>outlets</div>"
        f"<div><b>{len(devs)}</b>developments</div><div><b>{len(data['edited'])}</b>edited articles</div></div>",
        f"<h2>Coverage over time</h2>{svg}<p class='muted'>Bars: articles per publication day, new and syndicated. "
        f"Red marks: days an outlet covered the story for the first time. The chart is also in {_e(png_name)}.</p>",
        "<h2>What changed</h2><p class='muted'>The story's key developments by day, newest first: claims neither "
        "the seeds nor earlier coverage made, the most salient of each article, with the outlet that reported each "
        f"first and how many other articles repeated it. All {len(devs)} developments are in the `developments` "
        "view.</p><table>",
    ]
    current = None
    for d in data["digest"][:MAX_DEVELOPMENTS_SHOWN]:
        if d["day"] != current:
            current = d["day"]
            parts.append(f"<tr><th colspan=3 class='day'>{_e(current.isoformat())}</th></tr>")
        edit = " · <b>edit</b>" if d["version"] > 1 else ""
        facts = "".join(f"<span class='fact'>{_e(f)}</span>" for f in d["facts"] or [])
        repeated = f"repeated by {d['repeats']}: {_e(', '.join(d['repeated_by']))}" if d["repeats"] else ""
        parts.append(f"<tr><td>{_e(d['first_outlet'])}{edit}<br><a href='{_e(d['url'])}' class='muted'>{_e(d['title'])}</a></td>"
                     f"<td>{_e(d['sentence'])}<br>{facts}</td><td class='muted'>{repeated}</td></tr>")
    if len(data["digest"]) > MAX_DEVELOPMENTS_SHOWN:
        parts.append(f"<tr><td colspan=3 class='muted'>… {len(data['digest']) - MAX_DEVELOPMENTS_SHOWN} more in the "
                     "`key_developments` view</td></tr>")
    if not data["digest"]:
        parts.append("<tr><td colspan=3 class='muted'>No key developments yet.</td></tr>")
    parts.append("</table><h2>First reports</h2><p class='muted'>Facts nobody had reported before, the seeds "
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
    parts.append("</table><h2>Coverage</h2><table><tr><th>published</th><th>verdict</th><th>outlet</th><th>title</th>"
                 "<th>relevance</th></tr>")
    for c in data["coverage"]:
        parts.append(f"<tr><td class='day'>{when(c['published_at'])}</td><td>{_e(c['verdict'])}</td><td>{_e(c['outlet'])}</td>"
                     f"<td><a href='{_e(c['url'])}'>{_e(c['title'])}</a></td><td>{c['relevance']:.2f}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)
