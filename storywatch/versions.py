"""A readable diff between two versions of one article, sentence by sentence.

Both texts are split with `sentences.split_sentences` (chrome, boilerplate and fragments out) and
the two sentence sequences are aligned with difflib on their words (case, punctuation and
whitespace do not count, so re-typesetting is not an edit). In each stretch that differs:

* an old and a new sentence in the same place whose features (`novelty.features`: content words
  and word pairs) have Jaccard similarity of at least `CHANGE_THRESHOLD` (0.5) are reported as one
  **changed** pair (a couple of words edited, a figure corrected); the pairing keeps the order of
  both versions;
* every other new sentence is **added**, every other old one **removed**;
* a sentence that was removed in one place and added word for word in another is **moved**, not
  added or removed.

A paragraph counts as added when every sentence of it in the new version is added (likewise
removed in the old version), so the summary can say "1 paragraph added (2 sentences)". The
headline changed when its words changed. `summary` is one line such as
``headline changed; 1 paragraph added (2 sentences); 0 removed``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from storywatch.novelty import features
from storywatch.sentences import MIN_WORDS, Sentence, split_sentences
from storywatch.text import words

CHANGE_THRESHOLD = 0.5


@dataclass(frozen=True)
class ChangedSentence:
    """One sentence edited in place: before, after, and the Jaccard similarity of their features."""

    old: Sentence
    new: Sentence
    similarity: float


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions of an article (sentences in their version's order)."""

    headline_changed: bool
    added: tuple[Sentence, ...]
    removed: tuple[Sentence, ...]
    changed: tuple[ChangedSentence, ...]
    moved: tuple[Sentence, ...]  # as they stand in the new version
    paragraphs_added: int
    paragraphs_removed: int
    sentences_in_added_paragraphs: int
    sentences_in_removed_paragraphs: int

    @property
    def text_changed(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.moved)

    @property
    def any_change(self) -> bool:
        return self.headline_changed or self.text_changed

    @property
    def summary(self) -> str:
        """One line for people: "headline changed; 1 paragraph added (2 sentences); 0 removed"."""
        if not self.any_change:
            return "no change"
        parts = ["headline changed"] if self.headline_changed else []
        parts.append(_counted("added", self.paragraphs_added, self.sentences_in_added_paragraphs, len(self.added)))
        if self.changed:
            parts.append(f"{_n(len(self.changed), 'sentence')} changed")
        if self.moved:
            parts.append(f"{_n(len(self.moved), 'sentence')} moved")
        parts.append(_counted("removed", self.paragraphs_removed, self.sentences_in_removed_paragraphs,
                              len(self.removed)))
        return "; ".join(parts)

    def as_record(self) -> dict[str, object]:
        """Plain values for storage (JSON-ready): texts of added/removed sentences, changed pairs."""
        return {
            "headline_changed": self.headline_changed,
            "added": [s.text for s in self.added],
            "removed": [s.text for s in self.removed],
            "changed": [[c.old.text, c.new.text] for c in self.changed],
            "moved": [s.text for s in self.moved],
            "summary": self.summary,
        }


def diff_versions(old_text: str, new_text: str, old_headline: str | None = None,
                  new_headline: str | None = None, min_words: int = MIN_WORDS) -> VersionDiff:
    """Compare two versions of an article body (and, when both are given, their headlines)."""
    old = split_sentences(old_text, min_words)
    new = split_sentences(new_text, min_words)
    old_keys = [_key(s.text) for s in old]
    new_keys = [_key(s.text) for s in new]
    added: list[Sentence] = []
    removed: list[Sentence] = []
    changed: list[ChangedSentence] = []
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = _pair(old[i1:i2], new[j1:j2])
        changed.extend(pairs)
        paired_old = {c.old.index for c in pairs}
        paired_new = {c.new.index for c in pairs}
        removed.extend(s for s in old[i1:i2] if s.index not in paired_old)
        added.extend(s for s in new[j1:j2] if s.index not in paired_new)

    # word-for-word the same sentence, taken out in one place and put back in another
    removed_keys: dict[str, list[Sentence]] = {}
    for s in removed:
        removed_keys.setdefault(old_keys[s.index], []).append(s)
    moved: list[Sentence] = []
    for s in list(added):
        twins = removed_keys.get(new_keys[s.index])
        if twins:
            removed.remove(twins.pop(0))
            added.remove(s)
            moved.append(s)

    added_paras, in_added = _whole_paragraphs(new, added)
    removed_paras, in_removed = _whole_paragraphs(old, removed)
    headline_changed = (
        old_headline is not None and new_headline is not None and words(old_headline) != words(new_headline)
    )
    return VersionDiff(headline_changed, tuple(added), tuple(removed), tuple(changed), tuple(moved),
                       added_paras, removed_paras, in_added, in_removed)


def _key(text: str) -> str:
    return " ".join(words(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _pair(old: list[Sentence], new: list[Sentence]) -> list[ChangedSentence]:
    """Order-preserving pairing of edited sentences inside one differing stretch: each new
    sentence takes the most similar old sentence after the last one taken, if similar enough."""
    old_features = [features(s.text) for s in old]
    pairs: list[ChangedSentence] = []
    start = 0
    for sentence in new:
        feats = features(sentence.text)
        best, best_sim = None, CHANGE_THRESHOLD
        for i in range(start, len(old)):
            sim = _jaccard(feats, old_features[i])
            if sim >= best_sim and (best is None or sim > best_sim):
                best, best_sim = i, sim
        if best is not None:
            pairs.append(ChangedSentence(old[best], sentence, round(best_sim, 4)))
            start = best + 1
    return pairs


def _whole_paragraphs(sentences: list[Sentence], chosen: list[Sentence]) -> tuple[int, int]:
    """(paragraphs all of whose sentences are in `chosen`, sentences in those paragraphs)."""
    total: dict[int, int] = {}
    for s in sentences:
        total[s.paragraph] = total.get(s.paragraph, 0) + 1
    hit: dict[int, int] = {}
    for s in chosen:
        hit[s.paragraph] = hit.get(s.paragraph, 0) + 1
    whole = [p for p, n in hit.items() if n == total[p]]
    return len(whole), sum(total[p] for p in whole)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _counted(verb: str, paragraphs: int, in_paragraphs: int, sentences: int) -> str:
    """"1 paragraph added (2 sentences)", "3 sentences added", "1 paragraph added (2 sentences),
    1 sentence added" or "0 added"."""
    pieces = []
    if paragraphs:
        pieces.append(f"{_n(paragraphs, 'paragraph')} {verb} ({_n(in_paragraphs, 'sentence')})")
    if sentences - in_paragraphs:
        pieces.append(f"{_n(sentences - in_paragraphs, 'sentence')} {verb}")
    return ", ".join(pieces) if pieces else f"0 {verb}"
