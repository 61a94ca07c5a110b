"""Near-duplicate detection measured on labeled pairs, beside an exact-hash + title baseline.

Three labeled sets:

- text variants: each source text against a changed copy of itself (other page chrome, headline
  rewritten, a paragraph added, a paragraph cut, truncated to 60%); negatives are every pair of
  distinct texts. Sources: the project's own on-story fixtures (all about the same story, the
  hardest negatives), and the expected texts of ../shared/corpus/pages/aeb when present.
- page variants (`page_copy_set`): an article's text put into *another page's HTML template*
  (its headline, its paragraphs; the other page's own article removed), optionally with the
  headline rewritten or a paragraph added or removed, then run through `extract_article` like any
  fetched page. Compared with the original page's own extraction. Negatives: every pair of
  distinct originals, and every variant against every original but its source (including the
  page whose template it borrowed, which shares all the chrome).
- URL variants (`measure_urls`): tracking parameters, AMP forms, www/http, fragments, checked
  through `storywatch.urls.article_id`; negatives are the other pages' URLs.

`bench/quality.py` uses these functions for its table; this script prints the text sets.

    .venv/bin/python bench/dedupe.py
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storywatch.dedupe import JACCARD_COPY, JACCARD_FLOOR, NUM_PERM, overlap, signature
from storywatch.text import content_hash, words

ROOT = Path(__file__).resolve().parents[1]

CHROME = "Skip to main content\nMenu\nShare this story\n{}\nComments\nLoading comments…\nMost read\nNewsletter sign-up"
REWRITTEN = "Rewritten headline for the syndication partner"
ADDED = "Editor's note: this story was updated with comment from the company on Tuesday afternoon."


def fixture_texts() -> list[str]:
    arts = json.loads((ROOT / "storywatch/demo/site/articles.json").read_text("utf-8"))
    texts = ["\n".join([a["headline"], *a["paragraphs"]]) for a in arts if a["label"] == "on_story"]
    for line in (ROOT / "tests/fixtures/relevance.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row["label"] == "on_story":
            texts.append(row["title"] + "\n" + row["text"])
    return texts


def corpus_texts(limit: int = 181, corpus: Path | None = None) -> list[str]:
    aeb = (corpus or ROOT.parent / "shared/corpus") / "pages/aeb"
    if not aeb.is_dir():
        return []
    return [p.read_text("utf-8", errors="replace") for p in sorted(aeb.glob("*.expected.txt"))[:limit]]


def variants(text: str, rng: random.Random) -> dict[str, str]:
    lines = [l for l in text.split("\n") if l.strip()]
    body = lines[1:] if len(lines) > 2 else lines
    cut = list(body)
    if len(cut) > 3:
        cut.pop(rng.randrange(1, len(cut)))
    return {
        "chrome": CHROME.format(text),
        "headline": REWRITTEN + "\n" + "\n".join(body),
        "paragraph added": text + "\n" + ADDED,
        "paragraph cut": "\n".join([lines[0], *cut]),
        "truncated 60%": text[: int(len(text) * 0.6)],
    }


def norm_title(title: str) -> str:
    return " ".join(words(title))


def baseline_is_copy(a: str, b: str) -> bool:
    title = lambda t: norm_title(t.split("\n", 1)[0])  # noqa: E731
    return content_hash(a) == content_hash(b) or title(a) == title(b)


@dataclass(frozen=True)
class Doc:
    """One text in a labeled set: its key, the key of the original it copies (None for an
    original), the title a baseline would compare, its text and the kind of change made."""

    key: str
    source: str | None
    title: str
    text: str
    kind: str = ""


def score_set(originals: list[Doc], copies: list[Doc]) -> dict:
    """Precision and recall of storywatch's copy rule (same content hash, or a near-copy by
    `overlap(...).is_copy`) and of the baseline (same content hash, or same normalized title).

    Positives: each copy against its source. Negatives: every pair of distinct originals, and
    every copy against every original other than its source."""
    t0 = time.perf_counter()
    sig = {d.key: signature(d.text) for d in originals + copies}
    hashes = {d.key: content_hash(d.text) for d in originals + copies}
    titles = {d.key: norm_title(d.title) for d in originals + copies}
    elapsed = time.perf_counter() - t0

    def ours(a: Doc, b: Doc) -> bool:
        return hashes[a.key] == hashes[b.key] or overlap(sig[a.key], sig[b.key]).is_copy

    def base(a: Doc, b: Doc) -> bool:
        return hashes[a.key] == hashes[b.key] or bool(titles[a.key]) and titles[a.key] == titles[b.key]

    by_key = {d.key: d for d in originals}
    positives = [(c, by_key[c.source]) for c in copies]
    found = [ours(c, o) for c, o in positives]
    base_found = [base(c, o) for c, o in positives]

    # Negatives: ~10^5 pairs. Only pairs whose estimated Jaccard reaches the rule's lowest
    # floor can be copies, so the MinHash agreement is computed for all pairs at once and the
    # rule is applied to those candidates (same numbers as calling `overlap` on every pair).
    floor = min(JACCARD_FLOOR, JACCARD_COPY)
    orig_hv = np.stack([sig[d.key].hashvalues for d in originals]) if originals else np.zeros((0, NUM_PERM))
    neg_total = neg_fp = base_fp = 0
    false_pairs: list[tuple[str, str]] = []
    for i, a in enumerate(originals + copies):
        start = i + 1 if i < len(originals) else 0   # original pairs once; copies against all
        if start >= len(originals):
            continue
        agree = (orig_hv[start:] == sig[a.key].hashvalues).sum(axis=1) / NUM_PERM
        for j in range(start, len(originals)):
            b = originals[j]
            if b.key == a.source:
                continue
            neg_total += 1
            hit = hashes[a.key] == hashes[b.key] or (agree[j - start] >= floor and overlap(sig[a.key], sig[b.key]).is_copy)
            neg_fp += hit
            base_fp += base(a, b)
            if hit:
                false_pairs.append((a.key, b.key))
    tp, btp = sum(found), sum(base_found)
    kinds = list(dict.fromkeys(c.kind for c in copies))
    return {
        "originals": len(originals),
        "positives": len(positives),
        "negatives": neg_total,
        "precision": tp / max(1, tp + neg_fp),
        "recall": tp / max(1, len(positives)),
        "false_positives": neg_fp,
        "false_pairs": false_pairs[:10],
        "missed": [c.key for (c, _), f in zip(positives, found) if not f][:10],
        "base_precision": btp / max(1, btp + base_fp),
        "base_recall": btp / max(1, len(positives)),
        "by_kind": {k: sum(f for f, (c, _) in zip(found, positives) if c.kind == k)
                    / max(1, sum(c.kind == k for c in copies)) for k in kinds},
        "signature_ms": 1000 * elapsed / max(1, len(sig)),
    }


def text_set(texts: list[str], seed: int = 7) -> tuple[list[Doc], list[Doc]]:
    """The text-variant set: originals and their changed copies (first line is the title)."""
    rng = random.Random(seed)
    originals = [Doc(f"t{i}", None, t.split("\n", 1)[0], t) for i, t in enumerate(texts)]
    copies = [Doc(f"t{i}/{kind}", f"t{i}", v.split("\n", 1)[0], v, kind)
              for i, t in enumerate(texts) for kind, v in variants(t, rng).items()]
    return originals, copies


def measure(name: str, texts: list[str]) -> dict:
    result = score_set(*text_set(texts))
    print(f"\n{name}: {len(texts)} texts, {result['positives']} copy pairs, {result['negatives']} distinct pairs")
    print(f"{'':12}{'precision':>10}{'recall':>8}")
    print(f"{'storywatch':12}{result['precision']:>10.3f}{result['recall']:>8.3f}")
    print(f"{'baseline':12}{result['base_precision']:>10.3f}{result['base_recall']:>8.3f}   (exact text hash or same normalized title)")
    for kind, recall in result["by_kind"].items():
        print(f"  recall on {kind:16} {recall:.3f}")
    print(f"  {result['signature_ms']:.2f} ms per signature")
    return result


# --- page variants: an article's text inside another page's template -------------------------

def page_variants(title: str, paragraphs: list[str], rng: random.Random) -> dict[str, tuple[str, list[str]]]:
    """(title, paragraphs) of each kind of copy a syndication partner or aggregator publishes."""
    cut = list(paragraphs)
    if len(cut) > 2:
        cut.pop(rng.randrange(1, len(cut) - 1))
    return {
        "other template": (title, list(paragraphs)),
        "headline rewritten": (REWRITTEN, list(paragraphs)),
        "paragraph added": (title, [*paragraphs[:1], ADDED, *paragraphs[1:]]),
        "paragraph removed": (title, cut),
    }


def paragraphs_of(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def _norm(text: str) -> str:
    return " ".join(words(text))


_BLOCKS = {"p", "div", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption", "td", "section",
           "article", "ul", "ol", "table", "tr", "dd", "dt", "span", "em", "strong", "b", "i", "a"}


def transplant(template_html: bytes, template_text: str, title: str, paragraphs: list[str]) -> bytes:
    """Another page's HTML with its article replaced by ours.

    The template page's own article (known from its expected text) is removed: every element of
    at least four words whose whole text occurs in that article, outermost first. Our paragraphs
    go where most of the removed elements sat. The headline goes into <title>, og:title /
    twitter:title and the first <h1>. Everything else (navigation, related links, footers,
    scripts, metadata) stays: that is the template."""
    import lxml.html
    from lxml import etree
    from trafilatura import load_html

    root = load_html(template_html)  # decodes as trafilatura does (declared or detected charset)
    # The page is written back as UTF-8: its own charset declarations must go.
    for meta in root.xpath("//meta[@charset] | //meta[translate(@http-equiv, 'CONTENT-TYPE', 'content-type')='content-type']"):
        meta.getparent().remove(meta)
    head = root.find("head")
    if head is not None:
        head.insert(0, etree.Element("meta", charset="utf-8"))
    article = " " + _norm(template_text) + " "
    matched: list = []
    kept: set = set()  # lxml returns the same proxy for a node while a reference to it lives
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag not in _BLOCKS or any(a in kept for a in el.iterancestors()):
            continue
        text = _norm(el.text_content())
        if len(text.split()) >= 4 and f" {text} " in article:
            matched.append(el)
            kept.add(el)
    # Article text written as bare text between <br>s (no element of its own): cleared in place.
    loose = Counter()
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style") or el in kept or any(a in kept for a in el.iterancestors()):
            continue
        if el.text and len(_norm(el.text).split()) >= 4 and f" {_norm(el.text)} " in article:
            el.text = ""
            loose[el] += 1
        if el.tail and len(_norm(el.tail).split()) >= 4 and f" {_norm(el.tail)} " in article and el.getparent() is not None:
            el.tail = ""
            loose[el.getparent()] += 1
    parents = Counter(el.getparent() for el in matched if el.getparent() is not None)
    if parents:
        container = parents.most_common(1)[0][0]
        first = next(el for el in matched if el.getparent() is container)
        position = list(container).index(first)
    elif loose:
        container, position = loose.most_common(1)[0][0], 0
    else:
        bodies = root.xpath("//article") or root.xpath("//body") or [root]
        container, position = bodies[0], len(bodies[0])
    for el in matched:
        if el.getparent() is not None:
            el.drop_tree()
    position = min(position, len(container))
    for k, text in enumerate(paragraphs):
        p = etree.Element("p")
        p.text = text
        container.insert(position + k, p)
    # JSON-LD carries the article too (extractors fall back to its articleBody): a copy in this
    # template would carry ours.
    for script in root.xpath("//script[contains(translate(@type, 'JSON-LD', 'json-ld'), 'ld+json')]"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            if "articleBody" in (script.text or ""):
                script.getparent().remove(script)
            continue
        script.text = json.dumps(_relabel(data, title, "\n".join(paragraphs)))
    for t in root.xpath("//title"):
        t.text = title
    for meta in root.xpath("//meta[@property='og:title' or @name='og:title' or @name='twitter:title' or @property='twitter:title']"):
        meta.set("content", title)
    h1 = root.xpath("//h1")
    if h1:
        for child in list(h1[0]):
            h1[0].remove(child)
        h1[0].text = title
    return lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")


def _relabel(data, title: str, body: str):
    """JSON-LD with articleBody / headline / description replaced by ours (at any depth)."""
    if isinstance(data, list):
        return [_relabel(d, title, body) for d in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if key == "articleBody":
            out[key] = body
        elif key in ("headline", "name", "alternativeHeadline") and isinstance(value, str) and isinstance(data.get("articleBody", data.get("headline")), str):
            out[key] = title
        elif key == "description" and isinstance(value, str):
            out[key] = body[:200]
        else:
            out[key] = _relabel(value, title, body)
    return out


def page_copy_jobs(pages: list[dict], seed: int = 11) -> list[dict]:
    """Jobs building each page's variants in other pages' templates.

    `pages`: dicts with key, title (from the page's own extraction), text (expected article text),
    html_path (gzipped or plain HTML) and url. Variant k of page i borrows the template of page
    i + k + 1 (cyclic), so every page lends its template to four other articles."""
    rng = random.Random(seed)
    jobs = []
    n = len(pages)
    for i, page in enumerate(pages):
        for k, (kind, (title, paras)) in enumerate(page_variants(page["title"], paragraphs_of(page["text"]), rng).items()):
            template = pages[(i + k + 1) % n]
            jobs.append({"key": f"{page['key']}/{kind}", "source": page["key"], "kind": kind, "title": title,
                         "paragraphs": paras, "template_path": template["html_path"],
                         "template_text": template["text"], "url": template["url"]})
    return jobs


def build_variant(job: dict) -> tuple[bytes, float]:
    """The variant page, and the share of the template's own article (5-word shingles) still
    visible in it: a transplant that could not remove the template's article (text drawn by
    script, odd markup) makes a page that really is a copy of the template's article, so such
    variants are left out of the set rather than scored."""
    import gzip

    import lxml.html

    raw = Path(job["template_path"]).read_bytes()
    html = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    page = transplant(html, job["template_text"], job["title"], job["paragraphs"])
    root = lxml.html.fromstring(page)
    for junk in root.xpath("//script | //style | //noscript | //template"):
        junk.drop_tree()
    return page, _containment(job["template_text"], root.text_content())


def _shingles(text: str) -> set[str]:
    w = words(text)
    return {" ".join(w[i:i + 5]) for i in range(max(0, len(w) - 4))}


def _containment(part: str, whole: str) -> float:
    grams = _shingles(part)
    return len(grams & _shingles(whole)) / len(grams) if grams else 0.0


# --- URL variants ------------------------------------------------------------------------------

def url_variants(url: str) -> dict[str, str]:
    """Forms of one article's URL that feeds, social shares and AMP pages hand out."""
    from urllib.parse import urlsplit, urlunsplit

    url = url.strip()
    parts = urlsplit(url)
    sep = "&" if parts.query else "?"
    host = parts.netloc
    bare = re.sub(r"^(?:www\d?|m)\.", "", host)  # the desktop / mobile / numbered-www forms share it
    path = parts.path.rstrip("/") or "/"
    other_scheme = "http" if parts.scheme == "https" else "https"
    return {
        "utm tracking": f"{url}{sep}utm_source=twitter&utm_medium=social&utm_campaign=share",
        "fbclid/gclid": f"{url}{sep}fbclid=IwAR0xyz123&gclid=Cj0KCQ",
        "fragment": f"{url}#comments",
        "scheme": urlunsplit((other_scheme, host, parts.path, parts.query, "")),
        "www": urlunsplit((parts.scheme, bare if bare != host else "www." + host, parts.path, parts.query, "")),
        # an AMP URL's variant is the plain one
        "amp path": urlunsplit((parts.scheme, host, path[:-4] if path.endswith("/amp") else path + "/amp", parts.query, "")),
        "amp query": f"{url}{sep}amp=1",
        "amp host": urlunsplit((parts.scheme, "amp." + bare, parts.path, parts.query, "")),
    }


def measure_urls(urls: list[str]) -> dict:
    """article_id of each variant must equal the original's (recall); no two distinct pages'
    URLs or variants may share an ID (precision). Baseline: the exact URL string."""
    from storywatch.urls import article_id

    urls = sorted({u.strip() for u in urls})
    ids = {u: article_id(u) for u in urls}
    owner: dict[str, set[str]] = {}
    for u, i in ids.items():
        owner.setdefault(i, set()).add(u)
    found: Counter = Counter()
    total: Counter = Counter()
    tp = fp = 0
    missed = []
    for u in urls:
        for kind, v in url_variants(u).items():
            vid = article_id(v)
            total[kind] += 1
            if vid == ids[u]:
                found[kind] += 1
                tp += 1
            else:
                missed.append(v)
            fp += len(owner.get(vid, set()) - {u})
    distinct_collisions = sum(len(s) * (len(s) - 1) // 2 for s in owner.values())
    fp += distinct_collisions
    positives = sum(total.values())
    return {
        "urls": len(urls),
        "positives": positives,
        # every pair of distinct pages' URLs, and every variant against every other page's URL
        "negatives": len(urls) * (len(urls) - 1) // 2 + positives * (len(urls) - 1),
        "precision": tp / max(1, tp + fp),
        "recall": tp / max(1, positives),
        "false_positives": fp,
        # the exact string never matches a variant (every variant differs from the URL) and never
        # joins two pages: recall 0, precision undefined
        "base_precision": None,
        "base_recall": 0.0,
        "by_kind": {k: found[k] / total[k] for k in total},
        "missed": missed[:10],
    }


if __name__ == "__main__":
    measure("own fixtures (one story, many outlets)", fixture_texts())
    real = corpus_texts()
    if real:
        measure("real news pages (../shared/corpus/pages/aeb expected texts)", real)
