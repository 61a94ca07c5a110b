"""How the story changes in one pass: what each new article or edit adds (its developments, their
facts, how salient each is, which are key), which earlier development each restatement repeats,
each article's novelty, and readable diffs of edits. Pure; the index of what has been said
(sentences, for near-matches, and units, for claims: storywatch.claims) is built by the flow from
the seeds and the stored sentences and units of earlier coverage that could match this pass's
(`to_assess` gives the texts whose features it looks up)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime

from storywatch.claims import Claim, Known, Units, key_developments
from storywatch.facts import Fact, extract_facts
from storywatch.models import Decision, Verdict
from storywatch.novelty import NoveltyIndex, Prepared, SaidSentence
from storywatch.sentences import split_sentences
from storywatch.versions import VersionDiff, diff_versions


@dataclass(frozen=True)
class Development:
    """A sentence that made a claim not made before, with the facts it carries (and which of
    them are new to the story), how much it adds, and whether it is a key development."""

    article_id: str
    version: int
    sentence_no: int
    sentence: str
    outlet: str
    facts: tuple[Fact, ...]
    new_facts: frozenset[str] = frozenset()   # "kind:normalized" of the facts nobody reported before
    salience: float = 0.0
    key: bool = False
    reported_at: datetime | None = None       # publication time of the article, or when an edit was seen


@dataclass(frozen=True)
class Repeat:
    """A later article repeating, in its own words, a development another article reported first."""

    ref: str                  # the development: "<article_id>#<version>#<sentence_no>"
    article_id: str           # the article repeating it
    outlet: str
    seen_at: datetime


def ref(article_id: str, version: int, sentence_no: int) -> str:
    """How a sentence of coverage is referred to in the units index."""
    return f"{article_id}#{version}#{sentence_no}"


@dataclass
class Evolution:
    developments: list[Development] = field(default_factory=list)
    novelty: dict[str, float] = field(default_factory=dict)  # article_id -> share of novel words
    diffs: dict[tuple[str, int], VersionDiff] = field(default_factory=dict)  # (article_id, version) -> diff
    indexed: list[tuple[str, int]] = field(default_factory=list)  # (article_id, version) made part of "said"
    said: Iterable[SaidSentence] = ()  # sentences new to the story's store, in order (read once, when saved)
    repeats: list[Repeat] = field(default_factory=list)
    units: list[tuple[str, str]] = field(default_factory=list)  # (unit, ref) first said in this pass
    unit_indexed: list[tuple[str, int]] = field(default_factory=list)  # (article_id, version) whose units are in


def without_headline(title: str, text: str) -> str:
    """The article body: extractors often repeat the headline as the text's first line, and a
    changed headline is reported as such, not as a removed and an added paragraph."""
    first, _, rest = text.partition("\n")
    return rest if title and first.strip() == title.strip() else text


def sentence_units(sentence: str, context: str | None = None) -> Units:
    """A sentence's units (storywatch.claims), its facts read in `context` (its article)."""
    return Units.of(sentence, extract_facts(sentence, context))


def seed_units(seeds: Mapping[str, str]) -> Known:
    """What the seeds said, unit by unit (each credited to its seed sentence), with the seeds'
    words as the story's own for centrality."""
    known = Known()
    words: set[str] = set()
    for name, text in seeds.items():
        for number, sentence in enumerate(split_sentences(text)):
            units = sentence_units(sentence.text, text)
            known.add(f"seed:{name}#0#{number}", units)
            words |= units.words
    known.story_words = frozenset(words)
    return known


def add_units(known: Known, article_id: str, version: int, body: str) -> list[tuple[str, str]]:
    """Make a stored version's units part of `known` (a warehouse from before units were kept);
    returns the (unit, ref) pairs it said first."""
    said = []
    for number, sentence in enumerate(split_sentences(body)):
        here = ref(article_id, version, number)
        units = sentence_units(sentence.text, body)
        known.add(here, units)
        said += [(unit, here) for unit in units.all() if known.first[unit] == here]
    return said


@dataclass(frozen=True)
class ToAssess:
    """A new article's or edit's body, split and fingerprinted once, with each sentence's facts
    and units: the flow looks up the stored units they need, `track` judges with the same ones."""

    prepared: Prepared
    facts: tuple[tuple[Fact, ...], ...]
    units: tuple[Units, ...]

    @classmethod
    def of(cls, body: str) -> ToAssess:
        prepared = Prepared.of(body)
        facts = tuple(tuple(extract_facts(s.text, body)) for s in prepared.sentences)
        return cls(prepared, facts, tuple(Units.of(s.text, f) for s, f in zip(prepared.sentences, facts)))


def to_assess(decisions: list[Decision]) -> dict[tuple[str, int], ToAssess]:
    """(article_id, version) -> the body of each new article or edit `track` assesses."""
    return {(d.article_id, d.version): ToAssess.of(without_headline(d.page.article.title, d.page.article.text))
            for d in decisions
            if d.page.article is not None and d.version is not None and d.judgment.verdict is Verdict.NEW}


def track(decisions: list[Decision], index: NoveltyIndex, previous: Mapping[str, tuple[str, str]],
          prepared: Mapping[tuple[str, int], ToAssess], known: Known, per_article: int,
          day_room: MutableMapping[date, int]) -> Evolution:
    """Walk the pass's decisions in order (they come in publication order). New articles and
    edits of on-story articles (`prepared`, from `to_assess`) are assessed against everything
    said so far and then added to it; a syndicated copy or seed copy adds nothing. `previous`
    maps an updated article's ID to the (title, text) of its version before this pass; `known`
    holds the units said so far; at most `per_article` developments of an article are key, and
    `day_room` says how many more key developments each day may still take (filled in order; a
    defaultdict, so a day not yet seen has the full allowance)."""
    out = Evolution()
    for d in decisions:
        art, verdict = d.page.article, d.judgment.verdict
        if art is None or d.version is None:
            continue
        if verdict in (Verdict.SYNDICATED, Verdict.SEED_COPY):
            out.novelty[d.article_id] = 0.0
            continue
        if verdict is not Verdict.NEW:
            continue
        body = without_headline(art.title, art.text)
        if d.version > 1 and d.article_id in previous:
            old_title, old_text = previous[d.article_id]
            out.diffs[(d.article_id, d.version)] = diff_versions(without_headline(old_title, old_text), body,
                                                                 old_title, art.title)
        body_units = prepared[(d.article_id, d.version)]
        assessed = index.assess(body_units.prepared)
        if d.version == 1:
            out.novelty[d.article_id] = assessed.score
        reported = (art.published_at or d.page.fetched_at) if d.version == 1 else d.page.fetched_at
        reported = min(reported, d.page.fetched_at)
        claims: list[tuple[int, Claim, tuple[Fact, ...]]] = []
        for number, (sentence, facts, units) in enumerate(zip(assessed.sentences, body_units.facts, body_units.units)):
            claim = known.judge(sentence.text, units) if sentence.novel else known.restated(units)
            claims.append((number, claim, facts))
            here = ref(d.article_id, d.version, number)
            source = claim.source
            if claim.kind == "restated" and source in known.developments and not source.startswith(f"{d.article_id}#"):
                out.repeats.append(Repeat(source, d.article_id, art.outlet, d.page.fetched_at))
            before = len(known.first)
            known.add(here, units, development=claim.kind == "new")
            if len(known.first) > before:
                out.units += [(unit, here) for unit in units.all() if known.first[unit] == here]
        keys = key_developments([(n, c) for n, c, _ in claims], per_article)
        day = reported.date()
        ranked = sorted(keys, key=lambda n: -claims[n][1].salience)
        keys = set(ranked[:max(0, day_room[day])])
        day_room[day] -= len(keys)
        for number, claim, facts in claims:
            if claim.kind == "new":
                out.developments.append(Development(
                    d.article_id, d.version, number, assessed.sentences[number].text, art.outlet, facts,
                    claim.new.facts, claim.salience, number in keys, reported))
        index.add(d.article_id, assessed)
        out.indexed.append((d.article_id, d.version))
        out.unit_indexed.append((d.article_id, d.version))
    return out
