"""Scale figures for the open performance issue, in one table, each measured as a pair in the same run.

    .venv/bin/python bench/scale.py                                   # full size (about 10 minutes on 2 cores)
    .venv/bin/python bench/scale.py --only warm --feeds 50            # a quick look at one part
    .venv/bin/python bench/scale.py --only dedupe --history 1000,10000
    .venv/bin/python bench/scale.py --only rss --pages 500 --warehouse 10000

Figures, not a test: nothing here fails a build. Three targets:

1. warm   A pass over `--feeds` feeds where nothing is new should cost little more than one
          Prefect flow run. storywatch.demo.loopback on 127.0.0.1 (a thread of this process) serves
          /feed/N.xml (3 items each, linking to /page/N-J: short HTML articles of a few paragraphs)
          with an ETag, answering If-None-Match with 304, and counts requests per kind. On
          Prefect's temporary server (its own PREFECT_HOME in a temp dir, heartbeats off) a trivial
          flow is run twice (the first is Prefect's start-up, the second one flow run's overhead),
          then a cold `monitor_story` pass (empty warehouse) and the warm pass. Reported: the warm
          pass's wall time, that minus one trivial flow run, the pages fetched and feeds parsed
          during it (both must be 0: every feed answered 304) and the cold pass for reference.
2. dedupe Judging one article must cost the same whatever the size of the story's history.
          Pure, no I/O: `Judge.for_story(seeds, 0.4)`, then `judge.remember` for a synthetic
          history of N on-story articles (random MinHash signatures, plus 50 real signatures of
          texts made from the seeds' words), at each N of `--history`. The same 300 new articles
          (100 exact or near copies of the 50 real history texts, 200 fresh shuffles of the seeds'
          vocabulary) are judged at each N: per-article `judge.judge` time and per-article
          `judge.coverage.earliest_copy` time (rounds interleaved between the N, best round kept,
          so background load hits both sides alike), their ratio largest/smallest N (target
          <= 1.5x), the time to build an index of all N (a pass builds one only of the coverage sharing
          an LSH bucket, a content hash or an ID with its own pages), and whether
          every copy is still found, pointing at its original, at the largest N.
3. rss    Peak memory of a pass of `--pages` new articles over a warehouse of `--warehouse`
          articles must stay under 1,000 MB. The warehouse is made with `Warehouse.open` (migrates)
          and `INSERT … SELECT … FROM range(n)` (10% `new` on-story with on-story text, the rest
          `off_topic`; text ~2 KB, content hash, a 512-byte random minhash, 400 shingles, an entry,
          a run per 1,000 articles; the on-story ones' said sentences and LSH buckets stored as a
          pass would; every article's re-check schedule is over). 50 feeds on
          127.0.0.1 carry the new pages; one `monitor_story` pass runs in a subprocess of its own
          (this script with --run-pass) after a trivial flow has started its Prefect server. The
          subprocess reports its own peak (VmHWM; not ru_maxrss, which Linux carries across exec from
          the parent that built the warehouse), each extraction worker's peak (VmHWM from
          /proc before the pool is shut down; they are spawned processes) and its Prefect server's
          peak (reported apart: it is Prefect's, not the pass's). The target is checked on the
          pass process plus all its workers, an upper bound (their peaks need not coincide).
          Also: the pass's wall time (without Prefect's start-up), articles/s and the file size.

Every part stops by itself (request timeouts, a subprocess timeout, bounded loops); no connection
leaves 127.0.0.1 (a socket guard refuses any other address and says so); everything is written in
one temp dir, removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from loopback import REFUSED, loopback_only  # bench/loopback.py, beside this script
from storywatch.demo.loopback import serve

ROOT = Path(__file__).resolve().parents[1]
STORY_TOML = ('title = "Meta open-sources its new models"\nfeeds = "feeds.txt"\n'
              "[thresholds]\nrelevance = 0.4\n"
              "[fetch]\nmin_interval_seconds = 0\nretries = 0\ntimeout_seconds = 20\nmax_pages_per_feed = 100\n")
PARTS = ("warm", "dedupe", "rss")
SEED = 11
PASS_TIMEOUT = 3600  # seconds for the rss subprocess (start-up, pass and report)
RSS_TARGET_MB = 1000.0
DEDUPE_RATIO_TARGET = 1.5

OFF_TOPIC_WORDS = (
    "avocado salad lime salt tomato onion garlic olive oil bread oven roast pepper basil lemon "
    "garden soil compost seed spring rain harvest autumn leaves bicycle trail mountain river bridge "
    "museum painting gallery concert violin orchestra recipe kitchen dinner lunch breakfast coffee "
    "tea cake flour sugar butter cheese market village football match goal season coach league "
    "weather forecast storm sunny cloudy wind snow holiday beach hotel train station ticket"
).split()


# --- environment ------------------------------------------------------------------------------------

def prefect_env(home: Path) -> None:
    """Set before prefect is imported: a private temporary server, no analytics, no tracking."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.pop("PREFECT_API_URL", None)
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")




# --- texts ------------------------------------------------------------------------------------------

def seed_story() -> Path:
    """The packaged story whose seeds every part uses."""
    from storywatch.extractors.story import packaged_stories

    return packaged_stories()["meta-open-models"]


def seed_texts() -> dict[str, str]:
    from storywatch.extractors.story import load_story

    return load_story(seed_story()).seeds


def shuffled(rng: random.Random, vocab: list[str], n: int, sentence: int = 14) -> str:
    """`n` words drawn from `vocab`, cut into sentences of about `sentence` words."""
    out, words = [], [rng.choice(vocab) for _ in range(n)]
    for i in range(0, n, sentence):
        chunk = words[i:i + sentence]
        out.append(chunk[0].capitalize() + " " + " ".join(chunk[1:]).rstrip(".,;:") + ".")
    return " ".join(out)


def seed_vocab() -> list[str]:
    return [w.strip("\"“”()[],;:") for text in seed_texts().values() for w in text.split() if w.strip("\"“”()[],;:")]


# --- the site ---------------------------------------------------------------------------------------

def page_html(title: str, paragraphs: list[str], published: datetime) -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="description" content="{html.escape(paragraphs[0][:150])}">'
            f'<meta property="article:published_time" content="{published.isoformat()}"></head>'
            f'<body><header><nav><a href="/">Home</a> <a href="/tech">Tech</a></nav></header>'
            f"<main><article><h1>{html.escape(title)}</h1><p class=\"byline\">By Bench Desk</p>\n{body}"
            f"</article></main><footer><p>Copyright Bench News</p></footer></body></html>").encode("utf-8")


def render_rss(base: str, n: int, items: list[tuple[str, str, str, datetime]]) -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Bench feed {n}</title>'
           f"<link>{base}/</link><description>Bench feed {n}</description>"]
    for path, title, summary, published in items:
        link = html.escape(base + path)
        out.append(f"<item><title>{html.escape(title)}</title><link>{link}</link><guid>{link}</guid>"
                   f"<pubDate>{format_datetime(published)}</pubDate>"
                   f"<description>{html.escape(summary)}</description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


class Site:
    """Routes (path -> content type, body, ETag) and request counters per kind."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes, str]] = {}
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.stats = {"feed 200": 0, "feed 304": 0, "page 200": 0, "page 304": 0, "404": 0}

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.stats)

    def build(self, base: str, feeds: int, per_feed: int, on_story_share: float, rng: random.Random,
              vocab: list[str], paragraphs: int = 4, words_per_paragraph: int = 55) -> None:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        routes: dict[str, tuple[str, bytes, str]] = {}
        for n in range(feeds):
            items = []
            for j in range(per_feed):
                path = f"/page/{n}-{j}"
                on = rng.random() < on_story_share
                words = vocab if on else OFF_TOPIC_WORDS
                title = f"Bench report {n}-{j}: " + shuffled(rng, words, 8).rstrip(".")
                paras = [shuffled(rng, words, words_per_paragraph) for _ in range(paragraphs)]
                paras[-1] += f" Bench note {n}-{j}."
                published = now - timedelta(hours=1 + (n * per_feed + j) % 240, seconds=j)
                body = page_html(title, paras, published)
                routes[path] = ("text/html; charset=utf-8", body, _etag(body))
                items.append((path, title, paras[0][:200], published))
            feed = render_rss(base, n, items)
            routes[f"/feed/{n}.xml"] = ("application/rss+xml; charset=utf-8", feed, _etag(feed))
        self.routes = routes

    def respond(self, target: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """The loopback server's responder: counts each request by kind and status."""
        if_none_match = headers.get("If-None-Match")
        path = urlsplit(target).path
        kind = "feed" if path.startswith("/feed/") else "page"
        route = self.routes.get(path)
        if route is None:
            with self.lock:
                self.stats["404"] += 1
            return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not found</h1></body></html>"
        content_type, body, etag = route
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            with self.lock:
                self.stats[f"{kind} 304"] += 1
            return 304, {"ETag": etag}, b""
        with self.lock:
            self.stats[f"{kind} 200"] += 1
        return 200, {"Content-Type": content_type, "ETag": etag}, body


# --- 1. warm pass -----------------------------------------------------------------------------------

def run_warm(tmp: Path, feeds: int, rows: list, notes: list[str]) -> None:
    site = Site()
    server = serve(site.respond, keep_alive=True)  # HTTP/1.1: connections reused, as a pass's client does
    base = server.base
    try:
        t = time.monotonic()
        site.build(base, feeds, 3, 0.5, random.Random(SEED), seed_vocab())
        print(f"[warm] site: {feeds} feeds, {feeds * 3} pages, built in {time.monotonic() - t:.1f}s", flush=True)
        from storywatch.demo.story_folder import write_story

        story = write_story(tmp / "warm", seed_story(), [f"{base}/feed/{n}.xml" for n in range(feeds)], STORY_TOML)
        db = tmp / "warm" / "warm.duckdb"

        from prefect import flow
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        from storywatch.flows.monitor import monitor_story

        @flow(name="scale-trivial")
        def trivial() -> int:
            return 1

        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            t = time.monotonic()
            trivial()
            startup = time.monotonic() - t
            t = time.monotonic()
            trivial()
            overhead = time.monotonic() - t
            print(f"[warm] prefect start-up {startup:.1f}s, trivial flow {overhead:.2f}s", flush=True)

            passes = {}
            for name in ("cold", "warm"):
                site.reset()
                # the pass's stdout alert channel prints every alert: keep that out of the report
                with open(tmp / "warm" / f"{name}-stdout.log", "w", encoding="utf-8") as log, \
                        contextlib.redirect_stdout(log):
                    t = time.monotonic()
                    result = monitor_story(str(story), str(db), allow_private_hosts=True)
                    wall = time.monotonic() - t
                passes[name] = (wall, result, site.snapshot())
                print(f"[warm] {name} pass {wall:.1f}s: feeds_ok {result['feeds_ok']}, not modified "
                      f"{result['feeds_not_modified']}, failed {result['feeds_failed']}, pages "
                      f"{result['pages_fetched']}; server {passes[name][2]}", flush=True)
        _stop_extraction_pool()
    finally:
        server.close()

    cold_wall, cold, cold_srv = passes["cold"]
    warm_wall, warm, warm_srv = passes["warm"]
    rows += [
        ("warm", "Prefect start-up (first trivial flow)", f"{startup:.1f} s", "–", ""),
        ("warm", "one flow run's overhead (second trivial flow)", f"{overhead:.2f} s", "–", ""),
        ("warm", f"cold pass, {feeds} feeds / {feeds * 3} pages (reference)",
         f"{cold_wall:.1f} s; {cold['pages_fetched']} pages, {cold['feeds_ok']} feeds parsed, "
         f"{cold['pages_fetched'] / cold_wall:.1f} pages/s", "–", ""),
        ("warm", "warm pass wall", f"{warm_wall:.2f} s", "–", ""),
        ("warm", "warm pass beyond one flow run's overhead", f"{warm_wall - overhead:.2f} s "
         f"({(warm_wall - overhead) / feeds * 1000:.1f} ms/feed)", "–", ""),
        ("warm", "pages fetched during warm (pass / server)",
         f"{warm['pages_fetched']} / {warm_srv['page 200'] + warm_srv['page 304']}", "0",
         _yes(warm["pages_fetched"] == 0 and warm_srv["page 200"] + warm_srv["page 304"] == 0)),
        ("warm", "feeds parsed during warm (feeds_ok)", str(warm["feeds_ok"]), "0", _yes(warm["feeds_ok"] == 0)),
        ("warm", "feeds 304 during warm (pass / server)", f"{warm['feeds_not_modified']} / {warm_srv['feed 304']}",
         str(feeds), _yes(warm["feeds_not_modified"] == feeds == warm_srv["feed 304"])),
    ]
    if cold["feeds_failed"] or warm["feeds_failed"]:
        notes.append(f"warm: feeds failed: cold {cold['feeds_failed']}, warm {warm['feeds_failed']}")
    notes.append(f"warm: server counts cold {cold_srv}; warm {warm_srv}")


def _stop_extraction_pool() -> None:
    """Stop this process's extraction workers (idle after the passes) so they hold no memory."""
    import storywatch.flows.extraction as extraction

    pool = extraction._pool
    if pool is not None:
        extraction._pool = None
        pool.shutdown(wait=True)


# --- 2. dedupe --------------------------------------------------------------------------------------

def run_dedupe(sizes: list[int], rows: list, notes: list[str], rounds: int = 5) -> None:
    import numpy as np

    from storywatch.dedupe import Signature, signature
    from storywatch.judge import Judge
    from storywatch.models import Verdict
    from storywatch.text import content_hash

    seeds = seed_texts()
    vocab = seed_vocab()
    rng = random.Random(SEED + 1)
    real = [shuffled(rng, vocab, 320) for _ in range(50)]
    real_sigs = [signature(t) for t in real]
    real_hashes = [content_hash(t) for t in real]
    # 300 new articles: 50 exact copies, 50 near copies (a sentence cut, another added, a new
    # headline), 200 fresh texts from the same vocabulary.
    articles: list[tuple[str, str, int | None]] = []
    for k in range(50):
        articles.append((f"copy-exact-{k}", real[k], k))
    for k in range(50):
        sentences = re.split(r"(?<=\.)\s+", real[k])
        near = [f"Headline {k}: " + shuffled(rng, vocab, 8)] + sentences[2:] + [shuffled(rng, vocab, 14)]
        articles.append((f"copy-near-{k}", " ".join(near), k))
    for k in range(200):
        articles.append((f"fresh-{k}", shuffled(rng, vocab, 320), None))
    sigs = [signature(text) for _, text, _ in articles]

    judges, builds, rss_growth = {}, {}, {}
    for n in sizes:
        judge = Judge.for_story(seeds, 0.4)
        matrix = np.random.default_rng(SEED + n).integers(0, 2**32, (n, 128), dtype=np.uint64).astype(np.uint32)
        positions = {round(i * (n - 1) / 49): i for i in range(50)} if n >= 50 else {i: i for i in range(n)}
        history = [(f"h{i:07d}", real_hashes[positions[i]], real_sigs[positions[i]]) if i in positions else
                   (f"h{i:07d}", f"random-{i}", Signature(matrix[i].copy(), size=400)) for i in range(n)]
        del matrix
        rss_before = _rss_mb()
        t = time.perf_counter()
        for key, text_hash, sig in history:
            judge.remember(key, text_hash, sig)
        builds[n] = time.perf_counter() - t
        rss_growth[n] = _rss_mb() - rss_before
        judges[n] = (judge, {positions[i]: f"h{i:07d}" for i in positions})
        print(f"[dedupe] history {n:,}: index built in {builds[n]:.2f}s (+{rss_growth[n]:.0f} MB RSS)", flush=True)

    judge_times = {n: [] for n in sizes}
    query_times = {n: [] for n in sizes}
    verdicts = {}
    for _ in range(rounds):  # interleaved, so background load falls on every size alike
        for n in sizes:
            judge, _ = judges[n]
            t = time.perf_counter()
            out = [judge.judge(aid, text)[0] for aid, text, _ in articles]
            judge_times[n].append((time.perf_counter() - t) / len(articles))
            verdicts[n] = out
            t = time.perf_counter()
            for sig in sigs:
                judge.coverage.earliest_copy(sig)
            query_times[n].append((time.perf_counter() - t) / len(sigs))
    lo, hi = min(sizes), max(sizes)
    best_j = {n: min(v) for n, v in judge_times.items()}
    best_q = {n: min(v) for n, v in query_times.items()}
    ratio_j, ratio_q = best_j[hi] / best_j[lo], best_q[hi] / best_q[lo]

    def found(n: int) -> tuple[int, int, int]:
        _, originals = judges[n]
        copies = hits = wrong = 0
        for (aid, _, source), judgment in zip(articles, verdicts[n]):
            if source is None:
                wrong += judgment.verdict is not Verdict.NEW
                continue
            copies += 1
            hits += judgment.verdict is Verdict.SYNDICATED and judgment.duplicate_of == originals[source]
        return hits, copies, wrong

    for n in sizes:
        rows.append(("dedupe", f"judge.judge per article, history {n:,}",
                     f"{best_j[n] * 1000:.2f} ms (median round {statistics.median(judge_times[n]) * 1000:.2f})", "–", ""))
    for n in sizes:
        rows.append(("dedupe", f"coverage.earliest_copy per article, history {n:,}",
                     f"{best_q[n] * 1e6:.0f} µs (median round {statistics.median(query_times[n]) * 1e6:.0f})", "–", ""))
    rows += [
        ("dedupe", f"judge.judge ratio {hi:,} / {lo:,}", f"{ratio_j:.2f}×", f"≤ {DEDUPE_RATIO_TARGET}×",
         _yes(ratio_j <= DEDUPE_RATIO_TARGET)),
        ("dedupe", f"earliest_copy ratio {hi:,} / {lo:,}", f"{ratio_q:.2f}×", f"≤ {DEDUPE_RATIO_TARGET}×",
         _yes(ratio_q <= DEDUPE_RATIO_TARGET)),
    ]
    for n in sizes:
        rows.append(("dedupe", f"index of all {n:,} built in memory (a pass loads only bucket-sharing rows)",
                     f"{builds[n]:.2f} s ({builds[n] / n * 1e6:.0f} µs each, +{rss_growth[n]:.0f} MB RSS)",
                     "–", ""))
    hits, copies, wrong = found(hi)
    hits_lo, _, wrong_lo = found(lo)
    rows.append(("dedupe", f"copies found at {hi:,} (syndicated, pointing at the original)",
                 f"{hits}/{copies} (at {lo:,}: {hits_lo}/{copies})", f"{copies}/{copies}", _yes(hits == copies)))
    rows.append(("dedupe", f"fresh articles judged new at {hi:,}", f"{200 - wrong}/200 (at {lo:,}: {200 - wrong_lo}/200)",
                 "200/200", _yes(wrong == 0)))
    same = [a.verdict for a in verdicts[hi]] == [a.verdict for a in verdicts[lo]]
    if not same:
        notes.append("dedupe: verdicts differ between history sizes")


def _rss_mb() -> float:
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


# --- 3. peak RSS ------------------------------------------------------------------------------------

def build_warehouse(db: Path, slug: str, n: int, rng: random.Random, vocab: list[str]) -> float:
    """`n` historic articles, written with INSERT … SELECT … FROM range(n); returns seconds taken."""
    from storywatch.warehouse.store import Warehouse

    t = time.monotonic()
    on_pool = [shuffled(rng, vocab, 42) for _ in range(300)]
    off_pool = [shuffled(rng, OFF_TOPIC_WORDS, 42) for _ in range(300)]
    with Warehouse.open(db) as wh:
        con = wh.con
        con.execute("BEGIN TRANSACTION")
        con.execute(
            """
            CREATE TEMP TABLE hist AS
            SELECT i, i % 10 = 0 AS on_story,
                   TIMESTAMP '2025-01-01' + (i // 1000) * INTERVAL 1 HOUR + (i % 1000) * INTERVAL 1 SECOND AS ts,
                   'https://outlet' || (i % 200) || '.example.org/news/' || i AS url,
                   'outlet' || (i % 200) || '.example.org' AS outlet,
                   'Archive report ' || i AS title,
                   'Archive report ' || i || '. ' || array_to_string(list_transform(range(8),
                       lambda k: CASE WHEN i % 10 = 0 THEN $on[1 + (hash(i * 8 + k) % len($on))::INT]
                                 ELSE $off[1 + (hash(i * 8 + k) % len($off))::INT] END), chr(10) || chr(10)) AS text
            FROM range($n) t(i)
            """,
            {"on": on_pool, "off": off_pool, "n": n},
        )
        con.execute(
            "INSERT INTO runs (run_id, story, started_at, finished_at, status) "
            "SELECT 'hist-run-' || r, $slug, TIMESTAMP '2025-01-01' + r * INTERVAL 1 HOUR, "
            "TIMESTAMP '2025-01-01' + r * INTERVAL 1 HOUR + INTERVAL 5 MINUTE, 'completed' "
            "FROM range(($n + 999) // 1000) t(r)", {"slug": slug, "n": n})
        con.execute(
            "INSERT INTO articles (article_id, url, outlet, title, published_at, first_seen_at, last_checked_at) "
            "SELECT 'hist-' || i, url, outlet, title, ts, ts, ts + INTERVAL 5 DAY FROM hist")
        con.execute(
            """
            INSERT INTO page_versions (article_id, version, run_id, fetched_at, final_url, http_status,
                content_type, html_gz, title, author, outlet, language, published_at, date_source,
                text_source, text, content_hash, minhash, shingles)
            SELECT 'hist-' || i, 1, 'hist-run-' || (i // 1000), ts, url, 200, 'text/html; charset=utf-8', NULL,
                   title, NULL, outlet, 'en', ts, 'page', 'page', text, sha256(text),
                   from_hex(array_to_string(list_transform(range(32), lambda k: md5((i * 32 + k)::VARCHAR)), '')),
                   400
            FROM hist
            """)
        con.execute(
            """
            INSERT INTO verdicts (story, article_id, run_id, judged_at, relevance, verdict, reason,
                duplicate_of, duplicate_score, attempts, novelty)
            SELECT $slug, 'hist-' || i, 'hist-run-' || (i // 1000), ts,
                   CASE WHEN on_story THEN 0.5 + (i % 50) / 100 ELSE (i % 30) / 100 END,
                   CASE WHEN on_story THEN 'new' ELSE 'off_topic' END,
                   CASE WHEN on_story THEN 'synthetic history: on-story' ELSE 'synthetic history: off topic' END,
                   NULL, NULL, 1, CASE WHEN on_story THEN 0.5 END
            FROM hist
            """, {"slug": slug})
        fill_said_store(con, slug, on_pool)
        fill_copy_buckets(con, slug)
        con.execute(
            """
            INSERT INTO entries (story, feed_url, guid, link, article_id, title, published_at, fingerprint,
                first_seen_at, last_seen_at)
            SELECT $slug, 'https://outlet' || (i % 200) || '.example.org/feed.xml', url, url, 'hist-' || i,
                   title, ts, sha256(url), ts, ts
            FROM hist
            """, {"slug": slug})
        con.execute("DROP TABLE hist")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return time.monotonic() - t


def fill_said_store(con, slug: str, on_pool: list[str]) -> None:  # noqa: ANN001 - a DuckDB connection
    """What passes would have stored of the on-story history (said_sentences, said_versions):
    every sentence of every article in first-seen order, as if no two articles shared one (more
    than the store keeps: it skips a sentence already stored word for word)."""
    from storywatch.novelty import Prepared

    prepared = [Prepared.of(p) for p in on_pool]
    picks = con.execute("SELECT i, list_transform(range(8), lambda k: (hash(i * 8 + k) % $m)::INT) "
                        "FROM hist WHERE on_story ORDER BY i", {"m": len(on_pool)}).fetchall()
    rows = [(f"hist-{i}", s.text, sorted(fp.features), sorted(fp.numbers))
            for i, pool in picks for k in pool for s, fp in zip(prepared[k].sentences, prepared[k].prints)]
    con.execute("INSERT INTO said_sentences SELECT $slug, unnest(range($n)), unnest($a), unnest($t), unnest($f), "
                "unnest($x::VARCHAR[][])",
                {"slug": slug, "n": len(rows), "a": [r[0] for r in rows], "t": [r[1] for r in rows],
                 "f": [r[2] for r in rows], "x": [r[3] for r in rows]})
    con.execute("INSERT INTO said_versions SELECT $slug, 'hist-' || i, 1 FROM hist WHERE on_story", {"slug": slug})


def fill_copy_buckets(con, slug: str) -> None:  # noqa: ANN001 - a DuckDB connection
    """What passes would have stored of the on-story history's copy index: the LSH buckets of
    each article's stored minhash (storywatch/dedupe.py bucket_keys)."""
    from storywatch.dedupe import Signature, bucket_keys

    ids, keys = [], []
    for i, minhash, size in con.execute("SELECT 'hist-' || i, p.minhash, p.shingles FROM hist "
                                        "JOIN page_versions p ON p.article_id = 'hist-' || i WHERE on_story").fetchall():
        for key in bucket_keys(Signature.from_bytes(minhash, size)):
            ids.append(i)
            keys.append(key)
    con.execute("INSERT INTO copy_buckets SELECT $slug, unnest($a), unnest($k::BIGINT[])",
                {"slug": slug, "a": ids, "k": keys})


def run_rss(tmp: Path, pages: int, history: int, rows: list, notes: list[str]) -> None:
    feeds = 50
    per_feed = -(-pages // feeds)
    vocab = seed_vocab()
    folder = tmp / "rss"
    site = Site()
    server = serve(site.respond, keep_alive=True)  # HTTP/1.1: connections reused, as a pass's client does
    base = server.base
    try:
        t = time.monotonic()
        site.build(base, feeds, per_feed, 0.3, random.Random(SEED + 2), vocab, paragraphs=3, words_per_paragraph=45)
        print(f"[rss] site: {feeds} feeds, {feeds * per_feed} pages, built in {time.monotonic() - t:.1f}s", flush=True)
        from storywatch.demo.story_folder import write_story
        from storywatch.extractors.story import load_story

        story = write_story(folder, seed_story(), [f"{base}/feed/{n}.xml" for n in range(feeds)], STORY_TOML)

        slug = load_story(story).slug
        db = folder / "history.duckdb"
        built = build_warehouse(db, slug, history, random.Random(SEED + 3), vocab)
        size_mb = db.stat().st_size / 2**20
        print(f"[rss] warehouse: {history:,} articles, {size_mb:.0f} MB, built in {built:.1f}s", flush=True)

        out = folder / "pass.json"
        env = dict(os.environ, PREFECT_HOME=str(folder / "prefect-home"))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--run-pass", str(story), str(db), str(out)]
        log_path = folder / "pass-stdout.log"  # the pass's stdout alert channel: every alert
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT), stdout=log)
        deadline = time.monotonic() + PASS_TIMEOUT
        usage, status = None, None
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.5)
        else:
            proc.kill()
            proc.wait(30)
            notes.append(f"rss: the pass subprocess was killed after {PASS_TIMEOUT}s")
        if proc.returncode != 0 or not out.exists():
            tail = log_path.read_text("utf-8", "replace").splitlines()[-5:]
            notes.append(f"rss: the pass subprocess exited {proc.returncode}; its stdout ended: {tail}")
            rows.append(("rss", "peak RSS of the pass", "no result", f"< {RSS_TARGET_MB:,.0f} MB", "no"))
            return
        report = json.loads(out.read_text())
        served = site.snapshot()
    finally:
        server.close()

    result = report["result"]
    workers = report["workers_hwm_mb"]
    upper = report["self_hwm_mb"] + sum(workers)
    judged = sum(result["verdicts"].values())
    rows += [
        ("rss", "warehouse (synthetic history)",
         f"{history:,} articles ({history // 10:,} on-story), {size_mb:.0f} MB, built in {built:.0f} s", "–", ""),
        ("rss", "pass process peak RSS (VmHWM)",
         f"{report['self_hwm_mb']:.0f} MB (RSS {report['rss_before_mb']:.0f} MB before the pass)", "–", ""),
        ("rss", f"extraction workers' peak RSS ({len(workers)} spawned)",
         f"largest {max(workers, default=0):.0f} MB, all {sum(workers):.0f} MB", "–", ""),
        ("rss", "peak RSS, pass + workers (upper bound)", f"{upper:.0f} MB", f"< {RSS_TARGET_MB:,.0f} MB",
         _yes(upper < RSS_TARGET_MB)),
        ("rss", "Prefect server subprocess peak (not the pass's)", f"{report['server_hwm_mb']:.0f} MB", "–", ""),
        ("rss", f"pass over {feeds} feeds / {feeds * per_feed} new pages",
         f"{report['wall']:.0f} s, {result['pages_fetched'] / report['wall']:.1f} articles/s "
         f"({result['pages_fetched']} fetched, {judged} judged)", "–", ""),
    ]
    notes.append(f"rss: verdicts {result['verdicts']}, developments {result['developments']}; "
                 f"server {served}; pass process ru_maxrss {usage.ru_maxrss / 1024:.0f} MB (the parent's peak, "
                 f"kept across exec); "
                 f"Prefect start-up in it {report['startup']:.0f} s")
    if result["pages_fetched"] != feeds * per_feed:
        notes.append(f"rss: {result['pages_fetched']} pages fetched, {feeds * per_feed} served")


def _hwm_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+)", status, re.M).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                out.append(int(name))
    return out


def run_pass(story: str, db: str, out: str) -> None:
    """In the subprocess: start Prefect (a trivial flow), run one pass, report memory as JSON."""
    prefect_env(Path(os.environ["PREFECT_HOME"]))
    loopback_only("scale bench")
    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    import storywatch.flows.extraction as extraction
    from storywatch.flows.monitor import monitor_story

    @flow(name="scale-trivial")
    def trivial() -> int:
        return 1

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        t = time.monotonic()
        trivial()
        startup = time.monotonic() - t
        rss_before = _rss_mb()
        t = time.monotonic()
        result = monitor_story(story, db, allow_private_hosts=True)
        wall = time.monotonic() - t
    pool = extraction._pool
    worker_pids = list(pool._processes) if pool is not None else []  # noqa: SLF001 - measuring only
    workers = [_hwm_mb(pid) for pid in worker_pids]
    others = [pid for pid in _children(os.getpid()) if pid not in worker_pids]
    server = max((_hwm_mb(pid) for pid in others), default=0.0)
    if pool is not None:
        extraction._pool = None
        pool.shutdown(wait=True)
    Path(out).write_text(json.dumps({
        "result": result, "wall": wall, "startup": startup, "rss_before_mb": rss_before,
        "self_hwm_mb": _hwm_mb(os.getpid()),
        "workers_hwm_mb": workers, "server_hwm_mb": server, "refused": REFUSED,
    }, default=str))


# --- table ------------------------------------------------------------------------------------------

def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_table(rows: list) -> None:
    """measure | figure | target | met?, each measure prefixed with its part."""
    header = ("measure", "figure", "target", "met?")
    table = [(f"{r[0]}: {r[1]}", *r[2:]) for r in rows]
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(4)]
    line = lambda r: "| " + " | ".join(str(v).ljust(w) for v, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table:
        print(line(r))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated: warm,dedupe,rss")
    parser.add_argument("--feeds", type=int, default=500, help="feeds of the warm pass (3 pages each)")
    parser.add_argument("--history", default="1000,100000", help="history sizes for dedupe, comma-separated")
    parser.add_argument("--pages", type=int, default=5000, help="new pages of the rss pass (over 50 feeds)")
    parser.add_argument("--warehouse", type=int, default=100000, help="articles in the rss pass's warehouse")
    parser.add_argument("--run-pass", nargs=3, metavar=("STORY", "DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_pass:
        run_pass(*args.run_pass)
        return 0
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    sizes = sorted({int(s) for s in args.history.split(",") if s.strip()})
    if "dedupe" in parts and len(sizes) < 2:
        parser.error("--history needs at least two sizes")

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="storywatch-scale-"))
    rows: list = []
    notes: list[str] = []
    try:
        prefect_env(tmp / "prefect-home")
        loopback_only("scale bench")
        if "warm" in parts:
            run_warm(tmp, args.feeds, rows, notes)
        if "dedupe" in parts:
            run_dedupe(sizes, rows, notes)
        if "rss" in parts:
            run_rss(tmp, args.pages, args.warehouse, rows, notes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print()
    print("command: .venv/bin/python bench/scale.py " + " ".join(
        f"--{k} {v}" for k, v in (("only", ",".join(parts)), ("feeds", args.feeds), ("history", args.history),
                                   ("pages", args.pages), ("warehouse", args.warehouse))))
    print(f"machine: {cores} cores usable ({os.cpu_count()} online), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, Python {sys.version.split()[0]}")
    print()
    print_table(rows)
    if REFUSED:
        notes.append(f"socket guard refused: {sorted(set(REFUSED))}")
    for note in notes:
        print(f"- {note}")
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
