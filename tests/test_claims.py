"""Developments judged on meaning, through real `monitor_story` passes over a small site on
127.0.0.1: a paraphrase of the seeds adds no key development, a rewrite with one new figure adds
exactly that one, and one new claim reported by two outlets in their own words is one development
crediting the earlier, with the later counted as a repeat. Plus the pure rule itself."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from storywatch.claims import Known, Units
from storywatch.demo.sample_site import Page, render_page, render_rss
from storywatch.evolution import seed_units
from storywatch.facts import extract_facts
from storywatch.flows.monitor import monitor_story
from tests.conftest import make_story
from tests.test_flow import _query

PARAPHRASE = (
    "Meta has said it will in time release open-source versions of the new artificial intelligence models built "
    "under Alexandr Wang, the Scale AI founder who now leads its model work.",
    "Before any public release, though, the company wants to hold some parts back as proprietary and to make sure "
    "the models add no new safety risks.",
    "The shift is a more cautious stance for Meta, which released LLaMA, LLaMA 2 and LLaMA 3 under permissive "
    "licenses and has long been one of the loudest backers of open-source AI.",
)
REWORDED = (
    "Open-source releases of Meta's new AI models will come eventually, the company says, but not before it keeps "
    "certain components proprietary and checks the models for fresh safety risks.",
    "Alexandr Wang, who founded Scale AI and was its chief executive, now runs model development at Meta, a sign "
    "the company wants more capable models that can compete commercially.",
)
BACKGROUND = (
    "Meta once released LLaMA, LLaMA 2 and LLaMA 3 openly under permissive licenses, and the new models from "
    "Alexandr Wang's group are expected to be handled more cautiously, with some pieces kept proprietary.",
)
FIGURE = "Meta will charge developers $4 per million tokens for the hosted flagship model, a company spokesperson said."
CLAIM_FIRST = "Meta is opening a research lab in Paris that will employ 300 engineers to build the open models, Alexandr Wang told staff."
CLAIM_LATER = "Some 300 engineers are to staff a new Meta laboratory in Paris working on the openly released models, according to an internal memo."
FILLER = ("Meta's stance on openness has been debated by developers and investors for years.",
          "The company's plans for its new AI models were reported earlier this week, with pieces kept proprietary.")


def _page(outlet: str, slug: str, headline: str, day: int, paragraphs: tuple[str, ...]) -> Page:
    return Page(outlet, slug, headline, "Staff", datetime(2026, 11, day, 9, 0), paragraphs, "on_story")


@pytest.fixture(scope="module")
def claims_run(prefect_harness, tmp_path_factory):
    """One pass over a feed of four articles about the seed story, published on four days."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    pages = [
        _page("techwire", "paraphrase", "Meta to open its new AI models, in time, under Alexandr Wang", 18, PARAPHRASE),
        _page("gadget-hub", "one-figure", "Meta's open AI models: what we know, and the price of the flagship", 19,
              (*REWORDED, FIGURE)),
        _page("signal-daily", "paris-lab", "Meta to staff Paris lab for its open AI models", 20, (CLAIM_FIRST, *FILLER)),
        _page("the-ledger", "paris-memo", "Memo: Paris team to work on Meta's open-source models", 21,
              (CLAIM_LATER, *BACKGROUND, *REWORDED[1:])),
    ]
    by_path = {p.path: p for p in pages}
    feed = render_rss("Claims site", base, [(p.headline, f"{base}{p.path}", p.paragraphs[0], p.published) for p in pages])

    def handler(request):
        if request.path == "/feed.xml":
            return Response(feed, content_type="application/rss+xml")
        if request.path not in by_path:
            return Response("not found", status=404)
        return Response(render_page(by_path[request.path], base), content_type="text/html; charset=utf-8")

    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    tmp = tmp_path_factory.mktemp("claims")
    story = make_story(tmp, [f"{base}/feed.xml"], 'allow_hosts = ["127.0.0.1"]\n')
    db = tmp / "claims.duckdb"
    result = monitor_story(story_dir=str(story), db_path=str(db))
    yield db, result
    server.stop()


def _developments(db, slug: str) -> list[tuple]:
    return _query(db, "SELECT d.sentence, d.key, d.repeats, d.repeated_by, d.first_outlet FROM developments d "
                      "JOIN articles a USING (article_id) WHERE a.url LIKE ? ORDER BY d.sentence_no", f"%/{slug}")


def test_all_four_are_new_coverage(claims_run):
    db, result = claims_run
    verdicts = dict(_query(db, "SELECT regexp_extract(url, '[^/]+$'), verdict FROM judgments"))
    assert {verdicts[s] for s in ("paraphrase", "one-figure", "paris-lab", "paris-memo")} == {"new"}, verdicts


def test_a_paraphrase_of_the_seeds_adds_no_key_development(claims_run):
    db, _ = claims_run
    assert [d for d in _developments(db, "paraphrase") if d[1]] == []


def test_a_rewrite_with_one_new_figure_adds_exactly_that_one(claims_run):
    db, _ = claims_run
    assert [(d[0], d[1]) for d in _developments(db, "one-figure") if d[1]] == [(FIGURE, True)]
    firsts = _query(db, "SELECT fact FROM first_reports f JOIN articles a USING (article_id) "
                        "WHERE a.url LIKE '%/one-figure' AND kind <> 'name'")
    assert firsts == [("$4",)]  # the one figure; nothing the seeds held


def test_one_claim_from_two_outlets_is_one_development_crediting_the_earlier(claims_run):
    db, _ = claims_run
    first = [d for d in _developments(db, "paris-lab") if d[0] == CLAIM_FIRST]
    assert first and first[0][1] and first[0][2] == 1 and first[0][4] == "Signal Daily"
    assert first[0][3] == ["The Ledger"]
    assert not [d for d in _developments(db, "paris-memo") if d[0] == CLAIM_LATER]
    assert _query(db, "SELECT count(*) FROM key_developments WHERE sentence IN (?, ?)", CLAIM_FIRST, CLAIM_LATER) == [(1,)]


def test_filler_is_never_key(claims_run):
    db, _ = claims_run
    assert not _query(db, "SELECT sentence FROM key_developments WHERE sentence IN (?, ?)", *FILLER)


def test_facts_the_seeds_held_are_never_first_reports(seed_texts):
    known = seed_units(seed_texts)
    restated = "Meta has said it will eventually offer open-source versions of its new models, led by Alexandr Wang."
    claim = known.judge(restated, Units.of(restated, extract_facts(restated)))
    assert claim.kind == "restated" and not claim.new.facts
    fresh = "Meta will release the models on March 3, 2027, with 400 billion parameters."
    claim = known.judge(fresh, Units.of(fresh, extract_facts(fresh)))
    assert claim.kind == "new" and {"date:2027-03-03", "quantity:400000000000 parameters"} <= claim.new.facts


def test_a_sentence_sharing_nothing_with_the_story_is_filler():
    known = Known(story_words=frozenset({"meta", "model"}))
    sentence = "That is not all."
    assert known.judge(sentence, Units.of(sentence, [])).kind == "filler"
