"""The real `monitor_story` flow against the sample site served on 127.0.0.1, with a real
DuckDB file: verdicts, dedupe pointers, the 304 path, an edited article, a failing feed,
the private-address guard, and idempotent re-runs."""

from __future__ import annotations

import gzip
import html
import re
from datetime import datetime, timezone

import duckdb
import pytest

from storywatch.extractors.article import extract_article
from storywatch.flows.monitor import monitor_story
from pytest_httpserver import HTTPServer

from storywatch.demo.sample_site import EDITED_SLUG, DemoSite, load_articles, render_rss
from storywatch.sentences import split_sentences
from storywatch.extractors.story import load_story
from tests.conftest import SEED_STORY, make_story, site_response

TABLES = ("feeds", "entries", "articles", "page_versions", "verdicts", "novel_sentences", "sentence_facts", "version_diffs",
          "said_sentences", "said_versions")


def _snapshot(db) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        snap = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        snap["judgments"] = con.execute(
            "SELECT article_id, verdict, duplicate_of, relevance, versions FROM judgments ORDER BY article_id"
        ).fetchall()
        snap["daily"] = con.execute("SELECT * FROM daily_coverage").fetchall()
        return snap
    finally:
        con.close()


@pytest.fixture(scope="module")
def site_run(prefect_harness, tmp_path_factory):
    """Serve the sample site with pytest-httpserver and run passes 1, 2 and 3 (no change)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    site = DemoSite(load_story(SEED_STORY).seeds, base)
    server.expect_request("/refused.xml").respond_with_data(
        render_rss("Refused", base, [("Internal link", f"http://localhost:{server.port}/gadget-hub/x", "", site.pages[0].published)]),
        content_type="application/rss+xml",
    )
    server.expect_request(re.compile(".*")).respond_with_handler(lambda r: site_response(site, r))  # after /refused.xml
    tmp = tmp_path_factory.mktemp("flow")
    feeds = site.feed_urls() + [f"{base}/refused.xml"]
    story = make_story(tmp, feeds, 'allow_hosts = ["127.0.0.1"]\n')
    db = tmp / "sw.duckdb"
    results, snaps = [], []
    for phase in (1, 2, 2):
        site.set_phase(phase)
        results.append(monitor_story(story_dir=str(story), db_path=str(db)))
        snaps.append(_snapshot(db))
    yield {"site": site, "db": db, "results": results, "snaps": snaps, "story": story}
    server.stop()


def _query(db, sql, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_first_pass_reaches_every_verdict(site_run):
    v = site_run["results"][0]["verdicts"]
    labels = [p.label for p in site_run["site"].pages if p.phase == 1]
    assert v["seed_copy"] == labels.count("seed_copy") == 2
    assert v["syndicated"] == labels.count("syndicated") == 2
    assert v["no_text"] == 1  # the script-shell page with an empty feed summary
    assert v["fetch_failed"] == 1  # a 404 with nothing in the feed
    assert v["blocked"] == 1  # a link to localhost, not on the allow-list
    written = labels.count("on_story") + labels.count("same_actors") + labels.count("off_topic")
    assert v["new"] + v["off_topic"] == written
    recipes = _query(site_run["db"], "SELECT verdict FROM judgments WHERE url LIKE '%kitchen-table%'")
    assert recipes and all(r[0] == "off_topic" for r in recipes)


def test_feed_failure_is_recorded_backs_off_and_does_not_fail_the_run(site_run):
    r1, r2, r3 = site_run["results"]
    assert r1["feeds_failed"] == 1 and r1["feeds"] == len(site_run["site"].feed_urls()) + 1
    # A hard failure (HTML instead of a feed) scores 1 and puts the next poll off by 30 minutes,
    # so the next two passes do not poll it; it stays visible in feed_health.
    assert (r2["feeds_deferred"], r3["feeds_deferred"]) == (1, 1)
    (failures, score, error, delay), = _query(site_run["db"], """
        SELECT consecutive_failures, failure_score, last_error, round((epoch(next_poll_at) - epoch(last_polled_at)) / 60)
        FROM feed_health WHERE feed LIKE '%retired.xml'""")
    assert (failures, score, delay) == (1, 1.0, 30) and error.startswith("not a feed")
    healthy = _query(site_run["db"], "SELECT count(*) FROM feed_health WHERE failure_score = 0 AND next_poll_at IS NULL")
    assert healthy[0][0] == r1["feeds"] - 1


def test_copies_point_at_their_originals(site_run):
    db = site_run["db"]
    seed_copies = _query(db, "SELECT duplicate_of, reason FROM judgments WHERE verdict = 'seed_copy'")
    assert {d for d, _ in seed_copies} <= {p.name for p in SEED_STORY.glob("*.txt")}
    pairs = _query(db, """
        SELECT s.url, o.url FROM judgments s JOIN judgments o ON s.duplicate_of = o.article_id
        WHERE s.verdict = 'syndicated'""")
    assert len(pairs) == 2
    for copy_url, original_url in pairs:
        assert copy_url.endswith("syndicated-" + original_url.rsplit("/", 1)[1])


def test_each_url_judged_once_despite_tracking_params_and_aggregator_redirects(site_run):
    urls = [u for (u,) in _query(site_run["db"], "SELECT url FROM judgments")]
    assert len(urls) == len(set(urls))
    assert not any("utm_" in u or "/go?" in u for u in urls)


def test_second_pass_uses_304_and_records_the_edit(site_run):
    r2 = site_run["results"][1]
    assert r2["feeds_not_modified"] >= 3
    assert r2["updates"] == 1 and r2["verdicts"]["new"] >= 1
    versions = _query(site_run["db"], """
        SELECT version, av.title, text FROM page_versions av JOIN articles a USING (article_id)
        WHERE a.url LIKE ? ORDER BY version""", f"%{EDITED_SLUG}")
    assert [v[0] for v in versions] == [1, 2]
    assert versions[0][1] != versions[1][1]  # headline changed
    assert len(versions[1][2]) > len(versions[0][2])  # a paragraph was added; the old text is kept
    (n,), = _query(site_run["db"], "SELECT versions FROM judgments WHERE url LIKE ?", f"%{EDITED_SLUG}")
    assert n == 2
    # The pass's new article: each sentence bringing a figure nobody gave before is a development
    # (its date, sizes, fund, licence threshold); the ones saying again what the scoop and the
    # licence article said are not; at most three are key; and it is the first report of each
    # of its figures, but of no fact the seeds or earlier coverage held.
    fresh = next(a for a in load_articles() if a["pass"] == 2)
    sentences = [s.text for s in split_sentences("\n".join(fresh["paragraphs"]))]
    (fresh_id,), = _query(site_run["db"], "SELECT article_id FROM articles WHERE url LIKE ?", f"%/{fresh['slug']}")
    devs = _query(site_run["db"], "SELECT sentence_no, outlet, version, sentence, key FROM developments "
                                  "WHERE article_id = ? ORDER BY sentence_no", fresh_id)
    numbers = {n for n, _, _, _, _ in devs}
    assert {0, 1, 2, 4, 8, 9, 10} <= numbers and not {3, 12, 13, 15} & numbers
    assert all((outlet, version, sentence) == ("TechWire", 1, sentences[n]) for n, outlet, version, sentence, _ in devs)
    assert 1 <= sum(key for *_, key in devs) <= 3
    firsts = _query(site_run["db"], "SELECT kind, fact FROM first_reports WHERE article_id = ? ORDER BY kind, fact",
                    fresh_id)
    assert firsts == [
        ("date", "December 9"), ("date", "first quarter of 2027"), ("money", "$50 million"), ("money", "$500,000"),
        ("name", "Lena Marchetti"), ("quantity", "12-billion-parameter"), ("quantity", "256,000 tokens"),
        ("quantity", "300 million monthly active users"), ("quantity", "70-billion-parameter"),
    ]


def test_rerun_adds_nothing(site_run):
    r3 = site_run["results"][2]
    snap2, snap3 = site_run["snaps"][1], site_run["snaps"][2]
    assert snap2 == snap3
    assert r3["feeds_not_modified"] == r3["feeds"] - 1  # all but the failing feed
    assert r3["updates"] == 0 and r3["verdicts"]["new"] == 0


def test_raw_html_kept_for_reextraction(site_run):
    rows = _query(site_run["db"], "SELECT html_gz, final_url, text FROM page_versions WHERE text_source = 'page' LIMIT 3")
    assert rows
    for html_gz, url, text in rows:
        assert extract_article(gzip.decompress(html_gz), url, None, datetime.now(timezone.utc)).text == text


def test_runs_table_has_counts(site_run):
    rows = _query(site_run["db"], "SELECT status, new, updates FROM runs ORDER BY started_at")
    assert [r[0] for r in rows] == ["completed"] * 3
    assert rows[0][1] == site_run["results"][0]["verdicts"]["new"]


def test_each_run_leaves_a_prefect_artifact(site_run):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def latest():
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["coverage-meta-open-models"])))

    artifacts = {str(a.flow_run_id): a.data or "" for a in asyncio.run(latest())}
    db = site_run["db"]
    run_ids = [r for (r,) in _query(db, "SELECT run_id FROM runs ORDER BY started_at")]
    assert len(run_ids) == 3 and set(run_ids) <= set(artifacts)  # one per pass (other modules add more)
    first, second, third = (artifacts[r] for r in run_ids)
    assert "## New coverage" in first and "| outlet | title | relevance |" in first
    # Each pass's Developments section lists exactly the key developments it stored, with their outlets.
    for run_id, markdown in zip(run_ids, (first, second, third)):
        stored = _query(db, """
            SELECT d.outlet, d.sentence FROM key_developments d JOIN page_versions p USING (article_id, version)
            WHERE p.run_id = ?""", run_id)
        listed = markdown.partition("\n## Developments\n\n")[2].splitlines()
        assert sorted(listed) == sorted(f"- **{outlet}**: {sentence}" for outlet, sentence in stored)
    assert "- **Signal Daily**: The person put the proposed share at about 8 percent." in second  # the edit's figure
    assert "## Developments" in first and "## Developments" not in third  # pass 3 found nothing


def _edited():
    return next(a for a in load_articles() if a.get("edited"))


def test_edit_is_a_version_with_a_readable_diff(site_run):
    edit = _edited()["edited"]
    rows = _query(site_run["db"], """
        SELECT v.version, v.changed_headline, v.added, v.removed, v.summary, v.title
        FROM article_versions v JOIN articles a USING (article_id) WHERE a.url LIKE ? ORDER BY version""",
        f"%{EDITED_SLUG}")
    assert [r[0] for r in rows] == [1, 2]
    _, changed, added, removed, summary, title = rows[1]
    assert changed and title == edit["headline"] and removed == []
    assert added == [s.strip() + "." for s in edit["paragraph"].rstrip(".").split(". ")]
    assert summary == "headline changed; 1 paragraph added (2 sentences); 0 removed"
    assert rows[0][4] == "first version"


def test_developments_credit_the_first_outlet_and_copies_add_nothing(site_run):
    db = site_run["db"]
    edit_devs = _query(db, """
        SELECT d.sentence, d.facts FROM developments d JOIN articles a USING (article_id)
        WHERE a.url LIKE ? AND d.version = 2 ORDER BY d.sentence_no""", f"%{EDITED_SLUG}")
    (added,), = _query(db, """
        SELECT added FROM article_versions v JOIN articles a USING (article_id) WHERE a.url LIKE ? AND version = 2""",
        f"%{EDITED_SLUG}")
    assert [s for s, _ in edit_devs] == added  # what the edit added is exactly what it said new
    assert edit_devs[-1] == ("The person put the proposed share at about 8 percent.", ["8 percent"])
    copies = _query(db, """
        SELECT j.url, v.novelty, (SELECT count(*) FROM developments d WHERE d.article_id = j.article_id)
        FROM judgments j JOIN verdicts v USING (story, article_id) WHERE j.verdict IN ('syndicated', 'seed_copy')""")
    assert copies and all(novelty == 0.0 and n == 0 for _, novelty, n in copies)
    firsts = dict(_query(db, "SELECT fact, outlet FROM first_reports WHERE kind <> 'name'"))
    assert firsts["December 9"] == firsts["70-billion-parameter"] == firsts["$50 million"] == "TechWire"
    assert firsts["8 percent"] == "Signal Daily"
    fresh = _query(db, "SELECT novelty FROM verdicts WHERE verdict = 'new' AND novelty IS NOT NULL")
    assert fresh and all(0.0 < n <= 1.0 for (n,) in fresh)


def test_outlets_and_timeline_views(site_run):
    db = site_run["db"]
    outlets = {o: (n, s) for o, n, s in _query(db, "SELECT outlet, new, syndicated FROM outlets")}
    assert outlets["Gadget Hub"][1] == 2 and outlets["TechWire"][0] >= 2
    timeline = _query(db, "SELECT day, new_articles, new_outlets, developments FROM story_timeline")
    assert sum(r[1] for r in timeline) == _query(db, "SELECT count(*) FROM coverage WHERE verdict = 'new'")[0][0]
    assert sum(r[2] for r in timeline) == len(outlets)
    assert sum(r[3] for r in timeline) == _query(db, "SELECT count(*) FROM developments")[0][0] > 0


def test_report_renders_from_the_warehouse(site_run, tmp_path):
    from typer.testing import CliRunner

    from storywatch.cli import app

    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["report", "--story", str(site_run["story"]), "--db", str(site_run["db"]),
                                      "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "first reports" in result.output and "December 9" in result.output
    page = out.read_text("utf-8")
    png = out.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert "<svg" in page and "Coverage over time" in page
    assert "headline changed; 1 paragraph added (2 sentences); 0 removed" in page
    assert "The person put the proposed share at about 8 percent." in page  # a key development: a new figure
    assert page.index("<h2>What changed") < page.index("<h2>First reports")
    health = page.split("<h2>Collection health</h2>")[1].split("<h2>")[0]  # the site's retired feed answers HTML
    assert "1 of 8 feeds are failing or backing off" in health and "/feeds/retired.xml" in health
    assert "not a feed: NonXMLContentType" in health and "collection: 1 of 8 feeds failing" in result.output
    assert "<details open><summary><b>" in page  # the developments digest, folded by day, the newest open
    by_outlet = page.split("<h2>Coverage by outlet</h2>")[1]
    copies = _query(site_run["db"], "SELECT c.url, o.url FROM coverage c JOIN judgments o ON o.article_id = c.duplicate_of "
                                    "WHERE c.verdict = 'syndicated'")
    assert copies and all(f"<a href='{copy}'" in by_outlet and f"copy of <a href='{original}'" in by_outlet
                          for copy, original in copies)  # a copy links to what it copies
    assert "<script" not in page and 'src="http' not in page and "href='http" not in page.split("<h2>What changed")[0]
    narrow = CliRunner().invoke(app, ["report", "--story", str(site_run["story"]), "--db", str(site_run["db"]),
                                      "--since", "2026-11-21"])
    assert narrow.exit_code == 0 and "2026-11-19" not in narrow.output.split("first reports")[0]
    bad = CliRunner().invoke(app, ["report", "--story", str(site_run["story"]), "--db", str(site_run["db"]), "--since", "soon"])
    assert bad.exit_code == 2 and "expected a date as YYYY-MM-DD" in bad.output
    # Near misses: the off-topic articles that scored highest, with why, to label if wrong.
    (top,), = _query(site_run["db"], "SELECT reason FROM judgments WHERE verdict = 'off_topic' ORDER BY relevance DESC LIMIT 1")
    assert "<h2>Near misses</h2>" in page and html.escape(top, quote=True) in page and "near misses" in result.output
    other = make_story(tmp_path / "other-story", ["https://example.com/feed"]).rename(tmp_path / "other-story" / "unknown-story")
    missing = CliRunner().invoke(app, ["report", "--story", str(other), "--db", str(site_run["db"])])
    assert missing.exit_code == 2 and missing.output.strip() == \
        f"error: {site_run['db']}: no pass of story 'unknown-story' in it (run one first, or give the --db it wrote)"


def test_said_store_is_kept_and_a_file_from_before_it_is_filled_in(site_run, tmp_path):
    """Each pass stores the sentences it made part of the story (once: pass 3 added none, see
    test_rerun_adds_nothing) and the copy-index buckets of its coverage. A file whose stores are
    empty (as one from before migration 006 is) gets them filled from the stored texts by its
    next pass, which then agrees with the first file on every view."""
    import shutil

    from tests.conftest import comparable_views

    db = site_run["db"]
    said = _query(db, "SELECT count(*), count(DISTINCT article_id), max(sid) + 1 FROM said_sentences")[0]
    indexed = _query(db, "SELECT count(*) FROM said_versions")[0][0]
    new_versions = _query(db, "SELECT count(*) FROM page_versions JOIN verdicts USING (article_id) "
                              "WHERE verdict = 'new'")[0][0]
    assert said[0] == said[2] > 100 and said[1] >= 4  # sids dense from 0
    assert indexed == new_versions  # every version of new coverage, the edit included

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        site = DemoSite(load_story(SEED_STORY).seeds, base)
        server.expect_request(re.compile(".*")).respond_with_handler(
            lambda r: site_response(site, r))
        story = make_story(tmp_path, site.feed_urls(), 'allow_hosts = ["127.0.0.1"]\n')
        kept, emptied = tmp_path / "kept.duckdb", tmp_path / "emptied.duckdb"
        monitor_story(story_dir=str(story), db_path=str(kept))
        shutil.copy(kept, emptied)
        con = duckdb.connect(str(emptied))
        con.execute("DELETE FROM said_sentences; DELETE FROM said_versions; DELETE FROM copy_buckets")
        con.close()
        site.set_phase(2)
        for path in (kept, emptied):
            monitor_story(story_dir=str(story), db_path=str(path))
    finally:
        server.stop()
    assert comparable_views(kept) == comparable_views(emptied)
    rows = "SELECT article_id, sentence FROM said_sentences ORDER BY 1, 2"
    assert _query(emptied, rows) == _query(kept, rows) and len(_query(kept, rows)) == said[0]
    buckets = "SELECT article_id, bucket FROM copy_buckets ORDER BY 1, 2"
    covered = _query(kept, "SELECT count(DISTINCT article_id) FROM verdicts "
                           "WHERE verdict IN ('new', 'syndicated')")[0][0]
    assert _query(emptied, buckets) == _query(kept, buckets)
    assert len(_query(kept, buckets)) == covered * 28 > 0  # one key per LSH band




@pytest.mark.parametrize("what, fmt", [("coverage", "csv"), ("judgments", "jsonl"), ("developments", "parquet"),
                                       ("timeline", "csv")])
def test_export_writes_a_view_as_it_is(site_run, tmp_path, what, fmt):
    """`storywatch export` writes the view's documented columns and rows, read back by DuckDB."""
    from typer.testing import CliRunner

    from storywatch.cli import app

    out = tmp_path / f"x.{fmt}"
    result = CliRunner().invoke(app, ["export", "--story", str(site_run["story"]), "--db", str(site_run["db"]),
                                      "--what", what, "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    view = {"timeline": "story_timeline"}.get(what, what)
    con = duckdb.connect(str(site_run["db"]), read_only=True)
    try:
        expected = con.execute(f"SELECT * FROM {view}").fetchall()
        columns = [d[0] for d in con.execute(f"SELECT * FROM {view} LIMIT 0").description]
        reader = {"csv": "read_csv_auto", "jsonl": "read_json_auto", "parquet": "read_parquet"}[fmt]
        back = con.execute(f"SELECT * FROM {reader}(?)", [str(out)])
        got_columns = [d[0] for d in back.description]
        got = back.fetchall()
    finally:
        con.close()
    assert got_columns == columns and len(got) == len(expected) > 0
    assert f"wrote {len(expected)} rows of {what}" in result.output
    if fmt == "parquet":  # typed: exactly the view's rows
        assert sorted(map(repr, got)) == sorted(map(repr, expected))


def test_export_since_and_bad_input(site_run, tmp_path):
    from typer.testing import CliRunner

    from storywatch.cli import app

    base = ["export", "--story", str(site_run["story"]), "--db", str(site_run["db"]), "--what", "coverage",
            "--format", "parquet"]
    out = tmp_path / "late.parquet"
    assert CliRunner().invoke(app, [*base, "--since", "2026-11-19", "--out", str(out)]).exit_code == 0
    days = duckdb.execute(f"SELECT min(coalesce(published_at, first_seen_at))::DATE FROM read_parquet('{out}')").fetchone()[0]
    assert days.isoformat() >= "2026-11-19"
    bad = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "missing-dir" / "x" / "y.parquet"), "--since", "soon"])
    assert bad.exit_code == 2 and "expected a date as YYYY-MM-DD" in bad.output


def test_each_pass_writes_an_atom_feed_of_the_coverage(site_run):
    """RFC 4287's required elements, no bozo in feedparser, one entry per new article with stable IDs."""
    import feedparser
    from typer.testing import CliRunner

    from storywatch.cli import app

    path = site_run["db"].parent / "meta-open-models.atom"
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "urn:storywatch:meta-open-models" and parsed.feed.title and parsed.feed.updated
    assert parsed.feed.author == "storywatch"
    new = _query(site_run["db"], "SELECT article_id, url FROM coverage WHERE verdict = 'new'")
    assert sorted(e.id for e in parsed.entries) == sorted(f"urn:uuid:{aid}" for aid, _ in new)
    assert all(e.title and e.updated and e.author and e.link for e in parsed.entries)
    copies = _query(site_run["db"], "SELECT duplicate_of, url FROM coverage WHERE verdict = 'syndicated'")
    for original, copy in copies:  # each copy is linked from its original's entry
        entry = next(e for e in parsed.entries if e.id == f"urn:uuid:{original}")
        assert copy in [link.href for link in entry.links if link.rel == "related"]
    printed = CliRunner().invoke(app, ["feed", "--story", str(site_run["story"]), "--db", str(site_run["db"])])
    assert printed.exit_code == 0
    again = feedparser.parse(printed.output.encode())
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]  # stable from pass to pass
