"""The HTTP client against a real server on 127.0.0.1: redirects, the address guard on every
hop, caps on size and time, transient vs permanent failures."""

import gzip
import time

import pytest
from werkzeug import Response

from storywatch.flows.fetcher import Fetcher, FetchPolicy, TransientFetchError
from storywatch.urls import address_refusal

UA = "storywatch-test/1"


def _fetcher(**kw) -> Fetcher:
    policy = dict(user_agent=UA, timeout_seconds=2, max_bytes=50_000, max_redirects=3, allow_hosts=frozenset({"127.0.0.1"}))
    policy.update(kw)
    return Fetcher(FetchPolicy(**policy))


def test_follows_redirects_and_sends_user_agent_and_validators(httpserver):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new", headers={"User-Agent": UA}).respond_with_data("<p>hi</p>", content_type="text/html",
                                                                                  headers={"ETag": '"v1"'})
    with _fetcher() as f:
        r = f.get(httpserver.url_for("/old"), headers={"If-None-Match": '"v0"'})
    assert r.ok and r.final_url == httpserver.url_for("/new") and r.body == b"<p>hi</p>" and r.etag == '"v1"'


def test_redirect_to_private_host_is_blocked_after_dns(httpserver):
    target = f"http://localhost:{httpserver.port}/secret"
    httpserver.expect_request("/hop").respond_with_data("", status=302, headers={"Location": target})
    with _fetcher() as f:
        r = f.get(httpserver.url_for("/hop"))
    assert r.blocked and "localhost resolves to loopback" in r.error and r.final_url == target
    assert all(req.path != "/secret" for req, _ in httpserver.log)


def test_guard_without_allow_list_and_schemes(httpserver):
    with _fetcher(allow_hosts=frozenset()) as f:
        assert f.get(httpserver.url_for("/x")).blocked
        assert "scheme 'file'" in f.get("file:///etc/passwd").error
    with _fetcher(allow_hosts=frozenset(), allow_private_hosts=True) as f:
        httpserver.expect_request("/x").respond_with_data("ok")
        assert f.get(httpserver.url_for("/x")).body == b"ok"


def test_redirect_loop_stops(httpserver):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with _fetcher() as f:
        r = f.get(httpserver.url_for("/loop"))
    assert r.error == "more than 3 redirects"


def test_size_cap_applies_to_decoded_gzip_bomb(httpserver):
    bomb = gzip.compress(b"\0" * 5_000_000)
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with _fetcher() as f:
        r = f.get(httpserver.url_for("/bomb"))
    assert len(bomb) < 50_000 and r.body == b"" and r.error == "body over 50000 bytes"


def test_transient_errors_raise_permanent_ones_return(httpserver):
    httpserver.expect_request("/busy").respond_with_data("", status=503)
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    with _fetcher() as f:
        with pytest.raises(TransientFetchError, match="HTTP 503"):
            f.get(httpserver.url_for("/busy"))
        r = f.get(httpserver.url_for("/gone"))
        assert r.status == 404 and r.error == "HTTP 404"
        with pytest.raises(TransientFetchError, match="ConnectError"):
            f.get("http://127.0.0.1:9/refused")


def test_slow_drip_hits_total_time_limit(httpserver):
    def drip(_request):
        def body():
            for _ in range(100):
                time.sleep(0.1)
                yield b"x" * 10
        return Response(body(), content_type="text/html")

    httpserver.expect_request("/drip").respond_with_handler(drip)
    started = time.monotonic()
    with _fetcher(timeout_seconds=0.5) as f, pytest.raises(TransientFetchError, match="took longer"):
        f.get(httpserver.url_for("/drip"))
    assert time.monotonic() - started < 5


def test_server_that_never_answers_times_out():
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    started = time.monotonic()
    try:
        with _fetcher(timeout_seconds=0.5) as f, pytest.raises(TransientFetchError, match="ReadTimeout"):
            f.get(f"http://127.0.0.1:{listener.getsockname()[1]}/feed")
    finally:
        listener.close()
    assert time.monotonic() - started < 5


def test_unknown_host_is_a_temporary_failure():
    with _fetcher(allow_hosts=frozenset(), allow_private_hosts=False) as f:
        with pytest.raises(TransientFetchError) as info:
            f.get("http://no-such-host.invalid/feed")
    assert info.value.kind == "temporary"


def test_non_html_page_is_judged_on_the_feed_text_or_not_at_all(httpserver):
    from datetime import datetime, timezone

    from storywatch.flows.tasks import _fetch_page
    from storywatch.models import FeedEntry

    httpserver.expect_request("/report.pdf").respond_with_data(b"%PDF-1.7 binary", content_type="application/pdf")
    httpserver.expect_request("/robots.txt").respond_with_data("not found", status=404)  # no rules: every page allowed
    link = httpserver.url_for("/report.pdf")
    with_summary = FeedEntry("f", "g", link, "Meta's model card", "Meta published a model card for its open models.", "", None)
    bare = FeedEntry("f", "g2", link, "A PDF", "", "", None)
    with _fetcher() as f:
        page = _fetch_page(f, "a1", with_summary)
        assert page.article.text_source == "feed" and "model card" in page.article.text
        assert page.html_gz == b"" and "not an HTML page (application/pdf)" in page.error
        assert _fetch_page(f, "a2", bare).article.text_source == "none"  # judged no_text


def test_a_rebinding_dns_answer_never_reaches_a_private_address(httpserver, monkeypatch):
    """A resolver that answers a public address to the first lookup and 127.0.0.1 to the next (DNS
    rebinding): the guard checks the address the connection uses, so nothing reaches the server."""
    import socket

    real = socket.getaddrinfo
    answers = {"n": 0}

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        answers["n"] += 1
        address = "93.184.216.34" if answers["n"] == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    httpserver.expect_request("/secret").respond_with_data("internal")
    with _fetcher(allow_hosts=frozenset()) as f:
        r = f.get(f"http://rebind.test:{httpserver.port}/secret")
    assert r.blocked and r.error == f"blocked: rebind.test resolves to {address_refusal('127.0.0.1')}"
    assert answers["n"] == 2 and httpserver.log == []  # checked twice, connected never
    # A host the story allows is still fetched (through the same backend), from the address it resolves to.
    answers["n"] = 1
    with _fetcher(allow_hosts=frozenset({"rebind.test"})) as f:
        r = f.get(f"http://rebind.test:{httpserver.port}/secret")
    assert r.ok and r.body == b"internal"
