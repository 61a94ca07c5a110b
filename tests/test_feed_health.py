"""Feed health: failures weighted by kind, linear capped back-off, Retry-After honoured, and
a failing feed never disabled — shown in `feed_health`."""

from datetime import datetime, timedelta, timezone

import duckdb
from pytest_httpserver import HTTPServer

from storywatch.flows.monitor import monitor_story
from storywatch.feedhealth import BACKOFF_CAP, health_after, next_poll_at, parse_retry_after
from storywatch.models import FeedPoll, FeedSource
from tests.conftest import make_story

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>ok</title></channel></rss>'


def _poll(kind=None, retry_after=None) -> FeedPoll:
    return FeedPoll(FeedSource("https://f.example/rss"), NOW, None, error="x" if kind else None,
                    failure_kind=kind, retry_after=retry_after)


def test_scores_and_backoff_are_linear_and_capped():
    assert health_after(0.0, _poll("hard")) == (1.0, NOW + timedelta(minutes=30))
    assert health_after(1.0, _poll("soft")) == (1.5, NOW + timedelta(minutes=45))
    assert health_after(0.0, _poll("temporary")) == (0.25, NOW + timedelta(minutes=7, seconds=30))
    assert health_after(5.0, _poll()) == (0.0, None)
    assert next_poll_at(NOW, 500.0) == NOW + BACKOFF_CAP  # never disabled: polled again within the cap
    assert next_poll_at(NOW, 0.5, retry_after=7200) == NOW + timedelta(hours=2)
    assert next_poll_at(NOW, 0.5, retry_after=10**9) == NOW + BACKOFF_CAP


def test_parse_retry_after():
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Mon, 23 Nov 2026 13:00:00 GMT", NOW) == 3600.0
    assert parse_retry_after("soon", NOW) is None and parse_retry_after(None, NOW) is None


def test_failures_by_kind_in_a_real_pass(prefect_harness, httpserver, tmp_path):
    httpserver.expect_request("/ok.xml").respond_with_data(RSS, content_type="application/rss+xml")
    httpserver.expect_request("/busy.xml").respond_with_data("busy", status=503)
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    limited = HTTPServer(host="127.0.0.1", port=0)  # a host of its own: asking for an hour holds back only it
    limited.start()
    limited.expect_request("/limited.xml").respond_with_data("slow down", status=429, headers={"Retry-After": "3600"})
    feeds = [httpserver.url_for(p) for p in ("/ok.xml", "/busy.xml", "/gone.xml")] + [
        limited.url_for("/limited.xml"), "http://127.0.0.1:9/refused.xml"]
    story = make_story(tmp_path, feeds, 'allow_hosts = ["127.0.0.1"]\n')
    story.joinpath("story.toml").write_text(story.joinpath("story.toml").read_text().replace("retries = 0", "retries = 1\nretry_delay_seconds = 0"))
    db = tmp_path / "h.duckdb"
    result = monitor_story(story_dir=str(story), db_path=str(db))
    limited.stop()
    assert result["feeds_failed"] == 4 and result["feeds_ok"] == 1
    hits = [req.path for req, _ in httpserver.log]
    assert hits.count("/busy.xml") == 2  # 503: retried once within the pass
    assert [req.path for req, _ in limited.log] == ["/limited.xml"]  # 429 asking for an hour: put off, not retried
    con = duckdb.connect(str(db), read_only=True)
    rows = {feed.rsplit("/", 1)[1]: (score, minutes) for feed, score, minutes in con.execute(
        "SELECT feed, failure_score, round((epoch(next_poll_at) - epoch(last_polled_at)) / 60, 1) FROM feed_health").fetchall()}
    con.close()
    assert rows == {"ok.xml": (0.0, None), "limited.xml": (0.5, 60.0), "busy.xml": (0.5, 15.0),
                    "gone.xml": (1.0, 30.0), "refused.xml": (0.25, 7.5)}
    again = monitor_story(story_dir=str(story), db_path=str(db))
    assert again["feeds_deferred"] == 4 and again["feeds_failed"] == 0


def test_short_retry_after_is_the_in_pass_retry_delay(prefect_harness, httpserver, tmp_path):
    import time

    from werkzeug import Response

    hits: list[float] = []

    def limited(_request):
        hits.append(time.monotonic())
        if len(hits) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response(RSS, content_type="application/rss+xml")

    httpserver.expect_request("/soon.xml").respond_with_handler(limited)
    story = make_story(tmp_path, [httpserver.url_for("/soon.xml")], 'allow_hosts = ["127.0.0.1"]\n')
    toml = story.joinpath("story.toml")
    toml.write_text(toml.read_text().replace("retries = 0", "retries = 1\nretry_delay_seconds = 0"))
    result = monitor_story(story_dir=str(story), db_path=str(tmp_path / "r.duckdb"))
    assert result["feeds_ok"] == 1 and len(hits) == 2
    assert hits[1] - hits[0] >= 0.95  # waited as the server asked, not the configured 0 s


def test_a_long_failing_feed_shows_in_the_summary_even_while_backing_off(prefect_harness, httpserver, tmp_path):
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    story = make_story(tmp_path, [httpserver.url_for("/gone.xml")], 'allow_hosts = ["127.0.0.1"]\n')
    db = tmp_path / "long.duckdb"
    results = []
    for _ in range(3):
        results.append(monitor_story(story_dir=str(story), db_path=str(db)))
        con = duckdb.connect(str(db))
        con.execute("UPDATE feeds SET next_poll_at = now()::TIMESTAMP - INTERVAL 1 MINUTE")  # its back-off is over
        con.close()
    assert [r["feeds_long_failing"] for r in results] == [0, 0, 1]
    con = duckdb.connect(str(db))
    con.execute("UPDATE feeds SET next_poll_at = now()::TIMESTAMP + INTERVAL 1 HOUR")  # backing off again
    con.close()
    backing_off = monitor_story(story_dir=str(story), db_path=str(db))
    assert backing_off["feeds_deferred"] == 1 and backing_off["feeds_long_failing"] == 1
    (failures,) = duckdb.connect(str(db), read_only=True).execute("SELECT consecutive_failures FROM feed_health").fetchone()
    assert failures == 3
