"""Relevance benchmark: does the on-story decision hold on stories it was not tuned on?

Run from the project root:  .venv/bin/python bench/relevance.py

Stories (labels on_story / same_actors / off_topic; real coverage rewritten, sources in each
folder's SOURCES.md):
  tuning    meta-open-models (tests/fixtures/relevance*.jsonl + the demo's articles),
            bench/stories/court-ruling, bench/stories/product-recall
  held out  bench/stories/disaster, election, sports-final: written before any tuning, never
            scored while choosing the rule's constants, reported apart

Rules, each at the story's own decision with default settings:
  derived       the story's derived threshold (StoryProfile.threshold) and the time rule
                (articles published more than 7 days before the seeds' start are off)
  content only  the derived threshold alone, as if no article carried a date
  + not/        derived, plus the folder's 3 counter-examples (nearest-neighbour rule)
  + 5 labels    + not/, then 5 `storywatch label` calls as a person reading the results would
                make them (alternately the highest-scoring article wrongly kept in and the
                highest-scoring article wrongly left out), judged again as `rescore` does; the 5
                labelled articles are left out of the figures
  score@0.4     the scorer before this change: the same score at the fixed threshold 0.4
  tfidf         a plain TF-IDF cosine to the seeds' centroid, at half the least typical seed's
                held-out cosine (the same derivation as ours, on the plain baseline)

Columns: ROC AUC of on_story against the rest (of the rule's score), core recall, the share of
same_actors and of off_topic judged on-story, and mean milliseconds per article beside the
score@0.4 scorer's, measured in the same run.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from storywatch.extractors.story import load_story, packaged_stories
from storywatch.judge import Judge
from storywatch.models import Label
from storywatch.relevance import StoryProfile, cosine, term_vector
from storywatch.text import words
from storywatch.timeline import seed_date, story_start

ROOT = Path(__file__).resolve().parents[1]
STORY = packaged_stories()["meta-open-models"]
STORIES = ROOT / "bench" / "stories"
TUNING = ("court-ruling", "product-recall", "tune-cyberattack", "tune-air-crash")
HELD_OUT = ("disaster", "election", "sports-final", "holdout-merger", "holdout-strike")
LABELS = ("on_story", "same_actors", "off_topic")


@dataclass
class Labeled:
    name: str
    group: str
    seeds: dict[str, str]
    counter: dict[str, str]
    articles: list[tuple[str, str, datetime | None]]  # (label, text, published)


LABELS_GIVEN = 5
LABELLED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_sets() -> dict[str, list[tuple[str, str]]]:
    """The seed story's labeled sets: set name -> [(label, text)] (also read by bench/quality.py)."""
    demo = json.loads((ROOT / "storywatch/demo/site/articles.json").read_text(encoding="utf-8"))
    fixtures = [(r["label"], f"{r['title']}\n{r['text']}") for r in _jsonl(ROOT / "tests/fixtures/relevance.jsonl")]
    demo_rows = [(a["label"], a["headline"] + "\n" + "\n".join(a["paragraphs"])) for a in demo]
    holdout = [(r["label"], f"{r['title']}\n{r['text']}") for r in _jsonl(ROOT / "tests/fixtures/relevance_holdout.jsonl")]
    return {"tuning": fixtures + demo_rows, "holdout": holdout}


def _texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))} if folder.is_dir() else {}


def stories() -> list[Labeled]:
    meta_seeds = load_story(STORY).seeds
    meta = [(label, text, None) for rows in load_sets().values() for label, text in rows if label in LABELS]
    found = [Labeled("meta-open-models", "tuning", meta_seeds, load_story(STORY).counter_examples, meta)]
    for group, names in (("tuning", TUNING), ("held out", HELD_OUT)):
        for name in names:
            folder = STORIES / name
            if not (folder / "articles.jsonl").exists():
                continue
            articles = [(r["label"], f"{r['title']}\n{r['text']}",
                         datetime.fromisoformat(r["published"]).replace(hour=12, tzinfo=timezone.utc))
                        for r in _jsonl(folder / "articles.jsonl")]
            found.append(Labeled(name, group, _texts(folder / "seeds"), _texts(folder / "not"), articles))
    return found


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def keyword_baseline(top: list[str]):
    """On-story if the text holds any of `top` as whole words; ranks by how many (bench/quality.py)."""
    phrases = [" ".join(words(t)) for t in top]

    def count(text: str) -> float:
        joined = f" {' '.join(words(text))} "
        return float(sum(f" {p} " in joined for p in phrases))

    return count


def row(labels: list[str], scores: list[float], threshold: float) -> dict[str, float]:
    """AUC and the shares above `threshold` per label (bench/quality.py's relevance rows)."""
    return summary(labels, scores, [s >= threshold for s in scores])


def summary(labels: list[str], scores: list[float], on: list[bool]) -> dict[str, float]:
    by = {k: [(s, o) for lab, s, o in zip(labels, scores, on) if lab == k] for k in LABELS}
    share = {k: sum(o for _, o in v) / len(v) if v else float("nan") for k, v in by.items()}
    return {"auc": auc([s for s, _ in by["on_story"]], [s for k in LABELS[1:] for s, _ in by[k]]),
            "auc_sa": auc([s for s, _ in by["on_story"]], [s for s, _ in by["same_actors"]]),
            "recall": share["on_story"], "sa": share["same_actors"], "fp": share["off_topic"]}


def setup() -> tuple[StoryProfile, float, list[str], float]:
    """The seed story's profile, its decision threshold (story.toml's, else derived), its seeds
    and the build time in ms (bench/quality.py)."""
    story = load_story(STORY)
    seeds = list(story.seeds.values())
    start = time.perf_counter()
    profile = StoryProfile.from_seeds(seeds)
    build_ms = 1000 * (time.perf_counter() - start)
    configured = story.config.thresholds.relevance
    return profile, profile.threshold() if configured is None else configured, seeds, build_ms


def tfidf_centroid(seeds: list[str]):
    """Cosine to the seeds' centroid, and half the least typical seed's held-out cosine."""
    vectors = [term_vector(s) for s in seeds]

    def centroid(vs: list[dict[str, float]]) -> dict[str, float]:
        total: Counter[str] = Counter()
        for v in vs:
            total.update(v)
        norm = math.sqrt(sum(w * w for w in total.values())) or 1.0
        return {t: w / norm for t, w in total.items()}

    held = [cosine(vectors[i], centroid(vectors[:i] + vectors[i + 1:])) for i in range(len(vectors))]
    whole = centroid(vectors)
    return (lambda text: cosine(term_vector(text), whole)), 0.5 * min(held)


def evaluate(story: Labeled) -> dict[str, tuple[dict[str, float], float]]:
    """rule -> (summary, ms per article)."""
    labels = [a[0] for a in story.articles]
    started = story_start(None, [seed_date(t) for t in story.seeds.values()])
    plain = Judge.for_story(story.seeds)
    out, decided = {}, {}
    for rule, judge, use_dates in (("derived", Judge.for_story(story.seeds, started=started), True),
                                   ("content only", plain, False),
                                   ("+ not/", Judge.for_story(story.seeds, counter_examples=story.counter,
                                                              started=started), True)):
        t0 = time.perf_counter()
        scores = [judge.profile.score(text) for _, text, _ in story.articles]
        on = [not judge.off_story(text, s, published if use_dates else None)
              for (_, text, published), s in zip(story.articles, scores)]
        out[rule] = (summary(labels, scores, on), 1000 * (time.perf_counter() - t0) / len(scores))
        decided[rule] = (scores, on)
    out["+ 5 labels"] = (after_labels(story, started, *decided["+ not/"]), 0.0)
    scores = [plain.profile.score(text) for _, text, _ in story.articles]
    out["score@0.4"] = (row(labels, scores, 0.4), out["content only"][1])
    similarity, cutoff = tfidf_centroid(list(story.seeds.values()))
    t0 = time.perf_counter()
    base = [similarity(text) for _, text, _ in story.articles]
    out["tfidf"] = (row(labels, base, cutoff), 1000 * (time.perf_counter() - t0) / len(base))
    return out


def after_labels(story: Labeled, started, scores: list[float], on: list[bool]) -> dict[str, float]:
    """The figures after LABELS_GIVEN labels on the worst mistakes of the `+ not/` decisions `on`
    (scored `scores`), the labelled articles left out."""
    wrong_in = sorted((i for i, (a, o) in enumerate(zip(story.articles, on)) if o and a[0] != "on_story"),
                      key=lambda i: -scores[i])
    wrong_out = sorted((i for i, (a, o) in enumerate(zip(story.articles, on)) if not o and a[0] == "on_story"),
                       key=lambda i: -scores[i])
    picked: list[int] = []
    while len(picked) < LABELS_GIVEN and (wrong_in or wrong_out):
        for queue in (wrong_in, wrong_out):
            if queue and len(picked) < LABELS_GIVEN:
                picked.append(queue.pop(0))
    labels = [Label(f"a{i}", story.articles[i][0] == "on_story", story.articles[i][1], LABELLED_AT) for i in picked]
    judge = Judge.for_story(story.seeds, counter_examples=story.counter, started=started, labels=labels)
    rest = [(a, judge.profile.score(a[1])) for i, a in enumerate(story.articles) if i not in picked]
    return summary([a[0] for a, _ in rest], [s for _, s in rest],
                   [not judge.off_story(a[1], s, a[2]) for a, s in rest])


def main(argv: list[str]) -> None:
    only = argv[argv.index("--group") + 1] if "--group" in argv else None  # develop on "tuning" alone
    header = f"{'group':9} {'story':17} {'rule':13} {'on/sa/off':>9} {'AUC':>6} {'recall':>6} {'sa FP':>6} {'off FP':>6} {'ms/art':>7}"
    print(header)
    print("-" * len(header))
    pooled: dict[tuple[str, str], list[dict[str, float]]] = {}
    for story in stories():
        if only and story.group != only:
            continue
        labels = [a[0] for a in story.articles]
        counts = "/".join(str(labels.count(k)) for k in LABELS)
        derived = Judge.for_story(story.seeds).threshold
        for rule, (r, ms) in evaluate(story).items():
            pooled.setdefault((story.group, rule), []).append(r)
            print(f"{story.group:9} {story.name:17} {rule:13} {counts:>9} {r['auc']:6.3f} {r['recall']:6.2f} "
                  f"{r['sa']:6.2f} {r['fp']:6.2f} {ms:7.3f}")
        print(f"{'':9} {'':17} (derived threshold {derived:.3f})")
    print("-" * len(header))
    for (group, rule), rows in pooled.items():
        mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("auc", "recall", "sa", "fp")}
        print(f"{group:9} {'mean of stories':17} {rule:13} {'':>9} {mean['auc']:6.3f} {mean['recall']:6.2f} "
              f"{mean['sa']:6.2f} {mean['fp']:6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
