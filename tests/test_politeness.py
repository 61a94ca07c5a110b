"""Polite to every host: however many feeds a story has on one site, and however many pages each
fetches at once, a real pass never has more than `[fetch] per_host` requests in flight to that
site together (a loopback server that counts them)."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from storywatch.demo.sample_site import Page, render_page, render_rss
from storywatch.flows.hosts import MAX_WAIT_IN_PASS, HostGate, HostWait
from storywatch.flows.monitor import monitor_story
from storywatch.passplan import in_host_turns
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
            if request.path not in pages:
                return Response("not found", status=404)
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
                       f'concurrency = 4\nper_host = {per_host}\n'
                       'allow_hosts = ["127.0.0.1"]\n')
    result = monitor_story(story_dir=str(story), db_path=str(tmp_path / "p.duckdb"))
    assert result["pages_fetched"] == FEEDS * PAGES  # everything was fetched, just not all at once
    assert state["most"] == per_host  # 3 feeds x 4 pages at once would be 12


class Host:
    """One loopback host (an address of its own in 127/8) serving feeds of sample pages and an
    optional robots.txt; logs (seconds since start, path) of every request it receives."""

    def __init__(self, address: str, feeds: dict[str, list[str]], robots: str | None = None) -> None:
        self.server = HTTPServer(host=address, port=0, threaded=True)
        self.server.start()
        self.base = f"http://{address}:{self.server.port}"
        self.address, self.robots, self.log = address, robots, []
        self.answers: dict[str, list[Response]] = {}  # path -> answers given before the normal one
        start = datetime(2026, 11, 20, 8, 0)
        self.pages = {f"/{slug}": Page(*slug.split("/"), f"Meta open models, {slug}", "Staff", start,
                                       (f"Meta will open-source some of its new AI models, {slug} says.",), "on_story")
                      for slugs in feeds.values() for slug in slugs}
        self.feeds = {f"/{name}": render_rss(name, self.base, [(self.pages[f"/{s}"].headline, f"{self.base}/{s}",
                                                                self.pages[f"/{s}"].paragraphs[0], start) for s in slugs])
                      for name, slugs in feeds.items()}
        self.started = time.monotonic()
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._answer)

    def _answer(self, request) -> Response:  # noqa: ANN001 - werkzeug's request
        self.log.append((time.monotonic() - self.started, request.path))
        if self.answers.get(request.path):
            return self.answers[request.path].pop(0)
        if request.path == "/robots.txt" and self.robots is not None:
            return Response(self.robots, content_type="text/plain")
        if request.path in self.feeds:
            return Response(self.feeds[request.path], content_type="application/rss+xml")
        if request.path in self.pages:
            return Response(render_page(self.pages[request.path], self.base), content_type="text/html; charset=utf-8")
        return Response("not found", status=404)

    def times(self, path: str) -> list[float]:
        return [t for t, p in self.log if p == path]


@pytest.fixture()
def hosts():
    made: list[Host] = []

    def make(address: str, feeds: dict[str, list[str]], robots: str | None = None) -> Host:
        made.append(Host(address, feeds, robots))
        return made[-1]

    yield make
    for host in made:
        host.server.stop()


def _story(tmp_path, feed_urls: list[str], fetch_toml: str, interval: float = 0):
    return make_story(tmp_path, feed_urls, fetch_toml + 'allow_hosts = ["127.0.0.1", "127.0.0.2"]\n', interval)


def test_requests_to_one_host_start_at_least_the_interval_apart(prefect_harness, hosts, tmp_path):
    site = hosts("127.0.0.1", {"f.xml": [f"news/p{n}" for n in range(5)]})
    story = _story(tmp_path, [f"{site.base}/f.xml"], "concurrency = 4\nper_host = 2\n", interval=0.3)
    result = monitor_story(story_dir=str(story), db_path=str(tmp_path / "p.duckdb"))
    assert result["pages_fetched"] == 5
    starts = sorted(t for t, _ in site.log)
    assert len(starts) == 7  # the feed, robots.txt, five pages
    assert min(b - a for a, b in zip(starts, starts[1:])) >= 0.27  # 0.3 s, less the clocks' jitter


def test_a_retry_after_slows_that_host_only(prefect_harness, hosts, tmp_path):
    busy = hosts("127.0.0.1", {"a.xml": ["news/a1"], "b.xml": ["news/b1"]})
    calm = hosts("127.0.0.2", {"c.xml": ["news/c1"]})
    busy.answers["/a.xml"] = [Response("slow down", status=429, headers={"Retry-After": "2"})]
    story = _story(tmp_path, [f"{busy.base}/a.xml", f"{busy.base}/b.xml", f"{calm.base}/c.xml"],
                   "per_host = 1\n")
    result = monitor_story(story_dir=str(story), db_path=str(tmp_path / "p.duckdb"))
    assert result["pages_fetched"] == 2  # b.xml's and c.xml's; a.xml is tried again next pass
    told = busy.times("/a.xml")[0] + busy.started - calm.started  # when the 429 went, on calm's clock
    later = [t for t, _ in busy.log if t > busy.times("/a.xml")[0]]
    assert later and min(later) - busy.times("/a.xml")[0] >= 1.9  # b.xml waited for the host's Retry-After
    assert calm.times("/c.xml")[0] < told + 1.0  # the other host was not held up


def test_a_host_asking_for_an_hour_is_not_waited_for_and_its_feeds_back_off(prefect_harness, hosts, tmp_path):
    busy = hosts("127.0.0.1", {"a.xml": ["news/a1"], "b.xml": ["news/b1"]})
    busy.answers["/a.xml"] = [Response("slow down", status=429, headers={"Retry-After": "3600"})]
    story = _story(tmp_path, [f"{busy.base}/a.xml", f"{busy.base}/b.xml"], "per_host = 1\n")
    db = tmp_path / "p.duckdb"
    began = time.monotonic()
    monitor_story(story_dir=str(story), db_path=str(db))
    assert time.monotonic() - began < 60  # nothing waited out the hour
    assert [p for _, p in busy.log] == ["/a.xml"]  # b.xml was never sent to the host that asked for quiet
    con = duckdb.connect(str(db), read_only=True)
    waits = con.execute("SELECT feed, last_error, epoch(next_poll_at - last_polled_at) FROM feed_health ORDER BY feed").fetchall()
    con.close()
    assert [round(w / 60) for _, _, w in waits] == [60, 60]  # both feeds put off for the hour
    assert "Retry-After" in waits[1][1]


ROBOTS = "User-agent: *\nDisallow: /\n\nUser-agent: storywatch\nDisallow: /private/\n"


@pytest.mark.parametrize("obey", [True, False])
def test_robots_txt_decides_which_pages_are_fetched(prefect_harness, hosts, tmp_path, obey):
    site = hosts("127.0.0.1", {"f.xml": ["private/p1", "news/p2"]}, robots=ROBOTS)
    story = _story(tmp_path, [f"{site.base}/f.xml"], f"robots = {str(obey).lower()}\n")
    db = tmp_path / "p.duckdb"
    monitor_story(story_dir=str(story), db_path=str(db))
    site.feeds["/f.xml"] = site.feeds["/f.xml"].replace(b"</channel>", b"<item><title>Meta open models, news/p3</title>"
                                                        + f"<link>{site.base}/news/p3</link>".encode() + b"</item></channel>")
    monitor_story(story_dir=str(story), db_path=str(db))  # a second pass of the same process
    con = duckdb.connect(str(db), read_only=True)
    verdicts = dict(con.execute("SELECT regexp_extract(url, '/(\\w+/p\\d)', 1), verdict || ': ' || reason FROM judgments").fetchall())
    con.close()
    requested = [p for _, p in site.log]
    if obey:
        assert verdicts["private/p1"] == f"blocked: blocked: robots.txt of {site.base} disallows /private/p1"
        assert "/private/p1" not in requested
        assert requested.count("/robots.txt") == 1  # read once, kept for later passes
    else:
        assert not verdicts["private/p1"].startswith("blocked")
        assert "/private/p1" in requested and "/robots.txt" not in requested
    assert "/news/p2" in requested and "/news/p3" in requested  # the second pass fetched too


def test_hosts_take_turns_in_the_work_order():
    urls = ["http://a/1", "http://a/2", "http://a/3", "http://b:8080/1", "http://c/1", "http://b:8080/2"]
    assert in_host_turns(urls, str) == ["http://a/1", "http://b:8080/1", "http://c/1",
                                         "http://a/2", "http://b:8080/2", "http://a/3"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_gate_paces_a_host_and_honours_its_retry_after():
    clock = FakeClock()
    gate = HostGate(clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3):
        with gate.turn("http://a/x", 2, 0.5):
            starts.append(clock.now)
    assert starts == [100.0, 100.5, 101.0]
    with gate.turn("http://b/x", 2, 0.5):  # another host is not paced by a's requests
        assert clock.now == 101.0
    gate.hold_off("http://a/x", 10)
    with gate.turn("http://a/x", 2, 0.5) as waited:
        assert waited == pytest.approx(10.0)
    gate.hold_off("http://a/x", MAX_WAIT_IN_PASS + 5)
    with pytest.raises(HostWait, match="Retry-After"):
        with gate.turn("http://a/x", 2, 0.5):
            pass
    gate.set_crawl_delay("http://b/x", 2, 4)  # robots.txt's Crawl-delay outweighs a shorter interval
    with gate.turn("http://b/x", 2, 0.5):
        pass
    with gate.turn("http://b/x", 2, 0.5) as waited:
        assert waited == pytest.approx(4.0)


def test_a_request_sent_late_pushes_the_next_start_back():
    clock = FakeClock()
    gate = HostGate(clock=clock, sleep=clock.sleep)
    with gate.turn("http://a/x", 2, 0.5):
        clock.now += 0.3  # the thread had its turn at 100.0 but the request left at 100.3
        gate.sent("http://a/x", 0.5)
    with gate.turn("http://a/x", 2, 0.5):
        assert clock.now == pytest.approx(100.8)  # 0.5 s after the request left, not after the turn


def test_no_turn_is_claimed_while_the_previous_request_has_not_left():
    clock = FakeClock()
    gate = HostGate(clock=clock, sleep=clock.sleep)
    first = gate.turn("http://a/x", 2, 0.5)
    first.__enter__()  # a turn taken; its request is not on the wire yet
    clock.now += 0.7  # the interval is over, but the request has still not left
    sends = []
    original_sleep = clock.sleep

    def sleep_and_send(seconds: float) -> None:  # the first request leaves while the second waits
        original_sleep(seconds)
        if clock.now >= 100.9 and not sends:
            sends.append(clock.now)
            gate.sent("http://a/x", 0.5)

    gate.sleep = sleep_and_send
    with gate.turn("http://a/x", 2, 0.5):
        assert clock.now >= sends[0] + 0.5  # not at 100.7: 0.5 s after the first actually left
    first.__exit__(None, None, None)
