"""Throughput in one table: storywatch's pass beside the fastest extraction this machine can do, a naive
pipeline and trafilatura's own command line, all on the same real pages served from 127.0.0.1 in the
same run.

    .venv/bin/python bench/throughput.py                          # 1,418 real pages + 2 variants each
    .venv/bin/python bench/throughput.py --pages 200 --feeds 8     # a quick look
    .venv/bin/python bench/throughput.py --only bound,naive        # some contenders only

The site: storywatch.demo.loopback's HTTP server on 127.0.0.1 (a thread of this process) serves every page of
../shared/corpus/pages (gzip-decoded, text/html) under a path made from its original URL, plus
`--variants` copies of each page, chosen in turn from
    tracking  the same HTML, same path, with ?utm_source=…&utm_medium=…&utm_campaign=… (storywatch
              canonicalizes these away: one article; everyone else fetches it twice)
    mirror    the same HTML under another path (/mirror/…): a syndicated copy, same text
    edited    the HTML with one paragraph added after the first paragraph, under /edited/…
spread at random (fixed seed) over `--feeds` RSS 2.0 feeds, each entry with a unique link, title,
summary and pubDate. Feeds and pages answer If-None-Match with 304.

The contenders, each in its own process (this script re-invoked with --run-contender), measured on the
same pages:
    bound       trafilatura.extract (defaults) over every served page's HTML, already in memory, in a
                process pool of os.cpu_count() workers: nothing can be faster on this machine.
    storywatch  monitor_story (flows/monitor.py) on an ephemeral Prefect server: a cold pass (empty
                warehouse) and a warm pass (same site: every feed answers 304). Prefect's start-up is
                timed on a trivial flow first and reported on its own line.
    naive       feedparser.parse(feed URL), then each entry's page fetched in turn (urllib), run
                through trafilatura.extract and stored with one INSERT per row (DuckDB, autocommit).
    cli         `trafilatura --input-file urls.txt --parallel <cores> --output-dir …` with a copy of
                trafilatura's settings.cfg where SLEEP_TIME = 0 (its default waits 5 s between two
                requests to one host, and every page here is on one host) and SSRF_PROTECTION = off
                (it refuses 127.0.0.1 otherwise). Its articles are the files it writes.

Wall is time.monotonic around the measured part; CPU is user+system of the contender's processes
(getrusage of the process and its joined children; storywatch adds its live Prefect server
subprocess from /proc); peak RSS is the largest sum over the contender's process tree (PSS, so pages
shared after fork count once) sampled every 0.2 s (not ru_maxrss: Linux carries it across exec, so
every contender would report at least this script's own peak).
`× bound` is the contender's wall time over the bound's, on the same pages, in the same run.

No traffic leaves 127.0.0.1: the contenders run with a socket guard that refuses any other address
(and says so in the notes), and the served pages' meta refreshes are relative.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from loopback import REFUSED, loopback_only  # bench/loopback.py, beside this script

if TYPE_CHECKING:
    from storywatch.demo.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
CONTENDERS = ("bound", "storywatch", "naive", "cli")
VARIANT_KINDS = ("tracking", "mirror", "edited")
TRACKING_QUERY = "utm_source=rss&utm_medium=feed&utm_campaign=throughput"
SEED = 7
STORY = "meta-open-models"  # the packaged story whose seeds the storywatch contender's story folder gets
CLK_TCK = os.sysconf("SC_CLK_TCK")
STORY_TOML = """title = "Meta open-sources its new models"
feeds = "feeds.txt"
[thresholds]
relevance = 0.4
[fetch]
min_interval_seconds = 0
retries = 0
timeout_seconds = 30
max_pages_per_feed = 100000
"""


# --- the site --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    path: str          # route on the server
    query: str         # "" or the tracking parameters
    source: str        # manifest id of the real page
    kind: str          # original | tracking | mirror | edited
    title: str
    summary: str
    published: str     # ISO 8601
    feed: int

    @property
    def link_suffix(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_META = re.compile(rb"<meta\s[^>]*>", re.I)
_ATTR = re.compile(rb"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SPACE = re.compile(r"\s+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._~/-]+")
_FIRST_P_END = re.compile(rb"</p\s*>", re.I)
_BODY = re.compile(rb"<body", re.I)
_BODY_END = re.compile(rb"</body\s*>", re.I)


def _text(raw: bytes, limit: int) -> str:
    value = _SPACE.sub(" ", html.unescape(raw.decode("utf-8", "replace"))).strip()
    return value[:limit]


def page_title(body: bytes) -> str:
    match = _TITLE.search(body[:300_000])
    return _text(match.group(1), 200) if match else ""


def page_description(body: bytes) -> str:
    for tag in _META.findall(body[:300_000]):
        attrs = {m.group(1).lower(): (m.group(2) or m.group(3) or b"") for m in _ATTR.finditer(tag)}
        if (attrs.get(b"name") or attrs.get(b"property") or b"").lower() in (b"description", b"og:description"):
            text = _text(attrs.get(b"content", b""), 300)
            if text:
                return text
    return ""


def page_path(item: dict, taken: set[str]) -> str:
    """A path made from the page's original URL (host and path, unsafe characters folded), or its
    manifest id when it has no usable URL or the path is taken."""
    url = item.get("url") or ""
    path = ""
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        path = _UNSAFE.sub("-", f"/{parts.hostname or ''}{parts.path}").rstrip("/-")
        # no "." or ".." segments: clients resolve those away before asking
        path = "/" + "/".join(seg for seg in path.split("/") if seg.strip(".-")).rstrip(".-")
        if re.search(r"(?:/amp|\.amp)$", path) or "/amp/" in path:  # storywatch folds AMP forms: keep pages apart
            path = ""
    if not path or path in taken or path.count("/") < 2:
        path = "/" + _UNSAFE.sub("-", item["id"]).rstrip("/-")
    taken.add(path)
    return path


def edited_copy(body: bytes, n: int) -> bytes:
    paragraph = (f"<p>Update {n}: this article was edited after publication. An earlier version of it did not "
                 f"include this paragraph, which the newsroom added to correct a detail and to name its "
                 f"source for the figures above.</p>").encode()
    start = _BODY.search(body)
    end = _FIRST_P_END.search(body, start.end() if start else 0)
    if end:
        return body[:end.end()] + paragraph + body[end.end():]
    close = _BODY_END.search(body)
    return body[:close.start()] + paragraph + body[close.start():] if close else body + paragraph


def _published(item: dict, fallback: datetime) -> datetime:
    for key in ("published", "expected_date"):
        value = item.get(key)
        if isinstance(value, str) and len(value) >= 10:
            try:
                day = datetime.fromisoformat(value[:10]).replace(hour=12, tzinfo=timezone.utc)
            except ValueError:
                continue
            if datetime(1996, 1, 1, tzinfo=timezone.utc) < day < fallback:
                return day
    return fallback


def build_site(corpus: Path, pages: int | None, variants: int, feeds: int,
               now: datetime) -> tuple[list[Entry], dict[str, bytes]]:
    """The entries (in feed order) and each route's body. Deterministic for the same arguments and
    `now`, so a contender process rebuilds exactly what the server serves. `corpus` is the pages folder."""
    manifest = [json.loads(line) for line in (corpus / "MANIFEST.jsonl").read_text("utf-8").splitlines()
                if line.strip()]
    manifest.sort(key=lambda i: i["id"])
    if pages is not None and pages < len(manifest):
        manifest = sorted(random.Random(SEED).sample(manifest, pages), key=lambda i: i["id"])
    rng = random.Random(SEED + 1)
    taken: set[str] = set()
    entries: list[Entry] = []
    bodies: dict[str, bytes] = {}
    for n, item in enumerate(manifest):
        raw = (corpus / item["file"]).read_bytes()
        body = gzip.decompress(raw) if item.get("gz") else raw
        path = page_path(item, taken)
        title = item.get("title") or page_title(body) or path.rsplit("/", 1)[-1].replace("-", " ")
        summary = page_description(body) or next(iter(item.get("expected_with") or []), "") or title
        summary = _SPACE.sub(" ", summary)[:300]
        published = _published(item, now - timedelta(minutes=n + 1))
        made = [Entry(path, "", item["id"], "original", title, summary, published.isoformat(), 0)]
        bodies[path] = body
        for j in range(variants):
            kind = VARIANT_KINDS[(n + j) % len(VARIANT_KINDS)]
            if kind == "tracking":
                made.append(Entry(path, TRACKING_QUERY, item["id"], kind, title, summary, published.isoformat(), 0))
            elif kind == "mirror":
                mirror = "/mirror" + path
                bodies[mirror] = body
                made.append(Entry(mirror, "", item["id"], kind, title, summary,
                                  (published + timedelta(hours=1)).isoformat(), 0))
            else:
                edited = "/edited" + path
                bodies[edited] = edited_copy(body, n)
                made.append(Entry(edited, "", item["id"], kind, f"{title} (updated)", summary,
                                  (published + timedelta(hours=2)).isoformat(), 0))
        entries.extend(made)
    order = list(range(len(entries)))
    rng.shuffle(order)
    shuffled = [entries[i] for i in order]
    per_feed: list[list[Entry]] = [[] for _ in range(max(1, feeds))]
    for i, entry in enumerate(shuffled):
        per_feed[i % len(per_feed)].append(Entry(**{**asdict(entry), "feed": i % len(per_feed)}))
    return [e for feed in per_feed for e in feed], bodies


def render_rss(title: str, base: str, entries: list[Entry]) -> bytes:
    """RSS 2.0, newest first; the GUID is the whole link, so every entry is its own item."""
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{html.escape(title)}</title>'
           f"<link>{base}/</link><description>{html.escape(title)}</description>"]
    for e in sorted(entries, key=lambda e: e.published, reverse=True):
        link = html.escape(base + e.link_suffix)
        out.append(f"<item><title>{html.escape(e.title)}</title><link>{link}</link>"
                   f'<guid isPermaLink="false">{link}</guid>'
                   f"<pubDate>{format_datetime(datetime.fromisoformat(e.published))}</pubDate>"
                   f"<description>{html.escape(e.summary)}</description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


def feed_path(i: int) -> str:
    return f"/feeds/feed-{i:02d}.xml"


class Site:
    """Routes (path -> content type, body, ETag) and request counters."""

    def __init__(self, entries: list[Entry], bodies: dict[str, bytes], feeds: int, base: str) -> None:
        self.routes: dict[str, tuple[str, bytes, str]] = {}
        for path, body in bodies.items():
            self.routes[path] = ("text/html; charset=utf-8", body, _etag(body))
        for i in range(feeds):
            body = render_rss(f"Throughput feed {i:02d}", base, [e for e in entries if e.feed == i])
            self.routes[feed_path(i)] = ("application/rss+xml; charset=utf-8", body, _etag(body))
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.stats = {"requests": 0, "200": 0, "304": 0, "404": 0, "bytes": 0, "feeds": 0}

    def respond(self, target: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """The loopback server's responder: counts every request."""
        if_none_match = headers.get("If-None-Match")
        path = urlsplit(target).path
        route = self.routes.get(path) or self.routes.get(path.rstrip("/"))
        with self.lock:
            self.stats["requests"] += 1
            self.stats["feeds"] += path.startswith("/feeds/")
        if route is None:
            with self.lock:
                self.stats["404"] += 1
            return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not found</h1></body></html>"
        content_type, body, etag = route
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            with self.lock:
                self.stats["304"] += 1
            return 304, {"ETag": etag}, b""
        with self.lock:
            self.stats["200"] += 1
            self.stats["bytes"] += len(body)
        return 200, {"Content-Type": content_type, "ETag": etag}, body


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def serve_site(entries: list[Entry], bodies: dict[str, bytes], feeds: int) -> tuple[LoopbackServer, Site, str]:
    """The site on storywatch.demo.loopback, HTTP/1.1 (connections reused); its feeds name the
    server's own URL, so the server starts first and the site is built for it."""
    from storywatch.demo.loopback import serve  # here, not at the top: a contender process times its imports

    holder: dict[str, Site] = {}
    server = serve(lambda path, headers: holder["site"].respond(path, headers), keep_alive=True)
    holder["site"] = Site(entries, bodies, feeds, server.base)
    return server, holder["site"], server.base


# --- measuring -------------------------------------------------------------------------------------

def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    return children


def descendants(pid: int) -> list[int]:
    children, out, todo = _proc_children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def tree_memory_kb(pid: int) -> int:
    """Sum of PSS (RSS when smaps_rollup is unavailable) over `pid` and its descendants, in kB."""
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            total += int(re.search(r"^Pss:\s+(\d+)", rollup, re.M).group(1))
            continue
        except (OSError, AttributeError):
            pass
        try:
            status = Path(f"/proc/{p}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
            total += int(match.group(1)) if match else 0
        except OSError:
            pass
    return total


def own_cpu() -> float:
    """CPU seconds of this process, its reaped children and its live descendants (/proc)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    for p in descendants(os.getpid()):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK  # utime stime cutime cstime
    return total


@dataclass
class Measured:
    ok: bool
    wall: float            # the parent's wall time for the whole process
    cpu: float             # wait4 user+sys (the process and its reaped children)
    peak_mb: float
    result: dict
    error: str = ""
    server_cpu: float = 0.0   # this (parent) process meanwhile: the HTTP server and the sampling
    others_cpu: float = 0.0   # every other process on the machine meanwhile (/proc/stat)


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:3]) + sum(fields[5:8])) / CLK_TCK  # user nice system, irq softirq steal


def self_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def run_child(argv: list[str], workdir: Path, name: str, timeout: float, env: dict | None = None) -> Measured:
    """Run `argv` in its own session; sample its tree's memory; collect wait4's rusage and the JSON
    result the child writes to workdir/result-NAME.json (when it is this script)."""
    result_file = workdir / f"result-{name}.json"
    result_file.unlink(missing_ok=True)
    out, err = (workdir / f"{name}.stdout").open("wb"), (workdir / f"{name}.stderr").open("wb")
    busy0, mine0, started = machine_busy(), self_cpu(), time.monotonic()
    proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=str(ROOT), env=env, start_new_session=True)
    peak_kb, status, usage, killed = 0, None, None, False
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline and not killed:
            killed = True
            os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            continue
        if killed and time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            deadline = float("inf")
        peak_kb = max(peak_kb, tree_memory_kb(proc.pid))
        time.sleep(0.2)
    wall = time.monotonic() - started
    server_cpu = self_cpu() - mine0
    others_cpu = max(0.0, machine_busy() - busy0 - server_cpu - (usage.ru_utime + usage.ru_stime))
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    err.close()
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    error = ""
    if killed:
        error = f"killed after {timeout:.0f} s"
    elif proc.returncode != 0:
        tail = (workdir / f"{name}.stderr").read_text("utf-8", "replace").strip().splitlines()
        error = f"exit {proc.returncode}: " + (tail[-1][:200] if tail else "no output")
    return Measured(not error, wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024, result, error,
                    server_cpu, others_cpu)


# --- the contenders (each runs in its own process) ---------------------------------------------------



_PAGES: list[bytes] = []


def _extract_one(i: int) -> int:
    import trafilatura

    text = trafilatura.extract(_PAGES[i])
    return len(text) if text else -1


def contender_bound(args: argparse.Namespace, site: dict, workdir: Path) -> dict:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import trafilatura  # noqa: F401 - imported before the fork, as the workers will need it

    entries, bodies = build_site(args.corpus, args.pages, args.variants, args.feeds,
                                 datetime.fromisoformat(site["now"]))
    _PAGES.extend(bodies[e.path] for e in entries)  # one per served URL: a tracking variant is its page again
    workers = os.cpu_count() or 1
    cpu0, t0 = own_cpu(), time.monotonic()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        # Largest pages first, one at a time: no worker is left with a big page at the end.
        order = sorted(range(len(_PAGES)), key=lambda i: len(_PAGES[i]), reverse=True)
        lengths = list(pool.map(_extract_one, order, chunksize=1))
    wall, cpu = time.monotonic() - t0, own_cpu() - cpu0
    return {"articles": sum(n >= 0 for n in lengths), "pages": len(_PAGES), "wall": wall, "cpu": cpu,
            "workers": workers, "html_mb": sum(len(b) for b in {id(b): b for b in _PAGES}.values()) / 1e6}


def contender_storywatch(args: argparse.Namespace, site: dict, workdir: Path) -> dict:
    t_import = time.monotonic()
    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from storywatch.flows.monitor import monitor_story
    imports = time.monotonic() - t_import

    @flow(name="throughput-noop")
    def noop() -> int:
        return 1

    story = workdir / STORY
    db = workdir / "storywatch.duckdb"
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        cpu0, t0 = own_cpu(), time.monotonic()
        noop()
        startup, startup_cpu = time.monotonic() - t0, own_cpu() - cpu0
        cpu0, t0 = own_cpu(), time.monotonic()
        counts = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True, wait_seconds=30)
        wall, cpu = time.monotonic() - t0, own_cpu() - cpu0
    stored, verdicts = None, {}
    try:
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        verdicts = dict(con.execute("SELECT verdict, count(*) FROM verdicts GROUP BY 1 ORDER BY 2 DESC").fetchall())
        con.close()
    except Exception as exc:  # noqa: BLE001 - the schema is not ours to pin here
        verdicts = {"(could not read the warehouse)": str(exc).splitlines()[0]}
    return {"articles": stored, "wall": wall, "cpu": cpu, "startup": startup, "startup_cpu": startup_cpu,
            "imports": imports, "counts": {k: v for k, v in counts.items() if k not in ("run_id", "db_path")},
            "verdicts": verdicts}


def contender_naive(args: argparse.Namespace, site: dict, workdir: Path) -> dict:
    import urllib.request

    import duckdb
    import feedparser
    import trafilatura

    db = workdir / "naive.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE articles (url VARCHAR, title VARCHAR, published VARCHAR, text VARCHAR, fetched_at TIMESTAMP)")
    rows = errors = 0
    cpu0, t0 = own_cpu(), time.monotonic()
    for feed_url in site["feed_urls"]:
        feed = feedparser.parse(feed_url)
        for entry in feed.entries:
            try:
                with urllib.request.urlopen(entry.link, timeout=30) as response:
                    page = response.read()
            except Exception:  # noqa: BLE001 - a naive pipeline skips what fails
                errors += 1
                continue
            text = trafilatura.extract(page, url=entry.link)
            con.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?)",
                        [entry.link, entry.get("title"), entry.get("published"), text, datetime.now()])
            rows += 1
    wall, cpu = time.monotonic() - t0, own_cpu() - cpu0
    articles = con.execute("SELECT count(*) FROM articles WHERE text IS NOT NULL").fetchone()[0]
    con.close()
    return {"articles": articles, "rows": rows, "errors": errors, "wall": wall, "cpu": cpu}


def cli_config(workdir: Path) -> Path:
    import trafilatura

    text = (Path(trafilatura.__file__).parent / "settings.cfg").read_text("utf-8")
    text, n_sleep = re.subn(r"(?m)^SLEEP_TIME\s*=.*$", "SLEEP_TIME = 0", text)
    text, n_ssrf = re.subn(r"(?m)^SSRF_PROTECTION\s*=.*$", "SSRF_PROTECTION = off", text)
    if not n_sleep:
        text = text.replace("[DEFAULT]", "[DEFAULT]\nSLEEP_TIME = 0", 1)
    if not n_ssrf:
        text = text.replace("[DEFAULT]", "[DEFAULT]\nSSRF_PROTECTION = off", 1)
    path = workdir / "trafilatura-settings.cfg"
    path.write_text(text, "utf-8")
    return path


RUNNERS = {"bound": contender_bound, "storywatch": contender_storywatch, "naive": contender_naive}


def child_main(args: argparse.Namespace) -> int:
    loopback_only("throughput bench")
    workdir = Path(args.workdir)
    site = json.loads((workdir / "site.json").read_text("utf-8"))
    name = args.run_contender
    result = RUNNERS[name.split("-")[0]](args, site, workdir)
    result["refused"] = sorted(set(REFUSED))
    (workdir / f"result-{name}.json").write_text(json.dumps(result), "utf-8")
    return 0


# --- the parent -----------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    articles: int | None
    wall: float | None
    cpu: float | None
    peak_mb: float | None
    notes: str
    ratio: bool = True
    rate: bool = True


def child_argv(args: argparse.Namespace, name: str, workdir: Path) -> list[str]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--run-contender", name, "--workdir", str(workdir),
            "--corpus", str(args.corpus.parent), "--variants", str(args.variants), "--feeds", str(args.feeds)]
    return argv + (["--pages", str(args.pages)] if args.pages is not None else [])


def server_note(stats: dict) -> str:
    return (f"{stats['requests']} requests ({stats['200']} × 200, {stats['304']} × 304"
            + (f", {stats['404']} × 404" if stats["404"] else "") + f"), {stats['bytes'] / 1e6:.0f} MB served")


def measure(args: argparse.Namespace, only: list[str]) -> tuple[list[Row], dict]:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    t0 = time.monotonic()
    entries, bodies = build_site(args.corpus, args.pages, args.variants, args.feeds, now)
    build_s = time.monotonic() - t0
    server, site, base = serve_site(entries, bodies, args.feeds)
    workdir = Path(tempfile.mkdtemp(prefix="storywatch-throughput-"))
    feed_urls = [base + feed_path(i) for i in range(args.feeds)]
    page_urls = [base + e.link_suffix for e in entries]
    (workdir / "site.json").write_text(json.dumps({"base": base, "now": now.isoformat(), "feed_urls": feed_urls,
                                                   "pages": len(page_urls)}), "utf-8")
    real = sum(e.kind == "original" for e in entries)
    info = {"pages": len(page_urls), "real": real, "kinds": {k: sum(e.kind == k for e in entries) for k in VARIANT_KINDS},
            "feeds": args.feeds, "build_s": build_s, "workdir": str(workdir)}
    rows: list[Row] = []
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update({"PREFECT_HOME": str(workdir / "prefect-home"), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING"})

    def refused(m: Measured) -> str:
        r = m.result.get("refused") or []
        return f"; REFUSED non-loopback connections to {', '.join(r)}" if r else ""

    info["interference"] = []

    def seen(name: str, m: Measured) -> Measured:
        info["interference"].append((name, m.wall, m.server_cpu, m.others_cpu))
        return m

    def failed(name: str, m: Measured) -> Row:
        print(f"  {name} failed: {m.error} (logs in {workdir})", file=sys.stderr)
        return Row(name, None, None, None, m.peak_mb, f"FAILED: {m.error}")

    def progress(label: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {label} …", file=sys.stderr, flush=True)

    try:
        if "bound" in only:
            progress("bound: trafilatura.extract in a process pool")
            site.reset()
            m = seen("bound", run_child(child_argv(args, "bound", workdir), workdir, "bound", args.timeout, env))
            r = m.result
            rows.append(Row("bound: trafilatura.extract, in memory, process pool", r["articles"], r["wall"], r["cpu"],
                            m.peak_mb, f"{r['pages']} pages' HTML ({r['html_mb']:.0f} MB) in memory, "
                                       f"{r['workers']} workers; text from {r['articles']}" + refused(m))
                        if m.ok else failed("bound", m))
        if "storywatch" in only:
            from storywatch.demo.story_folder import write_story
            from storywatch.extractors.story import packaged_stories

            write_story(workdir, packaged_stories()[STORY], feed_urls, STORY_TOML)  # workdir / STORY
            for phase in ("cold", "warm"):
                progress(f"storywatch {phase} pass")
                site.reset()
                name = f"storywatch-{phase}"
                m = seen(name, run_child(child_argv(args, name, workdir), workdir, name, args.timeout, env))
                stats = dict(site.stats)
                if not m.ok:
                    rows.append(failed(name, m))
                    break
                r, c = m.result, m.result["counts"]
                fetched = c.get("pages_fetched")
                verdicts = ", ".join(f"{k} {v}" for k, v in r["verdicts"].items())
                if phase == "cold":
                    rows.append(Row("Prefect start-up (a trivial flow, ephemeral server)", None, r["startup"],
                                    r["startup_cpu"], None, "paid once per process; imports "
                                    f"(flows.monitor, prefect) another {r['imports']:.1f} s", ratio=False))
                    rows.append(Row("storywatch cold pass: monitor_story, empty warehouse", r["articles"], r["wall"],
                                    r["cpu"], m.peak_mb,
                                    f"articles stored {r['articles']} of {info['pages']} pages served "
                                    f"({info['kinds']['tracking']} tracking-parameter variants are one article with "
                                    f"their page); pages fetched {fetched}, extracted {c.get('extracted')}; "
                                    f"verdicts: {verdicts}; server: {server_note(stats)}" + refused(m)))
                    rows.append(Row("storywatch cold, whole process (imports + Prefect start-up + pass)",
                                    r["articles"], m.wall, m.cpu, m.peak_mb,
                                    "wall and CPU from the parent (os.wait4, Prefect's server subprocess included)"))
                else:
                    rows.append(Row("storywatch warm pass: same site, everything already seen", r["articles"],
                                    r["wall"], r["cpu"], m.peak_mb,
                                    f"feeds 304/unchanged {c.get('feeds_not_modified')} of {c.get('feeds')}, "
                                    f"pages fetched {fetched}, new entries {c.get('entries_new')}; "
                                    f"server: {server_note(stats)}; whole process {m.wall:.1f} s" + refused(m),
                                    ratio=False, rate=False))
        if "naive" in only:
            progress("naive: feedparser + sequential fetches + trafilatura.extract + one INSERT per row")
            site.reset()
            m = seen("naive", run_child(child_argv(args, "naive", workdir), workdir, "naive", args.timeout, env))
            stats = dict(site.stats)
            r = m.result
            rows.append(Row("naive: feedparser, sequential urllib fetches, extract, INSERT per row", r["articles"],
                            r["wall"], r["cpu"], m.peak_mb,
                            f"{r['rows']} rows, {r['articles']} with text, {r['errors']} fetch errors; "
                            f"server: {server_note(stats)}" + refused(m)) if m.ok else failed("naive", m))
        if "cli" in only:
            progress("cli: trafilatura --input-file")
            config = cli_config(workdir)
            (workdir / "urls.txt").write_text("\n".join(page_urls) + "\n", "utf-8")
            out = workdir / "cli-out"
            exe = Path(sys.executable).parent / "trafilatura"
            cores = os.cpu_count() or 1
            v = run_child([str(exe), "--version"], workdir, "cli-version", 120, env)
            site.reset()
            argv = [str(exe), "--input-file", str(workdir / "urls.txt"), "--parallel", str(cores),
                    "--output-dir", str(out), "--config-file", str(config)]
            m = seen("cli", run_child(argv, workdir, "cli", args.timeout, env))
            stats = dict(site.stats)
            files = sum(len(f) for _, _, f in os.walk(out)) if out.exists() else 0
            no_result = (workdir / "cli.stderr").read_text("utf-8", "replace").count("No result for URL")
            info["cli_argv"] = " ".join(["trafilatura", *argv[1:]]).replace(str(workdir), "$WORKDIR")
            note = (f"files written {files} (named by a hash of the text: identical texts share one); "
                    f"'No result' for {no_result} URLs; SLEEP_TIME = 0, SSRF_PROTECTION = off; "
                    f"--parallel {cores}; whole process, incl. start-up ({v.wall:.1f} s wall for --version); "
                    f"server: {server_note(stats)}")
            if m.ok or files:
                rows.append(Row("cli: trafilatura --input-file (its own downloads + extraction)", files, m.wall,
                                m.cpu, m.peak_mb, note + ("" if m.ok else "; exit 1: trafilatura's code when some URLs "
                                                          "gave no result" if m.error.startswith("exit 1:") else f"; {m.error}")))
            else:
                rows.append(failed("cli", m))
    finally:
        server.close()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows, info


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def print_table(rows: list[Row], info: dict, args: argparse.Namespace, total: float) -> None:
    import platform

    import trafilatura
    import prefect

    bound = rows[0].wall if rows and rows[0].name.startswith("bound") and rows[0].wall else None
    print(f"storywatch throughput — {info['pages']} pages served ({info['real']} real pages from "
          f"{args.corpus} + variants: " + ", ".join(f"{k} {v}" for k, v in info["kinds"].items())
          + f") in {info['feeds']} RSS feeds from one 127.0.0.1 server\n")
    print("| contender | articles | wall s | CPU s | articles/s | × bound | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        rate = r.articles / r.wall if r.articles and r.wall and r.rate else None
        ratio = f"{r.wall / bound:.2f}×" if bound and r.wall and r.ratio else "–"
        print(f"| {r.name} | {'–' if r.articles is None else f'{r.articles:,}'} | {fmt(r.wall)} | {fmt(r.cpu)} "
              f"| {fmt(rate)} | {ratio} | {fmt(r.peak_mb, 0)} | {r.notes} |")
    print()
    print(f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python "
          f"{platform.python_version()}, trafilatura {trafilatura.__version__}, prefect {prefect.__version__}; "
          "every contender ran alone in its own process, one after another, against the same server")
    print("× bound: the contender's wall time over the bound's on the same pages in this run (the bound extracts "
          "every served page once; storywatch fetches a tracking-parameter variant once with its page)")
    print("wall: time.monotonic around the measured part; CPU: user+system of the contender's processes; peak RSS: "
          "largest PSS sum over its process tree, sampled every 0.2 s")
    print("storywatch: story.toml [fetch] retries = 0, timeout_seconds = 30, max_pages_per_feed = 100000 "
          "(everything in one pass), other settings default (concurrency 4 per feed); allow_private_hosts=True; "
          "ephemeral Prefect server (PREFECT_HOME in a temp dir), heartbeats off")
    if "cli_argv" in info:
        print(f"cli: {info['cli_argv']} — settings.cfg copied from trafilatura's with SLEEP_TIME = 0 (default "
              "5 s between requests to one host: all pages are on one host here) and SSRF_PROTECTION = off "
              "(default on refuses 127.0.0.1)")
    cores = os.cpu_count() or 1
    print("meanwhile (CPU s; the machine is shared): " + "; ".join(
        f"{name} — this script's HTTP server {server:.1f}, other processes {others:.1f} "
        f"({others / max(wall * cores, 1e-9):.0%} of the machine)" for name, wall, server, others in info["interference"]))
    print(f"site built in {info['build_s']:.1f} s; total run {total:.0f} s")
    cmd = [".venv/bin/python", "bench/throughput.py", "--corpus", str(args.corpus.parent)]
    cmd += ["--pages", str(args.pages)] if args.pages is not None else []
    cmd += ["--feeds", str(args.feeds), "--variants", str(args.variants)]
    cmd += ["--only", ",".join(args.only_list)] if args.only_list != list(CONTENDERS) else []
    print("reproduce: " + " ".join(cmd))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the shared corpus (default ../shared/corpus)")
    parser.add_argument("--pages", type=int, default=None, help="real pages to use (default: all 1,418); variants come on top")
    parser.add_argument("--feeds", type=int, default=36, help="RSS feeds the pages are spread over (default 36)")
    parser.add_argument("--variants", type=int, default=2, choices=range(0, 4),
                        help="variant URLs per real page, from tracking / mirror / edited in turn (default 2)")
    parser.add_argument("--only", default=",".join(CONTENDERS), help="contenders to run: " + ",".join(CONTENDERS))
    parser.add_argument("--timeout", type=float, default=1800, help="seconds each contender may take (default 1800)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, databases, CLI output)")
    parser.add_argument("--run-contender", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    args.corpus = corpus / "pages"
    if not (args.corpus / "MANIFEST.jsonl").exists():
        print(f"throughput: no corpus at {corpus} (expected {args.corpus / 'MANIFEST.jsonl'})", file=sys.stderr)
        return 2
    if args.run_contender:
        return child_main(args)
    args.only_list = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = set(args.only_list) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(sorted(unknown))}; choose from {', '.join(CONTENDERS)}")
    if args.feeds < 1 or (args.pages is not None and args.pages < 1):
        parser.error("--feeds and --pages must be at least 1")
    started = time.monotonic()
    rows, info = measure(args, args.only_list)
    print_table(rows, info, args, time.monotonic() - started)
    return 0 if all(not r.notes.startswith("FAILED") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
