"""Judgment quality in one table: extraction, dates, dedupe, relevance and feeds, each beside the
obvious alternative measured in the same run, with floors pinned in bench/baseline.json.

    .venv/bin/python bench/quality.py                    # full corpus when ../shared/corpus is there
    .venv/bin/python bench/quality.py --fixtures-only    # the project's own fixtures only (~15 s)
    .venv/bin/python bench/quality.py --check            # exit 1 if a figure drops under its floor
    .venv/bin/python bench/quality.py --update-baseline [--allow-lower "reason"]

What is measured (every page, no sampling):

extraction  Token precision / recall / F1 (lower-cased word tokens, as multisets; the mean over pages
            of each page's P, R and F1) of storywatch's `extract_article` (no feed entry) against
            the expected article text, beside plain `trafilatura.extract(html)` with its defaults.
            trafilatura_eval pages have snippets that must / must not appear instead: scored as
            trafilatura's own evaluation does (a must-snippet found is a true positive, missed a
            false negative; a must-not snippet found is a false positive; pooled over the subset).
            "+ feed teaser": the same pages given a feed entry whose summary is the article's first
            paragraph (300 characters at most); the share of pages whose F1 the fallback rule
            (`choose_text`) did not lower.
dates       Day-level accuracy of `extract_article`'s published date (page metadata, else the URL)
            beside `htmldate.find_date(html, url=url)` with its defaults. Pages whose ground truth
            says "no date" count as right when no date is given.
dedupe      Precision / recall of storywatch's copy rule (content hash, else MinHash near-copy) beside
            exact content hash or same normalized title, on text variants, on page variants (the
            article put into another page's HTML template and extracted again) and on URL variants
            through `article_id` (baseline: the exact URL string). See bench/dedupe.py.
relevance   bench/relevance.py's labeled sets at the story's threshold (AUC, on-story recall,
            off-topic false positives, same-actors pieces above the threshold) beside the keyword
            baseline; and the corpus pages (unrelated real pages) as off-topic background.
feeds       Entry counts of `parse_feed` against the count feedparser reports (the corpus MANIFEST,
            or feedparser in this run for fixtures). Our parser drops entries without a usable link
            and repeated GUIDs; a difference is "explained" when it is exactly those. Bad feeds must
            give entries or one single-line error.

The gate: every figure in baseline.json's section for this mode (fixtures / corpus) is a floor;
--check fails when a figure is more than `epsilon` under it. --update-baseline raises floors to the
measured values (rounded down to 3 decimals) and refuses to lower one unless --allow-lower gives a
reason, which it prints for the commit message.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # the sibling benches imported below

import dedupe as dedupe_bench  # noqa: E402
import novelty as novelty_bench  # noqa: E402
import relevance as relevance_bench  # noqa: E402

from storywatch.extractors.article import choose_text, extract_article  # noqa: E402
from storywatch.text import words  # noqa: E402

BASELINE_FILE = ROOT / "bench" / "baseline.json"
EPSILON = 0.005
# A fixed "now" so date plausibility (nothing more than a day in the future) gives the same answer
# on every run; every corpus and fixture date is before it.
NOW = datetime(2027, 1, 1, tzinfo=timezone.utc)
FULL_TEXT = ("aeb", "newspaper4k", "readability")
TEASER_CHARS = 300
DEMO_BASE = "https://news.example"
# A page variant whose template still shows more than this share of the template's own article
# is not a clean copy of ours (see dedupe.build_variant) and is left out of the labeled set.
MAX_TEMPLATE_LEFTOVER = 0.2


# --- table -------------------------------------------------------------------------------------

@dataclass
class Row:
    area: str
    name: str
    n: int | str
    measure: str
    ours: str
    base: str
    base_is: str


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    teaser: list[tuple] = field(default_factory=list)  # per subset, for the one "+ feed teaser" row

    def add(self, area: str, name: str, n: int | str, measure: str, ours, base, base_is: str,
            pin: dict[str, float] | None = None) -> None:
        self.rows.append(Row(area, name, n, measure, _fmt(ours), _fmt(base), base_is))
        for key, value in (pin or {}).items():
            self.metrics[key] = value

    def print(self) -> None:
        header = ("area", "set", "n", "measure", "storywatch", "baseline", "baseline is")
        cells = [header] + [(r.area, r.name, str(r.n), r.measure, r.ours, r.base, r.base_is) for r in self.rows]
        widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
        right = {2, 4, 5}
        line = lambda c: "| " + " | ".join(v.rjust(w) if i in right else v.ljust(w)  # noqa: E731
                                           for i, (v, w) in enumerate(zip(c, widths))) + " |"
        print(line(header))
        print("|" + "|".join(("-" * (w + 1) + ":" if i in right else "-" * (w + 2)) for i, w in enumerate(widths)) + "|")
        for c in cells[1:]:
            print(line(c))
        for note in self.notes:
            print(note)


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return " / ".join(_fmt(v) for v in value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


# --- extraction workers ------------------------------------------------------------------------

def _read_html(path: str) -> bytes:
    raw = Path(path).read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _extract_job(job: dict) -> dict:
    """One page through storywatch's extraction and, when asked, the baselines. Runs in a worker."""
    import htmldate
    import trafilatura

    leftover = None
    if "variant" in job:
        html, leftover = dedupe_bench.build_variant(job["variant"])
    elif "html" in job:
        html = job["html"]
    else:
        html = _read_html(job["html_path"])
    url = job.get("url") or ""
    t0 = time.perf_counter()
    art = extract_article(html, url, None, NOW)
    ours_s = time.perf_counter() - t0
    out = {"key": job["key"], "text": art.text, "title": art.title, "date_source": art.date_source,
           "date": art.published_at.date().isoformat() if art.published_at else None, "ours_s": ours_s,
           "leftover": leftover}
    if job.get("base_text"):
        t0 = time.perf_counter()
        try:
            out["base_text"] = trafilatura.extract(html) or ""
        except Exception:  # noqa: BLE001 - the baseline's failure is a zero, not a crash
            out["base_text"] = ""
        out["base_s"] = time.perf_counter() - t0
    if job.get("base_date"):
        try:
            out["base_date"] = htmldate.find_date(html, url=url or None)
        except Exception:  # noqa: BLE001
            out["base_date"] = None
    return out


def run_jobs(jobs: list[dict], workers: int) -> list[dict]:
    if workers <= 1 or len(jobs) < 8:
        return [_extract_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_extract_job, jobs, chunksize=4))


# --- scoring -----------------------------------------------------------------------------------

def token_prf(got: str, expected: str) -> tuple[float, float, float]:
    g, e = Counter(words(got)), Counter(words(expected))
    tp = sum((g & e).values())
    p = tp / sum(g.values()) if g else 0.0
    r = tp / sum(e.values()) if e else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def mean_prf(scores: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    n = max(1, len(scores))
    return tuple(sum(s[i] for s in scores) / n for i in range(3))  # type: ignore[return-value]


def snippet_prf(items: list[tuple[str, list[str], list[str]]]) -> tuple[float, float, float]:
    """trafilatura's evaluation: must-snippets found are TP, missed FN; must-not found are FP."""
    tp = fn = fp = 0
    for text, must, must_not in items:
        flat = " ".join(text.split())
        for s in must:
            found = " ".join(s.split()) in flat
            tp += found
            fn += not found
        fp += sum(" ".join(s.split()) in flat for s in must_not)
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def teaser_text(title: str, expected: str) -> str:
    """What `_feed_text` makes of an entry whose summary is the article's first paragraph."""
    first = dedupe_bench.paragraphs_of(expected)[0] if expected.strip() else ""
    if len(first) > TEASER_CHARS:
        first = first[:TEASER_CHARS].rsplit(" ", 1)[0] + "…"
    return "\n".join(p for p in (title, first) if p).strip() if first else ""


def day(value) -> str | None:
    return value[:10] if isinstance(value, str) and value else None


# --- the sections ------------------------------------------------------------------------------

def demo_pages():
    """Every demo article rendered in every outlet's template (the fixtures' extraction set)."""
    from storywatch.demo.sample_site import SITE_NAMES, Page, load_articles, render_page

    pages = []
    for a in load_articles():
        for outlet in SITE_NAMES:
            page = Page(outlet, a["slug"], a["headline"], a["author"], datetime.fromisoformat(a["published"]),
                        tuple(a["paragraphs"]), a["label"])
            pages.append({"key": f"demo/{outlet}/{a['slug']}", "html": render_page(page, DEMO_BASE),
                          "url": f"{DEMO_BASE}{page.path}", "expected_text": "\n".join(a["paragraphs"]),
                          "expected_date": page.published.astimezone(timezone.utc).date().isoformat(),
                          "own": outlet == a["outlet"], "article": a})
    return pages


def extraction_rows(report: Report, label: str, subset_key: str, items: list[dict], results: dict) -> None:
    """Full-text rows (P/R/F1 and the feed-teaser check) for one subset."""
    ours = [token_prf(results[i["key"]]["text"], i["expected_text"]) for i in items]
    base = [token_prf(results[i["key"]]["base_text"], i["expected_text"]) for i in items]
    o, b = mean_prf(ours), mean_prf(base)
    report.add("extraction", label, len(items), "P / R / F1", o, b, "trafilatura.extract defaults",
               {f"extraction.{subset_key}.f1": o[2]})
    not_lowered = fell_back = 0
    teaser_scores = []
    for item, (_, _, f) in zip(items, ours):
        r = results[item["key"]]
        feed = teaser_text(r["title"], item["expected_text"])
        text, source = choose_text(r["text"], feed)
        fell_back += source == "feed"
        tf = token_prf(text, item["expected_text"])[2]
        teaser_scores.append(tf)
        not_lowered += tf >= f - 1e-9
    report.metrics[f"extraction.{subset_key}.teaser_not_lowered"] = not_lowered / max(1, len(items))
    report.teaser.append((label, len(items), sum(teaser_scores) / max(1, len(items)), o[2], fell_back, not_lowered))


def teaser_row(report: Report) -> None:
    parts = report.teaser
    n = sum(p[1] for p in parts)
    report.add("extraction", "+ feed teaser (" + ", ".join(p[0].split(" ")[0] for p in parts) + ")", n,
               "F1 / fell back / not lowered",
               (sum(p[2] * p[1] for p in parts) / n, sum(p[4] for p in parts), sum(p[5] for p in parts) / n),
               (sum(p[3] * p[1] for p in parts) / n, None, None), "storywatch without a feed entry")


def date_row(report: Report, label: str, key: str, items: list[dict], results: dict) -> None:
    ours = sum(results[i["key"]]["date"] == i["expected_date"] for i in items)
    base = sum(day(results[i["key"]].get("base_date")) == i["expected_date"] for i in items)
    n = max(1, len(items))
    report.add("dates", label, len(items), "day accuracy", ours / n, base / n, "htmldate.find_date(html, url)",
               {f"dates.{key}.accuracy": ours / n})


def dedupe_rows(report: Report, label: str, key: str, result: dict, what: str) -> None:
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in result["by_kind"].items() if v < 1.0) or "every kind 1.00"
    report.add("dedupe", label, f"{result['positives']}+/{result['negatives']}-", "P / R",
               (result["precision"], result["recall"]), (result["base_precision"], result["base_recall"]), what,
               {f"dedupe.{key}.precision": result["precision"], f"dedupe.{key}.recall": result["recall"]})
    report.notes.append(f"  dedupe {label}: recall by kind: {kinds}; false positives {result['false_positives']}"
                        + (f" e.g. {result['false_pairs'][:2]}" if result.get("false_pairs") else "")
                        + (f"; missed e.g. {result['missed'][:3]}" if result.get("missed") else ""))


def relevance_rows(report: Report, background: list[str] | None) -> None:
    profile, threshold, _, _ = relevance_bench.setup()
    keywords = relevance_bench.keyword_baseline(profile.top_terms(5))
    sets = relevance_bench.load_sets()
    for name in ("tuning", "holdout"):
        rows = sets[name]
        labels = [lab for lab, _ in rows]
        texts = [t for _, t in rows]
        o = relevance_bench.row(labels, [profile.score(t) for t in texts], threshold)
        b = relevance_bench.row(labels, [keywords(t) for t in texts], 1.0)
        counts = "/".join(str(labels.count(k)) for k in ("on_story", "same_actors", "off_topic"))
        report.add("relevance", f"{name} (on/same-actors/off)", counts, "AUC / recall / off FP / same>thr",
                   (o["auc"], o["recall"], o["fp"], o["sa"]), (b["auc"], b["recall"], b["fp"], b["sa"]),
                   "any of the seeds' top-5 terms",
                   {f"relevance.{name}.auc": o["auc"], f"relevance.{name}.recall": o["recall"],
                    f"relevance.{name}.off_kept_out": 1 - o["fp"]})
    if background:
        texts = [t for t in background if t.strip()]
        scores = [profile.score(t) for t in texts]
        fp = sum(s >= threshold for s in scores) / max(1, len(texts))
        bfp = sum(keywords(t) >= 1.0 for t in texts) / max(1, len(texts))
        report.add("relevance", "corpus pages as off-topic background", len(texts), "off FP", fp, bfp,
                   "any of the seeds' top-5 terms", {"relevance.background.off_kept_out": 1 - fp})
        top = sorted(scores, reverse=True)[:3]
        report.notes.append(f"  relevance background: threshold {threshold}; highest scores {', '.join(f'{s:.2f}' for s in top)}")


def story_rows(report: Report) -> None:
    """bench/relevance.py's labeled stories, mean per group, at each story's own decision."""
    pooled: dict[tuple[str, str], list[dict[str, float]]] = {}
    for story in relevance_bench.stories():
        for rule, (r, _) in relevance_bench.evaluate(story).items():
            pooled.setdefault((story.group, rule), []).append(r)
    for group in ("tuning", "held out"):
        key = group.replace(" ", "")
        mean = {rule: {k: sum(r[k] for r in rows) / len(rows) for k in ("auc", "recall", "sa", "fp")}
                for (g, rule), rows in pooled.items() if g == group}
        n = len(pooled[(group, "derived")])
        for rule, name in (("derived", "default"), ("+ not/", "not"), ("+ 5 labels", "labels")):
            m = mean[rule]
            report.add("relevance", f"{n} {group} stories, {rule}", n, "AUC / recall / same-actors FP / off FP",
                       (m["auc"], m["recall"], m["sa"], m["fp"]),
                       tuple(mean["tfidf"][k] for k in ("auc", "recall", "sa", "fp")), "TF-IDF cosine to the seeds",
                       {f"relevance.stories.{key}.{name}.auc": m["auc"],
                        f"relevance.stories.{key}.{name}.recall": m["recall"],
                        f"relevance.stories.{key}.{name}.same_actors_kept_out": 1 - m["sa"],
                        f"relevance.stories.{key}.{name}.off_kept_out": 1 - m["fp"]})


def novelty_rows(report: Report) -> None:
    """bench/novelty.py's sentence-labelled sets: new-claim precision and recall per group, beside
    the lexical rule, and how many key developments an article gets."""
    for group, names in (("tuning", novelty_bench.TUNING), ("held out", novelty_bench.HELD_OUT)):
        found = [novelty_bench.measure(name) for name in names]
        n = sum(m["sentences"] for m in found)
        mean = {k: sum(m[k] for m in found) / len(found)
                for k in ("precision", "recall", "lex_precision", "lex_recall", "keys", "merged")}
        key = group.replace(" ", "")
        report.add("novelty", f"{len(found)} {group} stories: new claims", n, "P / R / key per article / merged",
                   (mean["precision"], mean["recall"], mean["keys"], mean["merged"]),
                   (mean["lex_precision"], mean["lex_recall"]), "60% word overlap with one earlier sentence",
                   {f"novelty.{key}.precision": mean["precision"], f"novelty.{key}.recall": mean["recall"],
                    f"novelty.{key}.merged": mean["merged"]})


CONTENT_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".rdf": "application/rdf+xml",
                 ".html": "text/html", ".htm": "text/html"}


def feed_outcome(body: bytes, url: str, content_type: str) -> dict:
    """Our parse beside feedparser's own count on the same bytes and headers, with the items our
    parser leaves out on purpose and says so (no usable link, a repeat of an item in the feed)."""
    import feedparser

    from storywatch.extractors.feeds import parse_feed

    ours = parse_feed(body, url, content_type)
    raw = feedparser.parse(body, response_headers={"content-location": url, "content-type": content_type},
                           sanitize_html=False)
    return {"ours": len(ours.entries), "error": ours.error, "feedparser": len(raw.entries),
            "no_link": ours.without_link, "dup": ours.repeats}


def feed_rows(report: Report, label: str, key: str, feeds: list[tuple[str, bytes, str, int | None]]) -> None:
    """`feeds`: (name, body, content type, feedparser's count from the manifest or None)."""
    exact = explained = 0
    ours_total = reported_total = 0
    diffs = []
    for name, body, ctype, reported in feeds:
        out = feed_outcome(body, f"https://feeds.example/{name}", ctype)
        reported = out["feedparser"] if reported is None else reported
        ours_total += out["ours"]
        reported_total += reported
        dropped = out["no_link"] + out["dup"]
        if out["ours"] == reported:
            exact += 1
        elif out["ours"] == reported - dropped:
            explained += 1
            why = ", ".join(f"{n} {w}" for n, w in ((out["no_link"], "without a usable link"),
                                                    (out["dup"], "repeat of an item with the same GUID and link")) if n)
            diffs.append(f"{name}: {out['ours']} of {reported} ({why})"
                         + (f"; says {out['error']!r}" if out["error"] else ""))
        else:
            diffs.append(f"{name}: {out['ours']} of {reported} UNEXPLAINED (feedparser here {out['feedparser']}, "
                         f"no link {out['no_link']}, repeated GUID {out['dup']}, error {out['error']!r})")
    n = max(1, len(feeds))
    report.add("feeds", label, len(feeds), "same count / explained / entries kept",
               (exact / n, explained / n, ours_total / max(1, reported_total)), (1.0, None, 1.0),
               "feedparser's own count",
               {f"feeds.{key}.accounted": (exact + explained) / n})
    for d in diffs:
        report.notes.append(f"  feeds {label}: {d}")


def bad_feed_row(report: Report, label: str, key: str, feeds: list[tuple[str, bytes, str, int | None]]) -> None:
    """Malformed feeds: each must give entries, or one single-line error, or be an empty feed that
    feedparser too reads as well-formed and empty (a valid answer, not an error)."""
    with_entries = with_error = empty = 0
    errors: Counter = Counter()
    fails, misleading = [], []
    for name, body, ctype, reported in feeds:
        out = feed_outcome(body, f"https://feeds.example/{name}", ctype)
        err = out["error"]
        reported = out["feedparser"] if reported is None else reported
        if out["ours"] > 0:
            with_entries += 1
        elif err and "\n" not in err and len(err) <= 300:
            with_error += 1
            errors[re.match(r"(?:not a feed|unparseable feed): (?:[A-Z]\w+|[^:]{0,40})", err).group(0)
                   if re.match(r"(?:not a feed|unparseable feed): ", err) else err[:40]] += 1
            if reported - out["no_link"] - out["dup"] == 0 < reported and "link" not in err:
                misleading.append(f"{name} ({reported} entr{'y' if reported == 1 else 'ies'}, none with a link)")
        elif not err and reported - out["no_link"] - out["dup"] == 0:
            empty += 1
        else:
            fails.append(f"{name}: {out['ours']} entries, error {err!r}")
    n = max(1, len(feeds))
    report.add("feeds", label, len(feeds), "handled (entries / 1-line error / empty)",
               f"{(with_entries + with_error + empty) / n:.3f} ({with_entries} / {with_error} / {empty})", None, "–",
               {f"feeds.{key}.handled": (with_entries + with_error + empty) / n})
    if errors:
        report.notes.append(f"  feeds {label}: errors given: " + ", ".join(f"{k} ×{v}" for k, v in errors.most_common()))
    if empty:
        report.notes.append(f"  feeds {label}: {empty} are well-formed feeds with no usable entries (feedparser agrees): "
                            "0 entries and no error")
    if misleading:
        report.notes.append(f"  feeds {label}: error names the encoding/XML problem although the real cause of 0 entries "
                            f"is entries without links: {', '.join(misleading)}")
    for f in fails:
        report.notes.append(f"  feeds {label}: NOT HANDLED {f}")


def corpus_feeds(corpus: Path, folder: str) -> list[tuple[str, bytes, str, int | None]]:
    out = []
    for line in (corpus / "feeds" / folder / "MANIFEST.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        body = (corpus / "feeds" / item["file"]).read_bytes()
        if item.get("gzip"):  # served with Content-Encoding: gzip; the HTTP client decodes it
            body = gzip.decompress(body)
        ctype = CONTENT_TYPES.get(Path(item["file"]).suffix, "application/xml")
        out.append((item["file"], body, ctype, item["n_entries"]))
    return out


def fixture_feeds() -> tuple[list, list]:
    folder = ROOT / "tests" / "fixtures" / "feeds"
    good, bad = [], []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".opml":
            continue  # a feed list, not a feed
        entry = (path.name, path.read_bytes(), CONTENT_TYPES.get(path.suffix, "application/xml"), None)
        (bad if path.suffix == ".html" else good).append(entry)
    return good, bad


# --- the run -----------------------------------------------------------------------------------

def measure(corpus: Path | None, workers: int) -> Report:
    report = Report()
    started = time.perf_counter()
    timings: dict[str, float] = {}

    # Jobs: the demo pages always; the corpus pages when present.
    demo = demo_pages()
    jobs = [{"key": p["key"], "html": p["html"], "url": p["url"], "base_text": True, "base_date": True} for p in demo]
    manifest: list[dict] = []
    if corpus:
        for line in (corpus / "pages" / "MANIFEST.jsonl").read_text("utf-8").splitlines():
            item = json.loads(line)
            if item.get("kind") == "synthetic_or_feature_test":
                continue
            item["subset"] = item["id"].split("/")[0]
            manifest.append(item)
            exp_date = item.get("expected_date")
            jobs.append({"key": item["id"], "html_path": str(corpus / "pages" / item["file"]), "url": item.get("url"),
                         "base_text": item["subset"] != "htmldate_mediacloud2020",
                         "base_date": isinstance(exp_date, str) or item["subset"] == "htmldate_mediacloud2020"})
    t0 = time.perf_counter()
    results = {r["key"]: r for r in run_jobs(jobs, workers)}
    timings["extraction"] = time.perf_counter() - t0

    # (a) extraction and dates
    extraction_rows(report, "demo pages (fixtures, 5 templates)", "demo", demo, results)
    if corpus:
        for subset in FULL_TEXT:
            items = [dict(i, key=i["id"], expected_text=(corpus / "pages" / i["expected_text"]).read_text("utf-8", errors="replace"))
                     for i in manifest if i["subset"] == subset]
            label = f"{subset} (full text{', real pages' if subset == 'readability' else ''})"
            extraction_rows(report, label, subset, items, results)
        snips = [i for i in manifest if i["subset"] == "trafilatura_eval"]
        o = snippet_prf([(results[i["id"]]["text"], i["expected_with"], i["expected_without"]) for i in snips])
        b = snippet_prf([(results[i["id"]]["base_text"], i["expected_with"], i["expected_without"]) for i in snips])
        report.add("extraction", "trafilatura_eval (must / must-not snippets)", len(snips), "P / R / F1", o, b,
                   "trafilatura.extract defaults", {"extraction.trafilatura_eval.f1": o[2]})
    teaser_row(report)
    ours_ms = 1000 * sum(r["ours_s"] for r in results.values()) / max(1, len(results))
    base_pages = [r for r in results.values() if "base_s" in r]
    base_ms = 1000 * sum(r["base_s"] for r in base_pages) / max(1, len(base_pages))
    report.notes.append(f"  extraction cost: storywatch {ours_ms:.0f} ms/page (text, metadata, date, language), "
                        f"trafilatura.extract {base_ms:.0f} ms/page")

    date_row(report, "demo pages (fixtures)", "demo", demo, {p["key"]: results[p["key"]] for p in demo})
    if corpus:
        dated = [dict(i, key=i["id"]) for i in manifest if i["subset"] == "trafilatura_eval" and isinstance(i.get("expected_date"), str)]
        date_row(report, "trafilatura_eval (dated pages)", "trafilatura_eval", dated, results)
        mc = [dict(i, key=i["id"], expected_date=i["expected_date"] if isinstance(i.get("expected_date"), str) else None)
              for i in manifest if i["subset"] == "htmldate_mediacloud2020"]
        date_row(report, "htmldate_mediacloud2020", "mediacloud2020", mc, results)
        sources = Counter(results[i["key"]]["date_source"] for i in dated + mc)
        report.notes.append("  dates: storywatch's date came from " + ", ".join(f"{k} {v}" for k, v in sources.most_common())
                            + f"; {sum(i['expected_date'] is None for i in mc)} mediacloud pages have no date in the ground truth")

    # (b) dedupe
    t0 = time.perf_counter()
    dedupe_rows(report, "fixtures: text variants", "fixtures_text",
                dedupe_bench.score_set(*dedupe_bench.text_set(dedupe_bench.fixture_texts())),
                "exact text hash or same normalized title")
    orig, copies = demo_copy_set(demo, results, workers)
    dedupe_rows(report, "demo articles in other outlets' templates", "demo_pages",
                dedupe_bench.score_set(orig, copies), "exact text hash or same normalized title")
    urls = sorted({p["url"] for p in demo})
    if corpus:
        aeb_texts = dedupe_bench.corpus_texts(corpus=corpus)
        dedupe_rows(report, "aeb expected texts: text variants", "aeb_text",
                    dedupe_bench.score_set(*dedupe_bench.text_set(aeb_texts)), "exact text hash or same normalized title")
        orig, copies = corpus_copy_set(report, corpus, manifest, results, workers)
        dedupe_rows(report, "aeb pages in other pages' templates", "aeb_pages",
                    dedupe_bench.score_set(orig, copies), "exact text hash or same normalized title")
        urls = sorted({i["url"] for i in manifest if (i.get("url") or "").startswith(("http://", "https://"))})
    url_result = dedupe_bench.measure_urls(urls)
    dedupe_rows(report, f"URL variants ({'corpus page URLs' if corpus else 'demo URLs'})", "urls", url_result,
                "exact URL string")
    timings["dedupe"] = time.perf_counter() - t0

    # (c) relevance
    background = [results[i["id"]]["text"] for i in manifest] if corpus else None
    relevance_rows(report, background)
    story_rows(report)
    novelty_rows(report)

    # (d) feeds
    good, bad = fixture_feeds()
    feed_rows(report, "fixtures (tests/fixtures/feeds)", "fixtures", good)
    bad_feed_row(report, "fixtures: not a feed", "fixtures_bad", bad)
    if corpus:
        feed_rows(report, "corpus good/", "good", corpus_feeds(corpus, "good"))
        feed_rows(report, "corpus edge/", "edge", corpus_feeds(corpus, "edge"))
        feed_rows(report, "corpus bad/", "bad", corpus_feeds(corpus, "bad"))
        bad_feed_row(report, "corpus bad/", "bad", corpus_feeds(corpus, "bad"))

    timings["total"] = time.perf_counter() - started
    report.notes.append("  time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + f" ({workers} workers)")
    return report


def demo_copy_set(demo: list[dict], results: dict, workers: int):
    """Demo articles in their own outlet (originals) and re-rendered in other outlets' templates."""
    from storywatch.demo.sample_site import SITE_NAMES, Page, render_page

    outlets = list(SITE_NAMES)
    rng = random.Random(5)
    originals, jobs, meta = [], [], []
    for p in [p for p in demo if p["own"]]:
        a = p["article"]
        r = results[p["key"]]
        originals.append(dedupe_bench.Doc(p["key"], None, r["title"], r["text"]))
        others = [o for o in outlets if o != a["outlet"]]
        for k, (kind, (title, paras)) in enumerate(dedupe_bench.page_variants(a["headline"], list(a["paragraphs"]), rng).items()):
            outlet = others[k % len(others)]
            page = Page(outlet, f"{a['slug']}-copy", title, a["author"], datetime.fromisoformat(a["published"]), tuple(paras), a["label"])
            key = f"{p['key']}/{kind}"
            jobs.append({"key": key, "html": render_page(page, DEMO_BASE), "url": f"{DEMO_BASE}{page.path}"})
            meta.append((key, p["key"], kind))
    out = {r["key"]: r for r in run_jobs(jobs, workers)}
    copies = [dedupe_bench.Doc(key, src, out[key]["title"], out[key]["text"], kind) for key, src, kind in meta]
    return originals, copies


def corpus_copy_set(report: Report, corpus: Path, manifest: list[dict], results: dict, workers: int):
    """aeb pages (originals, as extracted from their own HTML) and their texts transplanted into
    other aeb pages' templates, extracted again."""
    pages = []
    for item in sorted((i for i in manifest if i["subset"] == "aeb"), key=lambda i: i["id"]):
        pages.append({"key": item["id"], "title": results[item["id"]]["title"],
                      "text": (corpus / "pages" / item["expected_text"]).read_text("utf-8", errors="replace"),
                      "html_path": str(corpus / "pages" / item["file"]), "url": item.get("url")})
    variant_jobs = dedupe_bench.page_copy_jobs(pages)
    out = {r["key"]: r for r in run_jobs([{"key": j["key"], "variant": j, "url": j["url"]} for j in variant_jobs], workers)}
    originals = [dedupe_bench.Doc(p["key"], None, p["title"], results[p["key"]]["text"]) for p in pages]
    usable = [j for j in variant_jobs if out[j["key"]]["leftover"] <= MAX_TEMPLATE_LEFTOVER]
    copies = [dedupe_bench.Doc(j["key"], j["source"], out[j["key"]]["title"], out[j["key"]]["text"], j["kind"]) for j in usable]
    # How faithfully the set carries the article: token F1 of each variant's extraction against
    # the text put in (low values mean trafilatura could not find it in that template).
    fid = sorted(token_prf(out[j["key"]]["text"], "\n".join(j["paragraphs"]))[2] for j in usable)
    dropped = sorted({j["template_path"].rsplit("/", 1)[-1][:10] for j in variant_jobs if j not in usable})
    report.notes.append(
        f"  dedupe aeb pages: {len(variant_jobs) - len(usable)} of {len(variant_jobs)} variants left out because "
        f"their template's own article stayed visible after the transplant (templates {', '.join(dropped) or 'none'}); "
        f"the variants' extracted text has token F1 {sum(fid) / max(1, len(fid)):.3f} against the text put in "
        f"(10th percentile {fid[len(fid) // 10] if fid else 0:.3f})")
    return originals, copies


# --- the gate ----------------------------------------------------------------------------------

def floor3(value: float) -> float:
    """Rounded down to 3 decimals (a hair under the measured value)."""
    return math.floor(value * 1000 + 1e-9) / 1000


def load_baseline(path: Path = BASELINE_FILE) -> dict:
    if path.exists():
        return json.loads(path.read_text("utf-8"))
    return {"epsilon": EPSILON, "fixtures": {}, "corpus": {}}


def check(metrics: dict[str, float], floors: dict[str, float], epsilon: float) -> list[str]:
    failures = []
    for key, floor in sorted(floors.items()):
        if key not in metrics:
            failures.append(f"{key}: not measured (floor {floor:.3f})")
        elif metrics[key] < floor - epsilon:
            failures.append(f"{key}: {metrics[key]:.4f} < floor {floor:.3f} - {epsilon}")
    return failures


def update(baseline: dict, mode: str, metrics: dict[str, float], allow_lower: str | None,
           path: Path = BASELINE_FILE) -> tuple[bool, list[str]]:
    """Raise `mode`'s floors to the measured values (rounded down) and write the file; refuse,
    writing nothing, when a floor would go down or disappear and no reason is given."""
    old = baseline.get(mode, {})
    new = dict(old)
    raised, lowered = [], []
    for key, value in metrics.items():
        floor = floor3(value)
        if key not in old:
            new[key] = floor
            raised.append(f"{key}: new floor {floor:.3f}")
        elif floor > old[key]:
            new[key] = floor
            raised.append(f"{key}: {old[key]:.3f} -> {floor:.3f}")
        elif value < old[key] - 1e-9:
            lowered.append(f"{key}: {old[key]:.3f} -> {floor:.3f}")
            if allow_lower:
                new[key] = floor
    for key in sorted(set(old) - set(metrics)):
        lowered.append(f"{key}: {old[key]:.3f} -> (removed)")
        if allow_lower:
            new.pop(key)
    if lowered and not allow_lower:
        return False, ["refusing to lower floors (pass --allow-lower \"reason\" to do it on purpose):", *lowered]
    baseline[mode] = dict(sorted(new.items()))
    baseline.setdefault("epsilon", EPSILON)
    path.write_text(json.dumps(baseline, indent=2, sort_keys=False) + "\n", "utf-8")
    lines = [f"baseline.json [{mode}]: {len(raised)} floors raised or added, {len(lowered)} lowered"] + raised
    if lowered:
        lines += ["LOWERED (put this in the commit message):", f"  reason: {allow_lower}", *lowered]
    return True, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus",
                        help="the shared corpus (default ../shared/corpus beside the repo)")
    parser.add_argument("--fixtures-only", action="store_true", help="measure the project's own fixtures only")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure drops under its floor")
    parser.add_argument("--update-baseline", action="store_true", help="raise the floors to the measured values")
    parser.add_argument("--allow-lower", metavar="REASON", help="with --update-baseline: lower floors, for this reason")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    args = parser.parse_args()

    corpus = None if args.fixtures_only else args.corpus.resolve()
    if corpus and not (corpus / "pages" / "MANIFEST.jsonl").exists():
        print(f"no corpus at {corpus}; measuring the fixtures only")
        corpus = None
    mode = "corpus" if corpus else "fixtures"
    report = measure(corpus, max(1, args.jobs))
    print(f"storywatch quality — {mode} ({corpus or 'fixtures only'})\n")
    report.print()

    baseline = load_baseline()
    epsilon = float(baseline.get("epsilon", EPSILON))
    status = 0
    if args.check:
        floors = baseline.get(mode, {})
        failures = check(report.metrics, floors, epsilon)
        if not floors:
            print(f"\nquality gate: no floors for '{mode}' in {BASELINE_FILE.name}")
            status = 1
        elif failures:
            print(f"\nquality gate FAILED ({mode}, epsilon {epsilon}):")
            for f in failures:
                print("  " + f)
            status = 1
        else:
            higher = [k for k, v in floors.items() if floor3(report.metrics[k]) > v]
            print(f"\nquality gate passed: {len(floors)} floors held ({mode}, epsilon {epsilon})"
                  + (f"; {len(higher)} could be raised (--update-baseline)" if higher else ""))
    if args.update_baseline:
        ok, lines = update(baseline, mode, report.metrics, args.allow_lower)
        print()
        for line in lines:
            print(line)
        status = status or (0 if ok else 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
