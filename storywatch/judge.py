"""The verdict for one article, cheapest test first (URL identity is settled before fetching):
content hash of a seed -> near-copy of a seed (`seed_copy`) -> a person's label, else published
well before the story started, relevance below the story's threshold, or closer to a
counter-example than to any seed (`off_topic`, each with its reason) -> content hash of earlier
coverage -> near-copy of earlier coverage (`syndicated`, pointing at the earliest copy) -> `new`.

Labels (`storywatch label`) act twice: the labelled article keeps the person's verdict, and its
text joins the seeds' profile (on) or the counter-examples (off) for every other article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from storywatch.dedupe import CopyIndex, Signature, signature
from storywatch.config import Story
from storywatch.models import Judgment, Label, Verdict
from storywatch.relevance import StoryProfile, cosine, term_vector
from storywatch.text import content_hash
from storywatch.timeline import BEFORE_STORY_DAYS, before_story


# A counter-example pulls an article down only when the article is clearly closer to it than to
# every seed: ties and near-ties (an article close to nothing) stay with the content score.
# Chosen on the tuning stories (bench/relevance.py): 1.1 cost 3 points of recall for 2 of same-actors.
COUNTER_MARGIN = 1.3


@dataclass
class Judge:
    """Holds what earlier decisions left behind (seed and coverage signatures) for one pass."""

    profile: StoryProfile
    threshold: float
    started: date | None = None
    before_story_days: int = BEFORE_STORY_DAYS
    seed_vectors: dict[str, dict[str, float]] = field(default_factory=dict)
    counter_vectors: dict[str, dict[str, float]] = field(default_factory=dict)  # not/ name -> vector
    labels: dict[str, Label] = field(default_factory=dict)  # article_id -> a person's verdict
    seeds: CopyIndex = field(default_factory=CopyIndex)
    coverage: CopyIndex = field(default_factory=CopyIndex)
    seed_hashes: dict[str, str] = field(default_factory=dict)
    coverage_hashes: dict[str, str] = field(default_factory=dict)
    _signatures: dict[str, Signature] = field(default_factory=dict)  # text hash -> signature, this pass

    @classmethod
    def for_story(cls, seeds: dict[str, str], threshold: float | None = None,
                  counter_examples: dict[str, str] | None = None, started: date | None = None,
                  before_story_days: int = BEFORE_STORY_DAYS, labels: Sequence[Label] = ()) -> Judge:
        """`seeds` maps a seed's name to its text; the profile, the threshold (unless given) and
        the seed index come from them. `counter_examples` (name -> text) are articles that are not
        the story; `started` is the story's start (storywatch.timeline); `labels` are people's
        verdicts on stored articles (on-story texts join the profile, the others the
        counter-examples, as `label:<article_id>`)."""
        examples = dict(seeds) | {f"label:{lab.article_id}": lab.text for lab in labels if lab.on_story}
        counter = dict(counter_examples or {}) | {f"label:{lab.article_id}": lab.text for lab in labels
                                                   if not lab.on_story}
        profile = StoryProfile.from_seeds(list(examples.values()), list(counter.values()))
        if threshold is None:
            # Derived from the seeds alone: an on-label widens what the story's words are, but
            # an atypical one must not lower the bar for every other article.
            threshold = (StoryProfile.from_seeds(list(seeds.values()), list(counter.values())) if len(examples) > len(seeds) else profile).threshold()
        judge = cls(profile, threshold, started, before_story_days)
        judge.labels = {lab.article_id: lab for lab in labels}
        for name, text in seeds.items():
            judge.seeds.add(name, signature(text))
            judge.seed_hashes.setdefault(content_hash(text), name)
        judge.seed_vectors = {name: term_vector(text) for name, text in examples.items()}
        judge.counter_vectors = {name: term_vector(text) for name, text in counter.items()}
        return judge

    @classmethod
    def for_loaded(cls, story: Story, labels: Sequence[Label] = ()) -> Judge:
        """The judge a loaded story folder asks for (its settings, counter-examples and start),
        with people's `labels` from the warehouse."""
        settings = story.config.thresholds
        return cls.for_story(story.seeds, settings.relevance, story.counter_examples, story.started,
                             settings.before_story_days, labels)

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

    def judge(self, article_id: str, text: str, published_at: datetime | None = None) -> tuple[Judgment, str, Signature]:
        """Judge one article's text (published at `published_at`, if known); returns the
        judgment with the text's hash and signature."""
        text_hash, sig = self.hash_and_signature(text)
        relevance = self.profile.score(text)
        if not text.strip():
            return Judgment(Verdict.NO_TEXT, 0.0, "no article text on page or in feed"), text_hash, sig
        label = self.labels.get(article_id)
        if label is not None and not label.on_story:  # a person's "not this story" beats everything
            return Judgment(Verdict.OFF_TOPIC, relevance, self.off_story(text, relevance, None, article_id)), text_hash, sig
        if text_hash in self.seed_hashes:
            seed = self.seed_hashes[text_hash]
            return Judgment(Verdict.SEED_COPY, relevance, "same text as seed", seed, 1.0), text_hash, sig
        seed_match = self.seeds.earliest_copy(sig)
        if seed_match:
            return self._copy(Verdict.SEED_COPY, relevance, "near-copy of seed", seed_match), text_hash, sig
        off = self.off_story(text, relevance, published_at, article_id)
        if off:
            return Judgment(Verdict.OFF_TOPIC, relevance, off), text_hash, sig
        earlier = self.coverage_hashes.get(text_hash)
        if earlier and self.coverage.precedes(earlier, article_id):
            judgment = Judgment(Verdict.SYNDICATED, relevance, "same text as earlier coverage", earlier, 1.0)
            return judgment, text_hash, sig
        match = self.coverage.earliest_copy(sig, before=article_id)
        if match:
            return self._copy(Verdict.SYNDICATED, relevance, "near-copy of earlier coverage", match), text_hash, sig
        reason = f"relevance {relevance:.2f} at or above threshold {self.threshold:.2f}; no earlier copy"
        if article_id in self.labels:
            reason = f"labelled on-story by a person on {self.labels[article_id].labelled_at:%Y-%m-%d}; no earlier copy"
        return Judgment(Verdict.NEW, relevance, reason), text_hash, sig

    def off_story(self, text: str, relevance: float, published_at: datetime | None, article_id: str = "") -> str:
        """Why an article is not coverage of this story, or "" when it is."""
        label = self.labels.get(article_id)
        if label is not None:
            return "" if label.on_story else f"labelled off-story by a person on {label.labelled_at:%Y-%m-%d}"
        if before_story(published_at, self.started, self.before_story_days):
            return (f"before_story: published {published_at:%Y-%m-%d}, more than {self.before_story_days} days "
                    f"before the story started on {self.started:%Y-%m-%d}")
        if relevance < self.threshold:
            return f"relevance {relevance:.2f} below threshold {self.threshold:.2f}"
        if self.counter_vectors:
            (seed, to_seed), (name, to_counter) = self.nearest(text, article_id)
            if to_counter > COUNTER_MARGIN * to_seed:
                return (f"counter_example: closer to {counter_name(name)} ({to_counter:.2f}) than to any seed "
                        f"(best {seed}, {to_seed:.2f})")
        return ""

    def nearest(self, text: str, article_id: str = "") -> tuple[tuple[str, float], tuple[str, float]]:
        """The seed (or on-label) and the counter-example (or off-label) closest to `text`, each
        with its cosine, leaving out the article's own label; ("", 0.0) where there are none."""
        vector, own = term_vector(text), f"label:{article_id}"
        return (_nearest(vector, {k: v for k, v in self.seed_vectors.items() if k != own}),
                _nearest(vector, {k: v for k, v in self.counter_vectors.items() if k != own}))

    @staticmethod
    def _copy(verdict: Verdict, relevance: float, what: str, match) -> Judgment:
        o = match.overlap
        reason = f"{what} (jaccard {o.jaccard:.2f}, containment {o.containment:.2f})"
        return Judgment(verdict, relevance, reason, match.key, o.containment)


def counter_name(name: str) -> str:
    """How a counter-example is named to people: `not/<file>`, or `label:<article_id>`."""
    return name if name.startswith("label:") else f"not/{name}"


def _nearest(vector: dict[str, float], named: dict[str, dict[str, float]]) -> tuple[str, float]:
    """The name and cosine of the vector in `named` closest to `vector` (("", 0.0) if none)."""
    return max(((name, cosine(vector, other)) for name, other in named.items()), key=lambda kv: kv[1],
               default=("", 0.0))
