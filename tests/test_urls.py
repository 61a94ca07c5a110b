"""URL canonicalization, identity, aggregator unwrapping and the private-address policy."""

from hypothesis import given, settings
from hypothesis import strategies as st

from storywatch.urls import (
    address_refusal, article_id, canonicalize, outlet_of, scheme_refusal, unwrap_aggregator, url_key,
)


def test_canonicalize_drops_tracking_fragment_slash_and_case():
    assert canonicalize("https://WWW.Example.com/News/Story/?utm_source=rss&id=7&fbclid=x#comments") == \
        "https://www.example.com/News/Story?id=7"
    assert canonicalize("https://example.com:443/a/") == "https://example.com/a"
    assert canonicalize("http://example.com:8080/a") == "http://example.com:8080/a"
    assert canonicalize("/b/c", base="https://example.com/a/feed.xml") == "https://example.com/b/c"


def test_canonicalize_refuses_non_http():
    for url in ("file:///etc/passwd", "ftp://example.com/x", "data:text/html,hi", "javascript:alert(1)", "", "not a url"):
        assert canonicalize(url) == ""


def test_url_key_folds_scheme_www_and_amp_variants():
    base = url_key("https://www.example.com/2026/11/story")
    assert url_key("http://example.com/2026/11/story/") == base
    assert url_key("https://amp.example.com/2026/11/story") == base
    assert url_key("https://www.example.com/2026/11/story/amp") == base
    assert url_key("https://www.example.com/amp/2026/11/story") == base
    assert url_key("https://www.example.com/2026/11/story?outputType=amp") == base
    assert article_id("https://example.com/2026/11/story?utm_campaign=x") == article_id("https://www.example.com/2026/11/story")
    assert article_id("https://example.com/2026/11/other") != article_id("https://example.com/2026/11/story")


def test_outlet_is_registered_domain():
    assert outlet_of("https://www.bbc.co.uk/news/x") == "bbc.co.uk"
    assert outlet_of("http://127.0.0.1:8000/x") == "127.0.0.1"


def test_unwrap_aggregator_links():
    bing = "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1&url=https%3a%2f%2fwww.theverge.com%2f2026%2f11%2fmeta&c=1"
    assert unwrap_aggregator(bing) == "https://www.theverge.com/2026/11/meta"
    import base64
    token = base64.urlsafe_b64encode(b"\x08\x13\x22\x2bhttps://techcrunch.com/2026/11/20/meta-open/\xd2\x01\x00").decode().rstrip("=")
    assert unwrap_aggregator(f"https://news.google.com/rss/articles/{token}?oc=5") == "https://techcrunch.com/2026/11/20/meta-open/"
    plain = "https://example.com/story?id=3"
    assert unwrap_aggregator(plain) == plain


def test_address_refusal_covers_private_ranges():
    for ip in ("127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1", "fe80::1",
               "fc00::1", "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1", "100.64.0.1", "fec0::1",
               "2002:7f00:1::", "2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", "2001:0:4136:e378:8000:63bf:80ff:fffe"):
        assert address_refusal(ip), ip
    for ip in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert address_refusal(ip) is None, ip


def test_scheme_refusal():
    assert scheme_refusal("https://example.com") is None
    for url in ("file:///etc/passwd", "ftp://example.com/x", "data:text/html,<p>x</p>", "gopher://h/", "//no-scheme"):
        assert scheme_refusal(url), url


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_canonicalize_never_raises_and_is_idempotent(text):
    once = canonicalize(text)
    assert canonicalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"https?://[a-zA-Z0-9.-]{1,20}(:[0-9]{1,5})?(/[a-zA-Z0-9._~%/-]{0,30})?(\?[a-z_=&0-9]{0,30})?(#[a-z]{0,5})?", fullmatch=True))
def test_canonicalize_idempotent_on_urls(url):
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert "#" not in once


def test_is_aggregator():
    from storywatch.urls import is_aggregator

    assert is_aggregator("https://news.google.com/rss/articles/CBMi?oc=5")
    assert not is_aggregator("https://www.theverge.com/2026/11/meta")
