"""Novelty benchmark: which sentences make a claim the story had not made, judged by meaning?

Run from the project root:  .venv/bin/python bench/novelty.py [--group tuning]

Sets: bench/novelty/<story>.jsonl, every sentence of the seeds and of the first eight core
articles of a story (in publication order), labelled by hand `new` / `restated` / `filler`
against the seeds and the articles before it, restatements pointing at the earliest sentence
making the claim, and the new claims that belong in a one-screen digest marked `key`
(bench/novelty_skeleton.py writes the unlabelled form). In `meta-open-models` (the packaged
story's five seeds, themselves rewrites of one report) each seed is judged against the other four.

  tuning    meta-open-models, court-ruling, product-recall, tune-air-crash
  held out  holdout-strike (never scored while choosing storywatch/claims.py's constants)

Rules, in the same run:
  claims    storywatch: the lexical near-match first, then units (storywatch/claims.py)
  lexical   the rule before: a sentence is new unless 60% of its words and word pairs sit in one
            earlier sentence (storywatch/novelty.py alone)

Columns: precision and recall of `new` (storywatch, then the lexical rule); key developments per
article (storywatch's, and the labels'); precision and recall of `key`; merged: the share of
labelled restatements of another article's claim credited to that article; ms per sentence for
storywatch (both layers, the index rebuilt per article as the bench judges each against its own
past) and for the lexical rule alone, in the same run.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from storywatch.claims import Claim, Known, Units, key_developments
from storywatch.facts import extract_facts
from storywatch.novelty import NoveltyIndex, Prepared
from storywatch.relevance import terms

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "bench" / "novelty"
TUNING = ("meta-open-models", "court-ruling", "product-recall", "tune-air-crash")
HELD_OUT = ("holdout-strike",)
PER_ARTICLE = 3


@dataclass
class Row:
    article: str
    sentence_no: int
    sentence: str
    label: str
    same_as: str
    key: bool


def load(story: str) -> list[list[Row]]:
    """The story's articles in order, each its labelled sentences."""
    articles: dict[str, list[Row]] = {}
    for line in (SETS / f"{story}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            articles.setdefault(r["article"], []).append(
                Row(r["article"], r["sentence_no"], r["sentence"], r["label"], r["same_as"], r["key"]))
    return list(articles.values())


def predict(article: list[Row], before: list[list[Row]]) -> tuple[dict[int, Claim], dict[int, bool]]:
    """storywatch's claim and the lexical rule's verdict (new or not) for each sentence of
    `article`, judged against the articles `before` it."""
    index, known = NoveltyIndex(), Known()
    story_words: set[str] = set()
    for earlier in before:
        text = "\n".join(r.sentence for r in earlier)
        index.add(earlier[0].article, text)
        for r in earlier:
            units = Units.of(r.sentence, extract_facts(r.sentence, text))
            known.add(f"{r.article}#{r.sentence_no}", units)
            if r.article.startswith("seed:"):
                story_words |= {t for t in terms(r.sentence) if " " not in t}
    known.story_words = frozenset(story_words)
    text = "\n".join(r.sentence for r in article)
    assessed = index.assess(Prepared.of(text))
    lexical = {r.sentence_no: s.novel for r, s in zip(article, assessed.sentences)}
    claims = {}
    for r, s in zip(article, assessed.sentences):
        units = Units.of(r.sentence, extract_facts(r.sentence, text))
        if s.novel:
            claims[r.sentence_no] = known.judge(r.sentence, units)
        else:
            claims[r.sentence_no] = Claim("restated", Units(frozenset(), frozenset()),
                                          known.source(units) or f"{s.source}#?")
        known.add(f"{r.article}#{r.sentence_no}", units)
    return claims, lexical


def lexical_ms(articles: list[list[Row]], meta: bool) -> float:
    """ms per sentence of the lexical rule alone (the rule before), on the same sentences."""
    t0 = time.perf_counter()
    sentences = 0
    for i, article in enumerate(articles):
        index = NoveltyIndex()
        for earlier in ([a for a in articles if a is not article] if meta else articles[:i]):
            index.add(earlier[0].article, "\n".join(r.sentence for r in earlier))
        index.assess("\n".join(r.sentence for r in article))
        sentences += len(article)
    return 1000 * (time.perf_counter() - t0) / max(sentences, 1)


def measure(story: str) -> dict[str, float]:
    articles = load(story)
    counts = defaultdict(float)
    t0 = time.perf_counter()
    sentences = 0
    for i, article in enumerate(articles):
        before = [a for a in articles if a is not article] if story == "meta-open-models" else articles[:i]
        claims, lexical = predict(article, before)
        sentences += len(article)
        keys = key_developments(list(claims.items()), PER_ARTICLE)
        counts["articles"] += 1
        counts["keys"] += len(keys)
        counts["keys_labelled"] += sum(r.key for r in article)
        for r in article:
            ours = claims[r.sentence_no].kind == "new"
            counts["tp"] += ours and r.label == "new"
            counts["fp"] += ours and r.label != "new"
            counts["fn"] += (not ours) and r.label == "new"
            counts["ltp"] += lexical[r.sentence_no] and r.label == "new"
            counts["lfp"] += lexical[r.sentence_no] and r.label != "new"
            counts["lfn"] += (not lexical[r.sentence_no]) and r.label == "new"
            counts["ktp"] += (r.sentence_no in keys) and r.key
            counts["kfp"] += (r.sentence_no in keys) and not r.key
            counts["kfn"] += (r.sentence_no not in keys) and r.key
            if r.label == "restated" and r.same_as and not r.same_as.startswith(f"{r.article}#"):
                counts["pairs"] += 1
                source = claims[r.sentence_no].source or ""
                counts["merged"] += source.split("#")[0] == r.same_as.split("#")[0]
    ms = 1000 * (time.perf_counter() - t0) / max(sentences, 1)

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    return {
        "precision": ratio(counts["tp"], counts["tp"] + counts["fp"]),
        "recall": ratio(counts["tp"], counts["tp"] + counts["fn"]),
        "lex_precision": ratio(counts["ltp"], counts["ltp"] + counts["lfp"]),
        "lex_recall": ratio(counts["ltp"], counts["ltp"] + counts["lfn"]),
        "keys": counts["keys"] / counts["articles"], "keys_labelled": counts["keys_labelled"] / counts["articles"],
        "key_precision": ratio(counts["ktp"], counts["ktp"] + counts["kfp"]),
        "key_recall": ratio(counts["ktp"], counts["ktp"] + counts["kfn"]),
        "merged": ratio(counts["merged"], counts["pairs"]), "ms": ms,
        "lex_ms": lexical_ms(articles, story == "meta-open-models"),
        "sentences": sentences,
    }


def pass_cost(rounds: int = 5) -> tuple[float, float, int]:
    """ms per sentence as a pass spends it, each rule on the demo's on-story articles (five times
    over, so the index grows), against an index holding the seeds: the lexical rule with facts
    pulled from its novel sentences (the pass before), and the lexical rule plus claims."""
    from storywatch.demo.sample_site import load_articles
    from storywatch.evolution import seed_units
    from storywatch.extractors.story import load_story, packaged_stories

    seeds = load_story(packaged_stories()["meta-open-models"]).seeds
    texts = ["\n".join(a["paragraphs"]) for a in load_articles() if a["label"] == "on_story"] * rounds

    def run(with_claims: bool) -> tuple[float, int]:
        index, known = NoveltyIndex(), seed_units(seeds)
        for name, text in seeds.items():
            index.add(name, text)
        sentences = 0
        t0 = time.perf_counter()
        for i, text in enumerate(texts):
            assessed = index.assess(Prepared.of(text))
            for j, s in enumerate(assessed.sentences):
                if with_claims:
                    units = Units.of(s.text, extract_facts(s.text, text))
                    claim = known.judge(s.text, units) if s.novel else known.restated(units)
                    known.add(f"{i}#1#{j}", units, claim.kind == "new")
                elif s.novel:
                    extract_facts(s.text)
            index.add(str(i), assessed)
            sentences += len(assessed.sentences)
        return 1000 * (time.perf_counter() - t0) / sentences, sentences

    before, n = run(False)
    after, _ = run(True)
    return before, after, n


def main(argv: list[str]) -> None:
    only = argv[argv.index("--group") + 1] if "--group" in argv else None
    print(f"{'group':9} {'story':17} {'sent':>5} {'new P':>6} {'new R':>6} {'lex P':>6} {'lex R':>6} "
          f"{'keys/art':>8} {'(label)':>7} {'key P':>6} {'key R':>6} {'merged':>6} {'ms/sent':>7} {'lex ms':>6}")
    for group, names in (("tuning", TUNING), ("held out", HELD_OUT)):
        if only and group != only:
            continue
        for story in names:
            if not (SETS / f"{story}.jsonl").exists():
                continue
            m = measure(story)
            print(f"{group:9} {story:17} {m['sentences']:5d} {m['precision']:6.2f} {m['recall']:6.2f} "
                  f"{m['lex_precision']:6.2f} {m['lex_recall']:6.2f} {m['keys']:8.2f} {m['keys_labelled']:7.2f} "
                  f"{m['key_precision']:6.2f} {m['key_recall']:6.2f} {m['merged']:6.2f} {m['ms']:7.2f} {m['lex_ms']:6.2f}")


    before, after, n = pass_cost()
    print(f"\npass-shaped cost over {n} sentences of the demo's on-story articles: lexical rule {before:.2f} ms a "
          f"sentence, with claims {after:.2f} ms ({after / before:.1f}x); only new on-story articles are assessed")


if __name__ == "__main__":
    main(sys.argv[1:])
