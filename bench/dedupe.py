"""Near-duplicate detection measured on labeled pairs, beside an exact-hash + title baseline.

Positives: each source text against a changed copy of itself (other page chrome, headline
rewritten, a paragraph added, a paragraph cut, truncated to 60%). Negatives: every pair of
distinct texts. Sources: the project's own on-story fixtures (all about the same story, the
hardest negatives), plus the expected texts of ../shared/corpus/pages/aeb when present.

    .venv/bin/python bench/dedupe.py
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storywatch.dedupe import overlap, signature  # noqa: E402
from storywatch.text import content_hash, words  # noqa: E402

CHROME = "Skip to main content\nMenu\nShare this story\n{}\nComments\nLoading comments…\nMost read\nNewsletter sign-up"


def fixture_texts() -> list[str]:
    arts = json.loads((ROOT / "storywatch/demo/site/articles.json").read_text("utf-8"))
    texts = ["\n".join([a["headline"], *a["paragraphs"]]) for a in arts if a["label"] == "on_story"]
    for line in (ROOT / "tests/fixtures/relevance.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row["label"] == "on_story":
            texts.append(row["title"] + "\n" + row["text"])
    return texts


def corpus_texts(limit: int = 181) -> list[str]:
    aeb = ROOT.parent / "shared/corpus/pages/aeb"
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
        "headline": "Rewritten headline for the syndication partner\n" + "\n".join(body),
        "paragraph added": text + "\nEditor's note: this story was updated with comment from the company on Tuesday afternoon.",
        "paragraph cut": "\n".join([lines[0], *cut]),
        "truncated 60%": text[: int(len(text) * 0.6)],
    }


def baseline_is_copy(a: str, b: str) -> bool:
    title = lambda t: " ".join(words(t.split("\n", 1)[0]))  # noqa: E731
    return content_hash(a) == content_hash(b) or title(a) == title(b)


def measure(name: str, texts: list[str]) -> None:
    rng = random.Random(7)
    sigs = [signature(t) for t in texts]
    pos = [(t, v, kind) for t in texts for kind, v in variants(t, rng).items()]
    t0 = time.perf_counter()
    found = [overlap(signature(v), signature(t)).is_copy for t, v, _ in pos]
    elapsed = time.perf_counter() - t0
    base = [baseline_is_copy(t, v) for t, v, _ in pos]
    neg_pairs = list(itertools.combinations(range(len(texts)), 2))
    false_pos = sum(overlap(sigs[i], sigs[j]).is_copy for i, j in neg_pairs)
    base_false = sum(baseline_is_copy(texts[i], texts[j]) for i, j in neg_pairs)
    tp, btp = sum(found), sum(base)
    print(f"\n{name}: {len(texts)} texts, {len(pos)} copy pairs, {len(neg_pairs)} distinct pairs")
    print(f"{'':12}{'precision':>10}{'recall':>8}")
    print(f"{'storywatch':12}{tp / max(1, tp + false_pos):>10.3f}{tp / len(pos):>8.3f}")
    print(f"{'baseline':12}{btp / max(1, btp + base_false):>10.3f}{btp / len(pos):>8.3f}   (exact text hash or same normalized title)")
    for kind in ("chrome", "headline", "paragraph added", "paragraph cut", "truncated 60%"):
        hits = [f for f, (_, _, k) in zip(found, pos) if k == kind]
        print(f"  recall on {kind:16} {sum(hits) / len(hits):.3f}")
    print(f"  {elapsed / len(pos) * 1000:.2f} ms per pair (two signatures and a comparison)")


if __name__ == "__main__":
    measure("own fixtures (one story, many outlets)", fixture_texts())
    real = corpus_texts()
    if real:
        measure("real news pages (../shared/corpus/pages/aeb expected texts)", real)
