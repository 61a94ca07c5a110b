"""Alerts: the rules, delivery planning, and the outbox end to end through a real flow run and
a real webhook on 127.0.0.1 (Apprise `json://`): never double-sent, nothing lost while the
channel is down, failed after N attempts, no secret stored."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import pytest

from storywatch.flows.monitor import monitor_story
from storywatch.alerts import (
    ChannelSpec, Pending, StoryContext, channel_label, in_quiet_hours, next_attempt, plan_messages, raise_alerts,
    redact, resolve_channels,
)
from storywatch.errors import ConfigError
from storywatch.evolution import Development
from storywatch.facts import Fact
from storywatch.models import Article, Decision, FeedEntry, Judgment, PageOutcome, Verdict
from storywatch.flows.serve import parse_interval
from storywatch.config import AlertRules, AlertSettings, Channel
from tests.conftest import make_story
from storywatch.warehouse.store import Warehouse

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _decision(aid: str, verdict: Verdict, outlet: str, relevance: float = 0.8, version: int = 1) -> Decision:
    entry = FeedEntry("https://f.example/feed", aid, f"https://{outlet}/{aid}", f"Title {aid}", "", "", None)
    article = Article(entry.link, entry.link, f"Title {aid}", "text", "", outlet, "en", None, "none", "page")
    page = PageOutcome(aid, entry, NOW, entry.link, 200, "text/html", b"", None, False, article)
    return Decision(aid, page, Judgment(verdict, relevance, "r"), "h", b"", 0, version, NOW)


def test_rules_alert_on_new_coverage_and_new_outlets_only():
    """A syndicated copy is neither new coverage nor an outlet's own coverage: no alert."""
    decisions = [
        _decision("a1", Verdict.NEW, "TechWire"),
        _decision("a2", Verdict.SYNDICATED, "Gadget Hub"),
        _decision("a3", Verdict.SEED_COPY, "The Ledger"),
        _decision("a4", Verdict.OFF_TOPIC, "Kitchen Table", relevance=0.1),
        _decision("a5", Verdict.NEW, "TechWire", relevance=0.2),  # below min_relevance
        _decision("a6", Verdict.NEW, "Signal Daily", version=2),  # an update, not new coverage
        _decision("a7", Verdict.NEW, "Old Outlet"),
    ]
    context = StoryContext(frozenset({"Old Outlet"}))
    alerts = raise_alerts("Story", decisions, context, 0.5, AlertRules(), NOW.date())
    assert [(a.rule, a.key) for a in alerts] == [
        ("new_coverage", "new:a1"), ("new_outlet", "outlet:TechWire"),
        ("new_coverage", "new:a7"),
    ]
    assert "Why: new on-story article (relevance 0.80)" in alerts[0].body and "https://TechWire/a1" in alerts[0].body
    assert all(a.body.endswith(f"\nRule: {a.rule}") for a in alerts)
    off = raise_alerts("Story", decisions, context, 0.5, AlertRules(new_outlet=False, new_coverage=False), NOW.date())
    assert off == []


def test_development_alert_carries_link_relevance_and_rule():
    decisions = [_decision("e1", Verdict.NEW, "Signal Daily", relevance=0.72, version=2),
                 _decision("e2", Verdict.NEW, "Low Outlet", relevance=0.3, version=2)]
    devs = [Development("e1", 2, 4, "Meta will release the weights on 3 March.", "Signal Daily",
                        (Fact("date", "3 March", "03-03"),), key=True),
            Development("e1", 2, 5, "A development that is not key raises no alert.", "Signal Daily", (), key=False),
            Development("e2", 2, 1, "An aside below the relevance floor.", "Low Outlet", (), key=True)]
    (alert,) = raise_alerts("Story", decisions, StoryContext(frozenset()), 0.5, AlertRules(), NOW.date(), devs)
    assert (alert.key, alert.rule, alert.url) == ("dev:e1:2", "new_development", "https://Signal Daily/e1")
    assert "• Meta will release the weights on 3 March." in alert.body and "Facts: 3 March" in alert.body
    assert "not key" not in alert.body
    assert "\nhttps://Signal Daily/e1\n" in alert.body and "in an edit" in alert.body and "(relevance 0.72)" in alert.body
    assert alert.body.endswith("\nRule: new_development")


def test_volume_spike_against_recent_days():
    today = date(2026, 11, 23)
    quiet = {today - timedelta(days=i): 1 for i in range(1, 8)}
    decisions = [_decision(f"s{i}", Verdict.NEW, "Known") for i in range(3)]
    context = StoryContext(frozenset({"Known"}), {**quiet, today: 1})
    spikes = [a for a in raise_alerts("S", decisions, context, 0.0, AlertRules(), today) if a.rule == "volume_spike"]
    assert [a.key for a in spikes] == ["spike:2026-11-23"] and "4 on-story articles today vs 1.0" in spikes[0].body
    assert spikes[0].body.endswith("\nRule: volume_spike")
    busy = {today - timedelta(days=i): 3 for i in range(1, 8)}
    assert not [a for a in raise_alerts("S", decisions, StoryContext(frozenset({"Known"}), busy), 0.0, AlertRules(), today)
                if a.rule == "volume_spike"]


def _pending(n: int) -> list[Pending]:
    return [Pending(f"k{i}", "new_coverage", f"T{i}", f"B{i}", 0) for i in range(n)]


def test_plan_each_within_limit_folds_the_rest_into_a_digest():
    spec = ChannelSpec("json://x", "c", max_per_hour=3)
    plan = plan_messages(spec, _pending(5), sent_last_hour=0, mode="each", now=NOW)
    assert [m.keys for m in plan] == [("k0",), ("k1",), ("k2", "k3", "k4")]
    assert plan[2].title == "storywatch: 3 alerts" and "• T3" in plan[2].body
    assert [m.keys for m in plan_messages(spec, _pending(5), sent_last_hour=2, mode="each", now=NOW)] == [("k0", "k1", "k2", "k3", "k4")]
    assert plan_messages(spec, _pending(5), sent_last_hour=3, mode="each", now=NOW) == []
    assert [m.keys for m in plan_messages(spec, _pending(2), 0, "digest", NOW)] == [("k0", "k1")]


def test_quiet_hours_wrap_midnight_and_use_the_channel_timezone():
    spec = ChannelSpec("json://x", "c", quiet_hours="22:00-07:00", timezone="Europe/Berlin")
    assert in_quiet_hours(spec, datetime(2026, 11, 23, 22, 30, tzinfo=timezone.utc))  # 23:30 in Berlin
    assert in_quiet_hours(spec, datetime(2026, 11, 23, 5, 30, tzinfo=timezone.utc))  # 06:30
    assert not in_quiet_hours(spec, datetime(2026, 11, 23, 6, 30, tzinfo=timezone.utc))  # 07:30
    assert plan_messages(spec, _pending(1), 0, "each", datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)) == []


def test_backoff_and_secret_handling():
    assert next_attempt(1, NOW) == NOW + timedelta(minutes=1)
    assert next_attempt(4, NOW) == NOW + timedelta(minutes=8)
    assert next_attempt(30, NOW) == NOW + timedelta(hours=6)
    url = "slack://T1234567/B7654321/abcdefghijkl/#news"
    label = channel_label(url, "newsroom")
    assert label.startswith("newsroom#") and "T1234567" not in label
    assert "abcdefghijkl" not in redact(f"failed posting to {url} (abcdefghijkl rejected)", url)


def test_resolve_channels_from_config_and_environment():
    settings = AlertSettings(channels=(Channel(name="ops", url_env="OPS_HOOK", max_per_hour=5),))
    specs = resolve_channels(settings, {"OPS_HOOK": "json://hooks.example/x", "STORYWATCH_ALERT_URLS": "ntfy://a, ntfy://b"})
    assert [s.label.split("#")[0] for s in specs] == ["stdout", "ops", "env", "env"]
    assert specs[1].max_per_hour == 5
    with pytest.raises(ConfigError, match="environment variable OPS_HOOK is not set"):
        resolve_channels(settings, {})
    assert resolve_channels(AlertSettings(enabled=False), {"STORYWATCH_ALERT_URLS": "ntfy://a"}) == []
    with pytest.raises(ValueError, match="exactly one of url or url_env"):
        Channel(name="x")


def test_parse_interval():
    assert parse_interval("30m") == timedelta(minutes=30)
    assert parse_interval("2h") == timedelta(hours=2)
    with pytest.raises(ConfigError, match="at least 10s"):
        parse_interval("5s")
    with pytest.raises(ConfigError, match="expected a number and a unit"):
        parse_interval("often")


# ---- end to end -----------------------------------------------------------------------------

def _alerts(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT key, rule, channel, status, attempts, last_error, sent_at FROM alerts "
                           "WHERE channel <> 'stdout' ORDER BY key").fetchall()
    finally:
        con.close()


def test_outbox_never_double_sends_and_survives_a_down_channel(prefect_harness, site_and_hook, tmp_path, monkeypatch):
    site, hook, url = site_and_hook
    monkeypatch.setenv("HOOK_URL", url)
    story = make_story(tmp_path, site.feed_urls(), "[alerts]\nmode = \"each\"\nmax_attempts = 3\nmin_relevance = 0.4\nstdout = false\n"
                       "[[alerts.channels]]\nname = \"hook\"\nurl_env = \"HOOK_URL\"\nmax_per_hour = 100\n")
    db = tmp_path / "a.duckdb"

    hook["status"] = 500  # the channel is down for the first pass
    r1 = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    rows = _alerts(db)
    assert rows and r1["alerts_failed"] == len(rows) and r1["alerts_sent"] == 0
    assert {r[3] for r in rows} == {"pending"} and {r[4] for r in rows} == {1}
    assert all("SECRETTOKEN123" not in (r[5] or "") and r[2].startswith("hook#") for r in rows)
    new_keys = {r[0] for r in rows if r[1] == "new_coverage"}
    assert len(new_keys) == r1["verdicts"]["new"]

    # Still failing: retried only once its backoff has passed, so a quick re-run sends nothing.
    r1b = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert r1b["alerts_failed"] == 0 and r1b["alerts_sent"] == 0 and hook["posts"] == []
    # The summary of both passes counts the alerts still held, whichever pass queued them.
    assert (r1["alerts_pending"], r1["alerts_given_up"]) == (r1b["alerts_pending"], r1b["alerts_given_up"]) == (len(rows), 0)

    hook["status"] = 200
    con = duckdb.connect(str(db))
    con.execute("UPDATE alert_outbox SET next_attempt_at = now()::TIMESTAMP - INTERVAL 1 MINUTE")
    con.close()
    r2 = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert r2["alerts_sent"] == len(rows) == len(hook["posts"]) and r2["alerts_pending"] == 0
    assert {r[3] for r in _alerts(db)} == {"sent"}
    titles = [p["title"] for p in hook["posts"]]
    assert sum(t.startswith("New coverage:") for t in titles) == len(new_keys)

    r3 = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert r3["alerts_queued"] == 0 and r3["alerts_sent"] == 0 and len(hook["posts"]) == len(rows)


def _hook_story(tmp_path, site, monkeypatch, url: str, channel_toml: str):
    """A story whose only channel is the webhook (mode "each"), its URL in $HOOK_URL."""
    monkeypatch.setenv("HOOK_URL", url)
    return make_story(tmp_path, site.feed_urls(), '[alerts]\nmode = "each"\nstdout = false\n'
                      '[[alerts.channels]]\nname = "hook"\nurl_env = "HOOK_URL"\n' + channel_toml)


def _times_posted(title: str, posts: list[dict]) -> int:
    """How often an alert reached the webhook: as a message of its own or inside a digest."""
    return sum(p["title"] == title for p in posts) + sum(p["message"].count(f"• {title}\n") for p in posts)


def _outbox(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT key, title, status, attempts, sent_at FROM alert_outbox ORDER BY key").fetchall()
    finally:
        con.close()


def test_quiet_hours_hold_alerts_until_they_end_then_send_once(prefect_harness, site_and_hook, tmp_path, monkeypatch):
    site, hook, url = site_and_hook
    local = datetime.now(ZoneInfo("Asia/Kolkata"))  # UTC+05:30, so the window is not the UTC clock
    quiet = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=1):%H:%M}"
    channel = f'max_per_hour = 100\ntimezone = "Asia/Kolkata"\n'
    story = _hook_story(tmp_path, site, monkeypatch, url, channel + f'quiet_hours = "{quiet}"\n')
    db = tmp_path / "q.duckdb"

    r1 = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    held = _outbox(db)
    assert r1["alerts_queued"] == len(held) > 0 and r1["alerts_sent"] == r1["alerts_failed"] == 0
    assert hook["posts"] == [] and {(r[2], r[3]) for r in held} == {("pending", 0)}

    _hook_story(tmp_path, site, monkeypatch, url, channel)  # quiet hours off
    r2 = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert r2["alerts_queued"] == 0 and r2["alerts_sent"] == len(held) == len(hook["posts"])
    assert {(r[2], r[3]) for r in _outbox(db)} == {("sent", 1)}
    assert all(_times_posted(title, hook["posts"]) == 1 for _, title, *_ in held)
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert len(hook["posts"]) == len(held)


def test_hourly_limit_folds_overflow_into_a_digest_and_loses_nothing(prefect_harness, site_and_hook, tmp_path,
                                                                     monkeypatch):
    site, hook, url = site_and_hook
    limit = 3
    story = _hook_story(tmp_path, site, monkeypatch, url, f"max_per_hour = {limit}\n")
    db = tmp_path / "h.duckdb"

    r1 = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    first = _outbox(db)
    assert len(first) > limit and r1["alerts_sent"] == len(first) and len(hook["posts"]) == limit
    assert hook["posts"][-1]["title"] == f"storywatch: {len(first) - limit + 1} alerts"
    with Warehouse.open(db, read_only=True) as wh:
        assert wh.sent_last_hour(story.name, datetime.now(timezone.utc)) == {channel_label(url, "hook"): limit}

    site.set_phase(2)  # a new article and an edit: new alerts, but this hour's budget is spent
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    waiting = [r for r in _outbox(db) if r[2] == "pending"]
    assert waiting and {r[3] for r in waiting} == {0} and len(hook["posts"]) == limit

    con = duckdb.connect(str(db))  # an hour passes
    con.execute("UPDATE alert_outbox SET sent_at = sent_at - INTERVAL 61 MINUTE WHERE status = 'sent'")
    con.close()
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    rows = _outbox(db)
    assert len(rows) == len(first) + len(waiting) and {r[2] for r in rows} == {"sent"}
    assert limit < len(hook["posts"]) <= 2 * limit
    assert [_times_posted(title, hook["posts"]) for _, title, *_ in rows] == [1] * len(rows)


def test_alert_marked_failed_after_max_attempts(prefect_harness, site_and_hook, tmp_path, monkeypatch):
    site, hook, url = site_and_hook
    hook["status"] = 503
    monkeypatch.setenv("STORYWATCH_ALERT_URLS", url)
    story = make_story(tmp_path, site.feed_urls(), "[alerts]\nmax_attempts = 2\nstdout = false\n"
                       "[alerts.rules]\nnew_outlet = false\n")
    db = tmp_path / "f.duckdb"
    results = []
    for _ in range(2):
        results.append(monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True))
        con = duckdb.connect(str(db))
        con.execute("UPDATE alert_outbox SET next_attempt_at = now()::TIMESTAMP - INTERVAL 1 MINUTE WHERE status = 'pending'")
        con.close()
    rows = _alerts(db)
    assert rows and {(r[3], r[4]) for r in rows} == {("failed", 2)}
    assert all(r[5] and "SECRETTOKEN123" not in r[5] for r in rows)
    # The first pass's summary says they wait for a retry, the second's that they failed for good.
    assert [(r["alerts_pending"], r["alerts_given_up"]) for r in results] == [(len(rows), 0), (0, len(rows))]


def test_alerts_test_command_reports_each_channel(httpserver, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from storywatch.cli import app

    httpserver.expect_request("/ok", method="POST").respond_with_json({})
    httpserver.expect_request("/down", method="POST").respond_with_data("no", status=500)
    monkeypatch.setenv("STORYWATCH_ALERT_URLS", f"json://127.0.0.1:{httpserver.port}/ok json://127.0.0.1:{httpserver.port}/down")
    story = make_story(tmp_path, ["https://example.com/feed"])
    result = CliRunner().invoke(app, ["alerts", "test", "--story", str(story)])
    lines = [l for l in result.output.splitlines() if l.startswith(("stdout:", "env#"))]
    assert result.exit_code == 1
    assert lines[0] == "stdout: sent" and lines[1].endswith(": sent") and ": failed" in lines[2]
    assert f"127.0.0.1:{httpserver.port}/down" not in result.output
    posted = [json.loads(req.data) for req, _ in httpserver.log if req.path == "/ok"]
    assert posted and posted[0]["title"].startswith("storywatch test:")


def test_no_secret_in_logs_warehouse_or_prefect_artifacts(prefect_harness, site_and_hook, tmp_path, monkeypatch, caplog):
    from prefect.client.orchestration import get_client

    site, hook, url = site_and_hook
    hook["status"] = 500  # failing deliveries are the ones that log errors
    monkeypatch.setenv("HOOK_URL", url)
    story = make_story(tmp_path, site.feed_urls(), "[alerts]\nmode = \"each\"\n"
                       "[[alerts.channels]]\nname = \"hook\"\nurl_env = \"HOOK_URL\"\n")
    db = tmp_path / "s.duckdb"
    caplog.set_level("DEBUG")
    result = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    assert result["alerts_failed"] > 0
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")  # not the receiver's own log
    assert "hook#" in ours and "SECRETTOKEN123" not in ours
    con = duckdb.connect(str(db), read_only=True)
    tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
    stored = "\n".join(str(row) for t in tables for row in con.execute(f"SELECT * FROM {t}").fetchall())
    con.close()
    assert "hook#" in stored and "SECRETTOKEN123" not in stored
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    assert artifacts and not any("SECRETTOKEN123" in str(a.data) + str(a.description) for a in artifacts)
