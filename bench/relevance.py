"""Relevance benchmark: the seed-derived scorer against a keyword baseline on every labeled set.

Run from the project root:  .venv/bin/python bench/relevance.py

Labeled sets (labels on_story / same_actors / off_topic):
  tuning    tests/fixtures/relevance.jsonl + storywatch/demo/site/articles.json (also shown apart)
  holdout   tests/fixtures/relevance_holdout.jsonl    (written before tuning; validation only)

Columns: ROC AUC of on_story against everything else and against same_actors alone; at the threshold
in seeds/meta-open-models/story.toml: on-story recall, off-topic false-positive rate and the share of
same_actors pieces above it; mean scoring time per article, and the scorer's time as a multiple of the
baseline's in the same run.

Baseline: an article is on-story if it contains any of the seeds' top-5 terms (`top_terms(5)`,
matched as whole words, case-insensitive); its AUC ranks by how many of the five it contains.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

from storywatch.extractors.story import load_story, packaged_stories
from storywatch.relevance import StoryProfile
from storywatch.text import words

ROOT = Path(__file__).resolve().parents[1]
STORY = packaged_stories()["meta-open-models"]
REPEATS = 3  # timing: best of this many passes over each set


def load_sets() -> dict[str, list[tuple[str, str]]]:
    """set name -> [(label, text)]"""

    def jsonl(path: Path) -> list[tuple[str, str]]:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [(r["label"], f"{r['title']}\n{r['text']}") for r in rows]

    demo = json.loads((ROOT / "storywatch/demo/site/articles.json").read_text(encoding="utf-8"))
    fixtures = jsonl(ROOT / "tests/fixtures/relevance.jsonl")
    demo_rows = [(a["label"], a["headline"] + "\n" + "\n".join(a["paragraphs"])) for a in demo]
    return {
        "tuning": fixtures + demo_rows,
        "holdout": jsonl(ROOT / "tests/fixtures/relevance_holdout.jsonl"),
        " fixtures": fixtures,    # the tuning set's two sources, broken out
        " demo": demo_rows,
    }


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def keyword_baseline(top: list[str]):
    phrases = [" ".join(words(t)) for t in top]

    def count(text: str) -> float:
        joined = f" {' '.join(words(text))} "
        return float(sum(f" {p} " in joined for p in phrases))

    return count


def timed(fn, texts: list[str]) -> tuple[list[float], float]:
    """Scores and mean milliseconds per text (best of REPEATS passes)."""
    best = float("inf")
    scores: list[float] = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        scores = [fn(t) for t in texts]
        best = min(best, time.perf_counter() - start)
    return scores, 1000 * best / len(texts)


def row(labels: list[str], scores: list[float], threshold: float) -> dict[str, float]:
    by = {k: [s for lab, s in zip(labels, scores) if lab == k] for k in ("on_story", "same_actors", "off_topic")}
    on, sa, off = by["on_story"], by["same_actors"], by["off_topic"]
    return {
        "auc": auc(on, sa + off),
        "auc_sa": auc(on, sa),
        "recall": sum(s >= threshold for s in on) / len(on),
        "fp": sum(s >= threshold for s in off) / len(off),
        "sa": sum(s >= threshold for s in sa) / len(sa),
    }


def setup() -> tuple[StoryProfile, float, list[str], float]:
    """The seed story's profile, its configured threshold, its seeds and the build time (ms)."""
    threshold = tomllib.loads((STORY / "story.toml").read_text(encoding="utf-8"))["thresholds"]["relevance"]
    seeds = list(load_story(STORY).seeds.values())
    start = time.perf_counter()
    profile = StoryProfile.from_seeds(seeds)
    return profile, threshold, seeds, 1000 * (time.perf_counter() - start)


def main() -> None:
    profile, threshold, seeds, build_ms = setup()
    top5 = profile.top_terms(5)
    baseline = keyword_baseline(top5)

    print(f"threshold {threshold} (story.toml)   profile built in {build_ms:.0f} ms from {len(seeds)} seeds")
    print(f"baseline terms (top_terms(5)): {', '.join(top5)}")
    print(f"seed self-scores: {', '.join(f'{profile.score(s):.2f}' for s in seeds)}\n")
    header = (f"{'set':9} {'scorer':10} {'on/sa/off':>9} {'AUC':>6} {'AUC-sa':>6} {'recall':>6} "
              f"{'off FP':>6} {'sa>thr':>6} {'ms/art':>7} {'x base':>6}")
    print(header)
    print("-" * len(header))
    for name, rows in load_sets().items():
        if name == " fixtures":
            print("-" * len(header))
        labels = [lab for lab, _ in rows]
        texts = [t for _, t in rows]
        counts = "/".join(str(labels.count(k)) for k in ("on_story", "same_actors", "off_topic"))
        base_scores, base_ms = timed(baseline, texts)
        scores, ms = timed(profile.score, texts)
        for scorer, values, cutoff, t_ms in (
            ("storywatch", scores, threshold, ms),
            ("keywords", base_scores, 1.0, base_ms),   # on-story if >= 1 of the 5 terms
        ):
            r = row(labels, values, cutoff)
            ratio = f"{t_ms / base_ms:6.1f}" if scorer == "storywatch" else f"{1.0:6.1f}"
            print(f"{name:9} {scorer:10} {counts:>9} {r['auc']:6.3f} {r['auc_sa']:6.3f} {r['recall']:6.2f} "
                  f"{r['fp']:6.2f} {r['sa']:6.2f} {t_ms:7.3f} {ratio}")
    big = ("\n".join(t for _, t in load_sets()[" demo"]))[:5000]
    _, big_ms = timed(profile.score, [big] * 20)
    print(f"\n5 KB article: {big_ms:.2f} ms per score")


if __name__ == "__main__":
    main()
