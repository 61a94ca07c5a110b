"""Soak: `storywatch serve` on a schedule against a loopback site that changes every pass, watched
from outside, one line per pass.

Run from the project root:  .venv/bin/python bench/soak.py [--every 60s] [--passes 30]

The site (storywatch.demo.loopback on 127.0.0.1, a thread of this process) has three feeds:
  news     each pass adds two articles about the seed story (real sentences of the demo's on-story
           articles, reshuffled so each is new text) and edits the newest earlier one
  flaky    answers 503 on every third pass and recovers
  hostile  a feed whose items point at a private address (refused, `blocked`) and at pages that
           answer with 10 MB of nothing (over the size cap)
`serve` runs as its own process with its own local Prefect server (`--every`). After each pass
completes (a new row in `runs`), this script prints for the serve process tree: resident memory
(PSS summed, MB), open file descriptors of the serve process, how many processes it has, the
warehouse file's size, and the pass's own duration. The target: memory, descriptors and children
flat after warm-up (the first third of the passes); file growth in proportion to new articles; no
pass after warm-up slower than 1.5x their median.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from storywatch.demo.loopback import serve as serve_site
from storywatch.demo.sample_site import Page, load_articles, render_page, render_rss
from storywatch.demo.story_folder import write_story
from storywatch.extractors.story import packaged_stories
from storywatch.flows.lifeline import descendants

ROOT = Path(__file__).resolve().parents[1]


class ChangingSite:
    """The site's state for pass `n`: `advance(n)` after each completed pass."""

    def __init__(self) -> None:
        self.sentences = [s for a in load_articles() if a["label"] == "on_story" for s in a["paragraphs"]]
        self.pages: dict[str, Page] = {}
        self.base = ""
        self.made_for = -1
        self.advance(0)

    def advance(self, n: int) -> None:
        """Two new articles and an edit of the newest earlier one for every pass up to `n`."""
        while self.made_for < n:
            self.made_for += 1
            rng = random.Random(self.made_for)
            published = datetime(2026, 11, 20, tzinfo=timezone.utc) + timedelta(hours=self.made_for)
            for k in range(2):
                slug = f"update-{self.made_for}-{k}"
                paragraphs = tuple(rng.sample(self.sentences, 6))
                self.pages[f"/techwire/{slug}"] = Page("techwire", slug, f"Meta's open models: update {self.made_for}.{k}",
                                                       "Staff", published, paragraphs, "on_story")
            if self.made_for:
                newest = self.pages[f"/techwire/update-{self.made_for - 1}-0"]
                self.pages[newest.path] = Page(newest.outlet, newest.slug, newest.headline, newest.author,
                                               newest.published, (*newest.paragraphs, rng.choice(self.sentences)),
                                               newest.label)

    def respond(self, target: str) -> tuple[int, dict[str, str], bytes]:
        n = self.made_for
        rss = {"Content-Type": "application/rss+xml"}
        if target == "/feeds/news.xml":
            items = [(p.headline, f"{self.base}{p.path}", p.paragraphs[0], p.published) for p in self.pages.values()]
            return 200, rss, render_rss("News", self.base, items[-40:])
        if target == "/feeds/flaky.xml":
            if n % 3 == 2:
                return 503, {"Retry-After": "1"}, b"busy"
            return 200, rss, render_rss("Flaky", self.base, [])
        if target == "/feeds/hostile.xml":
            when = datetime(2026, 11, 20, tzinfo=timezone.utc)
            return 200, rss, render_rss("Hostile", self.base, [
                ("Internal", "http://10.0.0.1/admin", "x", when), ("Huge", f"{self.base}/huge", "x", when)])
        if target == "/huge":
            return 200, {"Content-Type": "text/html"}, b" " * 10_000_000
        page = self.pages.get(target.split("?")[0])
        if page is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, render_page(page, self.base)


def _tree(pid: int) -> tuple[float, int, int]:
    """(PSS MB of the process and its descendants, open descriptors of the process, descendants)."""
    pids = [pid, *descendants(pid)]
    pss = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = -1
    return pss / 1024, fds, len(pids) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", default="60s")
    parser.add_argument("--passes", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="storywatch-soak-"))
    db = work / "soak.duckdb"
    site = ChangingSite()
    server = serve_site(lambda path, _headers: site.respond(path))
    site.base = server.base
    story = write_story(work, packaged_stories()["meta-open-models"],
                        [f"{server.base}/feeds/news.xml", f"{server.base}/feeds/flaky.xml", f"{server.base}/feeds/hostile.xml"],
                        'title = "Meta open models (soak)"\nfeeds = "feeds.txt"\n[fetch]\nretries = 0\ntimeout_seconds = 5\n'
                        'max_bytes = 2000000\n')
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(work / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "storywatch", "serve", "--story", str(story), "--db", str(db),
                             "--every", args.every, "--allow-private-hosts"],
                            env=env, stdout=(work / "serve.log").open("w"), stderr=subprocess.STDOUT)
    print(f"{'pass':>4} {'new':>4} {'PSS MB':>7} {'fds':>4} {'children':>8} {'db MB':>6} {'pass s':>7}")
    rows, seen = [], 0
    try:
        while seen < args.passes:
            time.sleep(1)
            if proc.poll() is not None:
                raise SystemExit(f"serve exited with {proc.returncode}; see {work / 'serve.log'}")
            try:
                con = duckdb.connect(str(db), read_only=True)
            except duckdb.Error:
                continue
            try:
                runs = con.execute("SELECT new, epoch(finished_at - started_at) FROM runs WHERE status = 'completed' "
                                   "ORDER BY started_at").fetchall()
            except duckdb.Error:
                runs = []
            finally:
                con.close()
            for new, seconds in runs[seen:]:
                seen += 1
                site.advance(seen)
                pss, fds, children = _tree(proc.pid)
                row = (seen, new, pss, fds, children, db.stat().st_size / 1e6, seconds)
                rows.append(row)
                print(f"{row[0]:4d} {row[1]:4d} {row[2]:7.0f} {row[3]:4d} {row[4]:8d} {row[5]:6.2f} {row[6]:7.2f}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        server.close()
    warm = rows[len(rows) // 3:]
    median = statistics.median(r[6] for r in warm)
    print(json.dumps({
        "passes": len(rows),
        "pss_mb_after_warmup": [round(min(r[2] for r in warm)), round(max(r[2] for r in warm))],
        "fds_after_warmup": [min(r[3] for r in warm), max(r[3] for r in warm)],
        "children_after_warmup": [min(r[4] for r in warm), max(r[4] for r in warm)],
        "db_mb_per_new_article": round((rows[-1][5] - rows[0][5]) / max(1, sum(r[1] for r in rows[1:])), 3),
        "slowest_pass_after_warmup_vs_median": round(max(r[6] for r in warm) / median, 2),
    }))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
