"""What a sentence claims that the story had not, judged on meaning rather than wording, and how
much that adds. Pure.

**Units.** A sentence's units are its facts (`storywatch.facts`: money, quantities, percentages,
dates and names, compared in normal form, so "$15 billion" and "15 billion dollars" are one
unit) and its content words (folded as relevance folds them: case, plurals, possessives,
spelling variants; stop words, calendar words and bare numbers dropped).

**Known.** Everything the seeds and earlier coverage said, unit by unit, each credited to the
first sentence that said it (`Known.add`, in first-seen order).

**New claim.** A sentence is a new claim when it brings a fact the story has not had, or new
words weighing at least `NEW_WORDS_MIN`, where a word weighs its rarity in English (wordfreq:
0 for "company", about 0.5 for "furlough", 0.8 for "liverwurst"). A paraphrase swaps a few
common words for others and keeps the facts and the rare words, so it is *restated*, credited to
the earlier sentence whose units it shares most (`Known.source`); so is a sentence with no new
fact that repeats a figure already reported, whatever new words it wraps it in ("Some 300
engineers are to staff a Paris laboratory" after "a Paris lab that will employ 300 engineers").
A sentence with no unit of the story and nothing new (a transition, generic background) is
*filler*.

**Salience** of a new claim: new numeric facts (money, counts, percentages, dates) count 1 each
(at most two: a new figure is news wherever it sits); new names count 0.7 each (at most two) and
new words their weight (at most 1 in all) halved, both scaled by how central the sentence is to
the story (the share of its words' weight that the seeds also use, from 0.5 for none to 1 for
all); an attributed sentence (a quote, or "said", "told", "according to") gets `ATTRIBUTED` more. A sentence is a *key development* when
its salience reaches `KEY_MIN` and it is among the `per_article` most salient of its article.
The constants were fitted on the tuning stories' sentence-labelled sets (bench/novelty.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from storywatch.facts import NAME, NUMERIC_KINDS, Fact
from storywatch.relevance import specificity, terms

NEW_WORDS_MIN = 1.0     # new words must weigh this much for a sentence without a new fact to be new
KEY_MIN = 1.0           # salience a key development needs
ATTRIBUTED = 0.3        # salience added when the sentence is attributed
NAME_WEIGHT = 0.7
MAX_PER_KIND = 2

_ATTRIBUTION = re.compile(r"[\"“”]|\b(?:said|says|told|according to|announced|confirmed|stated)\b", re.I)


@dataclass(frozen=True)
class Units:
    """A sentence's facts ("kind:normal form") and content words."""

    facts: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, sentence: str, facts: Iterable[Fact]) -> Units:
        found = {f"{f.kind}:{f.normalized}" for f in facts}
        return cls(frozenset(found), frozenset(t for t in terms(sentence) if " " not in t))

    def all(self) -> frozenset[str]:
        return self.facts | {f"word:{w}" for w in self.words}


@dataclass(frozen=True)
class Claim:
    """How one sentence stands against what the story said before it."""

    kind: str                    # new | restated | filler
    new: Units                   # the units nobody said before
    source: str | None = None    # restated: the earlier sentence it repeats most ("<ref>")
    salience: float = 0.0


@dataclass
class Known:
    """Every unit said so far -> the reference of the first sentence that said it, and which of
    those references are developments (new claims of on-story coverage, not seeds)."""

    first: dict[str, str] = field(default_factory=dict)
    developments: set[str] = field(default_factory=set)
    story_words: frozenset[str] = frozenset()   # the seeds' content words, for centrality

    def add(self, ref: str, units: Units, development: bool = False) -> None:
        for unit in units.all():
            self.first.setdefault(unit, ref)
        if development:
            self.developments.add(ref)

    def judge(self, sentence: str, units: Units) -> Claim:
        """Is `sentence` (with its `units`) a new claim, a restatement, or filler?"""
        new = Units(frozenset(f for f in units.facts if f not in self.first and not self._known_name(f)),
                    frozenset(w for w in units.words if f"word:{w}" not in self.first))
        numeric = sum(f.split(":", 1)[0] in NUMERIC_KINDS for f in new.facts)
        names = sum(f.startswith(f"{NAME}:") for f in new.facts)
        new_words = sum(specificity(w) for w in new.words)
        if not (numeric or names) and self._restates_figures(units):
            return self.restated(units, new)
        if numeric or names or new_words >= NEW_WORDS_MIN:
            weight = sum(specificity(w) for w in units.words) or 1.0
            central = sum(specificity(w) for w in units.words if w in self.story_words) / weight
            score = (min(numeric, MAX_PER_KIND) + (NAME_WEIGHT * min(names, MAX_PER_KIND) + 0.5 * min(new_words, 1.0))
                     * (0.5 + 0.5 * central) + (ATTRIBUTED if _ATTRIBUTION.search(sentence) else 0.0))
            return Claim("new", new, salience=round(score, 4))
        return self.restated(units, new)

    def restated(self, units: Units, new: Units | None = None) -> Claim:
        """A sentence that says nothing new: restated (crediting the sentence it repeats most),
        or filler when it shares nothing with the story."""
        new = new or Units(frozenset(), frozenset())
        source = self.source(units)
        if source is None and not (units.words & self.story_words):
            return Claim("filler", new)
        return Claim("restated", new, source)

    def _restates_figures(self, units: Units) -> bool:
        """Does the sentence repeat a figure (money, count, percentage, date) an earlier sentence
        gave? Then its new words are a rewording of that sentence's claim, not a claim of its own."""
        return any(f.split(":", 1)[0] in NUMERIC_KINDS and f in self.first for f in units.facts)

    def _known_name(self, fact: str) -> bool:
        """A name all of whose words the story has used ("Judge Amit P. Mehta" after "Amit Mehta")."""
        if not fact.startswith(f"{NAME}:"):
            return False
        parts = [w for w in terms(fact[len(NAME) + 1:]) if " " not in w]
        return bool(parts) and all(f"word:{w}" in self.first for w in parts)

    def source(self, units: Units) -> str | None:
        """The earlier sentence that said most of `units` (facts count double, words their weight;
        the earliest on ties)."""
        shares: dict[str, float] = {}
        order: dict[str, int] = {}
        for unit in sorted(units.all()):
            ref = self.first.get(unit)
            if ref is None:
                continue
            order.setdefault(ref, len(order))
            shares[ref] = shares.get(ref, 0.0) + (2.0 if not unit.startswith("word:") else specificity(unit[5:]))
        if not shares:
            return None
        return max(shares, key=lambda ref: (shares[ref], -order[ref]))


def key_developments(claims: list[tuple[int, Claim]], per_article: int) -> set[int]:
    """Of one article's (sentence number, claim) pairs, the numbers of its key developments: new
    claims reaching KEY_MIN, the `per_article` most salient (earlier sentences first on ties)."""
    ranked = sorted(((n, c) for n, c in claims if c.kind == "new" and c.salience >= KEY_MIN),
                    key=lambda nc: (-nc[1].salience, nc[0]))
    return {n for n, _ in ranked[:per_article]}
