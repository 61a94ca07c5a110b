"""Politeness at scale: one pass over 10,000 feeds spread over 50 hosts never has more requests in
flight to a host than `[fetch] per_host`, nor starts two requests to one host closer than
`min_interval_seconds`, watched from the servers' side.

Run from the project root:  .venv/bin/python bench/politeness.py [--feeds 10000] [--hosts 50]

Each host is a storywatch.demo.loopback server on 127.0.0.1 with a port of its own (politeness
counts a host by name and port). Every feed on it carries one item linking to one of
`--pages` article pages of that host, so the pass also fetches pages (and each host's
robots.txt, which answers 404). Every answer takes `--latency` seconds. Each server records,
for every request, when it arrived and how many of that host's requests were in flight.

Two passes run, each `storywatch run` in a process of its own on a fresh warehouse:
  baseline  no politeness (per_host 32, no interval): what the pass costs unrestrained
  polite    the defaults (per_host 2, min_interval_seconds 0.5)
Printed per pass: the pass's time (the warehouse's `runs` row, so Prefect's start-up is not in
it), requests seen, feeds read and pages fetched, the most requests in flight at one host, and
the shortest gap between two arrivals at one host and how many consecutive arrivals came
closer than the interval (measured at the servers, so a request the pass sent on time but the
server read late counts against it); then the polite pass's time as a ratio of the
baseline's. Figures, not a test: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from storywatch.demo.loopback import LoopbackServer, serve
from storywatch.demo.sample_site import Page, render_page, render_rss
from storywatch.demo.story_folder import write_story
from storywatch.extractors.story import packaged_stories

PUBLISHED = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
SENTENCE = "Meta is preparing to release some of its new AI models as open source under Alexandr Wang, people said."


class Host:
    """One loopback host's feeds and pages, and what it saw: request start times and the most
    requests in flight at once."""

    def __init__(self, index: int, feeds: int, pages: int, latency: float) -> None:
        self.index, self.feeds, self.pages, self.latency = index, feeds, pages, latency
        self.lock = threading.Lock()
        self.in_flight = self.most = 0
        self.starts: list[float] = []
        self.server: LoopbackServer = serve(self.respond, keep_alive=True)

    def page(self, j: int) -> Page:
        return Page("techwire", f"h{self.index}-story-{j}", f"Meta open models, host {self.index} page {j}", "Staff",
                    PUBLISHED, (SENTENCE, f"Host {self.index} adds detail {j}."), "on_story")

    def respond(self, path: str, _headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.starts.append(time.monotonic())
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(self.latency)
            base = self.server.base
            if path.startswith("/feed/"):
                page = self.page(int(path.split("/")[2].split(".")[0]) % self.pages)
                items = [(page.headline, f"{base}{page.path}", SENTENCE, PUBLISHED)]
                return 200, {"Content-Type": "application/rss+xml"}, render_rss(f"Feed {path}", base, items)
            if path.startswith(f"/techwire/h{self.index}-story-"):
                return 200, {"Content-Type": "text/html; charset=utf-8"}, render_page(self.page(int(path.rsplit("-", 1)[1])), base)
            return 404, {"Content-Type": "text/plain"}, b"not found"
        finally:
            with self.lock:
                self.in_flight -= 1

    def reset(self) -> None:
        with self.lock:
            self.most, self.starts = 0, []

    def gaps(self) -> list[float]:
        """Seconds between consecutive request arrivals at this host."""
        starts = sorted(self.starts)
        return [b - a for a, b in zip(starts, starts[1:])]


def run_pass(work: Path, label: str, hosts: list[Host], fetch_toml: str) -> dict[str, float]:
    """One `storywatch run` over every host's feeds; what the servers and the warehouse saw."""
    for host in hosts:
        host.reset()
    urls = [f"{host.server.base}/feed/{k}.xml" for host in hosts for k in range(host.feeds)]
    story = write_story(work / label, packaged_stories()["meta-open-models"], urls,
                        'title = "Politeness bench"\nfeeds = "feeds.txt"\n[fetch]\nretries = 0\ntimeout_seconds = 60\n'
                        'allow_hosts = ["127.0.0.1"]\n' + fetch_toml)
    db = work / f"{label}.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(work / f"home-{label}")}
    done = subprocess.run([sys.executable, "-m", "storywatch", "run", "--story", str(story), "--db", str(db)],
                          env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise SystemExit(f"{label}: storywatch run exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    con = duckdb.connect(str(db), read_only=True)
    seconds, feeds_ok, pages = con.execute(
        "SELECT epoch(finished_at - started_at), feeds_ok, pages_fetched FROM runs").fetchone()
    con.close()
    gaps = sorted(g for h in hosts for g in h.gaps())
    return {"seconds": seconds, "requests": sum(len(h.starts) for h in hosts), "feeds_ok": feeds_ok, "pages": pages,
            "most": max(h.most for h in hosts), "gaps": gaps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--pages", type=int, default=4, help="article pages per host")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds each answer takes")
    args = parser.parse_args()
    hosts = [Host(i, args.feeds // args.hosts, args.pages, args.latency) for i in range(args.hosts)]
    work = Path(tempfile.mkdtemp(prefix="storywatch-politeness-"))
    passes = {
        "baseline": ("per_host 32, no interval", "per_host = 32\nmin_interval_seconds = 0\n", 32, 0.0),
        "polite": ("defaults: per_host 2, 0.5 s", "", 2, 0.5),
    }
    print(f"{args.feeds} feeds on {args.hosts} hosts, {args.pages} pages a host, answers take {args.latency}s")
    print(f"{'pass':<9} {'settings':<28} {'pass s':>7} {'requests':>8} {'feeds':>6} {'pages':>5} "
          f"{'most in flight':>14} {'shortest gap s':>14} {'gaps under interval':>19}")
    seen = {}
    for label, (settings, toml, limit, interval) in passes.items():
        seen[label] = r = run_pass(work, label, hosts, toml)
        under = sum(g < interval - 0.005 for g in r["gaps"])  # 5 ms: the clocks' jitter
        print(f"{label:<9} {settings:<28} {r['seconds']:>7.1f} {r['requests']:>8} {r['feeds_ok']:>6} {r['pages']:>5} "
              f"{r['most']:>9} of {limit:<2} {r['gaps'][0]:>14.3f} {under:>8} of {len(r['gaps'])}")
    print(f"polite / baseline pass time: {seen['polite']['seconds'] / seen['baseline']['seconds']:.2f}x "
          f"(the floor set by the interval alone: {(args.feeds // args.hosts + args.pages + 1) * 0.5:.0f}s a host)")
    for host in hosts:
        host.server.close()


if __name__ == "__main__":
    main()
