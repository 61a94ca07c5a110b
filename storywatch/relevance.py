"""On-story relevance learned from the seeds alone.

A story's *profile* is the vocabulary its seeds share: words and two-word phrases that appear in
at least two seeds (so one outlet's chrome or quirks do not count), weighted by how many seeds
use them and by how rare they are in general English (wordfreq), so "Alexandr Wang" and
"open-source licence" weigh far more than "company" or "new".

An article's *coverage* is the share of the profile's weight it contains. Coverage is divided by
the typical coverage of a held-out seed (each seed scored against a profile built from the
others), so 1.0 means "uses the story's vocabulary as much as a seed does" and the threshold in
`story.toml` reads as a fraction of that.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

from storywatch.text import strip_chrome, words

_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just may me might more most must my myself no nor not now of off on once only or other
    our ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself said says
    according one two new also like get got make made many much even still yet however""".split()
)
MAX_TERMS = 120
# Common English words (zipf >= this) carry no story signal on their own.
_COMMON_ZIPF = 6.0


def _stem(token: str) -> str:
    """Tiny plural/possessive folding; enough to match 'models'/'model', 'Meta's'/'Meta'."""
    if token.endswith(("'s", "’s")):
        token = token[:-2]
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def terms(text: str) -> Counter[str]:
    """Content words and adjacent two-word phrases of a text (stop words dropped)."""
    tokens = [_stem(t) for t in words(strip_chrome(text))]
    content = [t for t in tokens if t not in _STOP and len(t) > 1 and not t.isdigit()]
    counts: Counter[str] = Counter(content)
    for left, right in zip(tokens, tokens[1:]):
        if left not in _STOP and right not in _STOP and len(left) > 1 and len(right) > 1:
            counts[f"{left} {right}"] += 1
    return counts


@lru_cache(maxsize=100_000)
def specificity(term: str) -> float:
    """How much a term says on its own, in [0, 1]: rare in general English scores high."""
    parts = term.split(" ")
    if len(parts) == 1:
        return max(0.0, _COMMON_ZIPF - zipf_frequency(term, "en")) / _COMMON_ZIPF
    # A phrase is at least as specific as its rarer half, plus credit for the pairing itself.
    return min(1.0, 0.35 + max(specificity(p) for p in parts))


@dataclass(frozen=True)
class StoryProfile:
    """Weighted story vocabulary and the coverage a typical seed reaches."""

    weights: dict[str, float]
    reference: float

    @classmethod
    def from_seeds(cls, seed_texts: list[str]) -> StoryProfile:
        if not seed_texts:
            raise ValueError("a story needs at least one seed text")
        reference = 1.0
        if len(seed_texts) >= 3:
            held_out = [
                _coverage(_weights(seed_texts[:i] + seed_texts[i + 1 :]), terms(seed))
                for i, seed in enumerate(seed_texts)
            ]
            reference = max(statistics.median(held_out), 1e-6)
        return cls(weights=_weights(seed_texts), reference=reference)

    def score(self, text: str) -> float:
        """Relevance of `text` to the story, in [0, 1]."""
        return round(min(1.0, _coverage(self.weights, terms(text)) / self.reference), 4)

    def top_terms(self, n: int = 15) -> list[str]:
        return sorted(self.weights, key=self.weights.__getitem__, reverse=True)[:n]


def _weights(seed_texts: list[str]) -> dict[str, float]:
    """Story terms: used by at least two seeds (or the only one), weighted by the square of the
    share of seeds using them (what every seed says is the story's core) times rarity."""
    per_seed = [set(terms(t)) for t in seed_texts]
    df: Counter[str] = Counter(term for seen in per_seed for term in seen)
    min_df = 2 if len(seed_texts) >= 2 else 1
    scored = {
        term: (n / len(seed_texts)) ** 2 * specificity(term)
        for term, n in df.items()
        if n >= min_df
    }
    top = sorted(scored.items(), key=lambda kv: kv[1], reverse=True)[:MAX_TERMS]
    return {term: w for term, w in top if w > 0}


def _coverage(weights: dict[str, float], article_terms: Counter[str]) -> float:
    """Share of the profile's weight present in the article; a term used once counts 0.7, twice or
    more counts fully (one passing mention is weaker evidence than a theme)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    found = sum(w * min(1.0, 0.4 + 0.3 * article_terms[t]) for t, w in weights.items() if t in article_terms)
    return found / total
