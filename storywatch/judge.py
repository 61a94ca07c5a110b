"""The verdict for one article, cheapest test first (URL identity is settled before fetching):
content hash of a seed -> near-copy of a seed (`seed_copy`) -> relevance below threshold
(`off_topic`) -> content hash of earlier coverage -> near-copy of earlier coverage
(`syndicated`, pointing at the earliest copy) -> `new`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storywatch.dedupe import CopyIndex, Signature, signature
from storywatch.models import Judgment, Verdict
from storywatch.relevance import StoryProfile
from storywatch.text import content_hash


@dataclass
class Judge:
    """Holds what earlier decisions left behind (seed and coverage signatures) for one pass."""

    profile: StoryProfile
    threshold: float
    seeds: CopyIndex = field(default_factory=CopyIndex)
    coverage: CopyIndex = field(default_factory=CopyIndex)
    seed_hashes: dict[str, str] = field(default_factory=dict)
    coverage_hashes: dict[str, str] = field(default_factory=dict)
    _signatures: dict[str, Signature] = field(default_factory=dict)  # text hash -> signature, this pass

    @classmethod
    def for_story(cls, seeds: dict[str, str], threshold: float) -> Judge:
        """`seeds` maps a seed's name to its text; the profile and seed index come from them."""
        judge = cls(StoryProfile.from_seeds(list(seeds.values())), threshold)
        for name, text in seeds.items():
            judge.seeds.add(name, signature(text))
            judge.seed_hashes.setdefault(content_hash(text), name)
        return judge

    def remember(self, article_id: str, text_hash: str, sig: Signature) -> None:
        """Add on-story coverage (in first-seen order) so later copies point at it."""
        self.coverage_hashes.setdefault(text_hash, article_id)
        self.coverage.add(article_id, sig)

    def hash_and_signature(self, text: str) -> tuple[str, Signature]:
        """The text's hash and signature, computed once however often it is asked for (the flow
        asks first, to look up earlier coverage sharing a bucket, then `judge` does)."""
        text_hash = content_hash(text)
        if text_hash not in self._signatures:
            self._signatures[text_hash] = signature(text)
        return text_hash, self._signatures[text_hash]

    def judge(self, article_id: str, text: str) -> tuple[Judgment, str, Signature]:
        """Judge one article's text; returns the judgment with the text's hash and signature."""
        text_hash, sig = self.hash_and_signature(text)
        relevance = self.profile.score(text)
        if not text.strip():
            return Judgment(Verdict.NO_TEXT, 0.0, "no article text on page or in feed"), text_hash, sig
        if text_hash in self.seed_hashes:
            seed = self.seed_hashes[text_hash]
            return Judgment(Verdict.SEED_COPY, relevance, "same text as seed", seed, 1.0), text_hash, sig
        seed_match = self.seeds.earliest_copy(sig)
        if seed_match:
            return self._copy(Verdict.SEED_COPY, relevance, "near-copy of seed", seed_match), text_hash, sig
        if relevance < self.threshold:
            reason = f"relevance {relevance:.2f} below threshold {self.threshold:.2f}"
            return Judgment(Verdict.OFF_TOPIC, relevance, reason), text_hash, sig
        earlier = self.coverage_hashes.get(text_hash)
        if earlier and self.coverage.precedes(earlier, article_id):
            judgment = Judgment(Verdict.SYNDICATED, relevance, "same text as earlier coverage", earlier, 1.0)
            return judgment, text_hash, sig
        match = self.coverage.earliest_copy(sig, before=article_id)
        if match:
            return self._copy(Verdict.SYNDICATED, relevance, "near-copy of earlier coverage", match), text_hash, sig
        reason = f"relevance {relevance:.2f} at or above threshold {self.threshold:.2f}; no earlier copy"
        return Judgment(Verdict.NEW, relevance, reason), text_hash, sig

    @staticmethod
    def _copy(verdict: Verdict, relevance: float, what: str, match) -> Judgment:
        o = match.overlap
        reason = f"{what} (jaccard {o.jaccard:.2f}, containment {o.containment:.2f})"
        return Judgment(verdict, relevance, reason, match.key, o.containment)
