"""A long story's report: 30 days and a few thousand articles, built from real text, through a real
pass, then rendered and photographed in headless Chromium.

Run from the project root:  .venv/bin/python bench/long_report.py [--days 30] [--out DIR]

The site (storywatch.demo.loopback on 127.0.0.1) has one feed a day. Each day carries
`--originals` on-story articles, each made of real sentences about the seed story (the demo's
on-story articles, our rewrites of real coverage, and the seeds themselves) drawn afresh, under
one of twenty outlet names; each original is copied word for word by up to `--copies` other
outlets (syndication); and `--off-topic` real news pages from ../shared/corpus/pages (the AEB,
newspaper4k and MediaCloud subsets, served as crawled), or the demo's off-topic articles when
the corpus is not beside the project. One `storywatch run` takes it all in, `storywatch report
--html` renders it, and Chromium takes a full-page screenshot.

Printed: articles by verdict, the pass's time, the report's size against the 1 MB budget, the
sections found in the page Chromium rendered, and where the
screenshot is. Figures, not a test (tests/test_long_report.py runs a small version of it).
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from storywatch.demo.loopback import serve
from storywatch.demo.sample_site import load_articles, render_rss
from storywatch.demo.story_folder import write_story
from storywatch.extractors.story import load_story, packaged_stories

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "pages"
OUTLETS = [f"{name} {kind}" for name in ("Northern", "Harbor", "Summit", "Lakeside", "Capital", "Coastal", "Metro",
                                         "Valley", "Granite", "Prairie") for kind in ("Ledger", "Wire")]
SECTIONS = ("Coverage over time", "Collection health", "What changed", "First reports", "Near misses",
            "Most edited", "Coverage by outlet")
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
PAGE = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} | {outlet}</title>"
        "<meta property='og:site_name' content='{outlet}'><meta property='og:title' content='{title}'>"
        "<meta property='article:published_time' content='{published}'><link rel='canonical' href='{url}'></head>"
        "<body><header><nav>{outlet} · Technology</nav></header><article><h1>{title}</h1>"
        "<p class='byline'>By Staff · {published}</p>{body}</article><footer>© {outlet}</footer></body></html>")


def story_sentences() -> list[str]:
    """Real sentences about the seed story: the demo's on-story articles and the seeds."""
    seeds = load_story(packaged_stories()["meta-open-models"]).seeds.values()
    demo = [p for a in load_articles() if a["label"] == "on_story" for p in a["paragraphs"]]
    found = [s.strip() for text in [*demo, *seeds] for s in re.split(r"(?<=[.!?])\s+", text)]
    return sorted({s for s in found if 8 <= len(s.split()) <= 60})


def off_topic_pages() -> list[bytes]:
    """Real news pages as crawled (the corpus), else the demo's off-topic articles as pages."""
    if (CORPUS / "MANIFEST.jsonl").exists():
        rows = [json.loads(line) for line in (CORPUS / "MANIFEST.jsonl").read_text("utf-8").splitlines()]
        wanted = [r for r in rows if r["file"].split("/")[0] in ("aeb", "newspaper4k", "htmldate_mediacloud2020")]
        return [gzip.decompress((CORPUS / r["file"]).read_bytes()) if r.get("gz") else (CORPUS / r["file"]).read_bytes()
                for r in wanted]
    return [PAGE.format(title=html.escape(a["headline"]), outlet="Elsewhere Daily", published="2026-01-01",
                        url="", body="".join(f"<p>{html.escape(p)}</p>" for p in a["paragraphs"])).encode()
            for a in load_articles() if a["label"] == "off_topic"]


def build_site(start: datetime, days: int, originals: int, copies: int, off_topic: int,
               seed: int = 7) -> tuple[dict, dict]:
    """(pages by path, feed items by day) for `days` days from `start`: path -> HTML,
    day -> [(title, path, summary, published)]."""
    rng = random.Random(seed)
    sentences, others = story_sentences(), off_topic_pages()
    pages, feeds, n_other = {}, {}, 0
    for day in range(days):
        items = feeds.setdefault(day, [])
        for k in range(originals):
            published = start + timedelta(days=day, minutes=37 * k)
            body = rng.sample(sentences, rng.randint(6, 9))
            title = f"{body[0][:70].rstrip(' ,.')}…"
            writers = rng.sample(OUTLETS, 1 + rng.randint(0, copies))
            for i, outlet in enumerate(writers):  # the first writes it; the others copy it word for word
                path = f"/{outlet.lower().replace(' ', '-')}/d{day}-{k}"
                at = published + timedelta(hours=2 * i)
                pages[path] = PAGE.format(title=html.escape(title), outlet=outlet, published=at.isoformat(), url=path,
                                          body="".join(f"<p>{html.escape(s)}</p>" for s in body)).encode()
                items.append((title, path, body[0], at))
        for k in range(off_topic):
            path = f"/elsewhere/d{day}-{k}"
            pages[path] = others[n_other % len(others)]
            n_other += 1
            items.append((f"Other news {day}-{k}", path, "", start + timedelta(days=day, hours=k % 12)))
    return pages, feeds


def photograph(page: Path, png: Path, profile: Path) -> str:
    """Chromium's full rendering: a screenshot and the DOM it built (to read the sections from)."""
    subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", "--window-size=1280,5000", f"--screenshot={png}",
                    page.as_uri()], capture_output=True, timeout=180, check=True)
    return subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--originals", type=int, default=15, help="on-story originals a day")
    parser.add_argument("--copies", type=int, default=3, help="most word-for-word copies of one original")
    parser.add_argument("--off-topic", type=int, default=30, help="real off-topic pages a day")
    parser.add_argument("--out", type=Path, default=None, help="folder for the report, its PNG and the screenshot")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="storywatch-long-"))
    out.mkdir(parents=True, exist_ok=True)
    # The month ends yesterday: a page dated in the future would be dated when first seen instead.
    start = datetime.now(timezone.utc).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=args.days)
    pages, feeds = build_site(start, args.days, args.originals, args.copies, args.off_topic)
    rss = {}
    server = serve(lambda path, _headers: (200, {"Content-Type": "application/rss+xml"}, rss[path]) if path in rss
                   else (200, {"Content-Type": "text/html; charset=utf-8"}, pages[path]) if path in pages
                   else (404, {"Content-Type": "text/plain"}, b"not found"))
    for day, items in feeds.items():
        rss[f"/feed/{day}.xml"] = render_rss(f"Day {day}", server.base, [(t, server.base + p, s, at) for t, p, s, at in items])
    story = write_story(out, packaged_stories()["meta-open-models"], [f"{server.base}/feed/{d}.xml" for d in feeds],
                        'title = "Meta open models: a month of coverage"\nfeeds = "feeds.txt"\n'
                        f"started = {start.date().isoformat()}\n[fetch]\n"
                        'min_interval_seconds = 0\nretries = 0\ntimeout_seconds = 30\nmax_pages_per_feed = 1000\n'
                        'allow_hosts = ["127.0.0.1"]\n')
    db = out / "long.duckdb"
    db.unlink(missing_ok=True)  # a fresh file, and a fresh Prefect history that would remember the old one
    shutil.rmtree(out / "prefect", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(out / "prefect")}
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "storywatch", "run", "--story", str(story), "--db", str(db)],
                   env=env, check=True, capture_output=True, timeout=3600)
    pass_seconds = time.monotonic() - began
    server.close()
    report = out / "report.html"
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "storywatch", "report", "--story", str(story), "--db", str(db),
                    "--html", str(report)], env=env, check=True, capture_output=True, timeout=600)
    report_seconds = time.monotonic() - began
    con = duckdb.connect(str(db), read_only=True)
    verdicts = dict(con.execute("SELECT verdict, count(*) FROM judgments GROUP BY ALL ORDER BY ALL").fetchall())
    outlets = con.execute("SELECT count(DISTINCT outlet) FROM coverage").fetchone()[0]
    con.close()
    print(f"{args.days} days, {sum(verdicts.values())} articles ({', '.join(f'{v} {k}' for k, v in verdicts.items())}), "
          f"{outlets} outlets; pass {pass_seconds:.0f}s, report {report_seconds:.1f}s")
    size = report.stat().st_size
    print(f"report: {size / 1e6:.2f} MB ({size / 1e6:.2f}x the 1 MB budget)")
    if shutil.which("chromium"):
        dom = photograph(report, out / "screenshot.png", out / "chromium")
        shown = [s for s in SECTIONS if f"<h2>{s}</h2>" in dom]
        print(f"sections Chromium rendered: {len(shown)} of {len(SECTIONS)}" +
              (f" (missing: {', '.join(s for s in SECTIONS if s not in shown)})" if len(shown) < len(SECTIONS) else ""))
        print(f"screenshot: {out / 'screenshot.png'}")
    else:
        print("no chromium on this machine: no screenshot (make browser installs it)")


if __name__ == "__main__":
    main()
