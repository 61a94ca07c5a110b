"""Novelty: which sentences of an article were not already said by the seeds or earlier coverage,
who said the others first, and the share of the article that is new."""

from pathlib import Path

import pytest

from storywatch.demo.sample_site import EDITED_SLUG, build_pages, load_articles
from storywatch.facts import extract_facts
from storywatch.novelty import MATCH_THRESHOLD, NoveltyIndex, features

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "meta-open-models"

SEED = """Meta is preparing to release its first AI models built under Alexandr Wang, with plans to offer some versions under an open source licence.
The company wants to keep some pieces proprietary until a safety review is finished."""

# 22 + 24 + 12 words; the second sentence rewords the seed (a couple of words changed)
SCOOP = """Meta's new models, known inside the company as Avocado, will ship with downloadable weights, according to three people briefed on the plans.
Meta is preparing to release its first AI models built under Alexandr Wang, and plans to offer some versions under an open-source license.
The largest Avocado models will stay behind Meta's own services for now."""

# 15 + 14 + 16 words: a release date and a model size are new; the middle sentence rewords the scoop
LATER = """Meta will release the first Avocado models on December 9, the company confirmed on Friday.
The largest Avocado models will stay behind Meta's own services for the time being.
The release includes a 70-billion-parameter model that anyone can download after accepting Meta's licence."""

REPRINT = "\nThis article first appeared on TechWire and is republished with permission."


@pytest.fixture
def index() -> NoveltyIndex:
    idx = NoveltyIndex()
    idx.add("seed:002", SEED)
    idx.add("techwire/scoop", SCOOP)
    return idx


def test_scoop_against_seed_credits_the_reworded_sentence():
    idx = NoveltyIndex()
    idx.add("seed:002", SEED)
    result = idx.assess(SCOOP)
    assert [(s.novel, s.source) for s in result.sentences] == [(True, None), (False, "seed:002"), (True, None)]
    assert result.sentences[1].matched == SEED.splitlines()[0]
    assert result.sentences[1].similarity == 0.9474
    assert result.score == round((22 + 12) / (22 + 24 + 12), 4) == 0.5862


def test_later_article_adds_release_date_and_size(index):
    result = index.assess(LATER)
    assert [s.text for s in result.novel] == [LATER.splitlines()[0], LATER.splitlines()[2]]
    assert result.credits == {"techwire/scoop": 1}
    assert result.sentences[1].matched == "The largest Avocado models will stay behind Meta's own services for now."
    assert result.score == round((15 + 16) / (15 + 14 + 16), 4) == 0.6889
    new_facts = {f.normalized for s in result.novel for f in extract_facts(s.text) if f.kind in ("date", "quantity")}
    assert new_facts == {"--12-09", "70000000000 parameters"}


def test_syndicated_copy_adds_nothing_and_credits_the_earliest(index):
    copy = "Syndicated: Meta's Avocado models will ship with downloadable weights\n" + SCOOP + REPRINT
    result = index.assess(copy)
    assert result.score == 0.0
    assert result.novel == ()
    assert result.credits == {"techwire/scoop": 3, "seed:002": 1}
    # a second outlet's copy added later never takes the credit from the original
    index.add("gadget-hub/copy", copy)
    again = index.assess(SCOOP)
    assert again.credits == {"techwire/scoop": 2, "seed:002": 1}


def test_assess_does_not_change_the_index_add_does(index):
    before = len(index)
    result = index.assess(LATER)
    assert len(index) == before and "techwire/later" not in index
    assert index.add("techwire/later", result) == 3
    assert len(index) == before + 3
    assert index.keys() == ["seed:002", "techwire/scoop", "techwire/later"]
    assert index.assess(LATER).score == 0.0
    # exact repeats are stored once
    assert index.add("gadget-hub/later-copy", LATER) == 0


def test_rewording_is_not_novel_but_a_new_figure_is(index):
    index.add("signal-daily/timing", "Meta will release the first Avocado models in December, the company said.")
    reworded = index.assess("Meta will put out the first Avocado models in December, the company said.")
    assert reworded.novel == () and reworded.credits == {"signal-daily/timing": 1}
    dated = index.assess("Meta will release the first Avocado models on December 9, the company said.")
    [sentence] = dated.sentences
    assert sentence.novel and sentence.source is None
    assert sentence.matched == "Meta will release the first Avocado models in December, the company said."
    corrected = index.assess("Meta paid roughly $14 billion for its stake in Scale AI last year.")
    index.add("ledger/stake", corrected)
    assert index.assess("Meta paid about $14 billion for its stake in Scale AI last year.").score == 0.0
    assert index.assess("Meta paid about $15 billion for its stake in Scale AI last year.").score == 1.0


def test_repeat_within_one_article_counts_once():
    idx = NoveltyIndex()
    text = ("Meta sets December 9 launch for its Avocado models.\n"
            "Meta sets December 9 launch for its open Avocado models, the company said.\n"
            "Developers will get a 12-billion-parameter version too.")
    result = idx.assess(text)
    assert [(s.novel, s.repeat_of, s.source) for s in result.sentences] == [(True, None, None), (False, 0, None), (True, None, None)]
    assert result.score == round((9 + 9) / (9 + 13 + 9), 4) == 0.5806


def test_threshold_boundary_on_features():
    earlier = "The flagship Avocado model will not be downloadable."
    close = "The flagship Avocado model will not be available for download."
    later = "Meta's flagship Avocado model will not be offered as a download to developers."
    assert len(features(close) & features(earlier)) / len(features(close)) == pytest.approx(2 / 3)
    assert len(features(later) & features(earlier)) / len(features(later)) == 0.45 < MATCH_THRESHOLD
    idx = NoveltyIndex()
    idx.add("a", earlier)
    assert idx.assess(close).score == 0.0
    assert idx.assess(later).score == 1.0  # reworded well beyond a few words: novel at 0.6
    loose = NoveltyIndex(threshold=0.45)
    loose.add("a", earlier)
    assert loose.assess(later).score == 0.0
    with pytest.raises(ValueError):
        NoveltyIndex(threshold=0.0)


def _demo_index() -> tuple[NoveltyIndex, dict, dict]:
    """Seeds first, then the demo's pass-1 on-story articles in publication order; the site's
    pages at pass 1 and at pass 2 (new article, edited article) by slug."""
    seeds = {p.name: p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    pass1 = {p.slug: p for p in build_pages(load_articles(), seeds, phase=1)}
    pass2 = {p.slug: p for p in build_pages(load_articles(), seeds, phase=2)}
    idx = NoveltyIndex()
    for name, text in seeds.items():
        idx.add(f"seed:{name}", text)
    for page in sorted((p for p in pass1.values() if p.label == "on_story"), key=lambda p: p.published):
        idx.add(page.slug, "\n".join(page.paragraphs))
    return idx, pass1, pass2


def test_demo_pass_two_article_novel_sentences_carry_its_new_facts():
    idx, _, pass2 = _demo_index()
    later = next(p for p in pass2.values() if p.phase == 2)
    result = idx.assess("\n".join(later.paragraphs))
    assert result.score == 1.0  # a new, independently written article
    novel_facts = {(f.kind, f.normalized) for s in result.novel for f in extract_facts(s.text)}
    assert {("date", "--12-09"), ("quantity", "70000000000 parameters"), ("quantity", "12000000000 parameters"),
            ("quantity", "256000 tokens"), ("money", "USD 50000000"),
            ("quantity", "300000000 monthly active users")} <= novel_facts


def test_demo_syndicated_copies_and_seed_copies_have_novelty_zero():
    idx, pass1, _ = _demo_index()
    syndicated = [p for p in pass1.values() if p.label == "syndicated"]
    assert len(syndicated) == 2
    for page in syndicated:
        result = idx.assess("\n".join(page.paragraphs))
        original = page.slug.removeprefix("syndicated-")
        assert result.score == 0.0, page.slug
        assert set(result.credits) == {original}
        assert sum(result.credits.values()) == len(result.sentences) > 10
    seed_copies = [p for p in pass1.values() if p.label == "seed_copy"]
    assert len(seed_copies) == 2
    for page in seed_copies:
        result = idx.assess("\n".join(page.paragraphs))
        assert result.score == 0.0 and all(key.startswith("seed:") for key in result.credits)


def test_demo_edited_article_adds_only_its_new_paragraph():
    idx, pass1, pass2 = _demo_index()
    assert pass1[EDITED_SLUG].paragraphs != pass2[EDITED_SLUG].paragraphs
    edited = pass2[EDITED_SLUG]  # phase 2: new headline and the added paragraph
    result = idx.assess("\n".join(edited.paragraphs))
    edit = next(a for a in load_articles() if a["slug"] == EDITED_SLUG)["edited"]["paragraph"]
    assert [s.text for s in result.novel] == [
        edit.split(" The person put")[0],
        "The person put the proposed share at about 8 percent.",
    ]
    # the rest was said by the first version, except one line the scoop had said first
    assert result.credits == {EDITED_SLUG: 17, "meta-avocado-open-weights-scoop": 1}
    assert next(s for s in result.sentences if s.source != EDITED_SLUG and not s.novel).text == (
        "Meta declined to comment on the draft.")


def test_index_search_equals_brute_force_over_the_demo_story():
    """The inverted-index search (rarest features, pruned by counts) finds exactly the earliest
    sentence a brute-force scan finds, on real story text and on reworded copies of it."""
    import random

    from storywatch.facts import numeric_keys
    from storywatch.sentences import split_sentences

    idx, pass1, pass2 = _demo_index()
    seeds = {p.name: p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    order = [(f"seed:{n}", t) for n, t in seeds.items()] + [
        (p.slug, "\n".join(p.paragraphs))
        for p in sorted((p for p in pass1.values() if p.label == "on_story"), key=lambda p: p.published)]
    earlier = [(key, s.text, features(s.text), numeric_keys(s.text)) for key, t in order for s in split_sentences(t)]

    def brute(sentence: str) -> str | None:
        feats, numbers = features(sentence), numeric_keys(sentence)
        for key, _, other, other_numbers in earlier:
            if len(feats & other) >= MATCH_THRESHOLD * len(feats) - 1e-9 and numbers <= other_numbers:
                return key
        return None

    rng = random.Random(5)
    queries = [s for _, s, _, _ in earlier] + [s.text for p in pass2.values() for s in split_sentences("\n".join(p.paragraphs))]
    for sentence in list(queries):
        tokens = sentence.split()
        for _ in range(rng.randint(1, 4)):
            tokens[rng.randrange(len(tokens))] = rng.choice(["models", "Meta", "open", "the", "weights", "new"])
        queries.append(" ".join(tokens))
    assert len(queries) > 600
    found = 0
    for sentence in queries:
        [judged] = idx.assess(sentence).sentences or [None]
        if judged is None:
            continue
        expected = brute(sentence)
        assert judged.source == expected, sentence
        found += expected is not None
    assert found > 300


def test_sub_index_of_looked_up_sentences_judges_as_the_whole_index():
    """What a pass does with the stored sentences: load only those holding one of the rarest
    features of the sentences it assesses (`lookup_features`), then judge. Same verdicts, sources,
    matched sentences and scores as the index of everything, on the demo's pass-2 pages, its
    syndicated and seed copies and reworded copies of every stored sentence."""
    import random
    from collections import Counter

    from storywatch.novelty import Prepared, lookup_features

    whole, pass1, pass2 = _demo_index()
    seeds = {p.name: p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    stored = list(whole.said_since(0))  # what the warehouse would hold (seeds included, as earliest)
    assert len(stored) == len(whole) > 200
    frequency = Counter(f for s in stored for f in s.fingerprint.features)

    rng = random.Random(9)
    texts = ["\n".join(p.paragraphs) for p in pass2.values() if p.phase == 2 or p.slug == EDITED_SLUG]
    texts += ["\n".join(p.paragraphs) for p in pass1.values() if p.label in ("syndicated", "seed_copy")]
    for s in stored[::3]:
        tokens = s.text.split()
        tokens[rng.randrange(len(tokens))] = rng.choice(["models", "Meta", "open", "weights"])
        texts.append(" ".join(tokens))
    prepared = [Prepared.of(t) for t in texts]
    wanted = lookup_features([fp for p in prepared for fp in p.prints], frequency)
    sub = NoveltyIndex()
    assert sub.add_said(s for s in stored if s.fingerprint.features & wanted) == len(sub)
    assert 0 < len(sub) < len(whole)  # a part of the story, not all of it
    for p in prepared:
        assert sub.assess(p) == whole.assess(p)
    assert sum(whole.assess(p).score < 1.0 for p in prepared) > len(prepared) // 2  # most did match
    assert seeds  # the seeds were part of what was stored


def test_said_since_round_trips_fingerprints_and_feature_hashes_are_stable():
    import subprocess
    import sys

    from storywatch.novelty import Fingerprint, feature_hash

    idx = NoveltyIndex()
    idx.add("seed:002", SEED)
    start = len(idx)
    idx.add("techwire/scoop", SCOOP)
    said = list(idx.said_since(start))
    assert [s.key for s in said] == ["techwire/scoop"] * 3
    assert [s.fingerprint for s in said] == [Fingerprint.of(s.text) for s in said]
    idx.add("gadget-hub/copy", SCOOP)  # word for word: nothing new to store
    assert list(idx.said_since(start)) == said
    out = subprocess.run([sys.executable, "-c", "from storywatch.novelty import feature_hash as h; print(h('open weights'))"],
                         capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123"}, cwd=str(SEEDS.parents[1]))
    assert int(out.stdout) == feature_hash("open weights")  # the same in another process
