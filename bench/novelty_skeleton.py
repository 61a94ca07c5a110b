"""Write the unlabelled skeleton of a sentence-labelled novelty set (bench/novelty/<story>.jsonl).

Run from the project root:  .venv/bin/python bench/novelty_skeleton.py STORY N

Reads bench/stories/STORY (seeds, then the story's first N on_story articles in publication
order; `meta-open-models` reads the packaged seeds alone) and writes one row per sentence, split
exactly as storywatch splits them, with `label` and `same_as` left for a person to fill in:

  label    "new"      the sentence makes a claim that neither the seeds nor any earlier article
                      in this order made (a new fact, figure, name, quote or event)
           "restated" the claim was made before, in whatever words
           "filler"   no claim about the story (transitions, generic background, boilerplate)
  same_as  for "restated": "<article>#<sentence_no>" of the earliest sentence making the claim
  key      for "new": true when it belongs in a one-screen digest of how the story changed

Seeds come first, as "seed:<file>"; each seed is judged against the seeds before it, except in
`meta-open-models`, whose seeds are each judged against the other four (label what a seed truly
adds to the other four).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from storywatch.extractors.story import load_story, packaged_stories
from storywatch.sentences import split_sentences

ROOT = Path(__file__).resolve().parents[1]


def rows(story: str, n: int) -> list[dict]:
    if story == "meta-open-models":
        seeds = load_story(packaged_stories()[story]).seeds
        articles: list[tuple[str, str]] = []
    else:
        folder = ROOT / "bench" / "stories" / story
        seeds = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "seeds").glob("*.txt"))}
        records = [json.loads(line) for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
                   if line.strip()]
        on = sorted((r for r in records if r["label"] == "on_story"), key=lambda r: (r["published"], r["id"]))[:n]
        articles = [(r["id"], f"{r['title']}\n{r['text']}") for r in on]
    out = []
    for order, (name, text) in enumerate([(f"seed:{k}", v) for k, v in seeds.items()] + articles):
        for number, sentence in enumerate(split_sentences(text)):
            out.append({"story": story, "order": order, "article": name, "sentence_no": number,
                        "sentence": sentence.text, "label": "", "same_as": "", "key": False})
    return out


def main(argv: list[str]) -> None:
    story, n = argv[0], int(argv[1]) if len(argv) > 1 else 8
    target = ROOT / "bench" / "novelty" / f"{story}.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows(story, n)), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
