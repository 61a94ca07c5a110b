"""How the story changes, through real `monitor_story` passes over a small site on 127.0.0.1:
facts credited by publication time rather than fetch order, age-tiered re-checks of pages
whose feed entry never changed, and an edited original that has a syndicated copy."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from storywatch.flows.monitor import monitor_story
from storywatch.demo.sample_site import Page, load_articles, render_page, render_rss
from tests.conftest import make_story
from tests.test_flow import _query

SCOOP, ADVOCATES, INVESTORS = ("meta-avocado-open-weights-scoop", "open-source-advocates-doubt-meta-avocado",
                               "investors-rivals-weigh-meta-open-model-bet")
# One fact in two wordings, in the earlier-published (Signal Daily) and the later-published (The Ledger) article.
EARLIER_FACT = "Analysts at Northbridge put the cost of the computing clusters behind the Avocado models at $38 billion."
LATER_FACT = "Meta's board has quietly approved 38 billion dollars of extra data-centre spending for next year, two people said."
EDIT = "Updated: Meta confirmed on Friday that the first downloadable Avocado checkpoint will be published on January 12."


def _pages() -> dict[str, Page]:
    """The scoop, its syndicated copy and two articles sharing a fact, by path."""
    articles = {a["slug"]: a for a in load_articles()}

    def page(slug: str, extra: tuple[str, ...] = ()) -> Page:
        a = articles[slug]
        return Page(a["outlet"], slug, a["headline"], a["author"], datetime.fromisoformat(a["published"]),
                    (*a["paragraphs"], *extra), a["label"])

    scoop = page(SCOOP)
    copy = Page("gadget-hub", f"syndicated-{SCOOP}", f"Syndicated: {scoop.headline}", scoop.author,
                scoop.published + timedelta(hours=2),
                (*scoop.paragraphs, "This article first appeared on TechWire and is republished with permission."),
                "syndicated")
    pages = [scoop, copy, page(ADVOCATES, (EARLIER_FACT,)), page(INVESTORS, (LATER_FACT,))]
    return {p.path: p for p in pages}


@pytest.fixture(scope="module")
def changes_run(prefect_harness, tmp_path_factory):
    """Three passes over one RSS feed (newest first, fetched one page at a time, so the later of
    two articles is fetched first) with `[recheck] tiers = ["1s"]`: pass 1 sees everything,
    pass 2 follows an edit of the scoop's page (its feed entry unchanged), pass 3 comes after
    the last tier. Yields the passes' results and the page paths each pass requested."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    pages = _pages()
    feed = render_rss("Small site", base, [(p.headline, f"{base}{p.path}", p.paragraphs[0], p.published)
                                           for p in pages.values()])

    def handler(request):
        if request.path == "/feed.xml":
            return Response(feed, content_type="application/rss+xml")
        if request.path not in pages:
            return Response("not found", status=404)
        return Response(render_page(pages[request.path], base), content_type="text/html; charset=utf-8")

    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    tmp = tmp_path_factory.mktemp("changes")
    story = make_story(tmp, [f"{base}/feed.xml"],
                       'concurrency = 1\nallow_hosts = ["127.0.0.1"]\n[recheck]\ntiers = ["1s"]\n')
    db = tmp / "sw.duckdb"
    results, requested = [], []
    original = pages[f"/techwire/{SCOOP}"]
    for edits in ((), (EDIT,), (EDIT, "A second correction to the article followed later that day.")):
        if edits:
            time.sleep(1)  # past the 1 s tier
        pages[original.path] = replace(original, paragraphs=(*original.paragraphs, *edits))
        results.append(monitor_story(story_dir=str(story), db_path=str(db)))
        requested.append([r.path for r, _ in server.log if r.path not in ("/feed.xml", "/robots.txt")])
        server.clear_log()
    yield {"db": db, "results": results, "requested": requested}
    server.stop()


def test_a_fact_is_credited_to_the_earlier_published_article_not_the_first_fetched(changes_run):
    db = changes_run["db"]
    fetched = [url.rsplit("/", 1)[1] for (url,) in _query(db, "SELECT url FROM articles ORDER BY first_seen_at")]
    assert fetched.index(INVESTORS) < fetched.index(ADVOCATES)  # the later article was fetched first
    credited = _query(db, """
        SELECT f.fact, f.outlet, f.reported_at = p.published_at, f.reported_at < f.first_seen_at
        FROM first_reports f JOIN page_versions p USING (article_id) WHERE f.normalized = 'USD 38000000000'""")
    assert credited == [("$38 billion", "Signal Daily", True, True)]
    # One claim in two wordings: one development, the earlier article's, and the later one a repeat of it.
    both = _query(db, "SELECT outlet, repeats, repeated_by FROM developments WHERE list_contains(facts, '$38 billion') "
                      "OR list_contains(facts, '38 billion dollars') ORDER BY outlet")
    assert both == [("Signal Daily", 1, ["The Ledger"])]


def test_a_page_edited_behind_an_unchanged_feed_entry_is_rechecked_when_due(changes_run):
    """Only the re-check schedule (story.toml's 1 s tier; the default's first is 15 min) fetches
    the pages again in pass 2: no feed entry changed."""
    r1, r2, _ = changes_run["results"]
    assert len(changes_run["requested"][0]) == 4 and r1["verdicts"]["new"] == 3
    assert r2["entries_new"] == 0 and r2["feeds_not_modified"] == 1  # the feed itself did not change
    assert r2["rechecked"] == 4 and sorted(changes_run["requested"][1]) == sorted(changes_run["requested"][0])
    assert r2["updates"] == 1
    rows = _query(changes_run["db"], """
        SELECT v.version, v.changed_headline, v.added, v.removed, v.summary
        FROM article_versions v JOIN articles a USING (article_id) WHERE a.url LIKE ? ORDER BY version""",
        f"%/{SCOOP}")
    assert rows[1:] == [(2, False, [EDIT], [], "1 paragraph added (1 sentence); 0 removed")]


def test_an_article_past_its_last_tier_is_not_fetched_again(changes_run):
    r3 = changes_run["results"][2]
    assert changes_run["requested"][2] == [] and r3["rechecked"] == 0 and r3["updates"] == 0
    (versions,), = _query(changes_run["db"], "SELECT versions FROM judgments WHERE url LIKE ?", f"%/{SCOOP}")
    assert versions == 2  # its second edit is never seen


def test_edited_original_stays_new_and_its_copy_keeps_pointing_at_it(changes_run):
    """Regression: the copy was fetched before its original, and the edited original was then
    judged a copy of its own copy (each pointing at the other). Its diff is checked above."""
    db = changes_run["db"]
    (scoop_id,), = _query(db, "SELECT article_id FROM articles WHERE url LIKE ?", f"%techwire/{SCOOP}")
    judged = {url.rsplit("/", 1)[1]: (verdict, of)
              for url, verdict, of in _query(db, "SELECT url, verdict, duplicate_of FROM judgments")}
    assert judged[SCOOP] == ("new", None) and judged[f"syndicated-{SCOOP}"] == ("syndicated", scoop_id)
    devs = _query(db, "SELECT sentence, facts FROM developments WHERE article_id = ? AND version = 2", scoop_id)
    assert devs == [(EDIT, ["January 12", "Avocado", "Meta"])]
