"""Shared fixtures: one Prefect test server for the session, real story folders in tmp_path."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402
from pytest_httpserver import HTTPServer  # noqa: E402
from werkzeug import Response  # noqa: E402

from storywatch.demo.sample_site import DemoSite  # noqa: E402

from storywatch.demo.story_folder import write_story  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED_STORY = ROOT / "seeds" / "meta-open-models"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API for the whole session (it takes ~15 s to start)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture(autouse=True)
def fresh_hosts(monkeypatch):
    """Each test starts as a new process does, remembering no host's pacing, Retry-After or
    robots.txt: tests share loopback servers that one real process would meet as one host."""
    from storywatch.flows import hosts

    monkeypatch.setattr(hosts, "HOSTS", hosts.HostGate())
    monkeypatch.setattr(hosts, "ROBOTS", hosts.RobotsCache())


def site_response(site: DemoSite, request) -> Response:  # noqa: ANN001 - werkzeug's request
    """The sample site's answer to a pytest-httpserver request, conditional GETs included."""
    target = request.full_path if request.query_string else request.path
    status, headers, body = site.respond(target, request.headers.get("If-None-Match"))
    return Response(body, status=status, headers=headers)


def make_story(folder: Path, feed_urls: list[str], extra_toml: str = "", interval: float = 0) -> Path:
    """A story folder with the five real seeds, a feeds.txt and a story.toml. Its fetch settings
    put no `interval` between requests unless asked: the tests' one loopback host stands for
    many outlets."""
    return write_story(folder, SEED_STORY, feed_urls,
                       'title = "Meta open-sources its new models"\nfeeds = "feeds.txt"\n'
                       "[thresholds]\nrelevance = 0.4\n"
                       f"[fetch]\nretries = 0\ntimeout_seconds = 5\nmin_interval_seconds = {interval}\n" + extra_toml)


@pytest.fixture()
def seed_texts() -> dict[str, str]:
    from storywatch.extractors.story import load_story

    return load_story(SEED_STORY).seeds


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """pytest-httpserver on 127.0.0.1 (not "localhost"), so URLs name the address itself."""
    return ("127.0.0.1", 0)


@pytest.fixture()
def site_and_hook():
    """The sample site and a webhook, both on 127.0.0.1; the hook's status can be switched."""
    from storywatch.extractors.story import load_story

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    site = DemoSite(load_story(SEED_STORY).seeds, f"http://127.0.0.1:{server.port}")
    hook = {"status": 200, "posts": []}

    def webhook(request):
        if hook["status"] == 200:
            hook["posts"].append(json.loads(request.data))
        return Response("{}", status=hook["status"], content_type="application/json")

    server.expect_request("/hook/SECRETTOKEN123", method="POST").respond_with_handler(webhook)
    server.expect_request(re.compile("^/(?!hook).*")).respond_with_handler(lambda request: site_response(site, request))
    yield site, hook, f"json://127.0.0.1:{server.port}/hook/SECRETTOKEN123"
    server.stop()


def comparable_views(db: Path) -> dict:
    """Every view's rows that do not depend on when or how often the pass ran: what two runs
    of the same pass must agree on."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "judgments": con.execute(
                "SELECT url, verdict, duplicate_of, relevance, versions, title FROM judgments ORDER BY url").fetchall(),
            "daily": con.execute("SELECT * FROM daily_coverage").fetchall(),
            "versions": con.execute("SELECT article_id, version, content_hash FROM page_versions ORDER BY 1, 2").fetchall(),
            "entries": con.execute("SELECT feed_url, guid, article_id FROM entries ORDER BY 1, 2").fetchall(),
            "developments": con.execute("SELECT article_id, version, sentence_no, sentence, facts FROM developments "
                                        "ORDER BY 1, 2, 3").fetchall(),
            "first_reports": con.execute("SELECT fact, kind, outlet, article_id FROM first_reports ORDER BY 1, 2").fetchall(),
            "article_versions": con.execute("SELECT article_id, version, changed_headline, added, removed "
                                            "FROM article_versions ORDER BY 1, 2").fetchall(),
            "outlets": con.execute("SELECT outlet, articles, new, syndicated FROM outlets ORDER BY 1").fetchall(),
            "timeline": con.execute("SELECT * FROM story_timeline").fetchall(),
            "feed_health": con.execute("SELECT feed, consecutive_failures, failure_score, last_error "
                                       "FROM feed_health ORDER BY 1").fetchall(),
            "alerts": con.execute("SELECT key, rule, channel, status FROM alerts ORDER BY 1, 3").fetchall(),
        }
    finally:
        con.close()
