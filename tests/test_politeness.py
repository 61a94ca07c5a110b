"""Polite to every host: however many feeds a story has on one site, and however many pages each
fetches at once, a real pass never has more than `[fetch] per_host` requests in flight to that
site together (a loopback server that counts them)."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from storywatch.demo.sample_site import Page, render_page, render_rss
from storywatch.flows.monitor import monitor_story
from tests.conftest import make_story

FEEDS, PAGES = 3, 6


@pytest.fixture()
def busy_site():
    """FEEDS feeds of PAGES pages each on one host; every response takes 0.2 s; records the most
    requests in flight at once."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # it can take many requests at once
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    start = datetime(2026, 11, 20, 8, 0)
    pages = {p.path: p for p in (
        Page("techwire", f"story-{f}-{n}", f"Meta open models, item {f}-{n}", "Staff", start + timedelta(minutes=10 * n),
             (f"Meta will open-source some of its new AI models, report {f}-{n} says.",), "on_story")
        for f in range(FEEDS) for n in range(PAGES))}
    feeds = {f"/feed{f}.xml": render_rss(f"Feed {f}", base, [(p.headline, f"{base}{p.path}", p.paragraphs[0], p.published)
                                                             for p in pages.values() if p.slug.startswith(f"story-{f}-")])
             for f in range(FEEDS)}
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def handler(request):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.2)
            if request.path in feeds:
                return Response(feeds[request.path], content_type="application/rss+xml")
            return Response(render_page(pages[request.path], base), content_type="text/html; charset=utf-8")
        finally:
            with lock:
                state["now"] -= 1

    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    yield base, state
    server.stop()


@pytest.mark.parametrize("per_host", [1, 3])
def test_a_pass_keeps_to_its_per_host_limit(prefect_harness, busy_site, tmp_path, per_host):
    base, state = busy_site
    story = make_story(tmp_path, [f"{base}/feed{f}.xml" for f in range(FEEDS)],
                       f'concurrency = 4\nper_host = {per_host}\nallow_hosts = ["127.0.0.1"]\n')
    result = monitor_story(story_dir=str(story), db_path=str(tmp_path / "p.duckdb"))
    assert result["pages_fetched"] == FEEDS * PAGES  # everything was fetched, just not all at once
    assert state["most"] == per_host  # 3 feeds x 4 pages at once would be 12
