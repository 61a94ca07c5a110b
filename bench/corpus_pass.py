"""A real pass over the third-party pages in ../shared/corpus/pages, served from 127.0.0.1.

Serves every page (one RSS feed per subset), runs `monitor_story` once, and prints: pages
listed vs judged, the verdicts, off-topic false positives on these unrelated real pages, and
the pass's time per page beside plain `trafilatura.extract` on the same pages in the same run.

    .venv/bin/python bench/corpus_pass.py [--corpus ../shared/corpus/pages] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORY_TOML = ('title = "Meta open-sources its new models"\nfeeds = "feeds.txt"\n'
              "[thresholds]\nrelevance = 0.4\n"
              "[fetch]\nmin_interval_seconds = 0\nretries = 0\ntimeout_seconds = 5\n"
              "max_pages_per_feed = 5000\nconcurrency = 8\nmax_bytes = 20000000\n")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def load_pages(corpus: Path, limit: int | None) -> dict[str, bytes]:
    pages = {}
    for line in (corpus / "MANIFEST.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        raw = (corpus / item["file"]).read_bytes()
        pages["/" + item["id"]] = gzip.decompress(raw) if item.get("gz") else raw
        if limit and len(pages) >= limit:
            break
    return pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "pages")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    if not (args.corpus / "MANIFEST.jsonl").exists():
        sys.exit(f"{args.corpus}: no MANIFEST.jsonl (the shared corpus is not here)")
    pages = load_pages(args.corpus, args.limit)
    routes: dict[str, tuple[str, bytes]] = {p: ("text/html", b) for p, b in pages.items()}

    from storywatch.demo.loopback import serve

    def respond(path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        content_type, body = routes.get(path, ("text/plain", b""))
        return 200 if path in routes else 404, {"Content-Type": content_type}, body

    server = serve(respond)
    base = server.base
    now = format_datetime(datetime.now(timezone.utc))
    subsets = sorted({p.split("/")[1] for p in pages})
    for subset in subsets:
        items = "".join(f"<item><title>{p}</title><link>{base}{p}</link><guid>{p}</guid><pubDate>{now}</pubDate></item>"
                        for p in pages if p.split("/")[1] == subset)
        routes[f"/feeds/{subset}.xml"] = ("application/rss+xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{subset}</title>{items}</channel></rss>'.encode())

    import trafilatura

    from storywatch.demo.story_folder import write_story
    from storywatch.extractors.story import packaged_stories
    from storywatch.flows.monitor import run_pass

    with tempfile.TemporaryDirectory() as tmp:
        story = write_story(Path(tmp), packaged_stories()["meta-open-models"],
                            [f"{base}/feeds/{s}.xml" for s in subsets], STORY_TOML)
        db = Path(tmp) / "corpus.duckdb"
        t0 = time.perf_counter()
        for body in pages.values():
            trafilatura.extract(body)
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = run_pass(story, db, allow_private_hosts=True)
        elapsed = time.perf_counter() - t0
        import duckdb
        con = duckdb.connect(str(db), read_only=True)
        verdicts = Counter(dict(con.execute("SELECT verdict, count(*) FROM judgments GROUP BY 1").fetchall()))
        judged = sum(verdicts.values())
        sources = dict(con.execute("SELECT text_source, count(*) FROM page_versions GROUP BY 1").fetchall())
        top = con.execute("SELECT relevance, url FROM judgments ORDER BY relevance DESC LIMIT 5").fetchall()
    server.close()
    n = len(pages)
    print(f"pages listed {n}   judged {judged}   ({'every page judged' if judged == n else 'MISSING ' + str(n - judged)})")
    print("verdicts:", dict(verdicts))
    print("text from:", sources)
    on = verdicts["new"] + verdicts["syndicated"] + verdicts["seed_copy"]
    print(f"on-story among these unrelated pages: {on} ({on / n:.1%})  — highest relevance: "
          + ", ".join(f"{r:.2f}" for r, _ in top))
    print(f"pass {elapsed:.1f} s = {elapsed / n * 1000:.0f} ms/page (fetch, extract, date, language, judge, store; incl. Prefect start)")
    print(f"baseline trafilatura.extract alone {baseline / n * 1000:.0f} ms/page; ratio {elapsed / baseline:.2f}x")
    print(f"run counts: feeds {result['feeds']}, failed {result['feeds_failed']}, pages fetched {result['pages_fetched']}")


if __name__ == "__main__":
    main()
