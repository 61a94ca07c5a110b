"""Alerts survive a crash: a real `storywatch run` is SIGKILLed while a loopback webhook holds its
first alert. The next pass files that alert `unknown` (kept, shown, never sent again) and sends
every other alert once: nothing is lost, nothing is sent twice."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading

import duckdb
from pytest_httpserver import HTTPServer
from werkzeug import Response

from storywatch.demo.sample_site import DemoSite
from storywatch.extractors.story import load_story
from storywatch.flows.monitor import monitor_story
from tests.conftest import SEED_STORY, make_story, site_response


def test_a_pass_killed_mid_delivery_loses_nothing_and_repeats_nothing(prefect_harness, tmp_path, monkeypatch):
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    site = DemoSite(load_story(SEED_STORY).seeds, base)
    posts: list[str] = []
    first_arrived, release = threading.Event(), threading.Event()

    def hook(request):
        posts.append(json.loads(request.data)["title"])
        if len(posts) == 1:
            first_arrived.set()
            release.wait(60)  # the sender is killed while it waits for this answer
        return Response("{}", content_type="application/json")

    server.expect_request("/hook", method="POST").respond_with_handler(hook)
    server.expect_request(re.compile("^/(?!hook).*")).respond_with_handler(lambda request: site_response(site, request))
    story = make_story(tmp_path, site.feed_urls(), '[alerts]\nmode = "each"\nstdout = false\n'
                       '[[alerts.channels]]\nname = "hook"\nurl_env = "HOOK_URL"\nmax_per_hour = 100\n')
    db = tmp_path / "a.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "HOOK_URL": f"json://127.0.0.1:{server.port}/hook", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "storywatch", "run", "--story", str(story), "--db", str(db),
                                 "--allow-private-hosts"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        assert first_arrived.wait(180), "no alert was sent"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        release.set()
        monkeypatch.setenv("HOOK_URL", env["HOOK_URL"])
        result = monitor_story(story_dir=str(story), db_path=str(db), allow_private_hosts=True)
    finally:
        release.set()
        server.stop()

    con = duckdb.connect(str(db), read_only=True)
    statuses = dict(con.execute("SELECT title, status FROM alert_outbox WHERE channel LIKE 'hook#%'").fetchall())
    runs = [r for (r,) in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    con.close()
    assert runs == ["completed", "completed"]  # the killed pass had saved its coverage before it sent alerts
    unknown = [t for t, s in statuses.items() if s == "unknown"]
    assert unknown == [posts[0]]  # the one in flight: its outcome is unknown, and it is said so
    assert {t for t, s in statuses.items() if s == "sent"} == set(statuses) - set(unknown)
    assert sorted(posts) == sorted(statuses)  # every alert reached the hook, each exactly once
    assert result["alerts_unknown"] == 1 and result["alerts_sent"] == len(statuses) - 1
