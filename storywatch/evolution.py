"""How the story changes in one pass: what each new article or edit adds (its developments and
their facts), each article's novelty, and readable diffs of edits. Pure; the index of what has
been said is built by the flow from the seeds and the stored sentences of earlier coverage that
could match this pass's (`to_assess` gives the texts whose features it looks up)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from storywatch.facts import Fact, extract_facts
from storywatch.models import Decision, Verdict
from storywatch.novelty import NoveltyIndex, Prepared, SaidSentence
from storywatch.versions import VersionDiff, diff_versions


@dataclass(frozen=True)
class Development:
    """A sentence that said something not said before, with the facts it carries."""

    article_id: str
    version: int
    sentence_no: int
    sentence: str
    outlet: str
    facts: tuple[Fact, ...]


@dataclass
class Evolution:
    developments: list[Development] = field(default_factory=list)
    novelty: dict[str, float] = field(default_factory=dict)  # article_id -> share of novel words
    diffs: dict[tuple[str, int], VersionDiff] = field(default_factory=dict)  # (article_id, version) -> diff
    indexed: list[tuple[str, int]] = field(default_factory=list)  # (article_id, version) made part of "said"
    said: Iterable[SaidSentence] = ()  # sentences new to the story's store, in order (read once, when saved)


def without_headline(title: str, text: str) -> str:
    """The article body: extractors often repeat the headline as the text's first line, and a
    changed headline is reported as such, not as a removed and an added paragraph."""
    first, _, rest = text.partition("\n")
    return rest if title and first.strip() == title.strip() else text


def to_assess(decisions: list[Decision]) -> dict[tuple[str, int], Prepared]:
    """(article_id, version) -> the prepared body of each new article or edit `track` assesses."""
    return {(d.article_id, d.version): Prepared.of(without_headline(d.page.article.title, d.page.article.text))
            for d in decisions
            if d.page.article is not None and d.version is not None and d.judgment.verdict is Verdict.NEW}


def track(decisions: list[Decision], index: NoveltyIndex, previous: Mapping[str, tuple[str, str]],
          prepared: Mapping[tuple[str, int], Prepared]) -> Evolution:
    """Walk the pass's decisions in order (they come in publication order). New articles and
    edits of on-story articles (`prepared`, from `to_assess`) are assessed against everything
    said so far and then added to it; a syndicated copy or seed copy adds nothing. `previous`
    maps an updated article's ID to the (title, text) of its version before this pass."""
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
        assessed = index.assess(prepared[(d.article_id, d.version)])
        if d.version == 1:
            out.novelty[d.article_id] = assessed.score
        for number, sentence in enumerate(assessed.sentences):
            if sentence.novel:
                facts = tuple(extract_facts(sentence.text))
                out.developments.append(Development(d.article_id, d.version, number, sentence.text, art.outlet, facts))
        index.add(d.article_id, assessed)
        out.indexed.append((d.article_id, d.version))
    return out
