"""Relevance scorer quality on the labeled sets (no network: wordfreq ships its data).

tuning  = tests/fixtures/relevance.jsonl + storywatch/demo/site/articles.json (the scorer was tuned on these)
holdout = tests/fixtures/relevance_holdout.jsonl (written before tuning, used only to validate)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storywatch.relevance import StoryProfile
from storywatch.extractors.story import load_story

ROOT = Path(__file__).resolve().parents[1]
SEED_STORY = ROOT / "seeds" / "meta-open-models"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Floors a little below what the scorer reaches (tuning 0.993 / 0.981, holdout 1.000 / 1.000).
AUC_FLOOR = {"tuning": (0.98, 0.96), "holdout": (0.98, 0.96)}
MIN_RECALL = 0.95
MAX_OFF_TOPIC_FP = 0.02

# On-story pieces and a same-actors, different-event piece about the same people or products.
COUNTERPARTS = {
    "tuning": [
        ("on-05", "sa-01"),                                       # Llama 4 stumble / Llama 4 launch
        ("meta-avocado-open-weights-scoop", "meta-unveils-llama-4-scout-maverick"),
        ("on-12", "sa-05"),                                       # Wang's lab / Wang's hiring spree
        ("investors-rivals-weigh-meta-open-model-bet", "sa-04"),  # investors / capex
        ("on-01", "scale-ai-rebuilds-after-wang-exit"),           # Wang and Scale AI
        ("on-13", "sa-03"),
        ("on-09", "sa-02"),                                       # downloadable weights / Llama 3
        ("on-04", "sa-10"),
        ("avocado-licence-what-developers-can-do", "meta-ai-app-users-glasses-translation"),
        ("on-07", "sa-06"),
        ("on-14", "sa-09"),
        ("on-10", "sa-08"),
        ("on-11", "sa-07"),
    ],
    "holdout": [
        ("ho-on-09", "ho-sa-01"),   # open-model opinion / Llama 3.1 and Zuckerberg's open-source letter
        ("ho-on-01", "ho-sa-04"),   # Wang / Scale AI layoffs
        ("ho-on-03", "ho-sa-03"),   # investors / capex
        ("ho-on-10", "ho-sa-08"),   # staff memo / reorganisation memo
        ("ho-on-06", "ho-sa-07"),   # Wang's lab / Wang's Midjourney deal
        ("ho-on-02", "ho-sa-06"),   # Llama era / Llama 4 controversy
        ("ho-on-08", "ho-sa-02"),
        ("ho-on-05", "ho-sa-05"),
    ],
}
MIN_MEAN_GAP = {"tuning": 0.25, "holdout": 0.35}   # reached: 0.35 and 0.51

CHROME_TOP = "Skip to main content\nSubscribe to our Meta AI newsletter\nShare this article\n"
CHROME_MID = "\nAdvertisement\nRelated stories\nPhoto by Alexandr Wang for Meta\n"
CHROME_END = "\nComments\nLoading comments…\nWant to join the conversation?\nSign up for open source AI model alerts\n"


def _jsonl(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"id": r["id"], "label": r["label"], "text": f"{r['title']}\n{r['text']}"} for r in rows]


def _demo() -> list[dict]:
    articles = json.loads((ROOT / "storywatch/demo/site/articles.json").read_text(encoding="utf-8"))
    return [
        {"id": a["slug"], "label": a["label"], "text": a["headline"] + "\n" + "\n".join(a["paragraphs"])}
        for a in articles
    ]


@pytest.fixture(scope="module")
def story():
    return load_story(SEED_STORY)


@pytest.fixture(scope="module")
def profile(story) -> StoryProfile:
    return StoryProfile.from_seeds(list(story.seeds.values()))


@pytest.fixture(scope="module")
def threshold(story, profile) -> float:
    """The seed story runs on its derived threshold (story.toml sets none)."""
    assert story.config.thresholds.relevance is None
    return profile.threshold()


@pytest.fixture(scope="module")
def scored(profile) -> dict[str, list[dict]]:
    sets = {"tuning": _jsonl(FIXTURES / "relevance.jsonl") + _demo(), "holdout": _jsonl(FIXTURES / "relevance_holdout.jsonl")}
    return {name: [r | {"score": profile.score(r["text"])} for r in rows] for name, rows in sets.items()}


def _scores(rows: list[dict], label: str) -> list[float]:
    return [r["score"] for r in rows if r["label"] == label]


def _auc(pos: list[float], neg: list[float]) -> float:
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


SETS = ["tuning", "holdout"]


@pytest.mark.parametrize("name", SETS)
def test_sets_have_all_labels(scored, name):
    rows = scored[name]
    assert len(_scores(rows, "on_story")) >= 10
    assert len(_scores(rows, "same_actors")) >= 8
    assert len(_scores(rows, "off_topic")) >= 10


@pytest.mark.parametrize("name", SETS)
def test_auc_floors(scored, name):
    rows = scored[name]
    on, same, off = (_scores(rows, k) for k in ("on_story", "same_actors", "off_topic"))
    floor_all, floor_same = AUC_FLOOR[name]
    assert _auc(on, same + off) >= floor_all
    assert _auc(on, same) >= floor_same


@pytest.mark.parametrize("name", SETS)
def test_recall_at_configured_threshold(scored, name, threshold):
    on = _scores(scored[name], "on_story")
    missed = sorted((r["score"], r["id"]) for r in scored[name] if r["label"] == "on_story" and r["score"] < threshold)
    assert sum(s >= threshold for s in on) / len(on) >= MIN_RECALL, missed


@pytest.mark.parametrize("name", SETS)
def test_off_topic_false_positives(scored, name, threshold):
    off = _scores(scored[name], "off_topic")
    hits = [(r["score"], r["id"]) for r in scored[name] if r["label"] == "off_topic" and r["score"] >= threshold]
    assert sum(s >= threshold for s in off) / len(off) <= MAX_OFF_TOPIC_FP, hits


def test_every_avocado_food_piece_is_below_threshold(scored, threshold):
    # "Avocado" is the reported codename of the new models, so recipes and farm news are the trap.
    avocado = [r for rows in scored.values() for r in rows if r["label"] == "off_topic" and "avocado" in r["text"].lower()]
    assert len(avocado) >= 5
    assert all(r["score"] < threshold for r in avocado), [(r["id"], r["score"]) for r in avocado]


def _excerpt(text: str, n_words: int) -> str:
    out, count = [], 0
    for line in text.splitlines():
        out.append(line)
        count += len(line.split())
        if count >= n_words:
            break
    return "\n".join(out)


def _with_chrome(text: str) -> str:
    lines = text.splitlines()
    half = len(lines) // 2
    return CHROME_TOP + "\n".join(lines[:half]) + CHROME_MID + "\n".join(lines[half:]) + CHROME_END


def test_chrome_lines_do_not_change_a_seed_score(profile, story):
    # Whole seeds score ~1.0, so also use their openings (~80 words, scoring well below 1), where
    # chrome carrying story words ("Subscribe to our Meta AI newsletter") would show if it leaked in.
    for seed in story.seeds.values():
        opening = _excerpt(seed, 80)
        assert profile.score(opening) < 0.97   # room for leaked chrome to show
        for text in (seed, opening):
            assert abs(profile.score(_with_chrome(text)) - profile.score(text)) <= 0.02


@pytest.mark.parametrize("name", SETS)
def test_same_actors_rank_below_their_on_story_counterparts(scored, name):
    by_id = {r["id"]: r for r in scored[name]}
    gaps = []
    for on_id, same_id in COUNTERPARTS[name]:
        assert by_id[on_id]["label"] == "on_story" and by_id[same_id]["label"] == "same_actors"
        gaps.append(by_id[on_id]["score"] - by_id[same_id]["score"])
    assert sum(gaps) / len(gaps) >= MIN_MEAN_GAP[name], gaps
    assert sum(g > 0 for g in gaps) >= 0.75 * len(gaps), gaps


def test_seeds_score_near_one_and_scores_are_bounded(profile, story):
    for seed in story.seeds.values():
        assert profile.score(seed) >= 0.95
    for text in ("", "Comments\nLoading comments…", "avocado " * 500):
        assert 0.0 <= profile.score(text) <= 1.0
    assert profile.score("") == 0.0
