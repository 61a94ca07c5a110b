"""People correct verdicts and the story is judged again: `label`, `rescore` and `explain` on a
warehouse that real passes over the sample site (127.0.0.1) filled, alerts to a real webhook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from storywatch.errors import UnknownArticleError
from storywatch.flows.monitor import monitor_story
from storywatch.flows.rejudge import explain_article, label_article, rescore_story
from storywatch.judge import Judge
from storywatch.models import Label, Verdict
from tests.conftest import make_story

SCALE_AI = "Scale AI bets on government%"     # same actors, another event: a pass calls it new at 0.4
LLAMA_4 = "Meta unveils Llama 4%"              # same actors, another event: off_topic


def _one(db: Path, sql: str, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _url(db: Path, title: str) -> str:
    return _one(db, "SELECT url FROM judgments WHERE title LIKE ?", title)[0][0]


def _verdicts(db: Path) -> dict[str, tuple[str, float]]:
    return {url: (verdict, relevance) for url, verdict, relevance in
            _one(db, "SELECT url, verdict, relevance FROM judgments ORDER BY url")}


def _set_threshold(story: Path, value: float) -> None:
    toml = story / "story.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("relevance = ")
    end = text.index("\n", start)
    toml.write_text(text[:start] + f"relevance = {value}" + text[end:], encoding="utf-8")


@pytest.fixture()
def stored(prefect_harness, site_and_hook, tmp_path, monkeypatch):
    """A story (threshold 0.4, alerts to the webhook) after one real pass, and its database."""
    site, hook, url = site_and_hook
    monkeypatch.setenv("HOOK_URL", url)
    story = make_story(tmp_path, site.feed_urls(), '[alerts]\nmode = "each"\nstdout = false\n'
                       '[alerts.rules]\nnew_outlet = false\nnew_development = false\n'
                       '[[alerts.channels]]\nname = "hook"\nurl_env = "HOOK_URL"\nmax_per_hour = 100\n')
    db = tmp_path / "s.duckdb"
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    return story, db, hook


def test_labels_apply_at_once_keep_history_and_alert_once(stored):
    story, db, hook = stored
    before = _verdicts(db)
    scale, llama = _url(db, SCALE_AI), _url(db, LLAMA_4)
    assert before[scale][0] == "new" and before[llama][0] == "off_topic"

    off = label_article(story, db, scale, on_story=False)
    on = label_article(story, db, llama, on_story=True)
    assert off.judgment.verdict is Verdict.OFF_TOPIC and on.judgment.verdict is Verdict.NEW
    after = _verdicts(db)
    assert after[scale] == ("off_topic", before[scale][1]) and after[llama] == ("new", before[llama][1])
    assert {u: v for u, v in after.items() if u not in (scale, llama)} == \
           {u: v for u, v in before.items() if u not in (scale, llama)}
    history = _one(db, "SELECT a.url, c.cause, c.old_verdict, c.new_verdict FROM verdict_changes c "
                       "JOIN articles a USING (article_id) ORDER BY c.changed_at")
    assert history == [(scale, "label", "new", "off_topic"), (llama, "label", "off_topic", "new")]
    assert _one(db, "SELECT count(*), count(*) FILTER (WHERE on_story) FROM labels") == [(2, 1)]

    # Labelled new coverage alerts once, at the next pass, and never again.
    assert _one(db, "SELECT count(*) FROM alert_outbox WHERE key = 'new:' || ? AND status = 'pending'",
                _one(db, "SELECT article_id FROM articles WHERE url = ?", llama)[0][0]) == [(1,)]
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    label_article(story, db, llama, on_story=True)
    rescore_story(story, db)
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    titles = [p["title"] for p in hook["posts"]]
    assert sum(t.startswith("New coverage: Meta unveils Llama 4") for t in titles) == 1

    # A later pass and a rescore keep the people's verdicts.
    assert _verdicts(db)[scale][0] == "off_topic" and _verdicts(db)[llama][0] == "new"


def test_unknown_url_is_one_line(stored):
    story, db, _ = stored
    with pytest.raises(UnknownArticleError, match=r"^http://127.0.0.1:1/nope: not an article of story"):
        label_article(story, db, "http://127.0.0.1:1/nope", on_story=True)
    result = subprocess.run([sys.executable, "-m", "storywatch", "label", "--story", str(story), "--db", str(db),
                             "http://127.0.0.1:1/nope", "--off"], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stdout.strip().splitlines()) == 1
    assert "http://127.0.0.1:1/nope: not an article" in result.stdout


def test_rescore_after_a_settings_change_keeps_the_old_verdicts_and_alerts_once(stored):
    story, db, hook = stored
    before = _verdicts(db)
    changes, judged = rescore_story(story, db)
    assert changes == [] and judged == len([v for v in before.values() if v[0] not in ("fetch_failed", "no_text")])

    _set_threshold(story, 0.99)  # nothing but seed copies is the story now
    changes, _ = rescore_story(story, db)
    demoted = {c.stored.url for c in changes
               if c.judgment.verdict is Verdict.OFF_TOPIC and c.stored.judgment.verdict is not Verdict.OFF_TOPIC}
    assert demoted and all(before[u][0] in ("new", "syndicated") for u in demoted)
    assert all(_verdicts(db)[u][0] == "off_topic" for u in demoted)
    assert {u for (u,) in _one(db, "SELECT a.url FROM verdict_changes JOIN articles a USING (article_id) "
                                    "WHERE old_verdict IN ('new', 'syndicated') AND new_verdict = 'off_topic'")} == demoted
    assert not _one(db, "SELECT * FROM coverage WHERE url IN (SELECT unnest(?))", sorted(demoted))
    history = _one(db, "SELECT count(*) FROM verdict_changes")
    assert rescore_story(story, db)[0] == [] and _one(db, "SELECT count(*) FROM verdict_changes") == history

    _set_threshold(story, 0.4)  # back: the same verdicts as the pass gave, and no second alert
    rescore_story(story, db)
    assert _verdicts(db) == before
    monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    titles = [p["title"] for p in hook["posts"] if p["title"].startswith("New coverage:")]
    assert len(titles) == len(set(titles)) == sum(v[0] == "new" for v in before.values())


def test_explain_says_why_in_a_few_lines(stored):
    story, db, _ = stored
    lines = explain_article(story, db, _url(db, SCALE_AI))
    text = "\n".join(lines)
    assert lines[0].startswith("Scale AI bets on government")
    assert "verdict: new (stored: new" in text and "threshold 0.40, set in story.toml" in text
    assert "story terms matched:" in text and "story terms missed:" in text and "closest seed or on-label:" in text
    label_article(story, db, _url(db, SCALE_AI), on_story=False)
    lines = explain_article(story, db, _url(db, LLAMA_4))
    assert any(line.startswith("closest counter-example: label:") for line in lines)
    result = subprocess.run([sys.executable, "-m", "storywatch", "explain", "--story", str(story), "--db", str(db),
                             _url(db, SCALE_AI)], capture_output=True, text=True)
    assert result.returncode == 0 and "why: labelled off-story by a person" in result.stdout
    assert len(result.stdout.strip().splitlines()) <= 12


def test_a_killed_rescore_leaves_the_file_as_it_was(stored):
    story, db, _ = stored
    _set_threshold(story, 0.99)
    before = _verdicts(db)
    command = [sys.executable, "-m", "storywatch", "rescore", "--story", str(story), "--db", str(db)]
    killed = 0
    for delay in (0.2, 0.8, 1.2, 1.5, 1.8, 2.2):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=os.environ | {"PYTHONUNBUFFERED": "1"})
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        killed += process.wait() == -signal.SIGKILL
        state = _verdicts(db)
        assert state == before or all(v[0] != "new" for v in state.values())  # all of the rescore, or none
        if state != before:
            break
    assert killed
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout
    assert all(v[0] != "new" for v in _verdicts(db).values())
    assert _one(db, "SELECT count(*) = count(DISTINCT article_id) FROM verdict_changes") == [(True,)]


def test_labels_join_the_seeds_or_the_counter_examples(seed_texts):
    look_alike = ("Meta unveils Llama 4 Scout and Maverick\nMeta released two Llama 4 models, Scout and Maverick, "
                  "on Saturday, with weights on Hugging Face and a licence that limits very large companies.")
    base = Judge.for_story(seed_texts, threshold=0.1)
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    on = Judge.for_story(seed_texts, threshold=0.1, labels=[Label("a1", True, look_alike, at)])
    off = Judge.for_story(seed_texts, threshold=0.1, labels=[Label("a1", False, look_alike, at)])
    twin = look_alike.replace("Saturday", "the weekend")
    assert on.profile.score(twin) > base.profile.score(twin) > off.profile.score(twin)
    assert off.judge("a2", twin)[0].verdict is Verdict.OFF_TOPIC
    # Past any threshold, the off-label still pulls its near-twin down as the nearest counter-example.
    anything = Judge.for_story(seed_texts, threshold=0.0, labels=[Label("a1", False, look_alike, at)])
    judged, _, _ = anything.judge("a2", twin)
    assert judged.verdict is Verdict.OFF_TOPIC and "closer to label:a1" in judged.reason
    assert off.judge("a1", look_alike)[0].reason.startswith("labelled off-story by a person on 2026-01-01")
