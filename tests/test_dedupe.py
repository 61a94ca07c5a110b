"""Near-duplicate rules: copies survive chrome, headline rewrites and paragraph edits;
distinct articles on the same topic do not match; copies point at the earliest original."""

import json
from importlib import resources

from storywatch.dedupe import CopyIndex, overlap, signature
from storywatch.judge import Judge
from storywatch.models import Verdict


def _articles():
    data = resources.files("storywatch.demo").joinpath("site/articles.json").read_text("utf-8")
    return {a["slug"]: "\n".join([a["headline"], *a["paragraphs"]]) for a in json.loads(data)}


def test_copy_variants_are_copies():
    text = next(t for s, t in _articles().items() if "open-weights-scoop" in s)
    lines = text.split("\n")
    variants = {
        "chrome": "Skip to main content\nShare this article\n" + text + "\nComments\nLoading comments…\nWant to join the conversation?",
        "headline": "A completely different headline for syndication\n" + "\n".join(lines[1:]),
        "paragraph added": text + "\nThis article first appeared elsewhere and is republished with permission of the publisher.",
        "paragraph cut": "\n".join(lines[:-2]),
        "truncated half": "\n".join(lines[: len(lines) // 2 + 1]),
    }
    original = signature(text)
    for name, variant in variants.items():
        o = overlap(signature(variant), original)
        assert o.is_copy, (name, o)


def test_distinct_articles_on_the_same_story_are_not_copies():
    texts = [t for s, t in _articles().items() if "avocado" in s]
    sigs = [signature(t) for t in texts]
    assert len(sigs) >= 4
    for i in range(len(sigs)):
        for j in range(i + 1, len(sigs)):
            assert not overlap(sigs[i], sigs[j]).is_copy


def test_short_quote_inside_long_roundup_is_not_a_copy():
    arts = list(_articles().values())
    quote = arts[0].split("\n")[1]
    roundup = "\n".join(arts[5:9]) + "\n" + quote
    assert not overlap(signature(roundup), signature(arts[0])).is_copy


def test_index_returns_earliest_copy():
    text = next(iter(_articles().values()))
    index = CopyIndex()
    index.add("first", signature(text))
    index.add("second", signature(text + "\nAn extra closing paragraph added by the second outlet for its readers."))
    match = index.earliest_copy(signature("New headline\n" + text))
    assert match and match.key == "first"
    assert index.earliest_copy(signature(text), before="second").key == "first"
    assert index.earliest_copy(signature(text), before="first") is None  # never a copy of a later text


def test_edited_original_is_not_a_copy_of_its_own_syndicated_copy(seed_texts):
    """An original re-judged after an edit stays `new`: its syndicated copy came after it."""
    judge = Judge.for_story(seed_texts, threshold=0.3)
    story = next(t for s, t in _articles().items() if "open-weights-scoop" in s)
    j, h, sig = judge.judge("original", story)
    judge.remember("original", h, sig)
    j, h, sig = judge.judge("copy", "Syndicated headline\n" + story)
    assert j.verdict is Verdict.SYNDICATED and j.duplicate_of == "original"
    judge.remember("copy", h, sig)
    j, _, _ = judge.judge("original", story + "\nUpdated: Meta confirmed the release date on Friday.")
    assert j.verdict is Verdict.NEW, j.reason
    j, _, _ = judge.judge("copy", "Syndicated headline\n" + story)  # exact hash of itself
    assert j.verdict is Verdict.SYNDICATED and j.duplicate_of == "original"


def test_judge_order_seed_copy_then_syndicated_then_new(seed_texts):
    judge = Judge.for_story(seed_texts, threshold=0.3)
    seed_name, seed_text = next(iter(seed_texts.items()))
    j, _, _ = judge.judge("a1", "Different headline\n" + seed_text)
    assert j.verdict is Verdict.SEED_COPY and j.duplicate_of == seed_name
    story = next(t for s, t in _articles().items() if "open-weights-scoop" in s)
    j, h, sig = judge.judge("a2", story)
    assert j.verdict is Verdict.NEW
    judge.remember("a2", h, sig)
    j, _, _ = judge.judge("a3", story.replace("\n", "\n\n"))
    assert j.verdict is Verdict.SYNDICATED and j.duplicate_of == "a2" and "same text" in j.reason
    j, _, _ = judge.judge("a4", "Syndicated headline\n" + story + "\nRepublished with permission.")
    assert j.verdict is Verdict.SYNDICATED and j.duplicate_of == "a2" and j.duplicate_score >= 0.7
    j, _, _ = judge.judge("a5", "Avocado toast: mash a ripe avocado with lime and salt, pile it on sourdough. " * 5)
    assert j.verdict is Verdict.OFF_TOPIC
    j, _, _ = judge.judge("a6", "   ")
    assert j.verdict is Verdict.NO_TEXT
