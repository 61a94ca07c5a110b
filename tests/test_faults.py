"""Fault injection: one real pass (and a second one) against a 127.0.0.1 server where every
feed and page misbehaves in its own way. The pass must complete, record each failure on its
feed or page with a named cause, lose no entry, and let nothing hostile into the warehouse."""

from __future__ import annotations

import gzip
import html
import re
import socket
import threading
import time

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from storywatch.flows.monitor import monitor_story
from storywatch.extractors.story import load_story
from storywatch.urls import article_id
from tests.conftest import SEED_STORY, make_story

MAX_BYTES = 1_500_000
BIG_FEED = 10_000
PER_FEED = 20
LOL = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
       + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
       + ']><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
       '<link>{base}/a/lol</link></item></channel></rss>')
XXE = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<rss version="2.0"><channel><title>x&xxe;</title><item><title>x&xxe;</title>'
       '<link>{base}/a/xxe</link><description>&xxe;</description></item></channel></rss>')


def _rss(items: list[tuple[str, str, str]]) -> str:
    """(guid, link, summary) items as RSS 2.0; an empty link leaves the element out."""
    body = "".join(f"<item><title>Item {guid}</title><guid isPermaLink=\"false\">{guid}</guid>"
                   + (f"<link>{link}</link>" if link else "") + f"<description>{summary}</description></item>"
                   for guid, link, summary in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'


def _page(text: str, head: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip())
    return f"<html><head><title>Page</title>{head}</head><body><article>{paragraphs}</article></body></html>"


def _silent_listener() -> socket.socket:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(listener.accept()[0]) for _ in range(8)], daemon=True).start()
    return listener


@pytest.fixture(scope="module")
def faulty(prefect_harness, tmp_path_factory):
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    seeds = list(load_story(SEED_STORY).seeds.values())
    summary = "Meta is preparing to open-source new AI models built under Alexandr Wang."

    def drip(_request):
        def body():
            for _ in range(60):
                time.sleep(0.1)
                yield b"<"
        return Response(body(), content_type="application/rss+xml")

    def big(request):
        if request.headers.get("If-None-Match") == '"big-1"':
            return Response(status=304)
        items = [(f"b{i}", f"{base}/big/{i}", "") for i in range(BIG_FEED)]
        return Response(_rss(items), content_type="application/rss+xml", headers={"ETag": '"big-1"'})

    def no_type(_request):
        response = Response(_rss([("nt", f"{base}/a/notype-feed", summary)]).encode())
        del response.headers["Content-Type"]
        return response

    feeds = {
        "/f/500": lambda r: Response("oops", status=500),
        "/f/503": lambda r: Response("busy", status=503),
        "/f/html": lambda r: Response("<html><body><h1>Moved</h1></body></html>", content_type="text/html"),
        "/f/empty": lambda r: Response(b"", content_type="application/rss+xml"),
        "/f/huge": lambda r: Response(b"<rss>" + b" " * (MAX_BYTES + 1), content_type="application/rss+xml"),
        "/f/bomb": lambda r: Response(gzip.compress(b"\0" * 20_000_000), headers={"Content-Encoding": "gzip"},
                                      content_type="application/rss+xml"),
        "/f/loop": lambda r: Response(status=302, headers={"Location": "/f/loop"}),
        "/f/private": lambda r: Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"}),
        "/f/drip": drip,
        "/f/lol": lambda r: Response(LOL.format(base=base), content_type="application/rss+xml"),
        "/f/xxe": lambda r: Response(XXE.format(base=base), content_type="application/rss+xml"),
        "/f/latin1": lambda r: Response(_rss([("l1", f"{base}/a/latin1-feed", "Caf\xe9 " + summary)]).encode("latin-1"),
                                        content_type="application/rss+xml; charset=utf-8"),
        "/f/notype": no_type,
        "/f/big": big,
        "/f/pages": lambda r: Response(_rss([
            ("p-pdf", f"{base}/a/report.pdf", ""),
            ("p-img", f"{base}/a/chart.png", ""),
            ("p-video", f"{base}/a/clip.mp4", ""),
            ("p-shell", f"{base}/a/shell", ""),
            ("p-huge", f"{base}/a/huge", summary),
            ("p-broken", f"{base}/a/broken", ""),
            ("p-refresh", f"{base}/a/refresh", ""),
            ("p-badlink", "http://xn--/story", ""),
            ("p-nolink", "", summary),
            ("p-dup", f"{base}/a/dup-one", ""),
            ("p-dup", f"{base}/a/dup-two", ""),
        ]), content_type="application/rss+xml"),
    }
    pages = {
        "/a/report.pdf": Response(b"%PDF-1.7 binary", content_type="application/pdf"),
        "/a/chart.png": Response(b"\x89PNG\r\n\x1a\n" + b"\0" * 1000, content_type="image/png"),
        "/a/clip.mp4": Response(b"\0" * (2 * MAX_BYTES), content_type="video/mp4"),
        "/a/shell": Response('<html><body><div id="app"></div><script>render()</script></body></html>',
                             content_type="text/html"),
        "/a/huge": Response(_page(seeds[1] + "\n" + "filler words here " * 100_000), content_type="text/html"),
        "/a/broken": Response("<html><body><div><p>" + seeds[2].replace("\n", "<p><b><i>") + "</td></table>"
                              + "<<<>>>\0</html></html>", content_type="text/html"),
        "/a/refresh": Response('<html><head><meta http-equiv="refresh" content="0; url=/a/refresh-target"></head>'
                               "<body>Redirecting…</body></html>", content_type="text/html"),
        "/a/refresh-target": Response(_page(seeds[3]), content_type="text/html"),
        "/a/dup-one": Response(_page(seeds[0]), content_type="text/html"),
        "/a/dup-two": Response(_page(seeds[4]), content_type="text/html"),
    }
    for path, handler in feeds.items():
        server.expect_request(path).respond_with_handler(handler)
    for path, response in pages.items():
        server.expect_request(path).respond_with_response(response)
    server.expect_request(re.compile("/big/.*")).respond_with_handler(
        lambda r: Response(_page(f"A short note, number {r.path}, about gardening in winter."), content_type="text/html"))
    server.expect_request(re.compile(".*")).respond_with_data(_page(seeds[0]), content_type="text/html")

    limited = HTTPServer(host="127.0.0.1", port=0)  # a host of its own: its Retry-After holds back only it
    limited.start()
    limited.expect_request("/f/429").respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    silent = _silent_listener()
    urls = [base + path for path in feeds] + [
        f"http://127.0.0.1:{limited.port}/f/429",
        "http://127.0.0.1:9/refused.xml",
        "http://no-such-host.invalid/feed.xml",
        f"http://127.0.0.1:{silent.getsockname()[1]}/never.xml",
    ]
    tmp = tmp_path_factory.mktemp("faults")
    story = make_story(tmp, urls, f'allow_hosts = ["127.0.0.1"]\nmax_bytes = {MAX_BYTES}\nmax_pages_per_feed = {PER_FEED}\n')
    toml = story / "story.toml"
    toml.write_text(toml.read_text().replace("timeout_seconds = 5", "timeout_seconds = 1"))
    db = tmp / "faults.duckdb"
    started = time.monotonic()
    first = monitor_story(story_dir=str(story), db_path=str(db))
    seconds = time.monotonic() - started
    second = monitor_story(story_dir=str(story), db_path=str(db))
    yield {"db": db, "base": base, "first": first, "second": second, "seconds": seconds, "server": server,
           "limited": f"http://127.0.0.1:{limited.port}/f/429"}
    silent.close()
    limited.stop()
    server.stop()


def _rows(db, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _health(db, base: str) -> dict[str, tuple]:
    """feed_health by feed (the test server's feeds by path, without the leading slash)."""
    rows = _rows(db, "SELECT feed, failure_score, last_error, consecutive_failures, "
                     "epoch(next_poll_at) - epoch(last_polled_at) FROM feed_health")
    return {feed.removeprefix(base + "/"): tuple(rest) for feed, *rest in rows}


def test_every_broken_feed_is_recorded_with_its_cause_and_backs_off(faulty):
    health = _health(faulty["db"], faulty["base"])
    expect = {  # feed -> (failure score, words the recorded error must contain)
        "f/500": (0.5, "HTTP 500"), "f/503": (0.5, "HTTP 503"), faulty["limited"]: (0.5, "HTTP 429"),
        "f/html": (1.0, "not a feed"), "f/empty": (1.0, "not a feed"),
        "f/huge": (1.0, f"body over {MAX_BYTES} bytes"), "f/bomb": (1.0, f"body over {MAX_BYTES} bytes"),
        "f/loop": (1.0, "more than 5 redirects"), "f/private": (1.0, "blocked: 169.254.169.254"),
        "f/drip": (0.5, "took longer than 2s"),
        "http://127.0.0.1:9/refused.xml": (0.25, "ConnectError"),
        "http://no-such-host.invalid/feed.xml": (0.25, "ConnectError"),
    }
    for feed, (score, words) in expect.items():
        got_score, error, failures, wait = health[feed]
        assert got_score == score and words in (error or ""), (feed, health[feed])
        assert failures == 1 and "\n" not in error and wait > 0, feed  # never disabled: a next poll is set
    never = next(v for k, v in health.items() if k.endswith("/never.xml"))
    assert never[0] == 0.5 and "ReadTimeout" in never[1]
    assert health[faulty["limited"]][3] >= 120  # Retry-After honoured
    for ok in ("f/pages", "f/big", "f/latin1", "f/notype", "f/lol", "f/xxe"):
        assert health[ok][1] is None, (ok, health[ok])
    assert faulty["first"]["feeds_failed"] == len(expect) + 1
    assert faulty["second"]["feeds_deferred"] == len(expect) + 1  # backing off, not polled again at once


def test_hostile_pages_get_a_verdict_with_a_reason_and_never_fail_the_pass(faulty):
    base = faulty["base"]
    rows = {url: (verdict, reason) for url, verdict, reason in
            _rows(faulty["db"], "SELECT url, verdict, reason FROM judgments")}
    for path, media in (("report.pdf", "application/pdf"), ("chart.png", "image/png"), ("clip.mp4", "video/mp4")):
        verdict, reason = rows[f"{base}/a/{path}"]
        assert verdict == "no_text" and f"not an HTML page ({media})" in reason
    assert rows[f"{base}/a/shell"][0] == "no_text"
    assert rows[f"{base}/a/broken"][0] not in ("fetch_failed", "no_text")
    assert rows[f"{base}/a/refresh-target"][0] == "seed_copy"  # the <meta refresh> was followed
    assert f"{base}/a/refresh" not in rows
    assert rows["http://xn--/story"][0] == "fetch_failed" and "IDNAError" in rows["http://xn--/story"][1]
    assert rows[f"{base}/a/dup-one"][0] == rows[f"{base}/a/dup-two"][0] == "seed_copy"  # one GUID, two articles
    (source,) = _rows(faulty["db"], "SELECT text_source FROM latest_versions WHERE article_id = ?",
                      article_id(f"{base}/a/huge"))[0]
    assert source == "feed"  # over the size cap: judged on the feed's summary
    video = [req for req, _ in faulty["server"].log if req.path == "/a/clip.mp4"]
    assert len(video) == 1  # a known type that is not HTML is not fetched again


def test_nothing_hostile_reaches_the_warehouse(faulty):
    texts = _rows(faulty["db"], "SELECT coalesce(title, '') || coalesce(text, '') FROM page_versions "
                                "UNION ALL SELECT coalesce(title, '') FROM entries UNION ALL SELECT coalesce(title, '') FROM feeds")
    joined = "\n".join(t for (t,) in texts)
    assert "root:" not in joined  # the external entity was not read
    assert "lollollollol" not in joined  # nor the entities expanded
    assert len(joined) < 5_000_000


def test_no_entry_is_lost_and_leftovers_come_on_later_passes(faulty):
    db, base = faulty["db"], faulty["base"]
    (entries,) = _rows(db, "SELECT count(*) FROM entries WHERE feed_url = ?", f"{base}/f/big")[0]
    assert entries == BIG_FEED
    (judged,) = _rows(db, "SELECT count(*) FROM judgments WHERE url LIKE ?", f"{base}/big/%")[0]
    assert judged == 2 * PER_FEED  # the feed said 304-able, but pages were left: the next poll was not conditional
    big_polls = [req for req, _ in faulty["server"].log if req.path == "/f/big"]
    assert "If-None-Match" not in big_polls[1].headers
    latin, notype = (_rows(db, "SELECT count(*) FROM entries WHERE feed_url = ?", f"{base}/f/{name}")[0][0]
                     for name in ("latin1", "notype"))
    assert latin == notype == 1  # a wrong or missing charset still yields the entries


def test_a_second_pass_adds_nothing_twice(faulty):
    counts = _rows(faulty["db"], "SELECT count(*), count(DISTINCT url) FROM judgments")[0]
    assert counts[0] == counts[1]
    (runs,) = _rows(faulty["db"], "SELECT count(*) FROM runs WHERE status = 'completed'")[0]
    assert runs == 2


def test_the_report_says_when_silence_may_be_a_collection_failure(faulty, tmp_path):
    """The faulty story's report names every failing feed with its last error, says how many are
    failing or backing off, and marks no day short while every pass saw the same failures."""
    from typer.testing import CliRunner

    from storywatch.cli import app

    story = faulty["db"].parent / "meta-open-models"
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--story", str(story), "--db", str(faulty["db"]), "--html", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    failing = _rows(faulty["db"], "SELECT feed, last_error FROM feed_health WHERE consecutive_failures > 0")
    total = _rows(faulty["db"], "SELECT count(*) FROM feed_health")[0][0]
    health = page.split("<h2>Collection health</h2>")[1].split("<h2>")[0]
    assert f"{len(failing)} of {total} feeds are failing or backing off" in health
    assert all(html.escape(feed, quote=True) in health and html.escape(error, quote=True) in health
               for feed, error in failing)
    assert "fewer feeds answered than usual" not in health.split("</p>")[0]  # every day alike: none short
    assert f"collection: {len(failing)} of {total} feeds failing or backing off" in " ".join(result.output.split())
